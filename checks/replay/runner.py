"""The round trip, migration by migration:

    snapshot S0 -> up -> S1 -> down -> S2 (must equal S0) -> up again -> S3 (must equal S1)

Each step is one JUnit test case (apply, verify, rollback, roundtrip, reapply). When a step leaves
the database somewhere other than where the next migration expects it, the later migrations are
skipped with the reason, never failed: one broken file must not bury the report in false failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg

from migration_check.model import CheckResult, Migration, Project, RollbackPolicy, Script, Status
from migration_check.replay.executor import ScriptFailed, execute_script
from migration_check.schema.diff import describe_reapply, describe_rollback, diff_snapshots
from migration_check.schema.incremental import SnapshotSession
from migration_check.schema.snapshot import Snapshot
from migration_check.settings import Settings

REPLAY_CHECKS = ("apply", "verify", "rollback", "roundtrip", "reapply")
MAX_LISTED_DIFFERENCES = 20
MESSAGE_DIFFERENCES = 3  # the failure message quotes the first few; the body lists more


@dataclass
class MigrationOutcome:
    """The replay test cases of one migration, for the console's one line per migration."""

    migration: Migration
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.results}
        if Status.FAILED in statuses:
            return Status.FAILED
        if statuses and statuses <= {Status.SKIPPED} or self.migration.skip_reason:
            return Status.SKIPPED
        return Status.PASSED


class SetupFailed(Exception):
    def __init__(self, failure: ScriptFailed, relative: str) -> None:
        super().__init__(f"setup script {failure.summary(relative)}")
        self.failure = failure


def checks_for(migration: Migration) -> tuple[str, ...]:
    """The replay test cases a migration gets (verify only where the layout has verify scripts)."""
    return tuple(c for c in REPLAY_CHECKS if c != "verify" or migration.verify is not None)


def skipped_outcome(project: Project, migration: Migration, reason: str) -> MigrationOutcome:
    outcome = MigrationOutcome(migration)
    skip_checks(project, outcome, checks_for(migration), reason)
    return outcome


def skip_checks(project: Project, outcome: MigrationOutcome, checks: tuple[str, ...], reason: str) -> None:
    for check in checks:
        outcome.results.append(_result(project, outcome.migration, check, Status.SKIPPED, message=reason))


