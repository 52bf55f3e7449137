"""The layouts, by name: one module each under discovery/, registered here. Their order is the order
in which conventional directories are searched under a repository root (most specific first)."""

from __future__ import annotations

from migration_check.discovery.alembic import AlembicLayout
from migration_check.discovery.atlas import AtlasLayout
from migration_check.discovery.base import Layout
from migration_check.discovery.bun_migrate import BunMigrateLayout
from migration_check.discovery.db_migrate import DbMigrateLayout
from migration_check.discovery.dbmate import DbmateLayout
from migration_check.discovery.diesel import DieselLayout
from migration_check.discovery.drizzle import DrizzleLayout
from migration_check.discovery.flyway import FlywayLayout
from migration_check.discovery.golang_migrate import GolangMigrateLayout
from migration_check.discovery.goose import GooseLayout
from migration_check.discovery.graphile_migrate import GraphileMigrateLayout
from migration_check.discovery.hasura import HasuraLayout
from migration_check.discovery.knex import KnexLayout
from migration_check.discovery.kysely import KyselyLayout
from migration_check.discovery.latest_sql import LatestSqlLayout
from migration_check.discovery.liquibase import LiquibaseLayout
from migration_check.discovery.maragu_migrate import MaraguMigrateLayout
from migration_check.discovery.mikro_orm import MikroOrmLayout
from migration_check.discovery.node_pg_migrate import NodePgMigrateLayout
from migration_check.discovery.numbered import NumberedLayout
from migration_check.discovery.pop import PopLayout
from migration_check.discovery.postgrator import PostgratorLayout
from migration_check.discovery.postgres_migrations import PostgresMigrationsLayout
from migration_check.discovery.prisma import PrismaLayout
from migration_check.discovery.refinery import RefineryLayout
from migration_check.discovery.sequelize import SequelizeLayout
from migration_check.discovery.sqitch import SqitchLayout
from migration_check.discovery.sql_migrate import SqlMigrateLayout
from migration_check.discovery.sqlx import SqlxLayout
from migration_check.discovery.supabase import SupabaseLayout
from migration_check.discovery.tern import TernLayout
from migration_check.discovery.timestamp_rollback import TimestampRollbackLayout
from migration_check.discovery.typeorm import TypeOrmLayout
from migration_check.discovery.yoyo import YoyoLayout
from migration_check.errors import UsageError

LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        SupabaseLayout(),
        PrismaLayout(),
        DrizzleLayout(),
        SqitchLayout(),
        LiquibaseLayout(),
        RefineryLayout(),
        FlywayLayout(),
        LatestSqlLayout(),
        AtlasLayout(),
        GraphileMigrateLayout(),
        DbmateLayout(),
        TernLayout(),
        DbMigrateLayout(),
        TypeOrmLayout(),
        MikroOrmLayout(),
        KnexLayout(),
        KyselyLayout(),
        SequelizeLayout(),
        NodePgMigrateLayout(),
        PostgresMigrationsLayout(),
        PostgratorLayout(),
        GooseLayout(),
        SqlMigrateLayout(),
        PopLayout(),
        GolangMigrateLayout(),
        MaraguMigrateLayout(),
        BunMigrateLayout(),
        HasuraLayout(),
        DieselLayout(),
        SqlxLayout(),
        YoyoLayout(),
        AlembicLayout(),
        TimestampRollbackLayout(),
        NumberedLayout(),
    )
}


def layout_named(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; known formats: {', '.join(sorted(LAYOUTS))}") from None
