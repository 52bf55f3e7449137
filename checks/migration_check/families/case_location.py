"""Where a case points when its finding has no statement of its own: the start of the script the
check is about (the rollback for a rollback or round-trip case, the verify script for verify)."""

from __future__ import annotations

from migration_check.model import Migration, Project, Script


def default_location(project: Project, migration: Migration, check: str,
                     script: Script | None = None) -> tuple[str | None, int]:
    """The file and line a case points at when its finding has no statement of its own: where
    `script` (or the script the check is about) starts."""
    script = script or default_script(migration, check)
    return project.relative(script.path if script else migration.main_file), script.first_line if script else 1


def default_script(migration: Migration, check: str) -> Script | None:
    """The script a check's case points at when the finding has no statement of its own."""
    if check in ("rollback", "roundtrip"):
        return migration.down or migration.up
    if check == "verify":
        return migration.verify
    return migration.up
