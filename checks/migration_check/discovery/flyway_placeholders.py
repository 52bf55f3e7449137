"""Flyway's placeholders: `${name}` in a script is replaced, before anything parses it, by the value
the project's Flyway settings give (`flyway.placeholders.name=...`, `spring.flyway.placeholders.name`,
`[flyway.placeholders]`), or by one of Flyway's own: `${flyway:defaultSchema}`,
`${flyway:table}`, `${flyway:filename}`, `${flyway:timestamp}`, ..., or by the value the user gives
(`--var name=value`: a placeholder the project's code sets, openremote's `schemaName`). A
placeholder with no value makes Flyway refuse the script ("No value provided for placeholder
expressions"), so it is not replayed here, and says which placeholder and where to give it. `placeholderReplacement=false`
turns it all off; `placeholderPrefix` and `placeholderSuffix` change the markers.

Read from Flyway's DefaultPlaceholderReplacer: every known placeholder is replaced as plain text,
anywhere in the file (comments and strings too); then any `prefix...suffix` left is unknown.
Names compare without case. `${flyway:user}` and `${flyway:database}` are the connection's: known
only where the settings give `user` and `url`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from migration_check.discovery.deploy_values import given
from migration_check.discovery.flyway_config import default_schema, flyway_settings

DEFAULT_TABLE = "flyway_schema_history"


@dataclass(frozen=True)
class Placeholders:
    replace: bool
    prefix: str
    suffix: str
    values: Mapping[str, str]  # lower-case name -> value

    def substituted(self, path: Path, text: str) -> tuple[str, str | None]:
        """The script's text with its placeholders replaced, and why Flyway refuses it (the first
        placeholder without a value, and its line), or None."""
        if not self.replace or self.prefix not in text:
            return text, None
        # A value the user gives (`--var`: one the project's code sets) over the settings' own.
        values = {**self.values, **{name.lower(): value for name, value in given().items()}, "flyway:filename": path.name}
        pattern = re.compile(re.escape(self.prefix) + "(.+?)" + re.escape(self.suffix))

        def value(match: re.Match[str]) -> str:
            return values.get(match.group(1).lower(), match.group(0))

        replaced = pattern.sub(value, text)
        unknown = next((m for m in pattern.finditer(text) if m.group(1).lower() not in values), None)
        if unknown is None:
            return replaced, None
        line = text.count("\n", 0, unknown.start()) + 1
        return replaced, (f"line {line} uses the Flyway placeholder {unknown.group(0)}, which has no value in the"
                          f" project's Flyway settings: Flyway refuses the script so (\"No value provided for"
                          f" placeholder\"); give it as `flyway.placeholders.{unknown.group(1)}` in flyway.conf,"
                          f" `spring.flyway.placeholders.{unknown.group(1)}` in application.properties, or under"
                          f" `[flyway.placeholders]` in flyway.toml (or, where the project's code sets it, with"
                          f" --var {unknown.group(1)}=VALUE)")


def placeholders_of(directory: Path, now: datetime) -> Placeholders:
    """The placeholders of the project whose migrations are in `directory`."""
    settings = flyway_settings(directory)
    values = {key.removeprefix("placeholders."): value for key, value in settings.items() if key.startswith("placeholders.")}
    own = {
        "flyway:defaultschema": default_schema(settings) or "public",
        "flyway:table": settings.get("table") or DEFAULT_TABLE,
        "flyway:timestamp": now.strftime("%Y-%m-%d %H:%M:%S"),
        "flyway:workingdirectory": str(directory),
        "flyway:environment": settings.get("environment") or "default",
    }
    if settings.get("user"):
        own["flyway:user"] = settings["user"]
    if (database := _database_of(settings.get("url", ""))) is not None:
        own["flyway:database"] = database
    return Placeholders(replace=settings.get("placeholderreplacement", "true").lower() != "false",
                        prefix=settings.get("placeholderprefix") or "${",
                        suffix=settings.get("placeholdersuffix") or "}",
                        values={**own, **values})


def _database_of(url: str) -> str | None:
    """`jdbc:postgresql://host:5432/app?ssl=true` -> app."""
    match = re.match(r"^jdbc:postgresql://[^/]*/(?P<database>[^?;]+)", url.strip())
    return match["database"] if match else None
