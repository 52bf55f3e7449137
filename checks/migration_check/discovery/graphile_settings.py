"""Graphile Migrate's settings, as its `getSettings` and `parseSettings` read them (src/settings.ts,
src/actions.ts, src/migration.ts), for what a replay needs: where the migrations are, the
placeholders, the SQL actions a new database gets, and the settings each session starts with.

- `.gmrc` is JSON5 in the directory graphile-migrate runs from (read here as a JavaScript object
  literal, which JSON5 is); `.gmrc.js` and `.gmrc.cjs` are code and are not run: their settings
  are the defaults. `migrationsFolder` (default `./migrations`) is relative to that directory.
- Placeholders are replaced as plain text wherever they stand, each key followed by a word boundary
  (`generatePlaceholderReplacement`): the project's `placeholders` (`"!ENV"`: the environment's
  variable of that name), `:DATABASE_NAME` (the database of the connection) and `:DATABASE_OWNER`
  (`databaseOwner`, else the connection's user). The environment is the deploy's, not the
  repository's: those values come from `--var NAME=VALUE` here; the owner defaults to the role the
  replay runs its migrations as (`postgres`) and the name to the database the tool's own servers
  replay on (`migration_check`), as graphile-migrate's are the connection's.
- `afterReset` SQL actions (`"file.sql"`, `"!file.sql"` as the superuser, `{"_": "sql", ...}`) make
  a new database before its migrations (`graphile-migrate reset`), then `beforeAllMigrations`;
  `"_": "command"` actions run programs, which a replay does not. Actions for the shadow database
  only are left out. `pgSettings` are set in every session that runs a migration.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from migration_check.discovery.base import read_sql, within_repository
from migration_check.discovery.deploy_values import given
from migration_check.discovery.js_reading import parser
from migration_check.discovery.js_values import Code, Values
from migration_check.model import Script, Transaction
from migration_check.servers.base import DEFAULT_MIGRATION_ROLE, REPLAY_DATABASE
from migration_check.sql.prepared import quote_literal

CONFIG_FILES = (".gmrc", ".gmrc.js", ".gmrc.cjs")
RESERVED = (":DATABASE_NAME", ":DATABASE_OWNER")


@dataclass(frozen=True)
class Unknown:
    """A placeholder with no value here, and where graphile-migrate takes it from."""

    source: str


@dataclass(frozen=True)
class Missing:
    """A placeholder used without a value here: where it first stands, and why it has none."""

    offset: int
    key: str
    unknown: Unknown


@dataclass
class GraphileSettings:
    root: Path | None  # the directory of the settings file (None: none found)
    config: Path | None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def migrations_folder(self) -> Path | None:
        if self.root is None:
            return None
        return (self.root / str(self.values.get("migrationsFolder") or "./migrations")).resolve()

    @functools.cached_property
    def placeholders(self) -> dict[str, str | Unknown]:
        """Every placeholder key and its value (or why it has none here): the same for every file of
        one discovery, whose given values do not change."""
        found: dict[str, str | Unknown] = {}
        for key, value in (self.values.get("placeholders") or {}).items():
            name = str(key).removeprefix(":")
            if value == "!ENV":
                found[str(key)] = given().get(name) or Unknown(f"the environment variable {name} (\"!ENV\" in .gmrc)")
            else:
                found[str(key)] = str(value)
        user, database = _connection(self.values.get("connectionString"))
        owner = self.values.get("databaseOwner") or user
        found[":DATABASE_OWNER"] = given().get("DATABASE_OWNER") or (str(owner) if owner else DEFAULT_MIGRATION_ROLE)
        found[":DATABASE_NAME"] = given().get("DATABASE_NAME") or database or REPLAY_DATABASE
        return found

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        """Each key followed by a word boundary, the longest first (`generatePlaceholderReplacement`)."""
        keys = sorted(self.placeholders, key=len, reverse=True)
        return re.compile("(?:" + "|".join(re.escape(key) for key in keys) + r")\b")

    def substituted(self, text: str) -> tuple[str, list[Missing]]:
        """The text with its placeholders replaced, and those without a value, each once, in the
        order they first appear."""
        values, pattern = self.placeholders, self._pattern
        missing: dict[str, Missing] = {}
        for match in pattern.finditer(text):
            if isinstance(unknown := values[match[0]], Unknown) and match[0] not in missing:
                missing[match[0]] = Missing(match.start(), match[0], unknown)

        def value(match: re.Match[str]) -> str:
            found = values[match[0]]
            return found if isinstance(found, str) else match[0]

        return pattern.sub(value, text), list(missing.values())

    def setup(self) -> tuple[list[Script], list[str]]:
        """The SQL actions a new database gets before its migrations, with the placeholders
        replaced, and what is left out (command actions, files not found, unknown placeholders)."""
        folder, scripts, left_out = self.migrations_folder, [], []
        for event in ("afterReset", "beforeAllMigrations"):
            for action in _actions(self.values.get(event)):
                if action.get("shadow") is True:
                    continue
                if action.get("_") != "sql":
                    left_out.append(f"{event}'s command `{action.get('command', '')}`")
                    continue
                path = (folder / str(action.get("file", ""))) if folder else None
                if path is None or not path.is_file():
                    left_out.append(f"{event}'s {action.get('file')} (not found)")
                    continue
                text, missing = self.substituted(read_sql(path))
                if missing:
                    keys = " ".join(f"--var {m.key.removeprefix(':')}=VALUE" for m in missing)
                    them = "it" if len(missing) == 1 else "them"
                    left_out.append(f"{event}'s {path.name} (it uses {', '.join(m.key for m in missing)}:"
                                    f" {'; '.join(m.unknown.source for m in missing)}; {keys} gives {them})")
                    continue
                scripts.append(Script(path, text, transaction=Transaction.ONE_QUERY, root=self.root))
        settings = {str(k): str(v) for k, v in (self.values.get("pgSettings") or {}).items()}
        if settings:
            scripts.append(Script(self.config or Path(".gmrc"), _session_settings(settings), root=self.root))
        return scripts, left_out


def settings_for(committed: Path) -> GraphileSettings:
    """The settings of the project whose committed migrations are in `committed`: the first settings
    file from the folder above `migrations/` up to the repository's root."""
    for folder in within_repository(committed.parent.parent):
        for name in CONFIG_FILES:
            path = folder / name
            if path.is_file():
                values = _json5(path) if name == ".gmrc" else {}
                return GraphileSettings(folder, path, values)
    return GraphileSettings(None, None)


