"""A declared schema, loaded into a scratch database on the disposable server and read with the
same snapshot the round trip uses.

Dumps are written for another server: they hold `\\restrict` lines (psql reads those), `ALTER ...
OWNER TO` and `GRANT` for roles this server does not have, and `CREATE SCHEMA public` where the
database already has it. The file runs statement by statement; those statements are tolerated when
they fail for that reason, and any other failure is an error at the statement's file:line.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import psycopg

from migration_check.discovery.base import read_sql
from migration_check.errors import UsageError
from migration_check.model import Script
from migration_check.replay.executor import ScriptFailed, execute_script
from migration_check.schema.snapshot import Snapshot, take_snapshot
from migration_check.servers.base import connect_like, create_database, drop_database
from migration_check.sql import Statement, SyntaxProblem, split_script

SUFFIX = "_declared"
# What a dump says about roles and the public schema that another server may not share.
_TOLERATED = {
    "42704": ("OWNER TO", "GRANT", "REVOKE", "SECURITY LABEL", "ALTER DEFAULT PRIVILEGES"),  # undefined role
    "42P06": ("CREATE SCHEMA public", "CREATE SCHEMA IF NOT EXISTS public"),  # the schema exists already
    "42710": ("CREATE EXTENSION plpgsql",),
}


def declared_snapshot(admin: psycopg.Connection, conn: psycopg.Connection, setup: list[Script], path: Path,
                      root: Path) -> Snapshot:
    """The schema `path` declares, loaded after the setup scripts into a scratch database that is
    dropped again. Raises UsageError for a file that does not load."""
    name = f"{admin.info.dbname}{SUFFIX}"
    drop_database(admin, name)
    # Labelled as the run's own database: found and reaped with it if the run is killed.
    create_database(admin, name, conn.info.user, run_of=admin.info.dbname)
    try:
        with contextlib.closing(connect_like(conn, dbname=name)) as scratch:
            for script in setup:
                execute_script(scratch, script)
            _load(scratch, Script(path, read_sql(path), root=root), root)
            return take_snapshot(scratch)
    except ScriptFailed as failure:
        relative = _relative(failure.path, root)
        raise UsageError(f"the declared schema does not load: {failure.summary(relative)}") from None
    finally:
        drop_database(admin, name)


def _load(conn: psycopg.Connection, script: Script, root: Path) -> None:
    try:
        statements = split_script(script)
    except SyntaxProblem as problem:
        raise UsageError(f"{_relative(problem.path, root)}:{problem.line}:{problem.column}: syntax error in the declared"
                         f" schema: {problem.message}") from None
    for statement in statements:
        try:
            execute_script(conn, Script(statement.path, statement.sql, first_line=statement.line, root=root))
        except ScriptFailed as failure:
            if not _tolerated(statement, failure):
                raise


def _tolerated(statement: Statement, failure: ScriptFailed) -> bool:
    text = " ".join(statement.sql.split()).upper()
    return any(marker.upper() in text for marker in _TOLERATED.get(failure.sqlstate or "", ()))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
