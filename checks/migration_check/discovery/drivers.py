"""The database a Go module, a Rust crate or a Node.js package talks to, by the drivers it requires: a module that
requires SQLite's driver and none of PostgreSQL's runs its migrations on SQLite (navidrome's goose
migrations, written for SQLite, failed here at every `user` and `ROWID`; atuin's client crates
build sqlx with its `sqlite` feature only).

Read from the nearest go.mod (Go) or Cargo.toml (Rust, with the features a `workspace = true`
dependency takes from the workspace's) at or above the migrations, within the repository; for
Node.js, every package.json there (a workspace's package may take its driver from the root's). A
PostgreSQL driver anywhere means the module may use PostgreSQL, and nothing is concluded.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from migration_check.discovery.base import within_repository
from migration_check.discovery.node_packages import package_manifest

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
    required = module_requirements(directory)
    if required is None:
        return None
    drivers = [(module, GO_DRIVERS[path]) for module in required if (path := _driver(module)) is not None]
    return _other_databases_only(drivers, "its Go module requires")


def module_requirements(directory: Path, direct: bool = False) -> list[str] | None:
    """The module paths the nearest go.mod at or above `directory` (within the repository)
    requires (`direct`: not those marked `// indirect`, a dependency's); None outside a Go module."""
    go_mod = next((folder / "go.mod" for folder in within_repository(directory) if (folder / "go.mod").is_file()), None)
    if go_mod is None:
        return None
    try:
        return _required(go_mod.read_text(encoding="utf-8", errors="replace"), direct)
    except OSError:
        return None


def _driver(module: str) -> str | None:
    """The GO_DRIVERS entry the module is (or a major version of), else None."""
    return next((path for path in GO_DRIVERS if module == path or module.startswith(path + "/v")), None)


def _other_databases_only(drivers: list[tuple[str, str | None]], says: str) -> tuple[str, str] | None:
    """(databases, why) where the drivers found (what, database) are other databases' alone; None
    where one is PostgreSQL's or none was found."""
    if not drivers or any(database is None for _, database in drivers):
        return None
    what, database = drivers[0]
    databases = ", ".join(dict.fromkeys(str(d) for _, d in drivers))
    return databases, f"{says} {what}, {database}'s driver, and no PostgreSQL driver"


def _required(text: str, direct: bool = False) -> list[str]:
    """The module paths a go.mod requires (`require x v1` lines and `require ( ... )` blocks), but
    those marked `// indirect` where `direct`."""
    found, inside = [], False
    for line in text.splitlines():
        code, _, comment = line.partition("//")
        words = code.split()
        indirect = direct and comment.strip().startswith("indirect")
        if not words:
            continue
        if inside:
            if words[0] == ")":
                inside = False
            elif not indirect:
                found.append(words[0])
        elif words[0] == "require":
            if words[1:2] == ["("]:
                inside = True
            elif len(words) > 1 and not indirect:
                found.append(words[1])
    return found


# Rust crates that are a database's driver, and the database; the features of sqlx and diesel that
# choose theirs. None: PostgreSQL.
RUST_DRIVERS: dict[str, str | None] = {"tokio-postgres": None, "postgres": None, "rusqlite": "SQLite",
                                       "libsqlite3-sys": "SQLite", "mysql": "MySQL", "mysql_async": "MySQL"}
RUST_FEATURES: dict[str, str | None] = {"postgres": None, "sqlite": "SQLite", "mysql": "MySQL"}
FEATURED = ("sqlx", "diesel")
# The paths and types by which a crate's code names a database of sqlx or diesel, read where its
# manifest names none: a workspace member's sqlx takes its drivers from another member's features
# (Cargo unifies them), as atuin-kv's and atuin-scripts' SQLite stores do.
RUST_CODE_DATABASES = re.compile(
    r"\b(?:(?P<pg>sqlx::postgres|sqlx::Postgres|PgPool|PgConnection|diesel::pg)"
    r"|(?P<lite>sqlx::sqlite|sqlx::Sqlite|SqlitePool|SqliteConnection|diesel::sqlite)"
    r"|(?P<my>sqlx::mysql|sqlx::MySql|MySqlPool|MysqlConnection|diesel::mysql))\b")
_CODE_DATABASE = {"pg": None, "lite": "SQLite", "my": "MySQL"}
_MOST_SOURCES = 400


def crate_database(directory: Path) -> tuple[str, str] | None:
    """(database, why) where the Rust crate holding `directory` builds drivers of other databases
    and none of PostgreSQL's; None otherwise, or outside a crate."""
    folders = within_repository(directory)
    manifests = [folder / "Cargo.toml" for folder in folders if (folder / "Cargo.toml").is_file()]
    if not manifests:
        return None
    crate = _toml(manifests[0])
    workspace: dict[str, Any] = next((table for path in manifests[1:] if (table := _toml(path).get("workspace")) is not None), {})
    found: list[tuple[str, str | None]] = []
    for name, spec in _dependencies(crate).items():
        if name in RUST_DRIVERS:
            found.append((name, RUST_DRIVERS[name]))
        elif name in FEATURED:
            features = list(spec.get("features", [])) if isinstance(spec, dict) else []
            if isinstance(spec, dict) and spec.get("workspace"):
                shared = (workspace.get("dependencies") or {}).get(name)
                features += list(shared.get("features", [])) if isinstance(shared, dict) else []
            named = [(f"{name} with its `{feature}` feature", RUST_FEATURES[feature])
                     for feature in features if feature in RUST_FEATURES]
            found += named or _code_databases(manifests[0].parent, name)
    return _other_databases_only(found, "its Rust crate builds")


def _code_databases(crate: Path, name: str) -> list[tuple[str, str | None]]:
    """(what, database) for each database the crate's own code names through `name` (sqlx or diesel)."""
    found: dict[str | None, str] = {}
    for source in sorted((crate / "src").rglob("*.rs"))[:_MOST_SOURCES]:
        try:
            text = source.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for match in RUST_CODE_DATABASES.finditer(text):
            kind = match.lastgroup or ""
            found.setdefault(_CODE_DATABASE[kind], f"{name}, whose `{match.group()}` its code uses")
    return [(what, database) for database, what in found.items()]


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _dependencies(crate: dict[str, Any]) -> dict[str, Any]:
    """The crate's dependencies, its target-specific ones too (not its dev- or build-dependencies)."""
    found = dict(crate.get("dependencies") or {})
    for target in (crate.get("target") or {}).values():
        if isinstance(target, dict):
            found.update(target.get("dependencies") or {})
    return found


# npm packages that are a database's driver (an ORM's driver package among them), and the
# database; None: PostgreSQL.
NODE_DRIVERS: dict[str, str | None] = {
    "pg": None, "postgres": None, "pg-promise": None, "@neondatabase/serverless": None, "@vercel/postgres": None,
    "@mikro-orm/postgresql": None, "@electric-sql/pglite": None,
    "mysql": "MySQL", "mysql2": "MySQL", "@mikro-orm/mysql": "MySQL", "mariadb": "MariaDB", "@mikro-orm/mariadb": "MariaDB",
    "sqlite3": "SQLite", "better-sqlite3": "SQLite", "@libsql/client": "SQLite", "@mikro-orm/sqlite": "SQLite",
    "@mikro-orm/better-sqlite": "SQLite", "@mikro-orm/libsql": "SQLite", "tedious": "SQL Server", "mssql": "SQL Server",
    "@mikro-orm/mssql": "SQL Server", "oracledb": "Oracle",
}
SECTIONS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")


def package_database(directory: Path) -> tuple[str, str] | None:
    """(database, why) where the package.json files at or above `directory` (within the repository)
    depend on drivers of other databases and none of PostgreSQL's; None otherwise."""
    found: list[tuple[str, str | None]] = []
    for folder in within_repository(directory):
        manifest = package_manifest(folder)
        if manifest is None:
            continue
        for section in SECTIONS:
            listed = manifest.get(section)
            if isinstance(listed, dict):
                found += [(name, NODE_DRIVERS[name]) for name in listed if name in NODE_DRIVERS]
    return _other_databases_only(found, "its package.json depends on")


def crate_requiring(crate_name: str, directory: Path) -> Path | None:
    """The nearest Cargo.toml, from `directory` up to the repository's root, that depends on
    `crate_name` (its dependencies, or a workspace's); None where none does."""
    for folder in within_repository(directory):
        manifest = folder / "Cargo.toml"
        if not manifest.is_file():
            continue
        crate = _toml(manifest)
        shared = (crate.get("workspace") or {}).get("dependencies") or {}
        if crate_name in _dependencies(crate) or crate_name in shared:
            return manifest
    return None


def crate_naming(crate_name: str, directory: Path) -> Path | None:
    """The Cargo.toml of a crate of the directory's workspace that depends on `crate_name` (a build
    dependency too: a build script may load the migrations) and whose Rust source names the directory
    by its path from that crate, as refinery's `embed_migrations!("../arroyo-api/migrations")` does
    in arroyo, whose migrations sit in another crate than the one that runs them; None where none does."""
    workspace = next((folder for folder in within_repository(directory)
                      if "workspace" in _toml(folder / "Cargo.toml")), None)
    if workspace is None:
        return None
    for member in _workspace_members(workspace):
        crate = _toml(member / "Cargo.toml")
        if crate_name not in _dependencies(crate) and crate_name not in (crate.get("build-dependencies") or {}):
            continue
        quoted = f'"{Path(os.path.relpath(directory, member)).as_posix()}"'
        if any(quoted in _text(path) for path in [member / "build.rs", *sorted((member / "src").rglob("*.rs"))]):
            return member / "Cargo.toml"
    return None


def _workspace_members(workspace: Path) -> list[Path]:
    listed = (_toml(workspace / "Cargo.toml").get("workspace") or {}).get("members") or []
    members = {folder for pattern in listed if isinstance(pattern, str) and ".." not in pattern
               for folder in workspace.glob(pattern) if (folder / "Cargo.toml").is_file()}
    return sorted(members | {workspace})


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.stat().st_size < 1 << 20 else ""
    except OSError:
        return ""