def _json5(path: Path) -> dict[str, Any]:
    """A JSON5 file's object, read as the JavaScript object literal it is; {} where it is not one."""
    source = ("(" + path.read_text(encoding="utf-8", errors="replace") + "\n)").encode()
    stack = [parser().parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "object":
            try:
                value = Values().value(node)
            except Code:
                return {}
            return value if isinstance(value, dict) else {}
        stack.extend(reversed(node.named_children))
    return {}


def _actions(raw: object) -> list[dict[str, Any]]:
    """Action specs as `makeValidateActionCallback` reads them."""
    specs = raw if isinstance(raw, list) else [raw] if raw else []
    found: list[dict[str, Any]] = []
    for spec in specs:
        if isinstance(spec, str):
            found.append({"_": "sql", "file": spec.removeprefix("!"), "root": spec.startswith("!")})
        elif isinstance(spec, dict):
            found.append(spec if spec.get("_") else {"_": "command", **spec})
    return found


def _connection(url: object) -> tuple[str | None, str | None]:
    """(user, database) of a connection string written in the settings, not taken from the environment."""
    if not isinstance(url, str) or url == "!ENV" or "://" not in url:
        return None, None
    parsed = urlparse(url)
    return (unquote(parsed.username) if parsed.username else None), (unquote(parsed.path.lstrip("/")) or None)


def _session_settings(settings: dict[str, str]) -> str:
    """Each session of the database starts with the settings, set as graphile-migrate sets them in
    every client it opens (`set_config(key, value, false)`); the replay opens its sessions after the
    setup."""
    return "\n".join(
        f"DO $$ BEGIN PERFORM pg_catalog.set_config({quote_literal(name)}, {quote_literal(value)}, false);"
        f" EXECUTE format('ALTER DATABASE %I SET %I FROM CURRENT', current_database(), {quote_literal(name)}); END $$;"
        for name, value in settings.items()) + "\n"
