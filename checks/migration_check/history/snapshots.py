"""Snapshots for `linear.py`: the working tree from discovery, and the base from git's file contents.

Base files are read by the same layout that discovered the working tree, so versions, ids and sort
keys are computed one way for both sides: the files are written to a temporary directory and the
layout's own `discover` reads them. That keeps every layout (flat or nested) working without a
second parser of file names.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from migration_check.discovery import layout_named
from migration_check.discovery.base import Layout
from migration_check.errors import FileError
from migration_check.history.linear import Entry, MigrationFile
from migration_check.model import Migration, Project


def directory_in_repo(project: Project) -> str:
    """The migrations directory relative to the repository root, "" for the root itself."""
    relative = project.relative(project.directory) or ""
    return "" if relative == "." else relative


def directories_in_repo(project: Project, elsewhere: list[str]) -> list[str]:
    """The migrations directory, then the other directories the layout keeps the project's files in
    (`elsewhere`: `held_elsewhere`'s), then the other locations the runner reads with it (Alembic's
    version_locations, yoyo's sources), relative to the repository root."""
    layout = layout_named(project.format)
    others = [relative for path in layout.other_locations(project.directory) if (relative := project.relative(path))]
    return [directory_in_repo(project), *elsewhere, *others]


def held_elsewhere(project: Project) -> list[str]:
    """The directories the layout keeps the project's files in that reading the migrations
    directory from git does not bring: those outside it (Flyway's Java migrations in src/main/java,
    beside the scripts in src/main/resources/db/migration) and, for the root, its sub-directories
    (the root brings its own files alone, not the whole repository: a sqitch.conf at the root whose
    top_dir is sql/). Relative to the repository root, the outermost of them."""
    own, layout = directory_in_repo(project), layout_named(project.format)
    others = {project.relative(path) for path in layout.other_locations(project.directory)}  # (placed apart)
    held = sorted({relative for path in layout.held_directories(project.directory)
                   if (relative := project.relative(path)) and relative != "." and ".." not in PurePosixPath(relative).parts
                   and not (own and PurePosixPath(relative).is_relative_to(own)) and relative not in others})
    return [folder for folder in held if not any(PurePosixPath(folder).is_relative_to(other) for other in held
                                                 if other != folder)]


def project_snapshot(project: Project) -> list[Entry]:
    """The migrations of the working tree, with their files' current bytes."""
    layout = layout_named(project.format)
    return [_entry(layout, m, project.relative, lambda p: p.read_bytes()) for m in project.migrations if not m.filtered]


def files_snapshot(project: Project, files: dict[str, bytes], ignore: list[str], where: str, elsewhere: list[str],
                   read: dict[str, dict[str, bytes]] | None = None) -> list[Entry]:
    """The migrations that `files` (repository-relative path -> content) hold, read by the project's layout.

    `where` names the commit in error messages, since the temporary paths mean nothing to a user.
    `elsewhere` is `held_elsewhere`'s answer for the project (asked once for every snapshot).
    `read` gives, by migration id, the files outside the migrations whose text it runs (the working
    tree's Migration.read_files), with their content there: the temporary copy holds only the
    migrations, so the layout cannot find them in it.
    """
    directory = directory_in_repo(project)
    kept = {path: data for path, data in files.items() if not is_ignored(path, ignore)}
    if all(_under(path, elsewhere) for path in kept):  # (graphile-migrate's current/ before any commit)
        return []
    layout = layout_named(project.format)
    with tempfile.TemporaryDirectory(prefix="migration-check-base-") as temp:
        # The directory at its own path under a copy of the repository's root: what a runner finds
        # by the path or the name (Liquibase's includes from src/main/resources, Spring Boot's
        # db/changelog) is found there as in the working tree.
        top = Path(temp)
        (top / ".git").mkdir()
        root = top / directory if directory else top
        # The other locations' files sit beside the directory's own: the layouts that read several
        # (Alembic's graph, yoyo's ids) tell their migrations apart by name, not by directory. The
        # directories the layout finds from the migrations' own place sit at their own paths.
        placed = {top / path if _under(path, elsewhere) else root / _inside(path, directory): path for path in kept}
        for target, path in placed.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(kept[path])

        def to_repo(p: Path) -> str:
            return placed.get(p, p.relative_to(top).as_posix())

        try:
            found = layout.discover(root)
        except FileError as exc:  # point at the base's file, not the temporary copy
            if not _holds_the_project(project, kept):
                # Files of the repository, none of the project's (the root's README where the base
                # predates the project): the base holds no migrations, rather than a broken project.
                return []
            failed = Path(str(exc.path))
            name = to_repo(failed) if failed.is_relative_to(top) else str(exc.path)
            raise FileError(f"{where}:{name}", exc.line, exc.message) from None
        # Left out where the project runs them (Liquibase's contexts, read from the working tree's
        # configuration, which the copy lacks): no database ran them, on either side.
        left_out = set(_counted(project.migrations, lambda m: m.filtered))
        entries = [_entry(layout, m, to_repo, lambda p: kept[to_repo(p)])
                   for m, counted in zip(found.migrations, _counted(found.migrations), strict=True)
                   if not m.filtered and counted not in left_out]
    return [_with_read(entry, (read or {}).get(entry.id, {})) for entry in entries]


def _counted(migrations: list[Migration], which: Callable[[Migration], bool] = lambda m: True) -> list[tuple[str, int]]:
    """Each migration `which` takes as (id, how many before it share that id): two changesets of one
    id for other contexts (fineract's `0002_asset_schemas.xml::1` for postgresql, then for mysql)
    are told apart by their place."""
    seen: dict[str, int] = {}
    counted = []
    for migration in migrations:
        seen[migration.id] = seen.get(migration.id, -1) + 1
        if which(migration):
            counted.append((migration.id, seen[migration.id]))
    return counted


def _holds_the_project(project: Project, files: dict[str, bytes]) -> bool:
    """Whether any of `files` (repository-relative) is a file of the working tree's migrations."""
    own = {project.relative(path) for migration in project.migrations for path in migration.files}
    return any(path in own for path in files)


def _with_read(entry: Entry, read: dict[str, bytes]) -> Entry:
    if not read:
        return entry
    known = {file.path for file in entry.files}
    added = tuple(MigrationFile(path, content) for path, content in sorted(read.items()) if path not in known)
    return dataclasses.replace(entry, files=entry.files + added)


def _under(path: str, folders: list[str]) -> bool:
    return any(PurePosixPath(path).is_relative_to(folder) for folder in folders)


def _inside(path: str, directory: str) -> str:
    if not directory:
        return path
    within = PurePosixPath(path)
    return str(within.relative_to(directory)) if within.is_relative_to(directory) else within.name


def _entry(layout: Layout, migration: Migration, name_of: Callable[[Path], str | None],
           content_of: Callable[[Path], bytes]) -> Entry:
    # A verify script (sqitch's) changes no database: sqitch runs the working tree's whenever it
    # verifies, so an edit of a merged one is maintenance, not an edit of what databases ran.
    verify = {migration.verify.path} - {s.path for s in (migration.up, migration.down) if s is not None} \
        if migration.verify is not None else set()
    own = migration.own_text
    files = [p for p in (*migration.files, *migration.read_files) if p not in verify and (own is None or p != own.path)]
    written = [_file(layout, name_of(p) or p.as_posix(), content_of(p)) for p in files]
    if own is not None:  # its own part of a file it shares, in that file's place
        written.insert(0, MigrationFile(name_of(own.path) or own.path.as_posix(), own.text.encode(), migration.id,
                                        own.line))
    return Entry(
        id=migration.id,
        version=migration.version,
        sort_key=migration.sort_key,
        files=tuple(written),
        # Edits the runner takes, as Flyway takes an edited R__ script.
        repeatable=migration.repeatable or (own is not None and own.edits_allowed),
        baseline=migration.baseline,
        identity_key=layout.version_identity(migration.version, migration.id),
        by_position=layout.declared_order,
    )


def _file(layout: Layout, name: str, content: bytes) -> MigrationFile:
    checked = layout.checksummed(content)
    return MigrationFile(name, content, compared=None if checked is content else checked)


def is_ignored(path: str, patterns: list[str]) -> bool:
    """The config's `ignore` globs, matched like discovery matches them: file name or repo path."""
    name = PurePosixPath(path).name
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns)
