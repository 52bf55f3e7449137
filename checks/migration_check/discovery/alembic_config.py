"""Where Alembic's configuration puts a project's revisions: alembic.ini's `[alembic]` section (or
pyproject.toml's `[tool.alembic]`), as alembic/config.py and script/base.py read it.

- `script_location` is the script directory, its revisions in `versions/` below it; a path
  relative to the configuration file's directory (where `alembic` runs), `%(here)s` that directory,
  or a package resource `package.module:directory`, looked up in the repository and under `src/`.
- `version_locations` replaces `versions/` with its own list, separated as `path_separator` says
  (`os`, `space`, `newline`, `;`, `:`; before it, spaces or commas).
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

SEPARATORS = {"os": os.pathsep, "space": " ", "newline": "\n", ";": ";", ":": ":"}


def alembic_locations(root: Path) -> Iterator[tuple[str, str]]:
    """The version locations the configuration files in `root` name, each with where it is said."""
    ini = root / "alembic.ini"
    if ini.is_file():
        parser = configparser.ConfigParser(defaults={"here": str(root)})
        parser.read_string(ini.read_text(encoding="utf-8"))
        if parser.has_section("alembic"):
            yield from _locations(root, dict(parser.items("alembic")), "alembic.ini")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        settings = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("alembic")
        if isinstance(settings, dict):
            here = {key: value.replace("%(here)s", str(root)) if isinstance(value, str) else value
                    for key, value in settings.items()}
            yield from _locations(root, here, "pyproject.toml [tool.alembic]")


def _locations(root: Path, settings: dict, source: str) -> Iterator[tuple[str, str]]:
    script = settings.get("script_location")
    versions = settings.get("version_locations")
    if isinstance(versions, list):
        yield from ((str(v), f"{source} `version_locations`") for v in versions)
        return
    if isinstance(versions, str) and versions.strip():
        separator = SEPARATORS.get(str(settings.get("path_separator", "")).strip())
        parts = versions.split(separator) if separator else re.split(r", *|(?: +)", versions.strip())
        yield from ((part.strip(), f"{source} `version_locations`") for part in parts if part.strip())
        return
    if isinstance(script, str) and script.strip():
        for directory in _script_directories(root, script.strip()):
            yield os.path.join(directory, "versions"), f"{source} `script_location`"


def _script_directories(root: Path, script: str) -> list[str]:
    if ":" in script and not Path(script).is_absolute():
        package, _, folder = script.partition(":")
        relative = os.path.join(*package.split("."), *folder.split(":"))
        return [relative, os.path.join("src", relative)]
    return [script]
