"""The naming check: file names against the convention of their format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from migration_check.discovery import discover
from migration_check.history import static_checks
from migration_check.history.naming import Convention, check_naming, naming_problems, parse_timestamp
from migration_check.model import CheckResult, Project, Severity, Status
from migration_check.settings import Settings

NOW = datetime(2025, 9, 6, 12, 0, 0, tzinfo=UTC)
TIMESTAMP = Convention(r"^\d{14}_[a-z][a-z0-9]*(_[a-z0-9]+)*(_rollback)?\.sql$", "YYYYMMDDHHMMSS_snake_case_name.sql")
TIMESTAMP_STRICT = Convention(TIMESTAMP.pattern, TIMESTAMP.hint, timestamps=True)


def project_of(root: Path, files: dict[str, str], format: str = "timestamp", directory: str = "migrations") -> Project:
    """A project discovered from `files` (names inside `directory`), with `root` as the repository."""
    folder = root / directory
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return discover(folder, format, repo_root=root)


def by_subject(results: list[CheckResult], check: str) -> dict[str, CheckResult]:
    return {r.subject: r for r in results if r.check == check}


CLEAN = {
    "20250101000000_create_users.sql": "create table users (id int);\n",
    "20250101000000_create_users_rollback.sql": "drop table users;\n",
    "20250201000000_add_email.sql": "alter table users add column email text;\n",
    "20250201000000_add_email_rollback.sql": "alter table users drop column email;\n",
}


def test_clean_project_gives_only_passed_and_skipped(tmp_path: Path) -> None:
    results = static_checks(project_of(tmp_path, CLEAN), Settings())
    assert {r.status for r in results} <= {Status.PASSED, Status.SKIPPED}
    naming = [r for r in results if r.check == "naming"]
    assert [r.subject for r in naming] == sorted(CLEAN)  # one per file, in path order
    assert naming[0].file == "migrations/20250101000000_create_users.sql"


def test_camel_case_name_fails_and_proposes_snake_case(tmp_path: Path) -> None:
    files = dict(CLEAN, **{"20250301000000_AddIndex.sql": "select 1;\n", "20250301000000_AddIndex_rollback.sql": "select 1;\n"})
    result = by_subject(check_naming(project_of(tmp_path, files), Settings(), NOW), "naming")["20250301000000_AddIndex.sql"]
    assert result.status is Status.FAILED
    assert result.file == "migrations/20250301000000_AddIndex.sql"
    assert "snake_case" in result.message and "20250301000000_add_index.sql" in result.message


def test_ten_digit_timestamp_fails_with_the_padded_name(tmp_path: Path) -> None:
    files = {"2025090612_add_x.sql": "select 1;\n", "2025090612_add_x_rollback.sql": "select 1;\n"}
    result = by_subject(check_naming(project_of(tmp_path, files), Settings(), NOW), "naming")["2025090612_add_x.sql"]
    assert result.status is Status.FAILED
    assert "has 10 digits" in result.message and "20250906120000_add_x.sql" in result.message


def test_impossible_date_fails(tmp_path: Path) -> None:
    files = {"20251345000000_add_x.sql": "", "20251345000000_add_x_rollback.sql": ""}
    results = by_subject(check_naming(project_of(tmp_path, files), Settings(), NOW), "naming")
    assert results["20251345000000_add_x.sql"].status is Status.FAILED
    assert "not a real date and time" in results["20251345000000_add_x.sql"].message


def test_future_timestamp_fails_beyond_the_clock_skew(tmp_path: Path) -> None:
    soon = (NOW + timedelta(minutes=5)).strftime("%Y%m%d%H%M%S")
    later = (NOW + timedelta(hours=2)).strftime("%Y%m%d%H%M%S")
    files = {f"{soon}_a.sql": "", f"{soon}_a_rollback.sql": "", f"{later}_b.sql": "", f"{later}_b_rollback.sql": ""}
    results = by_subject(check_naming(project_of(tmp_path, files), Settings(), NOW), "naming")
    assert results[f"{soon}_a.sql"].status is Status.PASSED
    assert results[f"{later}_b.sql"].status is Status.FAILED
    message = results[f"{later}_b.sql"].message
    assert "later than the current UTC time" in message
    assert NOW.strftime("%Y%m%d%H%M") not in message.replace(later, "")  # no clock in a message


def test_stray_file_is_a_finding(tmp_path: Path) -> None:
    results = by_subject(check_naming(project_of(tmp_path, dict(CLEAN, **{"notes.txt": "todo"})), Settings(), NOW), "naming")
    assert results["notes.txt"].status is Status.FAILED
    assert "not a migration" in results["notes.txt"].message and "ignore" in results["notes.txt"].message


def test_a_dotfile_or_script_the_runner_ignores_is_no_finding(tmp_path: Path) -> None:
    # measure-sh/measure keeps them beside its dbmate migrations; a stray .sql or .txt still gets a word.
    files = {"20250101000000_a.sql": "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n",
             ".gitignore": ".env\n", ".sqlfluff": "[sqlfluff]\n", "init-postgres.sh": "#!/bin/sh\n", "notes.txt": "x",
             "schema dump.sql": "create table a (id int);\n"}
    results = by_subject(check_naming(project_of(tmp_path, files, "dbmate"), Settings(), NOW), "naming")
    assert sorted(results) == ["20250101000000_a.sql", "notes.txt", "schema dump.sql"]
    assert results["notes.txt"].severity is Severity.WARNING


def test_configured_pattern_replaces_the_layout_convention(tmp_path: Path) -> None:
    settings = Settings(naming_pattern=r"\d{14}_(add|drop)_[a-z_]+\.sql")
    results = by_subject(check_naming(project_of(tmp_path, CLEAN), settings, NOW), "naming")
    assert results["20250201000000_add_email.sql"].status is Status.PASSED
    assert results["20250101000000_create_users.sql"].status is Status.FAILED
    assert "naming pattern" in results["20250101000000_create_users.sql"].message


def test_golang_migrate_accepts_what_golang_migrate_accepts(tmp_path: Path) -> None:
    # golang-migrate's own regex: ^([0-9]+)_(.*)\.(down|up)\.(.*)$ — any name after the version.
    files = {"000001_init.up.sql": "", "000001_init.down.sql": "", "000002_AddUser.up.sql": "", "000002_AddUser.down.sql": "",
             "3_add-index-2.up.sql": "", "3_add-index-2.down.sql": ""}
    results = by_subject(check_naming(project_of(tmp_path, files, "golang-migrate"), Settings(), NOW), "naming")
    assert {r.status for r in results.values()} == {Status.PASSED}


def test_strict_naming_is_opt_in(tmp_path: Path) -> None:
    files = {"000001_init.up.sql": "", "000001_init.down.sql": "", "000002_AddUser.up.sql": "", "000002_AddUser.down.sql": ""}
    results = by_subject(check_naming(project_of(tmp_path, files, "golang-migrate"), Settings(naming_strict=True), NOW), "naming")
    assert results["000001_init.up.sql"].status is Status.PASSED
    assert results["000002_AddUser.up.sql"].status is Status.FAILED
    assert "000002_add_user.up.sql" in results["000002_AddUser.up.sql"].message


def test_severity_comes_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(severity={"naming": Severity.WARNING})
    results = check_naming(project_of(tmp_path, {"1_Bad.sql": ""}), settings, NOW)
    assert results[0].status is Status.FAILED and results[0].severity is Severity.WARNING
    assert not results[0].counts_as_failure(Severity.ERROR)


@pytest.mark.parametrize(
    ("name", "kind", "suggestion"),
    [
        ("20250101000000_AddUsers.sql", "pattern", "20250101000000_add_users.sql"),
        ("2025010112_add_users.sql", "pattern", "20250101120000_add_users.sql"),
        ("add_users.sql", "pattern", None),  # never a version made from the clock
        ("202501011200_Add-Users.sql", "pattern", "20250101120000_add_users.sql"),
    ],
)
def test_naming_problems_propose_a_matching_name(name: str, kind: str, suggestion: str | None) -> None:
    (problem,) = naming_problems(name, TIMESTAMP, NOW)
    assert (problem.kind, problem.suggestion) == (kind, suggestion)
    assert suggestion is None or TIMESTAMP.matches(suggestion)


def test_naming_problems_without_a_repair_still_explain() -> None:
    (problem,) = naming_problems("20250101000000_x.txt", TIMESTAMP, NOW)
    assert problem.suggestion is None and "does not match" in problem.message


def test_parse_timestamp_rejects_what_strptime_would_accept() -> None:
    assert parse_timestamp("20250906120000") == NOW
    for bad in ("20251345000000", "20250230000000", "20250101246000", "2025010100000"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)


def test_supabase_accepts_what_the_supabase_cli_accepts(tmp_path: Path) -> None:
    # The CLI's own regex (pkg/migration/file.go): ^([0-9]+)_(.*)\.sql$. These names, from a real
    # Supabase project, all run with `supabase db push`; a dash after the version does not (the CLI
    # skips the file with a warning), so it fails.
    files = {"001_initial_schema.sql": "", "0251225_create_sidebar.sql": "", "20241209_create_templates.sql": "",
             "00000000000001_schema.sql": "", "20251345000000_not_a_date.sql": "",
             "20241223100000_add_flags.sql": "", "20241223100000_add_flags_rollback.sql": "",
             "20251226_0001_lead_priority.sql": "", "20250101000000_AddIndex.sql": "", "20250102000000-dashed.sql": ""}
    project = project_of(tmp_path, files, "supabase", "supabase/migrations")
    results = by_subject(check_naming(project, Settings(), NOW), "naming")
    assert {name for name, r in results.items() if r.status is not Status.PASSED} == {"20250102000000-dashed.sql"}
    assert "the Supabase CLI's rule" in results["20250102000000-dashed.sql"].message
    # `supabase migration new` writes YYYYMMDDHHMMSS_snake_case.sql: the convention, on request.
    strict = by_subject(check_naming(project, Settings(naming_strict=True), NOW), "naming")
    assert strict["20241209_create_templates.sql"].status is Status.FAILED
    assert "20241209000000_create_templates.sql" in strict["20241209_create_templates.sql"].message
    assert "20250101000000_add_index.sql" in strict["20250101000000_AddIndex.sql"].message
    assert strict["20241223100000_add_flags.sql"].status is Status.PASSED
    assert "not a real date and time" in strict["20251345000000_not_a_date.sql"].message
    assert strict["00000000000001_schema.sql"].status is Status.PASSED  # made up to number, not to tell the time


@pytest.mark.parametrize("version", ["00000000000000", "00000000000001", "00000000000042", "10000000000000", "99999999999999"])
def test_made_up_versions_are_not_asked_to_be_moments(version: str) -> None:
    assert naming_problems(f"{version}_schema.sql", TIMESTAMP_STRICT, NOW, version) == []
