"""The values an Alembic migration's statements compute, evaluated from what the file writes out:
literals, names bound to them, SQLAlchemy's types and constructs and Alembic's operations
(alembic_sql.py writes their SQL). Nothing else is evaluated: a name, attribute or call this does
not know is NotReplayable, with what it is and its line.
"""

from __future__ import annotations

import ast
import enum
import inspect
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.operations import BatchOperations
from alembic_utils.replaceable_entity import ReplaceableEntity
from sqlalchemy import schema, types
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import elements, expression
from sqlalchemy.sql.base import ColumnCollection

from migration_check.discovery.alembic_comprehension import COMPREHENSIONS, comprehension
from migration_check.discovery.alembic_project import ProjectFunction, project_value
from migration_check.discovery.alembic_python import (
    BUILTINS,
    LOG_LEVELS,
    MOST_ITEMS,
    STRING_METHODS,
    Items,
    Logger,
    NotReplayable,
    formatter,
    library_function,
    nothing,
)
from migration_check.discovery.alembic_sql import Bind, Engine, Result, SentSql, Unreachable, asked_first, operation_of, resolve

SCHEMA_METHODS = frozenset({"create", "drop", "create_all", "drop_all"})
ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
              ast.Mod: operator.mod, ast.Div: operator.truediv, ast.Pow: operator.pow}
MOST_POWER = 64  # 2 ** 63 is a bound a migration writes; 10 ** 10 ** 10 is not a value
COMPARISONS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
               ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
               ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not}
# A comparison with a column is SQL (`table.c.source == "JIRA"`), written by SQLAlchemy's operators.
SQL_COMPARISONS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                   ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: lambda a, b: a.is_(b),
                   ast.IsNot: lambda a, b: a.is_not(b)}
PLAIN = (str, int, float, bool, tuple, list, type(None))
WHAT = {ast.For: "a loop", ast.While: "a loop", ast.AsyncFor: "a loop", ast.Try: "a try", ast.Raise: "a raise",
        ast.FunctionDef: "a function", ast.ClassDef: "a class", ast.Lambda: "a function",
        ast.Await: "an await", ast.Global: "a global", ast.Delete: "a del"}


class ImportedName:
    """A dotted name a migration imported, resolved when it is used."""

    def __init__(self, path: str) -> None:
        self.path = path


class _Op:
    """Alembic's `op`."""


class Context:
    """`op.get_context()`: what a migration reads of it (its dialect) and its autocommit_block."""

    def __init__(self, sent: SentSql) -> None:
        self.dialect = sent.context.dialect
        self.autocommit_block = sent.context.autocommit_block


OP = _Op()


class Helper:
    """A function the file defines, run where it is called."""

    def __init__(self, definition: ast.FunctionDef) -> None:
        self.definition = definition


# The objects whose attributes a migration may read and call: what SQLAlchemy builds from values
# (types, schema items, SQL expressions and their column collections) and alembic_utils' entities.
INSPECTED = (types.TypeEngine, schema.SchemaItem, schema.MetaData, elements.ClauseElement, ColumnCollection,
             type(expression.func), ReplaceableEntity)


# What a migration reads of an alembic_utils entity: its parts and its SQL (not from_path, which
# reads a file, nor from_database or get_database_definition, which read the database).
ENTITY_ATTRIBUTES = frozenset({"schema", "signature", "definition", "identity", "literal_schema", "on_entity",
                               "to_sql_statement_create", "to_sql_statement_drop",
                               "to_sql_statement_create_or_replace", "from_sql"})


def imported(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    if isinstance(node, ast.Import):
        return {(alias.asname or alias.name.split(".")[0]): (alias.name if alias.asname else alias.name.split(".")[0])
                for alias in node.names}
    base = "." * node.level + (node.module or "")
    return {(alias.asname or alias.name): f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}


@dataclass
class ModuleNames:
    """What the module binds at its top: imports (name -> dotted path), values bound once, and
    its functions and classes (code, never evaluated)."""

    imports: dict[str, str] = field(default_factory=dict)
    roots: tuple[Path, ...] = ()  # where the project's own modules are looked up (its enums)
    values: dict[str, ast.expr] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | None] = field(default_factory=dict)  # None: a class, an async def
    # An imported name set on an imported module (advanced-alchemy's template: `sa.GUID = GUID`):
    # "sqlalchemy.GUID" -> "advanced_alchemy.types.GUID".
    aliases: dict[str, str] = field(default_factory=dict)