class Replay:
    """Replays `project` on `conn` (autocommit), yielding one outcome per migration, in order."""

    def __init__(self, project: Project, conn: psycopg.Connection, settings: Settings) -> None:
        self.project = project
        self.conn = conn
        self.settings = settings
        self.snapshots = SnapshotSession(conn)

    def run_setup(self, scripts: list[Script]) -> None:
        for script in scripts:
            try:
                execute_script(self.conn, script)
            except ScriptFailed as failure:
                raise SetupFailed(failure, self.project.relative(failure.path) or str(failure.path)) from None

    def outcomes(self) -> Iterator[MigrationOutcome]:
        state = self._snapshot()
        blocked: str | None = None
        for migration in self.project.migrations:
            if blocked:
                yield skipped_outcome(self.project, migration, blocked)
                continue
            if migration.skip_reason or migration.up is None:
                yield skipped_outcome(self.project, migration, migration.skip_reason or "no SQL to run")
                continue
            started = time.perf_counter()
            outcome, state, blocked = self._round_trip(migration, state)
            outcome.seconds = time.perf_counter() - started
            yield outcome

    def _round_trip(self, migration: Migration, before: Snapshot) -> tuple[MigrationOutcome, Snapshot, str | None]:
        """Returns the outcome, the schema now, and the reason later migrations cannot run (or None)."""
        outcome = MigrationOutcome(migration)
        add = outcome.results.append
        assert migration.up is not None

        apply = self._step(migration, "apply", migration.up)
        add(apply)
        if apply.failed:
            skip_checks(self.project, outcome, checks_for(migration)[1:], "not run: up failed")
            return outcome, before, f"not run: {migration.id} failed to apply"
        if migration.verify is not None:
            add(self._step(migration, "verify", migration.verify))
        after_up = self._snapshot()

        no_rollback = self._why_no_rollback(migration)
        if no_rollback:
            skip_checks(self.project, outcome, ("rollback", "roundtrip", "reapply"), no_rollback)
            return outcome, after_up, None
        assert migration.down is not None

        rollback = self._step(migration, "rollback", migration.down)
        add(rollback)
        if rollback.failed:
            skip_checks(self.project, outcome, ("roundtrip", "reapply"), "not run: the rollback failed")
            return outcome, *self._continue_from(migration, after_up)

        after_down = self._snapshot()
        add(self._compare(migration, "roundtrip", before, after_down, describe_rollback,
                          "rollback is not the inverse of up", migration.down))

        reapply = self._step(migration, "reapply", migration.up)
        if reapply.failed:
            reapply.message = f"up does not apply again after its rollback: {reapply.message}"
            add(reapply)
            return outcome, *self._continue_from(migration, after_up)
        after_reapply = self._snapshot()
        reapply = self._compare(migration, "reapply", after_up, after_reapply, describe_reapply,
                                "up after rollback gives a different schema", migration.up, reapply.seconds)
        add(reapply)
        if reapply.failed:
            return outcome, after_reapply, self._blocked_after(migration)
        return outcome, after_reapply, None

    def _continue_from(self, migration: Migration, expected: Snapshot) -> tuple[Snapshot, str | None]:
        """After a failure the schema may not be what later migrations expect: look, don't guess."""
        now = self._snapshot()
        if self._differences(expected, now):
            return now, self._blocked_after(migration)
        return now, None

    @staticmethod
    def _blocked_after(migration: Migration) -> str:
        return f"not run: the schema after {migration.id} is not the schema its up produced"

    def _why_no_rollback(self, migration: Migration) -> str | None:
        if migration.repeatable:
            return "repeatable migration: no rollback"
        if migration.down is not None:
            return None
        if self.project.rollback_policy is RollbackPolicy.ABSENT:
            return f"forward-only layout ({self.project.format}): no rollback to test"
        return "no rollback script (see the pairing check)"

    def _step(self, migration: Migration, check: str, script: Script) -> CheckResult:
        started = time.perf_counter()
        try:
            execute_script(self.conn, script)
        except ScriptFailed as failure:
            relative = self.project.relative(failure.path) or str(failure.path)
            return _result(
                self.project, migration, check, Status.FAILED,
                file=relative, line=failure.line, message=failure.summary(relative),
                details=failure.body(relative), seconds=time.perf_counter() - started,
            )
        return _result(self.project, migration, check, Status.PASSED, script=script,
                       seconds=time.perf_counter() - started)

    def _compare(
        self,
        migration: Migration,
        check: str,
        expected: Snapshot,
        actual: Snapshot,
        describe: Callable[[list], list[str]],
        headline: str,
        script: Script,
        seconds: float = 0.0,
    ) -> CheckResult:
        differences = self._differences(expected, actual)
        if not differences:
            return _result(self.project, migration, check, Status.PASSED, script=script, seconds=seconds)
        lines = describe(differences)
        return _result(self.project, migration, check, Status.FAILED, script=script,
                       message=f"{headline}: {_listed(lines, MESSAGE_DIFFERENCES, '; ')}",
                       details=_listed(lines, MAX_LISTED_DIFFERENCES, "\n"), seconds=seconds)

    def _differences(self, expected: Snapshot, actual: Snapshot) -> list:
        return diff_snapshots(expected, actual, strict_column_order=self.settings.strict_column_order)

    def _snapshot(self) -> Snapshot:
        return self.snapshots.take()


def _listed(lines: list[str], limit: int, separator: str) -> str:
    more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
    return separator.join(lines[:limit]) + more


def _result(
    project: Project,
    migration: Migration,
    check: str,
    status: Status,
    *,
    script: Script | None = None,
    file: str | None = None,
    line: int | None = None,
    message: str = "",
    details: str = "",
    seconds: float = 0.0,
) -> CheckResult:
    if file is None:
        default = script or _script_for(migration, check)
        file = project.relative(default.path if default else migration.main_file)
        line = line or (default.first_line if default else None)
    return CheckResult(check=check, subject=migration.id, status=status, file=file, line=line,
                       message=message, details=details, seconds=seconds)


def _script_for(migration: Migration, check: str) -> Script | None:
    if check in ("rollback", "roundtrip"):
        return migration.down or migration.up
    if check == "verify":
        return migration.verify
    return migration.up
