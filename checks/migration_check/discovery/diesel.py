"""diesel and other per-directory layouts: `migrations/<version>_<name>/up.sql` and `down.sql`.

diesel writes `migrations/2024-01-01-000000_create_users/`, with the forward script in `up.sql` and
the rollback in `down.sql` (Hasura's, beside its config.yaml, are hasura.py's).

Rules, as diesel applies them:
- The version is the directory name before its first `_`, without the dashes
  (`2024-01-01-000000` is version `20240101000000`); migrations run in version order, the
  versions compared as text (diesel's MigrationVersion is a string): `2026-02-12-064859-0000`
  (18 digits) runs before `2026-03-13-200000`, as the dates say, not after it as a number.
- Each migration runs in a transaction unless its `metadata.toml` says
  `run_in_transaction = false` (diesel 2), which becomes `Transaction.NONE` for both scripts.
- A directory without `up.sql` is stray; one without `down.sql` has no rollback (the pairing
  check reports it).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, read_sql
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.errors import read_utf8
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

FOLDER = re.compile(r"^(?P<version>[\d-]*\d)_(?P<name>.+)$")
METADATA = "metadata.toml"


class DieselLayout(Layout):
    name = "diesel"
    description = "<version>_<name>/up.sql and down.sql (diesel)"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs = ("migrations", "db/migrations")
    # diesel_migrations: the version is the directory name up to its first `_`, dashes removed;
    # any name follows. Files beside the directories are ignored.
    naming_pattern = r"^[\d-]*\d_[^/]+/(up|down)\.sql$"
    naming_hint = "<version>_<name>/up.sql and down.sql"
    strict_naming_pattern = r"^(\d{4}-\d{2}-\d{2}-\d{6}|\d{14})_[a-z][a-z0-9]*(_[a-z0-9]+)*/(up|down)\.sql$"
    strict_naming_hint = "YYYY-MM-DD-HHMMSS_snake_case_name/up.sql and down.sql"
    bookkeeping = bookkeeping.DIESEL
    sends_scripts_whole = True  # the file is one query in the runner's transaction
    transaction_opt_out = "run it outside one, with `run_in_transaction = false` in the migration's metadata.toml"

    migrations_are_directories = True
    identity = "text"  # __diesel_schema_migrations holds the version as text
    file_name_order = True  # versions compare as text: diesel's one order, no other to warn about

    def detect(self, directory: Path) -> Detection | None:
        found = [d for d in candidate_directories_in(directory) if (d / "up.sql").is_file()]
        if not found:
            return None
        why = f"{len(found)} directories <version>_<name>/ with up.sql"
        if (directory.parent / "diesel.toml").is_file():
            why += ", diesel.toml"
        return Detection(score=85, reason=why)

    def discover(self, directory: Path) -> Discovery:
        migrations, stray = [], []
        for path in candidate_files(directory):
            stray.append(StrayFile(path, "diesel ignores files beside the migration directories"))
        for folder in candidate_directories_in(directory):
            match = FOLDER.match(folder.name)
            up = folder / "up.sql"
            if not match or not up.is_file():
                stray.append(StrayFile(folder, f"not a migration directory ({self.naming_hint})"))
                continue
            down = folder / "down.sql"
            transaction = _transaction(folder / METADATA)
            version = match["version"].replace("-", "")
            migrations.append(Migration(
                version=version,
                name=match["name"],
                sort_key=(version, match["name"]),
                up=Script(up, read_sql(up), transaction=transaction),
                down=Script(down, read_sql(down), transaction=transaction) if down.is_file() else None,
                files=(up,) + ((down,) if down.is_file() else ()),
                label=folder.name,
            ))
        migrations.sort(key=lambda m: m.sort_key)
        return Discovery(migrations, stray)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        folder = directory / f"{now.strftime('%Y-%m-%d-%H%M%S')}_{name}"
        return {folder / "up.sql": f"-- {name}\n", folder / "down.sql": f"-- rollback of {name}\n"}


def _transaction(metadata: Path) -> Transaction:
    """`run_in_transaction = false` in diesel's per-migration metadata.toml."""
    if not metadata.is_file():
        return Transaction.WRAPPED
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the one key diesel defines, read by hand
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "run_in_transaction" and value.strip().lower() == "false":
                return Transaction.NONE
        return Transaction.WRAPPED
    try:
        data = tomllib.loads(read_utf8(metadata))
    except tomllib.TOMLDecodeError as exc:
        from migration_check.errors import FileError

        raise FileError(metadata, getattr(exc, "lineno", None), f"invalid TOML: {exc}") from None
    return Transaction.NONE if data.get("run_in_transaction") is False else Transaction.WRAPPED
