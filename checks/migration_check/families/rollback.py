"""rollback: the migration's down (rollback) script runs after its up."""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.model import CheckResult


class Rollback(Family):
    name = "rollback"
    stage = Stage.DOWN_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.down is not None
        return context.step_result(self.name, context.down)
