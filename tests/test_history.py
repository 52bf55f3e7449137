"""Linear history as pure functions over in-memory snapshots (no git), and the local part on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_check.discovery.base import version_sort_key
from migration_check.history import static_checks
from migration_check.history.linear import (
    AmbiguousOrder,
    Deleted,
    DuplicateVersion,
    Edited,
    Entry,
    MigrationFile,
    OutOfOrder,
    Relabelled,
    Renamed,
    VersionReused,
    added_entries,
    base_findings,
    first_changed_line,
    local_findings,
)
from migration_check.history.linear_check import NO_BASE_REF, Said, check_history, findings_to_results, message
from migration_check.model import RunReport, Status
from migration_check.settings import Settings
from test_naming import CLEAN, by_subject, project_of


def entry(version: str, name: str, sql: str = "select 1;\n", rollback: str | None = "select 2;\n") -> Entry:
    """One timestamp-layout migration under migrations/, as a snapshot holds it."""
    files = [MigrationFile(f"migrations/{version}_{name}.sql", sql.encode())]
    if rollback is not None:
        files.append(MigrationFile(f"migrations/{version}_{name}_rollback.sql", rollback.encode()))
    return Entry(f"{version}_{name}", version, version_sort_key(version) + (name,), tuple(files))


A = entry("20250101000000", "create_users")
B = entry("20250201000000", "add_email")
C = entry("20250301000000", "add_index")  # merged into the base after the branch started


# --- local part ---------------------------------------------------------------------------------


def test_unique_ordered_versions_have_no_findings() -> None:
    assert local_findings([A, B, C]) == []


def test_duplicate_version_fails_both_migrations() -> None:
    twin = entry("20250201000000", "add_phone")
    assert local_findings([A, B, twin]) == [
        DuplicateVersion("20250201000000_add_email", B.path, "20250201000000", (twin.path,)),
        DuplicateVersion("20250201000000_add_phone", twin.path, "20250201000000", (B.path,)),
    ]


def test_numeric_and_text_order_must_agree() -> None:
    nine, ten = entry("9", "a"), entry("10", "b")
    assert local_findings([nine, ten]) == [AmbiguousOrder("10_b", ten.path, "10", nine.path, "9")]
    assert local_findings([entry("09", "a"), entry("10", "b")]) == []


# --- base part ----------------------------------------------------------------------------------


def test_appending_after_the_newest_base_migration_is_clean() -> None:
    D = entry("20250401000000", "add_orders")
    assert base_findings([A, B, C, D], merge_base=[A, B], tip=[A, B, C]) == []
    assert added_entries([A, B, C, D], [A, B], [A, B, C]) == [D]


def test_out_of_order_names_the_base_migration_it_predates() -> None:
    # The branch started at [A, B], C was merged since, and the branch adds an older timestamp.
    late = entry("20250215000000", "add_phone")
    (finding,) = base_findings([A, B, late], merge_base=[A, B], tip=[A, B, C])
    assert finding == OutOfOrder("20250215000000_add_phone", late.path, predates=C.path, newest=C.path)
    text = message(finding, "main")
    assert "sorts before 20250301000000_add_index.sql" in text and "main" in text and "migration-check new" in text


def test_out_of_order_predates_the_first_later_base_migration() -> None:
    D = entry("20250401000000", "add_orders")
    late = entry("20250215000000", "add_phone")
    (finding,) = base_findings([A, B, late], merge_base=[A, B], tip=[A, B, C, D])
    assert (finding.predates, finding.newest) == (C.path, D.path)


def test_a_migration_the_base_deleted_is_not_added_by_an_old_branch() -> None:
    # The branch still has B, which the base deleted after the branch started: not the branch's doing.
    assert base_findings([A, B], merge_base=[A, B], tip=[A]) == []


def test_an_unrebased_branch_does_not_delete_newer_base_migrations() -> None:
    assert base_findings([A, B], merge_base=[A, B], tip=[A, B, C]) == []


def test_edited_base_migration_points_at_the_first_changed_line() -> None:
    edited = entry("20250201000000", "add_email", "select 1;\nselect 99;\n")
    base = entry("20250201000000", "add_email", "select 1;\nselect 2;\n")
    assert base_findings([A, edited], merge_base=[A, base], tip=[A, base]) == [
        Edited("20250201000000_add_email", edited.path, 2, version="20250201000000")
    ]


def test_an_edited_rollback_is_an_edit_too() -> None:
    edited = entry("20250201000000", "add_email", rollback="drop everything;\n")
    (finding,) = base_findings([A, edited], merge_base=[A, B], tip=[A, B])
    assert finding == Edited(B.id, "migrations/20250201000000_add_email_rollback.sql", 1, version=B.version)


def test_taking_the_base_own_later_fix_is_not_an_edit() -> None:
    fixed = entry("20250201000000", "add_email", "select 3;\n")
    assert base_findings([A, fixed], merge_base=[A, B], tip=[A, fixed]) == []


def test_deleted_base_migration_is_reported_per_file() -> None:
    assert base_findings([A], merge_base=[A, B], tip=[A, B]) == [
        Deleted(B.id, "migrations/20250201000000_add_email.sql"),
        Deleted(B.id, "migrations/20250201000000_add_email_rollback.sql"),
    ]


def test_renamed_base_migration_is_a_rename_not_a_deletion() -> None:
    moved = entry("20250501000000", "add_email")  # same bytes, fresh timestamp
    findings = base_findings([A, moved], merge_base=[A, B], tip=[A, B])
    assert Renamed(B.id, B.path, moved.path) in findings
    assert not any(isinstance(f, Deleted) for f in findings)


def test_a_base_migration_renamed_under_its_version_is_the_same_migration() -> None:
    # supabase/storage renamed 56-fix-optimized-search-function.sql to 0056-...: one version, one
    # migration to a runner that records versions (golang-migrate, sqlx, dbmate, goose, Diesel).
    # It was "new on this branch, but its version is already used" and "would run it again under
    # the new name": two failures for what those runners accept.
    renamed = entry("20250201000000", "add_email_column")  # same bytes, same version, another name
    assert base_findings([A, renamed], merge_base=[A, B], tip=[A, B]) == []
    # Flyway's description, postgres-migrations' hash of the name: refused where the runner checks names.
    (finding,) = base_findings([A, renamed], merge_base=[A, B], tip=[A, B], names_checked=True)
    assert finding == Relabelled(renamed.id, B.path, renamed.path, "20250201000000")
    assert message(finding, "main", Said(renamed_refusal="it says no ({version})")) == (
        "20250201000000_add_email.sql is on main, and this branch renames it to 20250201000000_add_email_column.sql"
        " under the same version 20250201000000: it says no (20250201000000). Restore the old name.")


def test_a_base_migration_whose_files_moved_is_the_same_migration() -> None:
    # uptrace/uptrace renamed bun's 20231220102610_metrics_updated_at.up.sql to .tx.up.sql: one id,
    # one migration to bun, whose files moved. It was "renamed: databases would run it again".
    moved = Entry(B.id, B.version, B.sort_key, tuple(MigrationFile(f.path.replace(".sql", ".tx.sql"), f.content)
                                                     for f in B.files))
    assert base_findings([A, moved], merge_base=[A, B], tip=[A, B]) == []
    edited = Entry(B.id, B.version, B.sort_key, (MigrationFile(moved.files[0].path, b"select 5;\n"), moved.files[1]))
    assert base_findings([A, edited], merge_base=[A, B], tip=[A, B]) == [
        Edited(B.id, edited.path, 1, was=B.path, version=B.version)]


def test_a_base_migration_renamed_and_changed_under_its_version_is_an_edit() -> None:
    changed = entry("20250201000000", "add_email_column", "select 1;\nselect 3;\n", rollback=None)
    edited, gone = base_findings([A, changed], merge_base=[A, B], tip=[A, B])
    assert edited == Edited(changed.id, changed.path, 2, was=B.path, version=B.version)
    assert gone == Deleted(changed.id, "migrations/20250201000000_add_email_rollback.sql")
    assert message(edited, "main").startswith(
        "20250201000000_add_email_column.sql is already on main as 20250201000000_add_email.sql, and this branch"
        " changes it (first change at line 2)")


def test_a_renamed_version_that_another_base_migration_holds_is_still_a_reuse() -> None:
    twin = entry("20250201000000", "add_phone")  # the base's own duplicate, kept by the branch
    renamed = entry("20250201000000", "add_email_column")
    findings = base_findings([A, twin, renamed], merge_base=[A, B, twin], tip=[A, B, twin])
    assert [type(f) for f in findings] == [VersionReused, Renamed, Renamed]  # the script and its rollback


def test_a_version_on_the_base_cannot_be_reused() -> None:
    reuse = entry("20250301000000", "add_phone")
    assert base_findings([A, B, reuse], merge_base=[A, B], tip=[A, B, C]) == [
        VersionReused(reuse.id, reuse.path, "20250301000000", C.path, deleted=False)
    ]


def test_a_version_the_base_deleted_long_ago_cannot_be_reused() -> None:
    old = entry("20241201000000", "legacy")
    reuse = entry("20241201000000", "again")
    (finding,) = base_findings([A, B, reuse], merge_base=[A, B], tip=[A, B], retired=[old])
    assert finding == VersionReused(reuse.id, reuse.path, "20241201000000", old.path, deleted=True)
    assert "deleted" in message(finding, "main")


def test_versions_that_runners_read_as_equal_are_duplicates() -> None:
    v1, v01 = entry("1", "a"), entry("01", "b")
    assert [type(f) for f in local_findings([v1, v01])] == [DuplicateVersion, DuplicateVersion]


def test_repeatable_scripts_may_change_and_share_no_version() -> None:
    def repeatable(name: str, sql: str) -> Entry:
        return Entry(f"R__{name}", f"R__{name}", (1, name), (MigrationFile(f"migrations/R__{name}.sql", sql.encode()),), repeatable=True)

    old, new = repeatable("views", "create view v as select 1;\n"), repeatable("views", "create view v as select 2;\n")
    assert local_findings([A, old, repeatable("grants", "")]) == []
    assert base_findings([A, new], merge_base=[A, old], tip=[A, old]) == []


def test_a_flyway_baseline_takes_no_place_in_the_order_but_is_not_to_be_edited() -> None:
    # B20250101000000 consolidates what is merged; a new database starts from it, an existing one
    # never runs it: added below the newest version, it is not out of order, nor a reused version.
    def baseline(sql: str) -> Entry:
        return Entry("B20250201000000_baseline", "B20250201000000", version_sort_key("20250201000000") + ("~",),
                     (MigrationFile("migrations/B20250201000000__baseline.sql", sql.encode()),), baseline=True)

    assert base_findings([A, B, C, baseline("create table t ();\n")], merge_base=[A, B, C], tip=[A, B, C]) == []
    assert local_findings([A, B, baseline(""), C]) == []
    [edited] = base_findings([A, B, C, baseline("create table u ();\n")], merge_base=[A, B, C, baseline("")],
                             tip=[A, B, C, baseline("")])
    assert isinstance(edited, Edited)


def test_positional_order_compares_on_the_branch() -> None:
    # sqitch: versions are change names and the plan position orders them.
    def change(name: str, position: int) -> Entry:
        return Entry(name, name, (position,), (MigrationFile(f"sqitch/deploy/{name}.sql", name.encode()),))

    users, email = change("users", 0), change("email", 1)
    inserted = [users, change("phone", 1), change("email", 2)]
    (finding,) = base_findings(inserted, merge_base=[users, email], tip=[users, email])
    assert finding == OutOfOrder("phone", "sqitch/deploy/phone.sql", predates=email.path, newest=email.path)
    appended = [users, email, change("phone", 2)]
    assert base_findings(appended, merge_base=[users, email], tip=[users, email]) == []


def test_first_changed_line() -> None:
    assert first_changed_line(b"a\nb\nc\n", b"a\nB\nc\n") == 2
    assert first_changed_line(b"a\nb\n", b"a\nb\nc\n") == 3  # appended
    assert first_changed_line(b"a\nb\nc\n", b"a\nb\n") == 2  # cut at the end
    assert first_changed_line(b"a\nb\n", b"a\r\nb\n") == 1  # line endings count
    assert first_changed_line(b"", b"x") == 1


# --- test cases --------------------------------------------------------------------------------


def test_without_base_ref_the_local_part_runs_and_the_base_part_is_skipped(tmp_path: Path) -> None:
    results = check_history(project_of(tmp_path, CLEAN), Settings())
    assert [(r.subject, r.status) for r in results] == [
        ("20250101000000_create_users", Status.PASSED),
        ("20250201000000_add_email", Status.PASSED),
        ("against the base branch", Status.SKIPPED),
    ]
    assert results[-1].message == NO_BASE_REF


def test_duplicate_timestamp_on_disk_fails_naming_the_file(tmp_path: Path) -> None:
    files = dict(CLEAN, **{"20250201000000_add_phone.sql": "", "20250201000000_add_phone_rollback.sql": ""})
    results = by_subject(check_history(project_of(tmp_path, files), Settings()), "history")
    for subject in ("20250201000000_add_email", "20250201000000_add_phone"):
        assert results[subject].status is Status.FAILED
        assert results[subject].file == f"migrations/{subject}.sql"
        assert "version 20250201000000" in results[subject].message
    assert results["20250101000000_create_users"].status is Status.PASSED


def test_findings_on_gone_migrations_get_their_own_case(tmp_path: Path) -> None:
    project = project_of(tmp_path, {k: v for k, v in CLEAN.items() if k.startswith("20250101")})
    branch = [A]
    results = findings_to_results(project, Settings(), branch, base_findings(branch, [A, B], [A, B]), "main")
    assert [(r.subject, r.status, r.file) for r in results] == [
        ("20250101000000_create_users", Status.PASSED, "migrations/20250101000000_create_users.sql"),
        ("20250201000000_add_email", Status.FAILED, "migrations/20250201000000_add_email.sql"),
    ]
    assert "deletes it" in results[1].message and "Restore" in results[1].message


# --- the acceptance list, local part: a failing case naming the file, and exit code 1 -----

BROKEN = {
    "missing rollback": ({"20250301000000_add_index.sql": ""}, "migrations/20250301000000_add_index.sql"),
    "orphan rollback": ({"20250301000000_gone_rollback.sql": ""}, "migrations/20250301000000_gone_rollback.sql"),
    "CamelCase name": (
        {"20250301000000_AddIndex.sql": "", "20250301000000_AddIndex_rollback.sql": ""},
        "migrations/20250301000000_AddIndex.sql",
    ),
    "10-digit timestamp": ({"2025030100_add_x.sql": "", "2025030100_add_x_rollback.sql": ""}, "migrations/2025030100_add_x.sql"),
    "duplicate timestamp": (
        {"20250201000000_add_phone.sql": "", "20250201000000_add_phone_rollback.sql": ""},
        "migrations/20250201000000_add_phone.sql",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_local_problem_fails_a_case_naming_its_file(tmp_path: Path, case: str) -> None:
    extra, offending = BROKEN[case]
    project = project_of(tmp_path, dict(CLEAN, **extra))
    results = static_checks(project, Settings())
    assert offending in {r.file for r in results if r.status is Status.FAILED}
    assert RunReport(project, results).exit_code() == 1


def test_clean_project_exits_0(tmp_path: Path) -> None:
    project = project_of(tmp_path, CLEAN)
    assert RunReport(project, static_checks(project, Settings())).exit_code() == 0


def test_a_file_every_migration_directory_has_is_named_with_its_directory() -> None:
    finding = DuplicateVersion("20240101000000_b", "migrations/2024-01-01-000000_b/up.sql", "20240101000000",
                               ("migrations/2024-01-01-000000_a/up.sql",))
    assert message(finding, "origin/main").startswith(
        "2024-01-01-000000_b/up.sql uses version 20240101000000, and so does 2024-01-01-000000_a/up.sql:")


# Runners that refuse every migration over a duplicate version say so in their own words
# (AbyteQuantic/vendia-api: goose files 025_employees_branch_id.sql and 025_promotion_urgency.sql).
REFUSING_RUNNERS = {
    "goose": ({"025_a.sql": "-- +goose Up\nselect 1;\n", "025_b.sql": "-- +goose Up\nselect 2;\n"},
              'goose runs none of the migrations then ("duplicate version 25 detected")'),
    "golang-migrate": ({"25_a.up.sql": "select 1;\n", "25_b.up.sql": "select 2;\n"},
                       'golang-migrate runs none of the migrations then ("duplicate migration file")'),
    # lucasvrm/pipedesk-koa: 20251205_create_reference_tables.sql and two more of version 20251205.
    "supabase": ({"20251205_a.sql": "select 1;\n", "20251205_b.sql": "select 2;\n"},
                 'the Supabase CLI stops at the later one: recording it fails (duplicate key value violates'),
    "dbmate": ({"20240101000000_a.sql": "-- migrate:up\nselect 1;\n", "20240101000000_b.sql": "-- migrate:up\nselect 2;\n"},
               "dbmate fails the later one on a new database"),
    "flyway": ({"V1__a.sql": "select 1;\n", "V01__b.sql": "select 2;\n"},
               'Flyway migrates none of them then ("Found more than one migration with version 1")'),
}


@pytest.mark.parametrize("layout", sorted(REFUSING_RUNNERS))
def test_a_duplicate_version_says_how_the_runner_refuses_it(tmp_path: Path, layout: str) -> None:
    files, refusal = REFUSING_RUNNERS[layout]
    results = [r for r in check_history(project_of(tmp_path, files, format=layout), Settings())
               if r.status is Status.FAILED]
    assert len(results) == 2
    assert all(refusal in r.message and "would never run" not in r.message for r in results)
