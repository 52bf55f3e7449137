"""Rebuilding the state the ups produce in a fresh database (restore.py has the databases): from
the last checkpoint where one fits, else from nothing. A part of the replay (Replay inherits it),
kept apart so that the round trip's own module stays about the round trip."""

from __future__ import annotations

import time

import psycopg

from migration_check.families.base import StepRun
from migration_check.model import Migration, Project, Script
from migration_check.replay.executor import ScriptFailed
from migration_check.replay.restore import FreshDatabases, copies_are_safe
from migration_check.schema.incremental import SnapshotSession
from migration_check.schema.logged import start_session
from migration_check.servers.base import conninfo_of


class NoFreshState(Exception):
    def __init__(self, message: str, replaced: bool) -> None:
        super().__init__(message)
        self.replaced = replaced  # whether the old database is gone already


class SetupFailed(Exception):
    def __init__(self, failure: ScriptFailed, relative: str) -> None:
        super().__init__(f"setup script {failure.summary(relative)}")
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

    def _step(self, script: Script, migration: Migration, applied: bool) -> StepRun:
        raise NotImplementedError

    def _prepare_database(self, note_setup_objects: bool = False) -> None:
        raise NotImplementedError

    def _fresh_state(self, ups: list[Migration], after: str) -> None:
        """A fresh database with the setup and `ups` applied: a copy of the checkpoint and the ups
        since, where a checkpoint holds a start of `ups`, else from nothing. Raises NoFreshState."""
        ids = tuple(migration.id for migration in ups)
        checkpoint = self._fresh.checkpoint
        if checkpoint is not None and ids[:len(checkpoint.ups)] == checkpoint.ups:
            try:
                started = time.perf_counter()
                self._switch(*self._fresh.replace(self.conn, self.admin, template=checkpoint.name))
                copied = time.perf_counter()
                self._apply(ups[len(checkpoint.ups):])
            except (psycopg.Error, ScriptFailed):
                self._fresh.forget_checkpoint(self.admin)  # from nothing, now and from now on
                self._copies_safe = False
            else:
                # A new checkpoint costs a copy: worth it once the ups since the last cost as much.
                if time.perf_counter() - copied >= copied - started:
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

    def _switch(self, conn: psycopg.Connection, admin: psycopg.Connection) -> None:
        self.conn, self.admin = conn, admin
        self._conninfo = conninfo_of(conn)
        self.snapshots = start_session(conn)

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
            self.conn = self._fresh.keep_checkpoint(self.conn, self.admin, ups)
            self.snapshots = start_session(self.conn)
            self._copies_safe = self._fresh.checkpoint is not None
