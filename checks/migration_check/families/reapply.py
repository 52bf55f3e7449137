"""reapply: after its rollback, the up applies again and gives the same schema as the first time.

An up that adds an enum label fails when it runs again: a rollback cannot drop the label
(PostgreSQL has no DROP VALUE), so the finding says how to make the up run twice.
"""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import compare
from migration_check.model import CheckResult
from migration_check.schema.diff import describe_reapply

DUPLICATE_OBJECT = "42710"


class Reapply(Family):
    name = "reapply"
    stage = Stage.REAPPLY_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        step = context.reapply
        assert step is not None and context.after_up is not None
        if step.failed or context.after_reapply is None:
            result = context.step_result(self.name, step, "up does not apply again after its rollback: ")
            failure = step.failure
            if failure is not None and failure.sqlstate == DUPLICATE_OBJECT and failure.message.startswith("enum label "):
                result.message += (" (a rollback cannot drop an enum label: write ALTER TYPE ... ADD VALUE IF NOT EXISTS,"
                                   " so that the up runs again)")
            return result
        return compare(context, self.name, (context.after_up, "after the first up"),
                       (context.after_reapply, "after the up again"), describe_reapply,
                       "up after rollback gives a different schema", step.script, step.seconds)
