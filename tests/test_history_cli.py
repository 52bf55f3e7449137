"""Issue 3's list through the whole tool, in real git repositories: each problem is exit 1 with a
failing test case naming the file; the clean branch is exit 0."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from migration_check.cli import main
from migration_check.servers.base import Database

MIGRATIONS = "db/migrations"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def write(repo: Path, name: str, sql: str) -> None:
    (repo / MIGRATIONS / name).write_text(sql)


def pair(repo: Path, stem: str, table: str) -> None:
    write(repo, f"{stem}.sql", f"create table {table} (id int);\n")
    write(repo, f"{stem}_rollback.sql", f"drop table {table};\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main has two migrations; the test works on a feature branch made from it."""
    root = tmp_path / "repo"
    (root / MIGRATIONS).mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    pair(root, "20250101000000_create_users", "users")
    pair(root, "20250201000000_create_orders", "orders")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def commit(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change", "--allow-empty")


def missing_rollback(repo: Path) -> str:
    write(repo, "20250301000000_add_items.sql", "create table items (id int);\n")
    return "20250301000000_add_items.sql"


def orphan_rollback(repo: Path) -> str:
    write(repo, "20250301000000_add_items_rollback.sql", "drop table items;\n")
    return "20250301000000_add_items_rollback.sql"


def camel_case_name(repo: Path) -> str:
    pair(repo, "20250301000000_AddItems", "items")
    return "20250301000000_AddItems.sql"


def ten_digit_timestamp(repo: Path) -> str:
    pair(repo, "2025030100_add_items", "items")
    return "2025030100_add_items.sql"


def duplicate_timestamp(repo: Path) -> str:
    pair(repo, "20250201000000_add_items", "items")
    return "20250201000000_add_items.sql"


def out_of_order(repo: Path) -> str:
    pair(repo, "20250301000000_add_items", "items")
    commit(repo)
    git(repo, "checkout", "-q", "main")
    pair(repo, "20250401000000_add_payments", "payments")
    commit(repo)
    git(repo, "checkout", "-q", "feature")
    return "20250301000000_add_items.sql"


def edited_base_migration(repo: Path) -> str:
    write(repo, "20250201000000_create_orders.sql", "create table orders (id int, total numeric);\n")
    return "20250201000000_create_orders.sql"


def deleted_base_migration(repo: Path) -> str:
    (repo / MIGRATIONS / "20250201000000_create_orders.sql").unlink()
    (repo / MIGRATIONS / "20250201000000_create_orders_rollback.sql").unlink()
    return "20250201000000_create_orders.sql"


PROBLEMS: list[Callable[[Path], str]] = [
    missing_rollback, orphan_rollback, camel_case_name, ten_digit_timestamp, duplicate_timestamp,
    out_of_order, edited_base_migration, deleted_base_migration,
]


def run(repo: Path, pg_server: Database) -> tuple[int, list[ET.Element]]:
    report = repo.parent / "report.xml"
    code = main(["check", str(repo), "--base-ref", "main", "--database-url", pg_server.conninfo,
                 "--junit-xml", str(report), "--quiet"])
    failures = [case for case in ET.parse(report).getroot().iter("testcase") if case.find("failure") is not None]
    return code, failures


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda f: f.__name__)
def test_each_problem_fails_naming_the_file(repo: Path, pg_server: Database, problem: Callable[[Path], str]) -> None:
    offending = problem(repo)
    commit(repo)
    code, failures = run(repo, pg_server)
    assert code == 1
    assert any(case.attrib.get("file") == f"{MIGRATIONS}/{offending}" for case in failures), [
        (case.attrib, case.find("failure").attrib["message"]) for case in failures]


def test_clean_branch_passes(repo: Path, pg_server: Database) -> None:
    pair(repo, "20250301000000_add_items", "items")
    commit(repo)
    code, failures = run(repo, pg_server)
    assert (code, failures) == (0, [])


def test_findings_on_merged_migrations_are_warnings_and_the_branchs_own_fail(repo: Path, pg_server: Database) -> None:
    # main already drops a column (lint drop-column, and the rollback cannot give the values back):
    # a finding on production's past, not on this branch. A team adopting the tool on a long history
    # (LemmyNet/lemmy: 231 failures) would otherwise see every pull request fail on it.
    git(repo, "checkout", "-q", "main")
    write(repo, "20250215000000_drop_user_email.sql", "alter table users add column email text;\nalter table users drop column email;\n")
    write(repo, "20250215000000_drop_user_email_rollback.sql", "alter table users add column email text;\n")
    commit(repo)
    git(repo, "checkout", "-qb", "feature-2")
    pair(repo, "20250301000000_add_items", "items")
    commit(repo)
    report = repo.parent / "report.xml"
    code = main(["check", str(repo), "--base-ref", "main", "--database-url", pg_server.conninfo,
                 "--junit-xml", str(report), "--quiet"])
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert code == 0 and [c for c in cases if c.find("failure") is not None] == []
    merged = [c for c in cases if "merged on main already: not this branch's change" in (c.findtext("system-out") or "")]
    assert {c.attrib["classname"] for c in merged} >= {"migration_check.lint"}
    # The same finding in a migration the branch adds fails it.
    write(repo, "20250401000000_drop_item_name.sql", "alter table items add column name text;\nalter table items drop column name;\n")
    write(repo, "20250401000000_drop_item_name_rollback.sql", "alter table items add column name text;\n")
    commit(repo)
    code, failures = run(repo, pg_server)
    assert code == 1 and failures
    assert {case.attrib["file"] for case in failures} == {f"{MIGRATIONS}/20250401000000_drop_item_name.sql"}, [
        (case.attrib, case.find("failure").attrib["message"]) for case in failures]
