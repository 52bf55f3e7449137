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

import psycopg

from migration_check.model import Script
from migration_check.sql import SyntaxProblem, split_script
from migration_check.sql.objects import statement_names

# Statements that run code the text does not show.
_OPAQUE = frozenset({"DoStmt", "CallStmt", "SelectStmt", "ExecuteStmt"})

# {tables}: every table, or those named (through the index on names). Foreign keys into a table are
# found through pg_depend's index on the referenced object: the cost follows the tables named.
_WATCHED = """
WITH RECURSIVE named(oid) AS (
    SELECT coalesce(pg_partition_root(c.oid)::oid, c.oid) FROM pg_class c
    WHERE c.relkind IN ('r', 'p') AND {tables}
      AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
      AND c.relpersistence <> 't'
  UNION
    SELECT coalesce(pg_partition_root(con.conrelid)::oid, con.conrelid)
    FROM named
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = named.oid AND d.classid = 'pg_constraint'::regclass
    JOIN pg_constraint con ON con.oid = d.objid AND con.contype = 'f' AND con.confrelid = named.oid
)
SELECT DISTINCT oid, EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = named.oid AND NOT t.tgisinternal)
FROM named
"""


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
    every, named = _WATCHED.format(tables="true"), _WATCHED.format(tables="c.relname = ANY(%(names)s)")
    rows = conn.execute(every if opaque else named, {"names": sorted(names)}).fetchall()
    if not opaque and any(has_triggers for _, has_triggers in rows):
        rows = conn.execute(every).fetchall()
    return sorted(oid for oid, _ in rows)
