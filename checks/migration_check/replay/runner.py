"""The round trip, migration by migration:

    snapshot S0 -> up -> S1 -> down -> S2 (must equal S0) -> up again -> S3 (must equal S1)

The runner only runs the scripts, takes the snapshots and calls the check families (families/) at
each point; every verdict is a family's. A family whose stage the round trip did not reach gets a
skipped case with the reason. When a step leaves the database somewhere other than where the next
migration expects it, the later migrations are skipped with the reason, never failed: one broken
file must not bury the report in false failures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg

from migration_check.families import Family, MigrationContext, Stage, StepRun, replay_families
from migration_check.families.base import default_script
from migration_check.model import CheckResult, Migration, Project, RollbackPolicy, Script, Status
from migration_check.replay.executor import ScriptFailed, execute_script
from migration_check.schema.diff import Difference, diff_snapshots
from migration_check.schema.incremental import SnapshotSession
from migration_check.schema.snapshot import Snapshot
from migration_check.settings import Settings


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


def skipped_outcome(project: Project, migration: Migration, reason: str,
                    families: list[Family] | None = None) -> MigrationOutcome:
    """Every case of a migration the replay did not run, skipped with `reason`."""
    outcome = MigrationOutcome(migration)
    for family in families if families is not None else replay_families(Settings()):
        if family.applies_to(migration):
            outcome.results.append(skipped_case(project, migration, family.name, reason))
    return outcome


def skipped_case(project: Project, migration: Migration, check: str, reason: str) -> CheckResult:
    script = default_script(migration, check)
    return CheckResult(check=check, subject=migration.id, status=Status.SKIPPED,
                       file=project.relative(script.path if script else migration.main_file),
                       line=script.first_line if script else 1, message=reason)


@dataclass
class _Trip:
    """One migration's round trip in progress: the families that judge it and their verdicts."""

    families: list[Family]
    context: MigrationContext
    verdicts: dict[str, CheckResult] = field(default_factory=dict)

    def observe(self, hook: str) -> None:
        for family in self.families:
            getattr(family, hook)(self.context)

    def reached(self, stage: Stage) -> None:
        for family in self.families:
            if family.stage is stage:
                self.verdicts[family.name] = family.verdict(self.context)


class Replay:
    """Replays `project` on `conn` (autocommit), yielding one outcome per migration, in order."""

    def __init__(self, project: Project, conn: psycopg.Connection, settings: Settings,
                 families: list[Family] | None = None) -> None:
        self.project = project
        self.conn = conn
        self.settings = settings
        self.families = families if families is not None else replay_families(settings)
        self.snapshots = SnapshotSession(conn)
        self._observers = [f for f in self.families if f.observes_up_transaction()]

    def run_setup(self, scripts: list[Script]) -> None:
        for script in scripts:
            try:
                execute_script(self.conn, script)
            except ScriptFailed as failure:
                raise SetupFailed(failure, self.project.relative(failure.path) or str(failure.path)) from None

    def outcomes(self) -> Iterator[MigrationOutcome]:
        state = self.snapshots.take()
        blocked: str | None = None
        for migration in self.project.migrations:
            if blocked:
                yield skipped_outcome(self.project, migration, blocked, self.families)
                continue
            if migration.skip_reason or migration.up is None:
                yield skipped_outcome(self.project, migration, migration.skip_reason or "no SQL to run", self.families)
                continue
            started = time.perf_counter()
            outcome, state, blocked = self._round_trip(migration, state)
            outcome.seconds = time.perf_counter() - started
            yield outcome

    def _round_trip(self, migration: Migration, before: Snapshot) -> tuple[MigrationOutcome, Snapshot, str | None]:
        """Returns the outcome, the schema now, and the reason later migrations cannot run (or None)."""
        context = MigrationContext(self.project, self.settings, migration, self.conn, before,
                                   differences=self._differences, run_script=self._run)
        trip = _Trip([f for f in self.families if f.applies_to(migration)], context)
        stopped = self._steps(trip)
        outcome = MigrationOutcome(migration)
        for family in trip.families:
            outcome.results.append(trip.verdicts.get(family.name) or
                                   skipped_case(self.project, migration, family.name, stopped or "not run"))
        state, blocked = self._where_we_are(context, trip.verdicts)
        return outcome, state, blocked

    def _steps(self, trip: _Trip) -> str | None:
        """Runs the round trip as far as it goes; returns why it stopped early, or None."""
        context, migration = trip.context, trip.context.migration
        assert migration.up is not None
        trip.observe("before_up")
        context.up = self._run(migration.up, observe_transaction=context)
        trip.reached(Stage.UP_RAN)
        if context.up.failed:
            return "not run: up failed"
        context.after_up = self.snapshots.take()
        trip.observe("after_up")
        trip.reached(Stage.UP_DONE)
        no_rollback = self._why_no_rollback(migration)
        if no_rollback:
            return no_rollback
        assert migration.down is not None
        context.down = self._run(migration.down)
        trip.reached(Stage.DOWN_RAN)
        if context.down.failed:
            return "not run: the rollback failed"
        context.after_down = self.snapshots.take()
        trip.observe("after_down")
        trip.reached(Stage.DOWN_DONE)
        context.reapply = self._run(migration.up)
        if not context.reapply.failed:
            context.after_reapply = self.snapshots.take()
            trip.observe("after_reapply")
        trip.reached(Stage.REAPPLY_RAN)
        return None

    def _where_we_are(self, context: MigrationContext, verdicts: dict[str, CheckResult]) -> tuple[Snapshot, str | None]:
        """The schema the next migration starts from, and why it cannot (or None)."""
        if context.after_up is None:
            return context.before, f"not run: {context.migration.id} failed to apply"
        if context.down is None:
            return context.after_up, None
        if context.after_reapply is not None:
            reapply = verdicts.get("reapply")
            if reapply is not None and reapply.failed:
                return context.after_reapply, self._blocked_after(context.migration)
            return context.after_reapply, None
        # The rollback or the up again failed: the schema may not be what later migrations expect.
        now = self.snapshots.take()
        if self._differences(context.after_up, now):
            return now, self._blocked_after(context.migration)
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

    def _run(self, script: Script, observe_transaction: MigrationContext | None = None) -> StepRun:
        hook = None
        if observe_transaction is not None and self._observers:
            def hook(conn: psycopg.Connection) -> None:
                for family in self._observers:
                    family.in_up_transaction(observe_transaction, conn)
        started = time.perf_counter()
        try:
            execute_script(self.conn, script, before_commit=hook)
        except ScriptFailed as failure:
            return StepRun(script, failure, time.perf_counter() - started)
        return StepRun(script, None, time.perf_counter() - started)

    def _differences(self, expected: Snapshot, actual: Snapshot) -> list[Difference]:
        return diff_snapshots(expected, actual, strict_column_order=self.settings.strict_column_order)
