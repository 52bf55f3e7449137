"""MikroORM discovery: migration classes read from TypeScript and JavaScript, in the file-name
order MikroORM sorts them in, named by their files; what `up` queues and sends, in the order
MikroORM sends it; transactions; what is code; and MySQL projects told apart."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.errors import UsageError
from migration_check.model import Transaction
from migration_check.sql.splitter import split_script

IMPORT = "import { Migration } from '@mikro-orm/migrations';\n\n"


def migration(name: str, up: str, down: str | None = "this.addSql(`select 1`);", members: str = "") -> str:
    down_method = f"  override async down(): Promise<void> {{\n    {down}\n  }}\n" if down is not None else ""
    return (f"{IMPORT}export class {name} extends Migration {{\n{members}"
            f"  override async up(): Promise<void> {{\n    {up}\n  }}\n{down_method}}}\n")


def test_modules_run_in_file_name_order_named_by_their_files(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "src/migrations/Migration20240102000000_email.ts": migration(
            "Whatever", "this.addSql(`alter table u add e text`);", "this.addSql(`alter table u drop column e`);"),
        "src/migrations/Migration20240101000000.ts": migration(
            "Migration20240101000000", "this.addSql(`create table u (id int)`);\n    this.addSql('create index u_id on u (id)');",
            "this.addSql(`drop table u`);"),
        "src/migrations/Zeta.js": ("const { Migration } = require('@mikro-orm/migrations');\n"
                                   "class Zeta extends migrations_1.Migration {\n"
                                   "  async up() { this.addSql('create index u_e on u (e)'); }\n}\n"
                                   "exports.Zeta = Zeta;\n"),
        "src/migrations/.snapshot-shop.json": "{}",
        "src/migrations/types.d.ts": "export type X = number;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "mikro-orm" and found.directory == tmp_path / "src/migrations"
    assert [(m.version, m.name, m.id) for m in found.migrations] == [
        ("20240101000000", "", "Migration20240101000000"), ("20240102000000", "email", "Migration20240102000000_email"),
        ("Zeta", "", "Zeta")]
    first = found.migrations[0]
    assert [(s.sql, s.line) for s in split_script(first.up)] == [("create table u (id int)", 5), ("create index u_id on u (id)", 6)]
    assert [s.sql for s in split_script(first.down)] == ["drop table u"]
    assert found.migrations[2].down is None and "cannot be reverted" in (found.migrations[2].down_skip_reason or "")
    assert {m.up.transaction for m in found.migrations} == {Transaction.WRAPPED}
    assert found.pending_in_one_transaction and found.stray_files == []  # allOrNothing, MikroORM's default


def test_execute_runs_before_what_is_queued_and_anything_else_is_code(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/Migration20240101000000.ts": migration(
        "Migration20240101000000", "await this.execute('create table u (id int)');\n    this.addSql('create index u_id on u (id)');"),
        "migrations/Migration20240102000000.ts": migration(
        "Migration20240102000000", "this.addSql('create table v (id int)');\n    await this.execute('create index v_id on v (id)');"),
        "migrations/Migration20240103000000.ts": migration(
        "Migration20240103000000", "this.addSql(this.getKnex().schema.createTable('w', () => {}).toQuery());"),
        "migrations/Migration20240104000000.ts": migration(
        "Migration20240104000000", "const rows = await this.execute('select 1');\n    if (rows.length) { this.addSql('select 2'); }")})
    runs, after, knex, branch = discover(tmp_path, repo_root=tmp_path).migrations
    assert runs.skip_reason is None and [s.sql for s in split_script(runs.up)] == ["create table u (id int)",
                                                                                 "create index u_id on u (id)"]
    assert after.up is None and "this.execute after this.addSql: MikroORM runs it first, line 6" in (after.skip_reason or "")
    assert knex.up is None and "this.getKnex" in (knex.skip_reason or "")
    assert branch.up is None and "(a variable, line 5)" in (branch.skip_reason or "")


def test_a_class_that_is_not_transactional_runs_outside_one(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/Migration20240101000000.ts": migration(
            "Migration20240101000000", "this.addSql('create index concurrently u_id on u (id)');",
            members="  override isTransactional(): boolean {\n    return false;\n  }\n"),
        "migrations/Migration20240102000000.ts": migration(
            "Migration20240102000000", "this.addSql('select 1');",
            members="  isTransactional() { return process.env.X === '1'; }\n"),
    })
    outside, unknown = discover(tmp_path, repo_root=tmp_path).migrations
    assert outside.up is not None and outside.up.transaction is Transaction.NONE
    assert unknown.up is None and "isTransactional, line 4" in (unknown.skip_reason or "")
    assert not discover(tmp_path, repo_root=tmp_path).pending_in_one_transaction


def test_a_module_without_a_migration_class_stops_mikro_orm(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/Migration20240101000000.ts": migration("Migration20240101000000", "this.addSql('select 1');"),
                           "migrations/helpers.ts": "export const table = 'u';\n"})
    found = discover(tmp_path, repo_root=tmp_path)
    [stray] = found.stray_files
    assert stray.path.name == "helpers.ts" and stray.refused and "exports no class that extends Migration" in stray.reason


def test_a_project_on_mysql_is_told_apart(tmp_path: Path) -> None:
    write_files(tmp_path, {".git/HEAD": "ref: refs/heads/main\n",
                           "package.json": '{"dependencies": {"@mikro-orm/core": "^6", "@mikro-orm/mysql": "^6"}}',
                           "src/migrations/Migration20240101000000.ts": migration(
                               "Migration20240101000000", "this.addSql('create table `u` (`id` int)');")})
    with pytest.raises(UsageError, match="holds migrations for MySQL .its package.json depends on @mikro-orm/mysql"):
        discover(tmp_path, repo_root=tmp_path)
    write_files(tmp_path, {"package.json": '{"dependencies": {"@mikro-orm/mysql": "^6", "@mikro-orm/postgresql": "^6"}}'})
    assert discover(tmp_path, repo_root=tmp_path).format == "mikro-orm"


def test_a_migration_finds_the_rows_mikro_orm_keeps_in_its_history_table(pg_server, tmp_path: Path) -> None:
    # MikroORM names each row by the file, without `.ts`: a data migration may read them.
    check = ("do $$ begin if not exists (select from mikro_orm_migrations where name = 'Migration20240101000000')"
             " then raise exception 'no history row'; end if; end $$;")
    root = write_files(tmp_path / "repo", {
        "migrations/Migration20240101000000.ts": migration("Migration20240101000000", "this.addSql('create table u (id int)');",
                                                           "this.addSql('drop table u');"),
        "migrations/Migration20240102000000.ts": migration("Migration20240102000000", f"this.addSql(`{check}`);",
                                                           "this.addSql('select 1');"),
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "-q"]) == 0
