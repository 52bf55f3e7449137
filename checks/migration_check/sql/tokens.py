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


def same_but_grouping(before: str, after: str, prefix: str = "") -> bool:
    """Whether two definitions differ only in how their ANDs and ORs are grouped. PostgreSQL keeps
    `a AND (b AND c)` as written and prints it with its parentheses, but it means `a AND b AND c`
    (both are associative, NULLs included): concourse's CHECK constraint, made again by a rollback
    from other text, printed other parentheses. `prefix` makes a definition a statement
    (`ALTER TABLE t ADD ` before a constraint's)."""
    flat_before, flat_after = _ungrouped(prefix + before), _ungrouped(prefix + after)
    return flat_before is not None and flat_before == flat_after


@functools.lru_cache(maxsize=256)
def _ungrouped(text: str) -> str | None:
    """The statement printed again with every AND inside an AND (and OR inside an OR) flattened."""
    try:
        statements = parse_sql(text)
    except (parser.ParseError, ValueError):
        return None
    for statement in statements:
        _flatten(statement)
    try:
        return ";".join(str(RawStream()(statement.stmt)) for statement in statements if statement.stmt is not None)
    except Exception:  # noqa: BLE001 - pglast's printer may not print every node: then no claim is made
        return None


def _flatten(node: object) -> None:
    if isinstance(node, (tuple, list)):
        for item in node:
            _flatten(item)
        return
    if not isinstance(node, ast.Node):
        return
    for name in node.__slots__:  # type: ignore[attr-defined]
        _flatten(getattr(node, name, None))
    if isinstance(node, ast.BoolExpr) and node.boolop != BoolExprType.NOT_EXPR and node.args:
        args: list[ast.Node] = []
        for arg in node.args:
            same = isinstance(arg, ast.BoolExpr) and arg.boolop == node.boolop
            args.extend(arg.args if same else (arg,))
        object.__setattr__(node, "args", tuple(args))
