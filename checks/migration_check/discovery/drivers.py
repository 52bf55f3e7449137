"""The database a Go module talks to, by the drivers its go.mod requires: a module that requires
SQLite's driver and none of PostgreSQL's runs its migrations on SQLite (navidrome's goose
migrations, written for SQLite, failed here at every `user` and `ROWID`).

Read from the nearest go.mod at or above the migrations, within the repository. Direct and
indirect requirements both count: a PostgreSQL driver anywhere means the module may use PostgreSQL,
and nothing is concluded.
"""

from __future__ import annotations

from pathlib import Path

from migration_check.discovery.base import within_repository

# Module paths of database drivers (a version suffix such as /v5 after them counts too), and the
# database each is for; None: PostgreSQL.
GO_DRIVERS: dict[str, str | None] = {
    "github.com/lib/pq": None, "github.com/jackc/pgx": None, "github.com/jackc/pgconn": None,
    "gorm.io/driver/postgres": None, "github.com/uptrace/bun/driver/pgdriver": None, "github.com/go-pg/pg": None,
    "github.com/mattn/go-sqlite3": "SQLite", "modernc.org/sqlite": "SQLite", "github.com/glebarez/sqlite": "SQLite",
    "github.com/glebarez/go-sqlite": "SQLite", "gorm.io/driver/sqlite": "SQLite", "github.com/ncruces/go-sqlite3": "SQLite",
    "zombiezen.com/go/sqlite": "SQLite", "crawshaw.io/sqlite": "SQLite",
    "github.com/go-sql-driver/mysql": "MySQL", "gorm.io/driver/mysql": "MySQL",
    "github.com/ClickHouse/clickhouse-go": "ClickHouse", "github.com/denisenkom/go-mssqldb": "SQL Server",
    "github.com/microsoft/go-mssqldb": "SQL Server",
}


def module_database(directory: Path) -> tuple[str, str] | None:
    """(database, why) where the Go module holding `directory` requires drivers of other databases
    and none of PostgreSQL's; None otherwise, or outside a Go module."""
    go_mod = next((folder / "go.mod" for folder in within_repository(directory) if (folder / "go.mod").is_file()), None)
    if go_mod is None:
        return None
    try:
        text = go_mod.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    drivers = [(module, database) for module in _required(text) if (database := _driver(module)) is not _NOT_A_DRIVER]
    if not drivers or any(database is None for _, database in drivers):
        return None
    module, database = drivers[0]
    databases = ", ".join(dict.fromkeys(str(d) for _, d in drivers))
    return databases, f"its Go module requires {module}, {database}'s driver, and no PostgreSQL driver"


_NOT_A_DRIVER = "-"


def _driver(module: str) -> str | None:
    for path, database in GO_DRIVERS.items():
        if module == path or module.startswith(path + "/v"):
            return database
    return _NOT_A_DRIVER


def _required(text: str) -> list[str]:
    """The module paths a go.mod requires (`require x v1` lines and `require ( ... )` blocks)."""
    found, inside = [], False
    for line in text.splitlines():
        words = line.split("//", 1)[0].split()
        if not words:
            continue
        if inside:
            if words[0] == ")":
                inside = False
            else:
                found.append(words[0])
        elif words[0] == "require":
            if words[1:2] == ["("]:
                inside = True
            elif len(words) > 1:
                found.append(words[1])
    return found
