"""The tool's prepared catalog queries stay in proportion to what they are asked about once the
schema grows: they are prepared while the catalogs are small (at the first migration), and a
generic plan made then would otherwise read whole catalogs at every later migration. Checked on
the plans PostgreSQL actually ran (rows read by each scan), never on times."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from migration_check.data import catalog, changes, code, constraints, watch
from migration_check.families import lock_reach, locks
from migration_check.schema import logged
from migration_check.sql import prepared
from migration_check.sql.prepared import Prepared

TABLES = 150  # each with a foreign key, an index, an enum column and a trigger: a few thousand catalog rows
SMALL = 5  # most any scan may read when asked about two tables


def grow(conn: psycopg.Connection, start: int, stop: int) -> None:
    conn.execute("".join(
        f"CREATE TYPE mood_{i} AS ENUM ('ok');"
        f"CREATE TABLE parent_{i} (id int PRIMARY KEY);"
        f"CREATE TABLE child_{i} (id int PRIMARY KEY, parent_id int REFERENCES parent_{i}, mood mood_{i});"
        f"CREATE INDEX child_{i}_parent ON child_{i} (parent_id);"
        f"CREATE TRIGGER child_{i}_touch BEFORE UPDATE ON child_{i} FOR EACH ROW EXECUTE FUNCTION touch();"
        for i in range(start, stop)))


def scanned(plan: dict) -> Iterator[tuple[str, float]]:
    """(node, rows) of every scan of a catalog in the plan, rows counted over all its loops."""
    if "Relation Name" in plan:
        yield f"{plan['Node Type']} on {plan['Relation Name']}", plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1)
    for child in plan.get("Plans", []):
        yield from scanned(child)


def largest_scan(conn: psycopg.Connection, execute: str) -> tuple[str, float]:
    with conn.transaction():
        conn.execute(prepared.settings(conn.info.server_version, indexed=True))
        [[explained]] = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {execute}").fetchone()
    return max(scanned(explained["Plan"]), key=lambda scan: scan[1])


@pytest.fixture
def grown(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
    grow(conn, 0, 2)
    return conn


def oids(conn: psycopg.Connection, *names: str) -> list[int]:
    return [oid for (oid,) in conn.execute("SELECT oid::int8 FROM pg_class WHERE relname = ANY(%s)", (list(names),))]


def test_data_and_lock_queries_read_what_they_are_asked_about(grown: psycopg.Connection) -> None:
    conn = grown
    names = ["parent_1", "child_1"]
    calls: list[tuple[Prepared, object]] = [
        (watch._NAMED_TABLES, (names, False)), (watch._ROW_TYPE_USERS, (names,)), (code._FUNCTION_CODE, (['touch', 'lower'],)), (constraints._CONSTRAINTS, names), (constraints._NOT_NULL, names),
        (lock_reach._NAMED_RELATIONS, None), (catalog._TABLES, 0), (catalog._COLUMNS, None),
        (catalog._FOREIGN_KEYS, None), (catalog._PARTITIONS, None), (changes._TABLES, None),
        (changes._COLUMNS_NOW, ["public.child_1"]), (code._TRIGGER_CODE, None), (locks._FILES, None),
    ]
    for query, argument in calls:  # prepared now, while the catalogs are small
        arguments = argument if isinstance(argument, tuple) else (argument if argument is not None else oids(conn, *names),)
        prepared.fetch(conn, query, *arguments)
    reach = lock_reach._REACHED_RELATIONS  # what a DROP INDEX reaches: its table, the key's parent
    prepared.fetch(conn, reach, oids(conn, "parent_1"), ["child_1_parent"])
    grow(conn, 2, TABLES)
    newest = conn.execute("SELECT max(oid)::int8 - 5 FROM pg_class").fetchone()
    assert newest is not None
    for query, argument in calls:
        if query is catalog._TABLES:
            argument = newest[0]  # the row filler asks for the tables above the last one it saw
        elif argument is None:
            argument = oids(conn, *names)
        literals = ", ".join(prepared.literal(a) for a in (argument if isinstance(argument, tuple) else (argument,)))
        scan = largest_scan(conn, f"EXECUTE {query.name}({literals})")
        assert scan[1] <= SMALL * 4, (query.query.split()[:6], scan)
    arguments = f"{prepared.literal(oids(conn, 'parent_1'))}, {prepared.literal(['child_1_parent'])}"
    scan = largest_scan(conn, f"EXECUTE {reach.name}({arguments})")
    assert scan[1] <= SMALL * 4, scan


def test_the_ddl_log_re_read_reads_what_changed(grown: psycopg.Connection) -> None:
    conn = grown
    session = logged.start_session(conn)
    session.take()
    conn.execute("ALTER TABLE child_1 ADD COLUMN note text")
    session.take()  # the re-read is prepared now, while the catalogs are small
    grow(conn, 2, TABLES)
    session.take()
    captured: list[list[str]] = []
    results = prepared._results

    def capture(cur: psycopg.Cursor, executes: list[str], prepares: object, chosen: str) -> list[list[tuple]]:
        captured.append(executes)
        return results(cur, executes, prepares, chosen)  # type: ignore[arg-type]

    prepared._results = capture  # type: ignore[assignment]
    try:
        conn.execute("ALTER TABLE child_1 DROP COLUMN note; ALTER TYPE mood_1 ADD VALUE 'fine'")
        session.take()
    finally:
        prepared._results = results  # type: ignore[assignment]
    [*_, reread] = captured[-1]
    scan = largest_scan(conn, reread)
    assert scan[1] <= 300, scan  # (a few fixed reads: the built-in schemas' comments)
