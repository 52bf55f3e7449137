"""knex discovery: the schema builder written as knex's PostgreSQL client writes it (knex's own
tests, transcribed), modules in file-name order named by their files, what knex refuses, what is
code, transactions and the history table."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FIXTURES, write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.discovery.js_reading import exported, parser, read_function
from migration_check.discovery.js_values import Values
from migration_check.discovery.knex_reading import KnexReading
from migration_check.errors import FileError
from migration_check.model import Transaction
from migration_check.sql.splitter import split_script

KNEX_TESTS = yaml.safe_load((FIXTURES / "knex" / "postgres_schema_builder.yml").read_text())


def read_up(text: str) -> Any:
    source = text.encode()
    root = parser("javascript").parse(source).root_node
    return read_function(exported(root, ("up",))["up"], source, Values(root), KnexReading)


@pytest.mark.parametrize("case", KNEX_TESTS, ids=lambda case: case["name"])
def test_the_schema_builder_is_written_as_knex_writes_it_or_refused(case: dict[str, Any]) -> None:
    up = read_up("exports.up = function(knex) {\n  return knex.schema" + case["chain"] + ";\n};\n")
    if case.get("refused"):
        assert up.code is not None and up.code[1]  # refused, naming why: never replayed as other SQL
        return
    assert up.code is None
    written = [piece.sql for piece in up.pieces]
    assert (written[:len(case["sql"])] if case.get("first_only") else written) == case["sql"]


def module(up: str, down: str = "return knex.raw('select 1');") -> str:
    return f"exports.up = function (knex) {{\n  {up}\n}};\n\nexports.down = function (knex) {{\n  {down}\n}};\n"


def test_modules_run_in_file_name_order_named_by_their_files(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/20240102000000_email.ts": module("return knex.schema.table('u', (t) => { t.text('e'); });"),
        "migrations/20240101000000_init.js": module("return knex.schema.createTable('u', (t) => { t.increments(); });",
                                                    "return knex.schema.dropTable('u');"),
        "migrations/20240103000000_old.coffee": "exports.up = (knex) -> knex.raw 'select 1'\n",
        "migrations/notes.md": "not loaded\n",
        "migrations/20240104000000_half.js": "exports.up = function (knex) { return knex.raw('select 1'); };\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "knex"
    assert [(m.version, m.name, m.id) for m in found.migrations] == [
        ("20240101000000", "init", "20240101000000_init.js"), ("20240102000000", "email", "20240102000000_email.ts"),
        ("20240103000000", "old", "20240103000000_old.coffee")]
    first = found.migrations[0]
    assert [s.sql for s in split_script(first.up)] == ['create table "u" ("id" serial primary key)']
    assert [s.sql for s in split_script(first.down)] == ['drop table "u"']
    assert "not JavaScript or TypeScript" in (found.migrations[2].skip_reason or "")
    [stray] = found.stray_files
    assert stray.path.name == "20240104000000_half.js" and stray.refused
    assert "must have both an up and down function" in stray.reason
    assert found.pending_in_one_transaction and {m.up.transaction for m in found.migrations if m.up} == {Transaction.WRAPPED}


def test_sql_read_from_a_file_of_the_repository_is_what_knex_raw_sends(tmp_path: Path) -> None:
    # `const { readFileSync } = require('fs')`, then `knex.raw(readFileSync(...))`.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "migrations/sql/init.sql": "create table tags (id int);\ncreate index tags_id on tags (id);\n",
        "migrations/20240101000000_init.js": (
            "const { readFileSync } = require('fs');\nconst path = require('path');\n"
            + module("return knex.raw(readFileSync(path.join(__dirname, 'sql/init.sql'), 'utf8'));",
                     "return knex.raw('drop table tags');")),
    })
    [init] = discover(tmp_path, repo_root=tmp_path).migrations
    assert init.up is not None
    assert [s.sql for s in split_script(init.up)] == ["create table tags (id int)", "create index tags_id on tags (id)"]


def test_the_folder_of_a_knexfile_is_not_its_migrations_unless_the_knexfile_says_so(tmp_path: Path) -> None:
    # Elizabeth-Warren/Spoke: knexfile.js beside knex-migration-stub.js (the template `migrate:make`
    # copies, which exports up(knex)); the migrations are in ./migrations, knex's default. The root was
    # taken for the migrations, and babel.config.js and the others failed as refused migrations.
    stub = module("return knex.raw('select 1');")
    write_files(tmp_path, {
        "knexfile.js": "module.exports = { client: 'pg', migrations: { stub: 'knex-migration-stub.js' } };\n",
        "knex-migration-stub.js": stub,
        "babel.config.js": "module.exports = { presets: [] };\n",
        "migrations/20200208170807_init.js": module("return knex.raw('create table t (id int)');"),
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == tmp_path / "migrations" and [m.name for m in found.migrations] == ["init"]
    (tmp_path / "knexfile.js").write_text("module.exports = { migrations: { directory: './' } };\n")
    assert discover(tmp_path, repo_root=tmp_path).directory == tmp_path  # where it names its own folder


def test_the_history_table_a_knexfile_names_is_the_runners(tmp_path: Path) -> None:
    # `migrations: { tableName: '_app_migrations' }` (with a schema, in one environment of several):
    # drift leaves it and its lock table out, as it does knex_migrations.
    from migration_check.discovery import layout_named

    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "knexfile.ts": ("const shared = { client: 'pg' };\nexport default {\n"
                        "  development: { ...shared, migrations: { directory: './db/migrations', tableName: '_app_migrations',"
                        " schemaName: 'app' } },\n  test: { ...shared, seeds: { directory: './db/seeds' } },\n};\n"),
        "db/migrations/20250101000000_init.js": module("return knex.raw('create table t (id int)');"),
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert layout_named("knex").history_tables(found.directory) == {
        "public.knex_migrations", "public.knex_migrations_lock", "app._app_migrations", "app._app_migrations_lock"}


def test_code_is_named_and_promise_all_runs_in_the_arrays_order(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/1_all.js": module("return Promise.all([knex.raw('create table a (id int)'),"
                                      " knex.schema.createTable('b', (t) => { t.integer('id'); })]);"),
        "migrations/2_branch.js": module("return knex.schema.hasTable('a').then((exists) => {\n"
                                         "    if (!exists) return knex.raw('select 1');\n  });"),
        "migrations/3_rows.js": module("return knex('a').where({ id: 1 }).update({ id: 2 });"),
        "migrations/4_outside.js": module("return knex.raw('create index concurrently a_id on a (id)');")
        + "exports.config = { transaction: false };\n",
    })
    ordered, branch, rows, outside = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(ordered.up)] == ["create table a (id int)", 'create table "b" ("id" integer)']
    assert branch.up is None and "(schema.hasTable: schema.hasTable, line 2)" in (branch.skip_reason or "")
    assert rows.up is None and "(knex('a').where({ id: 1 }).update, line 2)" in (rows.skip_reason or "")
    assert outside.up is not None and outside.up.transaction is Transaction.NONE
    assert not discover(tmp_path, repo_root=tmp_path).pending_in_one_transaction


def test_a_failing_column_is_reported_at_its_own_line(tmp_path: Path, pg_server) -> None:
    root = write_files(tmp_path / "repo", {"migrations/20240101000000_init.js": module(
        "return knex.schema.createTable('u', (table) => {\n    table.increments();\n  })"
        ".alterTable('u', (table) => {\n    table.string('a');\n  }).alterTable('u', (table) => {\n    table.specificType('b', 'no_such_type');\n  });",
        "return knex.schema.dropTable('u');")})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = tmp_path / "r.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 1
    assert 'file="migrations/20240101000000_init.js" line="7"' in report.read_text()  # the specificType's line


def test_a_migration_finds_the_rows_knex_keeps_in_its_history_table(pg_server, tmp_path: Path) -> None:
    # knex names each row by the file, extension included; its lock table has its one row.
    check = ("do $$ begin if not exists (select from knex_migrations where name = '20240101000000_a.js')"
             " or (select count(*) from knex_migrations_lock) <> 1 then raise exception 'no history'; end if; end $$;")
    root = write_files(tmp_path / "repo", {
        "migrations/20240101000000_a.js": module("return knex.raw('create table a (id int)');", "return knex.raw('drop table a');"),
        "migrations/20240102000000_b.js": module(f"return knex.raw(`{check}`);"),
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "-q"]) == 0


def test_unreadable_modules_elsewhere_stop_nothing_and_a_nul_in_sql_is_named(tmp_path: Path) -> None:
    # rili-live/therr-app: an eslint rule about knex migrations holds a NUL byte; a vendored file is not UTF-8.
    write_files(tmp_path, {
        ".git/HEAD": "ref: refs/heads/main\n",
        "eslint/rules/require-idempotent-migration.js": "// knex up\nconst nul = '\x00';\nexports.up = (knex) => knex;\n",
        "migrations/20240101000000_a.js": module("return knex.raw('create table a (id int)');",
                                                 "return knex.raw('drop table a');"),
    })
    (tmp_path / "vendor.js").write_bytes(b"// knex up\nexports.up = (knex) => '\xff';\n")
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "migrations").resolve() and found.migrations[0].up is not None
    write_files(tmp_path, {"migrations/20240102000000_b.js": module("return knex.raw('select 1;\\0 drop table a');")})
    with pytest.raises(FileError, match=r"20240102000000_b.js:2: holds a NUL byte"):
        discover(tmp_path / "migrations", repo_root=tmp_path)


def test_question_marks_are_sent_as_knex_positions_them(tmp_path: Path) -> None:
    # knex's PostgreSQL client turns every `?` into a placeholder and `\?` into `?` (therr-app writes
    # its JSONB key test `elem \\? 'brand'` in the module so that PostgreSQL gets `elem ? 'brand'`).
    write_files(tmp_path, {
        "migrations/1_escaped.js": module("return knex.raw(`select '{\"a\": 1}'::jsonb \\\\? 'a'`);"),
        "migrations/2_bare.js": module("return knex.raw(\"select '{}'::jsonb ? 'a'\");"),
    })
    escaped, bare = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(escaped.up)] == ["select '{\"a\": 1}'::jsonb ? 'a'"]
    assert "select '{}'::jsonb $1 'a'" in bare.up.sql  # it fails in knex too


def test_chained_table_statements_and_json_defaults(tmp_path: Path) -> None:
    # therr-app: `table.index(...).index(...)` (the table builder returns itself) and JSON.stringify defaults.
    write_files(tmp_path, {"migrations/1_a.js": module(
        "return knex.schema.createTable('a', (table) => {\n    table.integer('x');\n    table.integer('y');\n"
        "    table.jsonb('tags').defaultTo(JSON.stringify([{ brand: 'therr', details: {} }, 2.0]));\n"
        "    table.index('x').index(['x', 'y'], 'a_x_y');\n  });")})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(found.up)] == [
        'create table "a" ("x" integer, "y" integer, "tags" jsonb default \'[{"brand":"therr","details":{}},2]\')',
        'create index "a_x_index" on "a" ("x")', 'create index "a_x_y" on "a" ("x", "y")']


def test_a_promise_chain_runs_each_callback_in_turn(tmp_path: Path) -> None:
    # therr-app: `knex.schema.raw(...).then(() => knex.schema.raw(...)).then(() => knex.schema.withSchema(...)...)`
    write_files(tmp_path, {"migrations/1_a.js": "exports.up = (knex) => knex.schema.raw('create schema if not exists main')\n"
                           "  .then(() => knex.schema.raw('create table main.a (id int)'))\n"
                           "  .then(() => knex.schema.withSchema('main').alterTable('a', (t) => { t.text('b'); }));\n"
                           "exports.down = (knex) => knex.schema.raw('drop schema main cascade');\n"})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(found.up)] == [
        "create schema if not exists main", "create table main.a (id int)", 'alter table "main"."a" add column "b" text']


def test_rows_inserted_with_the_query_builder_are_written_as_knex_writes_them(tmp_path: Path) -> None:
    # knex's _prepInsert: the union of the rows' columns, sorted, DEFAULT where a row has none.
    write_files(tmp_path, {"migrations/1_a.js": module(
        "return knex('settings').insert([{ key: 'theme', value: { dark: true } }, { key: \"o'clock\", enabled: false }])"
        ".returning('id');"),
        "migrations/2_b.js": module("return knex('settings').insert({ key: 'tags', value: ['a'] });")})
    rows, listed = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(rows.up)] == [
        'insert into "settings" ("enabled", "key", "value") values (DEFAULT, \'theme\', \'{"dark":true}\'),'
        " (false, 'o''clock', DEFAULT)"]
    assert listed.up is None and "a list value" in (listed.skip_reason or "")


def test_sql_held_in_a_constant_is_read_at_its_own_lines(tmp_path: Path, pg_server) -> None:
    # outline's `const searchDocument = \`...\``, opencollective's `const previousDomain = '...'`
    root = write_files(tmp_path / "repo", {"migrations/1_a.js": (
        "exports.up = async function (knex) {\n  const create = `\n    create table a (\n      id int,\n"
        "      broken no_such_type\n    )`;\n  await knex.raw(create);\n};\n"
        "exports.down = function (knex) {\n  return knex.raw('drop table a');\n};\n")})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = tmp_path / "r.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 1
    assert 'file="migrations/1_a.js" line="5"' in report.read_text()  # the bad column's own line
