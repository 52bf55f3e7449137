"""Rows generated from the catalog (issue 11): every table filled, values that fit their types and
constraints, parents before children, partitions routed, the same rows on every run, and a table
that cannot be filled reported with the reason. On a real PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migration_check.data import catalog, fill
from migration_check.data.fill import RowFiller
from migration_check.data.later_keys import later_keys
from migration_check.data.later_types import later_casts
from migration_check.model import Migration, Script
from migration_check.servers.base import Database
from migration_check.servers.url import UrlProvider


@pytest.fixture
def database_pair(pg_server: Database) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    with UrlProvider(pg_server.conninfo) as one, UrlProvider(pg_server.conninfo) as two, \
            contextlib.closing(psycopg.connect(one.conninfo, autocommit=True)) as first, \
            contextlib.closing(psycopg.connect(two.conninfo, autocommit=True)) as second:
        yield first, second

SCHEMA = """
create type mood as enum ('sad', 'ok', 'happy', 'calm', 'angry', 'meh', 'glad');
create domain positive as int check (value > 0);
create table users (
    id serial primary key, email varchar(40) not null unique, phone text, mood mood, score positive,
    tags text[], meta jsonb not null default '{}', seen timestamptz, during tstzrange, code char(2),
    price numeric(5, 2) check (price < 100), ip inet, token uuid, flags bit(3), spot point, total money
);
create table clinics (id int primary key, name text not null);
create table visits (id bigint generated always as identity primary key, clinic_id int not null references clinics,
                     user_id int references users, status text check (status in ('new', 'done')));
create table nodes (id int primary key, parent_id int references nodes);
create table a (id int primary key, b_id int);
create table b (id int primary key, a_id int references a);
alter table a add foreign key (b_id) references b;
create table pairs (x int, y int, primary key (x, y));
create table links (id int primary key, x int not null, y int not null, foreign key (x, y) references pairs);
create table events (id int, at date, primary key (id, at)) partition by range (at);
create table events_2025 partition of events for values from ('2025-03-01') to ('2025-04-01');
create table regions (id int, region text, primary key (id, region)) partition by list (region);
create table regions_eu partition of regions for values in ('eu');
create table regions_us partition of regions for values in ('us');
create table only_serial (id serial primary key);
"""


def _rows(conn: psycopg.Connection, table: str) -> list[tuple[object, ...]]:
    return conn.execute(f"select * from {table} order by 1").fetchall()


def test_every_table_is_filled_with_values_that_fit(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)
    filler = RowFiller(rows=5, excluded=set())
    filled = filler.fill(conn)
    assert filler.not_covered == {}
    for table in filled:
        count = conn.execute(f"select count(*) from {table}").fetchone()
        assert count is not None and count[0] >= 1, table
    users = _rows(conn, "users")
    assert len(users) == 7  # every label of the enum is used
    assert {row[3] for row in users} - {None} >= {"sad", "ok", "happy", "calm", "meh", "glad"}
    assert [row[1] for row in users[:2]] == ["user1@example.com", "user2@example.com"]
    assert sum(row[2] is None for row in users) >= 1 and sum(row[2] is not None for row in users) > len(users) // 2
    # Foreign keys point at existing parents, also for a composite key; the check constraint holds.
    assert conn.execute("select count(*) from visits v left join clinics c on c.id = v.clinic_id where c.id is null").fetchone() == (0,)
    assert conn.execute("select count(*) from links l join pairs p using (x, y)").fetchone() == (5,)
    assert conn.execute("select count(*) from visits").fetchone() == (5,)
    assert conn.execute("select count(*) from nodes where parent_id is not null").fetchone() == (4,)
    # Rows are routed to every range and list partition.
    assert conn.execute("select count(*) from events_2025").fetchone() == (5,)
    assert conn.execute("select count(*) from regions_eu").fetchone()[0] >= 1  # type: ignore[index]
    assert conn.execute("select count(*) from regions_us").fetchone()[0] >= 1  # type: ignore[index]
    assert conn.execute("select count(*) from only_serial").fetchone() == (5,)


def test_the_same_schema_gets_the_same_rows(database_pair: tuple[psycopg.Connection, psycopg.Connection]) -> None:
    first, second = database_pair
    for conn in (first, second):
        conn.execute("create table t (id int primary key, name text, at date, amount numeric(6, 2));"
                     "create table c (id int primary key, t_id int references t);")
        RowFiller(rows=4, excluded=set()).fill(conn)
    assert _rows(first, "t") == _rows(second, "t") and _rows(first, "c") == _rows(second, "c")


# Tables filled together (one message for their parent keys, one DO block for their INSERTs) next
# to tables that need the one-by-one way: a middle table whose INSERT fails (rows one at a time,
# before the tables after it), a trigger that writes into a parent of a later table, a deferred
# check that fails the whole block at its commit, an enum label holding the block's dollar quote.
BATCHED = """
create type odd as enum ('$fill$', 'plain', '$fill6$');
create table clinics (id int primary key, name text not null);
create table kinds (id int primary key, label odd);
create table log (id int primary key, note text);
create table a_orders (id int primary key, clinic_id int references clinics, total int);
create function log_order() returns trigger language plpgsql as $$
begin insert into log values (-new.id, 'order ' || new.id); return new; end $$;
create trigger log_order after insert on a_orders for each row execute function log_order();
create table b_picky (id int primary key check (id <> 2), clinic_id int references clinics);
create table c_notes (note text, clinic_id int references clinics);
create table c_tags (id int primary key, log_id int references log, kind_id int references kinds);
create table d_late (id int primary key, tag_id int references c_tags, kind odd);
create function no_three() returns trigger language plpgsql as $$
begin if new.id = 3 then raise exception 'not 3'; end if; return null; end $$;
create constraint trigger no_three after insert on d_late deferrable initially deferred
    for each row execute function no_three();
