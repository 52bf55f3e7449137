"""The schema snapshot and diff, on a real PostgreSQL.

Every YAML file under fixtures/roundtrip/ is one migration with its rollback:

- forgotten/<kind>.yml: the rollback forgets or breaks one kind of object; the rollback messages
  must contain every `expect` substring (each names the object).
- clean/<name>.yml: a faithful rollback; no differences after up+down, and a second up gives the
  same schema as the first.

Scripts run statement by statement in autocommit, as psql runs a file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pglast
import psycopg
import pytest
import yaml
from psycopg import sql

from migration_check.schema import (
    Difference,
    Snapshot,
    describe_reapply,
    describe_rollback,
    diff_snapshots,
    take_snapshot,
)

ROUNDTRIP = Path(__file__).parent / "fixtures" / "roundtrip"
FORGOTTEN = sorted((ROUNDTRIP / "forgotten").glob("*.yml"))
CLEAN = sorted((ROUNDTRIP / "clean").glob("*.yml"))


def run_script(conn: psycopg.Connection, script: str | None) -> None:
    for statement in pglast.split(script or ""):
        conn.execute(statement, prepare=False)


def role_names(conn: psycopg.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT rolname FROM pg_roles")}


@contextlib.contextmanager
def dropping_new_roles(conn: psycopg.Connection) -> Iterator[None]:
    """Roles are cluster-wide and outlive the test's database: drop the ones the test made."""
    existing = role_names(conn)
    try:
        yield
    finally:
        for name in sorted(role_names(conn) - existing):
            role = sql.Identifier(name)
            conn.execute(sql.SQL("DROP OWNED BY {}").format(role))
            conn.execute(sql.SQL("DROP ROLE {}").format(role))


def load(fixture: Path) -> dict:
    spec = yaml.safe_load(fixture.read_text())
    assert set(spec) <= {"setup", "up", "down", "expect"}, fixture
    return spec


def snapshots_around(conn: psycopg.Connection, spec: dict) -> tuple[Snapshot, Snapshot, Snapshot]:
    run_script(conn, spec.get("setup"))
    before = take_snapshot(conn)
    run_script(conn, spec["up"])
    after_up = take_snapshot(conn)
    run_script(conn, spec["down"])
    return before, after_up, take_snapshot(conn)


# -- the fixtures ------------------------------------------------------------------------------


def test_there_is_a_fixture_for_every_kind() -> None:
    assert len(FORGOTTEN) >= 40 and len(CLEAN) >= 10


@pytest.mark.parametrize("fixture", FORGOTTEN, ids=lambda path: path.stem)
def test_forgotten_object_is_named(conn: psycopg.Connection, fixture: Path) -> None:
    spec = load(fixture)
    assert spec["expect"], "a forgotten fixture must expect something"
    with dropping_new_roles(conn):
        before, after_up, after_down = snapshots_around(conn, spec)
    assert diff_snapshots(before, after_up), "up changed nothing the snapshot sees"
    messages = describe_rollback(diff_snapshots(before, after_down))
    text = "\n".join(messages)
    for expected in spec["expect"]:
        assert expected in text, f"{expected!r} not in:\n{text}"


@pytest.mark.parametrize("fixture", CLEAN, ids=lambda path: path.stem)
def test_clean_roundtrip_has_no_differences(conn: psycopg.Connection, fixture: Path) -> None:
    spec = load(fixture)
    with dropping_new_roles(conn):
        before, after_up, after_down = snapshots_around(conn, spec)
        assert diff_snapshots(before, after_up), "up changed nothing the snapshot sees"
        assert describe_rollback(diff_snapshots(before, after_down)) == []
        run_script(conn, spec["up"])
        again = take_snapshot(conn)
        assert describe_reapply(diff_snapshots(after_up, again)) == []


# -- snapshot behaviour ------------------------------------------------------------------------


def test_empty_database_holds_only_what_initdb_made(conn: psycopg.Connection) -> None:
    kinds = {kind for kind, _ in take_snapshot(conn)}
    assert kinds <= {"schema", "extension", "role"}
    assert ("schema", "public") in take_snapshot(conn)
    assert ("extension", "plpgsql") in take_snapshot(conn)


