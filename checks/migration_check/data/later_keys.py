"""Foreign keys a later migration adds to columns that exist before it (Prisma's `ALTER TABLE
"Shortcode" ADD CONSTRAINT ... FOREIGN KEY ("creatorUid") REFERENCES "User"("uid")`): the row filler
gives those columns the parent's key values from the start, as the project's own rows hold them
(the key could not be added otherwise), instead of values no parent row has, on which the migration
that adds the key fails and is judged without rows.

A later key is used only where the columns and the parent's have the same types (a value of one is
a value of the other), the parent is another table that exists when the rows are made, no key of the
table is on those columns already, and no migration writes rows of the table (it may be clearing the
rows the key would refuse: those rows are what production holds, and what that migration is for).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import psycopg
from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migration_check.data.catalog import ForeignKey, Table
from migration_check.model import Migration
from migration_check.sql import Statement, readable_statements, trees
from migration_check.sql.catalog_writes import ROW_WRITES
from migration_check.sql.prepared import Prepared, fetch


@dataclass(frozen=True)
class LaterKey:
    schema: str | None  # as the statement names the table (None: not qualified)
    table: str
    columns: tuple[str, ...]  # as PostgreSQL stores the names
    parent_schema: str | None
    parent: str
    parent_columns: tuple[str, ...]  # none: the parent's primary key


def later_keys(migrations: Iterable[Migration]) -> list[LaterKey]:
    """The foreign keys the migrations' ups add to tables with ALTER TABLE ... ADD CONSTRAINT (the
    parent's columns as named, or none: its primary key's, as PostgreSQL takes them). Not on
    a table some up writes rows of (`UPDATE`, `DELETE`, `INSERT`, `MERGE`), nor added by an up with
    a `DO` block: there the project may hold rows the key would refuse, and clear them itself
    (rallly moves the user ids no user has to a new column before its keys): rows that all meet the
    key would leave that path untried."""
    # The texts are only searched to skip the scripts that cannot matter (most of them, in a big
    # project: splitting every script up front cost 0.1 s per 1,000); the parser decides.
    ups = [(migration.up, migration.up.sql.lower()) for migration in migrations if migration.up is not None]
    found: dict[LaterKey, None] = {}
    for script, text in ups:
        if "foreign" not in text:
            continue
        statements = readable_statements(script)
        if any(statement.node == "DoStmt" for statement in statements):
            continue
        for node in _nodes(statements, {"AlterTableStmt"}):
            if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
                found.update(dict.fromkeys(key for command in node.cmds or ()
                                           if (key := _key(node.relation, command)) is not None))
    tables = {key.table for key in found}
    written = {node.relation.relname for script, text in ups if any(table.lower() in text for table in tables)
               for node in _nodes(readable_statements(script), ROW_WRITES)
               if isinstance(node, _WRITES) and node.relation is not None}
    return [key for key in found if key.table not in written]


def _nodes(statements: list[Statement], kinds: Collection[str]) -> list[ast.Node]:
    """The parse trees of the statements of these kinds."""
    return [raw.stmt for statement in statements if statement.node in kinds for raw in trees.statements(statement.sql)
            if raw.stmt is not None]


_WRITES = tuple(getattr(ast, name) for name in sorted(ROW_WRITES))


def _key(relation: ast.RangeVar, command: ast.Node) -> LaterKey | None:
    constraint = getattr(command, "def_", None)
    if (not isinstance(command, ast.AlterTableCmd) or command.subtype != AlterTableType.AT_AddConstraint
            or not isinstance(constraint, ast.Constraint) or constraint.contype != ConstrType.CONSTR_FOREIGN
            or constraint.pktable is None or not constraint.fk_attrs
            or constraint.pk_attrs and len(constraint.fk_attrs) != len(constraint.pk_attrs) or not relation.relname
            or not constraint.pktable.relname):
        return None
    return LaterKey(relation.schemaname, relation.relname, tuple(str(name.sval) for name in constraint.fk_attrs),
                    constraint.pktable.schemaname, constraint.pktable.relname,
                    tuple(str(name.sval) for name in constraint.pk_attrs or ()))


# Each later key on one of the given tables, with its parent (named, or in the child's schema), the
# parent's columns (its primary key's where the key names none, as PostgreSQL takes them) and both
# sides' column types; a column missing on either side leaves its array short.
_RESOLVED = Prepared("""
WITH h AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS h(n int, cs text, ct text, cc text[], ps text, pt text, pc text[])),
k AS (
    SELECT h.*, c.oid AS child, p.oid AS parent, quote_ident(pn.nspname) || '.' || quote_ident(p.relname) AS qualified,
           CASE WHEN cardinality(h.pc) > 0 THEN h.pc ELSE ARRAY(
               SELECT a.attname::text FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY u(n, o)
               JOIN pg_attribute a ON a.attrelid = p.oid AND a.attnum = u.n
               WHERE i.indrelid = p.oid AND i.indisprimary ORDER BY u.o) END AS columns
    FROM h
    JOIN pg_class c ON c.relname = h.ct AND c.oid = ANY($2::oid[])
    JOIN pg_namespace cn ON cn.oid = c.relnamespace AND (h.cs IS NULL OR cn.nspname = h.cs)
    JOIN pg_namespace pn ON pn.nspname = coalesce(h.ps, cn.nspname)
    JOIN pg_class p ON p.relnamespace = pn.oid AND p.relname = h.pt AND p.relkind IN ('r', 'p')
)
SELECT k.n, k.child, k.parent, k.qualified,
       ARRAY(SELECT quote_ident(x) FROM unnest(k.cc) x), ARRAY(SELECT quote_ident(x) FROM unnest(k.columns) x),
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(k.cc) WITH ORDINALITY u(x, i)
             JOIN pg_attribute a ON a.attrelid = k.child AND a.attname = u.x AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY u.i),
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(k.columns) WITH ORDINALITY u(x, i)
             JOIN pg_attribute a ON a.attrelid = k.parent AND a.attname = u.x AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY u.i)
