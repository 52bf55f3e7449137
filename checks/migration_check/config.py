"""Settings from the command line over the config file (`.migration-check.yml` or pyproject.toml).

The config file is found from the checked path upwards to the git root (or named with `--config`).
It is validated strictly: an unknown key, a wrong type or a bad value is a `ConfigError` that names
the key, the file and the line, because a misspelt key silently ignored is a check silently off.
Paths in the file are relative to the file's directory.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from migration_check.errors import ConfigError, FileError, read_utf8
from migration_check.model import CHECK_FAMILIES, RollbackPolicy, Severity
from migration_check.settings import Settings

YAML_NAMES = (".migration-check.yml", ".migration-check.yaml")
PYPROJECT = "pyproject.toml"
TOML_TABLE = ("tool", "migration-check")
# A dotted TOML key before `=`: bare, "double" or 'single' quoted parts (line numbers only; tomllib parses).
_TOML_PART = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)"""
_TOML_KEY = re.compile(rf"^({_TOML_PART}(?:\s*\.\s*{_TOML_PART})*)\s*=")


@dataclass(frozen=True)
class Located:
    """A config value with the line of its key, and the lines of its entries (mapping keys, list items)."""

    value: Any
    line: int | None
    children: dict[Any, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    values: dict[str, Located]  # keys normalised to kebab-case

    @property
    def directory(self) -> Path:
        return self.path.resolve().parent


# --- finding the file ----------------------------------------------------------------------------


def find_config(start: Path) -> Path | None:
    """The nearest config file from `start` up to the git root (only `start` itself outside git).

    In one directory `.migration-check.yml` and a `[tool.migration-check]` table cannot both exist:
    which one wins would be a guess.
    """
    start = start.resolve()
    while not start.is_dir() and start != start.parent:
        start = start.parent  # a path that does not exist yet, or a file: look from its directory
    chain = [start, *start.parents]
    root = next((d for d in chain if (d / ".git").exists()), None)
    for directory in chain[: chain.index(root) + 1] if root else [start]:
        found = [directory / name for name in YAML_NAMES if (directory / name).is_file()]
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_table(pyproject):
            found.append(pyproject)
        if len(found) > 1:
            raise ConfigError(found[1], None, f"{found[0].name} is also a migration-check config here; keep one of them")
        if found:
            return found[0]
    return None


def _has_table(pyproject: Path) -> bool:
    # A cheap look first: an unrelated (even broken) pyproject.toml is none of our business.
    if "migration-check" not in pyproject.read_text(encoding="utf-8", errors="replace"):
        return False
    return _toml_table(pyproject, _parse_toml(pyproject, read_utf8(pyproject))) is not None


# --- reading it, with lines ----------------------------------------------------------------------


def load_config(path: Path) -> ConfigFile:
    """The raw values of a config file, each with its line. Bad YAML/TOML is a ConfigError."""
    if not path.is_file():
        raise ConfigError(path, None, "no such config file")
    try:
        text = read_utf8(path)
    except FileError as exc:
        raise ConfigError(exc.path, exc.line, exc.message) from None
    raw = _read_toml(path, text) if path.suffix == ".toml" else _read_yaml(path, text)
    values: dict[str, Located] = {}
    for key, located in raw.items():
        normal = key.replace("_", "-")  # snake_case keys are accepted as spellings of kebab-case ones
        if normal in values:
            raise ConfigError(path, located.line, f"{key!r} is given twice (as {normal!r} too)")
        values[normal] = located
    return ConfigFile(path, values)


class _NoAliasLoader(yaml.SafeLoader):
    """The config file comes with the pull request: an alias (`*name`) lets a few hundred bytes
    expand to gigabytes (a "billion laughs"), and a config file never needs one."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in the config file", mark)
        return super().compose_node(parent, index)  # type: ignore[arg-type]


def _read_yaml(path: Path, text: str) -> dict[str, Located]:
    # Compose the node tree rather than load: nodes carry the line of every key and item.
    loader = _NoAliasLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return {}
        if not isinstance(root, yaml.MappingNode):
            raise ConfigError(path, root.start_mark.line + 1, "expected a mapping of settings (key: value) at the top level")
        values: dict[str, Located] = {}
        for key_node, value_node in root.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise ConfigError(path, line, f"keys are names, not {shown(key)}")
            if key in values:
                raise ConfigError(path, line, f"{key!r} is given twice")
            values[key] = Located(loader.construct_object(value_node, deep=True), line, _yaml_children(value_node))
        return values
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(path, mark.line + 1 if mark else None, f"not valid YAML: {exc.problem or exc.context}") from None
    finally:
        loader.dispose()


def shown(value: object, limit: int = 60) -> str:
    """A value for a message: its repr, cut short, so no message quotes a whole huge value."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _yaml_children(node: yaml.Node) -> dict[Any, int]:
    if isinstance(node, yaml.MappingNode):
        return {k.value: k.start_mark.line + 1 for k, _ in node.value}
    if isinstance(node, yaml.SequenceNode):
        return {i: item.start_mark.line + 1 for i, item in enumerate(node.value)}
    return {}


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ConfigError(path, int(found[1]) if found else None, f"not valid TOML: {exc}") from None


def _toml_table(path: Path, data: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    """`[tool.migration-check]` of any .toml file; a standalone .toml file may hold the keys at the top."""
    table = data.get(TOML_TABLE[0], {}).get(TOML_TABLE[1]) if isinstance(data.get(TOML_TABLE[0]), dict) else None
    if isinstance(table, dict):
        return TOML_TABLE, table
    if path.name != PYPROJECT and TOML_TABLE[0] not in data:
        return (), data
    return None


def _read_toml(path: Path, text: str) -> dict[str, Located]:
    found = _toml_table(path, _parse_toml(path, text))
    if found is None:
        raise ConfigError(path, None, "no [tool.migration-check] table")
    prefix, table = found
    lines = _toml_key_lines(text)
    fallback = lines.get(prefix) if prefix else None  # the table's header, when a key's line is not found
    values = {}
    for key, value in table.items():
        here = prefix + (key,)
        children = {k: lines[here + (k,)] for k in value if here + (k,) in lines} if isinstance(value, dict) else {}
        values[key] = Located(value, lines.get(here, fallback), children)
    return values


def _toml_key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Best effort: the line of each key and table header, by dotted path (tomllib keeps no lines)."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        header = re.match(r"^\[\s*([^\[\]]+?)\s*\]", stripped)
        if header:
            table = _dotted(header[1])
            lines.setdefault(table, number)
            continue
        key = _TOML_KEY.match(stripped)
        if key:
            parts = _dotted(key[1])
            for depth in range(1, len(parts) + 1):
                lines.setdefault(table + parts[:depth], number)
            inline = re.match(r"^\s*\{(.*)\}\s*$", stripped[key.end() :])
            for inner in re.findall(r"([A-Za-z0-9_\-]+)\s*=", inline[1]) if inline else []:
                lines.setdefault(table + parts + (inner,), number)
    return lines


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', text))


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
    "setup": ("setup", _setup),
    "severity": ("severity", _severity),
    "data": ("data", lambda v, k, x: v.boolean(k, x)),
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
    for name, value in cli.items():
        setattr(settings, name, _ENUM_FIELDS[name](value) if name in _ENUM_FIELDS else value)
    settings.setup_from_command_line = "setup" in cli
    settings.seed_from_command_line = "seed" in cli
    settings.path = Path(settings.path)
    return settings
