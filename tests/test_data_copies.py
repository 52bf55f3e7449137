"""The copies of the watched tables' rows (data/changes.py): every copy lives in one temporary
table of the tool's session, each under its own number; dropping a copy deletes its rows, and the
table is emptied with TRUNCATE once enough deleted rows have piled up. On a real PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
import pytest

from migration_check.data import changes
from migration_check.data.changes import all_changes, drop_copies, take_copies
from migration_check.servers.base import Database


@pytest.fixture
def tool_session(database: Database) -> Iterator[psycopg.Connection]:
    with contextlib.closing(psycopg.connect(database.conninfo, autocommit=True)) as session:
        yield session


def _oids(conn: psycopg.Connection, *names: str) -> list[int]:
    return [conn.execute("select %s::regclass::oid", (name,)).fetchone()[0] for name in names]  # type: ignore[index]


def _stored(session: psycopg.Connection) -> list[tuple[int, int]]:
    return session.execute("select copy, count(*)::int from pg_temp.migration_check_rows group by 1 order by 1").fetchall()


def test_copies_share_one_table_and_find_what_changed(conn: psycopg.Connection,
                                                      tool_session: psycopg.Connection) -> None:
    conn.execute("create table users (id int primary key, name text); create table notes (body text);"
                 "insert into users select g, 'u' || g from generate_series(1, 5) g;"
                 "insert into notes values ('a'), ('b')")
    copies = take_copies(tool_session, _oids(conn, "users", "notes"), set())
    assert [(c.table, c.rows) for c in copies] == [("public.notes", 2), ("public.users", 5)]
    assert _stored(tool_session) == [(copies[0].number, 2), (copies[1].number, 5)]
    assert not any(all_changes(tool_session, copies))

    conn.execute("update users set name = 'changed' where id = 3; delete from notes where body = 'b'")
    notes, users = all_changes(tool_session, copies)
    assert (notes.missing, notes.extra) == (1, 0)
    assert users.changed_columns == {"name": (1, "id=3: 'u3' became 'changed'")}

    drop_copies(tool_session, copies)
    assert _stored(tool_session) == []
    # The next migration's copies go into the same table.
    again = take_copies(tool_session, _oids(conn, "users"), set())
    assert _stored(tool_session) == [(again[0].number, 5)]
    assert tool_session.execute("select count(*) from pg_class where relname like 'migration_check_rows%'"
                                " and relpersistence = 't'").fetchone() == (1,)


def test_deleted_rows_are_cleared_by_truncate(conn: psycopg.Connection, tool_session: psycopg.Connection,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "_TRUNCATE_AFTER", 12)
    conn.execute("create table t (id int primary key); insert into t select generate_series(1, 5)")
    filenodes = set()
    for _ in range(4):
        copies = take_copies(tool_session, _oids(conn, "t"), set())
        assert not any(all_changes(tool_session, copies))
        filenodes.add(tool_session.execute("select pg_relation_filenode('pg_temp.migration_check_rows')").fetchone())
        drop_copies(tool_session, copies)
        assert _stored(tool_session) == []
    # 5 rows deleted per copy: the third drop passed 12 and emptied the table with a new file.
    assert len(filenodes) == 2
