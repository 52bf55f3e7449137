"""Which tables a migration's up and rollback can change the rows of, so that only those are
copied and compared: the cost of the data check follows what a migration touches, not the size of
the schema.

A table is watched when a statement of the up or the rollback names it (any statement: ALTER,
RENAME, DROP, INSERT ... SELECT, a DELETE's subquery), or when it references a watched table through
a foreign key, or when code the migration runs names it: a watched table's triggers, and the
VOLATILE functions of the project's own that an UPDATE, INSERT, DELETE or ALTER TABLE calls, and
the functions those call (data/code.py; a function the scripts create, from its CREATE FUNCTION).
When the scripts run code whose writes cannot be seen from the text (DO blocks, CALL, SELECT of a
function, EXECUTE), drop what tables depend on without naming them (DROP SCHEMA, TYPE, FUNCTION,
EXTENSION ... CASCADE, DROP OWNED), or code they run cannot be read (dynamic EXECUTE, TRUNCATE ...
CASCADE, another language), every table is watched. A relation dropped with CASCADE takes the
columns of its row type with it: the tables that hold them are watched.

Of the tables reached through foreign keys, only those whose key has an action that writes rows
(ON DELETE or ON UPDATE CASCADE, SET NULL, SET DEFAULT) can have their rows changed: a NO ACTION or
RESTRICT key only refuses. Those are left out of the tables whose rows are compared (`changeable`)
unless a TRUNCATE ... CASCADE, which empties every referencing table whatever its key's action,
is among the statements; the lock family still reads them all (a key check locks them). A table that
many others reference (the users table) would otherwise have every migration that touches it copy
and compare all of them.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg
from pglast import ast
from pglast.enums import DropBehavior, ObjectType

from migration_check.data.code import (
    Names,
    called_functions,
    created_functions,
    truncates_cascade,
    written_by_functions,
    written_by_triggers,
)
from migration_check.model import Script
from migration_check.sql import SyntaxProblem, split_script, trees
from migration_check.sql.objects import RELATION_KINDS, dropped_names, statement_names
from migration_check.sql.prepared import Prepared, fetch

# Statements that run code the text does not show.
_OPAQUE = frozenset({"DoStmt", "CallStmt", "SelectStmt", "ExecuteStmt"})
_DROPS = frozenset({"DropStmt", "DropOwnedStmt"})
# Statements that run the functions they call while the migration runs (a default or a USING
# expression of ALTER TABLE on every row); a view's, policy's or trigger's functions run later.
_RUNS_EXPRESSIONS = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "AlterTableStmt",
                               "CreateTableAsStmt", "CopyStmt"})
# What a DROP ... CASCADE of these takes with it holds no column or table but its own.
_DROPS_NO_COLUMN = RELATION_KINDS | {ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY, ObjectType.OBJECT_RULE,
                                     ObjectType.OBJECT_PUBLICATION, ObjectType.OBJECT_EVENT_TRIGGER,
                                     ObjectType.OBJECT_STATISTIC_EXT}

# {tables}: every table, or those named (through the index on names). Foreign keys into a table are
# found through pg_depend's index on the referenced object, table by table (LATERAL ... OFFSET 0
# fixes that order: a plan that joined pg_depend whole would cost what the schema holds).
# Each row: the table, whether it has triggers, whether its rows may change (named, or reached from
# such a table through a key whose action writes rows; every key with {every_key}).
_WATCHED = """
WITH RECURSIVE named(oid, changeable) AS (
    SELECT coalesce(pg_partition_root(c.oid)::oid, c.oid), true FROM pg_class c
    WHERE c.relkind IN ('r', 'p') AND {tables}
      AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
      AND c.relpersistence <> 't'
  UNION
    SELECT coalesce(pg_partition_root(k.conrelid)::oid, k.conrelid), named.changeable AND k.writes
    FROM named CROSS JOIN LATERAL (
        SELECT con.conrelid, con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd') OR {every_key}
        FROM pg_depend d JOIN pg_constraint con ON con.oid = d.objid
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = named.oid
          AND (d.classid = 'pg_constraint'::regclass) IS TRUE  -- (no index condition: pg_depend by classid is O(schema))
          AND con.contype = 'f' AND con.confrelid = named.oid
        OFFSET 0) k(conrelid, writes)
)
SELECT oid, EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = named.oid AND NOT t.tgisinternal OFFSET 0),
       bool_or(changeable)