FROM k
ORDER BY k.n
""", "jsonb, oid[]")


def add_later_keys(conn: psycopg.Connection, tables: list[Table], keys: list[LaterKey]) -> None:
    """Give each of `tables` the later keys that apply to it, as foreign keys marked `later`."""
    # Keys on columns a key covers already are left out here, not after the query: most keys a
    # migration adds are on the tables it has just created (Prisma's ALTER TABLE after CREATE TABLE).
    keyed: dict[str, list[set[str]]] = {}
    for table in tables:
        covered = {column for fk in table.foreign_keys for column in fk.columns}
        keyed.setdefault(table.relname, []).append({column.name for column in table.columns if column.quoted in covered})
    wanted = [key for key in keys if any(not covered.intersection(key.columns) for covered in keyed.get(key.table, ()))]
    if not wanted:
        return
    hints = json.dumps([{"n": n, "cs": key.schema, "ct": key.table, "cc": list(key.columns), "ps": key.parent_schema,
                         "pt": key.parent, "pc": list(key.parent_columns)} for n, key in enumerate(wanted)])
    by_oid = {table.oid: table for table in tables}
    try:
        resolved = fetch(conn, _RESOLVED, hints, list(by_oid))
    except psycopg.Error:  # (a catalog the session may not read: the rows are made without them)
        return
    for _, oid, parent_oid, parent, columns, parent_columns, types, parent_types in resolved:
        table = by_oid[oid]
        server_fills = {column.quoted for column in table.columns if column.server_fills}
        if (parent_oid == oid or len(types) != len(columns) or types != parent_types
                or server_fills.intersection(columns)
                or any(set(fk.columns) & set(columns) for fk in table.foreign_keys)):
            continue
        table.foreign_keys.append(ForeignKey(parent_oid, parent, tuple(columns), tuple(parent_columns),
                                             tuple(parent_types), later=True))
