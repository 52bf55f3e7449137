"""TypeORM (Node.js): migration classes, each with `up(queryRunner)` and `down(queryRunner)`.

Rules, as TypeORM's MigrationExecutor reads and runs them (src/migration/MigrationExecutor.ts):
- A migration is a class that the DataSource's `migrations` setting loads, usually every file of
  one directory (`src/migrations/*.ts`). TypeORM reads its version from the last 13 characters of
  its name (its `name` property, else the class's: `AddUsers1700000000000`), as `parseInt` reads
  them; a name that gives none stops TypeORM ("migration name is wrong"): a naming failure here.
  The file's name (`<timestamp>-<Name>.ts`, as the CLI writes it) is a habit, not a rule.
- They run in timestamp order. Two classes of one name stop TypeORM ("Duplicate migrations").
- By default (`migrationsTransactionMode: "all"`) every pending migration runs in one
  transaction; a class's `transaction = false` needs the mode "each" or "none", and runs outside
  one.
- `migration:revert` runs the newest migration's `down`.
- The history table is `migrations`: a row per migration, its timestamp and its name.

What `up` and `down` run is read from the class (typeorm_classes.py): the SQL they send through
`queryRunner.query`, at its own lines; a migration that runs anything else is skipped, naming it.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, counted
from migration_check.discovery.js_modules import detected_modules, parsed
from migration_check.discovery.js_reading import LANGUAGES
from migration_check.discovery.listing import candidate_files, per_discovery
from migration_check.discovery.orm_settings import configured_tables
from migration_check.discovery.typeorm_classes import MigrationClass, read_classes
from migration_check.discovery.typeorm_entities import entity_extensions, package_of, setup_sql
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

TIMESTAMP_DIGITS = 13
CODE = "a TypeORM migration the replay cannot run"


class TypeOrmLayout(Layout):
    name = "typeorm"
    description = "TypeORM: migration classes (up and down with queryRunner.query), in timestamp order"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs: ClassVar[tuple[str, ...]] = ("src/migrations", "src/migration", "src/database/migrations",
                                                    "migrations")
    naming_pattern = r"^[^/]+\.(ts|mts|cts|js|mjs|cjs)$"
    naming_hint = "a module whose migration class's name ends in a JavaScript timestamp (AddUsers1700000000000)"
    strict_naming_pattern = r"^\d{13}-[A-Za-z][A-Za-z0-9]*\.ts$"
    strict_naming_hint = "<timestamp>-<Name>.ts (typeorm migration:create)"
    numeric_versions = True
    identity = "id"  # TypeORM tells migrations apart by their names
    bookkeeping = bookkeeping.TYPEORM
    transaction_how = 'runs every pending migration in one transaction (migrationsTransactionMode "all", its default)'
    transaction_each_how = 'runs each migration in a transaction of its own (migrationsTransactionMode "each")'
    transaction_opt_out = ('run it outside one: `transaction = false` on the class, with migrationsTransactionMode'
                           ' "each" in the DataSource')
    duplicate_refusal = 'TypeORM runs none of them then ("Duplicate migrations: {version}")'

    def detect(self, directory: Path) -> Detection | None:
        # The text first (the tree search asks every directory), then the parse: a class whose
        # name TypeORM reads a timestamp from (code that writes migrations holds their text).
        marked = detected_modules(directory, _module, _marked,
                                  lambda p: any(js_parse_int(c.name[-TIMESTAMP_DIGITS:]) for c in classes_of(p)))
        if not marked:
            return None
        return Detection(score=86, reason=f"{counted(len(marked), 'TypeORM migration module')} (queryRunner)")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        in_one = True
        for path in candidate_files(directory):
            if not _module(path):
                stray.append(StrayFile(path, "TypeORM loads modules (.ts, .js), not this"))
                continue
            # A module without a migration class (an index.ts that lists them) is none of TypeORM's
            # migrations: nothing to say about it.
            classes = classes_of(path)
            for found in classes:
                timestamp = js_parse_int(found.name[-TIMESTAMP_DIGITS:])
                if not timestamp:
                    stray.append(StrayFile(path, f"TypeORM stops at class {found.name} (line {found.line}): \"migration name"
                                                 " is wrong. Migration class name should have a JavaScript timestamp"
                                                 ' appended."', refused=True))
                    continue
                in_one = in_one and found.transaction is None
                migrations.append(_migration(path, found, timestamp))
        migrations.sort(key=lambda m: m.sort_key)
        extensions = entity_extensions(directory)
        setup = [Script(directory, setup_sql(extensions))] if extensions else []
        needed = ", ".join(f"{name} ({_shown(path, directory)}:{line})" for name, (path, line) in extensions.items())
        return Discovery(migrations, stray, pending_in_one_transaction=in_one, setup=setup,
                         setup_extensions=frozenset(extensions),
                         setup_reason=f"as TypeORM does when it connects, the extensions its entities need: {needed}"
                                      " (where the server has them)" if extensions else "")

    def history_tables(self, directory: Path) -> frozenset[str]:
        return super().history_tables(directory) | configured_tables(directory, "migrationsTableName")

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        timestamp = int(now.timestamp() * 1000)
        title = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part) or "Migration"
        return {directory / f"{timestamp}-{title}.ts": "\n".join([
            'import { MigrationInterface, QueryRunner } from "typeorm";',
            "",
            f"export class {title}{timestamp} implements MigrationInterface {{",
            f"    name = '{title}{timestamp}'",
            "",
            "    public async up(queryRunner: QueryRunner): Promise<void> {",
            "        await queryRunner.query(`SELECT 1`);",
            "    }",
            "",
            "    public async down(queryRunner: QueryRunner): Promise<void> {",
            "        await queryRunner.query(`SELECT 1`);",
            "    }",
            "}",
            "",
        ])}


def _marked(head: str) -> bool:
    """A class that implements TypeORM's MigrationInterface, or whose `up` takes its query runner
    (JavaScript migrations, which name no interface)."""
    return "class " in head and ("implements MigrationInterface" in head or "up(queryRunner" in head.replace(" ", ""))


@per_discovery
def classes_of(path: Path) -> list[MigrationClass]:
    return read_classes(*parsed(path), path)


def _shown(path: Path, directory: Path) -> str:
    """An entity file as the header shows it: from the folder that holds the migrations' package."""
    package = package_of(directory) or directory
    return path.relative_to(package).as_posix() if path.is_relative_to(package) else str(path)


