"""The DDL log's own cases (schema/logged.py), beyond the differential tests it shares with the probe
(test_schema_incremental.py): what event triggers cannot see, a migration that tampers with the
log, where the log cannot be installed, and the runner telling the session of catalog writes."""

from __future__ import annotations

import contextlib

import psycopg
import pytest

from migration_check.model import Script
from migration_check.schema import take_snapshot
from migration_check.schema.incremental import SnapshotSession
from migration_check.schema.logged import LoggedSnapshotSession, start_session
from migration_check.servers.base import Database
from migration_check.servers.url import UrlProvider
from migration_check.sql.catalog_writes import writes_catalogs
from test_schema_incremental import assert_same


def logged(conn: psycopg.Connection) -> LoggedSnapshotSession:
    session = start_session(conn)
    assert isinstance(session, LoggedSnapshotSession)
    return session


def test_the_log_is_not_part_of_any_snapshot(conn: psycopg.Connection) -> None:
    session = logged(conn)
    snapshot = session.take()
    assert not [key for key in snapshot if key[0] in ("event trigger", "function") and "migration_check" in key[1]]
    conn.execute("CREATE TABLE t (id int)")
    assert session.take() == take_snapshot(conn)


def test_follows_the_log_without_reading_everything(conn: psycopg.Connection) -> None:
    session = logged(conn)
    session.take()
    for step in ("CREATE TABLE a (id int PRIMARY KEY, note text)", "CREATE INDEX a_note ON a (note)",
                 "CREATE TABLE b (a_id int REFERENCES a)", "ALTER TABLE a RENAME COLUMN note TO body",
                 "DROP INDEX a_note", "DROP TABLE b", "DROP TABLE a"):
        conn.execute(step)
        assert_same(session, conn, step)
    assert session.full_refreshes == 1  # the first snapshot only


def test_drops_alone_are_taken_from_the_log_without_a_read(conn: psycopg.Connection) -> None:
    session = logged(conn)
    conn.execute("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
                 "CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT f(), CHECK (n > 0));"
                 "CREATE INDEX t_n ON t (n); CREATE VIEW v AS SELECT id FROM t;"
                 "CREATE TABLE kept (id int); CREATE TABLE part (id int) PARTITION BY RANGE (id);"
                 "CREATE TABLE part_1 PARTITION OF part FOR VALUES FROM (0) TO (10);"
                 "CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE uses (m mood)")
    session.take()
    reads = session.anchors_read
    for step in ("DROP VIEW v", "DROP TABLE part", "DROP TABLE kept"):
        conn.execute(step)
        assert_same(session, conn, step)
    assert session.anchors_read == reads  # only dropped objects: nothing was read
    # What a drop leaves behind changed: read again.
    for step in ("DROP INDEX t_n", "DROP FUNCTION f() CASCADE", "DROP TYPE mood CASCADE", "DROP TABLE t"):
        conn.execute(step)
        assert_same(session, conn, step)
    assert session.anchors_read > reads
    assert session.full_refreshes == 1


def test_statements_outside_a_transaction_block_announce_their_objects(conn: psycopg.Connection) -> None:
    session = logged(conn)
    conn.execute("CREATE TABLE t (id int, note text)")
    session.take()
    for step in ("CREATE INDEX CONCURRENTLY t_note ON t (note)", "REINDEX INDEX CONCURRENTLY t_note",
                 "DROP INDEX CONCURRENTLY t_note", "CREATE MATERIALIZED VIEW mv AS SELECT * FROM t WITH NO DATA",
                 "REFRESH MATERIALIZED VIEW mv", "VACUUM t"):
        conn.execute(step)
        assert_same(session, conn, step)
    assert session.full_refreshes == 1


def test_catalog_writes_are_read_in_full_when_the_runner_says_so(conn: psycopg.Connection) -> None:
    session = logged(conn)
    conn.execute("CREATE TABLE t (name varchar(10))")
    session.take()
    # The old way to widen a varchar: no DDL, so no event trigger fires.
    widen = "UPDATE pg_attribute SET atttypmod = 68 WHERE attrelid = 't'::regclass AND attname = 'name'"
    conn.execute(widen)
    assert session.take() != take_snapshot(conn)  # what the runner's note is for
    session.note_untracked_changes()
    assert_same(session, conn, "after the note")


