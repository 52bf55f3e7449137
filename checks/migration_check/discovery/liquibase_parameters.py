"""Changelog parameters (`${name}`), as Liquibase puts them in: those Spring Boot gives it, and the
changelog's own `property` entries, put into a changeset's attributes as it parses them (before a
change type writes its SQL) and into its SQL. A parameter nothing defines stays as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from migration_check.discovery.flyway_config import CONFIG_LEVELS, application_entries


def application_parameters(directory: Path) -> dict[str, str]:
    """The changelog parameters Spring Boot gives Liquibase (`spring.liquibase.parameters.<name>`
    in an application file of a folder above the changelog)."""
    prefix = "spring.liquibase.parameters."
    for folder in [directory, *directory.parents][:CONFIG_LEVELS]:
        entries = application_entries(folder)
        found = {key.removeprefix(prefix): value for key, value in entries.items() if key.startswith(prefix)}
        if found:
            return found
    return {}


# Liquibase's own pattern for a changelog parameter (ChangeLogParameters' expression expander).
PARAMETER = re.compile(r"\$\{([^}]+)\}")


def unresolved_parameters(text: str) -> list[str]:
    """The changelog parameters a text still holds, as written (`${fineract.tenant.port}`)."""
    return list(dict.fromkeys(match[0] for match in PARAMETER.finditer(text)))


def with_parameters(value: Any, properties: dict[str, str]) -> Any:
    """A changeset's attributes with the parameters defined so far put in, at every depth."""
    if isinstance(value, str):
        return expand(value, properties)
    if isinstance(value, dict):
        return {key: with_parameters(item, properties) for key, item in value.items()}
    if isinstance(value, list):
        return [with_parameters(item, properties) for item in value]
    return value


def expand(text: str, properties: dict[str, str]) -> str:
    return PARAMETER.sub(lambda match: properties.get(match[1], match[0]), text) if "${" in text else text
