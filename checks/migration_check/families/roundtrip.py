"""roundtrip: after up and down, the schema equals the schema before the up (a true inverse)."""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import compare
from migration_check.model import CheckResult
from migration_check.schema.diff import describe_rollback


class Roundtrip(Family):
    name = "roundtrip"
    stage = Stage.DOWN_DONE

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.after_down is not None and context.migration.down is not None
        return compare(context, self.name, context.before, context.after_down, describe_rollback,
                       "rollback is not the inverse of up", context.migration.down)
