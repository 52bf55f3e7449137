"""The project's own names a migration uses, read from the project's source, never imported: its
Python enums (`sa.Enum(DocumentSource, native_enum=False)`, `DocumentSource.JIRA.value`), its
column types (SQLAlchemy's `TypeDecorator` recipe: `GUID`, `Timestamp`), its functions (a helper
that writes a policy's SQL, run by the same evaluator as the migration) and its literal constants.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration_check.errors import FileError, read_utf8

ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"})
MOST_BYTES = 4 << 20  # a module of the project this large is not where an enum is kept
MOST_HOPS = 5  # re-exports followed from the module a migration names


def project_value(path: str, roots: tuple[Path, ...]) -> Any:
    """The class `path` names (`package.module.Class`), or an enum's member or its name or value
    (`package.module.Class.MEMBER.value`), a function (run as a migration's own helper is, when it is
    called) or a constant the module binds once to literals; None where it is none of those."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        found = _project_class(".".join(parts[:split]), parts[split], roots)
        if found is None:
            continue
        if isinstance(found.node, ast.FunctionDef):
            from migration_check.discovery.alembic_project_code import project_function  # it runs code as a migration's
            return project_function(found, roots) if split == len(parts) - 1 else None
        if not isinstance(found.node, ast.ClassDef):
            return ast.literal_eval(found.node) if split == len(parts) - 1 else None
        value: Any = class_of(found, roots)
        for attribute in parts[split + 1:]:
            if isinstance(value, enum.EnumMeta) and attribute in value.__members__:
                value = value.__members__[attribute]
            elif isinstance(value, enum.Enum) and attribute in ("name", "value"):
                value = getattr(value, attribute)
            else:
                return None
        return value
    return None


@dataclass(frozen=True)
class ProjectFunction:
    """A function of the project's own modules a migration calls, run by its module's evaluator."""

    definition: ast.FunctionDef
    evaluator: Any  # (alembic_reading's Evaluator of its module)
    where: str  # its file's name, for messages


@dataclass(frozen=True)
class ProjectClass:
    """A definition of the project's module: a class, a function, or a constant's literal value."""

    path: Path
    text: str
    module: ast.Module
    node: ast.ClassDef | ast.FunctionDef | ast.expr


def class_of(found: ProjectClass, roots: tuple[Path, ...]) -> Any:
    assert isinstance(found.node, ast.ClassDef)
    bases = {ast.unparse(base).split("[")[0] for base in found.node.bases}
    if any(base == "TypeDecorator" or base.endswith(".TypeDecorator") for base in bases):
        from migration_check.discovery.alembic_project_code import decorated_type  # it evaluates code as a migration's
        return decorated_type(found, roots)
    return _plain_enum(found.node, _enum_names(found.module))


@functools.lru_cache(maxsize=256)
def _project_class(module: str, name: str, roots: tuple[Path, ...], depth: int = 0) -> ProjectClass | None:
    """The class `name` of the project's module `module`, or of the module it imports it from."""
    source = _module_source(module, roots)
    return _class_in(*source, module, name, roots, depth) if source is not None else None


def _module_source(module: str, roots: tuple[Path, ...]) -> tuple[Path, str, ast.Module] | None:
    """The project's module `module` (its file, text and syntax tree), from the first root that has
    it; None where none has, or the file is too large or does not parse."""
    for root in roots:
        for candidate in (root.joinpath(*module.split(".")).with_suffix(".py"),
                          root.joinpath(*module.split("."), "__init__.py")):
            if candidate.is_file() and candidate.stat().st_size < MOST_BYTES:
                try:
                    text = read_utf8(candidate)
                    return candidate, text, ast.parse(text)
                except (SyntaxError, ValueError, UnicodeDecodeError, FileError, RecursionError, MemoryError):
                    return None
    return None


def _class_in(path: Path, text: str, module: ast.Module, module_name: str, name: str, roots: tuple[Path, ...],
              depth: int) -> ProjectClass | None:
    for node in module.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
            return ProjectClass(path, text, module, node)
    if (constant := _constant(module, name)) is not None:
        return ProjectClass(path, text, module, constant)
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    for node in module.body:
        if isinstance(node, ast.ImportFrom) and depth < MOST_HOPS:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    base = package.split(".")[:len(package.split(".")) - (node.level - 1)] if node.level else []
                    source = ".".join([*base, *([node.module] if node.module else [])])
                    return _project_class(source, alias.name, roots, depth + 1)
    return None


def naming_convention(path: str, roots: tuple[Path, ...]) -> dict[str, str] | None:
    """The naming convention of the MetaData `path` names (env.py's `target_metadata`:
    `models.Base.metadata`, `Model.metadata`), where its module writes it out: Alembic names a
    migration's unnamed constraints by it, as SQLAlchemy does the models'."""
    parts = path.removesuffix(".metadata").split(".")
    for split in range(len(parts), 0, -1):
        module = ".".join(parts[:split])
        found = _project_class(module, parts[split], roots) if split < len(parts) else None
        tree = found.module if found is not None else (source[2] if (source := _module_source(module, roots)) else None)
        if tree is not None and (convention := convention_in(tree)) is not None:
            return convention
    return None


def convention_in(module: ast.Module) -> dict[str, str] | None:
    """The first `naming_convention=` the module gives as a literal dict (or a name bound to one)."""
    for node in ast.walk(module):
        if isinstance(node, ast.keyword) and node.arg == "naming_convention":
            value = _constant(module, node.value.id) if isinstance(node.value, ast.Name) else node.value
            try:
                convention = ast.literal_eval(value) if value is not None else None
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                convention = None
            if isinstance(convention, dict) and all(isinstance(v, str) for v in convention.values()):
                return convention
    return None


def _constant(module: ast.Module, name: str) -> ast.expr | None:
    """The literal the module binds `name` to, where it binds it once (tuples of table names)."""
    bound = [node.value for node in module.body if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
             and any(isinstance(target, ast.Name) and target.id == name
                     for target in (node.targets if isinstance(node, ast.Assign) else [node.target]))]
    if len(bound) != 1:
        return None
    try:
        ast.literal_eval(bound[0])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return bound[0]


def _enum_names(module: ast.Module) -> frozenset[str]:
    """The names Enum, StrEnum and IntEnum go by in the module (`from enum import Enum as PyEnum`)."""
    names = set(ENUM_BASES)
    for node in module.body:
        if isinstance(node, ast.ImportFrom) and node.module == "enum":
            names |= {alias.asname or alias.name for alias in node.names if alias.name in ENUM_BASES}
        elif isinstance(node, ast.Import):
            names |= {f"{alias.asname}.{base}" for alias in node.names if alias.name == "enum" and alias.asname
                      for base in ("Enum", "StrEnum", "IntEnum")}
    return frozenset(names)


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
