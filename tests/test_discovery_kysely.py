"""Kysely discovery: the schema builder written as Kysely's compiler writes it for PostgreSQL
(Kysely's own tests, transcribed), `sql` templates and their helpers, a chain without `.execute()`,
what Kysely throws as it builds, the order of the names, an optional down, and a real project's
rollback defects (mwanago/nestjs-kysely)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FIXTURES, write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.discovery.js_reading import exported, parser, read_function
from migration_check.discovery.js_values import Values
from migration_check.discovery.kysely import locale_key
from migration_check.discovery.kysely_reading import KyselyReading
from migration_check.errors import UsageError
from migration_check.model import Transaction
from migration_check.replay.outcomes import why_no_rollback

KYSELY_TESTS = yaml.safe_load((FIXTURES / "kysely" / "postgres_schema_builder.yml").read_text())
HEAD = "import { Kysely, sql } from 'kysely'\n\n"


def read_up(body: str) -> tuple[Any, list[tuple[int, str]]]:
    source = (HEAD + "export async function up(db: Kysely<any>): Promise<void> {\n" + body + "\n}\n").encode()
    root = parser("typescript").parse(source).root_node
    refused: list[tuple[int, str]] = []
    return read_function(exported(root, ("up",))["up"], source, Values(root), KyselyReading, refused=refused), refused


@pytest.mark.parametrize("case", KYSELY_TESTS, ids=lambda case: case["name"])
def test_the_schema_builder_is_written_as_kysely_writes_it_or_refused(case: dict[str, Any]) -> None:
    up, refused = read_up(f"  await db.schema{case['chain']}.execute()")
    assert up.code is None
    if case.get("refused"):
        assert up.pieces == () and [what for _, what in refused] and case["refused"] in refused[0][1]
        return
    assert [piece.sql for piece in up.pieces] == [case["sql"]]


def test_sql_templates_and_their_helpers() -> None:
    up, _ = read_up(
        "  await sql`create table ${sql.table('public.pets')} (${sql.ref('id')} int, kind text default ${sql.lit('cat')})`"
        ".execute(db)\n"
        "  await sql.raw('create index pets_kind on pets (kind)').execute(db)\n"
        "  await sql<number>`select 1`.execute(db)\n"
        "  sql`drop table pets`\n")  # (a template never executed sends nothing)
    assert up.code is None
    assert [(p.line, p.sql) for p in up.pieces] == [
        (4, 'create table "public"."pets" ("id" int, kind text default \'cat\')'),
        (5, "create index pets_kind on pets (kind)"), (6, "select 1")]


@pytest.mark.parametrize(("body", "what"), [
    ("  await sql`select ${'x'}`.execute(db)", "a ${} in its SQL"),  # (a parameter Kysely binds)
    ("  await db.selectFrom('pets').selectAll().execute()", "db.selectFrom"),
    ("  await db.insertInto('pets').values(rows).execute()", "a value held in rows"),
    ("  await db.schema.createView('dogs').as(db.selectFrom('pets').selectAll()).execute()", "db.selectFrom"),
])
def test_what_kysely_binds_or_builds_from_queries_is_code(body: str, what: str) -> None:
    up, _ = read_up(body)
    assert up.code is not None and what in up.code[1], up.code


def test_the_rows_a_seed_writes_and_its_rollback_deletes() -> None:
    up, _ = read_up(
        "  await db.insertInto('view_param').values([\n"
        "    { name: 'threshold', value: '2' },\n    { name: 'interval', value: \"it's\", extra: { a: 1 } },\n"
        "  ]).onConflict((oc) => oc.column('name').doNothing()).returningAll().execute()\n"
        "  await db.updateTable('view_param').set({ value: sql`now()` }).where('name', '=', 'interval').execute()\n"
        "  await db.deleteFrom('view_param').where('name', 'in', ['a', 'b']).where('value', 'is', null).execute()\n")
    assert up.code is None
    assert [p.sql for p in up.pieces] == [
        'insert into "view_param" ("name", "value", "extra") values (\'threshold\', \'2\', default),'
        ' (\'interval\', \'it\'\'s\', \'{"a":1}\') on conflict ("name") do nothing',
        'update "view_param" set "value" = now() where "name" = \'interval\'',
        'delete from "view_param" where "name" in (\'a\', \'b\') and "value" is NULL']


def test_a_chain_without_execute_sends_nothing() -> None:
    # mwanago/nestjs-kysely: `await database.schema.alterTable('users').dropColumn('address_id');`
    up, _ = read_up("  await db.schema.alterTable('users').dropColumn('address_id')\n"
                    "  await db.schema.dropTable('addresses').execute()")
    assert up.code is None and [p.sql for p in up.pieces] == ['drop table "addresses"']


def test_names_in_the_order_localecompare_gives_them() -> None:
    names = ["2024_01_10_b", "2024_01_02_a", "2024-01-03_c", "Add_users", "add_posts", "10_x", "9_y"]
    assert sorted(names, key=locale_key) == [
        "10_x", "2024_01_02_a", "2024_01_10_b", "2024-01-03_c", "9_y", "add_posts", "Add_users"]


def test_modules_migrations_and_what_kysely_refuses(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "package.json": '{"dependencies": {"kysely": "^0.27.0", "pg": "^8"}}',
        "src/migrations/002_pets.ts": HEAD + "export async function up(db: Kysely<any>) {\n"
                                             "  await db.schema.createTable('pets').addColumn('tags', 'text[]').execute()\n}\n",
        "src/migrations/001_users.ts": HEAD + "export async function up(db: Kysely<any>) {\n"
                                              "  await db.schema.createTable('users').addColumn('id', 'serial').execute()\n}\n",
        "src/migrations/003_posts.ts": HEAD + "async function up(db: Kysely<any>) {\n"  # (its default export's)
                                              "  await sql`create table posts (id int)`.execute(db)\n}\n"
                                              "export default { up, async down(db: Kysely<any>) {\n"
                                              "  await sql`drop table posts`.execute(db)\n} }\n",
        "src/migrations/types.d.ts": "export type X = number\n",
        "src/migrations/helpers.ts": "import { Kysely } from 'kysely'\nexport const helper = 1\n",  # (no up: not one)
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "kysely" and [m.id for m in found.migrations] == ["001_users", "002_pets", "003_posts"]
    users, pets, posts = found.migrations
    assert posts.up is not None and posts.down is not None and "drop table posts" in posts.down.sql
    assert users.up is not None and users.up.transaction is Transaction.WRAPPED and users.down is None
    assert why_no_rollback(users, found.rollback_policy, "kysely") == (
        "no down: Kysely's migrateDown runs nothing for it and only forgets it")
    assert found.pending_in_one_transaction
    assert pets.refused and pets.up is None and 'invalid column data type "text[]"' in (pets.skip_reason or "")
    [refusal] = found.refusals
    assert (refusal.path.name, refusal.line) == ("002_pets.ts", 4) and "the run stops there" in refusal.message


def test_a_real_projects_rollback_defects(tmp_path: Path, pg_server) -> None:
    # mwanago/nestjs-kysely: a down drops a table that does not exist ("country" for "addresses"), and
    # another forgets `.execute()`, so its column stays.
    up = ("export async function up(database: Kysely<unknown>): Promise<void> {\n"
          "  await database.schema.createTable('addresses').addColumn('id', 'serial', (column) => {\n"
          "    return column.primaryKey();\n  }).execute();\n}\n\n")
    root = write_files(tmp_path / "repo", {
        "package.json": '{"dependencies": {"kysely": "^0.27.0", "pg": "^8"}}',
        "src/migrations/20230813192709_add_addresses_table.ts": HEAD + up + (
            "export async function down(database: Kysely<unknown>): Promise<void> {\n"
            "  await database.schema.dropTable('country').execute();\n}\n"),
        "src/migrations/20231105201749_add_created_at.ts": HEAD + (
            "export async function up(database: Kysely<unknown>): Promise<void> {\n"
            "  await database.schema.alterTable('addresses').addColumn('created_at', 'timestamptz', (column) => {\n"
            "    return column.notNull().defaultTo(sql`now()`);\n  }).execute();\n}\n\n"
            "export async function down(database: Kysely<unknown>): Promise<void> {\n"
            "  await database.schema.alterTable('addresses').dropColumn('created_at');\n}\n"),
        # bluesky-social/atproto's ozone: one query of the down never executed, beside one that is.
        "src/migrations/20240228T003647759Z-add-label-sigs.ts": HEAD + (
            "export async function up(db: Kysely<unknown>): Promise<void> {\n"
            "  await db.schema.alterTable('addresses').addColumn('sig', sql`bytea`).execute()\n"
            "  await db.schema.createTable('signing_key').addColumn('id', 'serial', (col) => col.primaryKey()).execute()\n"
            "}\n\nexport async function down(db: Kysely<unknown>): Promise<void> {\n"
            "  await db.schema.dropTable('signing_key')\n"
            "  await db.schema.alterTable('addresses').dropColumn('sig').execute()\n}\n"),
    })
    report = tmp_path / "report.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 1
    failed = {(c.get("classname"), c.get("name")): c.find("failure").get("message", "")  # type: ignore[union-attr]
              for c in ET.parse(report).getroot().iter("testcase") if c.find("failure") is not None}
    assert 'table "country" does not exist' in failed[("migration_check.rollback", "20230813192709_add_addresses_table")]
    forgotten = failed[("migration_check.roundtrip", "20231105201749_add_created_at")]
    assert "column public.addresses.created_at: created by the up" in forgotten
    assert "the query at line 10 is built but never executed, so Kysely sends nothing: end it with `.execute()`" \
        in forgotten
    unsent = failed[("migration_check.roundtrip", "20240228T003647759Z-add-label-sigs")]
    assert ("(src/migrations/20240228T003647759Z-add-label-sigs.ts: the query at line 9 is built but never executed,"
            " so Kysely sends nothing: end it with `.execute()`): table public.signing_key: created by the up") in unsent


def test_a_migrator_without_transactions_runs_each_query_on_its_own(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "package.json": '{"dependencies": {"kysely": "^0.27.0", "pg": "^8"}}',
        "src/migrate.ts": "const migrator = new Migrator({ db, provider, disableTransactions: true })\n",
        "src/migrations/001_index.ts": HEAD + "export async function up(db: Kysely<any>) {\n"
                                              "  await sql`create index concurrently users_email on users (email)`.execute(db)\n}\n",
    })
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    found = discover(tmp_path, repo_root=tmp_path)
    [index] = found.migrations
    assert index.up is not None and index.up.transaction is Transaction.NONE and not found.pending_in_one_transaction


def test_migrations_of_a_kysely_made_for_another_database_are_set_aside(tmp_path: Path) -> None:
    # Yudian00/kysely-boilerplate: its package.json lists pg and mysql2; its code makes a MysqlDialect
    # (its migrations' `sql`ENUM('K1', 'K2')`` failed as "type enum does not exist").
    files = {
        "package.json": '{"dependencies": {"kysely": "^0.27.0", "pg": "^8", "mysql2": "^3"}}',
        "src/db/database.ts": "import { Kysely, MysqlDialect } from 'kysely'\nconst dialect = new MysqlDialect({ pool })\n",
        "src/db/migrations/employee.ts": HEAD + "export async function up(db: Kysely<any>) {\n"
                                                "  await db.schema.createTable('employee').addColumn('id', 'integer').execute()\n}\n",
    }
    write_files(tmp_path, files)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    with pytest.raises(UsageError, match=r"holds migrations for MySQL \(src/db/database.ts makes Kysely's MysqlDialect\)"):
        discover(tmp_path, repo_root=tmp_path)
    (tmp_path / "src/db/pg.ts").write_text("const other = new PostgresDialect({ pool })\n")  # one for PostgreSQL too
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    assert discover(tmp_path, repo_root=tmp_path).format == "kysely"
