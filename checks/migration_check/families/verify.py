"""verify: the layout's verify script (sqitch `verify/<change>.sql`) passes after the deploy."""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.model import CheckResult, Migration


class Verify(Family):
    name = "verify"
    stage = Stage.UP_DONE

    def applies_to(self, migration: Migration) -> bool:
        return migration.verify is not None

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.migration.verify is not None
        return context.step_result(self.name, context.run_script(context.migration.verify))
