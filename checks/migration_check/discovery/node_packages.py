"""Which versions of an npm package a JavaScript project runs, for a runner whose behaviour changed
between versions (Prisma Migrate sends a migration whole up to 6.x and statement by statement from
7.5 on).

Read from the lock file the project commits (package-lock.json, pnpm-lock.yaml, yarn.lock) where
one names the package: those are the versions installed. Otherwise from the range the nearest
package.json asks for (`^6.19.3` is 6.19.3 up to, not including, 7.0.0). Searched from the
migrations directory up to the repository's root. None when neither says (no package.json, a tag
such as `latest`, a range with `||`): then nothing version-dependent may be assumed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration_check.discovery.base import up_to_repository_root
from migration_check.discovery.listing import per_discovery

Version = tuple[int, int, int]

LOCK_FILES = ("package-lock.json", "pnpm-lock.yaml", "yarn.lock")
_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")
# A pnpm `packages` key: `/prisma@5.22.0`, `prisma@6.19.3(typescript@5.4.0)`, or lockfile v5's `/prisma/5.22.0`.
_PNPM_KEY = re.compile(r"^/?(?P<name>(@[^/@]+/)?[^/@]+)[@/](?P<version>\d[^(/]*)")


@dataclass(frozen=True)
class Versions:
    """The versions the project may run: from `lowest` up to, not including, `below` (None: no
    upper bound), read from `source` (a file, for messages)."""

    lowest: Version
    below: Version | None
    source: Path

    def all_below(self, version: Version) -> bool:
        return self.below is not None and self.below <= version

    def all_at_least(self, version: Version) -> bool:
        return self.lowest >= version


def versions_of(package: str, directory: Path) -> Versions | None:
    """The versions of `package` the project around `directory` runs, or None when unknown."""
    folders = up_to_repository_root(directory.resolve())
    for folder in folders:
        for name in LOCK_FILES:
            lock = folder / name
            if lock.is_file() and (found := _locked(lock, package)):
                return Versions(min(found), _next_patch(max(found)), lock)
    for folder in folders:
        manifest = folder / "package.json"
        if manifest.is_file() and (asked := _asked(manifest, package)) is not None:
            return _range(asked, manifest)
    return None


def _locked(lock: Path, package: str) -> list[Version]:
    """The versions of `package` a lock file records; [] when it records none or cannot be read."""
    try:
        text = lock.read_text(encoding="utf-8")
        if lock.name == "package-lock.json":
            found = _from_npm(json.loads(text), package)
        elif lock.name == "pnpm-lock.yaml":
            found = _from_pnpm(text, package)
        else:
            found = _from_yarn(text, package)
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    return [v for text in found if (v := _version(text)) is not None]


def _from_npm(lock: object, package: str) -> list[str]:
    if not isinstance(lock, dict):
        return []
    found = []
    for section, key in (("packages", f"node_modules/{package}"), ("dependencies", package)):  # lockfile v2-3, v1
        entry = lock.get(section, {}).get(key) if isinstance(lock.get(section), dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("version"), str):
            found.append(entry["version"])
    return found


def _from_pnpm(text: str, package: str) -> list[str]:
    """pnpm-lock.yaml's `packages` (and v9's `snapshots`) keys, each at two spaces of indent. Read
    line by line: a large monorepo's lock takes seconds to load as YAML, and only its keys matter."""
    found, section = [], ""
    for line in text.splitlines():
        if line[:1].strip():
            section = line.rstrip().rstrip(":")
        elif section in ("packages", "snapshots") and line.startswith("  ") and line[2:3].strip():
            key = line.strip().rstrip(":").strip("'\"")
            if (match := _PNPM_KEY.match(key)) and match["name"] == package:
                found.append(match["version"])
    return found


def _from_yarn(text: str, package: str) -> list[str]:
    """yarn.lock (classic and berry): an entry's header names its specs (`prisma@^5.22.0, prisma@5.x:`),
    its indented `version` line the version installed."""
    found, ours = [], False
    for line in text.splitlines():
        if line and not line[0].isspace():
            specs = [spec.strip().strip('"') for spec in line.rstrip(":").split(",")]
            ours = any(spec.rpartition("@")[0] == package for spec in specs)
        elif ours and line.strip().startswith("version"):
            found.append(line.strip().removeprefix("version").strip(' :"'))
    return found


@per_discovery
def package_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's package.json as an object; None where there is none, or it is no JSON object."""
    try:
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _asked(manifest: Path, package: str) -> str | None:
    data = package_manifest(manifest.parent)
    if data is None:
        return None
    for section in _SECTIONS:
        asked = data.get(section, {}).get(package) if isinstance(data.get(section), dict) else None
        if isinstance(asked, str):
            return asked
    return None


def _range(asked: str, manifest: Path) -> Versions | None:
    """An exact version, `^x.y.z` or `~x.y.z` (npm's meanings); None for anything else."""
    text = asked.strip().removeprefix("=").removeprefix("v")
    operator = text[0] if text[:1] in ("^", "~") else ""
    lowest = _version(text.removeprefix(operator))
    if lowest is None or not _VERSION.fullmatch(text.removeprefix(operator)):
        return None
    major, minor, _patch = lowest
    if operator == "^":
        below = (major + 1, 0, 0) if major else (0, minor + 1, 0)
    elif operator == "~":
        below = (major, minor + 1, 0)
    else:
        below = _next_patch(lowest)
    return Versions(lowest, below, manifest)


def _version(text: str) -> Version | None:
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    return (int(match[1]), int(match[2] or 0), int(match[3] or 0))


def _next_patch(version: Version) -> Version:
    return (version[0], version[1], version[2] + 1)


def asking_for(package: str, directory: Path) -> Path | None:
    """The nearest package.json, from `directory` up to the repository's root, whose dependencies
    name `package` (in any range or tag); None where none does."""
    for folder in up_to_repository_root(directory.resolve()):
        if (folder / "package.json").is_file() and _asked(folder / "package.json", package) is not None:
            return folder / "package.json"
    return None