class Values:
    """The evaluation of one function's expressions, its SQL sent through `sent`."""

    def __init__(self, module: ModuleNames, sent: SentSql) -> None:
        self.module = module
        self.sent = sent
        self.module_scope: dict[str, Any] = {}

    def value(self, node: ast.expr, scope: dict[str, Any]) -> Any:  # noqa: C901 - one branch per kind of node
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(self.formatted(part, scope) if isinstance(part, ast.FormattedValue)
                           else str(self.value(part, scope)) for part in node.values)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items = [part for item in node.elts for part in self.parts(item, scope)]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise NotReplayable(node.lineno, "an unpacked mapping")
            return {self.value(key, scope): self.value(value, scope)
                    for key, value in zip(node.keys, node.values, strict=True) if key is not None}
        if isinstance(node, ast.Name):
            return self.name(node, scope)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, self.value(node.value, scope))
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
            left, right = self.used(self.value(node.left, scope), node), self.used(self.value(node.right, scope), node)
            numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
            if numbers and not (isinstance(node.op, ast.Pow) and abs(right) > MOST_POWER):
                return ARITHMETIC[type(node.op)](left, right)
            if isinstance(node.op, ast.Add) and type(left) is type(right) and isinstance(left, str | list | tuple):
                return left + right
            if isinstance(node.op, ast.Mod) and isinstance(left, str):
                return left % right
        if isinstance(node, ast.UnaryOp):
            operand = self.value(node.operand, scope)
            if isinstance(operand, elements.ColumnElement):  # SQL: NOT, -
                return self.guarded(node, lambda: expression.not_(operand) if isinstance(node.op, ast.Not | ast.Invert)
                                    else -operand if isinstance(node.op, ast.USub) else operand)
            if isinstance(node.op, ast.Not) and isinstance(operand, PLAIN):
                return not operand
            if isinstance(node.op, ast.USub) and isinstance(operand, int | float):
                return -operand
        if isinstance(node, ast.Compare) and all(type(o) in COMPARISONS for o in node.ops):
            left = self.value(node.left, scope)
            if len(node.ops) == 1 and type(node.ops[0]) in SQL_COMPARISONS:
                right = self.value(node.comparators[0], scope)
                if any(isinstance(v, elements.ColumnElement) for v in (left, right)):
                    return self.guarded(node, lambda: SQL_COMPARISONS[type(node.ops[0])](left, right))
            for compared, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.value(comparator, scope)
                if not all(isinstance(v, PLAIN) for v in (left, right)):
                    raise NotReplayable(node.lineno, "a comparison of what the file cannot say alone")
                if not COMPARISONS[type(compared)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.BoolOp):  # Python's: the first operand that decides, evaluated in turn
            for operand in node.values:
                value = self.truth(operand, scope)
                if value is isinstance(node.op, ast.Or):
                    return value
            return value
        if isinstance(node, ast.IfExp):
            return self.value(node.body if self.truth(node.test, scope) else node.orelse, scope)
        if isinstance(node, ast.Subscript):
            container, index = self.used(self.value(node.value, scope), node), self.value(node.slice, scope)
            if isinstance(container, list | tuple | dict | str):
                return container[index]
        if isinstance(node, COMPREHENSIONS):
            return comprehension(self, node, scope)
        raise NotReplayable(node.lineno, WHAT.get(type(node), f"Python the check does not read ({type(node).__name__})"))

    def parts(self, item: ast.expr, scope: dict[str, Any]) -> list[Any]:
        """An item of a list the file writes, or the items of one it unpacks there (`[*KINDS, "x"]`)."""
        if not isinstance(item, ast.Starred):
            return [self.value(item, scope)]
        unpacked = self.used(self.value(item.value, scope), item)
        if not isinstance(unpacked, list | tuple | str | Items) or len(unpacked) > MOST_ITEMS:
            raise NotReplayable(item.lineno, "an unpacked sequence of what the file cannot say alone")
        return list(unpacked)

    def truth(self, node: ast.expr, scope: dict[str, Any]) -> bool:
        """Whether a condition holds, where the file alone says (a name of the project's, a
        connection or a column says nothing a condition can rest on)."""
        value = self.used(self.value(node, scope), node)
        if not isinstance(value, (*PLAIN, dict, enum.Enum)):
            raise NotReplayable(node.lineno, "a condition on what the file cannot say alone")
        return bool(value)

    def formatted(self, part: ast.FormattedValue, scope: dict[str, Any]) -> str:
        """A `{value!conversion:spec}` of an f-string, of a value the file writes out."""
        value = self.used(self.value(part.value, scope), part)
        if not isinstance(value, str | int | float | bool | enum.Enum | type(None)):
            raise NotReplayable(part.lineno, "an f-string of what the file cannot say alone")
        converted = {-1: value, ord("s"): str(value), ord("r"): repr(value), ord("a"): ascii(value)}[part.conversion]
        spec = self.value(part.format_spec, scope) if part.format_spec is not None else ""
        return format(converted, spec)

    def name(self, node: ast.Name, scope: dict[str, Any]) -> Any:
        if node.id in scope:
            return scope[node.id]
        module = self.module
        if node.id in module.values:
            if node.id not in self.module_scope:
                self.module_scope[node.id] = self.value(module.values[node.id], {})
            return self.module_scope[node.id]
        if node.id in module.imports:
            return OP if module.imports[node.id] == "alembic.op" else ImportedName(module.imports[node.id])
        if node.id in module.functions:
            definition = module.functions[node.id]
            if definition is None:
                raise NotReplayable(node.lineno, f"{node.id}, a class or async function of the file")
            return Helper(definition)
        if node.id in BUILTINS:
            return BUILTINS[node.id]
        raise NotReplayable(node.lineno, f"{node.id}, a name the file does not bind to a value")

    def attribute(self, node: ast.Attribute, base: Any) -> Any:
        name = node.attr
        if name.startswith("_"):
            raise NotReplayable(node.lineno, f"the private attribute {name}")
        if base is OP:
            if name == "get_bind":
                return lambda: self.sent.bind
            if name == "get_context":
                return lambda: Context(self.sent)
            return self.operation(node, self.sent.operations, name)
        if isinstance(base, ImportedName):
            path = self.module.aliases.get(f"{base.path}.{name}", f"{base.path}.{name}")
            return OP if path == "alembic.op" else ImportedName(path)
        if isinstance(base, Result):
            raise NotReplayable(node.lineno, f"a query's result ({name}), which only the database can say")
        if isinstance(base, Engine) and name in ("url", "dialect", "name"):
            return getattr(base, name)
        if isinstance(base, Logger) and name in LOG_LEVELS:
            return nothing
        if isinstance(base, Bind | Context):
            if name not in ("execute", "exec_driver_sql", "dialect", "engine", "autocommit_block") \
                    and not (name == "commit" and isinstance(base, Bind)):
                whose = "the connection's" if isinstance(base, Bind) else "the migration context's"
                raise NotReplayable(node.lineno, f"{whose} {name}, which the project's env.py sets")
            return getattr(base, name)
        if isinstance(base, enum.EnumMeta) and name in base.__members__ \
                or isinstance(base, enum.Enum) and name in ("name", "value"):
            return getattr(base, name)
        if isinstance(base, str) and name == "format":
            return formatter(base, node.lineno)
        if isinstance(base, str) and name in STRING_METHODS:
            return getattr(base, name)
        if isinstance(base, list) and name in ("append", "extend"):
            return self.grown(base, name, node.lineno)
        if isinstance(base, dict) and name in ("items", "keys", "values", "get"):
            method = getattr(base, name)
            return (lambda *a: Items(method(*a))) if name != "get" else method
        if isinstance(base, BatchOperations):
            return self.operation(node, base, name)
        if isinstance(base, Dialect):
            # What a migration asks to learn the database; a dialect also connects (connect, dbapi).
            if name not in ("name", "driver", "server_version_info", "type_descriptor"):
                raise NotReplayable(node.lineno, f"the dialect's {name}")
            return getattr(base, name)
        if (isinstance(base, ReplaceableEntity) or isinstance(base, type) and issubclass(base, ReplaceableEntity)) \
                and name not in ENTITY_ATTRIBUTES:
            raise NotReplayable(node.lineno, f"the entity's {name}, which reads a file or the database")
        if isinstance(base, INSPECTED):
            found = self.guarded(node, lambda: getattr(base, name))
            return self.schema_method(found, name) if name in SCHEMA_METHODS else found
        raise NotReplayable(node.lineno, f"the attribute {name} of what the file cannot say alone")

    @staticmethod
    def grown(items: list[Any], name: str, line: int) -> Any:
        """A list's append or extend (the file building its SQL piece by piece), up to MOST_ITEMS."""
        def grow(*arguments: Any) -> None:
            getattr(items, name)(*arguments)
            if len(items) > MOST_ITEMS:
                raise NotReplayable(line, f"a list grown past {MOST_ITEMS:,} items")
        return grow

    def operation(self, node: ast.AST, operations: Any, name: str) -> Any:
        return self.guarded(node, lambda: operation_of(operations, name, self.sent))

    def schema_method(self, method: Any, name: str) -> Any:
        """A type's, table's, index's or sequence's own create() or drop(): its statements, through
        Alembic's connection; `checkfirst` (the database asked first, the default of some) as the
        same question in SQL."""
        item = method.__self__
        parameter = inspect.signature(method).parameters.get("checkfirst")
        default = bool(parameter.default) if parameter is not None and parameter.default is not inspect.Parameter.empty \
            else False

        def called(bind: Any = None, checkfirst: bool = default, **kwargs: Any) -> None:
            if not isinstance(bind, Bind) or name.endswith("_all"):
                raise Unreachable(f"{name}() on something but op.get_bind()")
            before = len(self.sent.statements)
            method(self.sent.mock, checkfirst=False, **kwargs)
            if checkfirst:
                self.sent.statements[before:] = [asked_first(item, name, sql) for sql in self.sent.statements[before:]]
        return called

    def call(self, node: ast.Call, scope: dict[str, Any]) -> Any:
        function = self.value(node.func, scope)
        if isinstance(function, ImportedName):
            function = self.used(function, node)  # what it calls first: the project's own helper, say, is named
        # A project type whose SQL comes of no argument (prefect's Pydantic(Model)) takes names unread.
        use = self.unread if getattr(function, "reads_no_arguments", False) else self.used
        arguments: list[Any] = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                arguments += list(self.used(self.value(argument.value, scope), argument))
            else:
                arguments.append(use(self.value(argument, scope), argument))
        keywords: dict[str, Any] = {}
        for keyword in node.keywords:
            value = use(self.value(keyword.value, scope), keyword.value)
            if keyword.arg is None:
                if not isinstance(value, dict):
                    raise NotReplayable(node.lineno, "keywords unpacked from something but a mapping")
                keywords.update(value)
            else:
                keywords[keyword.arg] = value
        if isinstance(function, Helper):
            return self.helper(function.definition, arguments, keywords, node)
        if isinstance(function, ProjectFunction):
            return self.project_call(function, arguments, keywords, node)
        function = self.used(function, node)
        if not callable(function):
            raise NotReplayable(node.lineno, "a call of something that is not a function")
        return self.guarded(node, lambda: function(*arguments, **keywords))

    def helper(self, definition: ast.FunctionDef, arguments: list[Any], keywords: dict[str, Any], node: ast.AST) -> Any:
        """A call of a function of the file (alembic_reading.py runs its body)."""
        raise NotReplayable(getattr(node, "lineno", 0), f"{definition.name}, a function of the file")

    def project_call(self, function: ProjectFunction, arguments: list[Any], keywords: dict[str, Any],
                     node: ast.AST) -> Any:
        """A call of a function of the project's own modules (alembic_reading.py runs its body)."""
        raise NotReplayable(getattr(node, "lineno", 0), f"{function.definition.name}, the project's own function")

    def used(self, value: Any, node: ast.AST | None = None) -> Any:
        """A value as it is passed or called: an imported name resolved, where a migration may use it
        (a module is a namespace to name things in, never a value)."""
        line = getattr(node, "lineno", 0)
        if isinstance(value, ImportedName):
            if value.path.startswith("."):
                raise NotReplayable(line, f"uses {value.path.lstrip('.')}, the project's own Python")
            if (known := library_function(value.path)) is not None:
                return known
            if value.path == "alembic.context.get_context":  # (privacyidea's: op.get_context(), by another name)
                return lambda: Context(self.sent)
            try:
                value = resolve(value.path)
            except Unreachable as error:
                value = project_value(value.path, self.module.roots)
                if value is None:
                    raise NotReplayable(line, f"uses {error}") from None
        if inspect.ismodule(value):
            raise NotReplayable(line, f"the module {value.__name__} as a value")
        if value is OP:
            raise NotReplayable(line, "Alembic's op as a value")
        return value

    def unread(self, value: Any, node: ast.AST | None = None) -> Any:
        """`used`, or the name itself where it names what this does not read (it is never called)."""
        try:
            return self.used(value, node)
        except (NotReplayable, Unreachable):
            return value

    def guarded(self, node: ast.AST, action: Any) -> Any:
        try:
            return action()
        except Unreachable as error:
            raise NotReplayable(getattr(node, "lineno", 0), f"uses {error}") from None
