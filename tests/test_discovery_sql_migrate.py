"""sql-migrate discovery (rubenv/sql-migrate): its annotations, its order and its transactions, as
its sqlparse.go and migrate.go have them."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover, layout_named
from migration_check.model import RollbackPolicy, Transaction
from migration_check.servers.base import Database
from migration_check.sql.splitter import split_script


def project(tmp_path: Path, files: dict[str, str]):
    return discover(write_files(tmp_path, {f"migrations/{k}": v for k, v in files.items()}), repo_root=tmp_path)


def test_any_name_in_the_order_of_its_number_then_by_name(tmp_path: Path) -> None:
    # vinibgoulart/todo-list-api: 2024041230420-... (13 digits) runs before 20240412234420-...: by number.
    found = project(tmp_path, {
        "20240412234420-create_users_table.sql": "-- +migrate Up\ncreate table users (id int);\n",
        "2024041230420-create_uuid-ossp-extension.sql": "-- +migrate Up\nselect 1;\n",
        "initial.sql": "-- +migrate Up\nselect 2;\n",
        "notes.txt": "notes\n",
    })
    assert found.format == "sql-migrate"
    assert [m.id for m in found.migrations] == [
        "2024041230420-create_uuid-ossp-extension", "20240412234420-create_users_table", "initial"]
    assert [s.path.name for s in found.stray_files] == ["notes.txt"]


def test_sections_blocks_and_transactions(tmp_path: Path) -> None:
    found = project(tmp_path, {"1-a.sql": (
        "-- a comment before any annotation is not run\n"  # line 1
        "select 'ignored';\n"
        "-- +migrate Up\n"
        "create table a (id int);\n"  # line 4
        "-- +migrate StatementBegin\n"
        "create function f() returns int language plpgsql as $$ begin return 1; end $$;\n"  # line 6
        "-- +migrate StatementEnd\n"
        "-- +migrate Down notransaction\n"
        "drop function f();\n"  # line 9
        "-- +migrate Up\n"
        "create index a_id on a (id);\n"  # line 11: a second Up section adds to the up
    )})
    [migration] = found.migrations
    assert migration.up.transaction is Transaction.WRAPPED and migration.down.transaction is Transaction.NONE
    assert [(s.line, s.sql.split(" (")[0].split(" returns")[0]) for s in split_script(migration.up)] == [
        (4, "create table a"), (6, "create function f()"), (11, "create index a_id on a")]
    assert [(s.line, s.sql) for s in split_script(migration.down)] == [(9, "drop function f()")]


def test_a_file_without_down_has_an_empty_rollback(tmp_path: Path) -> None:
    found = project(tmp_path, {"1-a.sql": "-- +migrate Up\ncreate table a (id int);\n",
                               "2-b.sql": "-- +migrate Up\nselect 1;\n-- +migrate Down\nselect 2;\n"})
    assert found.rollback_policy is RollbackPolicy.OPTIONAL
    assert found.migrations[0].implicit_down and found.migrations[0].down.sql == ""


def test_a_project_without_any_down_is_forward_only(tmp_path: Path) -> None:
    found = project(tmp_path, {"1-a.sql": "-- +migrate Up\ncreate table a (id int);\n",
                               "2-b.sql": "-- +migrate Up\nselect 1;\n"})
    assert found.rollback_policy is RollbackPolicy.ABSENT
    assert [m.down for m in found.migrations] == [None, None]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("-- +migrate Up\nselect 1;\n-- +migrate StatementBegin\nselect 2;\n", 3, "StatementBegin without StatementEnd"),
    ("-- +migrate \nselect 1;\n", 1, "incomplete migration command"),
])
def test_files_sql_migrate_refuses_are_refusals_at_their_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    found = project(tmp_path, {"1-a.sql": text, "2-b.sql": "-- +migrate Up\nselect 1;\n"})
    [refusal] = found.refusals
    assert words in refusal.message and refusal.line == line
    assert [(m.id, m.up is None) for m in found.migrations] == [("1-a", True), ("2-b", False)]


def test_the_history_table_dbconfig_names_is_the_runners(tmp_path: Path) -> None:
    # sql-migrate's `table:` and `schema:` (command/config.go): a live database then holds that
    # table, which drift must leave out as it leaves out gorp_migrations.
    write_files(tmp_path, {
        ".git/HEAD": "ref: refs/heads/main\n",
        "dbconfig.yml": ("production:\n  dialect: postgres\n  dir: db/migrations\n  table: schema_history\n"
                         "  schema: ops\nsqlite:\n  dialect: sqlite3\n  dir: db/sqlite\n  table: other\n"),
        "db/migrations/1_init.sql": "-- +migrate Up\ncreate table t (a int);\n",
    })
    found = discover(tmp_path / "db" / "migrations", repo_root=tmp_path)
    assert layout_named(found.format).history_tables(found.directory) == {"public.gorp_migrations", "ops.schema_history"}


def test_a_rollback_that_cannot_run_in_its_transaction_is_told_the_down_marker(
        tmp_path: Path, pg_server: Database, capsys: pytest.CaptureFixture[str]) -> None:
    # frain-dev/convoy's 1692024707.sql: its Up opts out of the transaction, its Down does not, and
    # sql-migrate reads the option of each direction on its own (sqlparse.go).
    root = write_files(tmp_path, {"sql/1692024707.sql": (
        "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_idx ON t (a);\n"
        "-- +migrate Down\nDROP INDEX CONCURRENTLY IF EXISTS t_a_idx;\n"),
        "sql/1692000000.sql": "-- +migrate Up\nCREATE TABLE t (a int);\n-- +migrate Down\nDROP TABLE t;\n"})
    code = main(["check", str(root / "sql"), "--database-url", pg_server.conninfo,
                 "--junit-xml", str(tmp_path / "report.xml")])
    out = capsys.readouterr().out
    assert code == 1
    assert "fail rollback: 1692024707.sql:4:1: ERROR 25001: DROP INDEX CONCURRENTLY cannot run inside a transaction" in out
    assert "`-- +migrate Down notransaction` in the rollback" in out
