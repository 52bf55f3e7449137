"""Whether every row satisfies the constraints of its table: foreign keys (valid or NOT VALID),
check constraints and NOT NULL. PostgreSQL itself trusts a constraint once created, so a rollback
that runs with `session_replication_role = replica`, or drops and re-adds a constraint as NOT
VALID, can leave rows that break it while the catalog says all is well. Every check here is a
query in the database (counts and one example row), never rows fetched into Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from migration_check.sql.prepared import Prepared, literal, run


def _qualified(oid: str) -> str:
    """A table's name as the schema snapshot prints it: schema.table, each part quoted if needed."""
    return ("(SELECT quote_ident(n.nspname) || '.' || quote_ident(r.relname) FROM pg_class r"
            f" JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = {oid})")


# Foreign keys and checks of the tables asked about, and of the tables that reference them.
# Through indexes only, table by table (names, then a table's constraints, then pg_depend for the
# keys into it; LATERAL ... OFFSET 0 fixes that order for the plan prepared while the catalogs were
# small): the cost follows the tables asked about, not the schema.
_CONSTRAINTS = Prepared(f"""
WITH named AS MATERIALIZED (SELECT oid FROM pg_class WHERE relname = ANY($1)),
constraints AS MATERIALIZED (
    SELECT k.oid FROM named CROSS JOIN LATERAL (
        SELECT con.oid FROM pg_constraint con WHERE con.conrelid = named.oid OFFSET 0) k
    UNION
    SELECT k.objid FROM named CROSS JOIN LATERAL (
        SELECT d.objid FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = named.oid
          AND (d.classid = 'pg_constraint'::regclass) IS TRUE  -- (no index condition: pg_depend by classid is O(schema))
        OFFSET 0) k
)
SELECT con.conname, con.contype, {_qualified("con.conrelid")}, {_qualified("con.confrelid")},
       array(SELECT quote_ident(a.attname) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       array(SELECT quote_ident(a.attname) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       pg_get_constraintdef(con.oid)
FROM constraints k
CROSS JOIN LATERAL (SELECT * FROM pg_constraint WHERE oid = k.oid OFFSET 0) con
CROSS JOIN LATERAL (SELECT oid, relnamespace FROM pg_class WHERE oid = con.conrelid OFFSET 0) c
WHERE con.contype IN ('f', 'c') AND con.conparentid = 0
  AND (c.oid IN (SELECT oid FROM named) OR con.confrelid IN (SELECT oid FROM named))
  AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
ORDER BY 3, 1
""", "name[]")
_NOT_NULL = Prepared(f"""
SELECT {_qualified("c.oid")}, quote_ident(a.attname)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attnotnull
  AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
ORDER BY 1, 2
""", "name[]")


@dataclass(frozen=True)
class Violation:
    subject: str  # "constraint orders_user_id_fkey on public.orders", "column public.users.email"
    rows: int
    example: str  # one offending row, as PostgreSQL prints it
    broken: str  # what is wrong with them: "with no matching row in public.users", "with NULL"

    def __str__(self) -> str:
        return f"{self.subject}: {self.rows} row{'s' if self.rows != 1 else ''} {self.broken} (e.g. {self.example})"


def violations(conn: psycopg.Connection, tables: set[str]) -> list[Violation]:
    """Every constraint of `tables` (and every foreign key into them) that some row breaks."""
    if not tables:
        return []
    checks: list[tuple[str, str, sql.Composable]] = []
    named = literal(sorted(tables))
    constraints, not_null = run(conn, [(_CONSTRAINTS, [named]), (_NOT_NULL, [named])], indexed=True)
    for name, kind, table, parent, columns, parent_columns, definition in constraints:
        subject = f"constraint {name} on {table}"
        if kind == "f":
            checks.append((subject, f"with no matching row in {parent}", _orphans(table, parent, columns, parent_columns)))
        else:
            checks.append((subject, "failing it", _failing_check(table, definition)))
    for table, column in not_null:
        checks.append((f"column {table}.{column}", "with NULL, though it is NOT NULL",
                       sql.SQL("FROM {} t WHERE t.{} IS NULL").format(sql.SQL(table), sql.SQL(column))))
    if not checks:
        return []
    # One round trip: a count and one example row per constraint.
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("(SELECT {}::int, count(*), min(t::text) {})").format(sql.Literal(index), where)
        for index, (_, _, where) in enumerate(checks))
    found = []
    for index, rows, example in conn.execute(query).fetchall():
        if rows:
            subject, broken, _ = checks[index]
            found.append(Violation(subject, rows, example, broken))
    return found


def _orphans(table: str, parent: str, columns: list[str], parent_columns: list[str]) -> sql.Composable:
    """Rows whose key is complete (MATCH SIMPLE: a NULL part means no reference) and matches no parent."""
    present = sql.SQL(" AND ").join(sql.SQL("t.{} IS NOT NULL").format(sql.SQL(c)) for c in columns)
    match = sql.SQL(" AND ").join(sql.SQL("p.{} = t.{}").format(sql.SQL(pc), sql.SQL(c))
                                  for c, pc in zip(columns, parent_columns, strict=True))
    return sql.SQL("FROM {} t WHERE {} AND NOT EXISTS (SELECT FROM {} p WHERE {})").format(
        sql.SQL(table), present, sql.SQL(parent), match)


def _failing_check(table: str, definition: str) -> sql.Composable:
    """Rows for which the CHECK is false (NULL passes, as in PostgreSQL)."""
    expression = definition.removeprefix("CHECK ").removesuffix(" NOT VALID").removesuffix(" NO INHERIT")
    return sql.SQL("FROM {} t WHERE NOT coalesce({}, true)").format(sql.SQL(table), sql.SQL(expression))
