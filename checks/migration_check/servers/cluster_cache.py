"""A fresh cluster without initdb: initdb runs once per PostgreSQL installation and user, into a
private cache, and each run copies that cluster (initdb is most of a server's start: about 1.4 s
of 1.7 s here; a copy takes a small fraction of it).

The cache is `$MIGRATION_CHECK_CACHE`, else `$XDG_CACHE_HOME/migration-check`, else
`~/.cache/migration-check`, under `clusters/<key>`; the key covers the binaries' directory and
version, the initdb arguments and the user the server runs as. It is used only when its folder
belongs to the user running the tool and nobody else may write there (a cluster planted by someone
else would run their configuration). An entry is written to a temporary name and renamed into
place, so two runs that fill it at once never see half a cluster.

Each entry (about 40 MB) says which binaries it is for (`<key>.source`, touched at each use): an
entry whose binaries are gone (a virtualenv removed, a wheel upgraded) or unused for UNUSED_DAYS is
removed by the next run, so the cache holds what is in use, not every installation ever seen.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

# Bump when what a cached cluster holds changes (initdb arguments, the roles prepared later are not in it).
FORMAT = "1"
UNUSED_DAYS = 30
SOURCE = ".source"  # beside each entry: the binaries' directory it was made with
REMOVED = ".removed."  # an entry on its way out


def cache_root() -> Path | None:
    configured = os.environ.get("MIGRATION_CHECK_CACHE")
    if configured:
        return Path(configured)
    home = os.path.expanduser("~")
    base = os.environ.get("XDG_CACHE_HOME") or (os.path.join(home, ".cache") if home != "~" else "")
    return Path(base) / "migration-check" if base else None


def entry(bindir: Path, version: str, arguments: list[str], uid: int | None) -> Path | None:
    """Where the cached cluster for this installation and user lives, or None (no usable cache)."""
    root = cache_root()
    if root is None:
        return None
    key = hashlib.sha256("|".join([FORMAT, str(bindir.resolve()), version, *arguments, str(uid)]).encode()).hexdigest()[:20]
    clusters = root / "clusters"
    try:
        clusters.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    if not _private(clusters):
        return None
    _remove_unused(clusters)
    return clusters / key


def restore(cached: Path, data: Path, uid: int | None, gid: int | None) -> bool:
    """Copy the cached cluster to `data` (owned by uid:gid); False when there is none (or it went
    while being copied: another run removed it)."""
    if not (cached / "PG_VERSION").is_file():
        return False
    try:
        shutil.copytree(cached, data, symlinks=True)
    except (OSError, shutil.Error):
        shutil.rmtree(data, ignore_errors=True)
        return False
    with contextlib.suppress(OSError):
        _source(cached).touch()  # used now
    if uid is not None and gid is not None:
        for folder, directories, files in os.walk(data):
            for name in (folder, *(os.path.join(folder, item) for item in (*directories, *files))):
                os.lchown(name, uid, gid)
    data.chmod(0o700)
    return True


def store(data: Path, cached: Path, bindir: Path) -> None:
    """Keep a copy of a cluster initdb just made with `bindir`'s binaries (best effort: a failure
    only costs the next run time)."""
    with contextlib.suppress(OSError):
        _source(cached).write_text(str(bindir.resolve()))
        temporary = Path(tempfile.mkdtemp(prefix=f".{cached.name}.", dir=cached.parent))
        try:
            shutil.copytree(data, temporary / "data", symlinks=True)
            os.rename(temporary / "data", cached)  # atomic; fails harmlessly if another run got there first
        finally:
            shutil.rmtree(temporary, ignore_errors=True)


def _source(cached: Path) -> Path:
    return cached.with_name(cached.name + SOURCE)


def _remove_unused(clusters: Path) -> None:
    """Remove the entries whose binaries are gone, those unused for UNUSED_DAYS, and those that do
    not say what they are for (made before entries did); and what a killed run left half-written.
    Each goes out of the way at once (a rename); the files are deleted by a thread of their own,
    while the server starts (a cache of a hundred entries took 9 s to delete)."""
    oldest = time.time() - UNUSED_DAYS * 86400
    removed: list[Path] = []
    for path in clusters.iterdir():
        try:
            if path.name.startswith(REMOVED):  # renamed by a run that ended before it deleted them
                gone = True
            elif path.name.startswith("."):  # a store's temporary directory: a day is more than any store takes
                gone = path.is_dir() and path.stat().st_mtime < time.time() - 86400
            elif path.name.endswith(SOURCE):
                gone = not path.with_name(path.name[:-len(SOURCE)]).exists() and path.stat().st_mtime < time.time() - 3600
            else:
                source = _source(path)
                gone = (not source.is_file() or source.stat().st_mtime < oldest
                        or not Path(source.read_text()).is_dir())
                if gone:
                    removed.append(source)
        except OSError:
            continue
        if gone:
            removed.append(path)
    hidden = [renamed for path in removed if (renamed := _out_of_the_way(path)) is not None]
    if hidden:  # (no thread on a start that has nothing to delete)
        threading.Thread(target=_delete, args=(hidden,), daemon=True).start()


def _out_of_the_way(path: Path) -> Path | None:
    """`path` renamed to a name no run looks for (a run that looks for it meanwhile finds none)."""
    hidden = path if path.name.startswith(REMOVED) else path.with_name(f"{REMOVED}{path.name}.{os.getpid()}")
    try:
        os.rename(path, hidden)
    except OSError:
        return None
    return hidden


def _delete(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()


def _private(folder: Path) -> bool:
    """Owned by us, and writable by nobody else, up to the cache's root."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
