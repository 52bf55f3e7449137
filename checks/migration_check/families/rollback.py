"""rollback: the migration's down (rollback) script runs after its up.

A rollback that drops an object before what depends on it fails with PostgreSQL's hint to use
CASCADE, which would also drop whatever other migrations built on it; the finding says instead to
undo the up in reverse order.
"""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.unreplayed import rollback_needs_unreplayed
from migration_check.model import CheckResult, Status
from migration_check.sql.dialects import DEPENDENT_OBJECTS


class Rollback(Family):
    name = "rollback"
    stage = Stage.DOWN_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.down is not None
        result = context.step_result(self.name, context.down)
        failure = context.down.failure
        if (cause := rollback_needs_unreplayed(context)) is not None:
            return context.result(self.name, Status.SKIPPED, message=cause)
        if failure is not None and failure.sqlstate == DEPENDENT_OBJECTS:
            result.message += (" (drop what depends on it first: a rollback undoes its up in reverse order;"
                               " CASCADE would also drop what other migrations built on it)")
        elif failure is not None and (hint := context.runner_hint(failure) or context.newer_postgresql(failure)):
            result.message += f" {hint}"
        return result
