"""Flyway's settings as a project writes them, in the migrations directory's folders or above them:
`flyway.<name>=...` in flyway.conf (and conf/*.conf), `[flyway]` in flyway.toml (and its
environments), `spring.flyway.<name>` in a Spring Boot application*.properties or .yml.

Each source is read into one flat map of normalised keys: lower case, without Spring's prefix and
without the dashes of its relaxed names (`spring.flyway.placeholder-replacement` and
`flyway.placeholderReplacement` are both `placeholderreplacement`); a placeholder's value is under
`placeholders.<name>`. The folder nearest the migrations wins.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

CONFIG_LEVELS = 6  # src/main/resources/db/migration: the repository root is four levels up
PREFIXES = ("spring.flyway.", "flyway.")


@functools.lru_cache(maxsize=64)
def flyway_settings(directory: Path) -> Mapping[str, str]:
    """Every Flyway setting the project gives, by normalised key (see the module's docstring)."""
    found: dict[str, str] = {}
    for folder in [directory, *directory.parents][:CONFIG_LEVELS]:
        for key, value in _folder_settings(folder):
            found.setdefault(key, value)
    return MappingProxyType(found)


def flyway_setting(directory: Path, name: str) -> bool:
    """Whether the project turns on Flyway's setting `name` (`mixed`, `group`)."""
    return flyway_settings(directory).get(normalised(name), "").lower() == "true"


def folder_values(folder: Path, name: str) -> list[str]:
    """Every value that the Flyway settings in `folder` itself give `name` (flyway.toml's
    environments each give theirs): where to look for the migrations."""
    return [value for key, value in _folder_settings(folder) if key == normalised(name)]


def script_setting(path: Path, name: str) -> str | None:
    """A setting of a script's own config file (`V1__x.sql.conf`: `executeInTransaction=false`)."""
    return dict(_properties(path.with_name(path.name + ".conf"))).get(normalised(name))


def normalised(key: str) -> str:
    """`placeholders.tenantName` -> `placeholders.tenantname`; `placeholder-prefix` -> `placeholderprefix`."""
    head, dot, rest = key.partition(".")
    if head.lower() == "placeholders" and dot:
        return f"placeholders.{rest.lower()}"
    return key.replace("-", "").lower()


def _folder_settings(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.glob("*.conf")) + sorted((folder / "conf").glob("*.conf")) + _spring(
            folder, "application*.properties"):
        yield from _properties(path)
    for path in _spring(folder, "application*.y*ml"):
        yield from _yaml(path)
    yield from _toml(folder / "flyway.toml")


def _spring(folder: Path, pattern: str) -> list[Path]:
    """Spring Boot's files, its default one (application.properties) before the profiles'
    (application-test.properties), whose settings apply only where that profile is on."""
    return sorted(folder.glob(pattern), key=lambda path: (path.stem != "application", path.name))


def _properties(path: Path) -> Iterator[tuple[str, str]]:
    """`key=value` lines of a properties file with a Flyway key (a script's own .conf: every key)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    own = path.name.endswith(".sql.conf")
    for line in lines:
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or key.startswith(("#", "!")):
            continue
        if own:
            yield normalised(key), value.strip()
        elif (prefix := next((p for p in PREFIXES if key.startswith(p)), None)) is not None:
            yield normalised(key[len(prefix):]), value.strip()


def _yaml(path: Path) -> Iterator[tuple[str, str]]:
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8", errors="replace")))
    except (OSError, yaml.YAMLError):
        return
    for document in documents:
        spring = document.get("spring") if isinstance(document, dict) else None
        flyway = spring.get("flyway") if isinstance(spring, dict) else None
        if isinstance(flyway, dict):
            yield from _flattened(flyway)


def _toml(path: Path) -> Iterator[tuple[str, str]]:
    if not path.is_file():
        return
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    sections = [data.get("flyway", {})] + [env.get("flyway", {}) for env in data.get("environments", {}).values()
                                           if isinstance(env, dict)]
    for section in sections:
        if isinstance(section, dict):
            yield from _flattened(section)


def _flattened(section: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    """`{placeholders: {tenant: acme}, mixed: true}` -> (placeholders.tenant, acme), (mixed, true)."""
    for key, value in section.items():
        if isinstance(value, dict):
            yield from _flattened(value, f"{prefix}{key}.")
        elif isinstance(value, list):
            yield normalised(f"{prefix}{key}"), ",".join(str(item) for item in value)
        elif value is not None:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            yield normalised(f"{prefix}{key}"), text
