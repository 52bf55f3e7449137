"""The same verdicts on every run: the generated rows, the order tables are filled in and every
message must not follow Python's hash seed (sets of strings iterate in its order) nor the oids the
server hands out (other databases' objects shift them). Two runs of one project, in processes with
different hash seeds, on databases whose oids differ, give the same JUnit cases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import write_files

# A cycle of keys (a charge's current run is nullable, a run's charge is not), a key a later
# migration adds, rows a rollback loses, and enough tables that set orders would vary.
PROJECT = {
    "migrations/20250101000000_base.sql": (
        "create table customers (id text primary key, email text not null unique, region text);\n"
        "create table charges (id int primary key, customer_id text not null references customers, name text);\n"
        "create table runs (id int primary key, charge_id int not null references charges, total numeric(10, 2));\n"
        "alter table charges add column current_run_id int references runs;\n"
        "create table notes (id int primary key, author text not null, body text);\n"
        "create table tags (id int primary key, note_id int references notes on delete cascade, label text);\n"),
    "migrations/20250101000000_base_rollback.sql": "drop table tags, notes, runs, charges, customers cascade;\n",
    "migrations/20250102000000_author_key.sql": (
        "alter table notes add constraint notes_author_fkey foreign key (author) references customers (id);\n"),
    "migrations/20250102000000_author_key_rollback.sql": "alter table notes drop constraint notes_author_fkey;\n",
    "migrations/20250103000000_drop_region.sql": "alter table customers drop column region;\n",
    "migrations/20250103000000_drop_region_rollback.sql": "alter table customers add column region text;\n",
    "migrations/20250104000000_run_state.sql": "alter table runs add column state text not null default 'open';\n",
    "migrations/20250104000000_run_state_rollback.sql": "alter table runs drop column state;\n",
}


def _cases(report: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
    cases = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome = next(((kind, element.attrib.get("message", "")) for kind in ("failure", "skipped", "error")
                        if (element := case.find(kind)) is not None), ("passed", ""))
        out = re.sub(r"\d+\.\d+s", "", case.findtext("system-out") or "")
        cases[case.attrib["classname"], case.attrib["name"]] = (*outcome, out)
    return cases


def test_two_runs_with_different_hash_seeds_and_oids_give_the_same_cases(pg_server, tmp_path: Path) -> None:
    root = write_files(tmp_path / "project", PROJECT)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    runs = []
    for seed in ("1", "2"):
        report = tmp_path / f"report-{seed}.xml"
        subprocess.run([sys.executable, "-m", "migration_check", "check", str(root), "--database-url", pg_server.conninfo,
                        "--junit-xml", str(report), "-q"], env={**os.environ, "PYTHONHASHSEED": seed},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        runs.append(_cases(report))
    first, second = runs
    assert first == second
    assert ("migration_check.data", "20250103000000_drop_region") in first  # (the project ran)
    assert "not covered" not in "".join(out for _, _, out in first.values())
