"""Numbered scripts: a project's own runner or psql in a loop. Forward and rollback scripts told
apart by a direction word, paired as such runners pair them, and no naming convention asked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover, layout_named
from migration_check.history import static_checks
from migration_check.history.naming import check_naming
from migration_check.history.pairing import check_pairing
from migration_check.model import RollbackPolicy, Status
from migration_check.settings import Settings

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_runner_keyed_by_number_and_direction(tmp_path: Path) -> None:
    # As SylteA/Discord-Bot keeps them: `<n>_<up|down>__<name>.sql`, its runner keyed by (version,
    # direction), so 001's down pairs with its up though their names differ. The timestamp layout
    # took each down for a migration of its own and applied it.
    write_files(tmp_path, {
        "bot/models/migrations/000_up__migrations.sql": "create table migrations (id int);",
        "bot/models/migrations/001_up__create_db.sql": "create table users (id int);",
        "bot/models/migrations/001_down__delete_db.sql": "drop table users;",
        "bot/models/migrations/002_up__tags.sql": "create table tags (id int);",
        "bot/models/migrations/002_down__tags.sql": "drop table tags;",
        "bot/models/migrations/migration.py": "class Migration: ...",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "numbered" and "5 of them marked up/down" in found.reason
    assert [(m.id, m.down.path.name if m.down else None) for m in found.migrations] == [
        ("000_migrations", None), ("001_create_db", "001_down__delete_db.sql"), ("002_tags", "002_down__tags.sql")]
    # The bootstrap script has no rollback and the runner never asks for one: not a failure.
    assert found.rollback_policy is RollbackPolicy.OPTIONAL
    assert all(r.status is Status.PASSED for r in check_pairing(found, Settings()))
    assert [s.path.name for s in found.stray_files] == ["migration.py"]


def test_plain_numbered_scripts_are_not_held_to_the_timestamp_convention(tmp_path: Path) -> None:
    # As 0x0501/readest keeps them (docker/volumes/db/migrations, applied with psql -f): the
    # timestamp layout failed every name and asked every script for a rollback.
    write_files(tmp_path, {
        "docker/volumes/db/migrations/001_add_rsvp_position.sql": "alter table t add column p text;",
        "docker/volumes/db/migrations/002_add_book_shares.sql": "create table s (id int);",
        "docker/volumes/db/migrations/010_replica_keys_forget.sql": "select 1;",
        "docker/volumes/db/migrations/9-Mixed_Case.sql": "select 1;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "numbered"
    assert [m.version for m in found.migrations] == ["001", "002", "9", "010"]  # by number
    assert found.rollback_policy is RollbackPolicy.ABSENT
    assert [r.status for r in check_naming(found, Settings(), NOW) if r.status is not Status.PASSED] == []
    strict = check_naming(found, Settings(naming_strict=True), NOW)
    assert [r.subject for r in strict if r.status is Status.FAILED] == ["9-Mixed_Case.sql"]


def test_direction_words_before_sql_and_ordinary_names_that_end_in_down(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/1_users.sql": "create table users (id int);",
        "migrations/1_users_rollback.sql": "drop table users;",
        "migrations/2-orders-down.sql": "drop table orders;",
        "migrations/2-orders.sql": "create table orders (id int);",
        "migrations/3_slow_down.sql": "select pg_sleep(0);",  # a name, not a rollback
        "migrations/4_gone_revert.sql": "select 1;",  # a rollback whose script is gone
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "numbered"
    assert [(m.id, m.down.path.name if m.down else None) for m in found.migrations] == [
        ("1_users", "1_users_rollback.sql"), ("2_orders", "2-orders-down.sql"), ("3_slow_down", None)]
    assert [o.path.name for o in found.orphan_rollbacks] == ["4_gone_revert.sql"]
    orphan = [r for r in check_pairing(found, Settings()) if r.subject == "4_gone_revert.sql"]
    assert orphan and orphan[0].status is Status.FAILED


def test_where_up_is_written_a_lone_down_is_an_orphan(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/1_up_users.sql": "create table users (id int);",
        "migrations/1_down_users.sql": "drop table users;",
        "migrations/2_down_orders.sql": "drop table orders;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.id for m in found.migrations] == ["1_users"]
    assert [o.path.name for o in found.orphan_rollbacks] == ["2_down_orders.sql"]


def test_in_a_project_that_keeps_no_rollbacks_a_name_that_says_one_runs_forward(tmp_path: Path) -> None:
    # supabase/storage's tenant scripts (before its postgres-migrations was read): 63 forward scripts,
    # one of them named 0042-rollback-prefix-triggers.sql, which undoes an earlier feature going forward.
    write_files(tmp_path, {
        "migrations/0041-prefix-triggers.sql": "create table prefixes (id int);",
        "migrations/0042-rollback-prefix-triggers.sql": "drop table prefixes;",
        "migrations/0043_users_undo.sql": "create table users (id int);",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert [(m.id, m.down) for m in found.migrations] == [
        ("0041_prefix-triggers", None), ("0042_rollback-prefix-triggers", None), ("0043_users_undo", None)]
    assert found.orphan_rollbacks == []


def test_timestamps_stay_the_timestamp_layouts(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20240101000000_init.sql": "create table t (id int);",
                           "migrations/20240102000000_more.sql": "create table u (id int);",
                           "migrations/003_stray.sql": "select 1;"})
    assert discover(tmp_path, repo_root=tmp_path).format == "timestamp"


def test_new_continues_the_numbering(tmp_path: Path) -> None:
    write_files(tmp_path, {"m/007_a.sql": "select 1;", "m/007_a_down.sql": "select 1;", "m/010_b.sql": "select 1;"})
    files = layout_named("numbered").new_files(tmp_path / "m", "add_index", NOW)
    assert sorted(p.name for p in files) == ["011_add_index.sql", "011_add_index_down.sql"]


def test_two_scripts_of_one_number_both_run(tmp_path: Path) -> None:
    # A psql loop runs every file; no runner is known to record numbers, so no duplicate is reported.
    write_files(tmp_path, {"migrations/025_employees.sql": "create table e (id int);",
                           "migrations/025_promotions.sql": "create table p (id int);",
                           "migrations/026_more.sql": "select 1;"})
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.id for m in found.migrations] == ["025_employees", "025_promotions", "026_more"]
    assert [r for r in static_checks(found, Settings()) if r.status is Status.FAILED] == []


CONCOURSE = {
    "go.mod": "module github.com/concourse/concourse\n\ngo 1.22\n\nrequire github.com/lib/pq v1.10.9\n",
    "atc/db/migration/migrations/migrations.go": "package migrations\n\ntype Migrations struct{}\n",
    "atc/db/migration/migrations/1510262030_initial_schema.up.sql": "create table teams (id int primary key);",
    "atc/db/migration/migrations/1510262030_initial_schema.down.sql": "drop table teams;",
    "atc/db/migration/migrations/1516643303_update_auth_providers.up.go": "package migrations\n\nfunc (m *Migrations) Up_1516643303() error { return nil }\n",
    "atc/db/migration/migrations/1516643303_update_auth_providers.down.go": "package migrations\n",
    "atc/db/migration/migrations/1522178770_add_job_tags.up.go": "package migrations\n",
    "atc/db/migration/migrations/1522178770_add_job_tags.down.sql": "alter table teams drop column tags;",
    "atc/db/migration/migrations/1626194317_add_job_pauses_table.up.sql": "create table job_pauses (id int);",
    "atc/db/migration/migrations/1626194317_add_job_pauses_table.down.sql": "drop table job_pauses;",
    "atc/db/migration/migrations/1626194317_add_pipeline_pauses_table.up.sql": "create table pipeline_pauses (id int);",
    "atc/db/migration/migrations/1626194317_add_pipeline_pauses_table.down.sql": "drop table pipeline_pauses;",
    "atc/db/migration/migrations/1626194318_add_sql_down.up.sql": "alter table teams add column x int;",
    "atc/db/migration/migrations/1626194318_add_sql_down.down.go": "package migrations\n",
}


def test_go_migrations_of_the_projects_own_runner_keep_their_place(tmp_path: Path) -> None:
    # concourse/concourse's atc/db/migration runs `.up.go` and `.down.go` migrations beside its SQL
    # ones, and runs two migrations of one version. Read as golang-migrate's (which its go.mod does
    # not require, and which runs no Go file), its Go files were "not a migration", its SQL
    # rollbacks of Go migrations had "no forward migration", and its two migrations of version
    # 1626194317 made golang-migrate "run none of the migrations".
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, CONCOURSE)
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "numbered"
    assert [(m.version, m.name, m.skip_reason is not None) for m in found.migrations] == [
        ("1510262030", "initial_schema", False), ("1516643303", "update_auth_providers", True),
        ("1522178770", "add_job_tags", True), ("1626194317", "add_job_pauses_table", False),
        ("1626194317", "add_pipeline_pauses_table", False), ("1626194318", "add_sql_down", False)]
    go_up = found.migrations[1]
    assert go_up.skip_reason == "a Go migration: the project's runner runs it as Go code, not SQL that can be replayed"
    go_down = found.migrations[-1]
    assert go_down.up is not None and go_down.down is None and "its rollback is a Go migration" in (go_down.down_skip_reason or "")
    assert found.stray_files == [] and found.orphan_rollbacks == []
    assert [r for r in static_checks(found, Settings()) if r.status is Status.FAILED] == []


def test_go_files_beside_a_golang_migrate_projects_migrations_are_not_its(tmp_path: Path) -> None:
    # Where the module requires golang-migrate, it is the runner, and it runs no Go file there.
    (tmp_path / ".git").mkdir()
    files = {**CONCOURSE, "go.mod": "module example.com/app\n\nrequire github.com/golang-migrate/migrate/v4 v4.17.0\n"}
    write_files(tmp_path, files)
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "golang-migrate"
    assert "1516643303_update_auth_providers.up.go" in {s.path.name for s in found.stray_files}


def test_golang_migrate_as_a_dependencys_requirement_is_not_the_runner(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    go_mod = "module example.com/app\n\nrequire github.com/golang-migrate/migrate/v4 v4.17.0 // indirect\n"
    write_files(tmp_path, {**CONCOURSE, "go.mod": go_mod})
    assert discover(tmp_path, repo_root=tmp_path).format == "numbered"
