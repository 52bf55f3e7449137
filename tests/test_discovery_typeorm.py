"""TypeORM discovery: migration classes read from TypeScript and JavaScript, versions from the
class names as TypeORM reads them, the PostgreSQL case of multi-database migrations, what is code,
and the extensions TypeORM installs for its entities before any migration."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.discovery.typeorm import js_parse_int
from migration_check.model import Transaction
from migration_check.sql.splitter import split_script


def migration(name: str, up: str, down: str = "await queryRunner.query(`SELECT 1`);", fields: str = "") -> str:
    return (f'import {{ MigrationInterface, QueryRunner }} from "typeorm";\n\n'
            f"export class {name} implements MigrationInterface {{\n"
            f"    {fields}\n"
            f"    public async up(queryRunner: QueryRunner): Promise<void> {{\n        {up}\n    }}\n\n"
            f"    public async down(queryRunner: QueryRunner): Promise<void> {{\n        {down}\n    }}\n}}\n")


def test_classes_run_in_the_order_of_the_timestamps_their_names_end_in(tmp_path: Path) -> None:
    # TypeORM reads the version from the class name (its `name` property first), not the file name.
    write_files(tmp_path, {
        "src/migrations/b-second.ts": migration("AddEmail1700000000002", "await queryRunner.query(`ALTER TABLE u ADD e text`);",
                                                 "await queryRunner.query(`ALTER TABLE u DROP COLUMN e`);"),
        "src/migrations/a-first.ts": migration("Anything", "await queryRunner.query(`CREATE TABLE u (id int)`);",
                                               "await queryRunner.query(`DROP TABLE u`);", fields="name = 'Init1700000000001'"),
        "src/migrations/c-third.js": ("module.exports = class Late1700000000003 {\n"
                                      "    name = 'Late1700000000003'\n"
                                      "    async up(queryRunner) { await queryRunner.query(`CREATE INDEX u_e ON u (e)`); }\n"
                                      "    async down(queryRunner) { await queryRunner.query(`DROP INDEX u_e`); }\n};\n"),
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "typeorm" and found.directory == tmp_path / "src/migrations"
    assert [(m.version, m.name, m.id) for m in found.migrations] == [
        ("1700000000001", "Init", "Init1700000000001"), ("1700000000002", "AddEmail", "AddEmail1700000000002"),
        ("1700000000003", "Late", "Late1700000000003")]
    first = found.migrations[0]
    assert [(s.sql, s.line) for s in split_script(first.up)] == [("CREATE TABLE u (id int)", 6)]
    assert [s.sql for s in split_script(first.down)] == ["DROP TABLE u"]
    assert {m.up.transaction for m in found.migrations} == {Transaction.WRAPPED}
    assert found.pending_in_one_transaction  # migrationsTransactionMode "all", TypeORM's default


def test_a_class_name_without_a_timestamp_stops_typeorm(tmp_path: Path) -> None:
    write_files(tmp_path, {"src/migrations/1700000000000-Init.ts": migration("Init", "await queryRunner.query(`SELECT 1`);"),
                           "src/migrations/1700000000001-Ok.ts": migration("Ok1700000000001", "await queryRunner.query(`SELECT 1`);")})
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.id for m in found.migrations] == ["Ok1700000000001"]
    [stray] = found.stray_files
    assert stray.refused and "TypeORM stops at class Init (line 3)" in stray.reason and "migration name is wrong" in stray.reason


@pytest.mark.parametrize(("text", "expected"), [("1700000000000", 1700000000000), ("  42abc", 42), ("x1", 0), ("", 0)])
def test_versions_are_read_as_parse_int_reads_them(text: str, expected: int) -> None:
    assert js_parse_int(text) == expected


def test_a_class_outside_the_transaction_of_all_runs_outside_one(tmp_path: Path) -> None:
    write_files(tmp_path, {"src/migrations/1700000000000-Index.ts": migration(
        "Index1700000000000", "await queryRunner.query(`CREATE INDEX CONCURRENTLY i ON t (c)`);", fields="transaction = false")})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.migrations[0].up.transaction is Transaction.NONE and not found.pending_in_one_transaction


def test_the_postgresql_case_of_a_migration_for_several_databases_is_what_runs(tmp_path: Path) -> None:
    # ever-co/ever-gauzy keeps its 278 migrations so: a switch on the database type, each case
    # passing the query runner to a method of the class.
    body = """
        console.log(chalk.yellow(this.name + ' start running!'));
        switch (queryRunner.connection.options.type as DatabaseTypeEnum) {
            case DatabaseTypeEnum.sqlite:
            case DatabaseTypeEnum.betterSqlite3:
                await this.sqliteUp(queryRunner);
                break;
            case DatabaseTypeEnum.postgres:
                await this.postgresUp(queryRunner);
                break;
            default:
                throw Error(`Unsupported database: ${queryRunner.connection.options.type}`);
        }
    }
    public async postgresUp(runner: QueryRunner): Promise<any> {
        await runner.query(`ALTER TABLE "t" ADD "c" uuid`);
    }
    public async sqliteUp(queryRunner: QueryRunner): Promise<any> {
        await queryRunner.query(`ALTER TABLE \\`t\\` ADD \\`c\\` varchar`);"""
    write_files(tmp_path, {"src/migrations/1700000000000-AddC.ts": migration("AddC1700000000000", body)})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [(s.sql, s.line) for s in split_script(found.up)] == [('ALTER TABLE "t" ADD "c" uuid', 21)]


def test_a_migration_that_runs_code_is_skipped_naming_it(tmp_path: Path) -> None:
    write_files(tmp_path, {"src/migrations/1700000000000-Api.ts": migration(
        "Api1700000000000", 'await queryRunner.renameColumn("t", "a", "b");',
        "const rows = await queryRunner.query(`SELECT id FROM t`);")})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert found.up is None
    assert found.skip_reason == "a TypeORM migration the replay cannot run: its up runs code, not SQL alone (queryRunner.renameColumn, line 6)"


def test_code_that_writes_migrations_is_not_a_migration_directory(tmp_path: Path) -> None:
    # vendure's migrate.ts and ever-gauzy's migration-executor.ts hold a migration class's text.
    template = ("export function render(name: string, timestamp: number) {\n  return `\n"
                "export class ${name}${timestamp} implements MigrationInterface {\n"
                "   public async up(queryRunner: QueryRunner): Promise<any> {}\n}`;\n}\n")
    write_files(tmp_path, {"src/migrate.ts": template,
                           "src/migrations/1700000000000-A.ts": migration("A1700000000000", "await queryRunner.query(`SELECT 1`);")})
    assert discover(tmp_path, repo_root=tmp_path).directory == tmp_path / "src/migrations"


def test_typeorm_installs_the_extensions_its_entities_need_before_any_migration(tmp_path: Path) -> None:
    # NarHakobyan/awesome-nest-boilerplate: uuid keys in an abstract class every entity extends,
    # and generated migrations that call uuid_generate_v4() without creating uuid-ossp.
    write_files(tmp_path, {
        "package.json": '{"dependencies": {"typeorm": "^0.3.20"}}',
        "src/common/abstract.entity.ts": ("import { PrimaryGeneratedColumn } from 'typeorm';\n"
                                          "export abstract class AbstractEntity {\n"
                                          "  @PrimaryGeneratedColumn('uuid')\n  id!: string;\n}\n"),
        "src/user/user.entity.ts": ("import { Column, Entity } from 'typeorm';\n@Entity({ name: 'users' })\n"
                                    "export class UserEntity extends AbstractEntity {\n"
                                    "  @Column({ type: 'citext', unique: true })\n  email!: string;\n}\n"),
        "src/database/migrations/1700000000000-Users.ts": migration(
            "Users1700000000000", 'await queryRunner.query(`CREATE TABLE "users" ("id" uuid DEFAULT uuid_generate_v4())`);'),
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.setup_extensions == frozenset({"uuid-ossp", "citext"})
    assert found.setup_reason == ("as TypeORM does when it connects, the extensions its entities need: uuid-ossp"
                                  " (src/common/abstract.entity.ts:3), citext (src/user/user.entity.ts:4) (where the server has them)")
    [setup] = found.setup
    assert 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"' in setup.sql and 'CREATE EXTENSION IF NOT EXISTS "citext"' in setup.sql


@pytest.mark.parametrize(("option", "expected"), [("uuidExtension: 'pgcrypto',", frozenset({"pgcrypto"})),
                                                   ("installExtensions: false,", frozenset())])
def test_the_data_sources_extension_settings_are_followed(tmp_path: Path, option: str, expected: frozenset[str]) -> None:
    write_files(tmp_path, {
        "package.json": "{}",
        "src/data-source.ts": f"export default new DataSource({{\n  type: 'postgres',\n  {option}\n}});\n",
        "src/user.entity.ts": "@Entity()\nexport class User {\n  @PrimaryGeneratedColumn('uuid')\n  id!: string;\n}\n",
        "src/migrations/1700000000000-Users.ts": migration("Users1700000000000", "await queryRunner.query(`SELECT 1`);"),
    })
    assert discover(tmp_path, repo_root=tmp_path).setup_extensions == expected


def test_a_module_without_a_migration_class_is_not_a_stray_file(tmp_path: Path) -> None:
    # FlowiseAI/Flowise lists its migrations in the folder's index.ts.
    write_files(tmp_path, {"src/migrations/index.ts": "import { A1700000000000 } from './1700000000000-A'\nexport const all = [A1700000000000]\n",
                           "src/migrations/1700000000000-A.ts": migration("A1700000000000", "await queryRunner.query(`SELECT 1`);"),
                           "src/migrations/notes.sql": "select 1;\n"})
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.id for m in found.migrations] == ["A1700000000000"]
    assert [(s.path.name, s.refused) for s in found.stray_files] == [("notes.sql", False)]


def test_a_switch_on_the_projects_own_database_setting_runs_its_postgresql_case(tmp_path: Path) -> None:
    # ever-co/ever-traduora: `switch (config.db.default.type)` with `case DbType.POSTGRES:`.
    body = """switch (config.db.default.type) {
            case DbType.MYSQL:
                await queryRunner.query('ALTER TABLE `t` ADD `c` int');
                break;
            case DbType.POSTGRES:
                await queryRunner.query(`ALTER TABLE "t" ADD "c" int`);
                break;
            default:
                throw new Error(`Unknown DB type: ${config.db.default.type}`);
        }"""
    write_files(tmp_path, {"src/migrations/1700000000000-AddC.ts": migration("AddC1700000000000", body)})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(found.up)] == ['ALTER TABLE "t" ADD "c" int']


def test_a_class_nested_deeper_than_python_reads_is_skipped_not_a_crash(tmp_path: Path) -> None:
    write_files(tmp_path, {"src/migrations/1700000000000-Deep.ts": migration(
        "Deep1700000000000", "await queryRunner.query(" + "(" * 3000 + "'x'" + ")" * 3000 + ");")})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert found.up is None and "code nested deeper than this check reads" in found.skip_reason


def test_entities_are_read_from_the_package_and_no_link_out_of_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.ts"
    outside.write_text("@Entity()\nexport class X {\n  @PrimaryGeneratedColumn('uuid')\n  id!: string;\n}\n")
    write_files(tmp_path, {"repo/package.json": "{}", "repo/.git/HEAD": "ref: refs/heads/main\n",
                           "repo/src/migrations/1700000000000-A.ts": migration("A1700000000000", "await queryRunner.query(`SELECT 1`);")})
    (tmp_path / "repo/src/linked.entity.ts").symlink_to(outside)
    assert discover(tmp_path / "repo", repo_root=tmp_path / "repo").setup_extensions == frozenset()


def test_the_query_runners_schema_api_is_replayed_as_the_sql_typeorm_sends(tmp_path: Path) -> None:
    # vhson2006/tcgplayer: createTable(new Table(...)) with `this.table`; the names of unnamed
    # constraints are TypeORM's (the "user" table's key is PK_cace4a159ff9f2512dd42373760 there too).
    up = """await queryRunner.createTable(new Table({
            name: this.table,
            columns: [
                { name: 'id', type: 'uuid', isPrimary: true, isGenerated: true, generationStrategy: 'uuid' },
                { name: 'email', type: 'varchar', length: 255, isUnique: true },
                { name: 'role', type: 'enum', enum: ['admin', "it's"], isNullable: true },
                { name: 'team_id', type: 'int', isNullable: true },
            ],
            foreignKeys: [{ columnNames: ['team_id'], referencedTableName: 'team', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
            indices: [{ columnNames: ['email', 'role'] }],
        }), true);
        await queryRunner.addColumn('user', new TableColumn({ name: 'seen', type: 'timestamp with time zone', precision: 3, default: 'now()' }));"""
    down = "await queryRunner.dropColumn('user', new TableColumn({ name: 'role', type: 'enum', enum: ['admin'] }));\n" \
           "        await queryRunner.dropTable(this.table);"
    write_files(tmp_path, {"src/migrations/1700000000000-Users.ts": migration("Users1700000000000", up, down, fields="private table = 'user';")})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert [s.sql for s in split_script(found.up)] == [
        "DO $$ BEGIN CREATE TYPE \"user_role_enum\" AS ENUM('admin', 'it''s'); EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        'CREATE TABLE IF NOT EXISTS "user" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "email" varchar(255) NOT NULL,'
        ' "role" "user_role_enum", "team_id" int, CONSTRAINT "UQ_e12875dfb3b1d92d7d7c5377e22" UNIQUE ("email"),'
        ' CONSTRAINT "FK_' + __import__("hashlib").sha1(b"user_team_id").hexdigest()[:27] + '" FOREIGN KEY ("team_id")'
        ' REFERENCES "team"("id") ON DELETE CASCADE, CONSTRAINT "PK_cace4a159ff9f2512dd42373760" PRIMARY KEY ("id"))',
        'CREATE INDEX IF NOT EXISTS "IDX_' + __import__("hashlib").sha1(b"user_email_role").hexdigest()[:26] + '" ON "user"  ("email", "role")',
        'ALTER TABLE "user" ADD "seen" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now()',
    ]
    assert [s.sql for s in split_script(found.down)] == [
        'ALTER TABLE "user" DROP COLUMN "role"', 'DROP TYPE "user_role_enum"', 'DROP TABLE "user"']


def test_a_schema_object_made_of_something_else_than_its_options_is_code_not_a_crash(tmp_path: Path) -> None:
    write_files(tmp_path, {"src/migrations/1700000000000-A.ts": migration("A1700000000000", 'await queryRunner.createTable(new Table("t"));')})
    [found] = discover(tmp_path, repo_root=tmp_path).migrations
    assert found.up is None and found.skip_reason.endswith("(a new object, line 6)")
