"""The incremental snapshot session against the full snapshot, on a real PostgreSQL.

`SnapshotSession.take()` must return exactly what `take_snapshot` returns at the same moment: the
same objects, the same definition texts, the same parents. These differential tests run DDL step
by step and compare the two after every step:

- every round-trip fixture (setup, up, down, up again), one statement at a time;
- targeted sequences for what a naive cache gets wrong: renames that change other objects' printed
  definitions, drops that leave no changed row behind, replacements, re-attachments;
- a seeded random walk over a pool of DDL templates (300 steps each).
"""

from __future__ import annotations

import random
from pathlib import Path

import pglast
import psycopg
import pytest

from migration_check.schema import Snapshot, take_snapshot
from migration_check.schema.incremental import SnapshotSession
from migration_check.schema.logged import LoggedSnapshotSession
from test_schema_snapshot import CLEAN, FORGOTTEN, dropping_new_roles, load


@pytest.fixture(params=["probe", "log"])
def kind(request: pytest.FixtureRequest) -> str:
    """Every test runs with both ways of finding what changed: the catalog probe and the DDL log."""
    return str(request.param)


def new_session(kind: str, conn: psycopg.Connection, grants: bool = False) -> SnapshotSession:
    if kind == "probe":
        return SnapshotSession(conn, owners_and_grants=grants)
    session = LoggedSnapshotSession(conn, owners_and_grants=grants)
    assert session.install()
    return session


def parents(snapshot: Snapshot) -> dict:
    return {key: snapshot.parent(key) for key in snapshot}


def assert_same(session: SnapshotSession, conn: psycopg.Connection, step: str = "") -> Snapshot:
    incremental = session.take()
    full = take_snapshot(conn, owners_and_grants=session.owners_and_grants)
    if dict(incremental) != dict(full):
        missing = sorted(set(full) - set(incremental))
        extra = sorted(set(incremental) - set(full))
        changed = sorted(key for key in set(full) & set(incremental) if full[key] != incremental[key])
        details = [f"not seen: {key} {full[key]}" for key in missing]
        details += [f"stale: {key} {incremental[key]}" for key in extra]
        details += [f"changed: {key}\n  full:        {full[key].text}\n  incremental: {incremental[key].text}"
                    for key in changed]
        pytest.fail(f"incremental snapshot differs after {step!r}:\n" + "\n".join(details))
    assert parents(incremental) == parents(full), step
    return incremental


def statements(script: str | None) -> list[str]:
    return pglast.split(script or "")


def run_checked(session: SnapshotSession, conn: psycopg.Connection, script: str | None, *, may_fail: bool = False) -> None:
    """Run a script statement by statement (as psql does), comparing after every statement."""
    for statement in statements(script):
        try:
            conn.execute(statement, prepare=False)
        except psycopg.Error:
            if not may_fail:
                raise
        assert_same(session, conn, statement)


# -- every round-trip fixture ------------------------------------------------------------------


