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

import psycopg

from migration_check.data.watch import named_tables
from migration_check.discovery import layout_named
from migration_check.errors import InfrastructureError
from migration_check.families import DATA_FAMILIES, Family, MigrationContext, Stage, StepRun, replay_families
from migration_check.families.base import Trip, Unreplayed
from migration_check.families.data import FAILED_WITH_ROWS
from migration_check.families.unreplayed import needs_unreplayed, own_failures, rollback_needs_unreplayed, unreplayed_up
from migration_check.model import CheckResult, Migration, Project, Script
from migration_check.replay.alongside import alongside
from migration_check.replay.executor import ScriptFailed, execute_script, precondition_fails, record
from migration_check.replay.outcomes import MigrationOutcome, parsed_outcome, skipped_case, skipped_outcome, why_no_rollback
from migration_check.replay.rebuild import NoFreshState, Rebuilds
from migration_check.replay.restore import FreshDatabases
from migration_check.schema.diff import Difference, diff_snapshots, on_table
from migration_check.schema.logged import SessionState, start_session
from migration_check.schema.snapshot import Snapshot
from migration_check.servers.base import connect, connect_like, conninfo_of
from migration_check.settings import Settings
from migration_check.sql import Statement
from migration_check.sql.catalog_writes import writes_catalogs

UP = "the up"  # what _attempt calls the up's step
NEEDS = "needs what an earlier migration that is not in the database makes"
NOT_JUDGED = f"not run: the up was not judged: it {NEEDS}"


