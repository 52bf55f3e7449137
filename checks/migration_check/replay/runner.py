"""The round trip, migration by migration:

    snapshot S0 -> up -> S1 -> down -> S2 (must equal S0) -> up again -> S3 (must equal S1)

The runner only runs the scripts, takes the snapshots and calls the check families (families/) at
each point; every verdict is a family's. A family whose stage the round trip did not reach gets a
skipped case with the reason.

Every migration gets a verdict. When a rollback or the up-again leaves the database somewhere
other than where the up left it, that is the migration's finding, and the state the ups produce is
rebuilt (restore.py) before the next migration. Only an up that fails stops the replay: the later
migrations cannot be applied, so they get a static pass instead (each script is parsed, and a
syntax error fails at its file:line).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg

from migration_check.discovery import layout_named
from migration_check.families import Family, MigrationContext, Stage, StepRun, replay_families
from migration_check.families.base import default_location, default_script
from migration_check.model import CheckResult, Migration, Project, RollbackPolicy, Script, Status
from migration_check.presets import setup_name
from migration_check.replay.executor import ScriptFailed, execute_script
from migration_check.replay.restore import FreshDatabases
from migration_check.schema.diff import EXTRA, Difference, diff_snapshots
from migration_check.schema.incremental import SnapshotSession
from migration_check.schema.snapshot import Snapshot
from migration_check.servers.base import connect, connect_like, conninfo_of
from migration_check.settings import Settings
from migration_check.sql import SyntaxProblem, split_script


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


def parsed_outcome(project: Project, migration: Migration, reason: str,
                   families: list[Family] | None = None) -> MigrationOutcome:
    """A migration the replay cannot run: skipped with `reason`, except that its scripts are still
    parsed, so a syntax error in it is reported at its file:line in the same run."""
    outcome = skipped_outcome(project, migration, reason, families)
    for index, case in enumerate(outcome.results):
        script = default_script(migration, case.check) if case.check in ("apply", "rollback") else None
        problem = _syntax_problem(script) if script is not None else None
        if problem is not None:
            relative = project.relative(problem.path) or str(problem.path)
            outcome.results[index] = CheckResult(
                check=case.check, subject=migration.id, status=Status.FAILED, file=relative, line=problem.line,
                message=f"{relative}:{problem.line}:{problem.column}: syntax error: {problem.message} ({reason})")
    return outcome


def _syntax_problem(script: Script) -> SyntaxProblem | None:
    try:
        split_script(script)
    except SyntaxProblem as problem:
        return problem
    return None


def skipped_case(project: Project, migration: Migration, check: str, reason: str) -> CheckResult:
    file, line = default_location(project, migration, check)
    return CheckResult(check=check, subject=migration.id, status=Status.SKIPPED, file=file, line=line, message=reason)


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
                 families: list[Family] | None = None, admin: psycopg.Connection | None = None,
                 server_problem: Callable[[], str | None] | None = None) -> None:
        """`conn` runs the migrations (as the migration role); `admin` (the tool's own role, a
        second connection to the same database by default) makes fresh databases and drops roles."""
        self.project = project
        self.conn = conn
        self.admin = admin if admin is not None else connect_like(conn)
        self._conninfo = conninfo_of(conn)  # to start a new session if a migration ends this one
        self._server_problem = server_problem or (lambda: None)
        self.settings = settings
        self.families = families if families is not None else replay_families(settings)
        self.snapshots = SnapshotSession(conn)
        self._observers = [f for f in self.families if f.observes_up_transaction()]
        self._fresh = FreshDatabases(self.admin)
        self._setup: list[Script] = []
        self._applied: list[Migration] = []  # every migration applied so far, in order: what a rebuild replays
        self._skipped: list[Migration] = []  # migrations that could not be replayed (Go, Java, Python)
        # Objects the setup scripts provided, (kind, name) -> "the supabase setup".
        self.setup_objects: dict[tuple[str, str], str] = {}
        self._bookkeeping = layout_named(project.format).bookkeeping

    def close(self) -> None:
        """Drop the roles the migrations created (roles are cluster-wide: on a shared server they
        would outlive the run), then the connection. The provider drops the database."""
        try:
            if not self.admin.closed:
                self._fresh.drop_run_roles(self.admin)
        except psycopg.Error:
            pass  # the connection broke (an interruption): the provider's cleanup still runs
        finally:
            self.conn.close()
            self.admin.close()

    def run_setup(self, scripts: list[Script]) -> None:
        """Run the setup scripts, noting which objects each provided (a rollback that drops one is
        told so), then start a new session, which sees the settings they made (ALTER DATABASE ...
        SET search_path) as a runner's session would."""
        self._setup = list(scripts)
        self._prepare_database(note_setup_objects=True)

    def _prepare_database(self, note_setup_objects: bool = False) -> None:
        """What every database of the run gets before the first migration: the setup scripts, a
        new session that sees the settings they made, and the runner's history table."""
        before = self.snapshots.take() if note_setup_objects else None
        for script in self._setup:
            self._execute_setup_script(script)
            if before is not None:
                after = self.snapshots.take()
                for difference in self._differences(before, after):
                    if difference.change == EXTRA:
                        self.setup_objects[(difference.kind, difference.name)] = setup_name(script, self.project)
                before = after
        if self._setup:
            self._new_session()
        self._create_bookkeeping()

    def _execute_setup_script(self, script: Script) -> None:
        try:
            execute_script(self.conn, script)
        except ScriptFailed as failure:
            raise SetupFailed(failure, self.project.relative(failure.path) or str(failure.path)) from None

    def _create_bookkeeping(self) -> None:
        if self._bookkeeping is not None:
            self.conn.execute(self._bookkeeping.create.encode())

    def _record(self, step: StepRun, migration: Migration, applied: bool) -> StepRun:
        """Write the runner's history row for a step that ran; a failure to do so (the migration
        dropped or changed the runner's table) fails the step, as it would fail the runner."""
        if self._bookkeeping is None or step.failed:
            return step
        if applied:
            statements = self._bookkeeping.applied(migration)
        else:
            # `migration` is not among the applied yet: the newest applied is the one now current.
            statements = self._bookkeeping.reverted(migration, self._applied[-1] if self._applied else None)
        try:
            for statement in statements:
                self.conn.execute(statement)
        except psycopg.Error as error:
            reason = error.diag.message_primary or str(error)
            failure = ScriptFailed(step.script.path, step.script.first_line, None,
                                   f"the runner's history table {self._bookkeeping.table} could not record this step: {reason}",
                                   sqlstate=error.diag.sqlstate)
            return StepRun(step.script, failure, step.seconds)
        return step

    def _new_session(self) -> None:
        """A new connection for the migrations (the old one is closed, or ended by a migration)."""
        old, self.conn = self.conn, connect(self._conninfo)
        self.snapshots = SnapshotSession(self.conn)
        if not old.closed:
            old.close()

    def outcomes(self) -> Iterator[MigrationOutcome]:
        state = self.snapshots.take()
        blocked: str | None = None
        for migration in self.project.migrations:
            if blocked:
                yield parsed_outcome(self.project, migration, blocked, self.families)
                continue
            if migration.skip_reason or migration.up is None:
                self._skipped.append(migration)
                yield skipped_outcome(self.project, migration, migration.skip_reason or "no SQL to run", self.families)
                continue
            started = time.perf_counter()
            outcome, state, blocked = self._round_trip(migration, state)
            outcome.seconds = time.perf_counter() - started
            yield outcome

    def _round_trip(self, migration: Migration, before: Snapshot) -> tuple[MigrationOutcome, Snapshot, str | None]:
        """Returns the outcome, the schema now, and the reason later migrations cannot run (or None)."""
        context = MigrationContext(self.project, self.settings, migration, self.conn, before,
                                   differences=self._differences, run_script=self._run,
                                   setup_objects=self.setup_objects, skipped_before=tuple(self._skipped))
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
        context.up = self._record(self._run(migration.up, observe_transaction=context), migration, applied=True)
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
        context.down = self._record(self._run(migration.down), migration, applied=False)
        trip.reached(Stage.DOWN_RAN)
        if context.down.failed:
            return "not run: the rollback failed"
        context.after_down = self.snapshots.take()
        trip.observe("after_down")
        trip.reached(Stage.DOWN_DONE)
        context.reapply = self._record(self._run(migration.up), migration, applied=True)
        if not context.reapply.failed:
            context.after_reapply = self.snapshots.take()
            trip.observe("after_reapply")
        trip.reached(Stage.REAPPLY_RAN)
        return None

    def _where_we_are(self, context: MigrationContext, verdicts: dict[str, CheckResult]) -> tuple[Snapshot, str | None]:
        """The schema the next migration starts from, and why none can run (or None)."""
        migration = context.migration
        if context.after_up is None:
            return context.before, f"not run: {migration.id} failed to apply"
        assert migration.up is not None
        self._applied.append(migration)
        if context.down is None:
            return context.after_up, None
        if context.after_reapply is not None:
            reapply = verdicts.get("reapply")
            if reapply is None or not reapply.failed:
                return context.after_reapply, None
        elif not self._differences(context.after_up, now := self.snapshots.take()):
            return now, None  # the failed step changed nothing
        return self._rebuild(migration, context.after_up)

    def _rebuild(self, migration: Migration, expected: Snapshot) -> tuple[Snapshot, str | None]:
        """The state the ups produce, in a fresh database (see restore.py). When that cannot be
        made, the later migrations are skipped with the reason (`expected` stands for the state)."""
        try:
            self.conn, self.admin = self._fresh.replace(self.conn, self.admin)
            self._conninfo = conninfo_of(self.conn)
        except psycopg.Error as error:
            reason = " ".join(str(error).split())
            return expected, f"not run: cannot rebuild the state after {migration.id}: {reason}"
        self.snapshots = SnapshotSession(self.conn)
        try:
            self._prepare_database()
            for applied in self._applied:
                assert applied.up is not None
                step = self._record(self._run(applied.up), applied, applied=True)
                if step.failure is not None:
                    raise step.failure
        except (ScriptFailed, SetupFailed) as failure:
            cause = failure.failure if isinstance(failure, SetupFailed) else failure
            relative = self.project.relative(cause.path) or str(cause.path)
            return (self.snapshots.take(),
                    f"not run: the ups no longer apply in a fresh database after {migration.id}: {cause.summary(relative)}")
        return self.snapshots.take(), None

    def _why_no_rollback(self, migration: Migration) -> str | None:
        if migration.repeatable:
            return "repeatable migration: no rollback"
        policy = self.settings.rollbacks or self.project.rollback_policy
        if policy is RollbackPolicy.ABSENT:
            if migration.down is not None:
                return "rollbacks: absent: the rollback is not run"
            return f"forward-only layout ({self.project.format}): no rollback to test"
        if migration.down is not None:
            return None
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
            if self.conn.closed:  # the script ended its own session: a new one for what follows
                cause = self._server_problem()
                if cause:
                    failure.message += f"; the server says: {cause}"
                self._new_session()
            return StepRun(script, failure, time.perf_counter() - started)
        return StepRun(script, None, time.perf_counter() - started)

    def _differences(self, expected: Snapshot, actual: Snapshot) -> list[Difference]:
        return diff_snapshots(expected, actual, strict_column_order=self.settings.strict_column_order)
