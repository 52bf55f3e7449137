r"""Supabase: the timestamp layout under `supabase/migrations/`, reported as format `supabase`.

    supabase/migrations/20250906120000_add_user_preferences.sql
    supabase/migrations/20250906120000_add_user_preferences_rollback.sql   (optional)

Rules:
- Files are the timestamp layout's, `<timestamp>_<name>.sql`, applied in file-name order as text
  (pkg/migration/list.go reads the directory sorted by name): `20241223100000_a.sql` runs before
  `20251227_b.sql`, whatever their numbers. The CLI takes any file named `^([0-9]+)_(.*)\.sql$`
  (pkg/migration/file.go: `001_init.sql`, `20241209_x.sql`, `..._AddIndex.sql` all run) and skips
  the rest with a warning, so that is the naming check's default; `supabase migration new` writes
  `YYYYMMDDHHMMSS_snake_case.sql`, the convention (and real UTC moments) `naming: strict` asks for.
  The CLI records a migration by its version as text (`supabase_migrations.schema_migrations.version
  text PRIMARY KEY`): two files with one version cannot both run, and `001` and `1` are two versions.
- The CLI sends a migration's statements with its history row as one batch, one implicit
  transaction (pkg/migration/file.go ExecBatch); since v2.109 (supabase/cli#5671, #6276) it runs the
  statements a transaction block refuses (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY,
  VACUUM, ALTER SYSTEM) outside the batch. The scripts therefore run as the executor decides
  (Transaction.AUTO), not wrapped: older CLIs refused such a statement after a migration's first.
- The Supabase CLI has no down migrations. A project with no `_rollback.sql` file at all is
  forward-only (RollbackPolicy.ABSENT); once it keeps rollback files, every migration needs one
  (REQUIRED), as in the timestamp layout.
- Detected from the directory (`supabase/migrations`, or a `config.toml` beside it), so it always
  outranks the plain timestamp layout there.
- Supabase projects use objects the platform provides (`auth.users`, `auth.uid()`, the
  `authenticated` role, `storage.objects`): the built-in `supabase` setup preset creates them before
  the first migration whenever this layout is detected.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery
from migration_check.discovery.timestamp_rollback import TimestampRollbackLayout
from migration_check.model import RollbackPolicy

PRESET = "supabase"


class SupabaseLayout(TimestampRollbackLayout):
    name = "supabase"
    description = "supabase/migrations/<timestamp>_<name>.sql (rollbacks optional: _rollback.sql)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("supabase/migrations",)
    bookkeeping = bookkeeping.SUPABASE
    # pkg/migration: each migration's batch ends with a plain INSERT of its version into
    # schema_migrations (version PRIMARY KEY), so the later file fails there and the push stops.
    duplicate_refusal = ("the Supabase CLI stops at the later one: recording it fails (duplicate key value violates"
                         ' unique constraint "schema_migrations_pkey")')
    naming_pattern = r"^[0-9]+_.*\.sql$"
    naming_hint = "<version>_<name>.sql (the Supabase CLI's rule; ..._rollback.sql for a rollback)"
    strict_naming_pattern = TimestampRollbackLayout.naming_pattern
    strict_naming_hint = TimestampRollbackLayout.naming_hint
    timestamp_versions = False  # the CLI takes any digits: real UTC moments under `naming: strict`
    identity = "text"
    file_name_order = True
    any_number = True  # the CLI takes any number: `^([0-9]+)_(.*)\.sql$`

    def detect(self, directory: Path) -> Detection | None:
        if not _is_supabase_directory(directory):
            return None
        found = super().detect(directory)
        if found is None:
            return None
        return Detection(score=found.score + 30, reason=f"supabase/migrations with {found.reason}")

    def discover(self, directory: Path) -> Discovery:
        found = super().discover(directory)  # rollbacks as the timestamp layout's: required once there is one
        by_file_name = [replace(m, sort_key=(m.up.path.name,)) if m.up else m for m in found.migrations]
        found.migrations = sorted(by_file_name, key=lambda m: m.sort_key)
        # `supabase db reset` loads the seed file ([db.seed] sql_paths, ./seed.sql by default).
        seed = directory.parent / "seed.sql"
        if seed.is_file():
            found.seeds.append(seed)
        return found


def _is_supabase_directory(directory: Path) -> bool:
    """`supabase/migrations` (or `migrations` beside a config.toml): as the path reads, since the CLI
    follows a link there to a shared package's folder, and resolved (a relative `.` inside it)."""
    for candidate in {Path(os.path.abspath(directory)), directory.resolve()}:
        parent = candidate.parent
        if candidate.name == "migrations" and (parent.name == "supabase" or (parent / "config.toml").is_file()):
            return True
    return False
