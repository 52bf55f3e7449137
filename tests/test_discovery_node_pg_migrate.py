"""node-pg-migrate discovery: SQL files split at its own markers, modules read for their pgm.sql,
the order of its numeric prefixes (17-digit UTC times included), and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover, layout_named
from migration_check.discovery.node_pg_migrate import DISABLED, NO_INVERSE, prefix_value
from migration_check.model import Transaction
from migration_check.sql.splitter import split_script


def test_sql_files_are_split_at_the_runners_own_markers(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/1700000000000_a.sql": "-- Up Migration\ncreate table a (id int);\n\n-- Down Migration\ndrop table a;\n",
        # a file whose down comes first, and one with no down marker: no rollback
        "migrations/1700000000001_b.sql": "--- down migration\ndrop table b;\n---- UP MIGRATION\ncreate table b (id int);\n",
        "migrations/1700000000002_c.sql": "-- Up Migration\ncreate table c (id int);\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "node-pg-migrate"
    a, b, c = found.migrations
    assert [(s.sql, s.line) for s in split_script(a.up)] == [("create table a (id int)", 2)]
    assert [(s.sql, s.line) for s in split_script(a.down)] == [("drop table a", 5)]
    assert [(s.sql, s.line) for s in split_script(b.up)] == [("create table b (id int)", 4)]
    assert [s.sql for s in split_script(b.down)] == ["drop table b"]
    assert c.down is None and a.id == "1700000000000_a" and a.up.transaction is Transaction.WRAPPED


def test_modules_are_read_for_the_sql_they_give_the_builder(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/1700000000000_init.js": ("exports.shorthands = undefined;\n"
                                             "exports.up = (pgm) => {\n  pgm.sql(`create table t (id int)`);\n"
                                             "  pgm.sql('create index t_id on t (id)');\n};\n"
                                             "exports.down = (pgm) => { pgm.sql('drop table t'); };\n"),
        "migrations/1700000000001_concurrently.ts": (
            "import type { MigrationBuilder } from 'node-pg-migrate';\n"
            "export async function up(pgm: MigrationBuilder): Promise<void> {\n"
            "  pgm.noTransaction();\n  pgm.sql('create index concurrently t_i on t (id)');\n}\n"
            "export const down = false;\n"),
        "migrations/1700000000002_inferred.js": "exports.up = (pgm) => { pgm.sql('alter table t add v int'); };\n",
        "migrations/1700000000003_code.js": "exports.up = (pgm) => {\n  pgm.createPolicy('u', 'p');\n};\n",
    })
    init, concurrently, inferred, code = discover(tmp_path, repo_root=tmp_path).migrations
    assert [(s.sql, s.line) for s in split_script(init.up)] == [("create table t (id int)", 3), ("create index t_id on t (id)", 4)]
    assert [s.sql for s in split_script(init.down)] == ["drop table t"]
    assert concurrently.up.transaction is Transaction.NONE
    assert (concurrently.down, concurrently.down_skip_reason) == (None, DISABLED)
    assert (inferred.down, inferred.down_skip_reason) == (
        None, f"{NO_INVERSE}: pgm.sql, which has no inverse node-pg-migrate can infer, line 1")
    assert code.up is None and code.skip_reason.endswith("its up runs code, not SQL alone (pgm.createPolicy, line 2)")


def test_sql_a_module_reads_from_a_file_of_the_repository_is_replayed(tmp_path: Path) -> None:
    # As a real project writes it: `fs.readFileSync(path.join(__dirname, 'sql', ...), 'utf8')` then
    # pgm.sql. A file outside the repository, a path from the working directory or a Buffer is code.
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "secret.sql").write_text("select 'outside';\n")

    def module(read: str) -> str:
        return ("const fs = require('node:fs');\nconst path = require('node:path');\n"
                f"exports.up = (pgm) => {{\n  const sql = {read};\n  pgm.sql(sql);\n}};\n"
                "exports.down = (pgm) => { pgm.sql('drop table orders'); };\n")

    write_files(tmp_path / "repo", {
        "migrations/sql/002_orders.sql": "create table orders (id int);\n",
        "migrations/002_orders.js": module("fs.readFileSync(path.join(__dirname, 'sql', '002_orders.sql'), 'utf8')"),
        "migrations/003_resolved.js": module(
            "fs.readFileSync(path.resolve(__dirname, './sql/../sql/002_orders.sql'), { encoding: 'utf-8' })"),
        "migrations/004_outside.js": module("fs.readFileSync(path.join(__dirname, '..', '..', 'secret.sql'), 'utf8')"),
        "migrations/005_cwd.js": module("fs.readFileSync('migrations/sql/002_orders.sql', 'utf8')"),
        "migrations/006_buffer.js": module("fs.readFileSync(path.join(__dirname, 'sql', '002_orders.sql'))"),
        # TypeScript's imports of the same functions, and a `join` of the module's own, which is code.
        "migrations/001_imported.ts": ("import { readFileSync as read } from 'node:fs';\nimport { join } from 'path';\n"
                                       "export async function up(pgm) {\n"
                                       "  pgm.sql(read(join(__dirname, 'sql', '002_orders.sql'), 'utf8'));\n}\n"),
        "migrations/007_own_join.js": ("const fs = require('fs');\nfunction join(...parts) { return parts.join('/'); }\n"
                                       "exports.up = (pgm) => {\n"
                                       "  pgm.sql(fs.readFileSync(join(__dirname, 'sql', '002_orders.sql'), 'utf8'));\n};\n"),
    })
    imported, read, resolved, *code, own_join = discover(tmp_path / "repo", repo_root=tmp_path / "repo").migrations
    assert [(s.sql, s.line) for s in split_script(read.up)] == [("create table orders (id int)", 1)]
    assert read.up.path == tmp_path / "repo/migrations/sql/002_orders.sql"  # an error is placed in it
    assert read.up.sql == resolved.up.sql and [s.sql for s in split_script(imported.up)] == ["create table orders (id int)"]
    assert all(m.up is None and "its up runs code, not SQL alone (a variable, line 4)" in m.skip_reason for m in code)
    assert own_join.up is None and own_join.skip_reason is not None


def test_a_query_sent_at_once_is_read_where_it_runs_in_the_order_written(tmp_path: Path) -> None:
    # akarlik/library-case seeds with `await pgm.db.query(...)`, which sends its SQL at once: before
    # the operations queued so far, which run after the function returns.
    write_files(tmp_path, {
        "migrations/1700000000000_seed.js": ("exports.up = async (pgm) => {\n  await pgm.db.query(`insert into t values (1)`);\n"
                                             "  pgm.sql('insert into t values (2)');\n};\n"
                                             "exports.down = async (pgm) => { await pgm.db.query('delete from t'); };\n"),
        "migrations/1700000000001_late.js": ("exports.up = (pgm) => {\n  pgm.sql('insert into t values (3)');\n"
                                             "  pgm.db.query('insert into t values (4)');\n};\n"),
        "migrations/1700000000002_inferred.js": "exports.up = (pgm) => { pgm.db.query('insert into t values (5)'); };\n",
        "migrations/1700000000003_outside.js": ("exports.up = (pgm) => {\n  pgm.db.query('insert into t values (6)');\n"
                                                "  pgm.noTransaction();\n};\nexports.down = false;\n"),
        "migrations/1700000000004_sequence.js": ("exports.up = pgm => {\n  pgm.sql(`create table a (id int)`),\n\n"
                                                 "  pgm.sql(`create table b (id int)`)\n};\n"),
    })
    seed, late, inferred, outside, sequence = discover(tmp_path, repo_root=tmp_path).migrations
    # JunCLi/bazaar-server: two pgm.sql calls joined by a comma, both queued in order.
    assert [(s.sql, s.line) for s in split_script(sequence.up)] == [("create table a (id int)", 2), ("create table b (id int)", 4)]
    assert outside.up is None and "pgm.noTransaction after pgm.db.query" in outside.skip_reason
    assert [(s.sql, s.line) for s in split_script(seed.up)] == [("insert into t values (1)", 2), ("insert into t values (2)", 3)]
    assert [s.sql for s in split_script(seed.down)] == ["delete from t"]
    assert late.up is None and late.skip_reason.endswith(
        "its up runs code, not SQL alone (pgm.db.query after a queued operation, which it runs before, line 3)")
    assert (inferred.down, inferred.down_skip_reason) == (
        None, f"{NO_INVERSE}: pgm.db.query, which has no inverse node-pg-migrate can infer, line 1")


def test_they_run_by_their_numeric_prefix_and_a_name_without_one_stops_the_runner(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/20200513070724505_utc.sql": "-- Up Migration\nselect 2;\n",   # 2020-05-13: 1589353644505
        "migrations/1589353644504_before.sql": "-- Up Migration\nselect 1;\n",
        "migrations/1589353644506_after.sql": "-- Up Migration\nselect 3;\n",
        "migrations/seed.sql": "-- Up Migration\nselect 4;\n",
        "migrations/.eslintrc.js": "module.exports = {};\n",  # dot files are ignored
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.name for m in found.migrations] == ["before", "utc", "after"]
    [stray] = found.stray_files
    assert stray.refused and 'Cannot determine numeric prefix for seed.sql' in stray.reason


@pytest.mark.parametrize(("name", "value"), [("20200513070724505_x.sql", 1589353644505), ("0003_x.js", 3),
                                             ("1589353644504_x.js", 1589353644504)])
def test_prefixes_are_read_as_node_pg_migrate_reads_them(name: str, value: int) -> None:
    assert prefix_value(name) == value


def test_a_module_that_names_pgm_in_passing_is_not_a_migration(tmp_path: Path) -> None:
    write_files(tmp_path, {"lib/1_helpers.js": "// pgm helpers\nexports.up = (x) => x + 1;\n",
                           "migrations/1700000000000_a.sql": "-- Up Migration\nselect 1;\n"})
    assert discover(tmp_path, repo_root=tmp_path).directory == tmp_path / "migrations"


@pytest.mark.parametrize(("script", "directory"), [("node-pg-migrate up", "migrations"),
                                                    ("node-pg-migrate -m db/changes up", "db/changes"),
                                                    ("node-pg-migrate --migrations-dir=./db/changes up", "db/changes")])
def test_plain_sql_files_are_its_own_where_the_package_runs_it_on_them(tmp_path: Path, script: str, directory: str) -> None:
    # kmnx/multitune: `"migrate": "node-pg-migrate up"` over 001_init.sql ... without markers (the
    # whole file is the up; no down).
    write_files(tmp_path, {
        "apps/backend/package.json": f'{{"scripts": {{"migrate": "{script}"}}, "dependencies": {{"node-pg-migrate": "^7.1.0"}}}}',
        f"apps/backend/{directory}/001_init.sql": "create table users (id serial primary key);\n",
        f"apps/backend/{directory}/002_names.sql": "alter table users add name text;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert (found.format, found.directory) == ("node-pg-migrate", tmp_path / "apps/backend" / directory)
    assert [(m.id, m.down) for m in found.migrations] == [("001_init", None), ("002_names", None)]


def test_plain_sql_files_of_a_package_without_it_are_not_its(tmp_path: Path) -> None:
    write_files(tmp_path, {"package.json": '{"dependencies": {"pg": "^8"}}',
                           "migrations/001_init.sql": "create table users (id serial primary key);\n"})
    assert discover(tmp_path, repo_root=tmp_path).format == "numbered"


def test_the_builders_operations_are_replayed_as_the_sql_node_pg_migrate_writes(tmp_path: Path) -> None:
    # mgreenw/JumboSmash, Mayon-Francis/gym-backend-dbms: tables, columns, constraints, views and
    # indexes through the builder; the down node-pg-migrate infers from the up where there is none.
    write_files(tmp_path, {"migrations/1700000000000_api.js": (
        "exports.shorthands = { created: { type: 'timestamptz', notNull: true, default: PgLiteral.create('now()') } };\n"
        "exports.up = (pgm) => {\n"
        "  pgm.createTable('users', {\n"
        "    id: 'id',\n"
        "    email: { type: 'citext', unique: true, comment: 'login' },\n"
        "    status: { type: 'string', notNull: true, default: 'active' },\n"
        "    created_at: 'created',\n"
        "  });\n"
        "  pgm.createTable({ schema: 'app', name: 'posts' }, {\n"
        "    user_id: { type: 'integer', primaryKey: true, references: 'users', onDelete: 'CASCADE' },\n"
        "    slug: { type: 'text', primaryKey: true },\n"
        "    at: { type: 'timestamp', default: pgm.func('current_timestamp') },\n"
        "  }, { ifNotExists: true });\n"
        "  pgm.createIndex('users', ['status', 'lower(email)'], { unique: true });\n"
        "  pgm.addConstraint('users', 'users_status_check', { check: \"status <> ''\" });\n"
        "  pgm.renameColumn('users', 'status', 'state');\n"
        "};\n")})
    [api] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [(s.line, s.sql) for s in split_script(api.up)] == [
        (3, 'CREATE TABLE "users" ("id" serial PRIMARY KEY, "email" citext UNIQUE, "status" text DEFAULT $pga$active$pga$'
            ' NOT NULL, "created_at" timestamptz DEFAULT now() NOT NULL)'),
        (3, 'COMMENT ON COLUMN "users"."email" IS $pga$login$pga$'),
        (9, 'CREATE TABLE IF NOT EXISTS "app"."posts" ("user_id" integer REFERENCES "users" ON DELETE CASCADE,'
            ' "slug" text, "at" timestamp DEFAULT current_timestamp, CONSTRAINT "posts_pkey" PRIMARY KEY ("user_id", "slug"))'),
        (14, 'CREATE UNIQUE INDEX "users_status_(lower(email))_unique_index" ON "users" ("status", (lower(email)))'),
        (15, 'ALTER TABLE "users" ADD CONSTRAINT "users_status_check" CHECK (status <> \'\')'),
        (16, 'ALTER TABLE "users" RENAME "status" TO "state"'),
    ]
    assert [s.sql for s in split_script(api.down)] == [
        'ALTER TABLE "users" RENAME "state" TO "status"', 'ALTER TABLE "users" DROP CONSTRAINT "users_status_check"',
        'DROP INDEX "users_status_(lower(email))_unique_index"', 'DROP TABLE "app"."posts"', 'DROP TABLE "users"']


def test_a_literal_made_with_new_is_sql_written_as_it_is(tmp_path: Path) -> None:
    # sidiousvic/spiders: `default: new PgLiteral("uuid_generate_v4()")`.
    write_files(tmp_path, {"migrations/1700000000000_users.js": (
        "const { PgLiteral } = require('node-pg-migrate');\n"
        "module.exports.up = async function up(pgm) {\n"
        "  await pgm.createExtension('uuid-ossp', { ifNotExists: true, schema: 'public' });\n"
        "  await pgm.createTable('users', { user_id: { type: 'uuid', default: new PgLiteral('uuid_generate_v4()'),"
        " primaryKey: true } });\n};\n")})
    [users] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(users.up)] == [
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" SCHEMA "public"',
        'CREATE TABLE "users" ("user_id" uuid DEFAULT uuid_generate_v4() PRIMARY KEY)']
    assert [s.sql for s in split_script(users.down)] == ['DROP TABLE "users"', 'DROP EXTENSION "uuid-ossp"']


def test_a_trigger_with_its_function_and_their_inverse(tmp_path: Path) -> None:
    # mgreenw/JumboSmash: createTrigger with the function's body, dropTrigger and dropFunction.
    write_files(tmp_path, {"migrations/1700000000000_trigger.js": (
        "exports.up = (pgm) => {\n"
        "  pgm.createTrigger('relationships', 'read_receipt', {\n"
        "    when: 'before', operation: ['insert', 'update'], level: 'row', language: 'plpgsql',\n"
        "  }, `BEGIN RETURN NEW; END`);\n"
        "};\n")})
    [trigger] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(trigger.up)] == [
        'CREATE FUNCTION "read_receipt"() RETURNS trigger AS $pga$BEGIN RETURN NEW; END$pga$ VOLATILE LANGUAGE plpgsql',
        'CREATE TRIGGER "read_receipt" before insert OR update ON "relationships" FOR EACH row'
        ' EXECUTE PROCEDURE "read_receipt"()']
    assert [s.sql for s in split_script(trigger.down)] == [
        'DROP TRIGGER "read_receipt" ON "relationships"', 'DROP FUNCTION "read_receipt"()']


@pytest.mark.parametrize(("files", "reason"), [
    # JunCLi/bazaar-server: `db: {schema: bazaar}` in config/default.json, `--create-schema` in a script.
    ({"config/default.json": '{"db": {"user": "postgres", "schema": "bazaar"}}',
      "package.json": '{"scripts": {"db:up": "yarn node-pg-migrate up --create-schema"},'
                      ' "dependencies": {"node-pg-migrate": "^3.16.0"}}'},
     "as node-pg-migrate does with the schema config/default.json gives, creates bazaar and sets the search_path to bazaar"),
    ({"package.json": '{"scripts": {"migrate": "node-pg-migrate -s bazaar up"}, "dependencies": {"node-pg-migrate": "^7"}}'},
     "as node-pg-migrate does with the schema package.json's migrate script gives, sets the search_path to bazaar"),
])
def test_the_schema_the_project_runs_it_in(tmp_path: Path, files: dict[str, str], reason: str) -> None:
    write_files(tmp_path, {**files, "migrations/1550779717609_init.js": (
        "exports.up = (pgm) => { pgm.sql('create table users (id int)'); };\n")})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.setup_reason == reason and len(found.setup) == 1
    assert "ALTER DATABASE %I SET search_path = %s', current_database(), '\"bazaar\"')" in found.setup[0].sql
    assert ('CREATE SCHEMA IF NOT EXISTS "bazaar";' in found.setup[0].sql) == ("creates" in reason)
    assert "bazaar.pgmigrations" in layout_named("node-pg-migrate").history_tables(found.directory)
