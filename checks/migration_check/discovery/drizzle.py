"""Drizzle Kit: `<out>/<tag>.sql`, listed in `<out>/meta/_journal.json` (`drizzle-kit generate`),
applied by drizzle-orm's migrator.

Rules, as drizzle-orm applies them (src/migrator.ts, src/pg-core/dialect.ts):
- The journal is the list: each entry's `tag` names `<tag>.sql`, run in the journal's order. A
  `.sql` file the journal does not list is never run; an entry whose file is missing stops the
  migrator before it runs any ("No file ... found"): a history failure at the entry's line, the
  other entries still judged.
- A migration runs only when its entry's `when` (milliseconds) is later than the newest
  `created_at` in drizzle.__drizzle_migrations. On a database that applied a later one, an entry
  whose `when` is earlier is skipped for good, without a word. So `when` is the version here: the
  history check reports two entries with one `when`, and a branch's entry made before one the base
  merged since (the journal's merge conflict resolved by keeping both) as out of order.
- Every pending migration runs in one transaction, the file's statements (between `-->
  statement-breakpoint` lines, which are SQL comments) in order; there is no way out of it, and no
  rollback: Drizzle is forward-only.
- The history: a row per migration in drizzle.__drizzle_migrations (hash: the file's sha256;
  created_at: `when`), kept as the migrator keeps it.
- `dialect` in the journal names the database: `postgresql` (`pg` in older journals); another one
  is refused, as for other runners' configs naming another engine.

Drizzle Kit 1 writes a folder per migration instead, and no journal (drizzle-orm's beta migrator.ts,
migrator.utils.ts; its migrator refuses a folder that still has a journal):
- `<out>/<YYYYMMDDHHMMSS>_<name>/migration.sql` beside its `snapshot.json`, in the order of the
  folders' names; a folder without migration.sql is skipped. The version is the name's first 14
  characters, as a moment.
- A migration runs when its folder's name is not in the history table, whatever its moment; every
  pending one in one transaction, as before. The snapshots' `dialect` names the database.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, read_sql
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.errors import FileError
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, StrayFile, Transaction

JOURNAL = Path("meta") / "_journal.json"
SCRIPT, SNAPSHOT = "migration.sql", "snapshot.json"
POSTGRES_DIALECTS = frozenset({"postgresql", "pg"})


class DrizzleLayout(Layout):
    name = "drizzle"
    description = "<tag>.sql listed in meta/_journal.json, or <timestamp>_<name>/migration.sql (drizzle-kit 1)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("drizzle", "migrations", "src/db/migrations", "db/migrations")
    # The journal names the files: any `.sql` name it lists is one (`drizzle-kit generate --name`).
    naming_pattern = r"^(.+\.sql|\d{14}_[^/]+/migration\.sql)$"
    naming_hint = "<tag>.sql, listed in meta/_journal.json"
    numeric_versions = True  # `when`, compared as numbers
    bookkeeping = bookkeeping.DRIZZLE
    transaction_how = "runs every pending migration in one transaction"
    transaction_opt_out = ("Drizzle has none: run the statement outside drizzle's migrator (a script of its own"
                           " after it)")

    def detect(self, directory: Path) -> Detection | None:
        journal = directory / JOURNAL
        if journal.is_file():
            return Detection(score=96, reason=f"{JOURNAL.as_posix()} and {len(_sql_files(directory))} .sql files")
        folders = _folders(directory)
        if not folders or not any((folder / SNAPSHOT).is_file() for folder in folders):
            return None
        return Detection(score=96, reason=f"{len(folders)} <timestamp>_<name>/migration.sql folders with {SNAPSHOT}"
                                          " (drizzle-kit 1)")

    def held_directories(self, directory: Path) -> list[Path]:
        return [directory / "meta", *_folders(directory)]

    def discover(self, directory: Path) -> Discovery:
        journal = directory / JOURNAL
        if not journal.is_file():
            return _folder_migrations(directory)
        text = read_sql(journal)
        entries = _entries(journal, text)
        migrations = []
        listed: set[Path] = set()
        refusals: list[Refusal] = []
        for position, (tag, when) in enumerate(entries):
            path = directory / f"{tag}.sql"
            if not path.is_file():
                # The migrator reads every file before it runs one: none runs. The others are still
                # judged, each for what it would do once the entry is mended.
                line = _line_of(text, f'"{tag}"')
                refusals.append(Refusal(journal, line, f"no file {tag}.sql: drizzle's migrator stops at this entry"
                                        " (\"No file ... found\") and runs no migration"))
                # Its case says so, and a later entry that misses what it made is told it may have.
                migrations.append(Migration(str(when), tag, (position, when), up=None, refused=True,
                                            skip_reason=f"drizzle's migrator stops at it ({JOURNAL.as_posix()} line"
                                                        f" {line}): no file {tag}.sql"))
                continue
            listed.add(path)
            script = Script(path, read_sql(path), transaction=Transaction.WRAPPED)
            migrations.append(Migration(str(when), tag, (position, when), up=script, files=(path,)))
        stray = [StrayFile(path, "drizzle never runs it: meta/_journal.json does not list it")
                 for path in _sql_files(directory) if path not in listed]
        return Discovery(migrations, stray, rollback_policy=RollbackPolicy.ABSENT, pending_in_one_transaction=True,
                         refusals=refusals)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        raise NotImplementedError("`migration-check new` does not write Drizzle migrations: `drizzle-kit generate"
                                  f" --name {name}` writes the file and its journal entry")


def _entries(journal: Path, text: str) -> list[tuple[str, int]]:
    """(tag, when) of each journal entry, in order; a journal drizzle cannot use is a FileError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FileError(journal, error.lineno, f"not JSON: {error.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise FileError(journal, 1, 'no "entries" list: drizzle-kit writes one')
    dialect = data.get("dialect")
    if dialect not in POSTGRES_DIALECTS:
        raise FileError(journal, _line_of(text, '"dialect"'), f'dialect "{dialect}": these are migrations for another'
                        ' database; migration-check replays PostgreSQL migrations (dialect "postgresql")')
    entries = []
    for entry in data["entries"]:
        fields = entry if isinstance(entry, dict) else {}
        tag, when = fields.get("tag"), fields.get("when")
        if (not isinstance(tag, str) or not isinstance(when, int) or not tag or tag.startswith(".")
                or any(c in tag for c in "/\\\0")):  # a file name in the journal's directory, nothing else
            raise FileError(journal, _line_of(text, str(tag)), "an entry drizzle cannot use: its tag must name a file"
                            f" here and its `when` be milliseconds: {entry}")
        entries.append((tag, when))
    return entries


def _line_of(text: str, word: str) -> int:
    """The first line of the journal that holds `word`, for messages at file:line; 1 when none does."""
    return next((number for number, line in enumerate(text.splitlines(), 1) if word in line), 1)


def _sql_files(directory: Path) -> list[Path]:
    return [p for p in candidate_files(directory) if p.suffix.lower() == ".sql"]


def _folders(directory: Path) -> list[Path]:
    """Drizzle Kit 1's migration folders, in the order of their names, as its migrator sorts them."""
    return sorted((folder for folder in candidate_directories_in(directory) if (folder / SCRIPT).is_file()),
                  key=lambda folder: folder.name)


def _folder_migrations(directory: Path) -> Discovery:
    migrations: list[Migration] = []
    for position, folder in enumerate(_folders(directory)):
        snapshot = folder / SNAPSHOT
        if snapshot.is_file():
            _postgres_snapshot(snapshot)
        script = folder / SCRIPT
        moment = folder.name[:14]
        version = moment if moment.isdigit() else folder.name
        migrations.append(Migration(version, folder.name[15:], (position, folder.name), files=(script,),
                                    up=Script(script, read_sql(script), transaction=Transaction.WRAPPED),
                                    label=folder.name))
    stray = [StrayFile(path, "drizzle never runs it: its migrator reads only <folder>/migration.sql")
             for path in _sql_files(directory)]
    return Discovery(migrations, stray, rollback_policy=RollbackPolicy.ABSENT, pending_in_one_transaction=True)


def _postgres_snapshot(snapshot: Path) -> None:
    """A snapshot whose `dialect` is another database's: these migrations are that database's."""
    text = read_sql(snapshot)
    try:
        dialect = json.loads(text).get("dialect")
    except (json.JSONDecodeError, AttributeError):
        return
    if isinstance(dialect, str) and dialect not in POSTGRES_DIALECTS | {"postgres"}:
        raise FileError(snapshot, _line_of(text, '"dialect"'), f'dialect "{dialect}": these are migrations for another'
                        ' database; migration-check replays PostgreSQL migrations (dialect "postgres")')
