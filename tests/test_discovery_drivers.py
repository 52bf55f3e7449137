"""The database a Go module's migrations are for, by the drivers its go.mod requires."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.discovery.drivers import crate_database, module_database
from migration_check.errors import UsageError

GOOSE = "-- +goose Up\ncreate table users (id integer primary key autoincrement);\n-- +goose Down\ndrop table users;\n"


def go_mod(*requires: str) -> str:
    lines = "\n".join(f"\t{module} v1.0.0" for module in requires)
    return f"module example.com/app\n\ngo 1.22\n\nrequire (\n{lines}\n)\n\nrequire github.com/pressly/goose/v3 v3.20.0\n"


def test_a_go_module_that_requires_only_sqlites_driver_runs_its_migrations_on_sqlite(tmp_path: Path) -> None:
    # navidrome/navidrome: goose migrations written for SQLite failed here at every `user` and `ROWID`.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {"go.mod": go_mod("github.com/mattn/go-sqlite3"), "db/migrations/20200130083147_create_schema.sql": GOOSE})
    assert module_database(tmp_path / "db/migrations") == (
        "SQLite", "its Go module requires github.com/mattn/go-sqlite3, SQLite's driver, and no PostgreSQL driver")
    with pytest.raises(UsageError) as error:
        discover(tmp_path, repo_root=tmp_path)
    assert str(error.value).startswith("db/migrations holds migrations for SQLite (its Go module requires")
    # Given as the path, it is checked: the user says what it is.
    assert discover(tmp_path / "db/migrations", repo_root=tmp_path).format == "goose"


@pytest.mark.parametrize("requires", [
    ("github.com/mattn/go-sqlite3", "github.com/jackc/pgx/v5"),  # both: the module may use PostgreSQL
    ("github.com/stretchr/testify",),  # no driver at all (a CLI runs the migrations)
])
def test_nothing_is_concluded_where_the_module_may_use_postgresql(tmp_path: Path, requires: tuple[str, ...]) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {"go.mod": go_mod(*requires), "db/migrations/20200130083147_create_schema.sql": GOOSE})
    assert module_database(tmp_path / "db/migrations") is None
    assert discover(tmp_path, repo_root=tmp_path).format == "goose"


def test_a_sqlite_modules_migrations_are_set_aside_beside_postgresqls(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "agent/go.mod": go_mod("modernc.org/sqlite"),
        "agent/store/migrations/20240101000000_init.sql": GOOSE.replace(" autoincrement", ""),  # reads as both
        "server/go.mod": go_mod("github.com/lib/pq"),
        "server/migrations/20240101000000_init.sql": GOOSE.replace(" autoincrement", ""),
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "server/migrations").resolve()
    assert "agent/store/migrations (SQLite, by its module's drivers), for another database" in found.reason


def test_a_rust_crate_that_builds_only_sqlites_driver(tmp_path: Path) -> None:
    # atuinsh/atuin: the client crate builds sqlx with `sqlite` (the workspace adds the runtime), the
    # server crate with `postgres`; a crate that takes sqlx from the workspace with no database
    # feature of its own (Cargo unifies the members' features) is judged by what its code names
    # (atuin-kv's `use sqlx::sqlite::...`), and says nothing where its code names no database.
    (tmp_path / ".git").mkdir()
    sql = "create table history (id text primary key);\n"
    write_files(tmp_path, {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n\n[workspace.dependencies.sqlx]\nversion = "0.8"\n'
                      'features = ["runtime-tokio", "time"]\n',
        "crates/client/Cargo.toml": '[package]\nname = "client"\n\n[dependencies]\n'
                                    'sqlx = { workspace = true, features = ["sqlite", "regexp"] }\n',
        "crates/client/migrations/20210422143411_create_history.sql": sql,
        "crates/kv/Cargo.toml": '[package]\nname = "kv"\n\n[dependencies]\nsqlx = { workspace = true }\n',
        "crates/kv/src/database.rs": "use sqlx::Result;\nuse sqlx::sqlite::{SqlitePool, SqlitePoolOptions};\n",
        "crates/kv/migrations/20250501160746_create_kv_db.sql": sql,
        "crates/plain/Cargo.toml": '[package]\nname = "plain"\n\n[dependencies]\nsqlx = { workspace = true }\n',
        "crates/plain/src/lib.rs": "pub fn run(pool: &sqlx::Pool<sqlx::Any>) {}\n",
        "crates/server/Cargo.toml": '[package]\nname = "server"\n\n[dependencies]\n'
                                    'sqlx = { workspace = true, features = ["postgres"] }\n',
        "crates/server/migrations/20210422143411_create_history.sql": sql,
    })
    assert crate_database(tmp_path / "crates/client/migrations") == (
        "SQLite", "its Rust crate builds sqlx with its `sqlite` feature, SQLite's driver, and no PostgreSQL driver")
    assert crate_database(tmp_path / "crates/kv/migrations") == (
        "SQLite", "its Rust crate builds sqlx, whose `sqlx::sqlite` its code uses, SQLite's driver, and no PostgreSQL driver")
    assert crate_database(tmp_path / "crates/plain") is None and crate_database(tmp_path / "crates/server") is None
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "crates/server/migrations").resolve()
    assert found.reason.endswith("crates/client/migrations (SQLite, by its module's drivers), "
                                 "crates/kv/migrations (SQLite, by its module's drivers), for another database")


@pytest.mark.parametrize(("settings", "database"), [
    ("spring:\n  datasource:\n    url: jdbc:mysql://localhost:3306/users\n", "MySQL (application.yml:3"),
    ("spring.flyway.url=jdbc:sqlserver://db;databaseName=app\nspring.datasource.url=jdbc:postgresql://db/app\n",
     "SQL Server (application.properties:1"),
    ("spring.datasource.url=jdbc:postgresql://db/app\n", None),
])
def test_a_spring_project_runs_its_flyway_scripts_where_its_application_file_points(
        tmp_path: Path, settings: str, database: str | None) -> None:
    # 13tom13/userservice: Flyway on MySQL (`auto_increment` in each script) failed every one here.
    (tmp_path / ".git").mkdir()
    name = "application.yml" if settings.startswith("spring:") else "application.properties"
    write_files(tmp_path, {f"src/main/resources/{name}": settings,
                           "src/main/resources/db/migration/V1__users.sql": "create table users (id int);\n"})
    if database is None:
        assert discover(tmp_path, repo_root=tmp_path).format == "flyway"
        return
    with pytest.raises(UsageError) as error:
        discover(tmp_path, repo_root=tmp_path)
    assert str(error.value).startswith(f"src/main/resources/db/migration holds migrations for {database} points Flyway at it)")
