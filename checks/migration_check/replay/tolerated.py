"""Regions of a script whose failure the runner goes on after (Script.tolerated): an Alembic `try`
whose handler goes on, on an AUTOCOMMIT connection; a yoyo step with `ignore_errors`. Outside a
transaction a failed statement ends its region; inside one, as yoyo runs a step (yoyo/migrations.py,
TransactionWrapper: `with backend.transaction()`, a savepoint within the migration's), the region
runs in a savepoint, and a failure rolls back to it."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from migration_check.model import Script
from migration_check.replay.script_failed import ScriptFailed, failure_of, session_ended, statement_failure
from migration_check.sql import Statement
from migration_check.sql.prepared import result_rows

Region = tuple[int, int]
SAVEPOINT = "migration_check_tolerated"


def region_of(script: Script, statement: Statement) -> Region | None:
    """The innermost region of `script.tolerated` that holds the statement's line."""
    holding = [region for region in script.tolerated if region[0] <= statement.line <= region[1]]
    return min(holding, key=lambda region: region[1] - region[0]) if holding else None


def within(region: Region | None, statement: Statement) -> bool:
    return region is not None and region[0] <= statement.line <= region[1]


def run_with_savepoints(conn: psycopg.Connection, script: Script, statements: list[Statement],
                        before_commit: Callable[[psycopg.Connection, Statement | None], None] | None,
                        commit_read: tuple[str, Callable[[list[tuple]], None]] | None,
                        reset: str) -> list[ScriptFailed]:
    """Run the script in one transaction, statement by statement, each tolerated region in a
    savepoint: a failure there rolls back to it and the script goes on after the region; any other
    rolls the whole back and raises, at its statement. Returns the failures it went on after."""
    went_on: list[ScriptFailed] = []
    current: Region | None = None  # the region whose savepoint is open
    ended: Region | None = None  # the region a failure ended
    running: Statement | None = None
    conn.execute("BEGIN")
    try:
        for running in statements:
            if within(ended, running):
                continue
            region = region_of(script, running)
            if region != current:
                conn.execute(";".join([*([f"RELEASE SAVEPOINT {SAVEPOINT}"] if current else []),
                                       *([f"SAVEPOINT {SAVEPOINT}"] if region else [])]))
                current = region
            try:
                conn.execute(running.sql.encode())
            except psycopg.Error as error:
                if current is None or conn.closed:
                    raise
                conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
                went_on.append(statement_failure(running, error))
                ended, current = current, None
        running = None  # (what fails from here fails at COMMIT: a deferred constraint)
        if current is not None:
            conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
        if commit_read is not None:
            commit_read[1](result_rows(conn.execute(commit_read[0].encode()))[-1])
        if before_commit is not None:
            before_commit(conn, None)
        conn.execute(f"COMMIT;{reset}")
    except psycopg.Error as error:
        if conn.closed:
            raise session_ended(error, script.path, (running or statements[0]).line, None) from None
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        if running is not None:
            raise statement_failure(running, error) from None
        raise failure_of(error, script.path, statements[-1].line, None, None) from None
    return went_on
