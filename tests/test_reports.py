"""SARIF 2.1.0, the Markdown hygiene report and the JSON of the whole run (issue 14): SARIF
validates against the OASIS schema, the hygiene report is the same on two runs, every file is
readable by other users, and every case has a line."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import jsonschema

from migration_check.cli import main
from migration_check.servers.base import Database

FIXTURES = Path(__file__).parent / "fixtures"


def run(pg_server: Database, tmp_path: Path, name: str) -> tuple[int, Path]:
    root = tmp_path / name
    shutil.copytree(FIXTURES / "action" / "failing", root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    out = tmp_path / f"out-{name}"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "-q", "--junit-xml", str(out / "junit.xml"),
                 "--sarif", str(out / "report.sarif"), "--report", str(out / "hygiene.md"), "--json", str(out / "run.json")])
    return code, out


def test_sarif_validates_and_places_every_failure(pg_server: Database, tmp_path: Path) -> None:
    code, out = run(pg_server, tmp_path, "a")
    document = json.loads((out / "report.sarif").read_text())
    jsonschema.validate(document, json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text()))
    [sarif_run] = document["runs"]
    rules = {rule["id"]: rule for rule in sarif_run["tool"]["driver"]["rules"]}
    assert {"migration-check/roundtrip", "migration-check/reapply", "MC001", "MC012"} <= set(rules)
    assert rules["MC012"]["helpUri"] == "docs/rules.md#mc012-index-without-concurrently"
    results = sarif_run["results"]
    errors = [r for r in results if r["level"] == "error"]
    assert code == 1 and {r["ruleId"] for r in errors} == {"migration-check/roundtrip"}
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "migrations/20250102090000_add_account_email_index.sql"
        assert location["region"]["startLine"] >= 1
        assert rules[result["ruleId"]] is sarif_run["tool"]["driver"]["rules"][result["ruleIndex"]]
    lint = [r for r in results if r["ruleId"] == "MC012"]
    assert lint and lint[0]["level"] == "warning" and lint[0]["locations"][0]["physicalLocation"]["region"]["startColumn"] == 1


def test_the_hygiene_report_is_the_same_on_two_runs(pg_server: Database, tmp_path: Path) -> None:
    _, first = run(pg_server, tmp_path, "a")
    _, second = run(pg_server, tmp_path, "b")
    text = (first / "hygiene.md").read_text()
    assert text == (second / "hygiene.md").read_text()
    assert text.startswith("# Database migrations: hygiene report\n")
    assert "| migrations | 2 |" in text and "1 of 2 migrations have a rollback proven to be a true inverse" in text
    assert "1. **roundtrip** (error) `migrations/20250102090000_add_account_email_index.sql:2`" in text


def test_the_json_has_every_case_with_a_line_and_all_files_are_readable_by_others(pg_server: Database, tmp_path: Path) -> None:
    code, out = run(pg_server, tmp_path, "a")
    document = json.loads((out / "run.json").read_text())
    assert document["exit_code"] == code == 1
    assert document["project"]["migrations"] == ["20250101090000_create_accounts", "20250102090000_add_account_email_index"]
    assert all(case["line"] >= 1 for case in document["results"] if case["file"])
    for name in ("junit.xml", "report.sarif", "hygiene.md", "run.json"):
        mode = (out / name).stat().st_mode
        assert mode & stat.S_IROTH, name


def test_a_migration_with_only_warnings_is_labelled_warn_not_fail() -> None:
    import io

    from migration_check.model import CheckResult, Migration, Severity, Status
    from migration_check.replay.outcomes import MigrationOutcome
    from migration_check.reports.console import Console

    outcome = MigrationOutcome(Migration("1", "add_fk", (1,), None), [
        CheckResult("apply", "1_add_fk", Status.PASSED),
        CheckResult("data", "1_add_fk", Status.FAILED, message="the up fails while the tables hold rows",
                    severity=Severity.WARNING),
    ])
    for fail_on, label in ((Severity.ERROR, "WARN"), (Severity.WARNING, "FAIL")):
        out = io.StringIO()
        Console(out, fail_on=fail_on).migration(outcome)
        assert out.getvalue().split()[0] == label
        assert f"{label.lower()} data: the up fails while the tables hold rows" in out.getvalue()


def test_the_replays_reach_is_told_where_it_left_migrations_out() -> None:
    from migration_check.reports.coverage import ReplayCoverage

    assert ReplayCoverage(301, 262, 32).sentence() == (
        "the replay ran 262 of 301 migrations (39 skipped, 32 of them code or values the replay does not have; each skipped case"
        " says why)")
    assert ReplayCoverage(31, 1, 0).sentence() == "the replay ran 1 of 31 migrations (30 skipped; each skipped case says why)"
