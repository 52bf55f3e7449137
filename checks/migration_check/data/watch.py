"""Which tables a migration's up and rollback can change the rows of, so that only those are
copied and compared: the cost of the data check follows what a migration touches, not the size of
the schema.

A table is watched when a statement of the up or the rollback names it (any statement: ALTER,
RENAME, INSERT ... SELECT, a DELETE's subquery), or when it references a watched table through a
foreign key (an ON DELETE CASCADE or SET NULL reaches it). When the scripts run code whose writes
cannot be seen from the text (DO blocks, CALL, SELECT of a function, EXECUTE), or a watched table
has triggers, every table is watched.
"""

from __future__ import annotations

import functools

import pglast
import psycopg
from pglast import ast, parser, visitors

from migration_check.model import Script
from migration_check.sql import SyntaxProblem, split_script

# Statements that run code the text does not show.
_OPAQUE = frozenset({"DoStmt", "CallStmt", "SelectStmt", "ExecuteStmt"})

_WATCHED = """
WITH RECURSIVE named(oid) AS (
    SELECT coalesce(pg_partition_root(c.oid)::oid, c.oid) FROM pg_class c
    WHERE c.relkind IN ('r', 'p') AND (%(all)s OR c.relname = ANY(%(names)s))
      AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
      AND c.relpersistence <> 't'
  UNION
    SELECT coalesce(pg_partition_root(con.conrelid)::oid, con.conrelid)
    FROM pg_constraint con JOIN named ON con.confrelid = named.oid WHERE con.contype = 'f'
)
SELECT DISTINCT oid, EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = named.oid AND NOT t.tgisinternal)
FROM named
"""


class _Names(visitors.Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
        if node.relname:
            self.names.add(node.relname)


@functools.lru_cache(maxsize=4096)
def statement_names(sql: str) -> frozenset[str]:
    try:
        parsed = pglast.parse_sql(sql)
    except parser.ParseError:
        return frozenset()
    names = _Names()
    for raw in parsed:
        if raw.stmt is not None:
            names(raw.stmt)
    return frozenset(names.names)


def named_tables(scripts: list[Script | None]) -> tuple[set[str], bool]:
    """The table names the scripts' statements mention, and whether some statement runs code the
    text does not show (then every table counts as touched)."""
    names: set[str] = set()
    opaque = False
    for script in scripts:
        if script is None:
            continue
        try:
            statements = split_script(script)
        except SyntaxProblem:
            return names, True
        for statement in statements:
            opaque = opaque or statement.node in _OPAQUE
            names |= statement_names(statement.sql)
    return names, opaque


def watched_tables(conn: psycopg.Connection, scripts: list[Script | None]) -> list[int]:
    """The oids of the tables whose rows the scripts may change (partitions through their root)."""
    names, opaque = named_tables(scripts)
    if not names and not opaque:
        return []
    rows = conn.execute(_WATCHED, {"all": opaque, "names": sorted(names)}).fetchall()
    if not opaque and any(has_triggers for _, has_triggers in rows):
        rows = conn.execute(_WATCHED, {"all": True, "names": []}).fetchall()
    return sorted(oid for oid, _ in rows)
