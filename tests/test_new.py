"""`migration-check new NAME`: correctly named files for the detected format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from migration_check.discovery import discover
from migration_check.errors import UsageError
from migration_check.history import static_checks
from migration_check.history.naming import check_naming
from migration_check.model import Status
from migration_check.scaffold import new_migration
from migration_check.settings import Settings

NOW = datetime(2025, 9, 6, 12, 0, 0, tzinfo=UTC)


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_timestamp_layout_gets_a_forward_file_and_its_rollback(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_init.sql").write_text("select 1;\n")
    (folder / "20250101000000_init_rollback.sql").write_text("select 1;\n")
    created = new_migration(Settings(path=tmp_path), "add_user_preferences", NOW)[0]  # from the repository root
    assert created == [folder / "20250906120000_add_user_preferences.sql", folder / "20250906120000_add_user_preferences_rollback.sql"]
    assert all(p.is_file() for p in created)
    project = discover(folder)
    assert {r.status for r in static_checks(project, Settings())} <= {Status.PASSED, Status.SKIPPED}


def test_golang_migrate_layout_is_detected(tmp_path: Path) -> None:
    (tmp_path / "000001_init.up.sql").write_text("")
    (tmp_path / "000001_init.down.sql").write_text("")
    created = new_migration(Settings(path=tmp_path), "add_x", NOW)[0]
    assert names(created) == ["20250906120000_add_x.up.sql", "20250906120000_add_x.down.sql"]


def test_empty_directory_defaults_to_the_timestamp_layout(tmp_path: Path) -> None:
    target = tmp_path / "db" / "migrations"  # does not exist yet: it is created
    created = new_migration(Settings(path=target), "init", NOW)[0]
    assert names(created) == ["20250906120000_init.sql", "20250906120000_init_rollback.sql"]
    assert created[0].parent == target


def test_format_flag_chooses_the_layout_of_an_empty_directory(tmp_path: Path) -> None:
    created = new_migration(Settings(path=tmp_path, format="golang-migrate"), "init", NOW)[0]
    assert names(created) == ["20250906120000_init.up.sql", "20250906120000_init.down.sql"]


def test_a_taken_timestamp_moves_to_the_next_second(tmp_path: Path) -> None:
    first = new_migration(Settings(path=tmp_path), "a", NOW)[0]
    second = new_migration(Settings(path=tmp_path), "b", NOW)[0]
    assert names(first)[0] == "20250906120000_a.sql" and names(second)[0] == "20250906120001_b.sql"


def test_layouts_with_folders_and_prefixes(tmp_path: Path) -> None:
    prisma = new_migration(Settings(path=tmp_path / "p", format="prisma"), "init", NOW)[0]
    assert [p.relative_to(tmp_path / "p").as_posix() for p in prisma] == ["20250906120000_init/migration.sql"]
    dbmate = tmp_path / "d"
    (dbmate / "20250906120000_a.sql").parent.mkdir()
    (dbmate / "20250906120000_a.sql").write_text("-- migrate:up\n-- migrate:down\n")
    created = new_migration(Settings(path=dbmate, format="dbmate"), "b", NOW)[0]
    assert names(created) == ["20250906120001_b.sql"]  # the taken version moved on


def test_a_layout_that_numbers_from_its_files_goes_into_the_shared_version_folder(tmp_path: Path) -> None:
    # memos: the next number of the newest version folder; that folder exists, and is no taken
    # version (`new` once looped through an hour of timestamps and gave up).
    folder = tmp_path / "store/migration/postgres"
    (folder / "0.31").mkdir(parents=True)
    (folder / "LATEST.sql").write_text("create table memo (id int);\n")
    (folder / "0.31/00__memo.sql").write_text("select 1;\n")
    created = new_migration(Settings(path=tmp_path), "add_tags", NOW)[0]
    assert [p.relative_to(folder).as_posix() for p in created] == ["0.31/01__add_tags.sql"]


def test_a_layout_without_new_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="sqitch add"):
        new_migration(Settings(path=tmp_path, format="sqitch"), "x", NOW)


def test_local_time_is_converted_to_utc(tmp_path: Path) -> None:
    local = NOW.astimezone(timezone(timedelta(hours=2)))
    assert names(new_migration(Settings(path=tmp_path), "x", local)[0])[0] == "20250906120000_x.sql"


def test_the_current_time_is_the_default_and_passes_naming(tmp_path: Path) -> None:
    new_migration(Settings(path=tmp_path), "fresh")
    results = check_naming(discover(tmp_path), Settings())
    assert [r.status for r in results] == [Status.PASSED, Status.PASSED]


@pytest.mark.parametrize(("name", "hint"), [("AddUsers", "try add_users"), ("add-users", "try add_users"), ("1st", ""), ("", "")])
def test_a_name_that_is_not_snake_case_is_refused(tmp_path: Path, name: str, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        new_migration(Settings(path=tmp_path), name, NOW)
    message = caught.value.one_line()
    assert "not a snake_case name" in message and hint in message and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_configured_pattern_must_accept_the_new_names(tmp_path: Path) -> None:
    settings = Settings(path=tmp_path, naming_pattern=r"\d{14}_(add|drop)_[a-z_]+\.sql")
    with pytest.raises(UsageError, match="naming-pattern"):
        new_migration(settings, "create_x", NOW)  # neither file would match
    assert list(tmp_path.iterdir()) == []


def test_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file.sql").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        new_migration(Settings(path=tmp_path / "file.sql"), "x", NOW)


def test_numbered_scripts_continue_in_the_projects_own_style(tmp_path: Path) -> None:
    # Found by the tree search, as `check` finds them (SylteA/Discord-Bot's bot/models/migrations):
    # `new` wrote a timestamp pair into the repository root.
    folder = tmp_path / "bot/models/migrations"
    folder.mkdir(parents=True)
    for name in ("000_up__migrations.sql", "001_up__create_db.sql", "001_down__delete_db.sql"):
        (folder / name).write_text("select 1;\n")
    created = new_migration(Settings(path=tmp_path), "add_index", NOW)[0]
    assert created == [folder / "002_up__add_index.sql", folder / "002_down__add_index.sql"]
    (folder / "002_up__add_index.sql").unlink()
    (folder / "002_down__add_index.sql").unlink()
    (folder / "001_up__create_db.sql").rename(folder / "001_create_db_up.sql")
    (folder / "001_down__delete_db.sql").rename(folder / "001_create_db_down.sql")
    assert names(new_migration(Settings(path=tmp_path), "add_index", NOW)[0]) == ["002_add_index_up.sql", "002_add_index_down.sql"]
    project = discover(tmp_path)
    assert project.format == "numbered" and [m.id for m in project.migrations][-1] == "002_add_index"


def test_db_migrate_gets_a_module_and_its_two_sql_files(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    (folder / "sqls").mkdir(parents=True)
    (folder / "20250101000000-init.js").write_text("exports.up = (db) => db.runSql(read('20250101000000-init-up.sql'));\n")
    (folder / "sqls/20250101000000-init-up.sql").write_text("select 1;\n")
    created = new_migration(Settings(path=tmp_path), "add_index", NOW)[0]
    assert [p.relative_to(folder).as_posix() for p in created] == [
        "20250906120000-add-index.js", "sqls/20250906120000-add-index-up.sql", "sqls/20250906120000-add-index-down.sql"]
    added = discover(tmp_path).migrations[-1]
    assert (added.up.path, added.down.path) == (created[1], created[2])


def test_typeorm_gets_a_class_whose_name_ends_in_its_timestamp(tmp_path: Path) -> None:
    created = new_migration(Settings(path=tmp_path, format="typeorm"), "add_user_preferences", NOW)[0]
    assert names(created) == ["1757160000000-AddUserPreferences.ts"]
    project = discover(tmp_path, "typeorm")
    assert [m.id for m in project.migrations] == ["AddUserPreferences1757160000000"]
    assert {r.status for r in static_checks(project, Settings())} <= {Status.PASSED, Status.SKIPPED}


def test_node_pg_migrate_gets_a_sql_file_with_its_markers(tmp_path: Path) -> None:
    created = new_migration(Settings(path=tmp_path, format="node-pg-migrate"), "add_user_preferences", NOW)[0]
    assert names(created) == ["1757160000000_add-user-preferences.sql"]
    assert created[0].read_text() == "-- Up Migration\n\n-- Down Migration\n"
    project = discover(tmp_path, "node-pg-migrate")
    assert [m.id for m in project.migrations] == ["1757160000000_add-user-preferences"]


def test_mikro_orm_gets_a_class_named_as_migration_create_names_it(tmp_path: Path) -> None:
    created = new_migration(Settings(path=tmp_path, format="mikro-orm"), "add_user_preferences", NOW)[0]
    assert names(created) == ["Migration20250906120000_add_user_preferences.ts"]
    project = discover(tmp_path, "mikro-orm")
    [added] = project.migrations
    assert (added.id, added.version, added.up is not None, added.down is not None) == (
        "Migration20250906120000_add_user_preferences", "20250906120000", True, True)
    assert {r.status for r in static_checks(project, Settings())} <= {Status.PASSED, Status.SKIPPED}


def test_knex_gets_a_module_named_as_migrate_make_names_it(tmp_path: Path) -> None:
    created = new_migration(Settings(path=tmp_path, format="knex"), "add_user_preferences", NOW)[0]
    assert names(created) == ["20250906120000_add_user_preferences.js"]
    project = discover(tmp_path, "knex")
    [added] = project.migrations
    assert (added.id, added.up is not None, added.down is not None) == ("20250906120000_add_user_preferences.js", True, True)
    assert {r.status for r in static_checks(project, Settings())} <= {Status.PASSED, Status.SKIPPED}


def test_sequelize_gets_a_module_named_as_migration_generate_names_it(tmp_path: Path) -> None:
    created = new_migration(Settings(path=tmp_path, format="sequelize"), "add_user_preferences", NOW)[0]
    assert names(created) == ["20250906120000-add-user-preferences.js"]
    project = discover(tmp_path, "sequelize")
    [added] = project.migrations
    assert (added.id, added.up is not None, added.down is not None) == ("20250906120000-add-user-preferences.js", True, True)
    assert {r.status for r in static_checks(project, Settings())} <= {Status.PASSED, Status.SKIPPED}
