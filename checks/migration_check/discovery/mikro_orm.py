"""MikroORM (Node.js): migration classes that extend `Migration`, one per module, queueing SQL
with `this.addSql(...)`.

Rules, as MikroORM's Migrator reads and runs them (packages/core/src/utils/AbstractMigrator.ts,
packages/migrations/src/Migrator.ts, MigrationRunner.ts, MigrationStorage.ts):
- Every module of the migrations directory that its glob `!(*.d).{js,ts,cjs}` matches is a
  migration (not a sub-folder's, not a `.d.ts`): MikroORM imports it and instantiates the first
  class it exports. A module that exports none stops it. Other files (its `.snapshot-*.json`)
  are not migrations.
- They run in the order of their paths sorted as JavaScript sorts strings (by UTF-16 code unit):
  file-name order. A migration's name is its file name without `.js`/`.ts`; the version here is
  the timestamp `migration:create` writes after `Migration` (`Migration20240524123112.ts`), else
  the whole name. Nothing about the name is a rule.
- `up()` and `down()` queue their SQL (mikro_orm_classes.py reads it); a class without `down`
  cannot be rolled back (its base class throws "This migration cannot be reverted").
- Each migration runs in a transaction (`transactional: true`), and every pending migration in one
  more around them all (`allOrNothing: true`), unless the class's `isTransactional()` returns
  false: it then runs outside any.
- The history table is `mikro_orm_migrations`: a row per migration, named by its file name
  without the extension.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, counted
from migration_check.discovery.js_modules import detected_modules, none_outside_a_transaction, parsed
from migration_check.discovery.js_values import js_sort_key, version_and_name
from migration_check.discovery.listing import candidate_files, per_discovery
from migration_check.discovery.mikro_orm_classes import MigrationClass, read_class
from migration_check.discovery.orm_settings import MIKRO_ORM_CONFIG, configured_tables
from migration_check.model import Migration, RollbackPolicy, StrayFile, Transaction

LOADED = (".js", ".ts", ".cjs")  # the suffixes of MikroORM's default glob
GENERATED = re.compile(r"^Migration(\d{14})(?:_(.+))?$")  # migration:create's name, with an optional name
CODE = "a MikroORM migration the replay cannot run"
NO_DOWN = 'its class has no down(): MikroORM refuses to roll it back ("This migration cannot be reverted")'


class MikroOrmLayout(Layout):
    name = "mikro-orm"
    description = "MikroORM: migration classes (up and down with this.addSql), in file-name order"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs: ClassVar[tuple[str, ...]] = ("src/migrations", "migrations")
    naming_pattern = r"^[^/]+\.(js|ts|cjs)$"
    naming_hint = "a module (.js, .ts, .cjs) that exports a migration class"
    strict_naming_pattern = r"^Migration\d{14}(_[A-Za-z0-9_]+)?\.ts$"
    strict_naming_hint = "Migration<YYYYMMDDHHMMSS>[_<name>].ts (mikro-orm migration:create)"
    file_name_order = True
    identity = "id"  # the history table records the file's name
    bookkeeping = bookkeeping.MIKRO_ORM
    transaction_how = "runs every pending migration in one transaction (allOrNothing, its default)"
    transaction_each_how = "runs each migration in a transaction of its own (allOrNothing off)"
    transaction_opt_out = "run it outside one: `isTransactional() { return false; }` on the class"

    def detect(self, directory: Path) -> Detection | None:
        # The text first (the tree search asks every directory), then the parse.
        marked = detected_modules(directory, loaded, _marked, lambda p: class_of(p) is not None)
        if not marked:
            return None
        return Detection(score=86, reason=f"{counted(len(marked), 'MikroORM migration module')} (this.addSql)")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        for path in candidate_files(directory):
            if not loaded(path):
                continue  # the snapshot MikroORM keeps beside them, notes: not loaded
            found = class_of(path)
            if found is None:
                stray.append(StrayFile(path, "MikroORM loads every module here as a migration and stops at this one:"
                                             " it exports no class that extends Migration", refused=True))
                continue
            migrations.append(_migration(path, found))
        migrations.sort(key=lambda m: m.sort_key)
        in_one = none_outside_a_transaction(migrations)
        return Discovery(migrations, stray, pending_in_one_transaction=in_one)

    def history_tables(self, directory: Path) -> frozenset[str]:
        return super().history_tables(directory) | configured_tables(directory, "tableName", MIKRO_ORM_CONFIG)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        words = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
        title = f"Migration{now.strftime('%Y%m%d%H%M%S')}" + (f"_{words}" if words else "")
        return {directory / f"{title}.ts": "\n".join([
            "import { Migration } from '@mikro-orm/migrations';",
            "",
            f"export class {title} extends Migration {{",
            "",
            "  override async up(): Promise<void> {",
            "    this.addSql(`select 1;`);",
            "  }",
            "",
            "  override async down(): Promise<void> {",
            "    this.addSql(`select 1;`);",
            "  }",
            "",
            "}",
            "",
        ])}


def loaded(path: Path) -> bool:
    return path.suffix in LOADED and not path.name.endswith(".d.ts")


def _marked(head: str) -> bool:
    """A class that extends a Migration and queues SQL, or imports MikroORM's Migration."""
    return "extends " in head and ("mikro-orm" in head or "this.addSql(" in head)


@per_discovery
def class_of(path: Path) -> MigrationClass | None:
    return read_class(*parsed(path), path)


def _migration(path: Path, found: MigrationClass) -> Migration:
    stem = path.name[:-3] if path.suffix in (".js", ".ts") else path.name  # MikroORM's getMigrationName
    version, name = version_and_name(GENERATED, stem)
    transaction = Transaction.NONE if found.transactional is False else Transaction.WRAPPED
    up = found.up.replayable_script(path, transaction)
    down = found.down.replayable_script(path, transaction) if found.down is not None else None
    skip = None
    if found.transactional is None:
        skip = f"{CODE}: whether it runs in a transaction is code (isTransactional, line {found.transactional_line})"
    elif up is None:
        skip = found.up.why_not_sql(CODE, "up")
    return Migration(
        version=version,
        name=name,
        label=stem,
        sort_key=js_sort_key(path.name),
        up=up if skip is None else None,
        down=down if skip is None else None,
        files=(path,),
        skip_reason=skip,
        down_skip_reason=_down_skip_reason(found, up is not None and skip is None, down is not None),
    )


def _down_skip_reason(found: MigrationClass, replayed: bool, read: bool) -> str | None:
    if not replayed or read:
        return None
    return found.down.why_not_sql(CODE, "down") if found.down is not None else NO_DOWN
