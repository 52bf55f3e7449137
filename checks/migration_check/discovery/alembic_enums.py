"""The project's own Python enums a migration uses (`sa.Enum(DocumentSource, native_enum=False)`,
`DocumentSource.JIRA.value`), read from the project's source, never imported.

`alembic upgrade` imports the project's module today, so a migration gets the enum as the code
defines it now, whatever it was when the migration was written; so does the replay. A class counts
only where it is plainly an enum: its bases name `Enum`, `StrEnum` or `IntEnum` (with `str` or
`int` beside), and its members are names bound to literals. Anything else (`auto()`, a computed
value, a member from elsewhere) is code, and the name stays one the check cannot read.
"""

from __future__ import annotations

import ast
import enum
import functools
from pathlib import Path
from typing import Any

from migration_check.errors import read_utf8

ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"})
MOST_BYTES = 4 << 20  # a module of the project this large is not where an enum is kept


def project_value(path: str, roots: tuple[Path, ...]) -> Any:
    """The enum class `path` names (`package.module.Class`), or a member or its name or value
    (`package.module.Class.MEMBER.value`); None where it is not one of the project's plain enums."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        found = _enum_class(".".join(parts[:split]), parts[split], roots)
        if found is None:
            continue
        value: Any = found
        for attribute in parts[split + 1:]:
            if isinstance(value, enum.EnumMeta) and attribute in value.__members__:
                value = value.__members__[attribute]
            elif isinstance(value, enum.Enum) and attribute in ("name", "value"):
                value = getattr(value, attribute)
            else:
                return None
        return value
    return None


@functools.lru_cache(maxsize=256)
def _enum_class(module: str, name: str, roots: tuple[Path, ...]) -> type[enum.Enum] | None:
    for root in roots:
        for candidate in (root.joinpath(*module.split(".")).with_suffix(".py"),
                          root.joinpath(*module.split("."), "__init__.py")):
            if candidate.is_file() and candidate.stat().st_size < MOST_BYTES:
                return _read_enum(candidate, name)
    return None


def _read_enum(path: Path, name: str) -> type[enum.Enum] | None:
    try:
        module = ast.parse(read_utf8(path))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    names = set(ENUM_BASES)  # and what the module imports them as (`from enum import Enum as PyEnum`)
    for node in module.body:
        if isinstance(node, ast.ImportFrom) and node.module == "enum":
            names |= {alias.asname or alias.name for alias in node.names if alias.name in ENUM_BASES}
        elif isinstance(node, ast.Import):
            names |= {f"{alias.asname}.{base}" for alias in node.names if alias.name == "enum" and alias.asname
                      for base in ("Enum", "StrEnum", "IntEnum")}
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return _plain_enum(node, frozenset(names))
    return None


def _plain_enum(node: ast.ClassDef, enum_names: frozenset[str]) -> type[enum.Enum] | None:
    bases = {ast.unparse(base) for base in node.bases}
    if not bases & enum_names or node.keywords or node.decorator_list:
        return None
    members: list[tuple[str, Any]] = []
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) and not statement.targets[0].id.startswith("_"):
            try:
                members.append((statement.targets[0].id, ast.literal_eval(statement.value)))
            except ValueError:
                return None
        elif not (isinstance(statement, ast.FunctionDef | ast.Pass)  # methods make no members
                  or isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
            return None
    if not members:
        return None
    mixin = str if "str" in bases or "StrEnum" in bases else int if "int" in bases or "IntEnum" in bases else None
    try:
        return enum.Enum(node.name, members, type=mixin) if mixin else enum.Enum(node.name, members)  # type: ignore[return-value]
    except (TypeError, ValueError):
        return None
