"""`migration-check new NAME`: create a correctly named migration (and its rollback) for the format.

The directory is `settings.path` (`--dir`): the migrations directory, or a repository root under
which one is found. Its format is detected, or `--format`. When no migrations exist there yet, the
new migration goes into that directory itself, in the `--format` layout or else the seed
convention (the `timestamp` layout: `YYYYMMDDHHMMSS_name.sql` + `_rollback.sql`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from migration_check.discovery import candidate_directories, detect, layout_named
from migration_check.discovery.base import Layout
from migration_check.errors import NoMigrationsFound, UsageError
from migration_check.history.naming import Convention, snake_case
from migration_check.settings import Settings

DEFAULT_FORMAT = "timestamp"
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def new_migration(settings: Settings, name: str, now: datetime | None = None) -> tuple[list[Path], list[Path]]:
    """Write the new migration's files (forward first): their paths, and those of the files brought
    up to date with them as the runner's own `new` does (atlas.sum).

    UsageError (exit 2) for a name that is not snake_case, a layout without `new` support, or names
    that would break the configured naming pattern. Existing files are never overwritten.
    """
    if not SNAKE_CASE.fullmatch(name):
        hint = snake_case(name).strip("_")
        suggestion = f"; try {hint}" if SNAKE_CASE.fullmatch(hint) else ""
        raise UsageError(f"{name!r} is not a snake_case name (lower case letters, digits and _){suggestion}")
    layout, directory = target(settings)
    moment = _utc(now or datetime.now(UTC))
    files = _free_files(layout, directory, name, moment)
    _check_convention(settings, layout, directory, files)
    held = layout.integrity_holds(directory)
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)  # per-migration folders (Prisma, diesel)
            with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite
                handle.write(content)
            written.append(path)
    except FileExistsError as exc:
        _remove(written)
        raise UsageError(f"{exc.filename} already exists") from None
    except OSError as exc:
        _remove(written)  # a migration without its rollback would be worse than none
        raise UsageError(f"cannot create {exc.filename or directory}: {exc.strerror or exc}") from None
    return list(files), layout.after_new(directory, held)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def target(settings: Settings) -> tuple[Layout, Path]:
    """The layout and directory a new migration goes to."""
    path = Path(settings.path).resolve()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    if settings.format:
        layout = layout_named(settings.format)
        found = (d for d in candidate_directories(path) if layout.detect(d)) if path.is_dir() else iter(())
        return layout, next(found, path)
    if not path.is_dir():
        return layout_named(DEFAULT_FORMAT), path
    try:
        # Where `check` finds the migrations (the tree search too); ambiguity is a UsageError.
        layout, directory, _ = detect(path)
    except NoMigrationsFound:
        return layout_named(DEFAULT_FORMAT), path
    return layout, directory


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _free_files(layout: Layout, directory: Path, name: str, moment: datetime) -> dict[Path, str]:
    """The layout's files for `name`, a second later while their version is taken (two `new` in a second).

    The version is what precedes the first `_` of the entry in `directory` (file or folder), for
    every layout's own format: `20250906120000_x.sql`, `V20250906120000__x.sql`, `2025-09-06-120000_x/`.
    """
    # Folders that hold part of every migration (db-migrate's sqls/) are no version of their own.
    held = set(layout.holds_subdirectories)
    taken = {_version_part(p.name) for p in directory.iterdir() if p.name not in held} if directory.is_dir() else set()
    for _ in range(3600):
        try:
            files = layout.new_files(directory, name, moment)
        except NotImplementedError as exc:
            raise UsageError(str(exc)) from None
        versions = {_version_part(part) for path in files if (part := path.relative_to(directory).parts[0]) not in held}
        if not versions & taken:
            return files
        if set(layout.new_files(directory, name, moment + timedelta(seconds=1))) == set(files):
            # Numbered from the files there, not the clock (a version folder's next number: memos' `0.31/04__x.sql`):
            # the folder is shared, and a file that is not there yet is free.
            if any(path.exists() for path in files):
                raise UsageError(f"{next(path for path in files if path.exists())}: already exists")
            return files
        moment += timedelta(seconds=1)
    raise UsageError(f"{directory}: every timestamp of the next hour is taken")


def _version_part(name: str) -> str:
    return name.split("_", 1)[0]


def _check_convention(settings: Settings, layout: Layout, directory: Path, files: dict[Path, str]) -> None:
    """A configured naming pattern must accept what `new` makes, or the naming check would fail it."""
    if not settings.naming_pattern:
        return
    convention = Convention(settings.naming_pattern, settings.naming_pattern)
    for path in files:
        inside = path.relative_to(directory).as_posix()
        if not convention.matches(inside):
            raise UsageError(
                f"{inside} would not match the configured naming-pattern {settings.naming_pattern};"
                f" choose another name or adjust the pattern"
            )
