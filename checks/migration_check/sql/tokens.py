"""Code compared as PostgreSQL reads it: a token stream, without comments or layout.

Two function bodies that differ only in comments, white space or the case of keywords and
unquoted names are the same function. PL/pgSQL is read by the core lexer too (it is what
PL/pgSQL's own scanner is built on), so this serves `sql` and `plpgsql` bodies alike.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from pglast import ast, parser
from pglast.enums import BoolExprType, SetOperation
from pglast.stream import RawStream

from migration_check.sql.trees import parse_sql

_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
# Tokens whose letters are folded to lower case by PostgreSQL: keywords and unquoted names.
_CASE_FOLDED = frozenset({"IDENT"})
# The types a constant like 'now' or 'today' turns into a fixed moment when the definition is stored.
_MOMENT_TYPES = frozenset({"timestamp", "timestamptz", "date"})
# A stored moment within two days of this check (any server TimeZone, and a date's midnight) was
# written while the check ran: by 'now'::timestamp, 'today'::date and the like, read at CREATE.
_STARTED = datetime.now()
_MARGIN = timedelta(days=2)


@functools.lru_cache(maxsize=4096)
def code_tokens(text: str) -> tuple[str, ...] | None:
    """The tokens of `text`, comments left out, keywords and unquoted names in lower case; None
    when the lexer cannot read it (then only the exact text can be compared)."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return None
    result = []
    for token in tokens:
        if token.name in _COMMENTS:
            continue
        value = text[token.start : token.end + 1]
        folded = token.kind != "NO_KEYWORD" or (token.name in _CASE_FOLDED and not value.startswith('"'))
        result.append(value.lower() if folded else value)
    return tuple(result)


def same_code(before: str, after: str) -> bool:
    """Whether two pieces of SQL or PL/pgSQL are the same code, apart from comments and layout."""
    if before == after:
        return True
    tokens_before, tokens_after = code_tokens(before), code_tokens(after)
    return tokens_before is not None and tokens_before == tokens_after


def same_but_creation_times(before: str, after: str) -> bool:
    """Whether two definitions differ only in the moments PostgreSQL stored when each was made:
    `'now'::timestamp` in a view or a default is read once, at CREATE, so the same SQL run twice
    stores two times. The same statement is the same definition (lint rule frozen-time-literal
    reports the constant itself)."""
    tokens_before, tokens_after = _named_tokens(before), _named_tokens(after)
    if tokens_before is None or tokens_after is None or len(tokens_before) != len(tokens_after):
        return False
    differing = [i for i, (a, b) in enumerate(zip(tokens_before, tokens_after, strict=True)) if a != b]
    return bool(differing) and all(
        _stored_moment(tokens_before, i) and _stored_moment(tokens_after, i) for i in differing)


@functools.lru_cache(maxsize=256)
def _named_tokens(text: str) -> tuple[tuple[str, str], ...] | None:
    try:
        return tuple((token.name, text[token.start : token.end + 1]) for token in parser.scan(text)
                     if token.name not in _COMMENTS)
    except parser.ParseError:
        return None


def _stored_moment(tokens: tuple[tuple[str, str], ...], at: int) -> bool:
    """Whether token `at` is a date or timestamp constant (`'2026-12-01 10:00:00'::timestamp ...`)
    whose moment falls within two days of this check."""
    name, value = tokens[at]
    following = [value.lower() for _, value in tokens[at + 1 : at + 3]]
    if name != "SCONST" or len(following) < 2 or following[0] != "::" or following[1] not in _MOMENT_TYPES:
        return False
    try:
        moment = datetime.fromisoformat(value.strip("'")).replace(tzinfo=None)
    except ValueError:
        return False
    return _STARTED - _MARGIN <= moment <= datetime.now() + _MARGIN


def same_but_column_order(before: str, after: str) -> bool:
    """Whether two view definitions (`pg_get_viewdef`) select the same columns, the same way, in
    another order: what `SELECT *` gives when the table's columns were dropped and added back."""
    canonical_before, canonical_after = _columns_in_any_order(before), _columns_in_any_order(after)
    return canonical_before is not None and canonical_before == canonical_after


