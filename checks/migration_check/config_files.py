"""The config file itself: where it is (`.migration-check.yml`, or `[tool.migration-check]` in
pyproject.toml, from the checked path up to the git root) and its values with the line each is on,
so that every validation error names the file and line."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from migration_check.errors import ConfigError, FileError, read_utf8

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
