"""sqlx (Rust): `<version>_<description>.sql`, or reversible `.up.sql` and `.down.sql` pairs.

Rules, as sqlx's migration source reads a directory (sqlx-core `migrate/source.rs`):
- A file is a migration when its name splits at its first `_` into a version and a description
  ending in `.sql`; other files are ignored. The version must parse as an i64, or sqlx refuses the
  whole directory: such a file is a naming failure here.
- `<description>.up.sql` and `.down.sql` are one reversible migration; any other `.sql` is a
  simple, forward-only one. A project of simple migrations has no rollbacks (RollbackPolicy.ABSENT).
  In one with reversible migrations a rollback is optional: `sqlx migrate revert` (sqlx-cli
  `migrate.rs`, and the Migrator's `undo`) skips every migration without a `.down.sql`, a simple one
  or an `.up.sql` alone, and reverts the newest one that has one; quickwit-oss/quickwit keeps three
  `.up.sql` without it. The round trip of such a migration is skipped, saying so.
- Migrations run in version order, each in a transaction unless its text starts with
  `-- no-transaction`.
- The history table is `_sqlx_migrations`, by version.

Detection needs sqlx's own mark beside the files' convention, which the timestamp layout shares:
a Cargo.toml that depends on sqlx, or sqlx's offline data (`.sqlx/`, `sqlx-data.json`), in the
directory's parent or above it. Files with dbmate's or goose's markers, diesel's directories and
`supabase/migrations` stay those runners': sqlx may serve only the queries.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    FileRole,
    Layout,
    files_named,
    pair_forward_and_rollback,
    repository_root,
    utc_timestamp,
    with_transactions,
)
from migration_check.discovery.listing import candidate_files
from migration_check.model import Migration, RollbackPolicy, Script, Transaction

NO_TRANSACTION = "-- no-transaction"
# How far up from the migrations directory sqlx's marks are looked for (a workspace member's
# Cargo.toml is the directory's parent; a workspace root is a few levels up).
MARK_LEVELS = 4
I64_MAX = 2**63 - 1


class SqlxLayout(Layout):
    name = "sqlx"
    description = "<version>_<description>.sql (sqlx), or .up.sql/.down.sql pairs"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("migrations",)
    naming_pattern = r"^[+-]?\d+_.*\.sql$"
    naming_hint = "<version>_<description>.sql (an integer version)"
    strict_naming_pattern = r"^\d{14}_[a-z][a-z0-9]*(_[a-z0-9]+)*(\.(up|down))?\.sql$"
    strict_naming_hint = "YYYYMMDDHHMMSS_snake_case_description.sql (or .up.sql/.down.sql)"
    numeric_versions = True
    bookkeeping = bookkeeping.SQLX
    edited_refusal = ("sqlx checksums the file, so it refuses to migrate databases that ran it, even over a comment"
                      " (\"migration {version} was previously applied but has been modified\")")
    sends_scripts_whole = True  # the file is one query in the runner's transaction
    transaction_opt_out = "run it outside one, with `-- no-transaction` as the file's first line (sqlx 0.7+)"

    def detect(self, directory: Path) -> Detection | None:
        if directory.name == "migrations" and directory.parent.name == "supabase":
            return None  # the Supabase CLI's place, whatever else the repository uses
        # The files first: the tree search asks every directory, and most hold none of these.
        matched = [p for p in candidate_files(directory) if classify(p)]
        mark = sqlx_mark(directory) if matched else None
        if mark is None:
            return None
        # Below the layouts known by markers in the files (dbmate, goose, Flyway: 90) or by their
        # own directories (diesel: 85): sqlx in Cargo.toml may serve only queries.
        return Detection(score=82, reason=files_named(len(matched), "<version>_<description>.sql") + f", {mark}")

    def discover(self, directory: Path) -> Discovery:
        found = pair_forward_and_rollback(directory, classify, "sqlx ignores it: not <version>_<description>.sql",
                                          pair_key=lambda role: (int(role.version),))
        # A `_`-named .sql whose version is no integer stops sqlx ("invalid digit"): refused.
        found.stray_files = [dataclasses.replace(stray, refused=_refused(stray.path)) for stray in found.stray_files]
        found.migrations = [with_transactions(m, _transaction) for m in found.migrations]
        reversible = any(p.name.endswith((".up.sql", ".down.sql")) for m in found.migrations for p in m.files)
        found.rollback_policy = RollbackPolicy.OPTIONAL if reversible else RollbackPolicy.ABSENT
        return found

    def no_rollback_reason(self, migration: Migration) -> str | None:
        if migration.main_file is not None and migration.main_file.name.endswith(".up.sql"):
            return ("no .down.sql: `sqlx migrate revert` skips it and reverts the newest applied migration that has"
                    " one, leaving this one applied")
        return "a simple migration: sqlx never reverts it (`sqlx migrate revert` skips it)"

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        stem = f"{utc_timestamp(now)}_{name}"
        if any(p.name.endswith(".up.sql") for p in candidate_files(directory)):  # a reversible project
            return {directory / f"{stem}.up.sql": f"-- {name}\n", directory / f"{stem}.down.sql": f"-- rollback of {stem}\n"}
        return {directory / f"{stem}.sql": f"-- {name}\n"}


def _shape(path: Path) -> tuple[str, str] | None:
    """(version, description) of a name sqlx takes for a migration's, `<x>_<y>.sql`, else None."""
    version, underscore, description = path.name.partition("_")
    return (version, description) if underscore and description.endswith(".sql") else None


def classify(path: Path) -> FileRole | None:
    shape = _shape(path)
    if shape is None or not _integer(shape[0]):
        return None
    version, description = shape
    if description.endswith(".down.sql"):
        return FileRole(version, description.removesuffix(".down.sql"), rollback=True)
    return FileRole(version, description.removesuffix(".up.sql").removesuffix(".sql"), rollback=False)


def sqlx_mark(directory: Path) -> str | None:
    """What shows the directory is sqlx's: a Cargo.toml that depends on sqlx, or its offline data."""
    root = repository_root(directory)
    for folder in [directory.parent, *directory.parent.parents][:MARK_LEVELS]:
        for offline in (".sqlx", "sqlx-data.json"):
            if (folder / offline).exists():
                return f"sqlx's offline data ({_named(folder, offline, root)})"
        cargo = folder / "Cargo.toml"
        try:
            if cargo.is_file() and "sqlx" in cargo.read_text(encoding="utf-8", errors="replace"):
                return f"{_named(folder, 'Cargo.toml', root)} depends on sqlx"
        except OSError:
            continue
    return None


def _named(folder: Path, leaf: str, root: Path | None) -> str:
    """`leaf` in `folder` as a message names it: from the repository's root (`Cargo.toml` at the root,
    `api-service/Cargo.toml`), or by its folder's name outside a repository."""
    if root is not None and folder.is_relative_to(root):
        inside = folder.relative_to(root).as_posix()
        return leaf if inside == "." else f"{inside}/{leaf}"
    return f"{folder.name}/{leaf}" if folder.name else leaf


def _refused(path: Path) -> bool:
    shape = _shape(path)
    return shape is not None and not _integer(shape[0])


def _integer(version: str) -> bool:
    digits = version.removeprefix("-").removeprefix("+")
    return digits.isdigit() and int(version) <= I64_MAX


def _transaction(script: Script) -> Transaction:
    """Each file runs in a transaction of sqlx's own, unless `-- no-transaction` starts it (sqlx 0.7+)."""
    return Transaction.NONE if script.sql.startswith(NO_TRANSACTION) else Transaction.WRAPPED