def test_names_do_not_depend_on_the_session_search_path(conn: psycopg.Connection) -> None:
    run_script(conn, """
        CREATE SCHEMA app;
        CREATE TABLE app.users (id bigint PRIMARY KEY, email text);
        CREATE INDEX users_email_idx ON app.users (lower(email));
        CREATE FUNCTION app.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
        CREATE VIEW app.emails AS SELECT app.norm(email) AS email FROM app.users;
    """)
    default = take_snapshot(conn)
    conn.execute("SET search_path = app, public")
    inside = take_snapshot(conn)
    assert conn.execute("SHOW search_path").fetchone() == ("app, public",)
    assert dict(default) == dict(inside)
    assert ("column", "app.users.email") in inside
    assert ("function", "app.norm(text)") in inside
    assert "app.users" in inside[("index", "app.users_email_idx")].fields["definition"]


def test_snapshot_inside_an_open_transaction_leaves_it_open_and_untouched(conn: psycopg.Connection) -> None:
    run_script(conn, "CREATE TABLE users (id int)")
    with conn.transaction():
        conn.execute("SET LOCAL search_path = public")
        conn.execute("CREATE TABLE uncommitted (id int)")
        snapshot = take_snapshot(conn)
        assert conn.execute("SHOW search_path").fetchone() == ("public",)
    assert ("table", "public.uncommitted") in snapshot


def test_snapshot_survives_a_session_reset(conn: psycopg.Connection) -> None:
    run_script(conn, "CREATE TABLE users (id int)")
    first = take_snapshot(conn)
    conn.execute("DISCARD ALL")
    assert take_snapshot(conn) == first
    with conn.transaction():
        conn.execute("DEALLOCATE ALL")
        assert take_snapshot(conn) == first
        conn.execute("SELECT 1")  # the transaction is still usable


def test_extension_members_are_represented_by_the_extension(conn: psycopg.Connection) -> None:
    before = take_snapshot(conn)
    run_script(conn, "CREATE EXTENSION hstore")
    after = take_snapshot(conn)
    assert [(d.kind, d.name, d.change) for d in diff_snapshots(before, after)] == [("extension", "hstore", "extra")]


def test_foreign_key_to_a_partitioned_table_is_one_constraint(conn: psycopg.Connection) -> None:
    run_script(conn, """
        CREATE TABLE accounts (id int PRIMARY KEY) PARTITION BY RANGE (id);
        CREATE TABLE accounts_1 PARTITION OF accounts FOR VALUES FROM (0) TO (1000);
        CREATE TABLE accounts_2 PARTITION OF accounts FOR VALUES FROM (1000) TO (2000);
        CREATE TABLE payments (account_id int REFERENCES accounts);
    """)
    snapshot = take_snapshot(conn)
    fks = [name for kind, name in snapshot if kind == "constraint" and name.startswith("payments_account_id_fkey")]
    assert fks == ["payments_account_id_fkey on public.payments"]


def test_objects_cloned_onto_partitions_go_with_their_parent(conn: psycopg.Connection) -> None:
    run_script(conn, """
        CREATE TABLE users (id bigint PRIMARY KEY);
        CREATE TABLE events (id bigint, user_id bigint, at date) PARTITION BY RANGE (at);
        CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    """)
    before = take_snapshot(conn)
    run_script(conn, """
        ALTER TABLE events ADD CONSTRAINT events_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);
        CREATE INDEX events_user_id_idx ON events (user_id);
        CREATE TRIGGER events_noop BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION noop();
    """)
    after = take_snapshot(conn)
    assert ("index", "public.events_2025_user_id_idx") in after
    assert ("trigger", "events_noop on public.events_2025") in after
    assert describe_rollback(diff_snapshots(before, after)) == [
        "constraint events_user_id_fkey on public.events: left behind by rollback",
        "index public.events_user_id_idx: left behind by rollback",
        "trigger events_noop on public.events: left behind by rollback",
    ]


