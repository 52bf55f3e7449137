"""Split a script into statements with the real PostgreSQL parser (pglast), never with regexes.

Each statement keeps its position, so an error maps back to file:line:column, and says whether it
can run inside a transaction block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pglast
from pglast import ast
from pglast.enums import TransactionStmtKind

from migration_check.model import Script


@dataclass(frozen=True)
class Statement:
    sql: str
    path: Path
    line: int  # 1-based line in `path`
    column: int  # 1-based column in `path`
    offset: int  # character offset of the statement in its script's text
    node: str  # the parse node's name, e.g. "IndexStmt"
    needs_autocommit: bool = False  # cannot run inside a transaction block
    transaction_control: bool = False  # BEGIN, COMMIT, ROLLBACK, SAVEPOINT written in the file
    copy_data: str | None = None  # the rows of a `COPY ... FROM stdin`


@dataclass
class SyntaxProblem(Exception):
    """The script does not parse. Carries the location for a file:line message."""

    path: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


def split_script(script: Script) -> list[Statement]:
    """The statements of `script`, in order. Raises SyntaxProblem when the SQL does not parse."""
    if script.statements is not None:
        return [_statement(script, offset, text, _parse_one(script, offset, text)) for offset, text in script.statements]
    try:
        raw = pglast.parse_sql(script.sql)
    except pglast.parser.ParseError as exc:
        raise _syntax_problem(script, _error_offset(exc), exc.args[0]) from None
    statements = []
    for item in raw:
        start = item.stmt_location or 0
        text = script.sql[start : start + item.stmt_len] if item.stmt_len else script.sql[start:]
        statements.append(_statement(script, start, text, item.stmt))
    return statements


def _parse_one(script: Script, offset: int, text: str) -> ast.Node | None:
    try:
        raw = pglast.parse_sql(text)
    except pglast.parser.ParseError as exc:
        raise _syntax_problem(script, offset + _error_offset(exc), exc.args[0]) from None
    return raw[0].stmt if raw else None


def _statement(script: Script, offset: int, text: str, node: ast.Node | None) -> Statement:
    line, column = position_in_file(script, offset)
    return Statement(
        sql=text.strip(),
        path=script.path,
        line=line,
        column=column,
        offset=offset,
        node=type(node).__name__ if node is not None else "",
        needs_autocommit=cannot_run_in_transaction(node),
        transaction_control=isinstance(node, ast.TransactionStmt),
    )


def position_in_file(script: Script, offset: int) -> tuple[int, int]:
    """1-based (line, column) in the file of a character offset into `script.sql`."""
    before = script.sql[:offset]
    line = before.count("\n")
    column = offset - (before.rfind("\n") + 1) + 1
    return script.first_line + line, column


def _error_offset(exc: pglast.parser.ParseError) -> int:
    location = exc.args[1] if len(exc.args) > 1 else 0
    return location if isinstance(location, int) and location >= 0 else 0


def _syntax_problem(script: Script, offset: int, message: str) -> SyntaxProblem:
    line, column = position_in_file(script, offset)
    return SyntaxProblem(script.path, line, column, message)


def cannot_run_in_transaction(node: ast.Node | None) -> bool:
    """Statements PostgreSQL refuses inside a transaction block."""
    if node is None:
        return False
    if isinstance(node, ast.IndexStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(getattr(p, "defname", "") == "concurrently" for p in (node.params or ()))
    if isinstance(node, (ast.VacuumStmt, ast.CreatedbStmt, ast.DropdbStmt, ast.AlterSystemStmt,
                         ast.CreateTableSpaceStmt, ast.DropTableSpaceStmt)):
        return True
    if isinstance(node, ast.CreateSubscriptionStmt):
        return True
    if isinstance(node, ast.AlterTableStmt):
        # ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY
        return any(getattr(getattr(cmd, "def_", None), "concurrent", False) for cmd in (node.cmds or ()))
    return False


def has_transaction_control(statements: list[Statement]) -> bool:
    return any(s.transaction_control for s in statements)
