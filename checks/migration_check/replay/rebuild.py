"""Rebuilding the state the ups produce in a fresh database (restore.py has the databases): from
the last checkpoint where one fits, else from nothing. A part of the replay (Replay inherits it),
kept apart so that the round trip's own module stays about the round trip."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from pglast import ast

from migration_check.discovery.bookkeeping import Bookkeeping, Statements
from migration_check.errors import InfrastructureError
from migration_check.families.base import Family, MigrationContext, StepRun
from migration_check.model import CheckResult, Migration, Project, Script, Status
from migration_check.presets import is_preset, setup_name
from migration_check.replay.executor import ScriptFailed, execute_in_one_transaction, execute_script
from migration_check.replay.restore import FreshDatabases, copies_are_safe
from migration_check.schema.diff import EXTRA, Difference
from migration_check.schema.incremental import SnapshotSession
from migration_check.schema.logged import LoggedSnapshotSession, SessionState, start_session
from migration_check.schema.snapshot import Snapshot
from migration_check.servers.base import conninfo_of
from migration_check.sql import SyntaxProblem, has_transaction_control, split_script, trees
from migration_check.sql.dialects import MISSING_OBJECT_STATES, UNSAFE_NEW_ENUM_VALUE, first_quoted
from migration_check.sql.extensions import unavailable_here


class NoFreshState(Exception):
    def __init__(self, message: str, replaced: bool) -> None:
        super().__init__(message)
        self.replaced = replaced  # whether the old database is gone already


class SetupFailed(Exception):
    def __init__(self, failure: ScriptFailed, relative: str) -> None:
        elsewhere = unavailable_here(failure.sqlstate, failure.message)
        super().__init__(f"setup script {failure.summary(relative)}" + (f" {elsewhere}" if elsewhere else ""))
        self.failure = failure


class Rebuilds:
    """The rebuild half of the replay: Replay provides the attributes and the two steps below."""

    project: Project
    conn: psycopg.Connection
    admin: psycopg.Connection
    snapshots: SnapshotSession
    _conninfo: str
    _fresh: FreshDatabases
    _setup: list[Script]
    _copies_safe: bool | None
    _bookkeeping: Bookkeeping | None
    setup_objects: dict[tuple[str, str], str]
    # The checkpoint's name and what a snapshot session knew of it (None: nothing).
    _checkpoint_schema: tuple[str | None, SessionState | None]
    families: list[Family]
    rows_removed = 0  # the times the generated rows were removed in place instead of a rebuild

    def _recorded(self, migration: Migration) -> Statements:
        """What the runner writes to its history table after the migration's up."""
        return self._bookkeeping.applied(migration) if self._bookkeeping is not None else []

    def _step(self, script: Script, migration: Migration, applied: bool) -> StepRun:
        raise NotImplementedError

    def _prepare_database(self, note_setup_objects: bool = False) -> None:
        """What every database of the run gets before the first migration: the setup scripts, a
        new session that sees the settings they made, and the runner's history table."""
        before = self.snapshots.take() if note_setup_objects else None
        pending, done, moved = list(self._setup), [], None
        while pending:
            script = pending.pop(0)
            try:
                self._execute_setup_script(script)
            except SetupFailed as failed:
                # A project's own setup that needs what a later preset makes (joot-app's schema.sql
                # references auth.users, the supabase preset's): the preset first, then it again, in
                # a new session, which sees the settings the preset made (its search_path).
                moved = next((later for later in pending if is_preset(later)), None)
                if moved is None or failed.failure.sqlstate not in MISSING_OBJECT_STATES:
                    raise
                pending.remove(moved)
                pending[:0] = [moved, script]
                continue
            done.append(script)
            if script is moved:
                self._new_session()
            # What the runner makes itself (Flyway's schemas) is the migrations' to fill, not a
            # platform's objects that drift and the round trip leave alone.
            if before is not None:
                after = self.snapshots.take()
                for difference in self._differences(before, after) if script not in self.project.setup else ():
                    if difference.change == EXTRA:
                        self.setup_objects[(difference.kind, difference.name)] = setup_name(script, self.project)
                before = after
        self._setup = done  # (the order that worked: a rebuilt database gets the same)
        if self._setup:
            self._new_session()
        self._create_bookkeeping()

    def _execute_setup_script(self, script: Script) -> None:
        try:
            execute_script(self.conn, script)
        except ScriptFailed as failure:
            raise SetupFailed(failure, self.project.relative(failure.path) or str(failure.path)) from None

    def _create_bookkeeping(self) -> None:
        if self._bookkeeping is None:
            return
        try:
            self.conn.execute(self._bookkeeping.create.encode())
        except psycopg.Error as error:  # (a search_path naming a schema nobody created: the runner fails so too)
            message = (error.diag.message_primary or str(error)).strip()
            table = self._bookkeeping.table.rpartition(".")[2]  # (its schema is the search_path's)
            raise InfrastructureError(f"the runner's history table ({table}) cannot be made here:"
                                      f" {message}; the runner fails the same way before its first migration") from None

    def _differences(self, expected: Snapshot, actual: Snapshot) -> list[Difference]:
        raise NotImplementedError

    def _new_session(self) -> None:
        raise NotImplementedError

    def _rows_removed_in_place(self, context: MigrationContext, ups: list[Migration]) -> bool:
        """The state `ups` produce without the generated rows, made by removing them from this
        database (data/removal.py) where the failed step left its schema as it found it; False: a
        rebuild is needed."""
        # What the failed step started from (an empty schema is a snapshot too: no `or`).
        found = next(s for s in (context.after_down, context.after_up, context.before) if s is not None)
        # What a rebuild would run (the setup, the runner's bookkeeping, the ups); for the up run
        # again, the rollback too: it ran here.
        bookkeeping = [Script(Path("<the runner's history>"), self._bookkeeping.create)] if self._bookkeeping else []
        scripts = [*self._setup, *bookkeeping, *(m.up for m in ups if m.up is not None),
                   *([context.migration.down] if context.after_down is not None and context.migration.down else [])]
        if not all(family.rows_removed_in_place(context, scripts) for family in self.families):
            return False
        if self._differences(found, self.snapshots.take()):
            return False  # (rows removed all the same: the rebuild replaces the database)
        self.rows_removed += 1
        return True

    def _fresh_state(self, ups: list[Migration], after: str) -> None:
        """A fresh database with the setup and `ups` applied: a copy of the checkpoint and the ups
        since, where a checkpoint holds a start of `ups`, else from nothing. Raises NoFreshState."""
        ids = tuple(migration.id for migration in ups)
        checkpoint = self._fresh.checkpoint
        if checkpoint is not None and ids[:len(checkpoint.ups)] == checkpoint.ups:
            known = self._checkpoint_schema[1] if self._checkpoint_schema[0] == checkpoint.name else None
            try:
                self._switch(*self._fresh.replace(self.conn, self.admin, template=checkpoint.name), copy_of=known)
                copied = time.perf_counter()
                self._apply(ups[len(checkpoint.ups):])
            except (psycopg.Error, ScriptFailed):
                self._fresh.forget_checkpoint(self.admin)  # from nothing, now and from now on
                self._copies_safe = False
            else:
                # A new checkpoint costs a copy (the spare made alongside costs the replay none):
                # worth it once the ups since the last cost as much.
                if time.perf_counter() - copied >= self._fresh.copy_seconds:
                    self._keep_checkpoint(ids)
                return
        try:
            self._switch(*self._fresh.replace(self.conn, self.admin))
        except psycopg.Error as error:
            raise NoFreshState(f"cannot rebuild the state after {after}: {' '.join(str(error).split())}", False) from None
        try:
            self._prepare_database()
            self._apply(ups)
        except (ScriptFailed, SetupFailed) as failure:
            cause = failure.failure if isinstance(failure, SetupFailed) else failure
            relative = self.project.relative(cause.path) or str(cause.path)
            raise NoFreshState(f"the ups no longer apply in a fresh database after {after}: {cause.summary(relative)}",
                                True) from None
        self._keep_checkpoint(ids)

    def _from_nothing(self, ups: list[Migration]) -> None:
        """A fresh database with the setup and `ups` applied one by one, no copy of a checkpoint."""
        self._switch(*self._fresh.replace(self.conn, self.admin))
        self._prepare_database()
        self._apply(ups)

    def _switch(self, conn: psycopg.Connection, admin: psycopg.Connection, copy_of: SessionState | None = None) -> None:
        self.conn, self.admin = conn, admin
        self._conninfo = conninfo_of(conn)
        self.snapshots = start_session(conn, copy_of=copy_of)

    def _apply(self, ups: list[Migration]) -> None:
        for applied in ups:
            assert applied.up is not None
            step = self._step(applied.up, applied, applied=True)
            if step.failure is not None:
                raise step.failure

    def _keep_checkpoint(self, ups: tuple[str, ...]) -> None:
        """Keep the rebuilt state for the next rebuild to start from, where copies are safe."""
        if self._copies_safe is None:
            scripts = [s for m in self.project.migrations for s in (m.up, m.down) if s is not None]
            self._copies_safe = copies_are_safe([*self._setup, *scripts])
        if self._copies_safe:
            # What the snapshot session knows of the state copied: sessions on its copies start
            # from it instead of reading a schema of hundreds of tables whole.
            known = self.snapshots.state() if isinstance(self.snapshots, LoggedSnapshotSession) else None
            self.conn = self._fresh.keep_checkpoint(self.conn, self.admin, ups)
            self.snapshots = start_session(self.conn, copy_of=known)
            checkpoint = self._fresh.checkpoint
            self._copies_safe = checkpoint is not None
            self._checkpoint_schema = (checkpoint.name if checkpoint is not None else None, known)

    def _all_in_one_transaction(self, applied: list[Migration], merged_files: frozenset[str],
                                history: str = "") -> list[CheckResult]:
        """Where the runner applies every pending migration in one transaction (drizzle, Flyway's
        `group`), whether they apply so: all of them on a new database; and, with the base branch
        known, the branch's own on the base's schema, as its deploy runs them. An enum label that
        one adds and a later one uses fails there ("unsafe use of new value"), though each applies
        on its own. The run ends with every migration applied, in a fresh database without
        generated rows. With alternative histories (Migration.history), those of `history`."""
        mine = [migration for migration in self.project.migrations if migration.history == history]
        if not self.project.pending_in_one_transaction or len(applied) < len(mine):
            return []
        how = f"{self.project.format} runs every pending migration in one transaction"
        merged = [m for m in applied if self.project.relative(m.main_file) in merged_files]
        added = [m for m in applied if m not in merged]
        results = []
        of = f" of the {history} history" if history else ""
        if len(applied) > 1:
            results.append(self._in_one_transaction([], applied, f"every migration{of} in one transaction",
                                                    f"{how}, and so on a new database"))
        if merged and len(added) > 1:
            results.append(self._in_one_transaction(merged, added, f"the branch's migrations{of} in one transaction",
                                                    f"{how}, and so the branch's on the base's schema when deployed"))
        return results

    def _in_one_transaction(self, before: list[Migration], batch: list[Migration], subject: str,
                            how: str) -> CheckResult:
        """`before` applied one by one in a fresh database, then `batch` at once (rolled back),
        then one by one: the run ends where it was, every migration applied (drift reads it)."""
        try:
            self._from_nothing(before)
        except (psycopg.Error, SetupFailed, ScriptFailed) as problem:
            reason = problem.summary(self.project.relative(problem.path) or str(problem.path)) \
                if isinstance(problem, ScriptFailed) else " ".join(str(problem).split())
            try:
                self._fresh_state(before + batch, subject)  # where the run was, for the checks after it
            except NoFreshState as lost:
                raise InfrastructureError(str(lost)) from None
            return CheckResult("apply", subject, Status.SKIPPED, message=f"not run: {reason}")
        try:
            execute_in_one_transaction(self.conn, [(m.up, self._recorded(m)) for m in batch if m.up is not None],
                                       self._bookkeeping.table if self._bookkeeping is not None else "")
            result = CheckResult("apply", subject, Status.PASSED, message=f"{how}: all {len(batch)} apply")
        except ScriptFailed as failure:
            relative = self.project.relative(failure.path) or str(failure.path)
            result = CheckResult("apply", subject, Status.FAILED, file=relative, line=failure.line or 1,
                                 message=f"{how}: {failure.summary(relative)}{_added_before(self.project, failure)}",
                                 details=failure.body(relative))
        try:
            if _any_transaction_control(batch):
                # A file's own COMMIT ended that transaction early, and what ran before it stayed
                # (dittofeed's drizzle files hold BEGIN ... COMMIT): start again from a fresh database.
                self._from_nothing(before)
            self._apply(batch)  # each applied on its own before, on this very state
        except ScriptFailed as failure:
            # The ups applied one by one before; the later checks (drift) need the state they made.
            relative = self.project.relative(failure.path) or str(failure.path)
            raise InfrastructureError(f"after {subject}, the ups no longer apply one by one in a fresh database:"
                                      f" {failure.summary(relative)}") from None
        return result


def _any_transaction_control(migrations: list[Migration]) -> bool:
    try:
        return any(has_transaction_control(split_script(migration.up)) for migration in migrations
                   if migration.up is not None)
    except SyntaxProblem:
        return True  # it did not run: nothing to undo, but starting again costs only time


def _added_before(project: Project, failure: ScriptFailed) -> str:
    """Where the failure is the use of an enum label that an earlier migration of the same
    transaction added: that statement, and what PostgreSQL asks."""
    if failure.sqlstate != UNSAFE_NEW_ENUM_VALUE:
        return ""
    label = first_quoted(failure.message) or ""
    for migration in project.migrations:
        for statement in (split_script(migration.up) if migration.up is not None else []):
            node = trees.statement(statement.sql) if statement.node == "AlterEnumStmt" else None
            if isinstance(node, ast.AlterEnumStmt) and node.newVal == label:
                return (f" ({project.relative(statement.path)}:{statement.line} adds it in the same transaction, and"
                        " PostgreSQL lets a transaction use a new label only after the one that added it commits:"
                        " rebuild the type with the label instead (CREATE TYPE, ALTER COLUMN ... TYPE ... USING,"
                        " DROP TYPE, RENAME), or leave its first use to the application)")
    return ""
