"""verify: the layout's verify script (sqitch `verify/<change>.sql`) passes.

sqitch runs a change's verify script right after its deploy only when sqitch.conf sets
`deploy.verify`; otherwise `sqitch verify` runs them all on the whole plan deployed, and a verify
script may read what later changes create. The check runs each one when sqitch would: after its
change's up, or once every migration is applied (those cases come at the end of the run).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import psycopg

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.model import CheckResult, Migration, Project, Severity, Status
from migration_check.replay.executor import ScriptFailed, execute_script


class Verify(Family):
    name = "verify"
    stage = Stage.UP_DONE

    def applies_to(self, migration: Migration) -> bool:
        return migration.verify is not None and not migration.verify_at_end

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.migration.verify is not None
        return context.step_result(self.name, context.run_script(context.migration.verify))

    rows_may_fail_at_end = True  # a verify script may count rows, and the generated ones are extra

    def after_all(self, project: Project, conn: psycopg.Connection, applied: Sequence[Migration]) -> list[CheckResult]:
        return [self._at_end(project, conn, m) for m in applied if m.verify is not None and m.verify_at_end]

    def again_without_rows(self, project: Project, conn: psycopg.Connection, applied: Sequence[Migration],
                           results: list[CheckResult]) -> list[CheckResult]:
        by_id = {m.id: m for m in applied}
        judged = []
        for result in results:
            again = self._at_end(project, conn, by_id[result.subject]) if result.failed else result
            if result.failed and not again.failed:  # the rows' doing: a warning, as the data family words it
                again = dataclasses.replace(result, severity=Severity.WARNING,
                                            message=f"{result.message}; it passes without the check's generated rows"
                                                    " (a verify script that counts or asserts rows fails on them)")
            judged.append(again)
        return judged

    def _at_end(self, project: Project, conn: psycopg.Connection, migration: Migration) -> CheckResult:
        """The case of a verify script run on the whole plan deployed."""
        assert migration.verify is not None
        started = time.perf_counter()
        try:
            execute_script(conn, migration.verify)
        except ScriptFailed as failure:
            where = project.relative(failure.path) or str(failure.path)
            return CheckResult(self.name, migration.id, Status.FAILED, file=where, line=failure.line or 1,
                               message=f"{failure.summary(where)} (run on the whole plan deployed, as `sqitch verify`"
                                       " runs it)", details=failure.body(where), seconds=time.perf_counter() - started)
        return CheckResult(self.name, migration.id, Status.PASSED, file=project.relative(migration.verify.path),
                           line=migration.verify.first_line, seconds=time.perf_counter() - started)
