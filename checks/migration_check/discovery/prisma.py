"""Prisma Migrate: `prisma/migrations/<timestamp>_<name>/migration.sql` and `migration_lock.toml`.

Rules, as `prisma migrate deploy` applies them:
- One directory per migration, applied in the order of the directory names (they start with a
  UTC timestamp, `20240101120000_init`). The version is the part before the first `_`.
- Forward-only: Prisma has no down migrations (RollbackPolicy.ABSENT), so each migration gets the
  apply test case and its rollback cases are skipped with the reason.
- `migration_lock.toml` (the provider lock) marks the directory as Prisma's; other files and
  directories without a `migration.sql` are reported as stray. A provider other than postgresql
  (mysql, sqlite, sqlserver, cockroachdb) is a FileError at its line: the migrations are another
  database's SQL.
- Each migration.sql is sent as one script; the executor runs it in one transaction unless it
  holds statements PostgreSQL refuses in one.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    candidate_directories_in,
    candidate_files,
    read_sql,
    setting_line,
    utc_timestamp,
    version_sort_key,
)
from migration_check.errors import FileError
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile

LOCK = "migration_lock.toml"
SCRIPT = "migration.sql"


class PrismaLayout(Layout):
    name = "prisma"
    description = "prisma/migrations/<timestamp>_<name>/migration.sql (forward-only)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("prisma/migrations",)
    # Prisma reads every directory of prisma/migrations that holds a migration.sql, in name order,
    # and records it by the whole directory name.
    naming_pattern = r"^[^/]+/migration\.sql$"
    naming_hint = "<directory>/migration.sql"
    strict_naming_pattern = r"^\d{14}_[a-z0-9_]+/migration\.sql$"
    strict_naming_hint = "<timestamp>_<snake_case_name>/migration.sql"
    bookkeeping = bookkeeping.PRISMA

    identity = "id"  # two directories with one timestamp are two migrations to Prisma
    file_name_order = True

    def detect(self, directory: Path) -> Detection | None:
        found = [d for d in candidate_directories_in(directory) if (d / SCRIPT).is_file()]
        locked = (directory / LOCK).is_file()
        if not found and not locked:
            return None
        why = f"{len(found)} <timestamp>_<name>/migration.sql directories"
        return Detection(score=95, reason=f"{LOCK} and {why}") if locked else Detection(score=60, reason=why)

    def discover(self, directory: Path) -> Discovery:
        _postgresql_provider(directory / LOCK)
        migrations, stray = [], []
        for path in candidate_files(directory):
            if path.name != LOCK:
                stray.append(StrayFile(path, "Prisma ignores files beside the migration directories"))
        for folder in candidate_directories_in(directory):
            script = folder / SCRIPT
            if not script.is_file():
                stray.append(StrayFile(folder, f"no {SCRIPT} in this directory (Prisma refuses it)", refused=True))
                continue
            version, _, name = folder.name.partition("_")
            migrations.append(Migration(
                version=version,
                name=name,
                # Prisma orders by the directory name itself
                sort_key=(folder.name,) + version_sort_key(version),
                up=Script(script, read_sql(script)),
                files=(script,),
            ))
        migrations.sort(key=lambda m: m.sort_key)
        return Discovery(migrations, stray)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{utc_timestamp(now)}_{name}" / SCRIPT: f"-- {name}\n"}


def _postgresql_provider(lock: Path) -> None:
    """A FileError when the provider lock names another database (an unreadable lock names none)."""
    try:
        text = lock.read_text(encoding="utf-8")
        provider = str(tomllib.loads(text).get("provider", "postgresql"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    if provider not in ("postgresql", "postgres"):
        raise FileError(lock, setting_line(lock, "provider"), f'provider = "{provider}": these migrations are written for'
                        " another database; migration-check replays PostgreSQL migrations")
