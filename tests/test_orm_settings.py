"""The history table an ORM's configuration names (TypeORM's `migrationsTableName`, Sequelize's
`migrationStorageTableName`, MikroORM's `migrations: { tableName }`, node-pg-migrate's
`migrationsTable`, Kysely's `migrationTableName` and `migrationLockTableName`): drift leaves it out,
as it does the default's."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import write_files
from migration_check.discovery import layout_named


def test_the_history_table_the_configuration_names_is_the_runners(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "src/data-source.ts": ("import { DataSource } from 'typeorm';\nexport const source = new DataSource({\n"
                               "  type: 'postgres', migrations: ['src/migrations/*.ts'],"
                               " migrationsTableName: 'typeorm_migrations',\n});\n"),
        "config/config.json": '{"production": {"dialect": "postgres", "migrationStorageTableName": "SequelizeMigrations"}}',
        "node_modules/other/index.js": "module.exports = { migrationsTableName: 'not_ours' };\n",
        "src/mikro-orm.config.ts": "export default defineConfig({ migrations: { tableName: 'mikro_history' } });\n",
        "src/entities/user.ts": "@Entity({ tableName: 'users' })\nexport class User {}\n",  # an entity's, not the history's
        "server/.pgmrc.js": "module.exports = { dir: 'migrations', migrationsTable: 'pg_history' };\n",
        "src/migrate.ts": ("const migrator = new Migrator({ db, provider, migrationTableName: 'app_migration',\n"
                           "  migrationLockTableName: 'app_migration_lock', migrationTableSchema: 'ops' })\n"),
        "src/migrations/.keep": "",
    })
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "src", "config", "node_modules", "server"], check=True)
    migrations = tmp_path / "src/migrations"
    assert layout_named("typeorm").history_tables(migrations) == {"public.migrations", "public.typeorm_migrations"}
    assert layout_named("sequelize").history_tables(migrations) == {
        'public."SequelizeMeta"', 'public."SequelizeMigrations"'}
    assert layout_named("mikro-orm").history_tables(migrations) == {"public.mikro_orm_migrations", "public.mikro_history"}
    assert "public.pg_history" in layout_named("node-pg-migrate").history_tables(migrations)
    assert layout_named("kysely").history_tables(migrations) == {
        f"{schema}.{table}" for schema in ("public", "ops")
        for table in ("kysely_migration", "kysely_migration_lock", "app_migration", "app_migration_lock")}
    assert layout_named("typeorm").history_tables(Path("/")) == {"public.migrations"}  # outside a repository
