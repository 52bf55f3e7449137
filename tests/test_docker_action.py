"""The container action end to end: the repository's Dockerfile built on a real Docker engine and
run the way the GitHub Actions runner runs it (see docker_support.start_action), on the fixture
repositories under tests/fixtures/action/. Skipped, with the reason, where no engine can start."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml

from docker_support import (
    STANDIN_IMAGE,
    TEST_LABEL,
    ActionRun,
    commit_all,
    databases_started_by,
    docker,
    git,
    make_workspace,
    run_action,
    start_action,
    wait_for,
)
from reporter_parsers import parse_with_reporters, skip_reason

pytestmark = pytest.mark.usefixtures("action_image")

FAILING_UP = "migrations/20250102090000_add_account_email_index.sql"


def junit_totals(path: Path) -> dict[str, int]:
    cases = ET.parse(path).getroot().iter("testcase")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        totals["tests"] += 1
        for outcome, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            totals[key] += len(case.findall(outcome))
    return totals


def xml_cases(text: str) -> list[ET.Element]:
    return list(ET.fromstring(text).iter("testcase"))


def explain(run: ActionRun) -> str:
    return f"exit {run.returncode}\n--- stdout\n{run.stdout[-4000:]}\n--- stderr\n{run.stderr[-4000:]}"


def test_a_passing_repository_passes_with_the_postgres_inside_the_image(tmp_path: Path) -> None:
    run = run_action(tmp_path, make_workspace(tmp_path, "passing"))
    assert run.returncode == 0, explain(run)
    assert "postgres: local PostgreSQL 15" in run.stdout
    totals = junit_totals(run.junit())
    assert totals["tests"] > 0 and totals["failures"] == totals["errors"] == 0
    assert run.outputs == {"junit-xml": "migration-check.xml", "passed": str(totals["tests"] - totals["skipped"]),
                           "failed": "0", "skipped": str(totals["skipped"]), "result": "passed"}
    assert run.summary.startswith("## ✅ migration-check:")
    assert "| 20250102090000_add_account_email_index | ✅ |" in run.summary
    # Everything the tool printed sat inside stop-commands: the runner acts on nothing.
    assert run.commands == []
    assert run.stdout.startswith("::stop-commands::")


def test_an_alembic_project_runs_on_the_libraries_the_image_pins(tmp_path: Path) -> None:
    # The image installs requirements.lock with --no-deps: a library Alembic needs and the lock
    # lacks would fail only here, when a Python migration is read.
    run = run_action(tmp_path, make_workspace(tmp_path, "../layouts/alembic/forgotten"))
    assert run.returncode == 1, explain(run)
    assert "format: alembic:" in run.stdout and "touch_updated_at" in run.stdout


def read_as_the_runner(path: Path) -> str:
    """What a later step reads: the runner's steps run as uid 1001, not as the container's root."""
    return subprocess.run(["setpriv", "--reuid=1001", "--regid=1001", "--clear-groups", "cat", str(path)],
                          check=True, capture_output=True, text=True).stdout


def test_the_reports_are_readable_by_the_runners_uid_and_parse_in_the_reporters_parser(tmp_path: Path) -> None:
    # As on a runner: the workspace is the runner's (uid 1001), under directories anyone may enter.
    home = Path(tempfile.mkdtemp(prefix="migration-check-runner-"))
    try:
        home.chmod(0o755)
        workspace = make_workspace(home, "failing")
        subprocess.run(["chown", "-R", "1001:1001", str(workspace)], check=True)
        check_reports_as_the_runner(tmp_path, workspace)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def check_reports_as_the_runner(tmp_path: Path, workspace: Path) -> None:
    run = run_action(tmp_path, workspace,
                     {"junit-xml": "reports/junit.xml", "sarif": "reports/migration-check.sarif", "report": "reports/hygiene.md"})
    assert run.returncode == 1, explain(run)
    junit_text = read_as_the_runner(run.junit("reports/junit.xml"))
    sarif = json.loads(read_as_the_runner(run.junit("reports/migration-check.sarif")))
    hygiene = read_as_the_runner(run.junit("reports/hygiene.md"))
    # EnricoMi/publish-unit-test-result-action reads JUnit with junitparser.
    xml = JUnitXml.fromstring(junit_text)
    failures = [(case.classname, case.name) for suite in xml for case in suite
                if any(isinstance(r, Failure) for r in case.result)]
    # The up cannot run again for the index the rollback left: one finding, the roundtrip's.
    assert sorted(failures) == [("migration_check.roundtrip", "20250102090000_add_account_email_index")]
    errors = [r for r in sarif["runs"][0]["results"] if r["level"] == "error"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in errors] == [
        ("migration-check/roundtrip", FAILING_UP, 2)]
    assert "1 of 2 migrations have a rollback proven to be a true inverse" in hygiene
    # mikepenz/action-junit-report and dorny/test-reporter: their own parsers, run as the runner's uid.
    if skip_reason() is None:
        parsed = parse_with_reporters(run.junit("reports/junit.xml"), workspace, as_uid=1001)
        for reporter in parsed.values():
            assert reporter["failed"] == 1 and reporter["total"] == len(xml_cases(junit_text))
            assert [(a["path"], a["line"]) for a in reporter["annotations"]] == [(FAILING_UP, 2)]


def test_a_failing_repository_fails_with_annotations_summary_and_outputs(tmp_path: Path) -> None:
    run = run_action(tmp_path, make_workspace(tmp_path, "failing"), {"junit-xml": "reports/junit.xml"})
    assert run.returncode == 1, explain(run)
    assert junit_totals(run.junit("reports/junit.xml"))["failures"] == 1
    errors = [c for c in run.commands if c.startswith("::error ")]
    assert len(errors) == 1, run.commands
    # The round trip's annotation lands on the statement that created what the rollback leaves.
    assert errors[0].startswith(f"::error file={FAILING_UP},line=2,title=roundtrip%3A ")
    assert "accounts_email_idx" in errors[0]
    outputs = run.outputs
    assert (outputs["result"], outputs["failed"], outputs["junit-xml"]) == ("failed", "1", "reports/junit.xml")
    assert run.summary.startswith("## ❌ migration-check:")
    # naming, pairing, history, apply, locks, rollback, roundtrip, data, integrity, reapply, lint (a warning)
    assert "| 20250102090000_add_account_email_index | ✅ | ✅ | ✅ | ✅ | ✅ | ✅ | ❌ | ✅ | ✅ | ⏭ | ⚠️ |" in run.summary
    assert "accounts_email_idx" in run.summary


def test_history_against_the_pull_requests_base_branch_in_a_checkout_owned_by_another_user(tmp_path: Path) -> None:
    """As on a runner: the workspace belongs to the runner's user, not to root in the container
    (git refuses such a repository without safe.directory), and base-ref defaults to the PR's base."""
    workspace = make_workspace(tmp_path, "passing")
    git(workspace, "checkout", "-qb", "feature")
    (workspace / "migrations" / "20250105090000_create_notes.sql").write_text("create table notes (id int);\n")
    (workspace / "migrations" / "20250105090000_create_notes_rollback.sql").write_text("drop table notes;\n")
    commit_all(workspace, "add notes")
    subprocess.run(["chown", "-R", "1001:1001", str(workspace)], check=True)
    run = run_action(tmp_path, workspace, event={"base_ref": "main"})
    assert run.returncode == 0, explain(run)
    history = [case for case in ET.parse(run.junit()).getroot().iter("testcase")
               if case.get("classname", "").endswith(".history")]
    assert len(history) == 3 and not any(len(case) for case in history)  # all passed, none skipped


