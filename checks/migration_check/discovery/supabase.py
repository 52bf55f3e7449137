"""Supabase: the timestamp layout under `supabase/migrations/`, reported as format `supabase`.

    supabase/migrations/20250906120000_add_user_preferences.sql
    supabase/migrations/20250906120000_add_user_preferences_rollback.sql   (optional)

Rules:
- File names and order are the timestamp layout's: `<timestamp>_<name>.sql`, in version order, as
  `supabase db push` / `supabase migration up` apply them.
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

    def detect(self, directory: Path) -> Detection | None:
        if not _is_supabase_directory(directory):
            return None
        found = super().detect(directory)
        if found is None:
            return None
        return Detection(score=found.score + 30, reason=f"supabase/migrations with {found.reason}")

    def discover(self, directory: Path) -> Discovery:
        found = super().discover(directory)
        has_rollbacks = any(m.down for m in found.migrations) or bool(found.orphan_rollbacks)
        found.rollback_policy = RollbackPolicy.REQUIRED if has_rollbacks else RollbackPolicy.ABSENT
        # `supabase db reset` loads the seed file ([db.seed] sql_paths, ./seed.sql by default).
        seed = directory.parent / "seed.sql"
        if seed.is_file():
            found.seeds.append(seed)
        return found


def _is_supabase_directory(directory: Path) -> bool:
    parent = directory.resolve().parent
    return directory.name == "migrations" and (parent.name == "supabase" or (parent / "config.toml").is_file())
