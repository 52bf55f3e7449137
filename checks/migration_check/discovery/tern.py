"""tern (jackc/tern): `<number>_<name>.sql`, numbered 1, 2, 3, ... with none missing, each file
holding both directions.

    create table people (id serial primary key);

    ---- create above / drop below ----

    drop table people;

Rules, as tern's migrate package reads and runs them (migrate/migrate.go):
- A migration is a file of the directory itself whose name matches `\\A(\\d+)_.+\\.sql\\z`; the
  numbers must run 1, 2, 3, ... (`001_` is 1): a repeated one stops tern ("Duplicate migration N"),
  and so does a gap ("Missing migration N"), before any migration runs. `.sql` files in the
  directories below are shared templates, not migrations.
- The text before `---- create above / drop below ----` is the up, the text after it the down.
  Without the separator, or with nothing after it, the migration is irreversible (tern refuses to
  roll it back); an up of comments alone stops tern (ErrNoFwMigration).
- Each file is a Go text/template, rendered with the `[data]` of tern.conf: a file with an action
  (`{{ ... }}`) is not replayed here.
- Each direction runs in a transaction, sent whole as one query, unless its text holds the line
  `---- tern: disable-tx ----`: then tern splits it into statements and runs each on its own.
- The history table is `public.schema_version`, one row: the number of the newest migration.

Without the separator a tern file reads as a `numbered` one, whose up would have run the down
right after it: the layout is told by the separator, tern.conf, or tern in the Go module.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, files_named, read_sql, section, split_lines
from migration_check.discovery.drivers import module_requirements
from migration_check.discovery.go_templates import template_action
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.model import Migration, RollbackPolicy, StrayFile, Transaction

FILE = re.compile(r"^(?P<number>\d+)_(?P<name>.+)\.sql$")
SEPARATOR = "---- create above / drop below ----"
DISABLE_TX = re.compile(r"(?m)^---- tern: disable-tx ----$")
MODULE = "github.com/jackc/tern"


class TernLayout(Layout):
    name = "tern"
    description = "<number>_<name>.sql numbered 1, 2, 3, ..., up and down split by ---- create above / drop below ---- (tern)"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations",)
    naming_pattern = r"^\d+_.+\.sql$"
    naming_hint = "<number>_<name>.sql"
    strict_naming_pattern = r"^\d{3}_[a-z][a-z0-9]*(_[a-z0-9]+)*\.sql$"
    strict_naming_hint = "NNN_snake_case_name.sql, as `tern new` writes it"
    numeric_versions = True
    bookkeeping = bookkeeping.TERN
    sends_scripts_whole = True  # a direction is one query in tern's transaction
    transaction_opt_out = "run it outside one, with the line `---- tern: disable-tx ----` in that direction's text"
    duplicate_refusal = "tern refuses to run any migration (Duplicate migration {version})"

    def detect(self, directory: Path) -> Detection | None:
        files = [path for path in candidate_files(directory) if path.suffix == ".sql"]
        named = [path for path in files if FILE.match(path.name)]
        if not named or len(named) < len(files) / 2:
            return None
        separated = sum(1 for path in named if SEPARATOR in read_sql(path))
        if separated:
            return Detection(score=88, reason=f"{files_named(len(named), self.naming_hint)}, {separated} with tern's"
                                              " ---- create above / drop below ----")
        configured = (directory / "tern.conf").is_file() or (directory.parent / "tern.conf").is_file()
        if configured or any(m == MODULE or m.startswith(MODULE + "/v") for m in module_requirements(directory) or []):
            why = "tern.conf" if configured else f"{MODULE} in go.mod"
            return Detection(score=88, reason=f"{files_named(len(named), self.naming_hint)}, {why}")
        return None

    def held_directories(self, directory: Path) -> list[Path]:
        # Shared templates (`{{ template "shared/x.sql" . }}`) and snapshots: tern reads none as a migration.
        return candidate_directories_in(directory)

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        for path in candidate_files(directory):
            if path.suffix.lower() != ".sql":
                continue
            match = FILE.match(path.name)
            if match is None:
                stray.append(StrayFile(path, f"not {self.naming_hint}: tern skips it"))
                continue
            migrations.append(_migration(path, match))
        migrations.sort(key=lambda m: m.sort_key)
        return Discovery(migrations, stray + _out_of_sequence(migrations))

    def missing_rollback_hint(self, migration: Migration) -> str | None:
        return f"the statements that undo it after a `{SEPARATOR}` line (tern refuses to roll back a file without one)"

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        numbers = [int(match["number"]) for path in candidate_files(directory) if (match := FILE.match(path.name))]
        return {directory / f"{max(numbers, default=0) + 1:03d}_{name}.sql": f"-- {name}\n\n{SEPARATOR}\n\n"}


def _migration(path: Path, match: re.Match[str]) -> Migration:
    number = int(match["number"])
    text = read_sql(path)
    key = (number, path.name)
    if (action := template_action(text)) is not None:
        return Migration(str(number), match["name"], key, up=None, files=(path,), label=path.stem,
                         skip_reason=f"line {action[0]} is a Go template action tern renders with the [data] of"
                                     f" tern.conf ({action[1]}): the file is not replayed")
    lines = split_lines(text)
    at = next((index for index, line in enumerate(lines) if SEPARATOR in line), len(lines))
    up = section(path, lines, 0, at, _transaction("".join(lines[:at])))
    down_text = "".join(lines[at + 1:])
    down = section(path, lines, at + 1, len(lines), _transaction(down_text)) if down_text.strip() else None
    return Migration(str(number), match["name"], key, up=up, down=down, files=(path,), label=path.stem)


def _transaction(text: str) -> Transaction:
    return Transaction.NONE if DISABLE_TX.search(text) else Transaction.WRAPPED


def _out_of_sequence(migrations: list[Migration]) -> list[StrayFile]:
    """Where the numbers stop being 1, 2, 3, ...: tern stops there, before any migration runs."""
    for expected, migration in enumerate(migrations, start=1):
        if int(migration.version) > expected:
            return [StrayFile(migration.files[0], f"its number is {migration.version} where tern expects {expected}:"
                                                  f" tern runs no migration (Missing migration {expected})",
                              refused=True, misread=True)]
    return []