def _module(path: Path) -> bool:
    return path.suffix in LANGUAGES and not path.name.endswith((".d.ts", ".spec.ts", ".test.ts", ".spec.js", ".test.js"))


def _migration(path: Path, found: MigrationClass, timestamp: int) -> Migration:
    transaction = Transaction.NONE if found.transaction is False else Transaction.WRAPPED
    up = found.up.replayable_script(path, transaction)
    down = found.down.replayable_script(path, transaction) if found.down is not None else None
    suffix = found.name[-TIMESTAMP_DIGITS:]
    return Migration(
        version=str(timestamp),
        name=found.name[:-TIMESTAMP_DIGITS] if suffix == str(timestamp) else found.name,
        label=found.name,
        sort_key=(timestamp,),
        up=up,
        down=down,
        files=(path,),
        skip_reason=None if up is not None else found.up.why_not_sql(CODE, "up"),
        down_skip_reason=found.down.why_not_sql(CODE, "down") if up and found.down and not down else None,
    )


def js_parse_int(text: str) -> int:
    """JavaScript's `parseInt(text, 10)`: the digits it starts with (after blanks and a sign); 0
    where there are none (NaN, which TypeORM refuses like 0)."""
    match = re.match(r"\s*([+-]?)(\d+)", text)
    return int(match[1] + match[2]) if match else 0
