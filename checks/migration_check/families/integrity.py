"""integrity: after a rollback, every foreign key (valid or NOT VALID), check constraint and NOT
NULL column holds for every row of the tables the migration touched, and of the tables that
reference them or that they reference.

PostgreSQL trusts a constraint once it exists: a rollback that deletes parent rows with
`session_replication_role = replica`, or that re-adds a constraint as NOT VALID, can leave rows
that break it while the catalog still says the constraint holds. The cost is proportional to the
migration: only the tables its up and rollback statements name are checked (rows that dynamic SQL
writes to other tables are not seen).
"""

from __future__ import annotations

from migration_check.data.constraints import violations
from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import MAX_LISTED_DIFFERENCES, MESSAGE_DIFFERENCES, listed
from migration_check.model import CheckResult, Script, Status
from migration_check.settings import Settings
from migration_check.sql import SyntaxProblem, split_script
from migration_check.sql.objects import tables_touched


class Integrity(Family):
    name = "integrity"
    stage = Stage.DOWN_DONE

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._found: list[str] = []

    def after_down(self, context: MigrationContext) -> None:
        migration = context.migration
        tables = _touched(migration.up) | _touched(migration.down)
        self._found = [str(v) for v in violations(context.tool_session, tables)]

    def verdict(self, context: MigrationContext) -> CheckResult:
        migration = context.migration
        assert migration.down is not None
        found, self._found = self._found, []
        if not found:
            return context.result(self.name, Status.PASSED, script=migration.down)
        summary = listed(found, MESSAGE_DIFFERENCES, "; ")
        return context.result(self.name, Status.FAILED, script=migration.down,
                              message=f"after the rollback, rows break their constraints: {summary}",
                              details=listed(found, MAX_LISTED_DIFFERENCES, "\n"))


def _touched(script: Script | None) -> set[str]:
    if script is None:
        return set()
    try:
        return tables_touched(split_script(script))
    except SyntaxProblem:
        return set()
