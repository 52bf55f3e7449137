"""Put the database back in the state the ups produce, after a round trip that left it elsewhere.

A rollback that forgets an index, an enum value that cannot be removed, an up that does not apply
again: each is a finding for that migration, but the later migrations must still be judged, and on
the state a real deployment would have. That state is rebuilt, never guessed: a fresh database on
the same server, the setup scripts, then every up that has run so far, in order, without round
trips. Roles are cluster-wide, so the roles this run created are dropped first (the ups create them
again), and roles that existed before the run get back the attributes they had (a migration may
have run `ALTER ROLE postgres NOSUPERUSER`). All of it runs through the tool's admin connection,
which migrations never use.

Replaying every up for each rebuild costs the square of the project's length where rebuilds are
frequent (trigger.dev's 821 Prisma migrations: 92 of them add a NOT NULL column without a default,
which fails on the generated rows and is judged again on a rebuilt state; 70% of the run). So each
rebuilt state is kept as a checkpoint, a copy of the database (CREATE DATABASE ... TEMPLATE), and
the next rebuild copies it and applies only the ups since. Only where no script reaches beyond its
database (`copies_are_safe`, sql/cluster_wide.py): a copy left on the server would change what
DROP ROLE finds, and re-running an up on a copy would repeat its CREATE ROLE.

A copy and a drop take a third of a second each on a schema of a few hundred tables, and such
rebuilds often come one migration apart: after a rebuild from the checkpoint, the old database is
dropped and a spare copy of the checkpoint made on a session of their own, while the replay goes on
(every database operation here waits for that work first), and the next rebuild starts from the spare.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from migration_check.model import Script
from migration_check.replay.alongside import Worker
from migration_check.servers.base import connect, connect_like, conninfo_of, create_database, drop_database
from migration_check.sql import SyntaxProblem, split_script
from migration_check.sql.cluster_wide import reaches_beyond_database

# Databases made by a rebuild are named after the run's own, so the provider that made it finds
# and drops them too (servers/url.py).
REBUILD_SUFFIX = "_r"
# Role attributes a migration can change and a rebuild restores (pg_roles column, keyword).
_ATTRIBUTES = (("rolsuper", "SUPERUSER"), ("rolinherit", "INHERIT"), ("rolcreaterole", "CREATEROLE"),
               ("rolcreatedb", "CREATEDB"), ("rolcanlogin", "LOGIN"), ("rolreplication", "REPLICATION"),
               ("rolbypassrls", "BYPASSRLS"))


def copies_are_safe(scripts: Iterable[Script]) -> bool:
    """Whether no statement of `scripts` can reach beyond its database (see the module's docstring)."""
    for script in scripts:
        try:
            statements = split_script(script)
        except SyntaxProblem:
            continue  # a script that does not parse runs nothing (the executor splits it first)
        if any(reaches_beyond_database(statement) for statement in statements):
            return False
    return True


@dataclass(frozen=True)
class Checkpoint:
    """A copy of a rebuilt database, before any generated row: the setup and `ups` (ids) applied."""

    name: str
    ups: tuple[str, ...]


@dataclass(frozen=True)
class _Spare:
    """A copy of the checkpoint `template`, owned by `owner`, for the next rebuild to start from."""

    name: str
    template: str
    owner: str


@dataclass(frozen=True)
class _Background:
    worker: Worker[None]
    dropped: str
    spare: _Spare | None


class FreshDatabases:
    """Swaps the run's database for a fresh, empty one on the same server, leaving nothing behind."""

    def __init__(self, admin: psycopg.Connection) -> None:
        self._base = admin.info.dbname
        self._count = 0
        # Roles that existed before the run (and its setup), with their attributes: never dropped.
        self._roles_before = _roles(admin)
        self.checkpoint: Checkpoint | None = None
        self.copies = 0  # rebuilds that started from a checkpoint
        # Database work done on a session of its own while the replay goes on: the replaced
        # database's drop, then a spare copy of the checkpoint for the next rebuild (a copy and a
        # drop were 22 of trigger.dev's 61 s: 92 rebuilds, most of them one migration apart).
        self._background: _Background | None = None
        self._spare: _Spare | None = None
        self.copy_seconds = 0.0  # what the last copy of a database cost (a spare's included)

    def _in_background(self, admin: psycopg.Connection, dropped: str, spare: _Spare | None) -> None:
        session = connect_like(admin)
        label = admin.info.dbname

        def work() -> None:
            with session:  # closed as soon as done: no session of the tool's lingers in the database
                drop_database(session, dropped)
                if spare is not None:
                    self._copy(session, spare.name, spare.owner, spare.template, label)

        worker: Worker[None] = Worker(work)
        worker.start()
        self._background = _Background(worker, dropped, spare)

    def wait_for_background(self, admin: psycopg.Connection | None) -> None:
        """Every database operation waits for the work in progress (none overlaps another, nor the
        provider's cleanup); a drop that failed there is tried again on `admin`, its error raised
        (without `admin`, at an interruption, the provider's cleanup drops the database). A spare
        copy that failed is none."""
        if self._background is None:
            return
        background, self._background = self._background, None
        background.worker.join()
        if background.worker.error is None:
            self._spare = background.spare
        elif admin is not None:
            drop_database(admin, background.dropped)
            if background.spare is not None:
                drop_database(admin, background.spare.name)  # (IF EXISTS: the copy may have been made)

    def _copy(self, admin: psycopg.Connection, name: str, owner: str | None, template: str | None, label_of: str) -> None:
        """CREATE DATABASE `name`, a copy of `template` where given, labelled as `label_of`; a copy's
        time is kept as what the next one will cost."""
        started = time.perf_counter()
        create_database(admin, name, owner, template=template, run_of=label_of)
        if template is not None:
            self.copy_seconds = time.perf_counter() - started

    def _forget_spare(self, admin: psycopg.Connection) -> None:
        if self._spare is not None:
            drop_database(admin, self._spare.name)
            self._spare = None

    def _next_name(self) -> str:
        self._count += 1
        return f"{self._base}{REBUILD_SUFFIX}{self._count}"

    def keep_checkpoint(self, conn: psycopg.Connection, admin: psycopg.Connection,
                        ups: tuple[str, ...]) -> psycopg.Connection:
        """Copy `admin`'s database (rebuilt, no rows yet) as the checkpoint, in place of the last
        one. A database being copied may have no other session: `conn` is closed for the copy, and
        a new session returned in its place. Where the server refuses the copy, there is none."""
        conninfo = conninfo_of(conn)
        conn.close()
        try:
            self.forget_checkpoint(admin)
            name = self._next_name()
            self._copy(admin, name, None, admin.info.dbname, admin.info.dbname)
            self.checkpoint = Checkpoint(name, ups)
        except psycopg.Error:
            self.checkpoint = None
        return connect(conninfo)

    def forget_checkpoint(self, admin: psycopg.Connection) -> None:
        self.wait_for_background(admin)
        self._forget_spare(admin)  # a copy of this checkpoint
        if self.checkpoint is not None:
            drop_database(admin, self.checkpoint.name)
            self.checkpoint = None

    def replace(self, conn: psycopg.Connection, admin: psycopg.Connection,
                template: str | None = None) -> tuple[psycopg.Connection, psycopg.Connection]:
        """New (migration, admin) connections to a new empty database, owned by the migration role;
        the old database and the run's roles are gone. With `template` (a checkpoint), the new
        database is a copy of it and the roles stay: its objects are theirs. Raises psycopg.Error
        when the server refuses."""
        self.wait_for_background(admin)
        self.copies += template is not None
        old, owner = conn.info.dbname, conn.info.user
        spare, self._spare = self._spare, None
        if spare is not None and (spare.template, spare.owner) == (template, owner):
            name = spare.name  # made while the replay went on
        else:
            if spare is not None:
                drop_database(admin, spare.name)
            name = self._next_name()
            self._copy(admin, name, owner, template, old)  # the run's label goes with its state
        new_admin = connect_like(admin, dbname=name)
        try:
            fresh = connect_like(conn, dbname=name)
        except BaseException:
            new_admin.close()
            raise
        conn.close()
        admin.close()
        try:
            if template is None:  # the run's roles go, and what they own in the old database first
                drop_database(new_admin, old)
                self.drop_run_roles(new_admin)
                self._restore_roles(new_admin)
            else:
                self._in_background(new_admin, old, _Spare(self._next_name(), template, owner))
        except BaseException:
            for connection in (fresh, new_admin):
                with contextlib.suppress(psycopg.Error):
                    connection.close()
            raise
        return fresh, new_admin

    def drop_run_roles(self, admin: psycopg.Connection) -> None:
        """Drop the roles this run created (what they own in `admin`'s database goes with them), so
        that no role outlives the run on a shared server."""
        self.wait_for_background(admin)
        for role in sorted(_roles(admin).keys() - self._roles_before.keys()):
            name = sql.Identifier(role)
            try:
                _drop_role(admin, name)
            except psycopg.errors.InsufficientPrivilege:
                # PostgreSQL 16+: a CREATEROLE role (a managed server's) holds only ADMIN on the
                # roles it made; taking on the role's privileges lets it drop what the role owns.
                admin.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(name))
                _drop_role(admin, name)

    def _restore_roles(self, admin: psycopg.Connection) -> None:
        now = _roles(admin)
        for role, attributes in sorted(self._roles_before.items()):
            if role in now and now[role] != attributes:
                options = sql.SQL(" ").join(sql.SQL(keyword if value else f"NO{keyword}")
                                            for (_, keyword), value in zip(_ATTRIBUTES, attributes, strict=True))
                admin.execute(sql.SQL("ALTER ROLE {} WITH {}").format(sql.Identifier(role), options))


def _drop_role(admin: psycopg.Connection, name: sql.Identifier) -> None:
    admin.execute(sql.SQL("DROP OWNED BY {}").format(name))
    admin.execute(sql.SQL("DROP ROLE {}").format(name))


def _roles(conn: psycopg.Connection) -> dict[str, tuple[bool, ...]]:
    columns = sql.SQL(", ").join(sql.Identifier(column) for column, _ in _ATTRIBUTES)
    query = sql.SQL("SELECT rolname, {} FROM pg_roles").format(columns)
    return {row[0]: tuple(row[1:]) for row in conn.execute(query).fetchall()}
