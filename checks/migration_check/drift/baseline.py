"""`migration-check baseline --database-url URL [--dir DIR] [--format NAME]`: the first migration of
a project that has none, taken from a live database, with a rollback that drops what it creates.

The schema comes from `pg_dump --schema-only --no-owner --no-privileges` (the tool's own server
binaries, new enough for any older server), run in read-only transactions: nothing is written
there. The dump is made runnable by the project's runner: psql meta-commands (`\\restrict`) are
left out, and of its settings only `check_function_bodies = false` stays, as `SET LOCAL` (so it
ends with the migration instead of staying in the runner's session; the others are for a restore:
timeouts of 0, and `transaction_timeout`, which servers before 17 refuse), and the statement that
empties `search_path` is dropped (every name in a dump is qualified). The rollback drops, from the
catalog, every schema, table, view, sequence, routine, type and extension the database holds (but
the runner's history table), with CASCADE, in an order that lets each drop find what it names.
`migration-check check DIR` then round-trips the baseline.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import psycopg
from pglast import ast, parser
from pglast.stream import RawStream

from migration_check.discovery import discover
from migration_check.errors import InfrastructureError
from migration_check.model import Script
from migration_check.scaffold import new_migration, target
from migration_check.servers.binaries import find_binaries
from migration_check.servers.url import without_url
from migration_check.settings import Settings
from migration_check.sql import SyntaxProblem, split_script, trees

NAME = "baseline"
_USER_SCHEMAS = ("n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
                 " AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')")
# What the rollback drops, most dependent first; CASCADE takes what depends on each.
_DROPS = (
    ("SCHEMA", f"SELECT quote_ident(n.nspname) FROM pg_namespace n WHERE n.nspname <> 'public' AND "
               f"{_USER_SCHEMAS.format(oid='n.oid')} ORDER BY 1"),
    ("MATERIALIZED VIEW", "SELECT {rel} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                          " WHERE c.relkind = 'm' AND n.nspname = 'public' AND {user} ORDER BY 1"),
    ("VIEW", "SELECT {rel} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
             " WHERE c.relkind = 'v' AND n.nspname = 'public' AND {user} ORDER BY 1"),
    ("TABLE", "SELECT {rel} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
              " WHERE c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition AND n.nspname = 'public' AND {user} ORDER BY 1"),
    ("SEQUENCE", "SELECT {rel} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                 " WHERE c.relkind = 'S' AND n.nspname = 'public' AND {user} ORDER BY 1"),
    ("ROUTINE", "SELECT 'public.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'"
                " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
                " AND p.prokind <> 'a' AND " + _USER_SCHEMAS.format(oid="p.oid") +
                # a range type's constructors go with the type
                " AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'i') ORDER BY 1"),
    ("TYPE", "SELECT 'public.' || quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
             " WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd', 'r', 'm') AND t.typelem = 0"
             " AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')"
             " AND NOT EXISTS (SELECT FROM pg_range r WHERE r.rngmultitypid = t.oid) AND "
             + _USER_SCHEMAS.format(oid="t.oid") + " ORDER BY 1"),
    ("EXTENSION", "SELECT quote_ident(extname) FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"),
)
_REL = "'public.' || quote_ident(c.relname)"
# The dump's settings a migration needs: routines may name tables created after them.
_KEPT_SETTINGS = frozenset({"check_function_bodies"})


def write_baseline(settings: Settings) -> tuple[list[Path], list[Path]]:
    """Write the baseline migration for the layout of `settings.path`: the files written, and those
    brought up to date with them (atlas.sum)."""
    url = settings.database_url
    assert url is not None
    layout, directory = target(settings)
    bookkeeping = layout.bookkeeping.table if layout.bookkeeping else None
    up = runnable(dump(url, settings.pg_bindir), bookkeeping)
    down = rollback(url, bookkeeping)
    files, updated = new_migration(settings, NAME)
    if layout.name == "dbmate":
        files[0].write_text(f"-- migrate:up\n{up}\n-- migrate:down\n{down}")
    elif layout.name == "goose":
        files[0].write_text(f"-- +goose Up\n-- +goose StatementBegin\n{up}\n-- +goose StatementEnd\n\n"
                            f"-- +goose Down\n-- +goose StatementBegin\n{down}-- +goose StatementEnd\n")
    else:
        files[0].write_text(up)
        if len(files) > 1:
            files[1].write_text(down)
    if updated:  # hashed again with the dump in place of the new file's stub
        layout.after_new(directory, True)
    discover(directory, layout.name)  # the layout reads back what was written
    return files, updated


def dump(url: str, bindir: Path | None) -> str:
    pg_dump = find_binaries(bindir).bindir / "pg_dump"
    environment = {**os.environ, "PGOPTIONS": "-c default_transaction_read_only=on"}
    try:
        done = subprocess.run([str(pg_dump), "--schema-only", "--no-owner", "--no-privileges", "--dbname", url],
                              capture_output=True, text=True, env=environment, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InfrastructureError(f"pg_dump: {error}") from None
    if done.returncode != 0:
        raise InfrastructureError(f"pg_dump: {without_url(done.stderr.strip(), url)}")
    return done.stdout


def runnable(text: str, bookkeeping: str | None) -> str:
    """The dump as a runner can apply it (see the module's docstring)."""
    try:
        statements = split_script(Script(Path("baseline.sql"), text))
    except SyntaxProblem as problem:
        raise InfrastructureError(f"pg_dump output does not parse at line {problem.line}: {problem.message}") from None
    kept = []
    for statement in statements:
        try:
            [raw] = trees.parse_sql(statement.sql)
        except (parser.ParseError, ValueError):
            kept.append(statement.sql.strip())
            continue
        node = raw.stmt
        if isinstance(node, ast.SelectStmt) and "set_config" in statement.sql:
            continue  # search_path = '': every name in the dump is qualified
        if bookkeeping and f" {bookkeeping}" in f" {' '.join(statement.sql.split())}":
            continue  # the runner's own history table: the runner makes it
        if isinstance(node, ast.VariableSetStmt):
            if node.name in _KEPT_SETTINGS:
                node.is_local = True
                kept.append(RawStream()(node))
            continue  # restore settings (timeouts of 0, client encoding) are not the migration's
        kept.append(statement.sql.strip())
    return "".join(f"{sql.rstrip(';')};\n\n" for sql in kept if sql)


def rollback(url: str, bookkeeping: str | None = None) -> str:
    """DROP ... CASCADE of everything the database holds, from its catalog (read only), but the
    runner's history table (the runner needs it to record the rollback)."""
    lines = []
    try:
        with contextlib.closing(psycopg.connect(url, autocommit=True, options="-c default_transaction_read_only=on")) as conn:
            for kind, query in _DROPS:
                for (name,) in conn.execute(query.format(rel=_REL, user=_USER_SCHEMAS.format(oid="c.oid"))).fetchall():
                    if name != bookkeeping:
                        lines.append(f"DROP {kind} IF EXISTS {name} CASCADE;\n")
    except psycopg.Error as error:
        raise InfrastructureError(f"--database-url: {without_url(str(error), url)}") from None
    return "".join(lines)

