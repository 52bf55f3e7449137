"""Flyway's file names, as the project configures them: `sqlMigrationPrefix` (V),
`undoSqlMigrationPrefix` (U), `repeatableSqlMigrationPrefix` (R), `baselineMigrationPrefix` (B),
`sqlMigrationSeparator` (__) and `sqlMigrationSuffixes` (.sql), from the settings flyway_config.py
reads (OpenLMIS sets `spring.flyway.sql-migration-prefix=` empty: its scripts are
`20170206205240748__initial_schema.sql`). Java migrations are classes, named with V and R always.

A match is read by role: `prefix` is V, U, R or B whatever the project writes; `version`,
`description`, `ext` as written.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from migration_check.discovery.flyway_config import flyway_settings

CODE = ("java", "kt", "scala")
# Java, Kotlin and Scala classes: Flyway's class names, whatever the scripts' settings.
CLASS = re.compile(r"^(?P<prefix>[VURB])(?P<version>\d[\d._]*?)?__(?P<description>.+)\.(?P<ext>java|kt|scala)$")
DEFAULTS = {"V": ("sqlmigrationprefix", "V"), "U": ("undosqlmigrationprefix", "U"),
            "R": ("repeatablesqlmigrationprefix", "R"), "B": ("baselinemigrationprefix", "B")}


class Naming:
    """The script names of one Flyway location."""

    def __init__(self, prefixes: dict[str, str], separator: str, suffixes: tuple[str, ...]) -> None:
        self.prefixes, self.separator, self.suffixes = prefixes, separator, suffixes
        # Longer prefixes first: with an empty versioned prefix, `R__x.sql` is still repeatable.
        roles = sorted(prefixes, key=lambda role: -len(prefixes[role]))
        alternatives = "|".join(f"(?P<{role}>{re.escape(prefixes[role])})" for role in roles)
        ends = "|".join(re.escape(suffix.removeprefix(".")) for suffix in suffixes)
        self._script = re.compile(rf"^(?:{alternatives})(?P<version>\d[\d._]*?)?{re.escape(separator)}"
                                  rf"(?P<description>.+)\.(?P<ext>{ends})$")
        self.default = prefixes == {role: role for role in DEFAULTS} and separator == "__" and suffixes == (".sql",)

    def match(self, name: str) -> dict[str, str] | None:
        """The name's parts by role, or None where Flyway does not read it as a migration."""
        found = CLASS.match(name)
        if found is not None:
            parts = {key: found[key] or "" for key in ("prefix", "version", "description", "ext")}
        elif (script := self._script.match(name)) is not None:
            role = next(role for role in DEFAULTS if script.groupdict().get(role) is not None)
            parts = {"prefix": role, "version": script["version"] or "", "description": script["description"],
                     "ext": "sql"}
        else:
            return None
        if parts["prefix"] in "VUB" and not parts["version"]:
            return None  # V__x.sql: a versioned script needs a version
        if parts["prefix"] == "R" and parts["version"]:
            return None
        return parts

    def pattern(self) -> str:
        """The naming check's rule: any sub-folder of the location, then a script or class name."""
        versioned = "|".join(re.escape(self.prefixes[role]) for role in "VUB")
        ends = "|".join(re.escape(suffix.removeprefix(".")) for suffix in self.suffixes)
        return (rf"^(.+/)?((?:{versioned})\d+([._]\d+)*|{re.escape(self.prefixes['R'])}){re.escape(self.separator)}"
                rf"[^/]+\.({ends})$|^(.+/)?([VUB]\d+([._]\d+)*|R)__[^/]+\.({'|'.join(CODE)})$")

    def hint(self) -> str:
        v, r, u, sep = self.prefixes["V"], self.prefixes["R"], self.prefixes["U"], self.separator
        suffix = self.suffixes[0]
        return (f"{v}<version>{sep}<description>{suffix} ({u}<version>{sep} to undo, {r}{sep}<description>{suffix}"
                " repeatable), as the project's Flyway settings name them")


@functools.lru_cache(maxsize=64)
def naming_of(directory: Path) -> Naming:
    """The location's script names, from the project's Flyway settings."""
    settings = flyway_settings(directory)
    prefixes = {role: settings.get(key, default) for role, (key, default) in DEFAULTS.items()}
    suffixes = tuple(s.strip() for s in settings.get("sqlmigrationsuffixes", ".sql").split(",") if s.strip()) or (".sql",)
    return Naming(prefixes, settings.get("sqlmigrationseparator") or "__", suffixes)


def sort_key(version: str, description: str) -> tuple:
    """Versioned before repeatable; numeric parts compare as numbers, so V01 and V1 tie (a duplicate)."""
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in version.split("."))
    return (0, parts, version, description)