class Replay(Rebuilds):
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
        self.snapshots = start_session(conn)
        self._observers = [f for f in self.families if f.observes_up_transaction()]
        self._fresh = FreshDatabases(self.admin)
        self._copies_safe: bool | None = None  # whether rebuilds may start from a copy (restore.py)
        self._checkpoint_schema: tuple[str | None, SessionState | None] = (None, None)
        self._setup: list[Script] = []
        self._applied: list[Migration] = []  # every migration applied so far, in order: what a rebuild replays
        # Migrations whose up is not in the database: not replayable (Go, Java, Python code), failed
        # or not judged. The later ones run without them.
        self._unreplayed: list[Unreplayed] = []
        # Objects the setup scripts provided, (kind, name) -> "the supabase setup".
        self.setup_objects: dict[tuple[str, str], str] = {}
        self._bookkeeping = layout_named(project.format).bookkeeping
        self._runner_tables = frozenset({self._bookkeeping.table} if self._bookkeeping else ())
        # Cases of the whole run (a seed file's), after the last migration.
        self.run_results: list[CheckResult] = []
        self._rows = any(isinstance(family, DATA_FAMILIES) for family in self.families)
        self._next: Migration | None = None  # the migration after the one in its round trip
        self._ahead: Trip | None = None  # the next migration's trip, its before_up observed ahead
        # The caller's own work on a migration whose up committed (the lint's), done while the
        # snapshot after that up is taken.
        self.while_waiting: Callable[[Migration], None] | None = None
        # The base branch's migration files the branch left as they are (`--base-ref`): the ones
        # before this branch's deploy.
        self.merged_files: frozenset[str] = frozenset()

    @property
    def rebuilds_from_checkpoints(self) -> int:
        return self._fresh.copies

    @property
    def unreplayed(self) -> list[Unreplayed]:
        """The migrations whose up is not in the database: code, failed or not judged."""
        return list(self._unreplayed)

    @property
    def setup_scripts(self) -> list[Script]:
        return list(self._setup)

    def close(self) -> None:
        """Drop the last checkpoint and the roles the migrations created (roles are cluster-wide: on
        a shared server they would outlive the run), then the connection. The provider drops the
        database."""
        try:
            if not self.admin.closed:
                self._fresh.forget_checkpoint(self.admin)
                self._fresh.drop_run_roles(self.admin)
        except psycopg.Error:
            pass  # the connection broke (an interruption): the provider's cleanup still runs
        finally:
            self._fresh.wait_for_background(None)  # nothing of the run's may overlap the provider's cleanup
            self.conn.close()
            self.admin.close()

    def run_setup(self, scripts: list[Script]) -> None:
        """Run the setup scripts, noting which objects each provided (a rollback that drops one is
        told so), then start a new session, which sees the settings they made (ALTER DATABASE ...
        SET search_path) as a runner's session would."""
        self._setup = list(scripts)
        self._prepare_database(note_setup_objects=True)

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
            record(self.conn, step.script, self._bookkeeping.table, statements)
        except ScriptFailed as failure:
            return StepRun(step.script, failure, step.seconds)
        return step

    def _new_session(self) -> None:
        """A new connection for the migrations (the old one is closed, or ended by a migration)."""
        old, self.conn = self.conn, connect(self._conninfo)
        self.snapshots = start_session(self.conn)
        if not old.closed:
            old.close()

    def outcomes(self) -> Iterator[MigrationOutcome]:
        state = self.snapshots.take()
        blocked: str | None = None
        migrations = self.project.migrations
        for index, migration in enumerate(migrations):
            if index and migration.history != migrations[index - 1].history:
                state, blocked = self._next_history(migrations[index - 1].history)
            if blocked and not migration.skip_reason:  # (one the runner skips is skipped for its own reason)
                yield parsed_outcome(self.project, migration, blocked, self.families)
                continue
            if migration.skip_reason or migration.up is None:
                if not migration.covered:  # a baseline holds what it made: no later failure follows from it
                    self._unreplayed.append(Unreplayed(migration, migration.skip_reason or "no SQL to run"))
                yield skipped_outcome(self.project, migration, migration.skip_reason or "no SQL to run", self.families)
                continue
            if (skip := precondition_fails(self.conn, migration)) is not None:
                yield skipped_outcome(self.project, migration, skip, self.families)
                continue
            started = time.perf_counter()
            self._next = migrations[index + 1] if index + 1 < len(migrations) else None
            if self._next is not None and self._next.history != migration.history:
                self._next = None  # (it starts in another database)
            outcome, state, blocked = self._round_trip(migration, state)
            outcome.seconds = time.perf_counter() - started
            yield outcome
        at_end = [(family, family.after_all(self.project, self.conn, self._applied)) for family in self.families]
        for family, results in at_end:
            self.run_results += self._without_rows(family, results) if any(r.failed for r in results) else results
        self.run_results += self._all_in_one_transaction(self._applied, self.merged_files,
                                                         migrations[-1].history if migrations else "")

    def _next_history(self, finished: str) -> tuple[Snapshot, str | None]:
        """The end of one alternative history (`finished`) and a fresh database for the next: the
        schema it starts from, and why none of its migrations can run (or None)."""
        self.run_results += self._all_in_one_transaction(self._applied, self.merged_files, finished)
        self._applied, self._unreplayed, self._ahead = [], [], None
        try:
            self._fresh_state([], f"the {finished} history")
        except NoFreshState as problem:
            return self.snapshots.take(), f"not run: {problem}"
        return self.snapshots.take(), None

    def _without_rows(self, family: Family, results: list[CheckResult]) -> list[CheckResult]:
        """The whole run's failed cases judged again where the generated rows may have failed them
        (a verify script that counts rows), on the migrations applied in a fresh database without
        them: last, so that every other case saw the rows."""
        if not self._rows or not family.rows_may_fail_at_end:
            return results
        try:
            self._fresh_state(self._applied, "the last migration")
        except NoFreshState:
            return results
        return family.again_without_rows(self.project, self.conn, self._applied, results)

    def _round_trip(self, migration: Migration, before: Snapshot) -> tuple[MigrationOutcome, Snapshot, str | None]:
        """Returns the outcome, the schema now, and the reason later migrations cannot run (or None)."""
        trip, self._ahead = self._ahead, None
        if trip is not None and trip.context.migration is migration and trip.context.conn is self.conn \
                and trip.context.admin is self.admin:
            trip.context.before = before
        else:  # (its before_up, if observed ahead, saw a database that has been replaced since)
            trip = self._trip(migration, before)
        context = trip.context
        stopped = self._steps(trip)
        outcome = MigrationOutcome(migration)
        for family in trip.families:
            outcome.results.append(trip.verdicts.get(family.name) or family.unreached(context, stopped or "not run") or
                                   skipped_case(self.project, migration, family.name, stopped or "not run"))
        state, blocked = self._where_we_are(context)
        return outcome, state, blocked

    def _trip(self, migration: Migration, before: Snapshot) -> Trip:
        context = MigrationContext(self.project, self.settings, migration, self.conn, before,
                                   differences=self._differences, run_script=self._run,
                                   setup_objects=self.setup_objects, skipped_before=tuple(self._unreplayed),
                                   admin=self.admin, runner_tables=self._runner_tables)
        return Trip([f for f in self.families if f.applies_to(migration)], context)

    def _observe_next(self, before: Snapshot) -> None:
        """The next migration's before_up, ahead of time: the round trip of this one is over (the up
        ran again, or ran with no rollback to follow), so the database is what the next up will
        find, unless the verdicts ask for a rebuild (then its before_up is observed again, on the
        new database). `before` stands in for the schema until the snapshot is taken."""
        migration = self._next
        if migration is None or migration.skip_reason or migration.up is None:
            return
        trip = self._trip(migration, before)
        if all(family.before_up_ahead() for family in trip.families):
            trip.observe("before_up")
            trip.before_up_observed = True
            self._ahead = trip

    def _steps(self, trip: Trip) -> str | None:
        """Runs the round trip as far as it goes; returns why it stopped early, or None."""
        context, migration, up = trip.context, trip.context.migration, trip.context.migration.up
        assert up is not None
        if not trip.before_up_observed:
            trip.observe("before_up")
        context.up = self._attempt(context, UP, self._applied,
                                   lambda: self._step(up, migration, applied=True, observe_transaction=context))
        trip.reached(Stage.UP_RAN)
        if context.up.failed:
            return NOT_JUDGED if needs_unreplayed(context) else "not run: up failed"
        no_rollback = why_no_rollback(migration, self.settings.rollbacks or self.project.rollback_policy,
                                      self.project.format)
        # Without a rollback the database stays as the up left it: the next migration's before_up
        # runs alongside this snapshot, as it does alongside the up again's.
        context.after_up = self._snapshot_alongside(trip, "after_up", first=True, last=no_rollback is not None)
        trip.reached(Stage.UP_DONE)
        if no_rollback:
            return no_rollback
        down = migration.down
        assert down is not None
        context.down = self._attempt(context, "the rollback", [*self._applied, migration],
                                     lambda: self._step(down, migration, applied=False))
        trip.reached(Stage.DOWN_RAN)
        if context.down.failed:
            return "not run: the rollback was not judged" if rollback_needs_unreplayed(context) \
                else "not run: the rollback failed"
        context.after_down = self._snapshot_alongside(trip, "after_down")
        trip.reached(Stage.DOWN_DONE)
        context.reapply = self._attempt(context, "the up run again", [*self._applied, migration],
                                        lambda: self._step(up, migration, applied=True),
                                        again=lambda: self._down_then_up(down, up, migration))
        if not context.reapply.failed:
            context.after_reapply = self._snapshot_alongside(trip, "after_reapply", last=True)
        trip.reached(Stage.REAPPLY_RAN)
        return None

    def _snapshot_alongside(self, trip: Trip, hook: str, first: bool = False, last: bool = False) -> Snapshot:
        """The schema now, taken on the migration's session while the families observe this point
        (`hook`) on the tool's own: two backends at once (see alongside.py). Meanwhile, after the
        `first` step the caller's `while_waiting` runs and the next migration's scripts are split
        and parsed (`named_tables` reads every statement's names into the caches its before_up
        reads again), and after the `last` step (the up again's, or the up's where no rollback
        follows) its before_up runs."""
        def observe() -> None:
            trip.observe(hook)
            if first and self.while_waiting is not None:
                self.while_waiting(trip.context.migration)
            if first and self._next is not None:
                named_tables([self._next.up, self._next.down])
            if last:
                self._observe_next(trip.context.after_up or trip.context.before)
        return alongside(self.snapshots.take, observe, cancel=self.conn.cancel)

    def _where_we_are(self, context: MigrationContext) -> tuple[Snapshot, str | None]:
        """The schema the next migration starts from, and why none can run (or None)."""
        migration = context.migration
        if context.after_up is None:
            # One failure does not hide the later migrations: they run on the state without this
            # one, and any whose failure follows from it is not judged (unreplayed.py).
            self._unreplayed.append(unreplayed_up(context))
            if not self._differences(context.before, now := self.snapshots.take()):
                return now, None  # the failed up changed nothing (it ran in a transaction)
            return self._rebuild(migration, context.before)
        assert migration.up is not None
        self._applied.append(migration)
        if context.down is None:
            return context.after_up, None
        if context.after_reapply is not None:
            # Whatever the reapply's verdict (it passes where what differs is only what the rollback
            # left out of place), the next migration starts from the ups alone, as in production.
            if not self._differences(context.after_up, context.after_reapply):
                return context.after_reapply, None
        elif not self._differences(context.after_up, now := self.snapshots.take()):
            return now, None  # the failed step changed nothing
        return self._rebuild(migration, context.after_up)

    def _step(self, script: Script, migration: Migration, applied: bool,
              observe_transaction: MigrationContext | None = None) -> StepRun:
        """Run one script of `migration` and write the runner's history row for it."""
        return self._record(self._run(script, observe_transaction), migration, applied=applied)

    def _down_then_up(self, down: Script, up: Script, migration: Migration) -> StepRun:
        """The up again as the round trip reaches it: after the rollback (on a fresh state without rows)."""
        self._step(down, migration, applied=False)
        return self._step(up, migration, applied=True)

    def _attempt(self, context: MigrationContext, what: str, ups: list[Migration], run: Callable[[], StepRun],
                 again: Callable[[], StepRun] | None = None) -> StepRun:
        """Run a step. If it fails on a data error while the tables hold generated rows, run it
        (or `again`) once more on the state `ups` produce without them, so that the rows never
        change another family's verdict (the data family tells of the failure instead)."""
        step = own_failures(context, run())
        failure = step.failure
        if not self._rows or failure is None or not failure.rows_may_cause() or FAILED_WITH_ROWS in context.notes:
            return step
        relative = self.project.relative(failure.path) or str(failure.path)
        try:
            if not (in_place := self._rows_removed_in_place(context, ups)):
                self._fresh_state(ups, context.migration.id)
        except NoFreshState:
            return step
        context.conn, context.admin = self.conn, self.admin
        if what == UP:
            for family in self.families:
                family.up_again_on_fresh_state(context)
        elif not in_place and context.after_up is not None:
            # The up ran again without the rows: what it made there is what the up again is compared
            # with (a loop over the tenants makes one schema per generated tenant, none without them).
            context.after_up = self.snapshots.take()
        context.notes[FAILED_WITH_ROWS] = f"{what} fails while the tables hold rows: {failure.summary(relative)}"
        # (in place, the state is the one the step failed on)
        step = own_failures(context, (run if in_place else again or run)())
        if step.failed:  # it fails without the rows too: a finding of its own, not the rows'
            context.notes[FAILED_WITH_ROWS] = ""
        return step

    def _rebuild(self, migration: Migration, expected: Snapshot) -> tuple[Snapshot, str | None]:
        """The state the ups produce, in a fresh database (see restore.py). When that cannot be
        made, the later migrations are skipped with the reason (`expected` stands for the state)."""
        try:
            self._fresh_state(self._applied, migration.id)
        except NoFreshState as problem:
            return (self.snapshots.take() if problem.replaced else expected), f"not run: {problem}"
        return self.snapshots.take(), None

    def _run(self, script: Script, observe_transaction: MigrationContext | None = None) -> StepRun:
        hook = read = None
        if observe_transaction is not None and self._observers:
            def hook(conn: psycopg.Connection, statement: Statement | None) -> None:
                observe_transaction.current_statement = statement
                for family in self._observers:
                    family.in_up_transaction(observe_transaction, conn)
            # One observer whose read rides with the up (the lock family): no round trip of its own.
            reads = [family.up_transaction_read(observe_transaction) for family in self._observers]
            if len(reads) == 1 and reads[0] is not None:
                observe_transaction.current_statement = None
                read = reads[0]
        started = time.perf_counter()
        if writes_catalogs(script):
            self.snapshots.note_untracked_changes()
        try:
            went_on = execute_script(self.conn, script, before_commit=hook, commit_read=read)
        except ScriptFailed as failure:
            if failure.out_of_disk():  # the server's room, not the migration's fault: no verdict to give
                raise InfrastructureError(f"{failure.location(self.project.relative(failure.path) or str(failure.path))}: the"
                                          " server ran out of disk space (53100): give it more room (TMPDIR)") from None
            if self.conn.closed:  # the script ended its own session: a new one for what follows
                cause = self._server_problem()
                if cause:
                    failure.message += f"; the server says: {cause}"
                self._new_session()
            return StepRun(script, failure, time.perf_counter() - started)
        return StepRun(script, None, time.perf_counter() - started, tuple(went_on))

    def _differences(self, expected: Snapshot, actual: Snapshot) -> list[Difference]:
        # The runner's own table is the runner's: a key a migration gives it (harness's 0000_alter_table_
        # migrations adds maragu's `migrations` a primary key) is no rollback's to take away.
        found = diff_snapshots(expected, actual, strict_column_order=self.settings.strict_column_order)
        return [difference for difference in found if not on_table(difference, self._runner_tables)]