def test_internal_names_and_oids_do_not_matter(conn: psycopg.Connection) -> None:
    ddl = """
        CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, bio text);
        CREATE INDEX users_bio_idx ON users (bio) WHERE bio IS NOT NULL;
        CREATE VIEW user_emails AS SELECT id, email FROM users;
    """
    run_script(conn, ddl)
    first = take_snapshot(conn)
    run_script(conn, "DROP TABLE users CASCADE")
    run_script(conn, ddl)
    assert diff_snapshots(first, take_snapshot(conn)) == []


# -- column position ---------------------------------------------------------------------------


READD_MIDDLE_COLUMN = """
    ALTER TABLE users DROP COLUMN nickname;
    ALTER TABLE users ADD COLUMN nickname text;
"""


def test_column_position_is_ignored_by_default(conn: psycopg.Connection) -> None:
    run_script(conn, "CREATE TABLE users (id int, nickname text, email text)")
    before = take_snapshot(conn)
    run_script(conn, READD_MIDDLE_COLUMN)
    assert diff_snapshots(before, take_snapshot(conn)) == []


def test_column_position_counts_when_strict(conn: psycopg.Connection) -> None:
    run_script(conn, "CREATE TABLE users (id int, nickname text, email text)")
    before = take_snapshot(conn)
    run_script(conn, READD_MIDDLE_COLUMN)
    messages = describe_rollback(diff_snapshots(before, take_snapshot(conn), strict_column_order=True))
    assert messages == [
        "column public.users.email: position 2, was 3",
        "column public.users.nickname: position 3, was 2",
    ]


def test_readding_the_last_column_keeps_its_position_even_when_strict(conn: psycopg.Connection) -> None:
    run_script(conn, "CREATE TABLE users (id int, email text, nickname text)")
    before = take_snapshot(conn)
    run_script(conn, READD_MIDDLE_COLUMN)
    assert diff_snapshots(before, take_snapshot(conn), strict_column_order=True) == []


# -- owners and grants -------------------------------------------------------------------------


def test_owners_and_grants_are_compared_only_when_asked(conn: psycopg.Connection) -> None:
    with dropping_new_roles(conn):
        run_script(conn, "CREATE ROLE snapshot_reader; CREATE TABLE users (id int, email text)")
        before = take_snapshot(conn, owners_and_grants=True)
        plain = take_snapshot(conn)
        run_script(conn, "GRANT SELECT ON users TO snapshot_reader; GRANT UPDATE (email) ON users TO snapshot_reader")
        assert diff_snapshots(plain, take_snapshot(conn)) == []
        messages = describe_rollback(diff_snapshots(before, take_snapshot(conn, owners_and_grants=True)))
        owner = "arwdDxtm" if conn.info.server_version >= 170000 else "arwdDxt"  # 17 added MAINTAIN
        assert messages == [
            f"table public.users: privileges postgres={owner}/postgres, snapshot_reader=r/postgres, was postgres={owner}/postgres",
            "column public.users.email: privileges snapshot_reader=w/postgres, was (none)",
        ]
        run_script(conn, "ALTER TABLE users OWNER TO snapshot_reader")
        owner = diff_snapshots(before, take_snapshot(conn, owners_and_grants=True))
        assert ("owner", "postgres", "snapshot_reader") in owner[0].fields