@pytest.mark.parametrize("tamper", [
    "ALTER EVENT TRIGGER migration_check_ddl_end DISABLE",
    "DROP EVENT TRIGGER migration_check_ddl_drop",
    "UNLISTEN *",
    "DISCARD ALL",
    "CREATE OR REPLACE FUNCTION pg_catalog.migration_check_ddl_log() RETURNS event_trigger LANGUAGE plpgsql"
    " AS $$ BEGIN END $$",
    "SELECT pg_notify('migration_check_ddl', 'not an event')",
])
def test_a_migration_that_disables_the_log_is_caught(conn: psycopg.Connection, tamper: str) -> None:
    session = logged(conn)
    conn.execute("CREATE TABLE keep (id int)")
    session.take()
    conn.execute(tamper)
    conn.execute("CREATE TABLE unseen (id int)")
    conn.execute("DROP TABLE keep")
    assert_same(session, conn, tamper)
    # And the log works again afterwards.
    refreshes = session.full_refreshes
    conn.execute("CREATE TABLE later (id int)")
    assert_same(session, conn, "later")
    conn.execute("ALTER TABLE later ADD COLUMN x int")
    assert_same(session, conn, "later still")
    assert session.full_refreshes <= refreshes + 1


def test_a_renamed_role_is_read_in_full(conn: psycopg.Connection) -> None:
    session = logged(conn)
    conn.execute("CREATE ROLE logged_reader; CREATE TABLE t (id int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
                 " CREATE POLICY p ON t TO logged_reader USING (true)")
    try:
        session.take()
        conn.execute("ALTER ROLE logged_reader RENAME TO logged_renamed")
        assert_same(session, conn, "rename role")
    finally:
        conn.execute("DROP TABLE t")
        for role in ("logged_reader", "logged_renamed"):
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_without_the_right_to_create_event_triggers_the_probe_is_used(conn: psycopg.Connection, database: Database) -> None:
    conn.execute("DROP ROLE IF EXISTS logged_plain; CREATE ROLE logged_plain LOGIN PASSWORD 'pw';"
                 f" GRANT ALL ON DATABASE {conn.info.dbname} TO logged_plain; GRANT ALL ON SCHEMA public TO logged_plain")
    try:
        with contextlib.closing(psycopg.connect(conn.info.dsn, user="logged_plain", password="pw", autocommit=True)) as plain:
            session = start_session(plain)
            assert type(session) is SnapshotSession
            plain.execute("CREATE TABLE mine (id int)")
            assert_same(session, plain, "as a plain role")
    finally:
        conn.execute("DROP OWNED BY logged_plain; DROP ROLE logged_plain")


@pytest.mark.parametrize(("sql", "writes"), [
    ("UPDATE pg_attribute SET atttypmod = 68 WHERE attname = 'name';", True),
    ("update pg_catalog.pg_type set typname = 'x' where false;", True),
    ("CLUSTER users USING users_pkey;", True),
    ("DO $$ BEGIN UPDATE pg_enum SET enumlabel = 'b' WHERE enumlabel = 'a'; END $$;", True),
    ("DO $$ BEGIN PERFORM 1 FROM pg_class WHERE relname = 'orders_2025'; END $$;", False),
    ("UPDATE users SET name = 'x';", False),
    ("CREATE TABLE pg_class_copy (id int);", False),
])
def test_which_scripts_write_the_catalogs(tmp_path: object, sql: str, writes: bool) -> None:
    from pathlib import Path
    assert writes_catalogs(Script(Path("m.sql"), sql)) is writes