FROM named GROUP BY oid
"""
_EVERY_TABLE = Prepared(_WATCHED.format(tables="true", every_key="true"))
_NAMED_TABLES = Prepared(_WATCHED.format(tables="c.relname = ANY($1)", every_key="$2"), "name[], bool")
# The tables with a column of a dropped relation's row type: a DROP ... CASCADE drops that column,
# and its values (through arrays, domains and composite types over it too). From the type along
# pg_depend's index on the referenced object, type by type.
_ROW_TYPE_USERS = Prepared("""
WITH RECURSIVE types(oid) AS (
    SELECT c.reltype FROM pg_class c WHERE c.relname = ANY($1) AND c.reltype <> 0
  UNION
    SELECT CASE WHEN d.classid = 'pg_type'::regclass THEN d.objid ELSE r.reltype END
    FROM types CROSS JOIN LATERAL (
        SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
        WHERE d.refclassid = 'pg_type'::regclass AND d.refobjid = types.oid OFFSET 0) d
    LEFT JOIN pg_class r ON d.classid = 'pg_class'::regclass AND d.objsubid > 0 AND r.oid = d.objid AND r.relkind = 'c'
    WHERE d.classid = 'pg_type'::regclass OR r.oid IS NOT NULL
)
SELECT DISTINCT c.relname FROM types CROSS JOIN LATERAL (
    SELECT d.objid FROM pg_depend d
    WHERE d.refclassid = 'pg_type'::regclass AND d.refobjid = types.oid
      AND (d.classid = 'pg_class'::regclass) IS TRUE AND d.objsubid > 0 OFFSET 0) d
