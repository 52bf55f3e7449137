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
from migration_check.sql.source import SyntaxProblem
from migration_check.sql.splitter import split_script


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
        "migrations/20220101000000-api.js": "exports.up = function(db, cb) { db.insert('t', ['id'], [1], cb); };\n",
        "migrations/20220102000000-sql-up-js-down.js": loader(
            "20220102000000-sql-up-js-down", down="exports.down = function(db, cb) { db.insert('u', ['id'], [1], cb); };\n"),
        "migrations/sqls/20220102000000-sql-up-js-down-up.sql": "create table u (id int);",
        "migrations/helpers.js": "module.exports = {};",
        "migrations/README.md": "docs",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    api, mixed = found.migrations
    assert (api.up, api.skip_reason) == (None, f"{JS_UP}: its exports.up runs code, not SQL alone (db.insert, line 1)")
    assert (mixed.up.path.name, mixed.down, mixed.down_skip_reason) == (
        "20220102000000-sql-up-js-down-up.sql", None, f"{JS_DOWN}: its exports.down runs code, not SQL alone (db.insert, line 9)")
    assert all(r.status is Status.PASSED for r in check_pairing(found, Settings()) if r.subject == mixed.id)
    # db-migrate requires every .js file of the directory and cannot read a name from this one.
    assert [(s.path.name, s.refused) for s in found.stray_files] == [("helpers.js", True)]


def test_a_module_naming_a_missing_sql_file_is_a_refusal_at_its_line(tmp_path: Path) -> None:
    # db-migrate fails when it runs the direction that reads the file: the other direction, and
    # the other migrations, are still judged.
    write_files(tmp_path, {
        "migrations/20220101000000-a.js": loader("20220101000000-b"),
        "migrations/20220102000000-c.js": loader("20220102000000-c"),
        "migrations/sqls/20220102000000-c-up.sql": "create table c (id int);",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert [(r.path.name, r.line, r.message) for r in found.refusals] == [
        ("20220101000000-a.js", 6, "reads sqls/20220101000000-b-up.sql, which does not exist (db-migrate fails there too)"),
        ("20220101000000-a.js", 10, "reads sqls/20220101000000-b-down.sql, which does not exist (db-migrate fails there too)"),
        ("20220102000000-c.js", 10, "reads sqls/20220102000000-c-down.sql, which does not exist (db-migrate fails there too)")]
    missing, present = found.migrations
    assert missing.up is None and missing.refused and missing.skip_reason.startswith("db-migrate fails at it (line 6): ")
    assert present.up is not None and not present.refused and present.down is None
    assert present.down_skip_reason.startswith("db-migrate fails at it (line 10): reads sqls/20220102000000-c-down.sql")


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


def test_sql_written_in_the_module_is_read_at_its_own_lines(tmp_path: Path) -> None:
    # Unleash/unleash keeps 388 of its 394 migrations so: `db.runSql('...', callback)`.
    write_files(tmp_path, {
        "migrations/20220101000000-strings.js": (
            "'use strict';\n"
            "exports.up = function (db, cb) {\n"
            "    db.runSql('ALTER TABLE t ADD \"description\" text;', cb);\n"
            "};\n"
            "exports.down = function (db, cb) {\n"
            "    db.runSql('ALTER TABLE t ' + \"DROP COLUMN description\", cb);\n"
            "};\n"),
        "migrations/20220102000000-chained.js": (
            "module.exports = {\n"
            "  up(db, callback) {\n"
            "    db.runSql(`\n"
            "      CREATE TABLE u (id int);\n"
            "      -- the index next\n"
            "    `, (err) => db.runSql('CREATE INDEX u_id ON u (id) -- by id', callback));\n"
            "  },\n"
            "  down: async (db) => { await db.runSql(`DROP TABLE u`); },\n"
            "};\n"),
        "migrations/20220103000000-declared.js": (
            "async function up(db) { return db.runSql('SELECT \\'a\\' AS x'); }\n"
            "export { up };\n"
            "exports.up = up;\n"),
    })
    strings, chained, declared = discover(tmp_path, repo_root=tmp_path).migrations
    assert (strings.up.path, strings.files) == (tmp_path / "migrations/20220101000000-strings.js",
                                                (tmp_path / "migrations/20220101000000-strings.js",))
    [add] = split_script(strings.up)
    assert (add.sql, add.line, add.column) == ('ALTER TABLE t ADD "description" text', 3, 16)
    [drop] = split_script(strings.down)
    assert (drop.sql, drop.line) == ("ALTER TABLE t DROP COLUMN description", 6)
    create, index = split_script(chained.up)
    assert [(s.node, s.line, s.column) for s in (create, index)] == [("CreateStmt", 4, 7), ("IndexStmt", 6, 28)]
    assert [s.line for s in split_script(chained.down)] == [8]
    assert split_script(declared.up)[0].sql == "SELECT 'a' AS x"
    assert chained.up.transaction is Transaction.WRAPPED and not any(m.skip_reason for m in (strings, chained, declared))


def test_an_error_in_sql_written_in_the_module_is_at_its_line_there(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20220101000000-typo.js": (
        "exports.up = (db) =>\n  db.runSql(`\n    CREATE TABLE t (id int);\n    CREAT INDEX t_id ON t (id);\n  `);\n")})
    [migration] = discover(tmp_path, repo_root=tmp_path).migrations
    with pytest.raises(SyntaxProblem) as raised:
        split_script(migration.up)
    assert (raised.value.line, raised.value.column) == (4, 5)