def test_a_session_on_a_copy_starts_from_what_the_copied_one_knew(pg_server: Database) -> None:
    # Rebuilds copy a checkpoint (CREATE DATABASE ... TEMPLATE: the same oids); the session on the
    # copy starts from the checkpoint session's state and follows the log from there, without
    # reading the schema whole, and its snapshots are what a full read gives: also of the database's
    # own settings, which do not go with a copy, and of the objects the copy's ups change or drop.
    with UrlProvider(pg_server.conninfo) as original, UrlProvider(pg_server.conninfo) as other:
        with contextlib.closing(psycopg.connect(original.conninfo, autocommit=True)) as conn:
            conn.execute("CREATE TYPE mood AS ENUM ('ok');"
                         "CREATE TABLE a (id int PRIMARY KEY, note text, m mood);"
                         "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a, n int CHECK (n > 0));"
                         "CREATE INDEX b_n ON b (n); CREATE VIEW v AS SELECT id, note FROM a;"
                         "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';"
                         "CREATE TRIGGER b_touch BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION touch();"
                         "CREATE TABLE p (id int) PARTITION BY RANGE (id);"
                         "CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
                         f"ALTER DATABASE {conn.info.dbname} SET work_mem = '5MB'")
            session = logged(conn)
            state = session.state()
            assert state is not None and ("database settings", "") in state.objects
            copied = conn.info.dbname
        with contextlib.closing(psycopg.connect(other.conninfo, autocommit=True)) as admin:
            admin.execute(f"CREATE DATABASE {copied}_copy TEMPLATE {copied}")
        try:
            with contextlib.closing(psycopg.connect(original.conninfo.replace(f"dbname={copied}", f"dbname={copied}_copy"),
                                                    autocommit=True)) as copy:
                session = start_session(copy, copy_of=state)
                assert isinstance(session, LoggedSnapshotSession)
                assert_same(session, copy, "nothing yet")
                # Drops first: what the copied session placed says whose rows they were.
                for step in ("DROP INDEX b_n", "DROP TRIGGER b_touch ON b", "ALTER TABLE a RENAME COLUMN note TO body",
                             "ALTER TYPE mood ADD VALUE 'sad'", "CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM (10) TO (20)",
                             "DROP TABLE b", "CREATE TABLE c (id int PRIMARY KEY, a_id int REFERENCES a)"):
                    copy.execute(step)
                    assert_same(session, copy, step)
                assert session.full_refreshes == 0
        finally:
            with contextlib.closing(psycopg.connect(other.conninfo, autocommit=True)) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {copied}_copy WITH (FORCE)")


def test_a_constraint_made_and_dropped_between_two_snapshots_needs_no_full_read(conn: psycopg.Connection) -> None:
    # ALTER TABLE ... ADD CONSTRAINT announces the table, not the constraint, so no read placed it;
    # its drop names the relation it was part of (a default's, a trigger's and a policy's too).
    session = logged(conn)
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, n int); CREATE TABLE u (id int)")
    session.take()
    conn.execute("ALTER TABLE t ADD CONSTRAINT n_positive CHECK (n > 0); ALTER TABLE t ALTER COLUMN n SET DEFAULT 1;"
                 "ALTER TABLE u ADD CONSTRAINT u_t FOREIGN KEY (id) REFERENCES t;"
                 "CREATE POLICY p ON t USING (true)")
    conn.execute("ALTER TABLE t DROP CONSTRAINT n_positive; ALTER TABLE t ALTER COLUMN n DROP DEFAULT;"
                 "ALTER TABLE u DROP CONSTRAINT u_t; DROP POLICY p ON t")
    assert_same(session, conn, "made and dropped")
    assert session.full_refreshes == 1  # the first snapshot only
    # A drop whose relation goes in the same command: the table's own drop covers it.
    conn.execute("ALTER TABLE t ADD CONSTRAINT n_small CHECK (n < 10); ALTER TABLE u ADD CONSTRAINT u_t FOREIGN KEY (id) REFERENCES t")
    conn.execute("DROP TABLE u; DROP TABLE t CASCADE")
    assert_same(session, conn, "dropped with its table")
    assert session.full_refreshes == 1
