"""db-migrate discovery: its modules and the SQL files they load, migrations written in its
JavaScript API, the database its config names, and its `sqls` folder never taken for a layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.discovery.db_migrate import JS_DOWN, JS_UP
from migration_check.errors import FileError
from migration_check.history.pairing import check_pairing
from migration_check.model import Status, Transaction
from migration_check.settings import Settings


def loader(stem: str, down: str | None = None) -> str:
    """A module as `db-migrate create --sql-file` writes it (the two-argument path.join form)."""
    down_code = down if down is not None else (
        f"exports.down = function(db) {{\n  var filePath = path.join(__dirname, 'sqls', '{stem}-down.sql');\n"
        "  return readFile(filePath).then(function(data) { return db.runSql(data); });\n};\n")
    return ("'use strict';\nvar dbm;\nvar path = require('path');\n"
            "exports.setup = function(options, seedLink) { dbm = options.dbmigrate; };\n"
            f"exports.up = function(db) {{\n  var filePath = path.join(__dirname + '/sqls/{stem}-up.sql');\n"
            "  return readFile(filePath).then(function(data) { return db.runSql(data); });\n};\n"
            f"{down_code}exports._meta = {{ \"version\": 1 }};\n")


def test_modules_load_their_sql_files_in_file_name_order(tmp_path: Path) -> None:
    # As CsabaBuchert/StorefrontBackend keeps them; the timestamp layout took `migrations/sqls`
    # for its own and failed every name (Levino/fu-kita-db).
    write_files(tmp_path, {
        "database.json": '{"dev": {"driver": "pg", "host": {"ENV": "POSTGRES_HOST"}}}',
        "migrations/20210910124257-products.js": loader("20210910124257-products"),
        "migrations/20210910124240-users.js": loader("20210910124240-users"),
        "migrations/sqls/20210910124240-users-up.sql": "create table users (id int);",
        "migrations/sqls/20210910124240-users-down.sql": "drop table users;",
        "migrations/sqls/20210910124257-products-up.sql": "create table products (id int);",
        "migrations/sqls/20210910124257-products-down.sql": "drop table products;",
        "migrations/sqls/notes-up.sql": "select 1;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "db-migrate" and found.directory == tmp_path / "migrations"
    assert [(m.id, m.up.path.name, m.down.path.name) for m in found.migrations] == [
        ("20210910124240_users", "20210910124240-users-up.sql", "20210910124240-users-down.sql"),
        ("20210910124257_products", "20210910124257-products-up.sql", "20210910124257-products-down.sql")]
    assert {m.up.transaction for m in found.migrations} == {Transaction.WRAPPED}
    assert [(s.path.name, s.refused) for s in found.stray_files] == [("notes-up.sql", False)]


def test_the_sqls_folder_is_never_a_layout_of_its_own_in_the_tree_search(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "server/db/migrations/20210910124240-users.js": loader("20210910124240-users"),
        "server/db/migrations/sqls/20210910124240-users-up.sql": "create table users (id int);",
        "server/db/migrations/sqls/20210910124240-users-down.sql": "drop table users;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "db-migrate" and found.directory == tmp_path / "server/db/migrations"


def test_javascript_migrations_are_skipped_and_javascript_downs_are_not_missing(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/20220101000000-api.js": "exports.up = function(db, cb) { db.createTable('t', {id: 'int'}, cb); };\n",
        "migrations/20220102000000-sql-up-js-down.js": loader(
            "20220102000000-sql-up-js-down", down="exports.down = function(db, cb) { db.dropTable('u', cb); };\n"),
        "migrations/sqls/20220102000000-sql-up-js-down-up.sql": "create table u (id int);",
        "migrations/helpers.js": "module.exports = {};",
        "migrations/README.md": "docs",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    api, mixed = found.migrations
    assert (api.up, api.skip_reason) == (None, JS_UP)
    assert (mixed.up.path.name, mixed.down, mixed.down_skip_reason) == ("20220102000000-sql-up-js-down-up.sql", None, JS_DOWN)
    assert all(r.status is Status.PASSED for r in check_pairing(found, Settings()) if r.subject == mixed.id)
    # db-migrate requires every .js file of the directory and cannot read a name from this one.
    assert [(s.path.name, s.refused) for s in found.stray_files] == [("helpers.js", True)]


def test_a_module_naming_a_missing_sql_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20220101000000-a.js": loader("20220101000000-b")})
    with pytest.raises(FileError, match=r"20220101000000-a\.js:6: reads sqls/20220101000000-b-up\.sql, which does not"):
        discover(tmp_path, repo_root=tmp_path)


@pytest.mark.parametrize("config", [
    '{\n  "dev": {\n    "driver": "mysql",\n    "user": {"ENV": "DB_USER"}\n  },\n  "test": {"driver": "mysql"}\n}\n',
    '{"dev": "mysql://u:p@localhost/kita"}',
])
def test_a_project_for_another_database_is_refused_at_its_driver(tmp_path: Path, config: str) -> None:
    # Levino/fu-kita-db and nwjbrandon/bengakala_tourism: db-migrate with db-migrate-mysql.
    write_files(tmp_path, {"database.json": config, "migrations/20200814085713-groups.js": loader("20200814085713-groups"),
                           "migrations/sqls/20200814085713-groups-up.sql": "select 1;",
                           "migrations/sqls/20200814085713-groups-down.sql": "select 1;"})
    with pytest.raises(FileError, match=r'database\.json:\d: driver "mysql": these are migrations for another database'):
        discover(tmp_path, repo_root=tmp_path)


def test_a_postgresql_environment_beside_others_is_enough(tmp_path: Path) -> None:
    write_files(tmp_path, {"database.json": '{"dev": {"driver": "sqlite3"}, "prod": "postgres://db/app"}',
                           ".db-migraterc": '{"migrations-dir": "db/changes", "non-transactional": true}',
                           "db/changes/20200814085713-groups.js": loader("20200814085713-groups"),
                           "db/changes/sqls/20200814085713-groups-up.sql": "select 1;",
                           "db/changes/sqls/20200814085713-groups-down.sql": "select 1;"})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "db-migrate" and ".db-migraterc `migrations-dir`" in found.reason
    assert found.migrations[0].up.transaction is Transaction.NONE
