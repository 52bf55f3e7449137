"""The integrity family (issue 11): after a rollback, every foreign key, check and NOT NULL holds
for every row of the tables the migration touched. Through the CLI, on a real PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database

BASE = {
    "migrations/20250101000000_clinics.sql": (
        "create table clinics (id int primary key, name text not null);\n"
        "create table appointments (id int primary key, clinic_id int references clinics, total int,"
        " constraint appointments_total_check check (total >= 0));\n"
        "insert into clinics values (1, 'north'), (2, 'south');\n"
        "insert into appointments values (10, 1, 5), (11, 2, 7);\n"
    ),
    "migrations/20250101000000_clinics_rollback.sql": "drop table appointments; drop table clinics;\n",
}


def integrity(pg_server: Database, tmp_path: Path, up: str, down: str) -> tuple[int, ET.Element]:
    root = write_files(tmp_path / "repo", {**BASE, "migrations/20250102000000_change.sql": up,
                                           "migrations/20250102000000_change_rollback.sql": down})
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    [case] = [c for c in ET.parse(report).getroot().iter("testcase")
              if c.attrib["classname"] == "migration_check.integrity" and c.attrib["name"] == "20250102000000_change"]
    return code, case


@pytest.mark.parametrize(("up", "down", "expected"), [
    # Orphans behind a foreign key that still says it is valid.
    ("alter table appointments add column note text;\n",
     "alter table appointments drop column note;\nset session_replication_role = replica;\ndelete from clinics where id = 2;\n",
     # The row the base inserted, and a generated row that references clinic 2.
     "constraint appointments_clinic_id_fkey on public.appointments: 2 rows with no matching row in public.clinics"
     " (e.g. (11,2,7))"),
    # A check the rollback puts back as NOT VALID over rows the up let in.
    ("alter table appointments drop constraint appointments_total_check;\ninsert into appointments values (12, 1, -3);\n",
     "alter table appointments add constraint appointments_total_check check (total >= 0) not valid;\n",
     "constraint appointments_total_check on public.appointments: 1 row failing it (e.g. (12,1,-3))"),
])
def test_rows_that_break_their_constraints_after_a_rollback_fail(pg_server: Database, tmp_path: Path,
                                                                 up: str, down: str, expected: str) -> None:
    code, case = integrity(pg_server, tmp_path, up, down)
    failure = case.find("failure")
    assert code == 1 and failure is not None
    assert expected in failure.attrib["message"]


def test_a_rollback_that_deletes_children_before_parents_passes(pg_server: Database, tmp_path: Path) -> None:
    code, case = integrity(pg_server, tmp_path, "insert into clinics values (3, 'east');\ninsert into appointments values (12, 3, 1);\n",
                           "delete from appointments where clinic_id = 3;\ndelete from clinics where id = 3;\n")
    assert case.find("failure") is None and case.find("skipped") is None
    assert code == 0