@pytest.mark.parametrize(("up", "said"), [
    ("exports.up = function (db, cb) { db.insert('t', ['id'], [1], cb); };", "(db.insert, line 1)"),
    ("exports.up = (db, cb) => db.addColumn('t', 'v', { type: 'int', unsigned: true, defaultValue: { special: 'NOW' } }, cb);",
     "(db.addColumn with default {'special': 'NOW'}, line 1)"),
    ("exports.up = (db) => db.runSql(`UPDATE t SET v = '${process.env.V}'`);", "(a ${} in its SQL, line 1)"),
    ("exports.up = function (db, cb) {\n  let sql = 'SELECT 1';\n  db.runSql(sql, cb);\n};", "(a variable, line 2)"),
    ("exports.up = function (db, cb) {\n  db.runSql('SELECT 1', (err, r) => {\n    if (r.rows.length) cb();\n  });\n};",
     "(an if, line 3)"),
    ("exports.up = (db) => db.runSql('UPDATE t SET v = $1', ['x']);", "(query parameters, line 1)"),
])
def test_an_export_that_runs_code_is_skipped_naming_the_code_and_its_line(tmp_path: Path, up: str, said: str) -> None:
    write_files(tmp_path, {"migrations/20220101000000-code.js": up + "\nexports.down = (db) => db.runSql('SELECT 1');\n"})
    [migration] = discover(tmp_path, repo_root=tmp_path).migrations
    assert migration.up is None and migration.skip_reason == f"{JS_UP}: its exports.up runs code, not SQL alone {said}"


def test_a_rollback_that_runs_no_sql_is_empty_and_one_that_runs_code_is_javascript(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/20220101000000-a.js": ("exports.up = (db) => db.runSql('CREATE TABLE a (id int)');\n\n"
                                           "exports.down = function (db, cb) {\n  cb();\n};\n"),
        "migrations/20220102000000-b.js": ("exports.up = (db) => db.runSql('CREATE TABLE b (id int)');\n"
                                           "exports.down = (db, cb) => db.insert('b', ['id'], [1], cb);\n"),
        "migrations/20220103000000-c.js": "exports.up = (db) => db.runSql('CREATE TABLE c (id int)');\n",
    })
    a, b, c = discover(tmp_path, repo_root=tmp_path).migrations
    assert (a.down.sql, a.down.first_line, split_script(a.down)) == ("", 3, [])
    assert (b.down, b.down_skip_reason) == (None, f"{JS_DOWN}: its exports.down runs code, not SQL alone (db.insert, line 2)")
    assert (c.down, c.down_skip_reason) == (None, None)  # no rollback at all: the pairing check says so


