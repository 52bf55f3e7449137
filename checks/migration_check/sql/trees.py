"""One parse tree per statement text, shared by every reader (objects, lint, locks, data, outside):
pglast builds its Python nodes slowly, and a migration's statements are read by several families
three times over (the up, the rollback, the up again). Trees are read-only for their readers.
The cache holds a few migrations' worth: pglast's trees are large, and no later migration needs
an earlier one's.

Building the nodes is most of a parse: pglast checks every value its own parser assigns
(Node.__setattr__ looks the attribute's C type up, imports its enums module and checks the type),
though the parser hands over values of the right type already (tuples, enum members, `chr()` for a
char), all but the ints of `bool` fields. `_assign` keeps that one conversion and drops the checks,
for the check's own parses only (`parse_sql`, on the thread it runs on: other code in the process, a
team's own tests beside the pytest plugin, may build nodes that rely on pglast's conversions, and
gets pglast's assignment): the trees are the same (tests/test_trees.py compares them on every SQL
file of the fixtures), built in half the time (0.65 to 0.31 ms per migration of the synthetic
benchmark)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from typing import TypeVar

import pglast
from pglast import ast, parser

PGLAST_ASSIGN = ast.Node.__setattr__  # pglast's checking assignment (the tests compare with it)


def _node_classes(base: type[ast.Node]) -> Iterator[type[ast.Node]]:
    for subclass in base.__subclasses__():
        yield subclass
        yield from _node_classes(subclass)


def _bool_fields() -> dict[type, frozenset[str]] | None:
    """Each node class's `bool` attributes; None when pglast no longer describes its slots as
    this module expects (its own checks then stay)."""
    fields: dict[type, frozenset[str]] = {}
    for cls in _node_classes(ast.Node):
        slots = getattr(cls, "__slots__", None)
        if not slots:  # an abstract class (Expr), or one without attributes
            continue
        if not isinstance(slots, dict) or not all(hasattr(info, "c_type") for info in slots.values()):
            return None
        fields[cls] = frozenset(name for name, info in slots.items() if info.c_type == "bool")
    return fields


_BOOL_FIELDS = _bool_fields()


_within = threading.local()  # `parsing` is true on a thread while the check's parse_sql runs there


def _assign(node: ast.Node, name: str, value: object) -> None:
    if not getattr(_within, "parsing", False):
        PGLAST_ASSIGN(node, name, value)
        return
    if value is not None and name in _BOOL_FIELDS.get(type(node), ()):  # type: ignore[union-attr]
        value = bool(value)
    object.__setattr__(node, name, value)


# Installed once: swapping a class's __setattr__ back and forth around each parse empties the
# type caches of every node class, which costs more than the checks it saves.
if _BOOL_FIELDS is not None:
    ast.Node.__setattr__ = _assign  # type: ignore[method-assign,assignment]


def parse_sql(sql: str) -> tuple[ast.RawStmt, ...]:
    """pglast.parse_sql, its nodes built with `_assign`'s shortcut (raises pglast.parser.ParseError)."""
    before = getattr(_within, "parsing", False)
    _within.parsing = True
    try:
        return tuple(pglast.parse_sql(sql))
    finally:
        _within.parsing = before


@functools.lru_cache(maxsize=512)
def parse(sql: str) -> tuple[ast.RawStmt, ...]:
    """The check's parse of `sql`, cached (raises pglast.parser.ParseError, which is not cached)."""
    return parse_sql(sql)


def statements(sql: str) -> tuple[ast.RawStmt, ...]:
    """`parse`, but none where the text does not parse (a psql meta-command, a PL/pgSQL expression):
    for the readers that collect what they find and say nothing of what they cannot read."""
    try:
        return parse(sql)
    except parser.ParseError:
        return ()


N = TypeVar("N", bound=ast.Node)


def nodes_of(tree: ast.Node | tuple, kind: type[N]) -> Iterator[N]:
    """Every node of class `kind` in `tree`, in no particular order: what pglast's Visitor finds,
    without its per-call introspection and ancestor chains (several times slower, and the
    readers that only collect names need neither)."""
    pending: list[object] = [tree]
    while pending:
        item = pending.pop()
        if isinstance(item, tuple):
            pending.extend(item)
        elif isinstance(item, ast.Node):
            if isinstance(item, kind):
                yield item
            pending.extend(value for value in (getattr(item, name) for name in item)
                           if isinstance(value, (tuple, ast.Node)))


def called_names(node: ast.Node | tuple[ast.Node, ...] | None) -> set[str]:
    """The names of the functions an expression or statements call (the last part, as the parser
    gives it: a quoted name keeps its case)."""
    if node is None:
        return set()
    return {str(getattr(call.funcname[-1], "sval", "")) for call in nodes_of(node, ast.FuncCall) if call.funcname}


def function_names(node: ast.Node | None) -> set[str]:
    """The names of the functions an expression or statement calls (the last part, lowercased)."""
    return {name.lower() for name in called_names(node)}


def statement(sql: str) -> ast.Node | None:
    """The tree of one statement's text; None when it does not parse (a psql meta-command) or
    holds no statement."""
    try:
        parsed = parse(sql)
    except parser.ParseError:
        return None
    return parsed[0].stmt if parsed else None


@functools.lru_cache(maxsize=256)
def plpgsql_body(source: str, returns: str = "void") -> list | None:
    """PostgreSQL's PL/pgSQL parse tree (as pglast gives it) of a function body or DO block,
    compiled as a function returning `returns`; None when it does not parse."""
    tag = "$mc$"
    while tag in source:
        tag = tag[:-1] + "x$"
    try:
        tree: list = pglast.parse_plpgsql(f"CREATE FUNCTION f() RETURNS {returns} LANGUAGE plpgsql AS {tag}{source}{tag}")
    except parser.ParseError:
        return None
    return tree


@functools.lru_cache(maxsize=256)
def plpgsql_function(sql: str) -> list | None:
    """PostgreSQL's PL/pgSQL parse tree of a whole CREATE FUNCTION (its own parameters and return
    type declared); None when it does not parse."""
    try:
        tree: list = pglast.parse_plpgsql(sql)
    except parser.ParseError:
        return None
    return tree
