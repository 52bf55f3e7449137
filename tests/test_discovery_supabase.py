"""Supabase discovery: the timestamp layout under supabase/migrations, rollbacks optional, and the
setup preset that comes with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.errors import UsageError
from migration_check.history import static_checks
from migration_check.model import RollbackPolicy, Status
from migration_check.presets import available_presets, setup_scripts
from migration_check.settings import Settings


def test_forward_only_without_rollback_files(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "supabase/config.toml": 'project_id = "x"\n',
        "supabase/migrations/20240101000000_profiles.sql": "create table profiles (id uuid references auth.users);\n",
        "supabase/migrations/20240102000000_notes.sql": "create table notes (id int);\n",
        "supabase/seed.sql": "insert into notes values (1);\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "supabase"
    assert found.reason == "supabase/migrations with 2 files named <timestamp>_<name>.sql; directory from supabase/config.toml"
    assert found.rollback_policy is RollbackPolicy.ABSENT
    assert [m.id for m in found.migrations] == ["20240101000000_profiles", "20240102000000_notes"]


def test_rollback_files_make_rollbacks_required(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "supabase/migrations/20240101000000_profiles.sql": "select 1;\n",
        "supabase/migrations/20240101000000_profiles_rollback.sql": "select 0;\n",
        "supabase/migrations/20240102000000_notes.sql": "select 2;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "supabase" and found.rollback_policy is RollbackPolicy.REQUIRED
    assert found.migrations[0].down is not None and found.migrations[1].down is None


def test_same_files_elsewhere_are_the_timestamp_layout(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20240101000000_profiles.sql": "select 1;\n"})
    assert discover(tmp_path, repo_root=tmp_path).format == "timestamp"


def test_supabase_preset_is_automatic_and_files_are_added(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "supabase/migrations/20240101000000_profiles.sql": "select 1;\n",
        "db/roles.sql": "create role app;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    scripts = setup_scripts(found, ["db/roles.sql", "supabase"])
    # The project's own init scripts first: the preset creates only what they left missing.
    assert [s.path.name for s in scripts] == ["roles.sql", "supabase.sql"]
    assert "auth.uid()" in scripts[1].sql and "create schema if not exists storage" in scripts[1].sql
    assert "supabase" in available_presets()


def test_preset_on_request_for_other_layouts_and_unknown_names(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20240101000000_a.sql": "select 1;\n"})
    found = discover(tmp_path, repo_root=tmp_path)
    assert setup_scripts(found, []) == []
    assert [s.path.name for s in setup_scripts(found, ["supabase"])] == ["supabase.sql"]
    with pytest.raises(UsageError, match="not a preset"):
        setup_scripts(found, ["firebase"])
    with pytest.raises(UsageError, match="no such file"):
        setup_scripts(found, ["db/missing.sql"])


def test_preset_replays_on_plain_postgres_twice(pg_server, tmp_path: Path) -> None:
    """Roles are cluster-wide: a second database on the same server must set up just as well."""
    import contextlib

    import psycopg

    from migration_check.replay.executor import execute_script
    from migration_check.servers.url import UrlProvider

    write_files(tmp_path, {"supabase/migrations/20240101000000_a.sql": "select 1;\n"})
    scripts = setup_scripts(discover(tmp_path, repo_root=tmp_path), [])
    for _ in range(2):
        with UrlProvider(pg_server.conninfo) as db, contextlib.closing(psycopg.connect(db.conninfo, autocommit=True)) as conn:
            for script in scripts:
                execute_script(conn, script)
            conn.execute("""select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000001", "role": "authenticated"}', false)""")
            row = conn.execute("select auth.uid()::text, auth.role(), auth.jwt() ->> 'sub', (storage.foldername('u/1/a.png'))[1]").fetchone()
            assert row == ("00000000-0000-4000-8000-000000000001", "authenticated", "00000000-0000-4000-8000-000000000001", "u")
            roles = {r for (r,) in conn.execute("select rolname from pg_roles where rolname in ('anon', 'authenticated', 'service_role')")}
            assert roles == {"anon", "authenticated", "service_role"}


