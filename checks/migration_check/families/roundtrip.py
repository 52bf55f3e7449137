"""roundtrip: after up and down, the schema equals the schema before the up (a true inverse).

Each difference is worded by who did it, found by parsing the up and the rollback ("dropped by
the up (line 12) and not restored by rollback"), and the case points at the first such statement.

Some changes have no inverse a team wants to write (an enum label PostgreSQL cannot drop, an
extension other migrations came to rely on). The author confirms one in the migration file:

    -- migration-check: allow irreversible "the label stays: old rows may hold it"

The case then passes, with the reason; a confirmation where the rollback is a true inverse is
reported, so that stale ones do not pile up.
"""

from __future__ import annotations

from migration_check.families.attribution import Attribution
from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import compare
from migration_check.model import CheckResult, Status
from migration_check.schema.diff import describe_rollback
from migration_check.sql.confirmations import IRREVERSIBLE, confirmed

ALLOWS = IRREVERSIBLE


class Roundtrip(Family):
    name = "roundtrip"
    stage = Stage.DOWN_DONE

    def verdict(self, context: MigrationContext) -> CheckResult:
        migration = context.migration
        assert context.after_down is not None and migration.down is not None
        attribution = Attribution(migration.up, migration.down, context.setup_objects, context.before)
        result = compare(context, self.name, (context.before, "before the up"), (context.after_down, "after the rollback"),
                         lambda differences: describe_rollback(differences, attribution.words),
                         "rollback is not the inverse of up" + context.empty_rollback(), migration.down,
                         locate=attribution.statement)
        found = confirmed([migration.up, migration.down], ALLOWS)
        valid = [(script, confirmation) for script, confirmation in found if confirmation.problem is None]
        if result.status is Status.FAILED:
            if valid:
                script, confirmation = valid[0]
                return context.result(self.name, Status.PASSED, script=script, line=confirmation.line,
                                      message=f"irreversible change confirmed: {confirmation.reason} ({result.message})",
                                      details=result.details)
            problem = next((c.problem for _, c in found if c.problem), "")
            result.message += f" ({problem})" if problem else (
                f'. If it is deliberate, confirm it in the migration: -- migration-check: allow {ALLOWS} "<why>"')
            return result
        if valid:
            script, confirmation = valid[0]
            return context.unused_confirmation(self.name, script, confirmation.line, ALLOWS, "is a true inverse")
        return result