JOIN pg_class c ON c.oid = d.objid AND c.relkind IN ('r', 'p')
""", "name[]")


@dataclass(frozen=True)
class Watched:
    """The tables a migration's scripts reach (oids, partitions through their root), and those of
    them whose rows the scripts may change."""

    reached: list[int]
    changeable: list[int]


def named_tables(scripts: list[Script | None]) -> tuple[set[str], bool]:
    """The table names the scripts' statements mention, those they drop included, and whether some
    statement runs code the text does not show (then every table counts as touched)."""
    read = _read(scripts)
    return set(read.names | read.dropped), read.opaque


def mentioned_tables(scripts: list[Script | None]) -> set[str]:
    """The relation names the scripts' statements mention as relations (not what they drop: a seed's
    `DROP TABLE IF EXISTS` needs no table)."""
    return set(_read(scripts).names)


@dataclass(frozen=True)
class _Read:
    names: frozenset[str] = frozenset()  # the relations the statements name
    dropped: frozenset[str] = frozenset()  # the relations they drop
    cascaded: frozenset[str] = frozenset()  # the relations they drop with CASCADE
    opaque: bool = False  # some statement runs code the text does not show
    cascade: bool = False  # some statement is a TRUNCATE ... CASCADE
    called: frozenset[str] = frozenset()  # functions that statements which run them call
    created: Mapping[str, Names] = field(default_factory=dict)  # functions the scripts create, what they name

    def __or__(self, other: _Read) -> _Read:
        return _Read(self.names | other.names, self.dropped | other.dropped, self.cascaded | other.cascaded,
                     self.opaque or other.opaque, self.cascade or other.cascade, self.called | other.called,
                     {**self.created, **other.created})


def _read(scripts: list[Script | None]) -> _Read:
    return functools.reduce(operator.or_, (_read_script(script) for script in scripts if script is not None), _Read())


@functools.lru_cache(maxsize=4096)  # asked of each migration's scripts by the runner's prefetch, the data family, the watch
def _read_script(script: Script) -> _Read:
    try:
        statements = split_script(script)
    except SyntaxProblem:
        return _Read(opaque=True, cascade=True)
    names: set[str] = set()
    dropped: set[str] = set()
    cascaded: set[str] = set()
    called: set[str] = set()
    created: dict[str, Names] = {}
    opaque = cascade = False
    for statement in statements:
        opaque = opaque or statement.node in _OPAQUE or (statement.node in _DROPS and _drops_beyond_names(statement.sql))
        cascade = cascade or (statement.node == "TruncateStmt" and truncates_cascade(statement.sql))
        names |= statement_names(statement.sql)
        if statement.node == "DropStmt":
            dropped |= dropped_names(statement.sql)
            if _cascading_drops(statement.sql):
                cascaded |= dropped_names(statement.sql)
        if statement.node in _RUNS_EXPRESSIONS:
            called |= called_functions(statement.sql)
        elif statement.node == "CreateFunctionStmt":
            created.update(created_functions(statement.sql))
    return _Read(frozenset(names), frozenset(dropped - names), frozenset(cascaded), opaque, cascade, frozenset(called),
                 created)


def _drops_beyond_names(sql: str) -> bool:
    """Whether a DROP can take rows from tables it does not name: DROP OWNED, and a DROP ... CASCADE
    of a schema (its tables), a type, domain, collation or function (the columns of that type, or
    computed by it), an extension (the columns of its types). A relation's CASCADE drops views, keys
    and the columns of its row type (read from the catalog: _ROW_TYPE_USERS), a trigger's, policy's
    or rule's what uses it: no other table's rows."""
    return (any(isinstance(raw.stmt, ast.DropOwnedStmt) for raw in trees.statements(sql))
            or any(drop.removeType not in _DROPS_NO_COLUMN for drop in _cascading_drops(sql)))


def _cascading_drops(sql: str) -> list[ast.DropStmt]:
    return [raw.stmt for raw in trees.statements(sql)
            if isinstance(raw.stmt, ast.DropStmt) and raw.stmt.behavior == DropBehavior.DROP_CASCADE]


def watched_tables(conn: psycopg.Connection, scripts: list[Script | None]) -> Watched:
    """The tables the scripts reach, and those whose rows they may change."""
    text = _read(scripts)
    names = set(text.names | text.dropped)
    if not names and not text.opaque:
        return Watched([], [])
    if text.opaque:
        return _watched(fetch(conn, _EVERY_TABLE, indexed=False))
    written, dynamic = _written_by_calls(conn, text)
    if dynamic:
        return _watched(fetch(conn, _EVERY_TABLE, indexed=False))
    names |= written
    if text.cascaded:
        names |= {name for name, in fetch(conn, _ROW_TYPE_USERS, sorted(text.cascaded))}
    read: set[int] = set()
    while True:
        rows = fetch(conn, _NAMED_TABLES, sorted(names), text.cascade)
        triggered = [oid for oid, has_triggers, _ in rows if has_triggers and oid not in read]
        if not triggered:
            return _watched(rows)
        read.update(triggered)
        written, dynamic = written_by_triggers(conn, triggered)
        if dynamic:
            return _watched(fetch(conn, _EVERY_TABLE, indexed=False))
        if written <= names:
            return _watched(rows)
        names |= written


def _written_by_calls(conn: psycopg.Connection, text: _Read) -> tuple[set[str], bool]:
    """The table names the functions the statements call mention, and whether some may do anything.
    A function the scripts create is read from its CREATE FUNCTION (it is not in the catalog yet),
    and from the catalog too (a call before a CREATE OR REPLACE runs the version there)."""
    names: set[str] = set()
    pending, seen = set(text.called), set()
    while pending:
        seen |= pending
        more: set[str] = set()
        for name in pending:
            if name in text.created:
                found = text.created[name]
                if found is None:
                    return names, True
                names |= found[0]
                more |= found[1]
        pending = more - seen
    written, dynamic = written_by_functions(conn, seen)  # every one, from the catalog too
    return names | written, dynamic


def _watched(rows: list[tuple]) -> Watched:
    return Watched(sorted(oid for oid, _, _ in rows), sorted(oid for oid, _, changeable in rows if changeable))


