"""Migrations are read only from the repository: a migration file that is a symbolic link out of
it is refused, and every script carries the repository as the limit of what it may include. The
files the user's `ignore` patterns name are left out."""

from __future__ import annotations

import dataclasses
import fnmatch
import os
from pathlib import Path

from migration_check.discovery.base import Discovery
from migration_check.errors import FileError
from migration_check.model import Script

# What migration files end with, across the layouts (SQL, and the code migrations reported as skipped).
MIGRATION_SUFFIXES = frozenset({".sql", ".psql", ".py", ".js", ".cjs", ".mjs", ".ts", ".go", ".java"})


def unreadable_entries(directory: Path, migrations_are_directories: bool = False) -> None:
    """A FileError for an entry of the migrations directory (or of its sub-directories) that looks
    like a migration but cannot be read as one: never silently left out."""
    for path in sorted(directory.iterdir()):
        entries = [path, *sorted(path.iterdir())] if path.is_dir() and not path.is_symlink() else [path]
        for entry in entries:
            if entry.is_symlink() and not entry.exists() and _named_like_a_migration(entry):
                raise FileError(entry, None, f"is a symbolic link to {os.readlink(entry)}, which does not exist")
            if entry.is_dir() and entry.suffix.lower() == ".sql" and not (migrations_are_directories and entry == path):
                raise FileError(entry, None, "is a directory named like a migration file")


def _named_like_a_migration(entry: Path) -> bool:
    """A migration file's suffix, or a versioned name (`20240101_x`, a diesel or Prisma directory,
    Flyway's `V1__x`): a dangling link elsewhere in a project at the repository's root (sqitch's,
    beside a `public/galleries` link to the production server's disk) is none of the check's business."""
    name = entry.name
    return entry.suffix.lower() in MIGRATION_SUFFIXES or name[:1].isdigit() or (
        name[:1] in "VUR" and name[1:2].isdigit())


def within_repository(found: Discovery, root: Path) -> Discovery:
    """`found` with every script limited to `root`; a FileError for a file that resolves outside it."""
    root = root.resolve()
    migrations = []
    for migration in found.migrations:
        for path in migration.files:
            inside(path, root)
        migrations.append(dataclasses.replace(
            migration, up=_rooted(migration.up, root), down=_rooted(migration.down, root),
            verify=_rooted(migration.verify, root)))
    for orphan in found.orphan_rollbacks:
        inside(orphan.path, root)
    return dataclasses.replace(found, migrations=migrations)


def inside(path: Path, root: Path) -> None:
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise FileError(path, 1, f"is a symbolic link to {resolved}, outside the repository:"
                                 " migrations are read only from the repository")


def _rooted(script: Script | None, root: Path) -> Script | None:
    return dataclasses.replace(script, root=root) if script is not None else None


def _is_ignored(path: Path, root: Path, patterns: list[str]) -> bool:
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        relative = path.as_posix()
    return any(fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(relative, p) for p in patterns)


def without_ignored(found: Discovery, root: Path, patterns: list[str]) -> Discovery:
    """`found` without the files the `ignore` patterns (globs on file names and repository-relative
    paths) name: files that are not migrations, never reported as stray."""
    # The rest (seeds, the declared schema, one transaction for all, the runner's setup) stays.
    return dataclasses.replace(
        found,
        migrations=[m for m in found.migrations if not any(_is_ignored(f, root, patterns) for f in m.files)],
        stray_files=[s for s in found.stray_files if not _is_ignored(s.path, root, patterns)],
        orphan_rollbacks=[o for o in found.orphan_rollbacks if not _is_ignored(o.path, root, patterns)],
    )
