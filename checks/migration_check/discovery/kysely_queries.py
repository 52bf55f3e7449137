"""What Kysely's query builder sends for the rows a migration writes: `db.insertInto('t').values(
{...}).execute()` and the `updateTable` and `deleteFrom` that undo them, written as Kysely's
compiler writes them for PostgreSQL, each value inline as node-postgres binds it.

Only what a seed or its rollback writes: `values` of rows written in the module (a row that lacks
a column another has gets `default`, as parseInsertExpression gives it; columns in the order they
first appear), `onConflict` with `doNothing`, `set` of such values, and `where(column, operator,
value)` (several joined with `and`). `returning` changes nothing the table holds. Anything else is
Unwritable: code the replay does not run.
"""

from __future__ import annotations

from typing import Any

from migration_check.discovery.js_values import Expression, Unwritable
from migration_check.discovery.knex_reading import bound
from migration_check.discovery.kysely_schema import Call, Callback, dotted, identifier, table

OPERATORS = frozenset({"=", "<>", "!=", "<", ">", "<=", ">=", "like", "not like", "ilike", "in", "not in", "is",
                       "is not"})
IGNORED = frozenset({"returning", "returningAll"})


def query_statement(first: str, calls: list[Call]) -> str | None:
    """The statement `db.<first>(...)...` sends, None where it sends none (no `.execute()`)."""
    if not calls or calls[-1][0] != "execute" or calls[0][0] != first:
        return None
    given, rest = calls[0][1], [call for call in calls[1:-1] if call[0] not in IGNORED]
    if len(given) != 1:
        raise Unwritable(f"{first} of more than a table")
    target = table(given[0])
    if first == "insertInto":
        return _insert(target, rest)
    if first == "updateTable":
        sets = [args[0] for method, args in rest if method == "set" and len(args) == 1 and isinstance(args[0], dict)]
        if len(sets) != 1:
            raise Unwritable("updateTable without one set({...})")
        assignments = ", ".join(f"{identifier(column)} = {_value(v)}" for column, v in sets[0].items())
        return f"update {target} set {assignments}{_where([c for c in rest if c[0] != 'set'])}"
    if first == "deleteFrom":
        return f"delete from {target}{_where(rest)}"
    raise Unwritable(f"db.{first}")


def _insert(target: str, rest: list[Call]) -> str:
    rows = [args[0] for method, args in rest if method == "values" and len(args) == 1]
    if len(rows) != 1:
        raise Unwritable("insertInto without one values(...)")
    listed = rows[0] if isinstance(rows[0], list) else [rows[0]]
    if not listed or not all(isinstance(row, dict) and row for row in listed):
        raise Unwritable("values this check does not write")
    columns = list(dict.fromkeys(column for row in listed for column in row))
    values = ", ".join("(" + ", ".join(_value(row[c]) if c in row else "default" for c in columns) + ")"
                       for row in listed)
    sql = f"insert into {target} ({', '.join(identifier(c) for c in columns)}) values {values}"
    for method, args in rest:
        if method == "values":
            continue
        if method != "onConflict" or len(args) != 1 or not isinstance(args[0], Callback):
            raise Unwritable(f"insertInto(...).{method}")
        sql += _on_conflict(args[0].calls)
    return sql


def _on_conflict(calls: tuple[Call, ...]) -> str:
    """`(oc) => oc.column('a').doNothing()`, `oc.columns([...])`, `oc.constraint('name')`."""
    target = ""
    for method, args in calls:
        if method == "column" and len(args) == 1:
            target = f" ({identifier(args[0])})"
        elif method == "columns" and len(args) == 1 and isinstance(args[0], list):
            target = f" ({', '.join(identifier(c) for c in args[0])})"
        elif method == "constraint" and len(args) == 1:
            target = f" on constraint {identifier(args[0])}"
        elif method != "doNothing":
            raise Unwritable(f"onConflict(...).{method}")
    if not calls or calls[-1][0] != "doNothing":
        raise Unwritable("onConflict without doNothing")
    return f" on conflict{target} do nothing"


def _where(calls: list[Call]) -> str:
    conditions = []
    for method, args in calls:
        if method != "where" or len(args) != 3 or not isinstance(args[1], str) or args[1].lower() not in OPERATORS:
            raise Unwritable(f"a {method} this check does not write")
        column = dotted(str(args[0]))
        operand = f"({', '.join(_value(v) for v in args[2])})" if isinstance(args[2], list) else _value(args[2])
        conditions.append(f"{column} {args[1].lower()} {operand}")
    return " where " + " and ".join(conditions) if conditions else ""


def _value(given: Any) -> str:
    return given.text if isinstance(given, Expression) else bound(given)
