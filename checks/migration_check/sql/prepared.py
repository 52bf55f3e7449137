"""The tool's own catalog queries, run as prepared statements of the session.

Planning a catalog query of a few joins costs more than running it on the handful of objects one
migration touches (at 300 migrations, the server spent 2.8 of its 12.7 s parsing and planning the
data and lock families' queries). A statement prepared once per session is planned once, with a
generic plan.

psycopg's own preparation is not used: it sends DEALLOCATE ALL after any statement whose status is
DROP, ALTER or ROLLBACK, which a migration runs all the time, and that would throw away the
snapshot's large prepared queries too. These are SQL-level PREPARE and EXECUTE instead, sent in one
simple-protocol message with the settings they need; a statement the server no longer knows (after
a migration's DISCARD ALL or DEALLOCATE ALL) is prepared again.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import pq

# Deparsers then print schema-qualified names whatever the caller's search_path, and string
# literals the same whatever standard_conforming_strings (a migration may turn it off for the
# database: pg_get_expr would double each backslash); and no query is JIT-compiled: the planner's
# estimates for catalog queries cross jit_above_cost as the schema grows, and compiling costs far
# more (hundreds of ms) than running them.
SETTINGS = "SET LOCAL search_path = pg_catalog; SET LOCAL standard_conforming_strings = on; SET LOCAL jit = off"
GENERIC_PLANS = 120000  # plan_cache_mode, from PostgreSQL 12
SAVEPOINT = "migration_check_catalog"


@dataclass(frozen=True)
class Prepared:
    """A query with parameters $1..$n of the given SQL types ("oid[], name[]")."""

    query: str
    types: str = ""

    @property
    def name(self) -> str:
        return statement_name(self.query)

    def prepare(self) -> str:
        return f"PREPARE {self.name}" + (f"({self.types})" if self.types else "") + f" AS {self.query}"


@functools.lru_cache(maxsize=64)
def statement_name(query: str) -> str:
    """A name per query text: server versions and options never share a prepared statement."""
    return "migration_check_" + hashlib.sha1(query.encode()).hexdigest()[:16]


# One call of `run`: a prepared query with its arguments (SQL literals, see `literal`), or a plain
# query (a str) with none.
Call = tuple[Prepared | str, Sequence[str]]


def literal(value: object) -> str:
    """`value` as an untyped SQL literal, in its text form, so that the prepared statement's
    parameter type reads it (an int fits an oid or a regclass parameter; a list of ints, oid[])."""
    if value is None:
        return "NULL"
    if isinstance(value, (list, tuple)):
        return quote_literal("{" + ",".join(_array_element(item) for item in value) + "}")
    return quote_literal(str(value))


# What makes an array element need double quotes in the array's text form (array_in's rules).
_ARRAY_SPECIAL = frozenset('{}",\\ \t\n\r\v\f')


def _array_element(item: object) -> str:
    """`item` as an element of an array literal's text: NULL, or the text, double-quoted (with `"`
    and `\\` escaped) where array_in would read it otherwise."""
    if item is None:
        return "NULL"
    text = str(item)
    if text and text.upper() != "NULL" and _ARRAY_SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_literal(text: str) -> str:
    """`text` as a string literal that the server reads back unchanged whatever its
    standard_conforming_strings (libpq's PQescapeLiteral: with a backslash, an E'' literal with
    backslashes doubled). Plain string work: psycopg's sql.Literal makes an adapter context per
    value, which costs more than the row filler's whole INSERT."""
    quoted = "'" + text.replace("'", "''") + "'"
    return " E" + quoted.replace("\\", "\\\\") if "\\" in text else quoted


def quote_identifier(name: str) -> str:
    """`name` as a quoted identifier, as psql's `:"name"` and Flyway's schema names write it."""
    return '"' + name.replace('"', '""') + '"'


def settings(server_version: int, *, indexed: bool = False) -> str:
    """The settings for the prepared queries: always a generic plan (planning anew for each set of
    arguments costs more than running); `indexed`: index scans only. A generic plan is made once,
    often while the catalogs are small: each query fixes its join order where it matters (LATERAL
    ... OFFSET 0, one row at a time through an index), so that it never reads a catalog whole once
    the schema grows (tests/test_query_plans.py checks the plans run)."""
    chosen = SETTINGS
    if server_version >= GENERIC_PLANS:
        chosen += "; SET LOCAL plan_cache_mode = force_generic_plan"
    if indexed:
        chosen += "; SET LOCAL enable_seqscan = off"
    return chosen


def fetch(conn: psycopg.Connection, prepared: Prepared, *arguments: object, indexed: bool = True) -> list[tuple]:
    """The rows of one prepared query with these arguments."""
    [rows] = run(conn, [(prepared, [literal(argument) for argument in arguments])], indexed=indexed)
    return rows


def run(conn: psycopg.Connection, calls: Sequence[Call], *, indexed: bool = False) -> list[list[tuple]]:
    """Run the calls in one message, each a prepared query with its arguments (SQL literals) or a
    plain query (a str, no arguments); the rows of each call that returns rows, in order."""
    executes = [call if isinstance(call, str) else
                f"EXECUTE {call.name}" + (f"({', '.join(arguments)})" if arguments else "")
                for call, arguments in calls]
    chosen = settings(conn.info.server_version, indexed=indexed)
    with conn.cursor() as cur:
        try:
            return _results(cur, executes, (), chosen)
        except psycopg.errors.InvalidSqlStatementName:
            known = {name for (name,) in cur.execute("SELECT name FROM pg_prepared_statements", prepare=False)}
            missing = [call.prepare() for call, _ in calls if isinstance(call, Prepared) and call.name not in known]
            return _results(cur, executes, missing, chosen)


def _results(cur: psycopg.Cursor, executes: list[str], prepares: Sequence[str], chosen: str) -> list[list[tuple]]:
    statements = "; ".join([*prepares, *executes])
    if cur.connection.info.transaction_status == pq.TransactionStatus.IDLE:
        # Several statements in one simple-protocol message run as one implicit transaction,
        # which SET LOCAL is scoped to: no BEGIN/COMMIT round trips.
        cur.execute(f"{chosen}; {statements}", prepare=False)
        return result_rows(cur)
    # Inside the caller's transaction, a savepoint scopes the settings (and any error), in the same
    # message when all goes well.
    try:
        cur.execute(f"SAVEPOINT {SAVEPOINT}; {chosen}; {statements};"
                    f" ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}", prepare=False)
    except psycopg.Error:
        if cur.connection.info.transaction_status == pq.TransactionStatus.INERROR:
            cur.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}", prepare=False)
        raise
    return result_rows(cur)


def result_rows(cur: psycopg.Cursor) -> list[list[tuple]]:
    """The rows of each result of the message `cur` just ran that returned rows, in order."""
    results = []
    while True:
        if cur.pgresult is not None and cur.pgresult.status == pq.ExecStatus.TUPLES_OK:
            results.append(cur.fetchall())
        if not cur.nextset():
            return results
