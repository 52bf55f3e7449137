"""knex (Node.js): migration modules exporting `up(knex)` and `down(knex)`.

Rules, as knex's Migrator reads and runs them (lib/migrations/migrate/Migrator.js,
sources/fs-migrations.js, common/MigrationsLoader.js, table-creator.js):
- Every file of the migrations directory whose extension knex loads (`.js`, `.cjs`, `.ts`, and
  CoffeeScript's and LiveScript's) is a migration, sorted by file name as JavaScript compares
  strings. Its name is its file name, extension included; nothing about the name is a rule.
- A module must export both `up` and `down` functions, or knex refuses to run any pending
  migration ("Invalid migration: ... must have both an up and down function").
- Each migration runs in a transaction; when every pending one does, all of them run in one.
  `exports.config = { transaction: false }` runs a migration outside any.
- The history table is `knex_migrations` (beside its lock table `knex_migrations_lock`): a row
  per migration, named by its file name. A knexfile's `tableName` names another (knexfile.py).

What `up` and `down` send is read from the module (knex_reading.py): `knex.raw` and the schema
builder, written as knex's PostgreSQL client writes it (knex_schema.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import posixpath
import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from tree_sitter import Node

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, counted
from migration_check.discovery.js_modules import detected_modules, none_outside_a_transaction, parsed, written_values
from migration_check.discovery.js_reading import (
    LANGUAGES,
    Export,
    exported,
    read_function,
)
from migration_check.discovery.js_values import Code, Values, js_sort_key, version_and_name
from migration_check.discovery.knex_reading import KnexReading
from migration_check.discovery.knexfile import knexfiles_in, named_history_tables
from migration_check.discovery.listing import candidate_files, per_discovery
from migration_check.model import Migration, RollbackPolicy, StrayFile, Transaction

BINDING = re.compile(r"(\\*)\?")  # knex's positionBindings: a `?` and the backslashes before it
NUMBERED = re.compile(r"^(\d+)_(.+)\.[^.]+$")  # migrate:make's <YYYYMMDDHHMMSS>_<name>.js
LOADED = (".co", ".coffee", ".eg", ".iced", ".js", ".cjs", ".litcoffee", ".ls", ".ts")  # DEFAULT_LOAD_EXTENSIONS
CODE = "a knex migration the replay cannot run"
INVALID = "knex refuses to run any pending migration: \"Invalid migration: {name} must have both an up and down function\""


class KnexLayout(Layout):
    name = "knex"
    description = "knex: modules exporting up(knex) and down(knex) (knex.raw, the schema builder), in file-name order"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs: ClassVar[tuple[str, ...]] = ("migrations", "db/migrations", "src/migrations")
    naming_pattern = r"^[^/]+\.(js|cjs|ts|co|coffee|eg|iced|litcoffee|ls)$"
    naming_hint = "a module that exports up and down (any name knex loads)"
    strict_naming_pattern = r"^\d{14}_[a-z0-9_]+\.(js|ts)$"
    strict_naming_hint = "<YYYYMMDDHHMMSS>_<snake_name>.js (knex migrate:make)"
    file_name_order = True
    identity = "id"  # the history table records the file's name
    bookkeeping = bookkeeping.KNEX
    transaction_how = "runs every pending migration in one transaction (when each of them uses one)"
    transaction_opt_out = "run it outside one: `exports.config = { transaction: false }` in the module"

    def detect(self, directory: Path) -> Detection | None:
        marked = detected_modules(directory, lambda p: p.suffix in LANGUAGES, _marked,
                                  lambda p: "up" in module_of(p).functions)
        if not marked or _beside_its_knexfile(directory):
            return None
        return Detection(score=86, reason=f"{counted(len(marked), 'knex migration module')} (up(knex))")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        for path in candidate_files(directory):
            if path.suffix not in LOADED:
                continue  # knex does not load it
            if path.suffix not in LANGUAGES:
                version, name = version_and_name(NUMBERED, path.name)
                migrations.append(Migration(version=version, name=name, label=path.name, sort_key=js_sort_key(path.name),
                                            up=None, files=(path,), skip_reason=f"{CODE}: not JavaScript or TypeScript"))
                continue
            module = module_of(path)
            if "up" not in module.functions or "down" not in module.functions:
                stray.append(StrayFile(path, INVALID.format(name=path.name), refused=True))
                continue
            migrations.append(_migration(path, module))
        migrations.sort(key=lambda m: m.sort_key)
        in_one = none_outside_a_transaction(migrations)
        return Discovery(migrations, stray, pending_in_one_transaction=in_one)

    def history_tables(self, directory: Path) -> frozenset[str]:
        return frozenset({bookkeeping.KNEX.table, "public.knex_migrations_lock"}) | named_history_tables(directory)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{now.strftime('%Y%m%d%H%M%S')}_{name}.js": "\n".join([
            "/**",
            " * @param { import(\"knex\").Knex } knex",
            " * @returns { Promise<void> }",
            " */",
            "exports.up = function(knex) {",
            "  return knex.raw(`select 1`);",
            "};",
            "",
            "/**",
            " * @param { import(\"knex\").Knex } knex",
            " * @returns { Promise<void> }",
            " */",
            "exports.down = function(knex) {",
            "  return knex.raw(`select 1`);",
            "};",
            "",
        ])}


class KnexModule:
    """A migration module: its `up` and `down` as read, and its `config.transaction`."""

    def __init__(self, source: bytes, root: Node, path: Path | None = None) -> None:
        values = Values(root, path)
        found = exported(root, ("up", "down", "config"))
        self.functions: dict[str, Export] = {name: positioned(read_function(found[name], source, values, KnexReading))
                                             for name in ("up", "down") if name in found}
        self.transaction: bool | None = True
        if "config" in found:
            try:
                config = values.value(found["config"])
            except Code:
                config = None
            given = config.get("transaction") if isinstance(config, dict) else None
            self.transaction = None if not isinstance(config, dict) else given is not False


def positioned(export: Export) -> Export:
    """Each query as knex's PostgreSQL client sends it (`positionBindings`, on every query): `\\?`
    is a `?`, and a bare `?` a placeholder, `$1`, `$2`, ... (a JSONB `?` written bare fails there)."""
    def sent(sql: str) -> str:
        count = itertools.count(1)
        return BINDING.sub(lambda m: "?" if len(m[1]) % 2 else f"${next(count)}", sql)
    return dataclasses.replace(export, pieces=tuple(dataclasses.replace(p, sql=sent(p.sql)) for p in export.pieces))


def _marked(head: str) -> bool:
    return "knex" in head and "up" in head


@per_discovery
def module_of(path: Path) -> KnexModule:
    return KnexModule(*parsed(path), path)


def _beside_its_knexfile(directory: Path) -> bool:
    """Whether `directory` holds a knexfile that does not name it as the migrations directory
    (knexfile.py)."""
    knexfiles = knexfiles_in(directory)
    if not knexfiles:
        return False
    for found in knexfiles:
        named = written_values(found, "directory")
        if named is None or any(posixpath.normpath(value) == "." for value in named):
            return False  # a knexfile this cannot read says nothing either way
    return True


def _migration(path: Path, module: KnexModule) -> Migration:
    transaction = Transaction.NONE if module.transaction is False else Transaction.WRAPPED
    up, down = module.functions["up"], module.functions["down"]
    skip = None
    if module.transaction is None:
        skip = f"{CODE}: its config is code (exports.config)"
    elif up.code is not None:
        skip = up.why_not_sql(CODE, "up")
    replayed = skip is None
    version, name = version_and_name(NUMBERED, path.name)
    return Migration(
        version=version,
        name=name,
        label=path.name,
        sort_key=js_sort_key(path.name),
        up=up.script(path, transaction) if replayed else None,
        down=down.script(path, transaction) if replayed and down.code is None else None,
        files=(path,),
        skip_reason=skip,
        down_skip_reason=down.why_not_sql(CODE, "down") if replayed and down.code is not None else None,
    )
