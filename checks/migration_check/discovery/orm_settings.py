"""The name an ORM's configuration gives its history table, where it is not the default:
TypeORM's `migrationsTableName`, Sequelize's `migrationStorageTableName` (in `config/config.json`
or the options the code passes), MikroORM's `migrations: { tableName }` (in `mikro-orm.config.ts`),
node-pg-migrate's `migrationsTable` (in `.pgmrc.js` or the runner's options), Kysely's Migrator's
`migrationTableName` and `migrationLockTableName` (and its `disableTransactions`, a flag).
The settings live in the project's code (a DataSource in `data-source.ts`, `ormconfig.json`), so
the repository's tracked JavaScript, TypeScript and JSON files that write the key are read, with
the JavaScript parser or as JSON, for the strings written for it. Drift leaves those tables out.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from migration_check.discovery.base import repository_root
from migration_check.discovery.js_modules import written_flags, written_values
from migration_check.errors import InfrastructureError
from migration_check.git_command import git_process
from migration_check.sql.prepared import quote_identifier

GIT_TIMEOUT = 30
PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")  # what quote_ident leaves as it is (keywords aside)
MAX_FILES = 20  # the configuration is in a few files; a key written in hundreds is no configuration
SOURCES = ("*.ts", "*.js", "*.mjs", "*.cjs", "*.json", ":(exclude)*node_modules/*", ":(exclude)*.d.ts")
# MikroORM's `migrations: { tableName }`: a key every ORM's entities write, so only its config files.
MIKRO_ORM_CONFIG = ("*mikro-orm.config.*", ":(exclude)*node_modules/*")


def configured_tables(directory: Path, key: str, files: tuple[str, ...] = SOURCES,
                      schemas: tuple[str, ...] = ("public",)) -> frozenset[str]:
    """`public.name` (or `schema.name` for each of `schemas`) of each string the repository's
    configuration writes for `key` (in the tracked `files`, git pathspecs), the name quoted as
    PostgreSQL's `quote_ident` writes it (the ORMs quote the names they are given)."""
    return frozenset(f"{as_named(schema)}.{as_named(name)}" for name in configured_values(directory, key, files)
                     for schema in schemas)


def configured_values(directory: Path, key: str, files: tuple[str, ...] = SOURCES) -> tuple[str, ...]:
    """Each string the repository's tracked `files` write for `key`."""
    root = repository_root(directory)
    return _written(root, key, files) if root is not None else ()


def as_named(name: str) -> str:
    return name if PLAIN.fullmatch(name) else quote_identifier(name)


def configured_flag(directory: Path, key: str) -> bool:
    """Whether the repository's code writes `key: true` (Kysely's Migrator's `disableTransactions`)."""
    root = repository_root(directory)
    return root is not None and any(flag for name in _writing(root, key, SOURCES)
                                    for flag in written_flags(root / name, key) or [])


# Kysely's dialects, by the database each speaks (community ones for PostgreSQL among them).
KYSELY_DIALECTS = {"MysqlDialect": "MySQL", "SqliteDialect": "SQLite", "MssqlDialect": "SQL Server"}
POSTGRES_DIALECTS = ("PostgresDialect", "PostgresJSDialect", "PGliteDialect", "NeonDialect", "NeonHTTPDialect")


def kysely_database(directory: Path) -> tuple[str, str] | None:
    """(database, why) where the repository's code makes Kysely dialects of other databases only
    (Yudian00/kysely-boilerplate's `new MysqlDialect(...)`, whose package.json lists pg too)."""
    root = repository_root(directory)
    if root is None or any(_writing(root, f"new {name}", SOURCES) for name in POSTGRES_DIALECTS):
        return None
    return next(((database, f"{files[0]} makes Kysely's {name}") for name, database in KYSELY_DIALECTS.items()
                 if (files := _writing(root, f"new {name}", SOURCES))), None)


def _writing(root: Path, key: str, files: tuple[str, ...]) -> list[str]:
    """The tracked `files` that write `key`, the first few."""
    try:
        found = git_process(root, "grep", "-l", "-I", "-F", "-e", key, "--", *files, timeout=GIT_TIMEOUT)
    except InfrastructureError:
        return []
    return found.stdout.decode("utf-8", errors="replace").splitlines()[:MAX_FILES]


@functools.lru_cache(maxsize=16)
def _written(root: Path, key: str, files: tuple[str, ...]) -> tuple[str, ...]:
    names = _writing(root, key, files)
    values: list[str] = []
    for name in names:
        path = root / name
        values += _json_values(path, key) if path.suffix == ".json" else written_values(path, key) or []
    return tuple(dict.fromkeys(value for value in values if value))


def _json_values(path: Path, key: str) -> list[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found: list[str] = []
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            found += [value for name, value in node.items() if name == key and isinstance(value, str)]
            pending += node.values()
        elif isinstance(node, list):
            pending += node
    return found
