"""One parse tree per statement text, shared by every reader (objects, lint, locks, data, outside):
pglast builds its Python nodes slowly, and a migration's statements are read by several families
three times over (the up, the rollback, the up again). Trees are read-only for their readers.
The cache holds a few migrations' worth: pglast's trees are large, and no later migration needs
an earlier one's."""

from __future__ import annotations

import functools

import pglast
from pglast import ast, parser


@functools.lru_cache(maxsize=512)
def parse(sql: str) -> tuple[ast.RawStmt, ...]:
    """pglast's parse of `sql` (raises pglast.parser.ParseError, which is not cached)."""
    return tuple(pglast.parse_sql(sql))


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