@functools.lru_cache(maxsize=256)
def _columns_in_any_order(definition: str) -> str | None:
    try:
        [statement] = parse_sql(definition)
    except (parser.ParseError, ValueError):
        return None
    query = statement.stmt
    if not isinstance(query, ast.SelectStmt) or query.op != SetOperation.SETOP_NONE or not query.targetList:
        return None
    query.targetList = tuple(sorted(query.targetList, key=lambda target: str(RawStream()(target))))
    return str(RawStream()(query))


def same_expression(before: str, after: str, prefix: str = "", columns: tuple[tuple[str, str], ...] = ()) -> bool:
    """Whether two definitions (an index's, a constraint's, a view's) differ only in what PostgreSQL
    keeps as written but means the same:
    - how ANDs and ORs are grouped: `a AND (b AND c)` is stored, and printed, with its parentheses
      (both are associative, NULLs included): concourse's CHECK, made again by a rollback from
      other text, printed other parentheses;
    - a cast of a column to the type it has (`columns`: name -> type, as `format_type` prints it):
      PostgreSQL adds `(name)::character varying` to an index on `f(name)` when the up makes `name`
      text, and keeps it when the rollback makes it `varchar(255)` again (rust-lang/docs.rs).
    `prefix` makes a definition a statement (`ALTER TABLE t ADD ` before a constraint's)."""
    canonical_before = _canonical(prefix + before, columns)
    return canonical_before is not None and canonical_before == _canonical(prefix + after, columns)


@functools.lru_cache(maxsize=256)
def _canonical(text: str, columns: tuple[tuple[str, str], ...]) -> str | None:
    """The statement printed again with every AND inside an AND (and OR inside an OR) flattened,
    and every cast of a column to its own type (without a type modifier) left out."""
    try:
        statements = parse_sql(text)
    except (parser.ParseError, ValueError):
        return None
    types = {name: base for name, type_ in columns if (base := _base_type(type_)) is not None}
    for statement in statements:
        _flatten(statement, types)
    try:
        return ";".join(str(RawStream()(statement.stmt)) for statement in statements if statement.stmt is not None)
    except Exception:  # noqa: BLE001 - pglast's printer may not print every node: then no claim is made
        return None


@functools.lru_cache(maxsize=256)
def _base_type(type_: str) -> str | None:
    """The type's name as the parser reads it, without its modifiers (`character varying(255)`:
    varchar), or None."""
    try:
        [statement] = parse_sql(f"SELECT NULL::{type_}")
    except (parser.ParseError, ValueError):
        return None
    node = statement.stmt
    if not isinstance(node, ast.SelectStmt) or not node.targetList:
        return None
    cast = node.targetList[0].val
    if not isinstance(cast, ast.TypeCast) or cast.typeName is None or cast.typeName.arrayBounds:
        return None
    return str(getattr((cast.typeName.names or (None,))[-1], "sval", "")) or None


def _flatten(node: object, types: dict[str, str]) -> None:
    if isinstance(node, (tuple, list)):
        for item in node:
            _flatten(item, types)
        return
    if not isinstance(node, ast.Node):
        return
    for name in node.__slots__:  # type: ignore[attr-defined]
        value = getattr(node, name, None)
        _flatten(value, types)
        if isinstance(value, (tuple, list)) and any(_redundant_cast(item, types) for item in value):
            object.__setattr__(node, name, type(value)(item.arg if _redundant_cast(item, types) else item
                                                       for item in value))
        elif _redundant_cast(value, types):
            object.__setattr__(node, name, value.arg)  # type: ignore[union-attr]
    if isinstance(node, ast.BoolExpr) and node.boolop != BoolExprType.NOT_EXPR and node.args:
        args: list[ast.Node] = []
        for arg in node.args:
            same = isinstance(arg, ast.BoolExpr) and arg.boolop == node.boolop
            args.extend(arg.args if same else (arg,))
        object.__setattr__(node, "args", tuple(args))


def _redundant_cast(node: object, types: dict[str, str]) -> bool:
    """A cast of a plain column reference to its column's own type, without a modifier."""
    if not isinstance(node, ast.TypeCast) or not isinstance(node.arg, ast.ColumnRef) or node.typeName is None:
        return False
    fields = node.arg.fields or ()
    target = node.typeName
    if len(fields) != 1 or not isinstance(fields[0], ast.String) or target.typmods or target.arrayBounds:
        return False
    return types.get(fields[0].sval or "") == str(getattr((target.names or (None,))[-1], "sval", ""))
