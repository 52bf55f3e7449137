"""Migrations written for SQLite or MySQL say so when PostgreSQL stops at their words."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database
from migration_check.sql.dialects import newer_postgresql, other_dialect
from migration_check.sql.extensions import extension_object


@pytest.mark.parametrize(("sqlstate", "message", "dialect"), [
    ("42601", 'syntax error at or near "AUTOINCREMENT"', "SQLite"),
    ("42601", 'syntax error at or near "`"', "MySQL"),
    ("42704", 'type "datetime" does not exist', "MySQL or SQLite"),
    ("42704", 'type "nvarchar" does not exist', "SQL Server"),
])
def test_other_databases_words_are_named(sqlstate: str, message: str, dialect: str) -> None:
    assert other_dialect(sqlstate, message) == f"(that is {dialect} SQL: migration-check replays migrations on PostgreSQL)"


@pytest.mark.parametrize(("sqlstate", "message"), [
    ("42601", 'syntax error at or near "tabel"'),
    ("42704", 'type "public.money2" does not exist'),
    ("42P01", 'relation "AUTOINCREMENT" does not exist'),
])
def test_postgresql_mistakes_get_no_such_hint(sqlstate: str, message: str) -> None:
    assert other_dialect(sqlstate, message) is None


def test_a_syntax_error_that_a_newer_postgresql_reads_says_so() -> None:
    # Seen on LemmyNet/lemmy, checked on PostgreSQL 15: a subquery without an alias (16+), and a
    # named NOT NULL constraint (18+).
    for statement in ("SELECT * FROM (SELECT 1)", "ALTER TABLE t ADD CONSTRAINT t_a_not_null NOT NULL a"):
        hint = newer_postgresql("42601", statement, 150014)
        assert hint is not None and "this server is PostgreSQL 15" in hint
    assert newer_postgresql("42601", "SELEC 1", 150014) is None  # a typo stays a typo
    assert newer_postgresql("42P01", "SELECT * FROM (SELECT 1)", 150014) is None
    assert newer_postgresql("42601", "SELECT * FROM (SELECT 1)", 990000) is None
    # Where the project names the PostgreSQL it runs (lemmy's .woodpecker.yml), the hint says where.
    hint = newer_postgresql("42601", "SELECT * FROM (SELECT 1)", 150014, (18, ".woodpecker.yml:146"))
    assert hint is not None and "this server is PostgreSQL 15 and the project runs PostgreSQL 18 (.woodpecker.yml:146)" in hint
    assert "the project runs" not in (newer_postgresql("42601", "SELECT * FROM (SELECT 1)", 150014, (15, "x:1")) or "")


@pytest.mark.parametrize(("sqlstate", "message", "named"), [
    ("42704", 'type "extensions.vector" does not exist', "vector is a type of the vector extension"),
    ("42883", "function uuid_generate_v4() does not exist", "uuid_generate_v4 is a function of the uuid-ossp extension"),
    # As PL/pgSQL words it inside a function body (MindsHub/insigno_backend), without quotes.
    ("42704", "type geometry does not exist", "geometry is a type of the postgis extension"),
    # TimescaleDB's, as ajitpratap0/cryptofunk calls it.
    ("42883", "function create_hypertable(unknown, unknown, if_not_exists => boolean) does not exist",
     "create_hypertable is a function of the timescaledb extension"),
    # As FlogFr/FlashCard's first change has it: a trigram index without pg_trgm.
    ("42704", 'operator class "gin_trgm_ops" does not exist for access method "gin"',
     "gin_trgm_ops is an operator class of the pg_trgm extension"),
    ("42704", 'data type integer has no default operator class for access method "gist"',
     "GiST's integer equality is an operator class of the btree_gist extension"),
    # infratographer/load-balancer-api: a GIN index over a varchar and a jsonb column; its tests
    # create btree_gin in the container's init script.
    ("42704", 'data type character varying has no default operator class for access method "gin"',
     "GIN's character varying equality is an operator class of the btree_gin extension"),
])
def test_objects_an_extension_brings_name_it(sqlstate: str, message: str, named: str) -> None:
    found = extension_object(sqlstate, message)
    assert found is not None and found.hint().startswith(f"({named}: CREATE EXTENSION ")


@pytest.mark.parametrize(("sqlstate", "message"), [
    ("42883", "function my_own_function() does not exist"),
    ("42704", 'operator class "my_ops" does not exist for access method "gin"'),
    ("42704", 'data type point has no default operator class for access method "gist"'),
    ("42704", 'data type point has no default operator class for access method "brin"'),
])
def test_other_missing_objects_name_no_extension(sqlstate: str, message: str) -> None:
    assert extension_object(sqlstate, message) is None


def test_a_sqlite_project_says_so_for_the_replayed_file_and_the_parsed_ones(pg_server: Database, tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # As golang-migrate projects for SQLite look (seen on real repositories).
    table = "create table {0} (id integer primary key autoincrement, name text);"
    project = write_files(tmp_path, {
        "migrations/1_users.up.sql": table.format("users"), "migrations/1_users.down.sql": "drop table users;",
        "migrations/2_orders.up.sql": table.format("orders"), "migrations/2_orders.down.sql": "drop table orders;",
    })
    code = main(["check", str(project), "--database-url", pg_server.conninfo, "-q", "--junit-xml", str(tmp_path / "r.xml")])
    out = capsys.readouterr().out
    assert code == 1
    assert out.count('"autoincrement" (that is SQLite SQL') == 2, out
