"""Drizzle discovery: the journal's list and order, `when` as the version, refusals at file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.errors import FileError
from migration_check.history.linear import OutOfOrder, base_findings, local_findings
from migration_check.history.snapshots import project_snapshot
from migration_check.model import RollbackPolicy, Transaction


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


@pytest.mark.parametrize(("files", "line", "words"), [
    # midday-ai/midday: the journal lists a file that was deleted since.
    ({"meta/_journal.json": journal(("0000_silly_sage", 1)), "0001_x.sql": "select 1;"}, 9,
     "no file 0000_silly_sage.sql: drizzle's migrator stops at this entry"),
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
