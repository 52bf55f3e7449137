"""uptrace/bun's migrate package: `<name>_<comment>.up.sql` and `.down.sql` (`.tx.up.sql` and
`.tx.down.sql` in a transaction), and Go migrations registered from files named so, in Go code that
imports github.com/uptrace/bun/migrate.

Rules, as migrate/migrations.go and migration.go apply them:
- `Migrations.Discover` takes every file whose name ends in `.up.sql` or `.down.sql`; its name must
  match `^(\\d{1,14})_([0-9a-z_\\-]+)\\.`, or Discover fails and no migration runs: a naming failure
  here. The migration's name is the digits, its comment what follows up to the first dot.
- Migrations run in the order of their names as text.
- A file's text is cut at its `--bun:split` lines: each piece is one query, sent on its own (a
  piece of several statements runs as one implicit transaction; `CREATE INDEX CONCURRENTLY` alone in
  its piece runs outside any). A file whose name ends in `.tx.up.sql` or `.tx.down.sql` runs its
  pieces in one transaction. A `--bun:` line other than `--bun:split` fails the migration
  ("unknown directive").
- A migration without a down file rolls back by running nothing, as golang-migrate's does.
- A Go migration (`<name>_<comment>.go` calling `Register` or `MustRegister`) is code: not replayed.
- The history table is `bun_migrations`, beside `bun_migration_locks`.

The file names match golang-migrate's too: the layout is chosen where Go code in the directory, or
up to two levels above it, imports the package.
"""

from __future__ import annotations

import dataclasses
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
    read_head,
    with_transactions,
)
from migration_check.discovery.golang_migrate import up_and_down_files
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.maragu_migrate import importing_code
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, Transaction

NAME = re.compile(r"^(\d{1,14})_([0-9a-z_\-]+)\.")
IMPORTS = ('"github.com/uptrace/bun/migrate"',)
DIRECTIVE = re.compile(r"^--bun:(.*)$", re.MULTILINE)  # (a line the runner reads, not SQL)
GO_SKIP = "Go migration: bun's migrate package runs it as Go code, it is not SQL that can be replayed"


class BunMigrateLayout(Layout):
    name = "bun-migrate"
    description = "<name>_<comment>.up.sql / .down.sql (.tx. in a transaction) read by uptrace/bun's migrate"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations", "cmd/migrations", "db/migrations")
    naming_pattern = r"^\d{1,14}_[0-9a-z_\-]+\.(.*\.)?(up|down)\.sql$|^\d{1,14}_[0-9a-z_\-]+\.go$"
    naming_hint = "<digits>_<comment>.up.sql / .down.sql (the comment in lower case letters, digits, _ and -)"
    file_name_order = True
    identity = "text"  # bun_migrations records the name's digits as text
    bookkeeping = bookkeeping.BUN
    transaction_how = "sends each piece of a file between `--bun:split` lines as one query, in a transaction for .tx. files"
    transaction_opt_out = "run it outside one: put it alone between `--bun:split` lines, in a file whose name has no .tx."
    duplicate_refusal = "bun's migrate refuses them all (\"duplicate migration ID\") where their comments differ"

    def detect(self, directory: Path) -> Detection | None:
        matched = [p for p in candidate_files(directory) if classify(p)]
        if not matched or (importer := importing_code(directory, IMPORTS)) is None:
            return None
        return Detection(score=80, reason=files_named(len(matched), "<name>_<comment>.up.sql/.down.sql") + ", read by"
                                          f" uptrace/bun's migrate ({importer} imports it)")

    def discover(self, directory: Path) -> Discovery:
        found = pair_forward_and_rollback(directory, classify, "bun's migrate ignores it: not .up.sql or .down.sql",
                                          pair_key=lambda role: (role.version,))
        found.stray_files = [dataclasses.replace(stray, refused=True, reason=f"bun's migrate refuses every migration:"
                                                 f" unsupported migration name format {stray.path.name!r}")
                             if stray.path.name.endswith((".up.sql", ".down.sql")) else stray
                             for stray in found.stray_files if stray.path.suffix != ".go"]  # (the code that embeds them)
        found.migrations += [_code_migration(path) for path in candidate_files(directory) if _go_migration(path)]
        # sortAsc: by name, as text (`10_x` before `9_y`)
        found.migrations = sorted((dataclasses.replace(with_transactions(m, _transaction), sort_key=(m.version, m.name))
                                   for m in found.migrations), key=lambda m: m.sort_key)
        found.refusals = [Refusal(script.path, script.first_line + script.sql[:at.start()].count("\n"),
                                  f"bun's migrate fails the migration: unknown directive {at.group(1)!r}")
                          for m in found.migrations for script in (m.up, m.down) if script is not None
                          for at in DIRECTIVE.finditer(script.sql) if at.group(1).strip() != "split"]
        return implicit_empty_downs(found)

    def history_tables(self, directory: Path) -> frozenset[str]:
        return frozenset({bookkeeping.BUN.table, "public.bun_migration_locks"})

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return up_and_down_files(directory, f"{now.strftime('%Y%m%d%H%M%S')}_{name.lower()}", name)


def classify(path: Path) -> FileRole | None:
    if not path.name.endswith((".up.sql", ".down.sql")) or (match := NAME.match(path.name)) is None:
        return None
    return FileRole(match[1], match[2], rollback=path.name.endswith(".down.sql"))


def _go_migration(path: Path) -> bool:
    return path.suffix == ".go" and NAME.match(path.name) is not None and "Register(" in read_head(path)


def _code_migration(path: Path) -> Migration:
    match = NAME.match(path.name)
    assert match is not None
    return Migration(match[1], match[2], (match[1], match[2]), up=None, files=(path,), skip_reason=GO_SKIP)


def _transaction(script: Script) -> Transaction:
    """A .tx. file in one transaction; else each piece between `--bun:split` lines as one query: the
    whole file where it has none, each statement on its own where it has (a piece of several
    statements, one implicit transaction there, is not told apart here)."""
    if script.path.name.endswith((".tx.up.sql", ".tx.down.sql")):
        return Transaction.WRAPPED
    return Transaction.NONE if any(at.group(1).strip() == "split" for at in DIRECTIVE.finditer(script.sql)) \
        else Transaction.ONE_QUERY
