"""apply: the migration's up runs, in order, on the state the earlier migrations left."""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.model import CheckResult


class Apply(Family):
    name = "apply"
    stage = Stage.UP_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.up is not None
        return context.step_result(self.name, context.up)
