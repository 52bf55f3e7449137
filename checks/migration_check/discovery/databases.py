"""The words that name databases: in a directory's path (one directory of migrations per database),
in a Flyway location's sub-folders (one per vendor), in Liquibase's contexts (one per database the
changelog is written for)."""

from __future__ import annotations

# Words of a directory path that name PostgreSQL, among one directory of migrations per database.
POSTGRES_WORDS = frozenset({"postgres", "postgresql", "pg", "pgsql", "psql"})
# Words of a directory path that name another database, and its name.
OTHER_DATABASES = {"mysql": "MySQL", "mariadb": "MariaDB", "maria": "MariaDB", "sqlite": "SQLite", "sqlite3": "SQLite",
                   "clickhouse": "ClickHouse", "mssql": "SQL Server", "sqlserver": "SQL Server", "oracle": "Oracle",
                   "cassandra": "Cassandra", "mongodb": "MongoDB", "duckdb": "DuckDB", "snowflake": "Snowflake",
                   # Java projects keep one Flyway directory per database their tests run on too.
                   "h2": "H2", "hsqldb": "HSQLDB", "hsql": "HSQLDB", "derby": "Derby", "db2": "Db2",
                   "firebird": "Firebird"}


def names_a_database(word: str) -> bool:
    """Whether the word (lower case) is a database's name, PostgreSQL's among them."""
    return word in POSTGRES_WORDS or word in OTHER_DATABASES
