"""maragu.dev/migrate discovery (harness/gitness): its file names, its order and its choice over
golang-migrate's reading of the same files, as its migrate.go has them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.model import RollbackPolicy, Transaction
from migration_check.servers.base import Database

GO = 'package store\n\nimport "github.com/maragudk/migrate"\n\n//go:embed postgres/*.sql\nvar _ = migrate.New\n'


def project(tmp_path: Path, files: dict[str, str], go: str | None = GO):
    extra = {"store/migrate.go": go} if go else {}
    root = write_files(tmp_path, {**{f"store/postgres/{k}": v for k, v in files.items()}, **extra})
    return discover(root / "store/postgres", repo_root=tmp_path)


def test_names_are_versions_in_file_name_order_with_the_unescaped_dot(tmp_path: Path) -> None:
    # gitness: several files share a number; `0021_x_up.sql` is the up of version 0021_x to migrate.go
    # (`^([\w-]+).up.sql$`, its dot unescaped).
    found = project(tmp_path, {
        "0001_create_table_b_spaces.up.sql": "create table spaces (id int);",
        "0001_create_table_a_principals.up.sql": "create table principals (id int);",
        "0001_create_table_a_principals.down.sql": "drop table principals;",
        "0021_add_internal_up.sql": "alter table spaces add column internal bool;",
        "0021_add_internal_down.sql": "alter table spaces drop column internal;",
        "1-accounts.up.sql": "create table accounts (id int);",
        "notes.txt": "not a migration",
    })
    assert found.format == "maragu-migrate"
    assert "read by maragu.dev/migrate (../migrate.go imports it)" in found.reason
    assert [m.id for m in found.migrations] == [
        "0001_create_table_a_principals", "0001_create_table_b_spaces", "0021_add_internal", "1-accounts"]
    by_id = {m.id: m for m in found.migrations}
    assert by_id["0021_add_internal"].down is not None
    assert by_id["0021_add_internal"].down.path.name == "0021_add_internal_down.sql"
    # A migration without a down file is not undone: its empty rollback is what the round trip judges.
    assert by_id["1-accounts"].implicit_down
    assert [s.path.name for s in found.stray_files] == ["notes.txt"]


def test_without_the_go_code_the_same_files_are_golang_migrates(tmp_path: Path) -> None:
    found = project(tmp_path, {"0001_a.up.sql": "select 1;", "0001_a.down.sql": "select 1;"}, go=None)
    assert found.format == "golang-migrate"


def test_a_project_without_any_down_file_is_forward_only(tmp_path: Path) -> None:
    found = project(tmp_path, {"0001_a.up.sql": "select 1;", "0002_b.up.sql": "select 2;"})
    assert found.format == "maragu-migrate" and found.rollback_policy is RollbackPolicy.ABSENT


def test_every_file_runs_in_the_transaction_of_its_history_row(pg_server: Database, tmp_path: Path) -> None:
    # migrate.go's apply: the version update and the file in one transaction, whatever the file
    # holds, so CREATE INDEX CONCURRENTLY fails there as it fails here.
    root = write_files(tmp_path, {
        "store/migrate.go": GO,
        "store/postgres/0001_a.up.sql": "create table a (id int);",
        "store/postgres/0001_a.down.sql": "drop table a;",
        "store/postgres/0002_index.up.sql": "create index concurrently a_id on a (id);",
        "store/postgres/0002_index.down.sql": "drop index concurrently a_id;",
    })
    found = discover(root / "store/postgres", repo_root=tmp_path)
    assert {s.transaction for m in found.migrations for s in (m.up, m.down)} == {Transaction.WRAPPED}
    report = tmp_path / "report.xml"
    code = main(["check", str(root / "store/postgres"), "--database-url", pg_server.conninfo, "--junit-xml", str(report)])
    [message] = [case.find("failure").attrib["message"] for case in ET.parse(report).getroot().iter("testcase")
                 if case.attrib["classname"] == "migration_check.apply" and case.find("failure") is not None]
    assert code == 1 and "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in message
    assert "maragu.dev/migrate has no way to run a file outside its transaction" in message
