"""reapply: after its rollback, the up applies again and gives the same schema as the first time."""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import compare
from migration_check.model import CheckResult
from migration_check.schema.diff import describe_reapply


class Reapply(Family):
    name = "reapply"
    stage = Stage.REAPPLY_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        step = context.reapply
        assert step is not None and context.after_up is not None
        if step.failed or context.after_reapply is None:
            return context.step_result(self.name, step, "up does not apply again after its rollback: ")
        return compare(context, self.name, (context.after_up, "after the first up"),
                       (context.after_reapply, "after the up again"), describe_reapply,
                       "up after rollback gives a different schema", step.script, step.seconds)
