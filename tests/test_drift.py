"""The drift family (issue 13): the schema the migrations build against a declared schema (a real
pg_dump, dbmate's db/schema.sql) and against a live database that is only ever read."""

from __future__ import annotations

import contextlib
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database
from migration_check.servers.binaries import find_binaries

MIGRATIONS = {
    "db/migrations/20250101000000_users.sql": (
        "-- migrate:up\n"
        "create type plan as enum ('free', 'pro');\n"
        "create table users (id bigint generated always as identity primary key, email text not null unique,"
        " plan plan not null default 'free');\n"
        "-- migrate:down\ndrop table users;\ndrop type plan;\n"
    ),
    "db/migrations/20250102000000_orders.sql": (
        "-- migrate:up\n"
        "create table orders (id bigint primary key, user_id bigint not null references users, total numeric(12,2));\n"
        "create index orders_user_id_idx on orders (user_id);\n"
        "-- migrate:down\ndrop table orders;\n"
    ),
}
UPS = [text.split("-- migrate:down")[0].replace("-- migrate:up\n", "") for text in MIGRATIONS.values()]


def run(root: Path, *args: str) -> tuple[int, list[ET.Element]]:
    if not (root / ".git").exists():  # a repository: paths in messages are relative to its root
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = root / "report.xml"
    code = main(["check", str(root / "db" / "migrations"), "--junit-xml", str(report), "-q", "--no-data", *args])
    return code, [c for c in ET.parse(report).getroot().iter("testcase") if c.attrib["classname"] == "migration_check.drift"]


def message(case: ET.Element) -> str:
    failure = case.find("failure")
    return failure.attrib["message"] if failure is not None else ""


def dump_of(database: Database) -> str:
    """`pg_dump --schema-only` of a database the migrations were applied to, as a team would commit it."""
    with contextlib.closing(psycopg.connect(database.conninfo, autocommit=True)) as conn:
        for up in UPS:
            conn.execute(up)
    pg_dump = find_binaries(None).bindir / "pg_dump"
    return subprocess.run([str(pg_dump), "--schema-only", "--no-owner", "-d", database.conninfo],
                          check=True, capture_output=True, text=True).stdout


def test_a_real_dump_of_what_the_migrations_build_gives_no_drift(pg_server: Database, database: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path, MIGRATIONS)
    (root / "db" / "schema.sql").write_text(dump_of(database))  # dbmate's place: picked up on its own
    code, cases = run(root, "--database-url", pg_server.conninfo)
    assert [c.attrib["name"] for c in cases] == ["the declared schema db/schema.sql"]
    assert cases[0].find("failure") is None and code == 0


def test_each_difference_is_a_case_that_names_the_object_and_both_sides(pg_server: Database, tmp_path: Path) -> None:
    declared = (
        "\\restrict abc\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n"
        "CREATE TYPE public.plan AS ENUM ('free', 'pro');\n"
        "CREATE TABLE public.users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,\n"
        "    plan public.plan DEFAULT 'free' NOT NULL, last_login timestamp with time zone);\n"
        "ALTER TABLE public.users OWNER TO somebody_else;\n"
        "GRANT SELECT ON public.users TO reporting;\n"
        "CREATE TABLE public.orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES public.users,"
        " total numeric(14,2));\n"
        "\\unrestrict abc\n"
    )
    root = write_files(tmp_path, {**MIGRATIONS, "expected.sql": declared})
    code, cases = run(root, "--database-url", pg_server.conninfo, "--drift-schema", str(root / "expected.sql"))
    by_name = {c.attrib["name"]: c for c in cases}
    assert code == 1
    last_login = by_name["column public.users.last_login"]
    assert message(last_login) == ("column public.users.last_login: the declared schema expected.sql has it (timestamp with"
                                   " time zone) but no migration creates it")
    assert (last_login.attrib["file"], last_login.attrib["line"]) == ("expected.sql", "4")
    index = by_name["index public.orders_user_id_idx"]
    assert "created by 20250102000000_orders but not in the declared schema expected.sql" in message(index)
    assert (index.attrib["file"], index.attrib["line"]) == ("db/migrations/20250102000000_orders.sql", "3")
    total = by_name["column public.orders.total"]
    assert "numeric(14,2) in the declared schema expected.sql, numeric(12,2) after the migrations" in message(total)
    assert not any("schema_migrations" in name for name in by_name)  # the runner's own table


def test_a_difference_after_a_failed_migration_says_the_schema_lacks_it(pg_server: Database, database: Database,
                                                                         tmp_path: Path) -> None:
    # The later migrations run without the failed one: the schema lacks what it makes, and the
    # drift cases say so rather than blame drift alone.
    broken = {**MIGRATIONS, "db/migrations/20250102000000_orders.sql": MIGRATIONS[
        "db/migrations/20250102000000_orders.sql"].replace("references users", "references nowhere")}
    root = write_files(tmp_path, broken)
    (root / "db" / "schema.sql").write_text(dump_of(database))
    code, cases = run(root, "--database-url", pg_server.conninfo)
    orders = {c.attrib["name"]: c for c in cases}["table public.orders"]
    assert code == 1 and message(orders).endswith(
        "(the migrated schema lacks 1 migration(s) not replayed: 20250102000000_orders; a difference may be theirs)")


def test_a_declared_schema_that_does_not_load_is_an_error_at_its_line(pg_server: Database, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path, {**MIGRATIONS, "expected.sql": "create table a (id int);\ncreate table b (id nosuchtype);\n"})
    code, _ = run(root, "--database-url", pg_server.conninfo, "--drift-schema", str(root / "expected.sql"))
    assert code == 2
    assert 'expected.sql:2:' in capsys.readouterr().out


def _catalogs(conninfo: str) -> tuple[object, ...]:
    with contextlib.closing(psycopg.connect(conninfo, autocommit=True)) as conn:
        return tuple(conn.execute(query).fetchall() for query in (
            "select datname from pg_database order by 1", "select rolname from pg_roles order by 1",
            "select oid, relname, relkind from pg_class order by 1", "select nspname from pg_namespace order by 1",
            "select n_tup_ins + n_tup_upd + n_tup_del from pg_stat_user_tables order by relid"))


def test_a_live_database_is_compared_and_never_changed(pg_server: Database, database: Database, tmp_path: Path) -> None:
    with contextlib.closing(psycopg.connect(database.conninfo, autocommit=True)) as conn:
        for up in UPS:
            conn.execute(up)
        conn.execute("alter table users add column hotfix text")  # made by hand in production
    root = write_files(tmp_path, MIGRATIONS)
    before = _catalogs(database.conninfo)
    code, cases = run(root, "--database-url", pg_server.conninfo, "--drift-url", database.conninfo)
    assert _catalogs(database.conninfo) == before
    assert code == 1
    [case] = cases
    assert message(case) == "column public.users.hotfix: the live database has it (text) but no migration creates it"