def test_a_supabase_project_replays_as_on_supabase(tmp_path: Path) -> None:
    """Supabase's search_path reaches the migrations, the project's own init script that creates
    `anon` combines with the preset, and a rollback that drops an extension the platform installs
    is told exactly that (issue 9.3)."""
    import xml.etree.ElementTree as ET

    from migration_check.cli import main

    write_files(tmp_path, {
        "supabase/config.toml": "project_id = 'x'\n",
        "supabase/init/roles.sql": "create role anon nologin noinherit;\n",
        "supabase/migrations/20240101000000_profiles.sql":
            "create table profiles (id uuid primary key default uuid_generate_v4(), owner uuid references auth.users);\n",
        "supabase/migrations/20240101000000_profiles_rollback.sql": "drop table profiles;\n",
        "supabase/migrations/20240102000000_storage.sql": "create schema if not exists storage;\n",
        "supabase/migrations/20240102000000_storage_rollback.sql": "drop schema storage cascade;\n",
    })
    report = tmp_path / "r.xml"
    # The default local server: a fresh cluster, as roles are cluster-wide and the init script
    # creates `anon` without IF NOT EXISTS.
    code = main(["check", str(tmp_path), "--setup", "supabase/init/roles.sql",
                 "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    assert code == 1
    assert cases[("migration_check.apply", "20240101000000_profiles")].find("failure") is None
    assert cases[("migration_check.roundtrip", "20240101000000_profiles")].find("failure") is None
    failure = cases[("migration_check.roundtrip", "20240102000000_storage")].find("failure")
    assert failure is not None
    assert ("schema storage: existed before this migration (installed by the supabase setup);"
            " the rollback drops it (line 1)") in failure.attrib["message"]


def test_a_setup_script_that_needs_the_platform_runs_after_the_preset(tmp_path: Path) -> None:
    """dsil-design/joot-app's database/schema.sql references auth.users and calls uuid_generate_v4()
    unqualified: it failed before the supabase preset, which made both (the function on the
    search_path the preset sets, which a new session sees)."""
    import xml.etree.ElementTree as ET

    from migration_check.cli import main

    write_files(tmp_path, {
        "supabase/config.toml": "project_id = 'x'\n",
        "database/schema.sql": ("create table public.accounts (id uuid primary key default uuid_generate_v4(),"
                                " owner uuid references auth.users);\n"),
        "supabase/migrations/20240101000000_name.sql": "alter table accounts add column name text;\n",
        "supabase/migrations/20240101000000_name_rollback.sql": "alter table accounts drop column name;\n",
    })
    report = tmp_path / "r.xml"
    code = main(["check", str(tmp_path), "--setup", "database/schema.sql", "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    assert code == 0
    assert cases[("migration_check.roundtrip", "20240101000000_name")].find("failure") is None


def test_the_seed_file_supabase_loads_is_picked_up(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"supabase/migrations/20250101000000_init.sql": "create table t (id int);\n",
                                  "supabase/seed.sql": "insert into t values (1);\n"})
    project = discover(root)
    assert project.seeds == [root / "supabase" / "seed.sql"]
    assert discover(write_files(tmp_path / "none", {"supabase/migrations/20250101000000_init.sql": "select 1;\n"})).seeds == []


def test_versions_are_text_to_the_cli(tmp_path: Path) -> None:
    # schema_migrations.version is text: `001` and `1` are two versions; two `001` files are one,
    # and the second insert of it fails the push.
    write_files(tmp_path, {
        "supabase/migrations/001_initial.sql": "create table a (id int);\n",
        "supabase/migrations/001_fix.sql": "create table b (id int);\n",
        "supabase/migrations/1_other.sql": "create table c (id int);\n",
    })
    results = static_checks(discover(tmp_path, repo_root=tmp_path), Settings())
    failed = {r.subject for r in results if r.check == "history" and r.status is Status.FAILED}
    assert failed == {"001_fix", "001_initial"}


def test_files_run_in_file_name_order_as_the_cli_reads_them(tmp_path: Path) -> None:
    # The CLI reads the directory sorted by name: a 14-digit version sorts among 8-digit ones by
    # its text, not after them by its number, and that order is not an ambiguity to report.
    write_files(tmp_path, {
        "supabase/migrations/20241209_templates.sql": "create table t (id int);\n",
        "supabase/migrations/20241223100000_flags.sql": "alter table t add column f int;\n",
        "supabase/migrations/20251227_branding.sql": "alter table t add column b int;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.id for m in found.migrations] == ["20241209_templates", "20241223100000_flags", "20251227_branding"]
    history = [r for r in static_checks(found, Settings()) if r.check == "history"]
    assert {r.status for r in history} <= {Status.PASSED, Status.SKIPPED}


def test_supabase_migrations_may_be_a_link_to_a_shared_folder(tmp_path: Path) -> None:
    # A monorepo keeps the SQL in a package and links supabase/migrations to it, as the CLI allows.
    write_files(tmp_path, {"packages/db/migrations/20240101000000_users.sql": "create table users (id int);\n",
                           "packages/db/migrations/20240102_notes.sql": "create table notes (id int);\n"})
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "migrations").symlink_to("../packages/db/migrations")
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "supabase"
    assert [m.id for m in found.migrations] == ["20240101000000_users", "20240102_notes"]


def test_a_linked_supabase_migrations_named_by_config_toml(tmp_path: Path) -> None:
    write_files(tmp_path, {"supabase/config.toml": 'project_id = "x"\n',
                           "db_schema/migrations/20260101000000_baseline.sql": "create table t (id int);\n"})
    (tmp_path / "supabase" / "migrations").symlink_to("../db_schema/migrations")
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "supabase"
    assert found.reason.endswith("directory from supabase/config.toml")


def test_a_supabase_migrations_link_to_nothing_is_named_not_searched_past(tmp_path: Path) -> None:
    # A link to its author's laptop, with a backup folder beside it: the backup is not the project's
    # migrations, and the error says what is wrong.
    write_files(tmp_path, {"supabase/config.toml": 'project_id = "x"\n',
                           "supabase/migrations.local_backup/20260330191255_remote_schema.sql": "select 1;\n"})
    (tmp_path / "supabase" / "migrations").symlink_to("/Users/someone/dev/app/supabase/migrations")
    with pytest.raises(UsageError, match="supabase/migrations is a symbolic link to /Users/someone/dev/app/supabase/"
                                         "migrations, which does not exist here"):
        discover(tmp_path, repo_root=tmp_path)


def test_a_link_to_its_authors_copy_of_a_directory_of_this_repository_is_that_directory(tmp_path: Path) -> None:
    # As chuck146/authority-engine has it: supabase/migrations links to the author's absolute path
    # of packages/db/supabase/migrations, which this clone has too.
    write_files(tmp_path, {"supabase/config.toml": 'project_id = "x"\n',
                           "packages/db/supabase/migrations/20260302000001_create_orgs.sql": "create table orgs (id int);\n"})
    (tmp_path / "supabase" / "migrations").symlink_to("/Applications/RCG/app/packages/db/supabase/migrations")
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "packages/db/supabase/migrations").resolve()
    assert "the link supabase/migrations (to /Applications/RCG/app/packages/db/supabase/migrations" in found.reason


@pytest.mark.parametrize("marker", ["-- +goose Up", "-- migrate:up"])
def test_one_file_with_another_runners_comment_does_not_make_it_that_runners(tmp_path: Path, marker: str) -> None:
    # goose and dbmate refuse files without their marker: a Supabase project where one file of
    # three carries goose's comments (andrewibrah/Rifty) is still the Supabase CLI's.
    write_files(tmp_path, {"supabase/config.toml": 'project_id = "x"\n',
                           "supabase/migrations/20250106000000_create_tables.sql": "create table t (id int);\n",
                           "supabase/migrations/20250108000000_add_x.sql": "alter table t add column x int;\n",
                           "supabase/migrations/20251021_rebrand.sql": f"{marker}\nalter table t add column y int;\n"})
    assert discover(tmp_path, repo_root=tmp_path).format == "supabase"
