"""A backfill in batches: `while True:` around one statement sent through the connection and a
`break` once it changes few enough rows (prefect's `result = conn.execute(sa.text(update_in_batches))`,
`if result.rowcount <= 0: break`). The rows it changes are the database's to say, so the loop is
written as PostgreSQL can run it: a DO block that repeats the statement until its row count says
stop, as the file's loop does. Where the loop runs inside `autocommit_block()` each batch commits
on its own; the DO block commits them together: the schema and the rows come out the same.

A loop whose statement still changes rows after MOST_ROUNDS rounds would never end under the
runner either: the DO block stops it with that finding instead of running into the statement
timeout."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from pglast import ast as sql_ast

from migration_check.discovery.alembic_python import NotReplayable
from migration_check.discovery.alembic_sql import Result, SentSql
from migration_check.sql import trees

MOST_ROUNDS = 10_000
OPERATORS = {ast.Lt: "<", ast.LtE: "<=", ast.Eq: "=", ast.NotEq: "<>", ast.Gt: ">", ast.GtE: ">="}
WRITES_ROWS = (sql_ast.UpdateStmt, sql_ast.DeleteStmt, sql_ast.InsertStmt)


def batch_loop(node: ast.While, scope: dict[str, Any], sent: SentSql, value: Callable[[ast.expr, dict[str, Any]], Any],
               evaluated: Callable[[ast.stmt, Callable[[], Any]], Any]) -> None:
    """Add the DO block for the loop `node` to `sent` (`value` evaluates an expression in `scope`;
    `evaluated` runs the statement that sends, turning what it raises into NotReplayable). Raises
    NotReplayable for any other loop."""
    refused = NotReplayable(node.lineno, "a loop")
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not (isinstance(node.test, ast.Constant) and node.test.value is True) or node.orelse or len(body) != 2:
        raise refused
    assign, check = body
    if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name)
            and isinstance(check, ast.If) and not check.orelse and len(check.body) == 1
            and isinstance(check.body[0], ast.Break)):
        raise refused
    stop = _stop(check.test, assign.targets[0].id, scope, value)
    if stop is None:
        raise refused
    result = evaluated(assign, lambda: value(assign.value, scope))
    statements = sent.taken()
    if not isinstance(result, Result) or len(statements) != 1 \
            or not isinstance(trees.statement(statements[0]), WRITES_ROWS):
        raise refused
    sent.statements.append(do_block(statements[0].strip().rstrip(";"), stop, node.lineno))


def do_block(statement: str, stop: str, line: int) -> str:
    tag = "$migration_check$"
    while tag in statement:
        tag = f"${tag.strip('$')}_${'$'}"
    return (f"DO {tag} DECLARE changed bigint; rounds integer := 0; BEGIN LOOP {statement}; "
            f"GET DIAGNOSTICS changed = ROW_COUNT; EXIT WHEN changed {stop}; rounds := rounds + 1; "
            f"IF rounds >= {MOST_ROUNDS} THEN RAISE EXCEPTION 'the loop at line {line} still changes rows after"
            f" {MOST_ROUNDS:,} rounds: it may never end'; END IF; END LOOP; END {tag}")


def _stop(test: ast.expr, name: str, scope: dict[str, Any], value: Callable[[ast.expr, dict[str, Any]], Any]) -> str | None:
    """The SQL condition on the row count that ends the loop (`<= 0`), or None for another test."""
    def counted(node: ast.expr) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "rowcount" and isinstance(node.value, ast.Name) \
            and node.value.id == name
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and counted(test.operand):
        return "= 0"
    if isinstance(test, ast.Compare) and counted(test.left) and len(test.ops) == 1 and type(test.ops[0]) in OPERATORS:
        limit = value(test.comparators[0], scope)
        if isinstance(limit, int) and not isinstance(limit, bool):
            return f"{OPERATORS[type(test.ops[0])]} {limit}"
    return None
