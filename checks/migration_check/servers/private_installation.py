"""The server's installation where its unprivileged OS user can run it.

As root, the server runs as another user (PostgreSQL refuses root), and an installation under
root's home (the `embedded` wheel in root's virtualenv) is out of that user's reach. The run then
gets a private tree of the parts the server itself reads: `postgres` and `initdb`, the server's
modules (lib), its data files (share), and the wheel's `.libs` beside the package (its programs
find their shared libraries there by RPATH, `$ORIGIN/../../../<package>.libs`). Headers, pgxs,
documentation and the client programs stay out: about half the files.

The tree is made of hard links where a temp dir on the installation's own file system is open to
that user (a fraction of a copy's time); otherwise, as when the run directory is in memory, it is a
copy in the run directory. A tree of links gets its own run directory, marked like a run's, so a
killed run's tree is reaped like its cluster.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from migration_check.servers.binaries import SERVER_PROGRAMS, Binaries
from migration_check.servers.run_directory import traversable_by

TREE = "pginstall"
# What the server never reads, by directory relative to the installation's prefix.
LEFT_OUT = {"": {"include"}, "lib": {"pgxs", "pkgconfig"}, "share": {"doc", "man"}}


def readonly_parts(binaries: Binaries) -> list[Path]:
    """What a sandboxed server must see of an installation: its prefix, and a wheel's `.libs`
    beside the package where there is one (dblink and postgres_fdw load libpq from it)."""
    prefix = binaries.bindir.parent
    return [prefix, *_wheel_libraries(prefix)]


def private_installation(binaries: Binaries, run_directory: Path, account: pwd.struct_passwd,
                         new_directory: Callable[[Path], Path]) -> tuple[Binaries, Path, Path | None]:
    """The server's parts of `binaries`' installation in a tree `account` can run: the binaries
    there, the tree's root (to bind read-only in a sandbox), and the directory to remove when the
    run ends (None: the tree is inside `run_directory`). `new_directory` makes a run directory of
    the tool's own in a parent."""
    prefix = binaries.bindir.parent
    linked = new_directory(parent) if (parent := _link_parent(prefix, account)) is not None else None
    root = (linked or run_directory) / TREE
    package = root / prefix.parent.name
    try:
        _make_tree(binaries, root, package, _link_or_copy if linked is not None else shutil.copy2)
        if linked is not None:
            linked.chmod(0o755)
    except BaseException:
        if linked is not None:  # (the caller removes only what it was handed)
            shutil.rmtree(linked, ignore_errors=True)
        raise
    return Binaries(package / prefix.name / binaries.bindir.name, binaries.version), root, linked


def _make_tree(binaries: Binaries, root: Path, package: Path, copy: Callable[[str, str], object]) -> None:
    prefix = binaries.bindir.parent
    shutil.copytree(prefix, package / prefix.name, symlinks=True, copy_function=copy,
                    ignore=_left_out(prefix, binaries.bindir))
    for libraries in _wheel_libraries(prefix):
        shutil.copytree(libraries, root / libraries.name, symlinks=True, copy_function=copy)
    for directory in [root, *(path for path in root.rglob("*") if path.is_dir())]:
        directory.chmod(directory.stat().st_mode | 0o055)


def _wheel_libraries(prefix: Path) -> list[Path]:
    package = prefix.parent
    return [path for path in package.parent.glob(f"{package.name}.libs") if path.is_dir()]


def _link_parent(prefix: Path, account: pwd.struct_passwd) -> Path | None:
    """The temp dir when it shares the installation's file system and `account` can reach it."""
    parent = Path(tempfile.gettempdir())
    try:
        same = os.stat(parent).st_dev == os.stat(prefix).st_dev
    except OSError:
        return None
    return parent if same and traversable_by(parent, account) else None


def _left_out(prefix: Path, bindir: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        if Path(directory) == bindir:
            return {name for name in names if name not in SERVER_PROGRAMS}
        relative = os.path.relpath(directory, prefix)
        skipped = LEFT_OUT.get("" if relative == "." else relative, set())
        return {name for name in names if name in skipped or name.endswith(".a")}
    return ignore


def _link_or_copy(source: str, target: str) -> None:
    """A hard link keeps the file's own (world-readable) mode; a copy where a link is refused."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
