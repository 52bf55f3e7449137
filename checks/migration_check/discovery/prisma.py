"""Prisma Migrate: `prisma/migrations/<timestamp>_<name>/migration.sql` and `migration_lock.toml`.

Rules, as `prisma migrate deploy` applies them:
- One directory per migration, applied in the order of the directory names (they start with a
  UTC timestamp, `20240101120000_init`). The version is the part before the first `_`.
- Forward-only: Prisma has no down migrations (RollbackPolicy.ABSENT), so each migration gets the
  apply test case and its rollback cases are skipped with the reason.
- `migration_lock.toml` (the provider lock) marks the directory as Prisma's; other files and
  directories without a `migration.sql` are reported as stray, except a directory holding a data
  migration in code (`migration.ts`/`.js`), which a project's own runner applies in its place: a
  migration skipped with that reason. A provider other than postgresql
  (mysql, sqlite, sqlserver, cockroachdb) is a FileError at its line: the migrations are another
  database's SQL.
- How a migration.sql runs depends on Prisma's version (schema-engine's postgres connector):
  up to 6.x it is sent whole, as one simple query, which PostgreSQL runs as one implicit
  transaction when it holds several statements (Transaction.ONE_QUERY: a CREATE INDEX
  CONCURRENTLY beside another statement fails, as prisma/prisma#14456 reports); since
  prisma-engines#5767 (7.4/7.5) it is split into statements, each run on its own
  (Transaction.NONE). The version is read from the project's lock file or package.json
  (node_packages.py); where it is unknown, or 7.0 to 7.4, the executor decides (one transaction
  unless a statement refuses one), which fails neither behaviour's accepted scripts.
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
    read_sql,
    setting_line,
    utc_timestamp,
    version_sort_key,
)
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.discovery.node_packages import versions_of
from migration_check.errors import FileError
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

LOCK = "migration_lock.toml"
SCRIPT = "migration.sql"
# A directory with a data migration in code instead of SQL (formbricks: `migration.ts`, built to
# `migration.js`): Prisma itself refuses it (P3015), so a project that keeps them runs its own
# runner, which applies both kinds in directory-name order (`prisma migrate deploy` for the SQL).
CODE_MIGRATIONS = ("migration.ts", "migration.js")
CODE_SKIP = "a data migration in code ({file}): the project's own runner runs it, it is not SQL that can be replayed"


class PrismaLayout(Layout):
    name = "prisma"
    description = "prisma/migrations/<timestamp>_<name>/migration.sql (forward-only)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("prisma/migrations",)
    # Prisma reads every directory of prisma/migrations that holds a migration.sql, in name order,
    # and records it by the whole directory name.
    naming_pattern = r"^[^/]+/migration\.(sql|ts|js)$"  # .ts/.js: a data migration (CODE_MIGRATIONS)
    naming_hint = "<directory>/migration.sql"
    strict_naming_pattern = r"^\d{14}_[a-z0-9_]+/migration\.(sql|ts|js)$"
    strict_naming_hint = "<timestamp>_<snake_case_name>/migration.sql"
    bookkeeping = bookkeeping.PRISMA

    migrations_are_directories = True
    identity = "id"  # two directories with one timestamp are two migrations to Prisma
    file_name_order = True
    transaction_how = ("sends each migration.sql as one query (up to Prisma 6), which PostgreSQL runs as one"
                       " transaction when it holds several statements")
    transaction_opt_out = ("put the statement in a migration of its own (Prisma 7.5 and later run a migration's"
                           " statements one by one)")

    def detect(self, directory: Path) -> Detection | None:
        found = [d for d in candidate_directories_in(directory) if (d / SCRIPT).is_file()]
        locked = (directory / LOCK).is_file()
        if not found and not locked:
            return None
        why = f"{len(found)} <timestamp>_<name>/migration.sql directories"
        return Detection(score=95, reason=f"{LOCK} and {why}") if locked else Detection(score=60, reason=why)

    def discover(self, directory: Path) -> Discovery:
        _postgresql_provider(directory / LOCK)
        transaction = transaction_of(directory)
        migrations, stray = [], []
        for path in candidate_files(directory):
            if path.name != LOCK:
                stray.append(StrayFile(path, "Prisma ignores files beside the migration directories"))
        for folder in candidate_directories_in(directory):
            script = folder / SCRIPT
            version, _, name = folder.name.partition("_")
            key = (folder.name,) + version_sort_key(version)  # Prisma orders by the directory name itself
            if script.is_file():
                migrations.append(Migration(version=version, name=name, sort_key=key, files=(script,),
                                            up=Script(script, read_sql(script), transaction=transaction)))
            elif (code := next((folder / f for f in CODE_MIGRATIONS if (folder / f).is_file()), None)) is not None:
                # the project's own runner interleaves it (see CODE_MIGRATIONS)
                migrations.append(Migration(version=version, name=name, sort_key=key, up=None, files=(code,),
                                            skip_reason=CODE_SKIP.format(file=code.name)))
            else:
                stray.append(StrayFile(folder, f"no {SCRIPT} in this directory (Prisma refuses it)", refused=True))
        migrations.sort(key=lambda m: m.sort_key)
        return Discovery(migrations, stray)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{utc_timestamp(now)}_{name}" / SCRIPT: f"-- {name}\n"}


# The Prisma versions whose migrate sends a migration whole, and from which it splits it.
SENT_WHOLE_BELOW = (7, 0, 0)
SPLIT_FROM = (7, 5, 0)


def transaction_of(directory: Path) -> Transaction:
    """How the project's Prisma runs a migration.sql, from the version it installs."""
    versions = versions_of("prisma", directory) or versions_of("@prisma/client", directory)
    if versions is not None and versions.all_below(SENT_WHOLE_BELOW):
        return Transaction.ONE_QUERY
    if versions is not None and versions.all_at_least(SPLIT_FROM):
        return Transaction.NONE
    return Transaction.AUTO


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
