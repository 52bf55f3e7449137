"""The JUnit file as the JavaScript reporters read it: mikepenz/action-junit-report and
dorny/test-reporter (`phpunit-junit`), their own parsers (vendored under tests/reporters/) run
under Node.js on a real run's report. Each must count what the report holds and place every
failure at its file:line, titled with the check's name (EnricoMi's junitparser is in the Docker
test)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database
from reporter_parsers import parse_with_reporters, skip_reason

reason = skip_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")

# Failures of several families: a lint error, lost data, a rollback that is not an inverse (and so
# an up that does not apply again), an up that does not apply, and the migrations after it.
PROJECT = {
    "supabase/migrations/20250101000000_users.sql": "create table users (id int primary key, email text);\n",
    "supabase/migrations/20250101000000_users_rollback.sql": "drop table users;\n",
    "supabase/migrations/20250102000000_drop_email.sql": "alter table users drop column email;\n",
    "supabase/migrations/20250102000000_drop_email_rollback.sql": "alter table users add column email text;\n",
    "supabase/migrations/20250103000000_index.sql": "select 1;\ncreate index users_id_idx on users (id);\n",
    "supabase/migrations/20250103000000_index_rollback.sql": "select 1;\n",
    "supabase/migrations/20250104000000_broken.sql": "create table notes (id int);\n\nalter table nowhere add column x int;\n",
    "supabase/migrations/20250104000000_broken_rollback.sql": "drop table notes;\n",
    "supabase/migrations/20250105000000_later.sql": "create table later (id int);\n",
    "supabase/migrations/20250105000000_later_rollback.sql": "drop table later;\n",
}


def expected_from(root: ET.Element) -> tuple[dict[str, int], Counter[tuple[str, int, str]]]:
    totals = Counter(tests=0, failed=0, skipped=0)
    failures: Counter[tuple[str, int, str]] = Counter()
    for case in root.iter("testcase"):
        totals["tests"] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            totals["failed"] += 1
            check = case.attrib["classname"].removeprefix("migration_check.")
            failures[(case.attrib["file"], int(case.attrib["line"]), check)] += 1
        elif case.find("skipped") is not None:
            totals["skipped"] += 1
    return dict(totals), failures


def test_both_reporters_count_the_run_and_place_every_failure_at_its_file_and_line(
        pg_server: Database, tmp_path: Path) -> None:
    workspace = write_files(tmp_path / "repo", PROJECT)
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    subprocess.run(["git", "-C", str(workspace), "add", "-A"], check=True)
    junit = tmp_path / "junit.xml"
    code = main(["check", str(workspace), "--database-url", pg_server.conninfo, "--junit-xml", str(junit)])
    assert code == 1
    totals, failures = expected_from(ET.parse(junit).getroot())
    assert {"lint", "data", "roundtrip", "apply"} <= {check for _, _, check in failures}, failures
    assert ("supabase/migrations/20250104000000_broken.sql", 3, "apply") in failures

    parsed = parse_with_reporters(junit, workspace)
    for name, reporter in parsed.items():
        assert (reporter["total"], reporter["failed"], reporter["skipped"]) == (
            totals["tests"], totals["failed"], totals["skipped"]), name
        assert reporter["passed"] == totals["tests"] - totals["failed"] - totals["skipped"], name
    # Where each puts a failure, and whether its title names the check.
    mikepenz = Counter((a["path"], a["line"], a["title"].split(": ")[0]) for a in parsed["mikepenz"]["annotations"])
    dorny = Counter((a["path"], a["line"], a["title"].split(" ► ")[0].removeprefix("migration_check.")) for a in parsed["dorny"]["annotations"])
    assert mikepenz == failures
    assert dorny == failures
