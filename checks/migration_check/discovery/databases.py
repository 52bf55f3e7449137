"""Which database migrations are for: the words that name databases (in a directory's path, one
directory of migrations per database; in a Flyway location's sub-folders, one per vendor; in
Liquibase's contexts, one per database the changelog is written for), what PostgreSQL's parser
stops at in their scripts, and the drivers their module requires."""

from __future__ import annotations

from pathlib import Path

from migration_check.discovery.base import Layout
from migration_check.discovery.drivers import crate_database, module_database, package_database
from migration_check.discovery.orm_settings import kysely_database
from migration_check.discovery.path_words import POSTGRES_WORDS
from migration_check.discovery.spring_database import spring_database
from migration_check.discovery.yoyo import ini_database
from migration_check.errors import MigrationCheckError
from migration_check.sql.dialects import reads_as_postgresql, written_for

# Words of a directory path that name another database, and its name.
OTHER_DATABASES = {"mysql": "MySQL", "mariadb": "MariaDB", "maria": "MariaDB", "sqlite": "SQLite", "sqlite3": "SQLite",
                   "clickhouse": "ClickHouse", "mssql": "SQL Server", "sqlserver": "SQL Server", "oracle": "Oracle",
                   "cassandra": "Cassandra", "mongodb": "MongoDB", "duckdb": "DuckDB", "snowflake": "Snowflake",
                   # Java projects keep one Flyway directory per database their tests run on too.
                   "h2": "H2", "hsqldb": "HSQLDB", "hsql": "HSQLDB", "derby": "Derby", "db2": "Db2",
                   "firebird": "Firebird",
                   # Speaks PostgreSQL's protocol, but its migrations are its own (boxyhq/jackson's
                   # npm/migration/cockroachdb beside npm/migration/postgres).
                   "cockroachdb": "CockroachDB", "cockroach": "CockroachDB", "crdb": "CockroachDB"}


def names_a_database(word: str) -> bool:
    """Whether the word (lower case) is a database's name, PostgreSQL's among them."""
    return word in POSTGRES_WORDS or word in OTHER_DATABASES


# The layouts whose runner is a Go or Rust library, which the project's own module runs on its database.
GO_RUNNERS = frozenset({"goose", "golang-migrate", "sql-migrate", "maragu-migrate", "bun-migrate", "pop"})
RUST_RUNNERS = frozenset({"sqlx", "diesel"})
# The layouts whose runner is an npm package that runs on the database of the driver installed beside
# it (node-pg-migrate runs on PostgreSQL alone).
NODE_RUNNERS = frozenset({"mikro-orm", "typeorm", "db-migrate", "knex", "kysely", "sequelize"})


def driven_by_another_database(layout: Layout, directory: Path) -> tuple[str, str] | None:
    """(database, why) where the migrations are a Go, Rust or Node.js runner's and their module requires
    drivers of other databases and none of PostgreSQL's (navidrome's goose migrations are SQLite's,
    the MikroORM realworld example's are MySQL's), or Flyway's and the Spring Boot application points
    it at another database."""
    if layout.name in GO_RUNNERS:
        return module_database(directory)
    if layout.name in NODE_RUNNERS:
        return package_database(directory) or (kysely_database(directory) if layout.name == "kysely" else None)
    if layout.name == "yoyo" and (ini := ini_database(directory)) is not None and ini[1] in OTHER_DATABASES:
        return OTHER_DATABASES[ini[1]], f"{ini[0].name}'s `database` is a {ini[1]} URL"
    if layout.name == "flyway" and (found := spring_database(directory, "spring.flyway.url")) is not None:
        path, line, database = found
        return database, f"{path.name}:{line} points Flyway at it"
    return crate_database(directory) if layout.name in RUST_RUNNERS else None


# How many of a directory's scripts are read to tell which database they were written for.
SAMPLED_SCRIPTS = 20


def written_for_another_database(layout: Layout, directory: Path) -> str | None:
    """The database the directory's scripts were written for, where fewer than half of them read as
    PostgreSQL's (the parser reads them whole, and their columns' types are no other database's)
    and one stops at that database's words or names its types (apache/fineract's MySQL dumps
    in fineract-db/, beside its Liquibase changelog; devflowinc/trieve's ClickHouse migrations, whose
    `ADD COLUMN x UInt8` PostgreSQL's grammar reads as well): read from the parser, never from the
    text. PostgreSQL's own migrations all read, and stop at no other database's word."""
    try:
        scripts = [m.up for m in layout.discover(directory).migrations if m.up is not None][:SAMPLED_SCRIPTS]
    except MigrationCheckError:
        return None
    found = [written_for(script.sql) for script in scripts]
    postgresql = sum(1 for script, database in zip(scripts, found, strict=True)
                     if database is None and reads_as_postgresql(script.sql))
    if not scripts or postgresql * 2 >= len(scripts):
        return None
    return next((database for database in found if database), None)
