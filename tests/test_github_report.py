"""GitHub runner I/O, without a runner: escaping, which annotations are shown, the job summary,
step outputs, masks and stop-commands, on RunReports built here."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from docker_support import parse_outputs, runner_commands
from migration_check import action
from migration_check.model import CheckResult, Migration, Project, RollbackPolicy, RunReport, Script, Severity, Status
from migration_check.reports import github
from migration_check.settings import Settings


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(github._State, "token", None)
    monkeypatch.setattr(github._State, "masked", set())
    monkeypatch.setattr(github._State, "published", False)


@pytest.fixture
def runner_env(tmp_path: Path) -> dict[str, str]:
    for name in ("summary.md", "output.txt"):
        (tmp_path / name).touch()
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }


def result(check: str, subject: str, status: Status = Status.FAILED, **kw: object) -> CheckResult:
    return CheckResult(check=check, subject=subject, status=status, **kw)  # type: ignore[arg-type]


def report_of(*results: CheckResult, error: str | None = None, tmp: Path = Path("/repo")) -> RunReport:
    project = Project(format="timestamp", reason="test", directory=tmp / "migrations", repo_root=tmp,
                      migrations=[], rollback_policy=RollbackPolicy.REQUIRED)
    return RunReport(project=project, results=list(results), server="local PostgreSQL 15", seconds=1.5, error=error)


# --- escaping --------------------------------------------------------------------------------------

def test_data_escaping_keeps_a_command_on_one_line() -> None:
    assert github.escape_data("100%\r\nnext") == "100%25%0D%0Anext"


def test_property_escaping_also_covers_colon_and_comma() -> None:
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_user_text_cannot_start_a_command_of_its_own() -> None:
    line = github.command("error", "syntax error\n::add-mask::x\n::set-output name=a::b", file="m,1:2.sql", line=3,
                          title="apply: x")
    assert "\n" not in line
    assert line == ("::error file=m%2C1%3A2.sql,line=3,title=apply%3A x::"
                    "syntax error%0A::add-mask::x%0A::set-output name=a::b")


def test_command_leaves_out_empty_properties() -> None:
    assert github.command("notice", "hi", file=None, line=None, title="t") == "::notice title=t::hi"


# --- annotations -----------------------------------------------------------------------------------

def test_most_important_findings_first_and_errors_before_warnings() -> None:
    report = report_of(
        result("naming", "a.sql", file="a.sql", message="bad name"),
        result("lint", "002_x", severity=Severity.WARNING, message="drop column"),
        result("roundtrip", "002_x", file="002_x.sql", line=4, message="index left behind"),
        result("apply", "003_y", file="003_y.sql", line=2, message="syntax error", details="ERROR: 42601"),
        result("apply", "001_ok", status=Status.PASSED),
    )
    lines = github.annotation_commands(report, Severity.ERROR, "report.xml")
    kinds = [re.match(r"::(\w+)", line)[1] for line in lines]  # type: ignore[index]
    assert kinds == ["error", "error", "error", "warning"]
    assert lines[0].startswith("::error file=003_y.sql,line=2,title=apply%3A 003_y::syntax error%0AERROR: 42601")
    assert "roundtrip" in lines[1] and "naming" in lines[2] and "lint" in lines[3]


def test_warnings_fail_the_run_with_fail_on_warning() -> None:
    report = report_of(result("lint", "002_x", severity=Severity.WARNING, message="drop column"))
    assert github.annotation_commands(report, Severity.WARNING, "r")[0].startswith("::error ")


def test_annotations_are_capped_per_level_with_one_notice_for_the_rest() -> None:
    errors = [result("apply", f"{i:03}_m", file=f"{i:03}_m.sql", message="boom") for i in range(14)]
    warnings = [result("lint", f"{i:03}_m", severity=Severity.WARNING, message="risky") for i in range(12)]
    lines = github.annotation_commands(report_of(*errors, *warnings), Severity.ERROR, "the JUnit report (r.xml)")
    assert sum(line.startswith("::error ") for line in lines) == github.ANNOTATIONS_PER_LEVEL
    assert sum(line.startswith("::warning ") for line in lines) == github.ANNOTATIONS_PER_LEVEL
    assert lines[-1].startswith("::notice ")
    assert "6 more findings" in lines[-1] and "r.xml" in lines[-1]
    # The first ten in replay order are the ones shown.
    assert "000_m" in lines[0] and "009_m" in lines[9]


def test_an_early_error_is_the_first_annotation() -> None:
    lines = github.annotation_commands(report_of(error="cannot connect to PostgreSQL"), Severity.ERROR, "r")
    assert lines == ["::error title=migration-check could not finish::cannot connect to PostgreSQL"]


def test_long_details_are_cut_in_the_annotation() -> None:
    details = "\n".join(f"line {i}" for i in range(30))
    line = github.annotation_commands(report_of(result("roundtrip", "m", message="diff", details=details)),
                              Severity.ERROR, "r")[0]
    assert "line 9" in line and "line 10%0A" not in line and "20 more lines" in line


# --- job summary -----------------------------------------------------------------------------------

def test_summary_has_totals_a_matrix_and_the_failures() -> None:
    report = report_of(
        result("naming", "001_a", Status.PASSED),
        result("apply", "001_a", Status.PASSED),
        result("rollback", "001_a", Status.PASSED),
        result("naming", "002_b", Status.PASSED),
        result("apply", "002_b", Status.PASSED),
        result("rollback", "002_b", file="m/002_b_rollback.sql", line=1, message="schema differs",
               details="+ index users_email_idx"),
        result("rollback", "003_c", Status.SKIPPED, message="not run"),
    )
    text = github.summary_markdown(report, Severity.ERROR, "the JUnit report (r.xml)")
    assert text.startswith("## ❌ migration-check: 5 passed, 1 failed, 1 skipped")
    assert "| migration | naming | apply | rollback |" in text
    assert "| 001_a | ✅ | ✅ | ✅ |" in text
    assert "| 002_b | ✅ | ✅ | ❌ |" in text
    assert "| 003_c |  |  | ⏭ |" in text
    assert "`m/002_b_rollback.sql:1`" in text
    assert "```text\nschema differs\n+ index users_email_idx\n```" in text


def test_per_file_results_go_on_their_migrations_row(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    up, down = directory / "001_a.sql", directory / "001_a_rollback.sql"
    migration = Migration(version="001", name="a", sort_key=(1,), up=Script(up, ""), down=Script(down, ""))
    report = report_of(result("naming", "001_a.sql", Status.PASSED, file="migrations/001_a.sql"),
                       result("naming", "001_a_rollback.sql", file="migrations/001_a_rollback.sql", message="x"),
                       result("apply", "001_a", Status.PASSED, file="migrations/001_a.sql"), tmp=tmp_path)
    report.project.migrations.append(migration)  # type: ignore[union-attr]
    text = github.summary_markdown(report, Severity.ERROR, "r")
    assert "| 001_a | ❌ | ✅ |" in text and "001_a.sql |" not in text


def test_summary_cells_and_blocks_cannot_break_the_markdown() -> None:
    report = report_of(result("apply", "a|b<script>", message="x", details="```\ninjected\n```"))
    text = github.summary_markdown(report, Severity.ERROR, "r")
    assert "| a\\|b&lt;script&gt; |" in text
    assert "````text\nx\n```\ninjected\n```\n````" in text


def test_summary_of_a_run_that_could_not_finish() -> None:
    text = github.summary_markdown(report_of(error="no Docker engine"), Severity.ERROR, "r")
    assert text.startswith("## 💥 migration-check:")
    assert "**The run could not finish:** no Docker engine" in text


def test_summary_stays_under_githubs_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(github, "SUMMARY_BUDGET", 2_000)
    findings = [result("apply", f"m{i}", message="boom", details="x" * 300) for i in range(40)]
    text = github.summary_markdown(report_of(*findings), Severity.ERROR, "the JUnit report (r.xml)")
    assert "more findings, in the JUnit report (r.xml)." in text
    assert len(text.encode()) < 2_000 + 4_000  # the budget bounds the findings; the matrix is extra


# --- outputs and publish ---------------------------------------------------------------------------

def test_output_lines_use_a_heredoc_when_a_value_has_a_newline() -> None:
    assert github.output_lines("result", "passed") == "result=passed\n"
    block = github.output_lines("junit-xml", "a\nb")
    name, delimiter = block.splitlines()[0].split("<<")
    assert name == "junit-xml" and block == f"junit-xml<<{delimiter}\na\nb\n{delimiter}\n"


def test_publish_writes_annotations_summary_and_outputs(runner_env: dict[str, str], tmp_path: Path) -> None:
    report = report_of(result("apply", "001_a", Status.PASSED),
                       result("apply", "002_b", file="002_b.sql", line=3, message="boom"),
                       result("rollback", "002_b", Status.SKIPPED, message="apply failed"), tmp=tmp_path)
    out = io.StringIO()
    github.publish(report, Settings(), tmp_path / "reports" / "junit.xml", runner_env, out)
    assert out.getvalue().splitlines() == ["::error file=002_b.sql,line=3,title=apply%3A 002_b::boom"]
    assert parse_outputs((tmp_path / "output.txt").read_text()) == {
        "junit-xml": "reports/junit.xml", "passed": "1", "failed": "1", "skipped": "1", "result": "failed"}
    assert "| 002_b | ❌ |" in (tmp_path / "summary.md").read_text()
    assert github.published()


def test_publish_without_annotations_still_reports(runner_env: dict[str, str], tmp_path: Path) -> None:
    out = io.StringIO()
    report = report_of(result("apply", "002_b", message="boom"), tmp=tmp_path)
    github.publish(report, Settings(annotations=False), None, runner_env, out)
    assert out.getvalue() == ""
    outputs = parse_outputs((tmp_path / "output.txt").read_text())
    assert outputs["result"] == "failed" and outputs["junit-xml"] == ""


@pytest.mark.parametrize(("results", "error", "expected"), [
    ([result("apply", "a", Status.PASSED)], None, "passed"),
    ([result("lint", "a", severity=Severity.WARNING)], None, "passed"),
    ([], "no server", "error"),
])
def test_result_output(results: list[CheckResult], error: str | None, expected: str) -> None:
    assert github.outputs(report_of(*results, error=error), Severity.ERROR, "")["result"] == expected


def test_publish_does_nothing_outside_actions(tmp_path: Path) -> None:
    out = io.StringIO()
    github.publish(report_of(result("apply", "a")), Settings(), None, {"GITHUB_OUTPUT": str(tmp_path / "o")}, out)
    assert out.getvalue() == "" and not (tmp_path / "o").exists()


def test_an_unwritable_runner_file_is_a_warning_not_a_crash(runner_env: dict[str, str], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    runner_env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "missing-dir" / "summary.md")
    github.publish(report_of(), Settings(), None, runner_env, io.StringIO())
    assert "cannot write" in capsys.readouterr().err
    assert "result=passed" in (tmp_path / "output.txt").read_text()


# --- masks and stop-commands -----------------------------------------------------------------------

def test_the_database_password_is_masked_once_encoded_and_decoded(runner_env: dict[str, str]) -> None:
    out = io.StringIO()
    settings = Settings(database_url="postgresql://ci:s3cr%40t@db:5432/app")
    github.mask_secrets(settings, out, runner_env)
    github.mask_secrets(settings, out, runner_env)
    assert sorted(out.getvalue().splitlines()) == ["::add-mask::s3cr%40t", "::add-mask::s3cr@t"]


def test_masks_only_in_actions_and_only_when_there_is_a_password() -> None:
    out = io.StringIO()
    github.mask_secrets(Settings(database_url="postgresql://ci:pw@db/app"), out, {})
    github.mask_secrets(Settings(database_url="postgresql://ci@db/app"), out, {"GITHUB_ACTIONS": "true"})
    github.mask_secrets(Settings(database_url="host=db password=pw2"), out, {"GITHUB_ACTIONS": "true"})
    assert out.getvalue() == "::add-mask::pw2\n"


def test_commands_inside_a_stopped_block_step_out_of_it(runner_env: dict[str, str]) -> None:
    out = io.StringIO()
    with github.commands_stopped(out, runner_env):
        print("::error::from a migration file", file=out)
        github.mask_secrets(Settings(database_url="postgresql://u:pw@h/d"), out, runner_env)
        with github.commands_stopped(out, runner_env):  # re-entrant: no second token
            print("more user text", file=out)
    assert runner_commands(out.getvalue()) == ["::add-mask::pw"]  # what the runner acts on
    lines = out.getvalue().splitlines()
    first = re.fullmatch(r"::stop-commands::(migration-check-[0-9a-f]{32})", lines[0])
    assert first
    assert lines[1] == "::error::from a migration file"
    assert lines[2] == f"::{first[1]}::"  # resumed for our own command ...
    assert lines[3] == "::add-mask::pw"
    second = re.fullmatch(r"::stop-commands::(migration-check-[0-9a-f]{32})", lines[4])
    assert second and second[1] != first[1]  # ... and stopped again with a fresh token
    assert lines[5:] == ["more user text", f"::{second[1]}::"]
    assert github._State.token is None


def test_commands_stopped_is_a_no_op_outside_actions() -> None:
    out = io.StringIO()
    with github.commands_stopped(out, {}):
        print("text", file=out)
    assert out.getvalue() == "text\n"


# --- the action's inputs ---------------------------------------------------------------------------

def test_inputs_become_the_cli_command_line() -> None:
    env = {
        "INPUT_PATH": "db", "INPUT_FORMAT": "", "INPUT_CONFIG": "ci.yml", "INPUT_BASE-REF": "main",
        "INPUT_POSTGRES-IMAGE": "postgres:16", "INPUT_DATABASE-URL": "", "INPUT_SETUP": "supabase\nroles.sql, ext.sql",
        "INPUT_JUNIT-XML": "out/report.xml", "INPUT_FAIL-ON": "warning", "INPUT_ANNOTATIONS": "off",
    }
    assert action.argv_from_inputs(env) == [
        "check", "db", "--junit-xml", "out/report.xml", "--config", "ci.yml", "--base-ref", "main",
        "--postgres-image", "postgres:16", "--fail-on", "warning",
        "--setup", "supabase", "--setup", "roles.sql", "--setup", "ext.sql", "--no-annotations",
    ]


def test_defaults_when_no_input_is_set() -> None:
    assert action.argv_from_inputs({}) == ["check", ".", "--junit-xml", action.DEFAULT_JUNIT]


def test_underscore_spelling_of_inputs_is_accepted() -> None:
    assert "--base-ref" in action.argv_from_inputs({"INPUT_BASE_REF": "main"})


def test_a_bad_annotations_input_is_an_error_with_outputs(runner_env: dict[str, str], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(action.signal, "signal", lambda *args: None)  # keep pytest's own handlers
    assert action.main({**runner_env, "INPUT_ANNOTATIONS": "maybe"}) == 2
    assert "annotations must be on or off" in capsys.readouterr().err
    assert parse_outputs((tmp_path / "output.txt").read_text())["result"] == "error"
