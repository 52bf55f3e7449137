"""Drizzle discovery: the journal's list and order, `when` as the version, refusals at file:line."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.errors import FileError
from migration_check.history.linear import OutOfOrder, base_findings, local_findings
from migration_check.history.snapshots import project_snapshot
from migration_check.model import RollbackPolicy, Transaction
from migration_check.servers.base import Database


def journal(*entries: tuple[str, int], dialect: str = "postgresql") -> str:
    return json.dumps({"version": "7", "dialect": dialect, "entries": [
        {"idx": i, "version": "7", "when": when, "tag": tag, "breakpoints": True}
        for i, (tag, when) in enumerate(entries)]}, indent=2)


def project(tmp_path: Path, files: dict[str, str]):
    return discover(write_files(tmp_path, {f"drizzle/{k}": v for k, v in files.items()}), repo_root=tmp_path)


def test_the_journal_lists_and_orders_the_migrations(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "meta/_journal.json": journal(("0001_b", 1704535200000), ("0000_a", 1704448800000)),
        "0000_a.sql": 'CREATE TABLE "a" ("id" integer);\n--> statement-breakpoint\nCREATE INDEX "a_id" ON "a" ("id");\n',
        "0001_b.sql": "select 1;\n",
        "0002_hand_written.sql": "select 2;\n",
    })
    assert found.format == "drizzle" and found.rollback_policy is RollbackPolicy.ABSENT
    assert [(m.version, m.name) for m in found.migrations] == [("1704535200000", "0001_b"), ("1704448800000", "0000_a")]
    assert all(m.up.transaction is Transaction.WRAPPED and m.down is None for m in found.migrations)
    assert [(s.path.name, s.reason) for s in found.stray_files] == [
        ("0002_hand_written.sql", "drizzle never runs it: meta/_journal.json does not list it")]


def test_an_entry_without_its_file_is_a_history_failure_and_the_others_are_still_judged(tmp_path: Path) -> None:
    # midday-ai/midday: the journal lists a file that was deleted since. drizzle's migrator runs
    # none then; the run used to stop there, with no verdict for anything else.
    found = project(tmp_path, {"meta/_journal.json": journal(("0000_silly_sage", 1), ("0001_x", 2)),
                               "0001_x.sql": "select 1;", "0002_loose.sql": "select 2;"})
    [refusal] = found.refusals
    assert (refusal.path.name, refusal.line) == ("_journal.json", 9)
    assert refusal.message == ("no file 0000_silly_sage.sql: drizzle's migrator stops at this entry (\"No file ..."
                               " found\") and runs no migration")
    missing, listed = found.migrations
    assert (missing.name, missing.up, missing.refused) == ("0000_silly_sage", None, True)
    assert missing.skip_reason == "drizzle's migrator stops at it (meta/_journal.json line 9): no file 0000_silly_sage.sql"
    assert listed.name == "0001_x" and listed.up is not None
    assert [s.path.name for s in found.stray_files] == ["0002_loose.sql"]


@pytest.mark.parametrize(("files", "line", "words"), [
    ({"meta/_journal.json": journal(("0000_a", 1), dialect="sqlite"), "0000_a.sql": "select 1;"}, 3,
     'dialect "sqlite": these are migrations for another database'),
    ({"meta/_journal.json": "{\n  \"entries\": [\n", "0000_a.sql": "select 1;"}, 3, "not JSON"),
    ({"meta/_journal.json": journal(("../../outside", 1)), "0000_a.sql": "select 1;"}, 9,
     "its tag must name a file here"),
])
def test_a_journal_drizzle_cannot_use_stops_the_run_at_its_line(tmp_path: Path, files: dict[str, str], line: int,
                                                              words: str) -> None:
    with pytest.raises(FileError) as raised:
        project(tmp_path, files)
    assert raised.value.line == line and words in raised.value.message


def test_an_entry_made_before_one_the_base_merged_since_is_out_of_order(tmp_path: Path) -> None:
    # drizzle runs an entry only when its `when` is later than the newest applied: production,
    # which has the base's 0006, would skip the branch's older 0006 for good.
    base = project(tmp_path / "base", {"meta/_journal.json": journal(("0005_a", 5), ("0006_base", 7)),
                                       "0005_a.sql": "select 5;", "0006_base.sql": "select 7;"})
    branch = project(tmp_path / "branch", {"meta/_journal.json": journal(("0005_a", 5), ("0006_base", 7), ("0006_mine", 6)),
                                           "0005_a.sql": "select 5;", "0006_base.sql": "select 7;",
                                           "0006_mine.sql": "select 6;"})
    mine, ours = project_snapshot(branch), project_snapshot(base)
    assert local_findings(mine, unambiguous=True) == []
    [finding] = base_findings(mine, merge_base=ours, tip=ours)
    assert isinstance(finding, OutOfOrder) and finding.path == "drizzle/0006_mine.sql"


def run(pg_server: Database, root: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[tuple[str, str], ET.Element]]:
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q", *extra])
    return code, {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


STATUS = ('CREATE TYPE "status" AS ENUM(\'open\');\n--> statement-breakpoint\n'
          'CREATE TABLE "tasks" ("id" integer, "status" "status" DEFAULT \'open\');\n')
LABEL = 'ALTER TYPE "public"."status" ADD VALUE \'archived\';\n'
USE = 'UPDATE "tasks" SET "status" = \'archived\' WHERE "id" < 0;\n'


def test_every_migration_at_once_and_the_branchs_at_once_on_the_base(pg_server: Database, tmp_path: Path) -> None:
    # drizzle runs every pending migration in one transaction. On a new database the type is made
    # in it too, so its new label may be used; on production, which has the base's type, the
    # branch's label and its use arrive in one transaction, where PostgreSQL refuses the use.
    root = write_files(tmp_path / "repo", {"drizzle/meta/_journal.json": journal(("0000_status", 1)),
                                           "drizzle/0000_status.sql": STATUS})
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.email=dev@example.com", "-c", "user.name=dev", "add", "-A")
    git(root, "-c", "user.email=dev@example.com", "-c", "user.name=dev", "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    write_files(root, {"drizzle/meta/_journal.json": journal(("0000_status", 1), ("0001_label", 2), ("0002_use", 3)),
                       "drizzle/0001_label.sql": LABEL, "drizzle/0002_use.sql": USE})
    code, cases = run(pg_server, root, tmp_path)
    assert code == 0, "each migration applies on its own, and all of them at once on a new database"
    assert cases["migration_check.apply", "every migration in one transaction"].findtext("system-out") == (
        "drizzle runs every pending migration in one transaction, and so on a new database: all 3 apply")
    code, cases = run(pg_server, root, tmp_path, "--base-ref", "main")
    branch = cases["migration_check.apply", "the branch's migrations in one transaction"].find("failure")
    assert code == 1 and branch is not None
    assert branch.attrib["message"].startswith(
        "drizzle runs every pending migration in one transaction, and so the branch's on the base's schema when"
        " deployed: drizzle/0002_use.sql:1:")
    assert 'ERROR 55P04: unsafe use of new value "archived" of enum type status' in branch.attrib["message"]
    assert "(drizzle/0001_label.sql:1 adds it in the same transaction" in branch.attrib["message"]


def test_the_run_ends_with_every_migration_applied_after_the_one_transaction_pass(pg_server: Database,
                                                                                   tmp_path: Path) -> None:
    # The pass works on a fresh database; drift, after it, reads the state every migration makes.
    root = write_files(tmp_path / "repo", {
        "drizzle/meta/_journal.json": journal(("0000_status", 1), ("0001_label", 2)),
        "drizzle/0000_status.sql": STATUS, "drizzle/0001_label.sql": LABEL,
        "schema.sql": "CREATE TYPE status AS ENUM ('open', 'archived');\n"
                      "CREATE TABLE tasks (id integer, status status DEFAULT 'open');\n",
    })
    code, cases = run(pg_server, root, tmp_path, "--drift-schema", str(root / "schema.sql"))
    drift = [c for (classname, _), c in cases.items() if classname == "migration_check.drift"]
    assert code == 0 and drift and all(c.find("failure") is None for c in drift)


def test_a_file_that_commits_on_its_own_does_not_leave_the_pass_behind(pg_server: Database, tmp_path: Path) -> None:
    # dittofeed/dittofeed: a drizzle file with BEGIN ... COMMIT of its own ends the one transaction
    # early, so what ran before it stays; the ups one by one then start again from a fresh database.
    root = write_files(tmp_path / "repo", {
        "drizzle/meta/_journal.json": journal(("0000_status", 1), ("0001_column", 2)),
        "drizzle/0000_status.sql": STATUS,
        "drizzle/0001_column.sql": 'BEGIN;\nALTER TABLE "tasks" ADD COLUMN "parent" integer;--> statement-breakpoint\n'
                                   'CREATE INDEX "tasks_parent" ON "tasks" ("parent");\n\nCOMMIT;\n',
    })
    code, cases = run(pg_server, root, tmp_path)
    assert code == 0
    assert cases["migration_check.apply", "every migration in one transaction"].findtext("system-out") == (
        "drizzle runs every pending migration in one transaction, and so on a new database: all 2 apply")


def test_ignoring_files_keeps_what_the_runner_does_with_the_rest(tmp_path: Path) -> None:
    # `ignore` in the config once dropped the one transaction for all (and seeds, the declared schema).
    root = write_files(tmp_path, {"drizzle/meta/_journal.json": journal(("0000_status", 1)),
                                  "drizzle/0000_status.sql": STATUS, "drizzle/notes.txt": "x"})
    found = discover(root / "drizzle", repo_root=root, ignore=["notes.txt"])
    assert found.pending_in_one_transaction and found.stray_files == []


def test_drizzle_kit_1_writes_a_folder_per_migration_and_no_journal(tmp_path: Path) -> None:
    # BrackeysCommunity/brackeys.community (drizzle-kit 1.0.0-rc.4): read as Prisma's folders, its
    # migrations lost drizzle's one transaction and its history table.
    snapshot = '{\n  "version": "8",\n  "dialect": "postgres"\n}\n'
    write_files(tmp_path, {
        "drizzle/20260730185257_init/migration.sql": "create table users (id int);\n--> statement-breakpoint\n"
                                                     "create table posts (id int);\n",
        "drizzle/20260730185257_init/snapshot.json": snapshot,
        "drizzle/20260731052621_add-published/migration.sql": "alter table posts add column published_at timestamptz;\n",
        "drizzle/20260731052621_add-published/snapshot.json": snapshot,
        "drizzle/20260801000000_empty/snapshot.json": snapshot,  # no migration.sql: skipped
        "drizzle/README.md": "generated by drizzle-kit\n",
        "drizzle/notes.sql": "select 1;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "drizzle" and found.reason.startswith(
        "2 <timestamp>_<name>/migration.sql folders with snapshot.json (drizzle-kit 1)")
    assert [(m.id, m.version) for m in found.migrations] == [
        ("20260730185257_init", "20260730185257"), ("20260731052621_add-published", "20260731052621")]
    assert found.pending_in_one_transaction
    assert [s.path.name for s in found.stray_files] == ["notes.sql"]


def test_drizzle_kit_1_snapshots_of_another_dialect_are_refused(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "drizzle/20260730185257_init/migration.sql": "CREATE TABLE `users` (`id` int);\n",
        "drizzle/20260730185257_init/snapshot.json": '{\n  "version": "6",\n  "dialect": "mysql"\n}\n',
    })
    with pytest.raises(FileError, match=r'snapshot.json:3: dialect "mysql": these are migrations for another database'):
        discover(tmp_path, repo_root=tmp_path)
