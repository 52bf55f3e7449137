"""Flyway's settings as a project writes them, in the migrations directory's folders or above them:
`flyway.<name>=...` in flyway.conf (and conf/*.conf), `[flyway]` in flyway.toml (and its
environments), `spring.flyway.<name>` or `quarkus.flyway.<name>` in a Spring Boot or Quarkus
application*.properties or .yml.

Each source is read into one flat map of normalised keys: lower case, without the framework's
prefix and without the dashes of its relaxed names (`spring.flyway.placeholder-replacement` and
`flyway.placeholderReplacement` are both `placeholderreplacement`); a placeholder's value is under
`placeholders.<name>`. A value that refers to another entry of its file (`${other.key}`) or to
the environment with a default (`${DB_SCHEMA:app}`) is resolved as the framework resolves it; one
only the deploy's environment knows is left out. The folder nearest the migrations wins.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from migration_check.discovery.listing import per_discovery
from migration_check.discovery.maven_filtering import filtered_properties

CONFIG_LEVELS = 6  # src/main/resources/db/migration: the repository root is four levels up
PREFIXES = ("spring.flyway.", "quarkus.flyway.", "flyway.")


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


def managed_schemas(settings: Mapping[str, str]) -> list[str]:
    """The schemas Flyway manages, the default one first: `defaultSchema`, then `schemas`, each
    once; none where the project names neither (Flyway then uses the connection's own, public)."""
    listed = [schema.strip() for schema in settings.get("schemas", "").split(",") if schema.strip()]
    return list(dict.fromkeys([*filter(None, [settings.get("defaultschema")]), *listed]))


def default_schema(settings: Mapping[str, str]) -> str | None:
    return next(iter(managed_schemas(settings)), None)


def folder_values(folder: Path, name: str) -> list[str]:
    """Every value that the Flyway settings in `folder` itself give `name` (flyway.toml's
    environments each give theirs): where to look for the migrations."""
    return [value for key, value in _folder_settings(folder) if key == normalised(name)]


def script_setting(path: Path, name: str) -> str | None:
    """A setting of a script's own config file (`V1__x.sql.conf`: `executeInTransaction=false`)."""
    own = dict(read_properties(path.with_name(path.name + ".conf")))
    return dict(_flyway_keys(own, own=True)).get(normalised(name))


def normalised(key: str) -> str:
    """`placeholders.tenantName` -> `placeholders.tenantname`; `placeholder-prefix` -> `placeholderprefix`."""
    head, dot, rest = key.partition(".")
    if head.lower() == "placeholders" and dot:
        return f"placeholders.{rest.lower()}"
    return key.replace("-", "").lower()


@per_discovery
def _folder_settings(folder: Path) -> tuple[tuple[str, str], ...]:
    # The tree search asks for every directory it passes, and their parents are mostly shared.
    return tuple(_read_folder_settings(folder))


def _read_folder_settings(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.glob("*.conf")) + sorted((folder / "conf").glob("*.conf")):
        yield from _flyway_keys(dict(read_properties(path)), own=path.name.endswith(".sql.conf"))
    for path in _application(folder, "application*.properties"):
        yield from _flyway_keys(dict(read_properties(path)), filtered=filtered_properties(folder))
    for path in _application(folder, "application*.y*ml"):
        yield from _flyway_keys(_yaml(path), filtered=filtered_properties(folder))
    yield from _toml(folder / "flyway.toml")


@functools.lru_cache(maxsize=256)
def application_entries(folder: Path) -> Mapping[str, str]:
    """Every entry of the folder's Spring Boot (or Quarkus) application files by dotted key, the
    default file's first: what other runners' settings are read from too (Liquibase's
    `spring.liquibase.change-log`)."""
    entries: dict[str, str] = {}
    for path in _application(folder, "application*.properties"):
        for key, value in read_properties(path):
            entries.setdefault(key, value)
    for path in _application(folder, "application*.y*ml"):
        for key, value in _yaml(path).items():
            entries.setdefault(key, value)
    return MappingProxyType(entries)


def _application(folder: Path, pattern: str) -> list[Path]:
    """Spring Boot's and Quarkus's files, the default one (application.properties) before the
    profiles' (application-test.properties), whose settings apply only where that profile is on."""
    return sorted(folder.glob(pattern), key=lambda path: (path.stem != "application", path.name))


def _flyway_keys(entries: dict[str, str], own: bool = False,
                 filtered: Mapping[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """The Flyway settings among a file's entries (all of a script's own .conf), normalised, with
    references to the file's other entries resolved as Spring and Quarkus resolve them
    (`schemas: ${quarkus.hibernate-orm.database.default-schema}`, `${DB_SCHEMA:app}`), and, in a
    file Maven filters, to the pom's properties (`filtered`, maven_filtering.py) first, as Maven
    replaced them before the application read the file."""
    for key, value in entries.items():
        prefix = "" if own else next((p for p in PREFIXES if key.startswith(p)), None)
        if prefix is not None and (resolved := _resolved(value, entries, filtered or {})) is not None:
            yield normalised(key[len(prefix):]), resolved


def _resolved(value: str, entries: dict[str, str], filtered: Mapping[str, str]) -> str | None:
    """A value with a whole-value reference `${name}` or `${name:default}` resolved: the pom's
    property Maven puts in, else the file's own entry, else the default; None where only the
    environment of the deploy knows it."""
    if not (value.startswith("${") and value.endswith("}")):
        return value
    name, colon, default = value[2:-1].partition(":")
    if name in filtered:
        return filtered[name]
    if name in entries and entries[name] != value:
        return _resolved(entries[name], {k: v for k, v in entries.items() if k != name}, filtered)
    return default if colon else None


def read_properties(path: Path) -> Iterator[tuple[str, str]]:
    """`key=value` lines of a properties file; none when it cannot be read."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for line in lines:
        key, equals, value = line.partition("=")
        key = key.strip()
        if equals and not key.startswith(("#", "!", "%")):  # `%prod.` keys are a Quarkus profile's
            yield key, value.strip()


def _yaml(path: Path) -> dict[str, str]:
    """Every entry of a YAML application file, by its dotted key (profiles' `%prod` left out)."""
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8", errors="replace")))
    except (OSError, yaml.YAMLError):
        return {}
    entries: dict[str, str] = {}
    for document in documents:
        if isinstance(document, dict):
            for key, value in _flattened({k: v for k, v in document.items() if not str(k).startswith("%")}):
                entries.setdefault(key, value)
    return entries


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
            yield from ((normalised(key), value) for key, value in _flattened(section))


def _flattened(section: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    """`{placeholders: {tenant: acme}, mixed: true}` -> (placeholders.tenant, acme), (mixed, true)."""
    for key, value in section.items():
        if isinstance(value, dict):
            yield from _flattened(value, f"{prefix}{key}.")
        elif isinstance(value, list):
            yield f"{prefix}{key}", ",".join(str(item) for item in value)
        elif value is not None:
            yield f"{prefix}{key}", ("true" if value else "false") if isinstance(value, bool) else str(value)
