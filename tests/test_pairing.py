"""The pairing check: forward migrations with rollbacks, rollbacks with forward migrations."""

from __future__ import annotations

from pathlib import Path

from migration_check.history.pairing import check_pairing, expected_files
from migration_check.model import RollbackPolicy, Status
from migration_check.settings import Settings
from test_naming import CLEAN, by_subject, project_of


def test_paired_migrations_pass_one_case_each(tmp_path: Path) -> None:
    results = check_pairing(project_of(tmp_path, CLEAN), Settings())
    assert [(r.subject, r.status) for r in results] == [
        ("20250101000000_create_users", Status.PASSED),
        ("20250201000000_add_email", Status.PASSED),
    ]


def test_missing_rollback_fails_and_names_the_file_to_add(tmp_path: Path) -> None:
    files = dict(CLEAN, **{"20250301000000_add_index.sql": "select 1;\n"})
    result = by_subject(check_pairing(project_of(tmp_path, files), Settings()), "pairing")["20250301000000_add_index"]
    assert result.status is Status.FAILED
    assert result.file == "migrations/20250301000000_add_index.sql"
    assert "20250301000000_add_index_rollback.sql" in result.message


def test_orphan_rollback_fails_under_every_policy(tmp_path: Path) -> None:
    files = dict(CLEAN, **{"20250301000000_gone_rollback.sql": "select 1;\n"})
    project = project_of(tmp_path, files)
    for policy in RollbackPolicy:
        result = by_subject(check_pairing(project, Settings(rollbacks=policy)), "pairing")["20250301000000_gone_rollback.sql"]
        assert result.status is Status.FAILED
        assert result.file == "migrations/20250301000000_gone_rollback.sql"
        assert "20250301000000_gone.sql" in result.message


def test_optional_rollbacks_let_a_migration_go_without(tmp_path: Path) -> None:
    files = {"20250301000000_add_index.sql": "select 1;\n"}
    results = check_pairing(project_of(tmp_path, files), Settings(rollbacks=RollbackPolicy.OPTIONAL))
    assert [r.status for r in results] == [Status.PASSED]


def test_absent_rollbacks_skip_the_family_once(tmp_path: Path) -> None:
    results = check_pairing(project_of(tmp_path, {"20250301000000_add_index.sql": ""}), Settings(rollbacks=RollbackPolicy.ABSENT))
    assert [(r.subject, r.status) for r in results] == [("rollbacks", Status.SKIPPED)]


def test_the_layout_default_applies_without_a_setting(tmp_path: Path) -> None:
    project = project_of(tmp_path, {"20250301000000_add_index.sql": ""})
    project.rollback_policy = RollbackPolicy.OPTIONAL  # as a layout with optional rollbacks would say
    assert [r.status for r in check_pairing(project, Settings())] == [Status.PASSED]
    assert [r.status for r in check_pairing(project, Settings(rollbacks=RollbackPolicy.REQUIRED))] == [Status.FAILED]


def test_golang_migrate_missing_down_names_the_down_file_when_rollbacks_are_required(tmp_path: Path) -> None:
    project = project_of(tmp_path, {"000001_init.up.sql": "", "000002_more.up.sql": "", "000002_more.down.sql": ""}, "golang-migrate")
    results = by_subject(check_pairing(project, Settings(rollbacks=RollbackPolicy.REQUIRED)), "pairing")
    assert results["000001_init"].status is Status.FAILED and "000001_init.down.sql" in results["000001_init"].message
    assert results["000002_more"].status is Status.PASSED


def test_golang_migrate_runs_nothing_for_a_missing_down_so_pairing_passes_by_default(tmp_path: Path) -> None:
    project = project_of(tmp_path, {"000001_init.up.sql": "", "000002_more.up.sql": "", "000002_more.down.sql": ""}, "golang-migrate")
    assert {r.status for r in check_pairing(project, Settings())} == {Status.PASSED}
    [first, _] = project.migrations
    assert first.implicit_down and first.down is not None and first.down.sql == ""


def test_a_golang_migrate_project_without_any_down_file_is_forward_only(tmp_path: Path) -> None:
    # goharbor/harbor: 39 .up.sql files and no .down.sql. Nobody runs its rollbacks; judging 39
    # empty ones would fail every migration that creates anything.
    project = project_of(tmp_path, {"0001_initial_schema.up.sql": "", "0002_more.up.sql": ""}, "golang-migrate")
    assert project.rollback_policy is RollbackPolicy.ABSENT
    [result] = check_pairing(project, Settings())
    assert result.status is Status.SKIPPED and result.message == "rollbacks are absent for this project (golang-migrate)"
    assert [m.down for m in project.migrations] == [None, None]
    required = by_subject(check_pairing(project, Settings(rollbacks=RollbackPolicy.REQUIRED)), "pairing")
    assert {subject: r.status for subject, r in required.items()} == {"0001_initial_schema": Status.FAILED,
                                                                       "0002_more": Status.FAILED}


def test_expected_files_come_from_the_layout(tmp_path: Path) -> None:
    project = project_of(tmp_path, CLEAN)
    assert expected_files(project, "20250101000000", "x") == ["20250101000000_x.sql", "20250101000000_x_rollback.sql"]


def test_a_reversible_sqlx_migration_without_its_down_passes_unless_asked_and_then_names_the_down_file(
        tmp_path: Path) -> None:
    # quickwit-oss/quickwit: 6_...up.sql among .up.sql/.down.sql pairs. sqlx accepts it (`sqlx migrate
    # revert` skips it); asked for, the layout names the file after those in the project's directory.
    files = {"1_create-indexes.up.sql": "", "1_create-indexes.down.sql": "", "6_delete-trigger.up.sql": ""}
    project = project_of(tmp_path, files, "sqlx")
    assert by_subject(check_pairing(project, Settings()), "pairing")["6_delete-trigger"].status is Status.PASSED
    results = by_subject(check_pairing(project, Settings(rollbacks=RollbackPolicy.REQUIRED)), "pairing")
    assert results["6_delete-trigger"].status is Status.FAILED
    assert "has no rollback: add 6_delete-trigger.down.sql that undoes it" in results["6_delete-trigger"].message
