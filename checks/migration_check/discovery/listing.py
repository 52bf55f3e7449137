"""The files and sub-directories a layout looks at in a directory, each directory listed once per
discovery."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# Files that live beside migrations in real repositories and are never migrations.
IGNORED_NAMES = frozenset({".keep", ".gitkeep", ".DS_Store", "README.md", "README", "readme.md", "atlas.sum"})


# Within one discovery every layout asks about every directory the tree search passes (about
# twenty times each: its listing, the runners' configuration in it and its parents): each answer
# is worked out once then. Outside one, nothing is kept (files change between runs).
_KEPT: contextvars.ContextVar[dict[tuple[object, ...], object] | None] = contextvars.ContextVar("kept", default=None)

Result = TypeVar("Result")


@contextlib.contextmanager
def listings_kept() -> Iterator[None]:
    """Keep what `per_discovery` functions answer for the duration of one discovery."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def per_discovery(function: Callable[[Path], Result]) -> Callable[[Path], Result]:
    """`function` of a directory, answered once per discovery (it must only read the tree)."""

    @functools.wraps(function)
    def kept(directory: Path) -> Result:
        store = _KEPT.get()
        if store is None:
            return function(directory)
        key = (function, directory)
        if key not in store:
            store[key] = function(directory)
        return store[key]  # type: ignore[return-value]

    return kept


@dataclass(frozen=True)
class _Listing:
    files: tuple[Path, ...]
    directories: tuple[Path, ...]


def candidate_files(directory: Path) -> list[Path]:
    """Regular files directly in `directory`, sorted, without the well-known non-migrations."""
    return list(_listing(directory).files)


def candidate_directories_in(directory: Path) -> list[Path]:
    """Sub-directories of `directory`, sorted (per-directory layouts: Prisma, diesel)."""
    return list(_listing(directory).directories)


@per_discovery
def _listing(directory: Path) -> _Listing:
    entries = sorted(directory.iterdir())
    return _Listing(tuple(p for p in entries if p.is_file() and p.name not in IGNORED_NAMES),
                    tuple(p for p in entries if p.is_dir() and not p.name.startswith(".")))


def as_written_beside(directory: Path, resolved: tuple[Path, ...]) -> tuple[Path, ...]:
    """Resolved directories of a runner's configuration, written from `directory` as it was given
    (through a link, or relative): files found in them then sit under the same root as the
    directory's own."""
    here = directory.resolve()
    return tuple(Path(os.path.normpath(directory / os.path.relpath(path, here))) if path != here else directory
                 for path in resolved)


def the_others(locations: tuple[Path, ...], directory: Path) -> list[Path]:
    """The locations after the first, where `directory` is the first (the one that holds them all,
    as Layout.other_locations says); none for any other."""
    return list(locations[1:]) if locations and locations[0] == directory.resolve() else []


def written_stamps(folder: Path, suffixes: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    """When and how long each file under `folder` with one of `suffixes` was last written: part of a
    cache's key where an edit between two discoveries in one process (the pytest plugin's, a
    test's) must read the files again."""
    stamps = []
    for path in folder.rglob("*"):
        if path.suffix in suffixes and path.is_file():
            status = path.stat()
            stamps.append((str(path), status.st_mtime_ns, status.st_size))
    return tuple(sorted(stamps))


def up_to_repository_root(directory: Path) -> list[Path]:
    """The directory and its parents up to its repository's root (the first with `.git`): where a
    runner's configuration for it may be, and no further."""
    folders = [directory, *directory.parents]
    root = repository_root(directory)
    return folders[: folders.index(root) + 1] if root is not None else folders


def within_repository(directory: Path) -> list[Path]:
    """The directory and its parents up to its repository's root; without a repository, the
    directory alone (where a runner looks for other files of the project, and nowhere else)."""
    return up_to_repository_root(directory) if repository_root(directory) is not None else [directory]


@per_discovery
def repository_root(directory: Path) -> Path | None:
    """The first of the directory and its parents that holds `.git`; None outside a repository."""
    if (directory / ".git").exists():
        return directory
    # a parent's answer is shared by its sub-directories (kept within one discovery)
    return repository_root(directory.parent) if directory.parent != directory else None
