"""What every source of a disposable PostgreSQL provides.

A provider is a context manager: entering it yields a `Database` that nobody else uses, and
leaving it (normally, on an exception, on Ctrl-C or SIGTERM) removes every trace: the server, the
container, the temp dir, or the throwaway database on a given server.
"""

from __future__ import annotations

import abc
import contextlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from migration_check import signals
from migration_check.errors import InfrastructureError

# The role the tool administers a server it started through: created first, never given to
# migrations, so `ALTER ROLE postgres NOSUPERUSER` in a migration cannot lock the tool out.
ADMIN_ROLE = "migration_check_admin"
# Migrations run as this role by default: a superuser named like the official image's.
DEFAULT_MIGRATION_ROLE = "postgres"
# The database the tool's own servers (local, container) create for the replay.
REPLAY_DATABASE = "migration_check"


@dataclass(frozen=True)
class Database:
    """A database the tool owns for one run."""

    conninfo: str  # libpq connection string for the throwaway database, as the migration role
    server_version: int  # e.g. 150014
    description: str  # for the console: "local PostgreSQL 15.14 (/usr/lib/postgresql/15/bin)"
    # The same database as the tool's own admin role; None: the same as `conninfo` (a given server).
    admin_conninfo: str | None = None
    # The server's log, where the tool started the server (local): the cause of a crash is there.
    server_log: Path | None = None

    @property
    def admin(self) -> str:
        return self.admin_conninfo or self.conninfo

    def server_problem(self) -> str | None:
        """The server's first FATAL or PANIC line (disk full, a crash), when it has one."""
        try:
            lines = self.server_log.read_text(errors="replace").splitlines() if self.server_log else []
        except OSError:
            return None
        return first_cause(lines)

    @property
    def major_version(self) -> int:
        return self.server_version // 10000


def first_cause(lines: list[str], words: tuple[str, ...] = ("FATAL:", "PANIC:")) -> str | None:
    """The first log line with one of `words` that is not a start-up refusal, stripped, or None."""
    return next((line.strip() for line in lines if any(word in line for word in words) and not refused_early(line)), None)


def refused_early(line: str) -> bool:
    """A log line of a connection refused while the server starts (the tool waiting for it to be
    ready): FATAL, and never the cause of anything."""
    return "the database system is starting up" in line or "not yet accepting connections" in line


class Provider(abc.ABC):
    """A source of disposable databases (local binaries, a Docker image, an existing server)."""

    @abc.abstractmethod
    def start(self) -> Database:
        """Make the database ready. Whatever was started must be removed by `stop`."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Remove everything `start` made. Safe to call twice, and after a failed start."""

    def __enter__(self) -> Database:
        try:
            return self.start()
        except BaseException:
            with signals.deferred():
                self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A SIGTERM arriving mid-cleanup must not leave the server or its temp dir behind.
        with signals.deferred():
            self.stop()


def server_version(conninfo: str) -> int:
    with contextlib.closing(connect(conninfo)) as conn:
        return conn.info.server_version


def prepare_roles(conn: psycopg.Connection, migration_role: str, database: str, password: str | None = None) -> None:
    """On a server the tool started, as its bootstrap superuser: the admin role, the migration role
    (a superuser, like the official image's `postgres`), and the run's database, owned by it."""
    secret = sql.SQL(" PASSWORD {}").format(sql.Literal(password)) if password else sql.SQL("")
    # `postgres` exists on every server a project expects (the official image's superuser).
    for role in dict.fromkeys((ADMIN_ROLE, DEFAULT_MIGRATION_ROLE, migration_role)):
        exists = conn.execute("SELECT FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE ROLE {} SUPERUSER LOGIN{}").format(sql.Identifier(role), secret))
    create_database(conn, database, migration_role)


def conninfo_of(conn: psycopg.Connection, dbname: str | None = None) -> str:
    """`conn`'s connection parameters, password and session settings included."""
    parameters = conn.info.get_parameters()
    if dbname is not None:
        parameters["dbname"] = dbname
    if conn.info.password:
        parameters["password"] = conn.info.password
    return make_conninfo("", **parameters)


def connect_like(conn: psycopg.Connection, dbname: str | None = None) -> psycopg.Connection:
    """A new connection with `conn`'s parameters (to `dbname` instead, when given): a fresh session,
    which sees database and role settings made since `conn` started."""
    return connect(conninfo_of(conn, dbname))


# Throwaway databases on a given server carry this label (COMMENT ON DATABASE) with their run.
LABEL = "migration-check run"


def label_database(admin: psycopg.Connection, name: str, label: str | None = None) -> None:
    """Say which run a throwaway database belongs to, so that a later run can tell an orphan (its
    run was SIGKILLed) from a database in use."""
    label = label or f"{LABEL} host={socket.gethostname()} pid={os.getpid()} started={int(time.time())}"
    admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(label)))


def create_database(admin: psycopg.Connection, name: str, owner: str | None = None, *, template: str | None = None,
                    run_of: str | None = None) -> None:
    """CREATE DATABASE `name` (owned by `owner`, copied from `template`). With `run_of`, the new
    database carries that database's run label, so an orphan is found and reaped with it."""
    parts = [sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))]
    if template:
        parts.append(sql.SQL("TEMPLATE {}").format(sql.Identifier(template)))
    if owner:
        parts.append(sql.SQL("OWNER {}").format(sql.Identifier(owner)))
    admin.execute(sql.SQL(" ").join(parts))
    label = database_label(admin, run_of) if run_of else None
    if label:
        label_database(admin, name, label)


def drop_database(admin: psycopg.Connection, name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_label(admin: psycopg.Connection, name: str) -> str | None:
    row = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                        (name,)).fetchone()
    return row[0] if row else None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# How `connect` makes every session the tool opens.
CONNECTION_OPTIONS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}


def connect(conninfo: str, session_settings: dict[str, str] | None = None) -> psycopg.Connection:
    """A connection in autocommit mode, with a message the user can act on when it fails.
    `session_settings` become the session's defaults (RESET ALL returns to them)."""
    if session_settings:
        options = " ".join(f"-c {name}={value}" for name, value in session_settings.items())
        conninfo = make_conninfo(conninfo, options=options)
    try:
        return psycopg.connect(conninfo, **CONNECTION_OPTIONS)
    except psycopg.OperationalError as exc:
        raise InfrastructureError(f"cannot connect to PostgreSQL: {' '.join(str(exc).split())}") from None
