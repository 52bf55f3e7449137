"""dbmate discovery: sections of one file, transaction options, line offsets, refusals."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover, layout_named
from migration_check.history import static_checks
from migration_check.model import Status, Transaction
from migration_check.servers.base import Database
from migration_check.settings import Settings


def project(tmp_path: Path, files: dict[str, str]):
    return discover(write_files(tmp_path, files), repo_root=tmp_path)


def test_sections_order_and_line_offsets(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "db/migrations/20240102000000_add_orders.sql": """
            -- Orders.
            -- migrate:up
            create table orders (id int);

            -- migrate:down
            drop table orders;
        """,
        "db/migrations/20240101000000_add_users.sql": "-- migrate:up\ncreate table users (id int);\n",
        "db/migrations/.keep": "",
        "db/migrations/notes.txt": "x",
    })
    assert found.format == "dbmate"
    assert found.reason == "2 files with -- migrate:up markers"
    assert [m.id for m in found.migrations] == ["20240101000000_add_users", "20240102000000_add_orders"]
    users, orders = found.migrations
    assert users.down is None
    assert orders.up.first_line == 3 and orders.up.sql.startswith("create table orders")
    assert orders.down.first_line == 6 and orders.down.sql == "drop table orders;\n"
    assert orders.files == (orders.up.path,) and orders.down.path == orders.up.path
    assert [s.path.name for s in found.stray_files] == ["notes.txt"]


def test_transaction_false_applies_to_its_own_section(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "db/migrations/20240101000000_index.sql": """
            -- migrate:up transaction:false
            create index concurrently i on t (a);
            -- migrate:down
            drop index i;
        """,
    })
    migration = found.migrations[0]
    assert migration.up.transaction is Transaction.NONE
    assert migration.down.transaction is Transaction.WRAPPED


def test_dash_separator_and_duplicate_versions_are_kept(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "db/migrations/20240101000000-first.sql": "-- migrate:up\nselect 1;\n",
        "db/migrations/20240101000000_second.sql": "-- migrate:up\nselect 2;\n",
    })
    assert [(m.version, m.name) for m in found.migrations] == [("20240101000000", "first"), ("20240101000000", "second")]


def test_file_without_up_marker_is_stray(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "db/migrations/20240101000000_a.sql": "-- migrate:up\nselect 1;\n",
        "db/migrations/20240102000000_b.sql": "select 2;\n",
    })
    assert [(s.path.name, "migrate:up" in s.reason) for s in found.stray_files] == [("20240102000000_b.sql", True)]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("create table t (a int);\n-- migrate:up\nselect 1;\n", 1, "before -- migrate:up"),
        ("-- migrate:down\ndrop table t;\n-- migrate:up\nselect 1;\n", 1, "comes before"),
        ("-- migrate:up\nselect 1;\n-- migrate:down\nselect 2;\n-- migrate:down\nselect 3;\n", 5, "a second"),
    ],
)
def test_files_dbmate_refuses_are_refusals_at_their_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    write_files(tmp_path, {"db/migrations/20240101000000_a.sql": text,
                           "db/migrations/20240102000000_b.sql": "-- migrate:up\nselect 1;\n-- migrate:down\nselect 2;\n"})
    found = discover(tmp_path, repo_root=tmp_path)
    [refusal] = found.refusals
    assert refusal.line == line and words in refusal.message
    assert [(m.version, m.up is None, bool(m.skip_reason)) for m in found.migrations] == [
        ("20240101000000", True, True), ("20240102000000", False, False)]


def test_file_name_order_is_the_only_order(tmp_path: Path) -> None:
    # dbmate applies files sorted by name: 10_b.sql before 1_a.sql. That is its order, not an
    # ambiguity (the history check reports one only where the runner compares numbers).
    found = project(tmp_path, {"db/migrations/1_a.sql": "-- migrate:up\nselect 1;\n-- migrate:down\nselect 1;\n",
                               "db/migrations/10_b.sql": "-- migrate:up\nselect 2;\n-- migrate:down\nselect 2;\n"})
    assert [m.id for m in found.migrations] == ["10_b", "1_a"]
    history = [r for r in static_checks(found, Settings()) if r.check == "history"]
    assert {r.status for r in history} <= {Status.PASSED, Status.SKIPPED}


def test_a_marker_ends_at_white_space(tmp_path: Path) -> None:
    # dbmate's `migrate:down(\s*$|\s+\S+)`: `-- migrate:downgrade notes` is a comment.
    found = project(tmp_path, {"db/migrations/20240101000000_a.sql":
                               "-- migrate:up\nselect 1;\n-- migrate:downgrade notes\n-- migrate:down\tx:y\nselect 2;\n"})
    assert found.migrations[0].up.sql == "select 1;\n-- migrate:downgrade notes\n"
    assert found.migrations[0].down.first_line == 5


# UPchieve/subway's formatter indented three files' `-- migrate:down`: dbmate reads it as a comment.
INDENTED_DOWN = """\
-- migrate:up
CREATE TABLE cities (name text, state text);

ALTER TABLE cities
    ADD CONSTRAINT unique_city_name_state UNIQUE (name, state)
    -- migrate:down
    DROP CONSTRAINT IF EXISTS unique_city_name_state;

DROP TABLE IF EXISTS cities;
"""


def test_an_indented_down_marker_is_a_comment_and_the_messages_say_so(tmp_path: Path) -> None:
    found = project(tmp_path, {"db/migrations/20240101000000_cities.sql": INDENTED_DOWN})
    [migration] = found.migrations
    assert migration.down is None and "DROP TABLE" in migration.up.sql
    [pairing] = [r for r in static_checks(found, Settings()) if r.check == "pairing"]
    assert pairing.status is Status.FAILED
    assert "line 6's `-- migrate:down` is indented, and dbmate reads a marker only at the start of a line" in (
        pairing.message)


def test_without_a_down_section_dbmate_2_refuses_the_file(tmp_path: Path) -> None:
    found = project(tmp_path, {"db/migrations/20240101000000_a.sql": "-- migrate:up\nselect 1;\n"})
    [pairing] = [r for r in static_checks(found, Settings()) if r.check == "pairing"]
    assert "add a `-- migrate:down` section (dbmate 2.0 and later refuses a file without one)" in pairing.message


def test_the_up_failing_after_an_indented_marker_says_why_it_ran(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path, {"db/migrations/20240101000000_cities.sql": INDENTED_DOWN})
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "--quiet"])
    [apply] = [c for c in ET.parse(report).getroot().iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    message = apply.find("failure").attrib["message"]
    assert code == 1
    assert "_cities.sql:7:5: ERROR 42601: syntax error at or near \"DROP\" (line 6's `-- migrate:down` is indented" in message


def test_the_history_table_the_env_names_is_the_runners(tmp_path: Path) -> None:
    # dbmate reads .env: DBMATE_MIGRATIONS_TABLE ([schema.]table) names its history table, which a
    # live database then holds and drift must leave out.
    write_files(tmp_path, {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".env": "# dbmate\nDATABASE_URL=postgres://x\nexport DBMATE_MIGRATIONS_TABLE='ops.dbmate_versions'\n",
        "db/migrations/20240101000000_init.sql": "-- migrate:up\ncreate table t (a int);\n-- migrate:down\ndrop table t;\n",
    })
    found = discover(tmp_path / "db" / "migrations", repo_root=tmp_path)
    assert layout_named(found.format).history_tables(found.directory) == {"public.schema_migrations", "ops.dbmate_versions"}
