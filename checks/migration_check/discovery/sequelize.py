"""Sequelize (Node.js, sequelize-cli and umzug): modules exporting `up(queryInterface, Sequelize)`
and `down(queryInterface, Sequelize)`.

Rules, as sequelize-cli's migrator (src/core/migrator.js) and umzug v2 (src/index.js,
storages/SequelizeStorage.js) read and run them:
- Every file of the migrations directory (`.sequelizerc`'s `migrations-path`, else `migrations/`)
  whose name matches `^(?!.*\\.d\\.ts$).*\\.(cjs|js|cts|ts)$` is a migration, sorted by file name as
  JavaScript compares strings. Its name is its file name; nothing about it is a rule.
- A migration runs outside any transaction: each statement commits on its own, unless the
  migration runs its calls in `queryInterface.sequelize.transaction(...)`.
- The history table is `SequelizeMeta`: a row per migration, its file name.

What `up` and `down` send is read from the module (sequelize_reading.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, counted
from migration_check.discovery.js_modules import detected_modules, parsed
from migration_check.discovery.js_reading import (
    Export,
    exported,
    read_function,
)
from migration_check.discovery.js_values import Values, js_sort_key, version_and_name
from migration_check.discovery.listing import candidate_files, per_discovery
from migration_check.discovery.orm_settings import configured_tables
from migration_check.discovery.sequelize_reading import OUTSIDE, TRANSACTION, SequelizeReading
from migration_check.model import Migration, RollbackPolicy, StrayFile, Transaction

LOADED = re.compile(r"^(?!.*\.d\.ts$).*\.(cjs|js|cts|ts)$")  # sequelize-cli's umzug pattern
NUMBERED = re.compile(r"^(\d+)-(.+)\.[^.]+$")  # migration:generate's <YYYYMMDDHHMMSS>-<name>.js
CODE = "a Sequelize migration the replay cannot run"
NO_DOWN = 'its module exports no down: umzug cannot undo it ("Could not find migration method: down")'


class SequelizeLayout(Layout):
    name = "sequelize"
    description = "Sequelize: modules exporting up(queryInterface, Sequelize) and down, in file-name order"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs: ClassVar[tuple[str, ...]] = ("migrations", "db/migrations", "src/migrations")
    naming_pattern = r"^[^/]+\.(cjs|js|cts|ts)$"
    naming_hint = "a module (.js, .cjs, .ts) that exports up and down"
    strict_naming_pattern = r"^\d{14}-[a-z0-9-]+\.js$"
    strict_naming_hint = "<YYYYMMDDHHMMSS>-<name>.js (sequelize migration:generate)"
    file_name_order = True
    identity = "id"  # SequelizeMeta records the file's name
    bookkeeping = bookkeeping.SEQUELIZE
    transaction_how = "runs each migration outside a transaction: each statement commits on its own"

    def detect(self, directory: Path) -> Detection | None:
        marked = detected_modules(directory, lambda p: bool(LOADED.match(p.name)), _marked, lambda p: "up" in module_of(p))
        if not marked:
            return None
        return Detection(score=86, reason=f"{counted(len(marked), 'Sequelize migration module')} (up(queryInterface))")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        for path in candidate_files(directory):
            if not LOADED.match(path.name):
                continue  # umzug does not load it
            functions = module_of(path)
            if "up" not in functions:
                stray.append(StrayFile(path, "umzug runs every module here and stops at this one: it exports no up",
                                       refused=True))
                continue
            migrations.append(_migration(path, functions))
        migrations.sort(key=lambda m: m.sort_key)
        return Discovery(migrations, stray)

    def history_tables(self, directory: Path) -> frozenset[str]:
        return super().history_tables(directory) | configured_tables(directory, "migrationStorageTableName")

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{now.strftime('%Y%m%d%H%M%S')}-{name.replace('_', '-')}.js": "\n".join([
            "'use strict';",
            "",
            "/** @type {import('sequelize-cli').Migration} */",
            "module.exports = {",
            "  async up (queryInterface, Sequelize) {",
            "    await queryInterface.sequelize.query('SELECT 1');",
            "  },",
            "",
            "  async down (queryInterface, Sequelize) {",
            "    await queryInterface.sequelize.query('SELECT 1');",
            "  }",
            "};",
            "",
        ])}


def _marked(head: str) -> bool:
    return "queryInterface" in head or "Sequelize" in head or "sequelize" in head


@per_discovery
def module_of(path: Path) -> dict[str, Export]:
    """What the module's `up` and `down` send."""
    source, root = parsed(path)
    values = Values(root, path)
    found = exported(root)
    return {name: read_function(node, source, values, SequelizeReading) for name, node in found.items()}


def _transaction(export: Export) -> Transaction:
    """In a transaction where every statement is sent inside `sequelize.transaction(...)`."""
    return Transaction.WRAPPED if TRANSACTION in export.flags and OUTSIDE not in export.flags else Transaction.NONE


def _migration(path: Path, functions: dict[str, Export]) -> Migration:
    up, down = functions["up"], functions.get("down")
    version, name = version_and_name(NUMBERED, path.name)
    return Migration(
        version=version,
        name=name,
        label=path.name,
        sort_key=js_sort_key(path.name),
        up=up.replayable_script(path, _transaction(up)),
        down=down.replayable_script(path, _transaction(down)) if up.code is None and down is not None else None,
        files=(path,),
        skip_reason=up.why_not_sql(CODE, "up") if up.code is not None else None,
        down_skip_reason=None if up.code is not None or (down is not None and down.code is None) else
        down.why_not_sql(CODE, "down") if down is not None else NO_DOWN,
    )