"""


def _all_rows(conn: psycopg.Connection) -> dict[str, list[tuple[object, ...]]]:
    names = [name for (name,) in conn.execute("select relname from pg_class where relkind = 'r'"
                                              " and relnamespace = 'public'::regnamespace order by 1")]
    return {name: conn.execute(f"select t::text from {name} t order by 1").fetchall() for name in names}


def test_tables_filled_together_get_the_rows_they_get_one_by_one(
        database_pair: tuple[psycopg.Connection, psycopg.Connection]) -> None:
    together, alone = database_pair
    for conn in database_pair:
        conn.execute(BATCHED)
    filler = RowFiller(rows=5, excluded=set())
    filler.fill(together)
    # The reference: every table on its own, parents first, as the filler filled them before.
    found, _ = catalog.tables(alone, set())
    types = catalog.describe(alone, found)
    timeout = "SET LOCAL statement_timeout = '1min'; "
    reasons = {table.name: fill._fill_table(alone, table, types, 5, timeout, {}) for table in fill._parents_first(found)}
    assert filler.not_covered == {name: reason for name, reason in reasons.items() if reason} == {}
    rows = _all_rows(together)
    assert rows == _all_rows(alone)
    assert len(rows["b_picky"]) == 4 and len(rows["d_late"]) == 4  # row 2 and row 3 went alone
    assert len(rows["c_notes"]) == 5  # each INSERT ran once
    assert [row for (row,) in rows["c_tags"]][:2] == ["(1,-5,1)", "(2,-4,2)"]  # the trigger's rows come first
    assert "(1,$fill$)" in [row for (row,) in rows["kinds"]]


def test_tables_that_do_not_reference_each_other_are_filled_in_two_messages(conn: psycopg.Connection) -> None:
    conn.execute("create table parent (id int primary key);"
                 + "".join(f"create table t{n} (id int primary key, parent_id int references parent);" for n in range(30)))
    sent: list[str] = []
    execute = conn.execute

    def counted(query: str, *args: object, **kwargs: object) -> psycopg.Cursor:
        sent.append(query)
        return execute(query, *args, **kwargs)  # type: ignore[arg-type]

    conn.execute = counted  # type: ignore[method-assign]
    filler = RowFiller(rows=3, excluded=set())
    filler.fill(conn)
    del conn.execute
    assert filler.not_covered == {}
    assert conn.execute("select count(*) from t29 where parent_id is not null").fetchone() == (3,)
    # parent's INSERT, then the 30 children's parent keys and their INSERTs
    assert len(sent) == 3, sent


def test_a_fill_time_limit_covers_every_table_of_a_block() -> None:
    assert fill._milliseconds("10min") == 600_000 and fill._milliseconds("90s") == 90_000
    assert fill._milliseconds("250") == 250 and fill._milliseconds("2h") == 7_200_000
    assert fill._milliseconds("soon") is None


def test_child_rows_take_the_parent_rows_in_key_order_whatever_the_key_type(conn: psycopg.Connection) -> None:
    # Row i of a child references parent row i (modulo their number) in key order, every column of a
    # composite key from the same parent row; keys that print with quotes, backslashes, time zones
    # and fractions reach the child unchanged, and a key of another type arrives as PostgreSQL
    # casts it (numeric 2.000 into an int column: 2); a char(5) key keeps its five characters; a
    # parent without rows leaves the reference NULL.
    conn.execute("set standard_conforming_strings = off; set timezone = 'Asia/Kolkata'")
    conn.execute(r"""create table parent (code text, at timestamptz, amount numeric(8, 3), primary key (code, at, amount));
                     insert into parent values (E'b\\path', '2024-01-01 00:00:00.123456+00', 1.5),
                                               ('a''quote', '2023-06-30 23:59:59+02', 2.25),
                                               ('c', '2024-03-01 12:00:00+00', 0.001);
                     create table nobody (id int primary key);
                     create table amounts (value numeric(8, 3) primary key);
                     insert into amounts values (3.000), (1.000), (2.000);
                     create table codes (code char(5) primary key);
                     insert into codes values ('xyz'), ('abcde'), ('b');
                     create table child (id int primary key, code text, at timestamptz, amount numeric(8, 3),
                                         nobody_id int references nobody, amount_id int references amounts,
                                         refund_id int references amounts, code_ref char(5) references codes,
                                         foreign key (code, at, amount) references parent);""")
    filler = RowFiller(rows=5, excluded={"public.parent", "public.nobody", "public.amounts", "public.codes"})
    filler.fill(conn)
    assert filler.not_covered == {}
    parents = conn.execute("select code, at, amount from parent order by code, at, amount").fetchall()
    children = conn.execute("select code, at, amount, nobody_id, amount_id, refund_id, code_ref from child order by id").fetchall()
    assert [row[:3] for row in children] == [parents[i % 3] for i in range(5)]
    assert {row[3] for row in children} == {None}
    assert [row[4] for row in children] == [row[5] for row in children] == [1, 2, 3, 1, 2]
    assert [row[6] for row in children] == ['abcde', 'b    ', 'xyz  ', 'abcde', 'b    ']  # char(5), not char(1)


def test_each_table_is_filled_once_and_excluded_tables_never(conn: psycopg.Connection) -> None:
    conn.execute("create table schema_migrations (version text primary key); create table t (id int primary key);")
    filler = RowFiller(rows=3, excluded={"public.schema_migrations"})
    assert filler.fill(conn) == ["public.t"]
    conn.execute("create table u (id int primary key)")
    assert filler.fill(conn) == ["public.u"]
    assert conn.execute("select count(*) from schema_migrations").fetchone() == (0,)
    assert conn.execute("select count(*) from t").fetchone() == (3,)


def test_a_table_without_a_possible_row_is_not_covered_with_the_reason(conn: psycopg.Connection) -> None:
    conn.execute("create table shapes (id int primary key, attrs pg_snapshot not null);"
                 "create table never (id int primary key check (id < 0 and id > 5));")
    filler = RowFiller(rows=3, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {
        "public.shapes": "no value can be generated for column attrs of type pg_snapshot",
        "public.never": 'no generated row could be inserted: 23514 new row for relation "never" violates'
                        ' check constraint "never_id_check"',
    }


def test_values_with_quotes_and_backslashes_arrive_unchanged(conn: psycopg.Connection) -> None:
    # A partition bound is a value the filler copies into its INSERT as a literal; with
    # standard_conforming_strings off, a plain '...' literal would read a backslash as an escape.
    conn.execute("set standard_conforming_strings = off")
    conn.execute(r"""create table notes (id int, label text, primary key (id, label)) partition by list (label);
                     create table notes_odd partition of notes for values in (E'it''s a \\ path');""")
    filler = RowFiller(rows=2, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {}
    assert {label for (label,) in conn.execute("select label from notes")} == {"it's a \\ path"}


def test_composite_columns_get_every_field(conn: psycopg.Connection) -> None:
    # A column of a composite type or of a table's row type (through arrays and domains too) holds
    # values the data check can then see lost: a field with a quote, a nested composite, an enum.
    conn.execute("""create type mood as enum ('ok', 'sad');
                    create type money_amount as (amount numeric(6, 2), currency char(3));
                    create table address (street text, "it's" text, m mood);
                    create domain home as address;
                    create type price_tag as (label text, price money_amount);
                    create table items (id int primary key, tag price_tag, places address[], at home)""")
    filler = RowFiller(rows=3, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {}
    first = conn.execute("select (tag).label, ((tag).price).amount, ((tag).price).currency, (places[1]).m,"
                         " (at).street from items order by id limit 1").fetchone()
    assert first is not None and None not in first, first


def test_checks_across_columns_get_rows_that_meet_them(conn: psycopg.Connection) -> None:
    # Lemmy's combined tables (exactly one of several references set), AREDL's merge requests (two
    # references to the same users that must differ): rows for both, each meeting its check.
    conn.execute("""create table users (id int primary key);
                    create table posts (id int primary key);
                    create table comments (id int primary key);
                    create table reports (id serial primary key, post_id int unique references posts,
                                          comment_id int unique references comments, note text,
                                          check (num_nonnulls(post_id, comment_id) = 1));
                    create table merges (id serial primary key, primary_user int not null references users,
                                         secondary_user int not null references users,
                                         check (primary_user <> secondary_user))""")
    filler = RowFiller(rows=4, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {}
    reports = conn.execute("select post_id is null, comment_id is null from reports").fetchall()
    assert {(True, False), (False, True)} == set(reports)
    assert conn.execute("select count(*) from merges").fetchone() == (4,)


@pytest.mark.parametrize("key", ["int", "uuid"])
def test_a_setting_the_application_gives_its_sessions_is_given_to_each_insert(conn: psycopg.Connection, key: str) -> None:
    # bionic-gpt's audit triggers read current_setting('row_level_security.user_id'), which the
    # application sets: without it no team could get rows, nor any table below teams.
    conn.execute(f"""create table users (id {key} primary key);
        create table audit (user_id {key} references users);
        create function app_user() returns {key} language sql as $$ select current_setting('app.user_id')::{key} $$;
        create function audit() returns trigger language plpgsql as $$
            begin insert into audit values (app_user()); return new; end $$;
        create table teams (id int primary key);
        create trigger teams_audit after insert on teams for each row execute function audit();
        create table members (team_id int not null references teams)""")
    filler = RowFiller(rows=3, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {}
    assert conn.execute("select count(*) from members").fetchone() == (3,)
    assert conn.execute("select count(*) from audit where user_id::text in ('1', '00000000-0000-4000-8000-000000000001')").fetchone() == (4,)
    assert conn.execute("select current_setting('app.user_id', true)").fetchone() in ((None,), ("",))
    # Once set in a session the setting reads as '' there, not as missing: later tables are given it too.
    # (two tables that reference neither each other: filled in one batch)
    conn.execute("create table projects (id int primary key, team_id int not null references teams);"
                 "create table labels (id int primary key, team_id int not null references teams);"
                 "create trigger projects_audit after insert on projects for each row execute function audit()")
    filler.fill(conn)
    assert filler.not_covered == {} and conn.execute("select count(*) from projects").fetchone() == (3,)
    assert conn.execute("select count(*) from labels").fetchone() == (3,)


def test_built_in_types_are_read_once_and_user_types_every_time(conn: psycopg.Connection) -> None:
    filler = RowFiller(rows=3, excluded=set())
    conn.execute("create type mood as enum ('sad'); create table first (id int primary key, m mood)")
    filler.fill(conn)
    assert set(filler.built_in_types) == {conn.execute("select 'int4'::regtype::oid").fetchone()[0]}
    # An enum may gain labels between migrations: the next table sees them.
    conn.execute("alter type mood add value 'glad'; create table second (id int primary key, m mood)")
    filler.fill(conn)
    assert {m for (m,) in conn.execute("select m::text from second")} == {"sad", "glad"}


def test_rows_a_trigger_would_empty_are_tried_with_version_numbers(conn: psycopg.Connection) -> None:
    # rust-lang/crates.io: a BEFORE INSERT trigger computes versions.semver_ord from the version
    # text (NULL unless it reads as x.y.z) into a NOT NULL column; every table that references
    # versions was then left empty too.
    conn.execute("""create table versions (id serial primary key, num text not null, semver_ord text not null,
                                           note text);
                    create function set_ord() returns trigger language plpgsql as $$
                    begin new.semver_ord := substring(new.num from '^(\\d+)\\.\\d+\\.\\d+$'); return new; end $$;
                    create trigger set_ord before insert on versions for each row execute function set_ord();
                    create table downloads (version_id int not null references versions, n int);""")
    filler = RowFiller(rows=3, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {}
    assert [num for (num,) in conn.execute("select num from versions order by id")] == ["1.1.0", "1.2.0", "1.3.0"]
    assert conn.execute("select count(*) from downloads").fetchone() == (3,)


def test_extension_types_get_their_text_forms(conn: psycopg.Connection) -> None:
    # crates.io's categories.path is an ltree: the table, and the ones that reference it, had no rows.
    conn.execute("create extension ltree; create extension hstore; create extension cube;"
                 "create table categories (id int primary key, path ltree not null, attrs hstore, box cube);")
    filler = RowFiller(rows=2, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {}
    assert conn.execute("select path::text, attrs -> 'key', box::text from categories order by id").fetchall() == [
        ("top.item1", "1", "(1, 1)"), ("top.item2", "2", "(2, 2)")]


def test_values_follow_what_a_columns_own_check_allows(conn: psycopg.Connection) -> None:
    # A NOT NULL status under `IN ('new', 'done')` left its table empty ("status 1" is neither), and
    # crates.io's versions.tar_sha256 must be 32 bytes (`octet_length(tar_sha256) = 32`); a domain's
    # CHECK names the value VALUE.
    conn.execute("""create domain yes_no as varchar(3) check (value in ('YES', 'NO'));
                    create table orders (id int primary key,
                        status text not null check (status in ('new', 'done')),
                        sha bytea not null check (octet_length(sha) = 32),
                        code text not null check (length(code) = 4),
                        price numeric not null check (price >= 10 and price <= 20),
                        kind int not null check (kind = any (array[3, 4])),
                        answer yes_no not null,
                        pattern text not null check (pattern ~ '^[A-Z]+$'))""")
    filler = RowFiller(rows=2, excluded=set())
    filler.fill(conn)
    assert filler.not_covered == {"public.orders": 'no generated row could be inserted: 23514 new row for relation'
                                                  ' "orders" violates check constraint "orders_pattern_check"'}
    conn.execute("alter table orders drop constraint orders_pattern_check; create table orders2 (like orders including all)")
    filler.fill(conn)
    assert conn.execute("select status, length(sha), code, price, kind, answer from orders2 order by id").fetchall() == [
        ("new", 32, "0001", 11, 3, "YES"), ("done", 32, "0002", 12, 4, "NO")]


def test_text_named_like_a_moment_holds_one(conn: psycopg.Connection) -> None:
    # Dokploy keeps environment."createdAt" as text and a later migration casts it to timestamptz:
    # `createdAt 1` failed that cast, which the application's own values pass.
    conn.execute('create table environment (id int primary key, "createdAt" text, updated_at varchar(32),'
                 ' birth_date text, short_at varchar(4), format text)')
    filler = RowFiller(rows=3, excluded=set())
    filler.fill(conn)
    assert conn.execute('select count(*) from environment where "createdAt"::timestamptz is not null'
                        " and updated_at::timestamptz is not null and birth_date::date is not null").fetchone() == (3,)
    assert conn.execute("select format, short_at from environment order by id limit 1").fetchone() == ("format 1", "sho1")


def test_columns_a_later_migration_keys_take_the_parent_rows(conn: psycopg.Connection, tmp_path: Path) -> None:
    # Keys later migrations add (data/later_keys.py): the composite key, the key into another schema
    # and the key onto the parent's primary key take the parent rows, as a key made now would; where
    # the types differ, a key covers the columns already, the column is an identity, the parent has
    # no rows or is the table itself, the column keeps values of its own.
    ups = ("ALTER TABLE ONLY public.child ADD CONSTRAINT c1 FOREIGN KEY (x, y) REFERENCES pairs (x, y);\n"
           "ALTER TABLE child ADD CONSTRAINT c2 FOREIGN KEY (owner) REFERENCES app.owners (name) NOT VALID;\n"
           "ALTER TABLE child ADD CONSTRAINT c3 FOREIGN KEY (wide) REFERENCES pairs (x);\n"
           "ALTER TABLE child ADD CONSTRAINT c4 FOREIGN KEY (kept) REFERENCES pairs (x);\n"
           "ALTER TABLE child ADD CONSTRAINT c5 FOREIGN KEY (ident) REFERENCES pairs (x);\n"
           "ALTER TABLE child ADD CONSTRAINT c6 FOREIGN KEY (lonely) REFERENCES nobody (id);\n"
           "ALTER TABLE child ADD CONSTRAINT c7 FOREIGN KEY (x) REFERENCES child (id);\n"
           "ALTER TABLE child ADD CONSTRAINT c8 FOREIGN KEY (ref) REFERENCES app.owners;\n")  # (its primary key)
    # Not where a migration writes rows of the table (rallly clears the ids no user has before its
    # keys), nor keys an up with a DO block adds.
    cleared = ("UPDATE guests SET user_id = NULL WHERE user_id NOT IN (SELECT id FROM nobody);\n"
               "ALTER TABLE guests ADD FOREIGN KEY (user_id) REFERENCES nobody (id);\n")
    coded = "DO $$ BEGIN NULL; END $$;\nALTER TABLE child ADD FOREIGN KEY (wide) REFERENCES nobody (id);\n"
    keys = later_keys([Migration(str(n), "keys", (n,), up=Script(tmp_path / f"{n}.sql", sql))
                       for n, sql in enumerate((ups, cleared, coded))])
    assert [(key.schema, key.table, key.columns, key.parent_schema, key.parent, key.parent_columns) for key in keys][:2] == [
        ("public", "child", ("x", "y"), None, "pairs", ("x", "y")), (None, "child", ("owner",), "app", "owners", ("name",))]
    assert len(keys) == 8 and {key.table for key in keys} == {"child"} and keys[-1].parent_columns == ()
    conn.execute("""create schema app;
                    create table app.owners (name text primary key); insert into app.owners values ('ann'), ('bob');
                    create table pairs (x int, y int, primary key (x, y)); insert into pairs values (7, 8), (9, 10);
                    create table nobody (id int primary key); create table other (id int primary key);
                    create table child (id int primary key, x int not null, y int not null, owner text,
                                        wide bigint, kept int references other, lonely int not null,
                                        ident int generated always as identity, ref text);""")
    filler = RowFiller(rows=4, excluded={"app.owners", "public.pairs", "public.nobody"}, later=keys)
    filler.fill(conn)
    assert filler.not_covered == {}
    rows = conn.execute("select x, y, owner, wide, kept, lonely, ident, ref from child order by id").fetchall()
    assert [row[:3] for row in rows] == [(7, 8, "ann"), (9, 10, "bob"), (7, 8, "ann"), (9, 10, "bob")]
    assert [row[7] for row in rows] == ["ann", "bob", "ann", "bob"]
    assert {row[3] for row in rows} - {None} and not {row[3] for row in rows} & {7, 9}  # bigint: not pairs.x's int
    assert [row[4] for row in rows] == [1, 2, 3, 4] and [row[6] for row in rows] == [1, 2, 3, 4]
    assert all(row[5] is not None for row in rows)  # no parent rows: its own values, not NULL


def test_text_a_later_migration_casts_holds_what_the_cast_reads(conn: psycopg.Connection, tmp_path: Path) -> None:
    # target/goalert (data/later_types.py): ids kept as text and copied into uuid columns, a role
    # kept as text and cast to an enum made in the same migration, under the name a RENAME gave
    # the table; `id 1` and `role 1` failed those casts, which the application's own values pass.
    ups = ("CREATE TYPE enum_user_role AS ENUM ('unknown', 'user', 'admin');\n"
           "ALTER TABLE goalert_user RENAME TO users;\n"
           "ALTER TABLE users ALTER COLUMN role TYPE enum_user_role USING role::enum_user_role;\n"
           "ALTER TABLE users ALTER COLUMN score TYPE int;\n",
           "INSERT INTO rules (id, contact_id, delay) SELECT n.id::UUID, n.contact_id::uuid, n.delay::int"
           " FROM notification_rule n, contact c WHERE c.id = n.contact_id;\n"
           "ALTER TABLE contact ALTER COLUMN label TYPE int USING length(label);\n")  # not a cast of the column
    casts = later_casts([Migration(str(n), "casts", (n,), up=Script(tmp_path / f"{n}.sql", sql))
                         for n, sql in enumerate(ups)])
    assert {(c.table, c.column, c.type_name, c.labels) for c in casts} == {
        ("users", "role", "enum_user_role", ("unknown", "user", "admin")),
        ("goalert_user", "role", "enum_user_role", ("unknown", "user", "admin")),
        ("users", "score", "int4", ()), ("goalert_user", "score", "int4", ()),
        ("notification_rule", "id", "uuid", ()), ("notification_rule", "contact_id", "uuid", ()),
        ("notification_rule", "delay", "int4", ())}
    conn.execute("""create table goalert_user (id int primary key, role text, score varchar(8), name text);
                    create table notification_rule (id text primary key, contact_id varchar(20), delay text);""")
    filler = RowFiller(rows=3, excluded=set(), casts=casts)
    filler.fill(conn)
    assert conn.execute("select role, score, name from goalert_user order by id").fetchall() == [
        ("unknown", "1", "name 1"), ("user", "2", "name 2"), ("admin", "3", "name 3")]
    rows = conn.execute("select id::uuid, delay::int, contact_id from notification_rule order by id").fetchall()
    assert len(rows) == 3 and all(row[1] for row in rows)
    assert [row[2] for row in rows] == ["contact_id 1", "contact_id 2", "contact_id 3"]  # a uuid is too long for it


def test_json_a_later_migration_reads_as_an_array_holds_one(conn: psycopg.Connection, tmp_path: Path) -> None:
    # MadNovOrg/test-blacksmith renames organization.addresses to address, then turns the array into
    # its first element (`address::json->>0`) and back: an object lost its value both ways.
    ups = ("ALTER TABLE organization RENAME COLUMN addresses TO address;\n",
           "UPDATE organization SET address = COALESCE(address::json->>0, '{}')::jsonb;\n",
           "SELECT t.id, jsonb_array_elements(t.tags) FROM trips t;\n"
           "SELECT note->>'title' FROM trips;\n")  # an object's key: no array
    casts = later_casts([Migration(str(n), "json", (n,), up=Script(tmp_path / f"{n}.sql", sql))
                         for n, sql in enumerate(ups)])
    assert {(c.table, c.column, c.type_name) for c in casts} == {
        ("organization", "address", "json array"), ("organization", "addresses", "json array"),
        ("trips", "tags", "json array")}
    conn.execute("""create table organization (id int primary key, addresses jsonb, name text);
                    create table trips (id int primary key, tags json, note jsonb, label varchar(5));""")
    RowFiller(rows=2, excluded=set(), casts=casts).fill(conn)
    assert conn.execute("select jsonb_typeof(addresses) from organization").fetchall() == [("array",), ("array",)]
    assert conn.execute("select json_typeof(tags), jsonb_typeof(note) from trips").fetchall() == [
        ("array", "object"), ("array", "object")]


def test_a_cycle_of_keys_is_broken_at_the_key_that_can_be_null_whatever_the_oids(
        database_pair: tuple[psycopg.Connection, psycopg.Connection]) -> None:
    # openmeter: a charge points at its current run (nullable), a run at its charge (NOT NULL).
    # Broken at the charge's key, both tables get rows; broken at the run's, the runs got none, and
    # which one was broken followed the oids' values, which the other databases' objects shift.
    schema = """create table charges (id int primary key, name text);
                create table runs (id int primary key, charge_id int not null references charges);
                alter table charges add column current_run_id int references runs;"""
    first, second = database_pair
    second.execute("create table filler_a (id int); create table filler_b (id int); create type filler_c as (x int)")
    for conn in (first, second):
        conn.execute(schema)
        filler = RowFiller(rows=3, excluded=set())
        filler.fill(conn)
        assert filler.not_covered == {}
        assert conn.execute("select count(*) from runs where charge_id in (select id from charges)").fetchone() == (3,)
        assert conn.execute("select count(*) from charges where current_run_id is null").fetchone() == (3,)
