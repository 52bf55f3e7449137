"""Maven's resource filtering: where a module's pom.xml filters its resources, Maven replaces each
`${name}` of an application.properties with the pom's property of that name when it builds the
jar, so the value the application runs with is the pom's. OHDSI/WebAPI writes
`flyway.placeholders.ohdsiSchema=${flyway.placeholders.ohdsiSchema}` and keeps the value in its
pom (`${datasource.ohdsi.schema}`, `ohdsi` in its PostgreSQL profile): every script that uses the
placeholder was refused for want of a value.

The properties are the pom's own, with those of a profile whose id names PostgreSQL over them (the
build a PostgreSQL deployment is made with); a reference to another property is resolved in turn.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from migration_check.discovery.base import within_repository
from migration_check.discovery.path_words import POSTGRES_WORDS, path_words

_DEPTH = 8  # references resolved in turn, at most


@functools.lru_cache(maxsize=32)
def filtered_properties(folder: Path) -> Mapping[str, str]:
    """The properties Maven puts into the resources of `folder`, where the nearest pom.xml above it
    filters its resources; nothing otherwise."""
    pom = next((path / "pom.xml" for path in within_repository(folder) if (path / "pom.xml").is_file()), None)
    if pom is None:
        return MappingProxyType({})
    try:
        project = ET.parse(pom).getroot()
    except (ET.ParseError, OSError):
        return MappingProxyType({})
    if not any(_text(element) == "true" for element in _all(project, "build", "resources", "resource", "filtering")):
        return MappingProxyType({})
    found = _properties(project)
    for profile in _all(project, "profiles", "profile"):
        if POSTGRES_WORDS & set(path_words(_text(next(iter(_all(profile, "id")), None)))):
            found.update(_properties(profile))
    return MappingProxyType({name: resolved for name, value in found.items()
                             if (resolved := _resolve(value, found, _DEPTH)) is not None})


def _properties(element: ET.Element) -> dict[str, str]:
    return {_local(child.tag): _text(child) for properties in _all(element, "properties") for child in properties}


def _resolve(value: str, properties: dict[str, str], depth: int) -> str | None:
    """A whole-value reference to another property resolved; None where it stays unknown."""
    if not (value.startswith("${") and value.endswith("}")):
        return value
    name = value[2:-1]
    if depth == 0 or name not in properties:
        return None
    return _resolve(properties[name], properties, depth - 1)


def _all(element: ET.Element, *path: str) -> list[ET.Element]:
    """The elements at `path` under `element`, whatever the pom's namespace."""
    found = [element]
    for name in path:
        found = [child for parent in found for child in parent if _local(child.tag) == name]
    return found


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""
