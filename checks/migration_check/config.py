"""Settings from the command line over the config file (`.migration-check.yml` or pyproject.toml).

The config file is found from the checked path upwards to the git root (or named with `--config`).
It is validated strictly: an unknown key, a wrong type or a bad value is a `ConfigError` that names
the key, the file and the line, because a misspelt key silently ignored is a check silently off.
Paths in the file are relative to the file's directory.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from migration_check.config_files import ConfigFile, Located, find_config, load_config, shown
from migration_check.errors import ConfigError
from migration_check.model import CHECK_FAMILIES, RollbackPolicy, Severity
from migration_check.settings import Settings

# --- validating it -------------------------------------------------------------------------------


class _Validator:
    """Turns a ConfigFile into Settings fields, raising a ConfigError at the first bad entry."""

    def __init__(self, config: ConfigFile) -> None:
        self.config = config
        self.base = config.directory

    def error(self, key: str, located: Located, message: str, child: Any = None) -> ConfigError:
        line = located.children.get(child, located.line) if child is not None else located.line
        return ConfigError(self.config.path, line, f"{key}: {message}")

    def string(self, key: str, located: Located) -> str:
        if not isinstance(located.value, str) or not located.value.strip():
            raise self.error(key, located, f"expected a non-empty string, got {_describe(located.value)}")
        return located.value

    def strings(self, key: str, located: Located) -> list[str]:
        if not isinstance(located.value, list):
            raise self.error(key, located, f"expected a list of strings, got {_describe(located.value)}")
        for index, item in enumerate(located.value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(key, located, f"entry {index + 1}: expected a non-empty string, got {_describe(item)}", index)
        return list(located.value)

    def boolean(self, key: str, located: Located) -> bool:
        if not isinstance(located.value, bool):
            raise self.error(key, located, f"expected true or false, got {_describe(located.value)}")
        return located.value

    def choice(self, key: str, located: Located, choices: list[str]) -> str:
        value = self.string(key, located)
        if value not in choices:
            raise self.error(key, located, f"expected one of {', '.join(choices)}, got {shown(value)}")
        return value

    def path(self, key: str, located: Located) -> Path:
        return self.base / self.string(key, located)


def _describe(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return "nothing" if value is None else names.get(type(value), type(value).__name__) + f" ({shown(value)})"


def _format(v: _Validator, key: str, located: Located) -> str:
    from migration_check.discovery import LAYOUTS  # late: discovery is heavier than config

    return v.choice(key, located, sorted(LAYOUTS))


def _naming_pattern(v: _Validator, key: str, located: Located) -> str:
    pattern = v.string(key, located)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise v.error(key, located, f"not a valid regular expression ({exc})") from None
    return pattern


def _setup(v: _Validator, key: str, located: Located, presets: bool = True) -> list[str]:
    """Preset names stay as they are; file entries (with a / or .sql) become paths from the config's
    directory. Without `presets` (seed files), a single file may also be given as a string."""
    entries = []
    values = v.strings(key, located) if presets or not isinstance(located.value, str) else [v.string(key, located)]
    for index, entry in enumerate(values):
        if not presets or "/" in entry or entry.endswith(".sql"):
            path = v.base / entry
            if not path.is_file():
                raise v.error(key, located, f"entry {index + 1}: no such file {path}", index)
            entry = str(path)
        entries.append(entry)
    return entries


def _rows(v: _Validator, key: str, located: Located) -> int:
    if isinstance(located.value, bool) or not isinstance(located.value, int) or not 1 <= located.value <= 1000:
        raise v.error(key, located, f"expected a number of rows per table from 1 to 1000, got {_describe(located.value)}")
    return located.value


def _ignore(v: _Validator, key: str, located: Located) -> list[str]:
    """Globs on file names stay; globs with a / are relative to the config's directory, made repo-relative."""
    prefix = _directory_in_repo(v.base)
    return [f"{prefix}/{p}" if prefix and "/" in p else p for p in v.strings(key, located)]


def _vars(v: _Validator, key: str, located: Located) -> dict[str, str]:
    if not isinstance(located.value, dict) or not all(isinstance(value, (str, int)) and not isinstance(value, bool)
                                                      for value in located.value.values()):
        raise v.error(key, located, f"expected a mapping of name to value, got {_describe(located.value)}")
    return {str(name): str(value) for name, value in located.value.items()}


def _directory_in_repo(directory: Path) -> str:
    root = next((d for d in [directory, *directory.parents] if (d / ".git").exists()), None)
    if root is None or root == directory:
        return ""
    return directory.relative_to(root).as_posix()


def _severity(v: _Validator, key: str, located: Located) -> dict[str, Severity]:
    if not isinstance(located.value, dict):
        raise v.error(key, located, f"expected a mapping of check family to error|warning, got {_describe(located.value)}")
    result = {}
    for family, level in located.value.items():
        if family not in CHECK_FAMILIES:
            raise v.error(key, located, f"unknown check family {family!r} (known: {', '.join(CHECK_FAMILIES)})", family)
        if level not in ("error", "warning"):
            raise v.error(key, located, f"{family}: expected error or warning, got {shown(level)}", family)
        result[family] = Severity(level)
    return result


def _lint(v: _Validator, key: str, located: Located) -> dict[str, Severity | None]:
    """Lint rules by name or code -> off, warning or error."""
    from migration_check.lint import rule_named

    if not isinstance(located.value, dict):
        raise v.error(key, located, f"expected a mapping of lint rule to off|warning|error, got {_describe(located.value)}")
    result: dict[str, Severity | None] = {}
    for rule, level in located.value.items():
        found = rule_named(str(rule))
        if found is None:
            raise v.error(key, located, f"unknown lint rule {rule!r} (the rules: docs/rules.md)", rule)
        if level is False:  # YAML reads a bare `off` as false
            level = "off"
        if level not in ("off", "warning", "error"):
            raise v.error(key, located, f"{rule}: expected off, warning or error, got {shown(level)}", rule)
        result[found.name] = None if level == "off" else Severity(level)
    return result