def test_annotations_off(tmp_path: Path) -> None:
    run = run_action(tmp_path, make_workspace(tmp_path, "failing"), {"annotations": "off"})
    assert run.returncode == 1, explain(run)
    assert run.commands == []
    assert run.outputs["result"] == "failed"


def test_postgres_image_runs_as_a_sibling_container_through_the_socket(tmp_path: Path) -> None:
    run = run_action(tmp_path, make_workspace(tmp_path, "passing"), {"postgres-image": STANDIN_IMAGE})
    assert run.returncode == 0, explain(run)
    assert f"postgres: {STANDIN_IMAGE} in Docker (PostgreSQL 15." in run.stdout
    assert "sibling container on network" in run.stdout
    assert databases_started_by(run.id) == []


def test_database_url_uses_an_existing_server_and_masks_its_password(tmp_path: Path) -> None:
    password = "pw-" + secrets.token_hex(8)
    server = docker("run", "-d", "--label", TEST_LABEL, "-e", f"POSTGRES_PASSWORD={password}",
                    STANDIN_IMAGE).stdout.strip()
    try:
        address = docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", server).stdout.strip()
        ready = ["exec", server, "pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
        wait_for(lambda: docker(*ready, check=False).returncode == 0, 60, "the server to accept connections")
        url = f"postgresql://postgres:{password}@{address}:5432/postgres"
        run = run_action(tmp_path, make_workspace(tmp_path, "passing"), {"database-url": url})
        assert run.returncode == 0, explain(run)
        # Masked before anything else, and the runner acts on nothing else.
        assert run.commands == [f"::add-mask::{password}"]
        assert run.stdout.index(f"::add-mask::{password}") < run.stdout.index("::stop-commands::")
        assert run.stdout.count(password) == 1 and password not in run.stderr
        databases = docker("exec", server, "psql", "-U", "postgres", "-Atc", "select datname from pg_database").stdout
        assert "migration_check_" not in databases  # its throwaway database is gone
    finally:
        docker("rm", "-f", "-v", server, check=False)


def test_a_bad_input_is_exit_2_with_a_junit_file_and_result_error(tmp_path: Path) -> None:
    run = run_action(tmp_path, make_workspace(tmp_path, "passing"), {"fail-on": "sometimes"})
    assert run.returncode == 2, explain(run)
    assert "fail-on" in run.stderr
    assert run.junit().exists()
    assert run.outputs["result"] == "error"


def test_sigterm_during_a_run_still_writes_junit_and_removes_the_database(tmp_path: Path) -> None:
    slow = "20250103090000_slow_backfill"
    workspace = make_workspace(tmp_path, "passing", {
        f"migrations/{slow}.sql": "select pg_sleep(120);\n",
        f"migrations/{slow}_rollback.sql": "select 1;\n",
    })
    run = start_action(tmp_path, workspace, {"postgres-image": STANDIN_IMAGE})
    try:
        def sleeping() -> bool:
            for database in databases_started_by(run.id):
                # (The up is sent as one message, after a BEGIN in the same message.)
                query = ("select count(*) from pg_stat_activity"
                         " where query like '%select pg_sleep(120)%' and pid <> pg_backend_pid()")
                result = docker("exec", database, "psql", "-U", "postgres", "-Atc", query, check=False)
                if result.stdout.strip() == "1":
                    return True
            return False

        process = run.process
        assert process is not None
        wait_for(lambda: sleeping() or process.poll() is not None, 120, "the slow migration to start")
        # What the runner does on cancel: a signal, then (after a grace period) the kill.
        docker("stop", "-t", "60", run.name)
        run.wait(timeout=90)
    finally:
        docker("rm", "-f", run.name, check=False)
    assert run.returncode == 2, explain(run)
    assert "::error title=migration-check could not finish::interrupted by SIGTERM" in run.commands
    assert junit_totals(run.junit())["tests"] > 0
    assert run.outputs["result"] == "error"
    assert databases_started_by(run.id) == []
