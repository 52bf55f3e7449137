"""Kysely (TypeScript and JavaScript): migration modules exporting `up(db)` and, optionally,
`down(db)`, run by Kysely's Migrator from a FileMigrationProvider's folder.

Rules, as Kysely reads and runs them (src/migration/file-migration-provider.ts, migrator.ts):
- Every file of the folder ending in `.js`, `.ts`, `.mjs`, `.mts`, `.cjs` or `.cts` (not a
  `.d.ts`) is loaded; one that exports an `up` function (or a default export that does) is a
  migration, named by its file name without the extension. Nothing about the name is a rule.
- Migrations run in the order of their names as `localeCompare` orders them (`locale_key`), and a
  new one must sort after the last one executed: else the Migrator refuses ("corrupted
  migrations: ... New migrations must always have a name that comes alphabetically after the last
  executed migration"), which the history check says.
- On PostgreSQL every pending migration runs in one transaction; where the project's code gives the
  Migrator `disableTransactions: true`, every query runs on its own.
- `down` is optional: migrating down past a migration without one only forgets it.
- The history table is `kysely_migration`, beside its lock table `kysely_migration_lock`.

What `up` and `down` send is read from the module (kysely_reading.py, kysely_schema.py).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from tree_sitter import Node

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, counted, with_transactions
from migration_check.discovery.js_modules import detected_modules, parsed
from migration_check.discovery.js_reading import LANGUAGES, Export, exported, read_function
from migration_check.discovery.js_values import Values
from migration_check.discovery.kysely_reading import KyselyReading
from migration_check.discovery.listing import candidate_files, per_discovery
from migration_check.discovery.orm_settings import as_named, configured_flag, configured_tables, configured_values
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, Transaction

CODE = "a Kysely migration the replay cannot run"
LOADED = (".js", ".ts", ".mjs", ".mts", ".cjs", ".cts")
# ICU's root collation, which `localeCompare` follows: spaces, then punctuation in this order, then
# symbols, digits and letters; letters compare without case first, lower case before upper.
PUNCTUATION = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"


def locale_key(name: str) -> tuple:
    """How `a.localeCompare(b)` orders migration names (ICU's root collation, close enough for
    the names migrations have: `2024_01_02_x` after `2024_01_01_y`, `add_Users` beside `add_users`)."""
    primary = []
    for char in unicodedata.normalize("NFD", name):
        if unicodedata.combining(char):
            continue
        if char.isspace():
            primary.append((0, 0, ""))
        elif char.isdigit():
            primary.append((3, int(char) if char.isascii() else ord(char), ""))
        elif char.isalpha():
            primary.append((4, 0, char.casefold()))
        else:
            at = PUNCTUATION.find(char)
            primary.append((1, at, "") if at >= 0 else (2, ord(char), ""))
    return (tuple(primary), tuple(char.isupper() for char in name), name)


class KyselyLayout(Layout):
    name = "kysely"
    description = "Kysely: modules exporting up(db) and down(db) (db.schema builders, sql templates), in name order"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs: ClassVar[tuple[str, ...]] = ("migrations", "src/migrations", "db/migrations", "src/db/migrations")
    naming_pattern = r"^[^/]+\.(js|ts|mjs|mts|cjs|cts)$"
    naming_hint = "a module that exports up (any name Kysely loads)"
    strict_naming_pattern = r"^\d{14}_[a-z0-9_]+\.(js|ts)$"
    strict_naming_hint = "<YYYYMMDDHHMMSS>_<snake_name>.ts"
    file_name_order = True
    identity = "id"  # the history table records the name
    bookkeeping = bookkeeping.KYSELY
    transaction_how = "runs every pending migration in one transaction"
    transaction_opt_out = "run it outside one: `disableTransactions: true` in the Migrator's options (for every migration)"

    def detect(self, directory: Path) -> Detection | None:
        marked = detected_modules(directory, _loaded, lambda head: "kysely" in head.lower() and "up" in head,
                                  lambda p: "up" in module_of(p).functions)
        if not marked:
            return None
        return Detection(score=87, reason=f"{counted(len(marked), 'Kysely migration module')} (up(db))")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        refusals: list[Refusal] = []
        for path in candidate_files(directory):
            if not _loaded(path):
                continue
            module = module_of(path)
            if "up" not in module.functions:
                continue  # Kysely ignores it ("NotMigration")
            migration, refused = _migration(path, module)
            migrations.append(migration)
            if refused is not None:
                refusals.append(Refusal(path, refused[0], refused[1]))
        migrations.sort(key=lambda m: m.sort_key)
        if configured_flag(directory, "disableTransactions"):  # every query on its own
            migrations = [with_transactions(m, lambda _script: Transaction.NONE) for m in migrations]
            return Discovery(migrations, refusals=refusals)
        return Discovery(migrations, pending_in_one_transaction=True, refusals=refusals)

    def history_tables(self, directory: Path) -> frozenset[str]:
        """`kysely_migration` and its lock table, or the names the Migrator's options give them, in
        `public` or the schema its `migrationTableSchema` names."""
        schemas = ("public", *configured_values(directory, "migrationTableSchema"))
        named = {f"{as_named(schema)}.{table}" for schema in schemas for table in ("kysely_migration", "kysely_migration_lock")}
        return frozenset(named) | configured_tables(directory, "migrationTableName", schemas=schemas) \
            | configured_tables(directory, "migrationLockTableName", schemas=schemas)

    def unsent_note(self, down: Script) -> str | None:
        """The down's queries that are built but never executed (mwanago/nestjs-kysely's
        `alterTable('articles').dropColumn('created_at');`, no `.execute()`): Kysely sends nothing."""
        lines = module_of(down.path).unexecuted.get("down") if _loaded(down.path) else None
        if not lines:
            return None
        several = len(lines) > 1
        return (f"the quer{'ies' if several else 'y'} at line{'s' if several else ''} {', '.join(map(str, lines))}"
                f" {'are' if several else 'is'} built but never executed, so Kysely sends nothing: end"
                f" {'each' if several else 'it'} with `.execute()`")

    def out_of_order_effect(self, directory: Path) -> str:
        """As the Migrator's `#ensureMigrationsInOrder` treats a pending migration that sorts before
        an executed one (`allowUnorderedMigrations` lets it run late)."""
        if configured_flag(directory, "allowUnorderedMigrations"):
            return "Kysely's Migrator runs it after newer ones (allowUnorderedMigrations: true)"
        return ('Kysely\'s Migrator stops with "corrupted migrations: expected previously executed migration ... New'
                ' migrations must always have a name that comes alphabetically after the last executed migration"'
                " and runs no pending migration")

    def no_rollback_reason(self, migration: Migration) -> str | None:
        return "no down: Kysely's migrateDown runs nothing for it and only forgets it"

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{now.strftime('%Y%m%d%H%M%S')}_{name}.ts": "\n".join([
            "import { Kysely, sql } from 'kysely'",
            "",
            "export async function up(db: Kysely<any>): Promise<void> {",
            "  await sql`select 1`.execute(db)",
            "}",
            "",
            "export async function down(db: Kysely<any>): Promise<void> {",
            "  await sql`select 1`.execute(db)",
            "}",
            "",
        ])}


def _loaded(path: Path) -> bool:
    return path.suffix in LOADED and path.suffix in LANGUAGES and not path.name.endswith((".d.ts", ".d.mts", ".d.cts"))


class KyselyModule:
    """A migration module: its `up` and `down` as read, and where Kysely throws as it builds one."""

    def __init__(self, source: bytes, root: Node, path: Path | None = None) -> None:
        values = Values(root, path)
        found = exported(root, ("up", "down"), default=True)  # (FileMigrationProvider takes `default` too)
        self.functions: dict[str, Export] = {}
        self.refused: dict[str, tuple[int, str]] = {}
        self.unexecuted: dict[str, list[int]] = {}  # the lines of the queries each builds and never executes
        for name in ("up", "down"):
            if name in found:
                refused: list[tuple[int, str]] = []
                self.unexecuted[name] = []
                self.functions[name] = read_function(found[name], source, values, KyselyReading, refused=refused,
                                                     unexecuted=self.unexecuted[name])
                if refused:
                    self.refused[name] = refused[0]


@per_discovery
def module_of(path: Path) -> KyselyModule:
    return KyselyModule(*parsed(path), path)


def _migration(path: Path, module: KyselyModule) -> tuple[Migration, tuple[int, str] | None]:
    up, down = module.functions["up"], module.functions.get("down")
    refused = module.refused.get("up")
    skip = None
    if refused is not None:
        skip = f"Kysely throws before its up sends anything: {refused[1]} (line {refused[0]})"
    elif up.code is not None:
        skip = up.why_not_sql(CODE, "up")
    replayed = skip is None
    down_skip = None
    if replayed and down is not None and (down.code is not None or "down" in module.refused):
        down_skip = (f"Kysely throws before its down sends anything: {module.refused['down'][1]}"
                     if "down" in module.refused else down.why_not_sql(CODE, "down"))
    name = path.name[:path.name.rfind(".")]
    return Migration(
        version=name,
        name="",
        label=name,
        sort_key=locale_key(name),
        up=up.script(path, Transaction.WRAPPED) if replayed else None,
        down=down.script(path, Transaction.WRAPPED) if replayed and down is not None and down_skip is None else None,
        files=(path,),
        skip_reason=skip,
        refused=refused is not None,
        down_skip_reason=down_skip,
    ), (refused[0], f"Kysely throws as it builds the up's query, and the run stops there: {refused[1]}") \
        if refused is not None else None
