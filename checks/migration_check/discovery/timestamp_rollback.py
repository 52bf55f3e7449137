"""`YYYYMMDDHHMMSS_snake_name.sql` with `YYYYMMDDHHMMSS_snake_name_rollback.sql` beside it.

The seed convention, with a rollback file added by teams that want every migration to be
reversible: once a project keeps one, every migration needs one; a project that keeps none runs
its scripts forward only, and is not asked for any. Under `supabase/migrations/` the same files
are reported as the `supabase` layout.

Rules: the version is the leading digits, then `_` (or `-`) and the name; files run in version
order; `<same stem>_rollback.sql` is the rollback. Files of other layouts that share the digits
prefix (golang-migrate `.up.sql`/`.down.sql`, yoyo `.rollback.sql`) are not ours. Detection scores
low (50, 60 with rollback files) so that layouts recognised by their contents (dbmate, goose)
win on the same files. Only a directory whose versions are mostly 14-digit timestamps is claimed:
numbered scripts (`001_x.sql`) follow no timestamp convention and are the numbered layout's, which
asks no naming convention of them.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from migration_check.discovery.base import (
    Detection,
    Discovery,
    FileRole,
    Layout,
    files_named,
    pair_forward_and_rollback,
    utc_timestamp,
)
from migration_check.discovery.listing import candidate_files
from migration_check.model import RollbackPolicy

# Lenient on purpose: the naming check, not discovery, decides whether a name is well formed.
FILE = re.compile(r"^(?P<version>\d+)[_-](?P<name>.+?)(?P<rollback>_rollback)?\.sql$", re.IGNORECASE)
ROLLBACK_SUFFIX = "_rollback"
TIMESTAMP_DIGITS = 14


class TimestampRollbackLayout(Layout):
    name = "timestamp"
    description = "YYYYMMDDHHMMSS_name.sql with YYYYMMDDHHMMSS_name_rollback.sql"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs: ClassVar[tuple[str, ...]] = ("supabase/migrations", "migrations", "db/migrations")
    timestamp_versions = True
    naming_pattern = r"^\d{14}_[a-z][a-z0-9]*(_[a-z0-9]+)*(_rollback)?\.sql$"
    naming_hint = "YYYYMMDDHHMMSS_snake_case_name.sql (and ..._rollback.sql)"
    # Whether a directory of versions that are no timestamps is this layout's too (its runner's
    # place says so: supabase/migrations).
    any_number: ClassVar[bool] = False

    def detect(self, directory: Path) -> Detection | None:
        files = [p for p in candidate_files(directory) if p.suffix.lower() == ".sql"]
        roles = [role for role in map(classify, files) if role]
        if not roles or len(roles) < len(files) / 2:
            return None
        # Numbered scripts (`001_x.sql`) follow no timestamp convention: the numbered layout's.
        stamped = sum(1 for role in roles if len(role.version) == TIMESTAMP_DIGITS)
        if not self.any_number and stamped < len(roles) / 2:
            return None
        rollbacks = sum(1 for role in roles if role.rollback)
        why = files_named(len(roles), "<timestamp>_<name>.sql")
        if rollbacks:
            why += f", {rollbacks} of them _rollback.sql"
        return Detection(score=50 + (10 if rollbacks else 0), reason=why)

    def discover(self, directory: Path) -> Discovery:
        found = pair_forward_and_rollback(directory, classify, f"does not match {self.naming_hint}", refuse_stray_sql=True)
        # A project that keeps no rollback file at all runs its scripts forward only (psql in a
        # loop, the Supabase CLI): asking each for one would fail what its runner accepts.
        keeps_rollbacks = any(m.down for m in found.migrations) or bool(found.orphan_rollbacks)
        found.rollback_policy = RollbackPolicy.REQUIRED if keeps_rollbacks else RollbackPolicy.ABSENT
        return found

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        stem = f"{utc_timestamp(now)}_{name}"
        return {
            directory / f"{stem}.sql": f"-- {name}\n",
            directory / f"{stem}{ROLLBACK_SUFFIX}.sql": f"-- rollback of {stem}.sql\n",
        }


def classify(path: Path) -> FileRole | None:
    lowered = path.name.lower()
    if lowered.endswith((".up.sql", ".down.sql", ".rollback.sql")):
        return None  # golang-migrate's and yoyo's files, never ours
    match = FILE.match(path.name)
    if not match:
        return None
    return FileRole(match["version"], match["name"], rollback=bool(match["rollback"]))
