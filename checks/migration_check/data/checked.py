"""Values that satisfy a column's own CHECK constraints (or its domain's, which name the value
VALUE), where the constraint says what they are: a list of allowed values (`status IN ('new',
'done')`), an exact length (`octet_length(sha256) = 32`), or bounds (`price >= 0 AND price <=
100`). Read from the constraint's definition with PostgreSQL's parser. A NOT NULL column under
such a check left its table empty before: the generated text never was one of the values (`status
1`), and nothing else could stand in for it.

Other shapes (a regular expression, a function of several columns) give nothing here; the filler's
row-by-row variants and its report of what stayed empty take over.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pglast import ast, parser
from pglast.enums import A_Expr_Kind, BoolExprType

from migration_check.sql import trees

_LENGTHS = frozenset({"length", "octet_length", "char_length", "character_length"})


@dataclass(frozen=True)
class Allowed:
    """What the checks on one column allow: a list of values, an exact length, bounds."""

    values: tuple[str, ...] = ()
    length: int | None = None
    low: float | None = None  # inclusive
    high: float | None = None  # inclusive


def value(checks: tuple[str, ...], column: str, i: int, byte_string: bool) -> str | None:
    """The literal text for row `i` the checks ask for, or None where they say nothing usable."""
    allowed = _allowed(checks, column)
    k = i + 1
    if allowed.values:
        return allowed.values[i % len(allowed.values)]
    if allowed.length is not None:
        if byte_string:
            return "\\x" + format(k, "x").zfill(2 * allowed.length)[-2 * allowed.length:] if allowed.length else "\\x"
        return str(k).zfill(allowed.length)[-allowed.length:] if allowed.length else ""
    if allowed.low is not None or allowed.high is not None:
        low = allowed.low if allowed.low is not None else (allowed.high or 0) - 1000
        high = allowed.high if allowed.high is not None else low + 1000
        if high < low:
            return None
        span = int(high - low)
        number = low + (k % (span + 1) if span >= 1 else 0)
        return str(int(number)) if float(number).is_integer() else str(number)
    return None


@functools.lru_cache(maxsize=4096)
def _allowed(checks: tuple[str, ...], column: str) -> Allowed:
    found = Allowed()
    for definition in checks:
        expression = definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
        try:
            statement = trees.parse_sql(f"SELECT 1 WHERE {expression}")[0].stmt
        except (parser.ParseError, ValueError, IndexError):
            continue
        if not isinstance(statement, ast.SelectStmt):
            continue
        for condition in _conjuncts(statement.whereClause):
            found = _narrowed(found, condition, column)
    return found


def _conjuncts(node: ast.Node | None) -> list[ast.Node]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [part for argument in node.args or () for part in _conjuncts(argument)]
    return [node] if node is not None else []


def _narrowed(found: Allowed, condition: ast.Node, column: str) -> Allowed:
    if not isinstance(condition, ast.A_Expr) or not condition.name:
        return found
    operator = getattr(condition.name[-1], "sval", "")
    left, right = _bare(condition.lexpr), _bare(condition.rexpr)
    if condition.kind == A_Expr_Kind.AEXPR_OP_ANY and operator == "=" and _names(left, column):
        listed = right.elements if isinstance(right, ast.A_ArrayExpr) else None
        values = tuple(text for text in map(_constant, listed or ()) if text is not None)
        return Allowed(values=values) if values and len(values) == len(listed or ()) else found
    if condition.kind == A_Expr_Kind.AEXPR_IN and _names(left, column) and isinstance(condition.rexpr, (list, tuple)):
        values = tuple(text for text in map(_constant, condition.rexpr) if text is not None)
        return Allowed(values=values) if values and len(values) == len(condition.rexpr) else found
    if condition.kind != A_Expr_Kind.AEXPR_OP:
        return found
    if operator == "=" and _names(left, column) and _constant(right) is not None:
        return Allowed(values=(str(_constant(right)),))
    if operator == "=" and _length_of(left, column) and isinstance(_number(right), int):
        return Allowed(length=int(_number(right) or 0))
    bound = _number(right)
    if bound is None or not _names(left, column):
        return found
    if operator in (">", ">="):
        low = bound + (1 if operator == ">" else 0)
        return Allowed(low=max(low, found.low) if found.low is not None else low, high=found.high)
    if operator in ("<", "<="):
        high = bound - (1 if operator == "<" else 0)
        return Allowed(low=found.low, high=min(high, found.high) if found.high is not None else high)
    return found


def _bare(node: object) -> object:
    """Without the casts PostgreSQL prints into a definition (`(num)::text`, `'a'::text`)."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _names(node: object, column: str) -> bool:
    if not isinstance(node, ast.ColumnRef) or not node.fields:
        return False
    return getattr(node.fields[-1], "sval", None) == column


def _length_of(node: object, column: str) -> bool:
    if not isinstance(node, ast.FuncCall) or not node.args or len(node.args) != 1 or not node.funcname:
        return False
    return getattr(node.funcname[-1], "sval", "") in _LENGTHS and _names(_bare(node.args[0]), column)


def _constant(node: object) -> str | None:
    node = _bare(node)
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    for attribute in ("sval", "ival", "fval", "boolval"):
        found = getattr(value, attribute, None)
        if found is not None:
            return str(found).lower() if attribute == "boolval" else str(found)
    return None


def _number(node: object) -> int | float | None:
    text = _constant(node)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None