def test_revoking_a_grant_restores_the_default_privileges(conn: psycopg.Connection) -> None:
    with dropping_new_roles(conn):
        run_script(conn, "CREATE ROLE snapshot_writer; CREATE TABLE users (id int); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        before = take_snapshot(conn, owners_and_grants=True)
        run_script(conn, """
            GRANT INSERT ON users TO snapshot_writer; REVOKE INSERT ON users FROM snapshot_writer;
            REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC; GRANT EXECUTE ON FUNCTION f() TO PUBLIC;
        """)
        assert diff_snapshots(before, take_snapshot(conn, owners_and_grants=True)) == []


# -- diff wording ------------------------------------------------------------------------------


def snapshot(*rows: tuple[str, str, str | None, str | None, str]) -> Snapshot:
    return Snapshot.from_rows(rows)


USERS = ("table", "public.users", None, None, '{"kind": "table"}')


def column(name: str, definition: str) -> tuple[str, str, str, str, str]:
    return ("column", f"public.users.{name}", "table", "public.users", definition)


def test_rollback_wording() -> None:
    before = snapshot(USERS, column("phone", '{"type": "text", "position": "2"}'), ("table", "public.orders", None, None, "{}"))
    after = snapshot(
        USERS,
        column("phone", '{"type": "character varying(64)", "position": "2"}'),
        ("index", "public.users_preferences_gin", "table", "public.users", '{"definition": "CREATE INDEX ..."}'),
    )
    assert describe_rollback(diff_snapshots(before, after)) == [
        "table public.orders: not restored by rollback",
        "column public.users.phone: type character varying(64), was text",
        "index public.users_preferences_gin: left behind by rollback",
    ]


def test_reapply_wording() -> None:
    first = snapshot(USERS, column("phone", '{"type": "text", "nullability": "NOT NULL"}'))
    second = snapshot(USERS, column("phone", '{"type": "text"}'), ("function", "public.f(integer)", None, None, "{}"))
    assert describe_reapply(diff_snapshots(first, second)) == [
        "column public.users.phone: nullability (none) when applied again, NOT NULL the first time",
        "function public.f(integer): created only when up is applied again",
    ]


def test_bodies_and_long_values_are_not_printed() -> None:
    long_definition = "SELECT " + ", ".join(f"c{i}" for i in range(60))
    before = snapshot(("function", "public.f(integer)", None, None, '{"body": "begin return 1; end", "volatility": "VOLATILE"}'),
                      ("view", "public.v", None, None, f'{{"definition": "{long_definition}"}}'))
    after = snapshot(("function", "public.f(integer)", None, None, '{"body": "begin return 2; end", "volatility": "STABLE"}'),
                     ("view", "public.v", None, None, '{"definition": " SELECT 1;\\n"}'))
    assert describe_rollback(diff_snapshots(before, after)) == [
        "view public.v: definition differs",
        "function public.f(integer): body differs; volatility STABLE, was VOLATILE",
    ]


def test_children_of_a_dropped_table_are_not_reported_twice() -> None:
    before = snapshot(USERS, column("id", '{"type": "integer"}'),
                      ("index", "public.users_id_idx", "table", "public.users", "{}"))
    after = snapshot()
    assert diff_snapshots(before, after) == [Difference("table", "public.users", "missing")]
    assert diff_snapshots(after, before) == [Difference("table", "public.users", "extra")]


def test_a_column_of_a_surviving_table_is_reported() -> None:
    before = snapshot(USERS, column("id", '{"type": "integer"}'))
    assert describe_rollback(diff_snapshots(before, snapshot(USERS))) == [
        "column public.users.id: not restored by rollback",
    ]


def test_output_is_sorted_whatever_the_input_order() -> None:
    rows = [("role", "b", None, None, "{}"), ("table", "public.a", None, None, "{}"), ("role", "a", None, None, "{}")]
    assert diff_snapshots(snapshot(), snapshot(*rows)) == diff_snapshots(snapshot(), snapshot(*reversed(rows)))
    assert [d.name for d in diff_snapshots(snapshot(), snapshot(*rows))] == ["a", "b", "public.a"]


def test_a_long_enums_labels_show_where_they_differ() -> None:
    # TracecatHQ/tracecat: a case event type of 24 labels gained one; the message named no label.
    labels = [f"'CASE_EVENT_NUMBER_{i}'" for i in range(24)]
    before, after = f"({', '.join(labels)})", f"({', '.join(labels[:20] + [repr('ATTACHMENT_CREATED')] + labels[20:])})"
    [message] = describe_rollback([Difference("enum", "public.caseeventtype", "changed", (("labels", before, after),))])
    assert message == ("enum public.caseeventtype: labels (…, 'ATTACHMENT_CREATED', …), was (…)")
    swapped = f"({', '.join(labels[:5] + [labels[6], labels[5]] + labels[7:])})"
    [message] = describe_rollback([Difference("enum", "public.caseeventtype", "changed", (("labels", before, swapped),))])
    assert message == ("enum public.caseeventtype: labels (…, 'CASE_EVENT_NUMBER_6', 'CASE_EVENT_NUMBER_5', …),"
                       " was (…, 'CASE_EVENT_NUMBER_5', 'CASE_EVENT_NUMBER_6', …)")