def _existing_file(v: _Validator, key: str, located: Located) -> Path:
    path = v.path(key, located)
    if not path.is_file():
        raise v.error(key, located, f"no such file {path}")
    return path


def pg_version(text: object) -> int | None:
    """`15` or `150000` -> 150000; None for anything else."""
    if isinstance(text, bool) or not isinstance(text, (int, str)) or not str(text).isdigit():
        return None
    number = int(text)
    return number * 10000 if 9 < number < 100 else number if number >= 100000 else None


def _pg_version(v: _Validator, key: str, located: Located) -> int:
    version = pg_version(located.value)
    if version is None:
        raise v.error(key, located, f"expected a PostgreSQL major version such as 15, got {shown(located.value)}")
    return version


def _interval(v: _Validator, key: str, located: Located) -> str:
    """A PostgreSQL duration: `90s`, `10min`, `2h`, or a number of milliseconds."""
    text = str(located.value) if isinstance(located.value, int) else v.string(key, located)
    if not re.fullmatch(r"\s*\d+\s*(ms|s|min|h|d)?\s*", text):
        raise v.error(key, located, f"expected a duration such as 90s, 10min or 2h, got {shown(located.value)}")
    return text.replace(" ", "")


# key -> (Settings field, reader). The README's configuration section lists the same keys.
KEYS: dict[str, tuple[str, Callable[[_Validator, str, Located], Any]]] = {
    "path": ("path", lambda v, k, x: v.path(k, x)),
    "format": ("format", _format),
    "naming-pattern": ("naming_pattern", _naming_pattern),
    "naming": ("naming_strict", lambda v, k, x: v.choice(k, x, ["runner", "strict"]) == "strict"),
    "rollbacks": ("rollbacks", lambda v, k, x: RollbackPolicy(v.choice(k, x, [p.value for p in RollbackPolicy]))),
    "base-ref": ("base_ref", lambda v, k, x: v.string(k, x)),
    "ignore": ("ignore", _ignore),
    "vars": ("vars", _vars),
    "setup": ("setup", _setup),
    "severity": ("severity", _severity),
    "data": ("data", lambda v, k, x: v.boolean(k, x)),
    "lint": ("lint", _lint),
    "drift-schema": ("drift_schema", lambda v, k, x: _existing_file(v, k, x)),
    "drift-ignore": ("drift_ignore", lambda v, k, x: v.strings(k, x)),
    "drift-prisma": ("drift_prisma", lambda v, k, x: v.path(k, x)),
    "pg-version": ("pg_version", _pg_version),
    "rows": ("rows", _rows),
    "seed": ("seed", lambda v, k, x: _setup(v, k, x, presets=False)),
    "fail-on": ("fail_on", lambda v, k, x: Severity(v.choice(k, x, [s.value for s in Severity]))),
    "strict-column-order": ("strict_column_order", lambda v, k, x: v.boolean(k, x)),
    "postgres-image": ("postgres_image", lambda v, k, x: v.string(k, x)),
    "pg-bindir": ("pg_bindir", lambda v, k, x: v.path(k, x)),
    "migration-role": ("migration_role", lambda v, k, x: v.string(k, x)),
    "statement-timeout": ("statement_timeout", lambda v, k, x: _interval(v, k, x)),
    "lock-timeout": ("lock_timeout", lambda v, k, x: _interval(v, k, x)),
}


def config_values(config: ConfigFile) -> dict[str, Any]:
    """Settings fields from a config file, validated."""
    validator = _Validator(config)
    values: dict[str, Any] = {}
    for key, located in config.values.items():
        if key not in KEYS:
            raise ConfigError(config.path, located.line, f"unknown key {key!r} (known keys: {', '.join(KEYS)})")
        field_name, read = KEYS[key]
        values[field_name] = read(validator, key, located)
    return values


# --- merging -------------------------------------------------------------------------------------

_ENUM_FIELDS = {"rollbacks": RollbackPolicy, "fail_on": Severity}


def resolve_settings(cli_values: dict[str, Any]) -> Settings:
    """`cli_values` holds only the flags the user gave; they override the config file.

    The config file is `cli_values["config"]`, else the nearest one from `path` (default: the
    current directory) up to the git root. An empty `base_ref` counts as not given: the action
    passes the pull request's base branch, which is empty on a push.
    """
    known = {f.name for f in dataclasses.fields(Settings)}
    cli = {k: v for k, v in cli_values.items() if v is not None and not (k == "base_ref" and v == "")}
    unknown = sorted(set(cli) - known)
    if unknown:
        raise ValueError(f"resolve_settings: not Settings fields: {', '.join(unknown)}")

    settings = Settings()
    config_path = Path(cli["config"]) if "config" in cli else find_config(Path(cli.get("path", ".")))
    if config_path is not None:
        for name, value in config_values(load_config(config_path)).items():
            setattr(settings, name, value)
        settings.config = config_path
    in_file = dict(settings.vars)
    for name, value in cli.items():
        setattr(settings, name, _ENUM_FIELDS[name](value) if name in _ENUM_FIELDS else value)
    settings.vars = {**in_file, **cli.get("vars", {})}  # a value given on the command line over the file's
    settings.setup_from_command_line = "setup" in cli
    settings.seed_from_command_line = "seed" in cli
    settings.path = Path(settings.path)
    return settings