def test_a_scope_is_not_a_project_of_its_own(tmp_path: Path) -> None:
    # Unleash's src/migrations/migrations: db-migrate runs a sub-folder only as `up:<scope>`.
    write_files(tmp_path, {
        "package.json": '{"scripts": {"db-migrate": "db-migrate --migrations-dir ./src/migrations"}}',
        "src/migrations/20220101000000-a.js": "exports.up = (db) => db.runSql('CREATE TABLE a (id int)');\n",
        "src/migrations/migrations/20220102000000-b.js": "exports.up = (db) => db.runSql('CREATE TABLE b (id int)');\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == tmp_path / "src/migrations" and [m.id for m in found.migrations] == ["20220101000000_a"]


def test_the_drivers_api_is_replayed_as_the_sql_the_driver_sends(tmp_path: Path) -> None:
    # Unleash creates its first tables with db.createTable and async.series; db-migrate-pg's
    # createColumnDef keeps a string default as quoted text ('now()', as the runner sends it).
    write_files(tmp_path, {"migrations/20220101000000-api.js": (
        "'use strict';\n"
        "const async = require('async');\n"
        "const LABELS = { A: 'first' };\n"
        "exports.up = function (db, cb) {\n"
        "  async.series([\n"
        "    db.createTable.bind(db, 'apps', {\n"
        "      id: { type: 'int', primaryKey: true, autoIncrement: true, unsigned: true },\n"
        "      name: { type: type.STRING, length: 255, notNull: true, unique: true },\n"
        "      seen_at: { type: 'timestamptz', defaultValue: new String('now()') },\n"
        "      created_at: { type: 'timestamp', defaultValue: 'now()' },\n"
        "      enabled: { type: 'boolean', defaultValue: false },\n"
        "    }),\n"
        "    db.createTable.bind(db, 'labels', { columns: {\n"
        "      app: { type: 'int', primaryKey: true, foreignKey: { name: 'labels_app_fk', table: 'apps',\n"
        "             mapping: 'id', rules: { onDelete: 'CASCADE' } } },\n"
        "      label: { type: 'text', primaryKey: true },\n"
        "    }, ifNotExists: true }),\n"
        "    db.runSql.bind(db, `INSERT INTO labels (app, label) SELECT id, '${LABELS.A}' FROM apps`),\n"
        "    db.addIndex.bind(db, 'apps', 'apps_seen', ['seen_at', 'id']),\n"
        "  ], cb);\n"
        "};\n"
        "exports.down = async (db) => {\n"
        "  await db.removeIndex('apps', 'apps_seen');\n"
        "  await db.dropTable('labels', { ifExists: true });\n"
        "  return db.dropTable('apps');\n"
        "};\n")})
    [migration] = discover(tmp_path, repo_root=tmp_path).migrations
    statements = split_script(migration.up)
    assert [(s.line, s.sql) for s in statements] == [
        (6, 'CREATE TABLE  "apps" ("id"   SERIAL PRIMARY KEY, "name" VARCHAR (255) NOT NULL UNIQUE,'
            ' "seen_at" TIMESTAMP  WITH TIME ZONE DEFAULT now(), "created_at" TIMESTAMP  DEFAULT \'now()\','
            ' "enabled" BOOLEAN  DEFAULT false)'),
        (13, 'CREATE TABLE IF NOT EXISTS "labels" ("app" INTEGER  , "label" TEXT  , PRIMARY KEY ("app", "label"))'),
        (13, 'ALTER TABLE "labels" ADD CONSTRAINT "labels_app_fk" FOREIGN KEY ("app") REFERENCES "apps" ("id")'
             ' ON DELETE CASCADE ON UPDATE NO ACTION'),
        (18, "INSERT INTO labels (app, label) SELECT id, 'first' FROM apps"),
        (19, 'CREATE  INDEX "apps_seen" ON "apps" ("seen_at", "id")'),
    ]
    assert [s.sql for s in split_script(migration.down)] == [
        'DROP INDEX "apps_seen"', 'DROP TABLE IF EXISTS "labels"', 'DROP TABLE  "apps"']


def test_a_module_the_parser_cannot_read_is_skipped_at_its_line(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20220101000000-broken.js": "exports.up = function (db, cb) {\n  db.runSql('SELECT 1', cb) +;\n};\n"})
    [migration] = discover(tmp_path, repo_root=tmp_path).migrations
    assert migration.up is None and migration.skip_reason.endswith("(JavaScript the parser cannot read, line 2)")


def test_a_promise_chain_runs_in_its_order(tmp_path: Path) -> None:
    # db-migrate's template returns promises: `db.createTable(...).then(() => db.addColumn(...))`.
    write_files(tmp_path, {"migrations/20220101000000-chain.js": (
        "exports.up = function (db) {\n"
        "  return db\n"
        "    .createTable('projects', {\n"
        "      id: { type: 'int', primaryKey: true, autoIncrement: true, unsigned: true },\n"
        "      created_at: { type: 'timestamptz', defaultValue: new String('CURRENT_TIMESTAMP') },\n"
        "    })\n"
        "    .then(() =>\n"
        "      db.addColumn('todos', 'project_id', { type: 'int',\n"
        "        foreignKey: { name: 'todo_project_fk', table: 'projects', mapping: 'id' } }))\n"
        "    .then(() => db.runSql('UPDATE todos SET project_id = 1'));\n"
        "};\n"
        "exports.down = (db) => db.removeColumn('todos', 'project_id').then(() => db.dropTable('projects'));\n")})
    [migration] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [(s.line, s.sql) for s in split_script(migration.up)] == [
        (2, 'CREATE TABLE  "projects" ("id"   SERIAL PRIMARY KEY, "created_at" TIMESTAMP  WITH TIME ZONE'
            ' DEFAULT CURRENT_TIMESTAMP)'),
        (8, 'ALTER TABLE "todos" ADD COLUMN "project_id" INTEGER'),
        (8, 'ALTER TABLE "todos" ADD CONSTRAINT "todo_project_fk" FOREIGN KEY ("project_id") REFERENCES "projects" ("id")'
            ' ON DELETE NO ACTION ON UPDATE NO ACTION'),
        (10, "UPDATE todos SET project_id = 1"),
    ]
    assert [s.sql for s in split_script(migration.down)] == [
        'ALTER TABLE "todos" DROP COLUMN "project_id"', 'DROP TABLE  "projects"']


def test_code_nested_deeper_than_python_reads_is_skipped_not_a_crash(tmp_path: Path) -> None:
    # Migrations are untrusted: a `+` of 5,000 strings must not end the run with a RecursionError.
    write_files(tmp_path, {"migrations/20220101000000-deep.js": "exports.up = (db) => db.runSql(" + " + ".join(["'a'"] * 5000) + ");\n"})
    [migration] = discover(tmp_path, repo_root=tmp_path).migrations
    assert migration.up is None and migration.skip_reason.endswith("(code nested deeper than this check reads, line 1)")


def test_change_column_is_the_statements_db_migrate_pg_sends(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20220101000000-change.js": (
        "exports.up = (db) => db.changeColumn('users', 'email', { type: 'string', length: 320, notNull: true, unique: true });\n"
        "exports.down = (db) => db.changeColumn('users', 'email', { unique: false, defaultValue: 'none' });\n")})
    [change] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(change.up)] == [
        'ALTER TABLE "users" ALTER COLUMN "email" SET NOT NULL',
        'ALTER TABLE "users" ADD CONSTRAINT "users_email_key" UNIQUE ("email")',
        'ALTER TABLE "users" ALTER COLUMN "email" DROP DEFAULT',
        'ALTER TABLE "users" ALTER COLUMN "email" TYPE VARCHAR (320) USING "email"::VARCHAR']
    assert [s.sql for s in split_script(change.down)] == [
        'ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL', 'ALTER TABLE "users" DROP CONSTRAINT "users_email_key"',
        "ALTER TABLE \"users\" ALTER COLUMN \"email\" SET DEFAULT 'none'"]