@pytest.mark.parametrize("grants", [False, True], ids=["plain", "grants"])
@pytest.mark.parametrize("fixture", FORGOTTEN + CLEAN, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_fixture_round_trip(kind: str, conn: psycopg.Connection, fixture: Path, grants: bool) -> None:
    spec = load(fixture)
    session = new_session(kind, conn, grants)
    with dropping_new_roles(conn):
        assert_same(session, conn, "first snapshot")
        run_checked(session, conn, spec.get("setup"))
        run_checked(session, conn, spec["up"])
        run_checked(session, conn, spec["down"])
        # After a rollback that forgets something, up may not apply again.
        run_checked(session, conn, spec["up"], may_fail=True)
        # Without any change in between, too.
        assert_same(session, conn, "again")


# -- targeted sequences ------------------------------------------------------------------------

BASE = """
    CREATE SCHEMA app;
    CREATE TYPE app.mood AS ENUM ('sad', 'ok');
    CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
    CREATE TABLE app.users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL,
                            mood app.mood DEFAULT 'ok', score app.positive, seq_no bigint);
    CREATE SEQUENCE app.counter OWNED BY app.users.seq_no;
    ALTER TABLE app.users ALTER seq_no SET DEFAULT nextval('app.counter');
    CREATE TABLE app.orders (id bigint PRIMARY KEY, user_id bigint CONSTRAINT orders_user_fk REFERENCES app.users,
                             total numeric CONSTRAINT total_positive CHECK (total >= 0));
    CREATE INDEX orders_user_idx ON app.orders (user_id);
    CREATE FUNCTION app.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
    CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
    CREATE INDEX users_email_idx ON app.users (app.norm(email));
    CREATE VIEW app.user_emails AS SELECT id, app.norm(email) AS email, mood FROM app.users;
    ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
    CREATE POLICY users_self ON app.users USING (email = current_user);
    COMMENT ON TABLE app.users IS 'people';
    COMMENT ON COLUMN app.users.email IS 'where to write';
    COMMENT ON INDEX app.orders_user_idx IS 'lookups';
    CREATE STATISTICS app.users_stats ON id, email FROM app.users;
    CREATE RULE orders_noop AS ON DELETE TO app.orders DO ALSO NOTHING;
    CREATE TABLE app.events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
    CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE app.events_2026 (id bigint, at date NOT NULL);
    CREATE TYPE app.pair AS (a integer, b text);
    CREATE MATERIALIZED VIEW app.order_totals AS SELECT user_id, sum(total) AS total FROM app.orders GROUP BY user_id;
"""

TARGETED = {
    "rename table": "ALTER TABLE app.users RENAME TO people; ALTER TABLE app.people RENAME TO users",
    "rename column": "ALTER TABLE app.users RENAME email TO mail; ALTER TABLE app.users RENAME mail TO email",
    "rename referenced column": "ALTER TABLE app.users RENAME id TO user_id",
    "rename schema": "ALTER SCHEMA app RENAME TO application; ALTER SCHEMA application RENAME TO app",
    "rename type": "ALTER TYPE app.mood RENAME TO feeling; ALTER TYPE app.feeling RENAME VALUE 'ok' TO 'fine'",
    "rename domain": "ALTER DOMAIN app.positive RENAME TO strictly_positive",
    "rename constraint": "ALTER TABLE app.orders RENAME CONSTRAINT total_positive TO total_not_negative;"
                         " ALTER TABLE app.orders RENAME CONSTRAINT orders_user_fk TO orders_owner_fk",
    "rename index": "ALTER INDEX app.orders_user_idx RENAME TO orders_by_user",
    "rename function": "ALTER FUNCTION app.norm(text) RENAME TO normalise; ALTER FUNCTION app.touch() RENAME TO touched",
    "rename sequence": "ALTER SEQUENCE app.counter RENAME TO tally",
    "rename trigger and policy": "ALTER TRIGGER users_touch ON app.users RENAME TO users_touched;"
                                 " ALTER POLICY users_self ON app.users RENAME TO users_mine",
    "move to another schema": "CREATE SCHEMA other; ALTER TABLE app.orders SET SCHEMA other;"
                              " ALTER FUNCTION app.norm(text) SET SCHEMA other; ALTER TYPE app.mood SET SCHEMA other",
    "drop comment": "COMMENT ON TABLE app.users IS NULL; COMMENT ON COLUMN app.users.email IS NULL;"
                    " COMMENT ON INDEX app.orders_user_idx IS NULL",
    "change comment": "COMMENT ON TABLE app.users IS 'humans'; COMMENT ON FUNCTION app.norm(text) IS 'lower'",
    "drop trigger": "DROP TRIGGER users_touch ON app.users",
    "drop policy": "DROP POLICY users_self ON app.users",
    "drop index": "DROP INDEX app.orders_user_idx",
    "drop foreign key": "ALTER TABLE app.orders DROP CONSTRAINT orders_user_fk",
    "drop check": "ALTER TABLE app.orders DROP CONSTRAINT total_positive",
    "drop rule and statistics": "DROP RULE orders_noop ON app.orders; DROP STATISTICS app.users_stats",
    "drop view then table": "DROP VIEW app.user_emails; DROP TABLE app.orders CASCADE",
    "drop cascade": "DROP TABLE app.users CASCADE",
    "drop schema cascade": "DROP SCHEMA app CASCADE",
    "enum add value": "ALTER TYPE app.mood ADD VALUE 'happy'; ALTER TYPE app.mood ADD VALUE 'meh' BEFORE 'ok'",
    "column default": "ALTER TABLE app.users ALTER mood SET DEFAULT 'sad'; ALTER TABLE app.users ALTER mood DROP DEFAULT;"
                      " ALTER TABLE app.users ALTER seq_no DROP DEFAULT",
    "column changes": "ALTER TABLE app.users ALTER email DROP NOT NULL; ALTER TABLE app.users ALTER seq_no TYPE integer;"
                      " DROP VIEW app.user_emails; DROP POLICY users_self ON app.users; ALTER TABLE app.users ALTER email TYPE varchar(200);"
                      " ALTER TABLE app.users ALTER email TYPE varchar(300); ALTER TABLE app.users ALTER email TYPE text;"
                      " ALTER TABLE app.users ADD COLUMN nick text; ALTER TABLE app.users DROP COLUMN nick;"
                      " ALTER TABLE app.users ALTER email SET STORAGE EXTERNAL",
    "function replaced": "CREATE OR REPLACE FUNCTION app.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(t) $$;"
                         " ALTER FUNCTION app.touch() SECURITY DEFINER; ALTER FUNCTION app.touch() SET search_path = app",
    "view replaced": "CREATE OR REPLACE VIEW app.user_emails AS SELECT id, app.norm(email) AS email, mood, score FROM app.users;"
                     " ALTER VIEW app.user_emails SET (security_barrier = true)",
    "materialized view": "REFRESH MATERIALIZED VIEW app.order_totals; CREATE INDEX ot_idx ON app.order_totals (user_id);"
                         " DROP MATERIALIZED VIEW app.order_totals",
    "partition detach and attach": "ALTER TABLE app.events DETACH PARTITION app.events_2025;"
                                   " ALTER TABLE app.events ATTACH PARTITION app.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
                                   " ALTER TABLE app.events ATTACH PARTITION app.events_2025 FOR VALUES FROM ('2025-01-01') TO ('2025-06-01');"
                                   " CREATE INDEX events_at_idx ON app.events (at); ALTER TABLE app.events RENAME TO happenings",
    "inheritance": "CREATE TABLE app.base (id bigint); ALTER TABLE app.events_2026 INHERIT app.base;"
                   " ALTER TABLE app.base RENAME TO root; ALTER TABLE app.events_2026 NO INHERIT app.root",
    "extension": "CREATE EXTENSION hstore; ALTER TABLE app.users ADD COLUMN attrs hstore; ALTER TABLE app.users DROP COLUMN attrs;"
                 " DROP EXTENSION hstore; CREATE EXTENSION citext SCHEMA app; ALTER EXTENSION citext SET SCHEMA public",
    "extension member": "CREATE EXTENSION hstore; ALTER EXTENSION hstore DROP FUNCTION hstore_version_diag(hstore);"
                        " ALTER EXTENSION hstore ADD FUNCTION hstore_version_diag(hstore)",
    "sequence options": "ALTER SEQUENCE app.counter INCREMENT 5 MAXVALUE 1000 CYCLE; ALTER SEQUENCE app.counter OWNED BY NONE;"
                        " ALTER SEQUENCE app.counter OWNED BY app.orders.id; ALTER TABLE app.users ALTER id SET INCREMENT BY 3;"
                        " ALTER TABLE app.users ALTER id DROP IDENTITY",
    "domain constraints": "ALTER DOMAIN app.positive ADD CONSTRAINT small CHECK (VALUE < 100);"
                          " ALTER DOMAIN app.positive RENAME CONSTRAINT small TO tiny; ALTER DOMAIN app.positive DROP CONSTRAINT tiny;"
                          " ALTER DOMAIN app.positive SET NOT NULL; ALTER DOMAIN app.positive SET DEFAULT 1",
    "composite type": "ALTER TYPE app.pair ADD ATTRIBUTE c date; ALTER TYPE app.pair RENAME ATTRIBUTE a TO first;"
                      " ALTER TYPE app.pair DROP ATTRIBUTE b; ALTER TYPE app.pair ALTER ATTRIBUTE c TYPE timestamptz",
    "table options": "ALTER TABLE app.users SET (fillfactor = 70); ALTER TABLE app.users REPLICA IDENTITY FULL;"
                     " ALTER TABLE app.users FORCE ROW LEVEL SECURITY; ALTER TABLE app.users DISABLE TRIGGER users_touch;"
                     " ALTER TABLE app.orders SET UNLOGGED; CLUSTER app.orders USING orders_pkey",
    "database and settings": "CREATE COLLATION app.ci FROM \"C\"; ALTER TABLE app.orders ADD COLUMN note text COLLATE app.ci;"
                             " ALTER COLLATION app.ci RENAME TO bytewise;"
                             " DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '8MB'); END $$",
    # What the families read whole print of other objects, and what changes them without a DDL event.
    "read whole": "COMMENT ON SCHEMA app IS 'the app'; CREATE PUBLICATION incr_pub FOR TABLE app.orders;"
                  " ALTER TABLE app.orders RENAME TO purchases; ALTER TABLE app.purchases RENAME TO orders;"
                  " DROP PUBLICATION incr_pub;"
                  " CREATE FUNCTION app.fdw_ok(text[], oid) RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;"
                  " CREATE FOREIGN DATA WRAPPER incr_fdw VALIDATOR app.fdw_ok; ALTER FUNCTION app.fdw_ok(text[], oid) RENAME TO fdw_fine;"
                  " DROP FOREIGN DATA WRAPPER incr_fdw;"
                  " CREATE FUNCTION app.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;"
                  " CREATE EVENT TRIGGER incr_evt ON ddl_command_start EXECUTE FUNCTION app.on_ddl();"
                  " ALTER EVENT TRIGGER incr_evt DISABLE; COMMENT ON EVENT TRIGGER incr_evt IS 'x'; DROP EVENT TRIGGER incr_evt;"
                  " DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET work_mem', current_database()); END $$",
    "transaction rolled back": "BEGIN; DROP TABLE app.orders CASCADE; CREATE TABLE app.tmp (x int); ROLLBACK",
    "drop and recreate same name": "DROP VIEW app.user_emails; CREATE VIEW app.user_emails AS SELECT id FROM app.users;"
                                   " DROP INDEX app.orders_user_idx; CREATE INDEX orders_user_idx ON app.orders (user_id DESC)",
}

ROLE_STEPS = """
    CREATE ROLE incr_reader NOLOGIN;
    CREATE ROLE incr_writer LOGIN IN ROLE incr_reader;
    GRANT SELECT ON app.users TO incr_reader;
    GRANT UPDATE (email) ON app.users TO incr_writer;
    GRANT USAGE ON SCHEMA app TO incr_reader;
    GRANT EXECUTE ON FUNCTION app.norm(text) TO incr_reader;
    REVOKE EXECUTE ON FUNCTION app.norm(text) FROM PUBLIC;
    ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO incr_reader;
    CREATE POLICY readers ON app.orders TO incr_reader USING (true);
    ALTER TABLE app.orders OWNER TO incr_writer;
    ALTER ROLE incr_reader RENAME TO incr_readers;
    ALTER ROLE incr_writer CREATEDB CONNECTION LIMIT 3;
    ALTER ROLE incr_writer SET work_mem = '4MB';
    COMMENT ON ROLE incr_writer IS 'writes';
    REVOKE SELECT ON app.users FROM incr_readers;
    REVOKE UPDATE (email) ON app.users FROM incr_writer;
    ALTER TABLE app.orders OWNER TO CURRENT_USER;
    REVOKE incr_readers FROM incr_writer;
    ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE SELECT ON TABLES FROM incr_readers;
    DROP POLICY readers ON app.orders;
    DROP OWNED BY incr_readers;
    DROP ROLE incr_readers;
"""


@pytest.mark.parametrize("grants", [False, True], ids=["plain", "grants"])
@pytest.mark.parametrize("name", sorted(TARGETED))
def test_targeted(kind: str, conn: psycopg.Connection, name: str, grants: bool) -> None:
    session = new_session(kind, conn, grants)
    conn.execute(BASE)
    assert_same(session, conn, "base")
    run_checked(session, conn, TARGETED[name])


@pytest.mark.parametrize("grants", [False, True], ids=["plain", "grants"])
def test_roles_and_grants(kind: str, conn: psycopg.Connection, grants: bool) -> None:
    session = new_session(kind, conn, grants)
    with dropping_new_roles(conn):
        conn.execute(BASE)
        assert_same(session, conn, "base")
        run_checked(session, conn, ROLE_STEPS)


def test_change_inside_an_open_transaction(kind: str, conn: psycopg.Connection) -> None:
    session = new_session(kind, conn)
    conn.execute(BASE)
    assert_same(session, conn, "base")
    with conn.transaction(force_rollback=True):
        conn.execute("DROP TRIGGER users_touch ON app.users; CREATE TABLE app.inside (x int)")
        assert_same(session, conn, "inside")
    assert_same(session, conn, "after the rollback")


def test_changes_made_by_another_connection(kind: str, conn: psycopg.Connection) -> None:
    session = new_session(kind, conn)
    conn.execute(BASE)
    assert_same(session, conn, "base")
    with psycopg.connect(conn.info.dsn, password=conn.info.password, autocommit=True) as other:
        other.execute("DROP POLICY users_self ON app.users")
        assert_same(session, conn, "drop policy elsewhere")
        # (Not while the other transaction is open: its lock blocks any snapshot, full or not.)
        with other.transaction():
            other.execute("ALTER TABLE app.users RENAME email TO mail")
            other.execute("CREATE INDEX users_mail_idx ON app.users (mail)")
        assert_same(session, conn, "rename elsewhere")


def test_session_reset_between_snapshots(kind: str, conn: psycopg.Connection) -> None:
    session = new_session(kind, conn)
    conn.execute(BASE)
    assert_same(session, conn, "base")
    conn.execute("DISCARD ALL")
    conn.execute("DROP INDEX app.orders_user_idx")
    assert_same(session, conn, "after DISCARD ALL")


# -- random walk -------------------------------------------------------------------------------

NAMES = ("a", "b", "c")
COLUMNS = ("x", "y", "z")
TEMPLATES = (
    "CREATE TABLE t_{n} (id int PRIMARY KEY, x int, y text)",
    "CREATE TABLE t_{n} (id int, x int) PARTITION BY RANGE (x)",
    "CREATE TABLE t_{n}_p PARTITION OF t_{m} FOR VALUES FROM ({i}) TO ({j})",
    "ALTER TABLE t_{n} DETACH PARTITION t_{m}_p",
    "DROP TABLE t_{n} CASCADE",
    "ALTER TABLE t_{n} RENAME TO t_{m}",
    "ALTER TABLE t_{n} ADD COLUMN {c} int DEFAULT {i}",
    "ALTER TABLE t_{n} DROP COLUMN {c}",
    "ALTER TABLE t_{n} RENAME COLUMN {c} TO {d}",
    "ALTER TABLE t_{n} ALTER {c} SET DEFAULT {i}",
    "ALTER TABLE t_{n} ALTER {c} DROP DEFAULT",
    "ALTER TABLE t_{n} ALTER {c} TYPE bigint",
    "ALTER TABLE t_{n} ALTER {c} SET NOT NULL",
    "ALTER TABLE t_{n} ALTER {c} DROP NOT NULL",
    "ALTER TABLE t_{n} ADD CONSTRAINT k_{n} CHECK ({c} > {i})",
    "ALTER TABLE t_{n} DROP CONSTRAINT k_{n}",
    "ALTER TABLE t_{n} ADD CONSTRAINT fk_{n} FOREIGN KEY ({c}) REFERENCES t_{m} (id)",
    "ALTER TABLE t_{n} DROP CONSTRAINT fk_{n}",
    "CREATE INDEX i_{n} ON t_{m} ({c})",
    "DROP INDEX i_{n}",
    "ALTER INDEX i_{n} RENAME TO i_{m}",
    "COMMENT ON TABLE t_{n} IS 'note {i}'",
    "COMMENT ON TABLE t_{n} IS NULL",
    "COMMENT ON COLUMN t_{n}.{c} IS 'col {i}'",
    "COMMENT ON INDEX i_{n} IS 'idx {i}'",
    "CREATE VIEW v_{n} AS SELECT * FROM t_{m}",
    "CREATE OR REPLACE VIEW v_{n} AS SELECT id, {c} FROM t_{m}",
    "DROP VIEW v_{n}",
    "ALTER VIEW v_{n} RENAME TO v_{m}",
    "CREATE FUNCTION f_{n}(v int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT v + {i}'",
    "CREATE OR REPLACE FUNCTION f_{n}(v int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT v * {i}'",
    "DROP FUNCTION f_{n}(int) CASCADE",
    "ALTER FUNCTION f_{n}(int) RENAME TO f_{m}",
    "CREATE INDEX e_{n} ON t_{m} (f_{n}({c}))",
    "CREATE FUNCTION tg_{n}() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
    "CREATE TRIGGER tr_{n} BEFORE INSERT ON t_{m} FOR EACH ROW EXECUTE FUNCTION tg_{n}()",
    "DROP TRIGGER tr_{n} ON t_{m}",
    "ALTER FUNCTION tg_{n}() RENAME TO tg_{m}",
    "CREATE POLICY p_{n} ON t_{m} USING ({c} > {i})",
    "DROP POLICY p_{n} ON t_{m}",
    "ALTER TABLE t_{n} ENABLE ROW LEVEL SECURITY",
    "CREATE TYPE e_{n} AS ENUM ('one', 'two')",
    "ALTER TYPE e_{n} ADD VALUE IF NOT EXISTS 'v{i}'",
    "ALTER TYPE e_{n} RENAME TO e_{m}",
    "ALTER TABLE t_{n} ADD COLUMN {c} e_{m}",
    "DROP TYPE e_{n} CASCADE",
    "CREATE DOMAIN d_{n} AS int CHECK (VALUE > {i})",
    "ALTER DOMAIN d_{n} ADD CONSTRAINT dc_{n} CHECK (VALUE < 1000)",
    "ALTER DOMAIN d_{n} DROP CONSTRAINT dc_{n}",
    "ALTER TABLE t_{n} ADD COLUMN {c} d_{m}",
    "DROP DOMAIN d_{n} CASCADE",
    "CREATE SEQUENCE s_{n} START {i}",
    "ALTER SEQUENCE s_{n} OWNED BY t_{m}.{c}",
    "ALTER SEQUENCE s_{n} OWNED BY NONE",
    "ALTER SEQUENCE s_{n} INCREMENT BY {i}",
    "ALTER TABLE t_{n} ALTER {c} SET DEFAULT nextval('s_{m}')",
    "DROP SEQUENCE s_{n} CASCADE",
    "CREATE SCHEMA sc_{n}",
    "ALTER SCHEMA sc_{n} RENAME TO sc_{m}",
    "ALTER TABLE t_{n} SET SCHEMA sc_{m}",
    "ALTER TABLE sc_{n}.t_{m} SET SCHEMA public",
    "DROP SCHEMA sc_{n} CASCADE",
    "CREATE RULE r_{n} AS ON DELETE TO t_{m} DO ALSO NOTHING",
    "DROP RULE r_{n} ON t_{m}",
    "CREATE STATISTICS st_{n} ON id, {c} FROM t_{m}",
    "DROP STATISTICS st_{n}",
    "GRANT SELECT ON t_{n} TO PUBLIC",
    "REVOKE SELECT ON t_{n} FROM PUBLIC",
    "GRANT UPDATE ({c}) ON t_{n} TO PUBLIC",
    "REVOKE EXECUTE ON FUNCTION f_{n}(int) FROM PUBLIC",
    "CREATE EXTENSION IF NOT EXISTS hstore",
    "DROP EXTENSION IF EXISTS hstore CASCADE",
    "ALTER TABLE t_{n} ADD COLUMN {c} hstore",
    "CREATE TYPE c_{n} AS ({c} int, w text)",
    "ALTER TYPE c_{n} RENAME ATTRIBUTE {c} TO {d}",
    "ALTER TABLE t_{n} INHERIT t_{m}",
    "ALTER TABLE t_{n} NO INHERIT t_{m}",
    "ALTER TABLE t_{n} OWNER TO CURRENT_USER",
    "CREATE MATERIALIZED VIEW mv_{n} AS SELECT id FROM t_{m} WITH NO DATA",
    "REFRESH MATERIALIZED VIEW mv_{n}",
    "BEGIN; DROP TABLE t_{n} CASCADE; ROLLBACK",
)


@pytest.mark.parametrize(("seed", "grants"), [(1, False), (2, True), (3, True)])
def test_random_walk(kind: str, conn: psycopg.Connection, seed: int, grants: bool) -> None:
    rng = random.Random(seed)
    session = new_session(kind, conn, grants)
    assert_same(session, conn, "first snapshot")
    ran = 0
    for _ in range(300):
        template = rng.choice(TEMPLATES)
        c, d = rng.sample(COLUMNS, 2)
        statement = template.format(n=rng.choice(NAMES), m=rng.choice(NAMES), c=c, d=d,
                                    i=rng.randrange(1, 50), j=rng.randrange(50, 100))
        try:
            conn.execute(statement, prepare=False)
            ran += 1
        except psycopg.Error:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            continue  # an autocommit statement that fails changes nothing
        # Not after every step: the session must also catch up on several changes at once.
        if rng.random() < 0.7:
            assert_same(session, conn, statement)
    assert_same(session, conn, "end")
    assert ran > 60
    # Most snapshots were incremental (a full refresh only for extensions and the like).
    assert session.full_refreshes < ran / 4, (session.full_refreshes, ran)
