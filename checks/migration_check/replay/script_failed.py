"""A script that did not run, as the replay reports it: file:line:column, PostgreSQL's SQLSTATE,
message, detail, hint and context, and the statement; and the kinds of failure the replay treats
apart (rows that may cause it, a full disk, the session ended)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from migration_check.sql import Statement, advance
from migration_check.sql.dialects import DISK_FULL, OBJECT_IN_USE

# How PostgreSQL's error CONTEXT names a DO block or function the error came from.
PROCEDURAL_CONTEXT = "PL/pgSQL function"


@dataclass
class ScriptFailed(Exception):
    """A script did not run. Everything a file:line message and a JUnit failure body need."""

    path: Path
    line: int | None
    column: int | None
    message: str
    sqlstate: str | None = None
    detail: str | None = None
    hint: str | None = None
    context: str | None = None
    statement: str | None = None
    near: int | None = None  # where in `statement` the server stopped, when it says

    def rows_may_cause(self) -> bool:
        """Whether rows can cause this error: data exceptions (22: a cast, a length), integrity
        violations (23: NOT NULL, unique, check, foreign key), exceptions raised by the migration's
        own code (P0001), any error inside procedural code, which may build its statements from
        rows (a loop over the tenants that runs `CREATE TABLE <tenant's schema>.t` fails on a
        generated tenant's name), and an ALTER TABLE after an UPDATE of rows whose deferred
        constraint triggers are still pending (moonklabs/sprintable: 55006, none without rows)."""
        in_code = PROCEDURAL_CONTEXT in (self.context or "")
        pending = self.sqlstate == OBJECT_IN_USE and "pending trigger events" in self.message
        return self.sqlstate is not None and (self.sqlstate[:2] in ("22", "23") or self.sqlstate == "P0001" or in_code
                                              or pending)

    def out_of_disk(self) -> bool:
        """The server's file system is full: its room, not the migration's fault."""
        return self.sqlstate == DISK_FULL

    def location(self, relative: str) -> str:
        parts = [relative]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def summary(self, relative: str) -> str:
        """`file:line:col: ERROR 42P07: relation "t" already exists`."""
        code = f" {self.sqlstate}" if self.sqlstate else ""
        return f"{self.location(relative)}: ERROR{code}: {self.message}"

    def body(self, relative: str) -> str:
        lines = [self.summary(relative)]
        for label, value in (("DETAIL", self.detail), ("HINT", self.hint), ("CONTEXT", self.context)):
            if value:
                lines.append(f"{label}: {value}")
        if self.statement:
            lines += ["", "statement:", self.statement]
        return "\n".join(lines)


def session_ended(error: psycopg.Error, path: Path, line: int, sql: str | None) -> ScriptFailed:
    reason = " ".join(str(error).split()) or type(error).__name__
    return ScriptFailed(path, line, None, f"the session ended during this script ({reason}): a migration that"
                        " terminates its own connection, or a server that stopped", sqlstate=error.diag.sqlstate,
                        statement=sql)


def statement_failure(statement: Statement, error: psycopg.Error) -> ScriptFailed:
    line, column = statement.line, statement.column
    position = error.diag.statement_position
    if position:
        line, column = advance(line, column, statement.sql, int(position) - 1)
    return failure_of(error, statement.path, line, column, statement.sql, int(position) - 1 if position else None)


# A statement the check's own limits stopped: say which limit, and how to raise it.
_LIMITS = {"57014": "statement-timeout", "55P03": "lock-timeout"}


def failure_of(error: psycopg.Error, path: Path, line: int | None, column: int | None, sql: str | None,
               near: int | None = None) -> ScriptFailed:
    diag = error.diag
    message = diag.message_primary or " ".join(str(error).split()) or type(error).__name__
    limit = _LIMITS.get(diag.sqlstate or "")
    if limit and "timeout" in message:
        message += f" (the check's {limit}; set `{limit}` in the config if this migration needs longer)"
    return ScriptFailed(
        path=path,
        line=line,
        column=column,
        message=message,
        sqlstate=diag.sqlstate,
        detail=diag.message_detail,
        hint=diag.message_hint,
        context=diag.context,
        statement=sql,
        near=near,
    )
