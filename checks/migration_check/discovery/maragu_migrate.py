"""maragu.dev/migrate (formerly github.com/maragudk/migrate): `<name>.up.sql` and `<name>.down.sql`,
embedded in Go code that imports the package.

Rules, as migrate.go applies them:
- A file is an up when its name matches `^([\\w-]+).up.sql$` and a down when it matches
  `^([\\w-]+).down.sql` (Go's regexps, `.` unescaped: `0021_add_internal_up.sql` is the up of
  version `0021_add_internal` too). The version is the whole captured name, compared as text.
- Files run in the order fs.ReadDir gives them, their names as text; an up whose version is not
  above the current one is skipped (so of two files with one version only the first runs).
- Each migration runs in a transaction, with the history table's update: the file is one Exec.
- The history table (`migrations` unless Options.Table says otherwise) holds one row, the current
  version as text; a rollback sets it to the previous down file's version.
- A down walks the down files only: a migration without one is not undone (its empty rollback is
  what the round trip judges, unless no migration has a down file).

The name pattern matches golang-migrate's files too: the layout is chosen where Go code in the
directory, or up to two levels above it, imports the package (harness/gitness).
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    FileRole,
    Layout,
    files_named,
    implicit_empty_downs,
    pair_forward_and_rollback,
    with_transactions,
)
from migration_check.discovery.golang_migrate import up_and_down_files
from migration_check.discovery.listing import candidate_files
from migration_check.model import RollbackPolicy, Transaction

# Go's \w is ASCII: [0-9A-Za-z_].
UP = re.compile(r"^(?P<version>[0-9A-Za-z_-]+).up\.sql$")
DOWN = re.compile(r"^(?P<version>[0-9A-Za-z_-]+).down\.sql")
IMPORTS = ('"maragu.dev/migrate"', '"github.com/maragudk/migrate"')
# How far above the migrations the Go code that embeds them is looked for.
GO_CODE_LEVELS = 2


class MaraguMigrateLayout(Layout):
    name = "maragu-migrate"
    description = "<name>.up.sql / .down.sql read by maragu.dev/migrate"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations", "sql/migrations", "db/migrations")
    naming_pattern = r"^[0-9A-Za-z_-]+.(up\.sql|down\.sql.*)$"
    naming_hint = "<name>.up.sql / .down.sql (letters, digits, _ and -)"
    file_name_order = True
    identity = "text"
    bookkeeping = bookkeeping.MARAGU_MIGRATE
    transaction_how = "runs each migration in a transaction, with its history row"
    sends_scripts_whole = True  # the file is one query in the runner's transaction
    transaction_opt_out = ("maragu.dev/migrate has no way to run a file outside its transaction: run the statement"
                           " outside the migrations")
    duplicate_refusal = ("maragu.dev/migrate runs only the first of them, in file-name order: it skips a version"
                         " not above the current one")

    def detect(self, directory: Path) -> Detection | None:
        matched = [p for p in candidate_files(directory) if classify(p)]
        if not matched:
            return None
        importer = importing_code(directory)
        if importer is None:
            return None
        return Detection(score=80, reason=files_named(len(matched), "<name>.up.sql/.down.sql") + ", read by"
                                          f" maragu.dev/migrate ({importer} imports it)")

    def discover(self, directory: Path) -> Discovery:
        found = pair_forward_and_rollback(directory, classify, f"maragu.dev/migrate ignores it: not {self.naming_hint}",
                                          pair_key=lambda role: (role.version,))
        # fs.ReadDir's order: the file names as text; each file in the transaction of its history row.
        migrations = [dataclasses.replace(m, sort_key=(m.up.path.name if m.up else m.version,)) for m in found.migrations]
        found.migrations = sorted((with_transactions(m, lambda _script: Transaction.WRAPPED) for m in migrations),
                                  key=lambda m: m.sort_key)
        return implicit_empty_downs(found)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return up_and_down_files(directory, f"{int(now.timestamp())}-{name}", name)  # as `migrate create` names them


def classify(path: Path) -> FileRole | None:
    if match := UP.match(path.name):
        return FileRole(match["version"], "", rollback=False)
    if match := DOWN.match(path.name):
        return FileRole(match["version"], "", rollback=True)
    return None


def importing_code(directory: Path, imports: tuple[str, ...] = IMPORTS) -> str | None:
    """The Go file, in the directory or up to GO_CODE_LEVELS above it, that imports the package
    (one of `imports`, quoted as Go writes them)."""
    place = directory
    for _level in range(GO_CODE_LEVELS + 1):
        for source in sorted(place.glob("*.go")):
            try:
                text = source.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if any(name in text for name in imports):
                return os.path.relpath(source, directory)
        if place.parent == place:
            break
        place = place.parent
    return None
