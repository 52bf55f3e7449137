"""What a statement creates, drops or changes (sql/objects.py), and code compared as tokens
(sql/tokens.py): the parts that let a finding say who did it and ignore comments in bodies."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.families.implicit_drops import implicit_drop
from migration_check.servers.base import Database
from migration_check.sql import Statement
from migration_check.sql.objects import CHANGED, CREATED, DROPPED, Touch, object_key, touches
from migration_check.sql.tokens import same_but_column_order, same_but_creation_times, same_code


@pytest.mark.parametrize(("sql", "expected"), [
    ("create table s.users (id int)", [Touch("table", ("users",), CREATED)]),
    ("create index users_email_idx on users (email)", [Touch("index", ("users_email_idx",), CREATED)]),
    ("create materialized view mv as select 1", [Touch("materialized view", ("mv",), CREATED)]),
    ("create or replace function s.f(a int) returns int language sql as 'select a'", [Touch("function", ("f",), CREATED)]),
    ("create type mood as enum ('a')", [Touch("type", ("mood",), CREATED)]),
    ("create domain email as text", [Touch("domain", ("email",), CREATED)]),
    ("create trigger t after insert on s.users for each row execute function f()", [Touch("trigger", ("t", "users"), CREATED)]),
    ("create policy p on users using (true)", [Touch("policy", ("p", "users"), CREATED)]),
    ("create role reporting", [Touch("role", ("reporting",), CREATED)]),
    ("drop index if exists s.i, j", [Touch("index", ("i",), DROPPED), Touch("index", ("j",), DROPPED)]),
    ("drop trigger t on users", [Touch("trigger", ("t", "users"), DROPPED)]),
    ("drop function f(int)", [Touch("function", ("f",), DROPPED)]),
    ("alter type mood add value 'b'", [Touch("type", ("mood",), CHANGED)]),
    ("comment on column s.users.phone is 'x'", [Touch("column", ("users", "phone"), CHANGED)]),
    ("alter function f(int) security definer", [Touch("function", ("f",), CHANGED)]),
    ("alter table users drop column phone, add column d int, add constraint k check (d > 0), alter column e type text", [
        Touch("table", ("users",), CHANGED), Touch("column", ("users", "phone"), DROPPED),
        Touch("column", ("users", "d"), CREATED), Touch("constraint", ("k", "users"), CREATED),
        Touch("column", ("users", "e"), CHANGED)]),
    ("select 1", []),
    ("this does not parse", []),
])
def test_touches(sql: str, expected: list[Touch]) -> None:
    assert list(touches(sql)) == expected


@pytest.mark.parametrize(("kind", "name", "expected"), [
    ("column", "public.users.phone", ("column", ("users", "phone"))),
    ("constraint", "users_pkey on public.users", ("constraint", ("users_pkey", "users"))),
    ("function", "public.f(integer, text)", ("function", ("f",))),
    ("enum", 'public."My.Type"', ("type", ("My.Type",))),
])
def test_object_keys_follow_the_snapshots_names(kind: str, name: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert object_key(kind, name) == expected


def test_code_is_compared_as_tokens() -> None:
    assert same_code("begin -- note\n  return NEW;\nend", "BEGIN /* x */ return new; END")
    assert not same_code("select 'A'", "select 'a'")  # string contents count
    assert not same_code('select "A"', 'select "a"')  # quoted names keep their case
    assert not same_code("begin return 1; end", "begin return 2; end")


def test_definitions_that_differ_only_in_the_moment_they_were_stored_are_the_same() -> None:
    today = datetime.now()
    view = "SELECT id FROM posts WHERE (published > ('{}'::timestamp without time zone - '1 mon'::interval))"
    first, second = (view.format(today + timedelta(seconds=s)) for s in (0, 3))
    assert same_but_creation_times(first, second)
    assert same_but_creation_times(f"'{today:%Y-%m-%d}'::date", f"'{today + timedelta(days=1):%Y-%m-%d}'::date")
    # Anything else that differs is a difference, and so is a moment that is not this check's.
    assert not same_but_creation_times(first, second.replace("1 mon", "2 mons"))
    assert not same_but_creation_times(first, view.format("2020-01-01 00:00:00"))
    assert not same_but_creation_times(f"'{today:%Y-%m-%d}'::text", f"'{today + timedelta(days=1):%Y-%m-%d}'::text")
    assert not same_but_creation_times(first, first)


def test_view_definitions_that_list_the_same_columns_in_another_order() -> None:
    view = " SELECT people.id,\n    people.name,\n    people.email AS mail\n   FROM public.people;"
    assert same_but_column_order(view, " SELECT people.id, people.email AS mail, people.name FROM public.people;")
    assert not same_but_column_order(view, " SELECT people.id, people.email AS email, people.name FROM public.people;")
    assert not same_but_column_order(view, " SELECT people.id, people.name FROM public.people;")
    # The arms of a UNION must keep their order between them.
    assert not same_but_column_order("SELECT 1 AS a, 2 AS b UNION SELECT 3, 4", "SELECT 2 AS b, 1 AS a UNION SELECT 3, 4")


def test_a_rollback_that_misses_a_dropped_column_says_the_up_dropped_it(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "p", {
        "migrations/20250101000000_users.sql": "create table users (id int, phone text);",
        "migrations/20250101000000_users_rollback.sql": "drop table users;",
        "migrations/20250102000000_drop_phone.sql": "-- phones move to contacts\n\nalter table users drop column phone;",
        "migrations/20250102000000_drop_phone_rollback.sql": "select 1;",
        "migrations/20250103000000_body.sql": "create function f() returns int language plpgsql as $$ begin return 1; end $$;",
        "migrations/20250103000000_body_rollback.sql": "drop function f();",
        "migrations/20250104000000_comment.sql": "create or replace function f() returns int language plpgsql as $$\n"
                                                 "begin\n  -- one\n  return 1;\nend $$;",
        "migrations/20250104000000_comment_rollback.sql": "create or replace function f() returns int language plpgsql as $$ BEGIN RETURN 1; END $$;",
    })
    report = tmp_path / "r.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 1
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    roundtrip = cases[("migration_check.roundtrip", "20250102000000_drop_phone")]
    failure = roundtrip.find("failure")
    assert failure is not None
    assert "column public.users.phone: dropped by the up (line 3) and not restored by rollback" in failure.attrib["message"]
    assert roundtrip.attrib["file"].endswith("20250102000000_drop_phone.sql") and roundtrip.attrib["line"] == "3"
    # A body that differs only in comments, layout and letter case is the same body.
    assert cases[("migration_check.roundtrip", "20250104000000_comment")].find("failure") is None


@pytest.mark.parametrize(("kind", "name", "definition", "up", "went_with"), [
    # pg_get_indexdef: elements, expressions, INCLUDE and the predicate all count.
    ("index", "public.i", "CREATE INDEX i ON public.t USING btree (lower(email)) WHERE (deleted_at IS NULL)",
     "alter table t drop column deleted_at", "column deleted_at of t"),
    ("index", "public.i", "CREATE UNIQUE INDEX i ON public.t USING btree (a) INCLUDE (b)",
     "alter table t drop column b", "column b of t"),
    # pg_get_constraintdef: a foreign key goes with its own column or with the one it references.
    ("constraint", "t_u_fkey on public.t", "FOREIGN KEY (u) REFERENCES public.users(id)",
     "alter table t drop column u", "column u of t"),
    ("constraint", "t_u_fkey on public.t", "FOREIGN KEY (u) REFERENCES public.users(id)",
     "alter table users drop column id cascade", "column id of users"),
    ("constraint", "c on public.t", "CHECK ((price > (0)::numeric))", "alter table t drop column price", "column price of t"),
    ("view", "public.v", " SELECT id\n   FROM t;", "drop table t cascade", "table t"),
    # DROP TABLE takes the table's own indexes, constraints and triggers (and a foreign key to it).
    ("constraint", "t_u_fkey on public.t", "FOREIGN KEY (u) REFERENCES public.users(id)", "drop table if exists t",
     "table t"),
    ("trigger", "stamp on public.t", "CREATE TRIGGER stamp BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION f()",
     "drop table t", "table t"),
    # Nothing that names another column, or another table, or a drop without CASCADE.
    ("index", "public.i", "CREATE INDEX i ON public.t USING btree (a)", "alter table t drop column b", None),
    ("index", "public.i", "CREATE INDEX i ON public.t USING btree (a)", "alter table other drop column a", None),
    ("view", "public.v", " SELECT id\n   FROM t;", "drop table t", None),
])
def test_what_postgresql_drops_along_is_found_from_the_definition_before(
        kind: str, name: str, definition: str, up: str, went_with: str | None) -> None:
    found = implicit_drop([Statement(up, Path("up.sql"), 3, 1, 0, "AlterTableStmt")], kind, name, definition)
    assert (found.words.split(":")[0].removeprefix(" (it went with ").split(",")[0] if found else None) == went_with
    assert found is None or found.statement.line == 3
