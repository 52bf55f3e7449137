"""roundtrip: after up and down, the schema equals the schema before the up (a true inverse).

Each difference is worded by who did it, found by parsing the up and the rollback ("dropped by
the up (line 12) and not restored by rollback"), and the case points at the first such statement.
"""

from __future__ import annotations

from migration_check.families.attribution import Attribution
from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import compare
from migration_check.model import CheckResult
from migration_check.schema.diff import describe_rollback


class Roundtrip(Family):
    name = "roundtrip"
    stage = Stage.DOWN_DONE

    def verdict(self, context: MigrationContext) -> CheckResult:
        migration = context.migration
        assert context.after_down is not None and migration.down is not None
        attribution = Attribution(migration.up, migration.down, context.setup_objects)
        return compare(context, self.name, (context.before, "before the up"), (context.after_down, "after the rollback"),
                       lambda differences: describe_rollback(differences, attribution.words),
                       "rollback is not the inverse of up", migration.down, locate=attribution.statement)
