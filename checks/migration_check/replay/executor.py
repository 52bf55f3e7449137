"""Run one script on the throwaway database, the way the migration's own runner would.

A script runs inside one transaction, sent in a single round trip, unless it contains statements
PostgreSQL refuses in a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...), manages its own
transactions (BEGIN/COMMIT in the file), carries COPY data, or its layout opts out
(dbmate `transaction:false`, goose `NO TRANSACTION`). Then it runs statement by statement.

Every failure becomes a `ScriptFailed` that names the file, line and column of the failing
statement, the SQLSTATE, the message and the hint. Session state a script sets (search_path, role,
temp tables) is discarded afterwards, so it cannot leak into the next migration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg
from psycopg.abc import Query

from migration_check.discovery.flyway import runs_outside
from migration_check.model import Migration, Script, Transaction
from migration_check.replay.script_failed import ScriptFailed, failure_of, session_ended, statement_failure
from migration_check.replay.tolerated import Region, region_of, run_with_savepoints, within
from migration_check.sql import Statement, SyntaxProblem, has_transaction_control, position_in_file, statements_to_run
from migration_check.sql.dialects import INSUFFICIENT_PRIVILEGE, SYNTAX_ERROR
from migration_check.sql.outside import outside_reason
from migration_check.sql.prepared import result_rows
from migration_check.sql.splitter import statement_parts
from migration_check.sql.statement import ENUM_ADD_VALUE_IN_TRANSACTION

UNIQUE_VIOLATION = "23505"

# SET ROLE / SET SESSION AUTHORIZATION / SET search_path must not outlive their script.
RESET_SESSION = "RESET ALL; RESET ROLE; SET SESSION AUTHORIZATION DEFAULT; DISCARD TEMP"


NOT_IN_TRANSACTION = "25001"
ONE_QUERY_REFUSAL = ("this statement cannot run inside a transaction block, and the runner sends the whole file as one"
                     " query, which PostgreSQL runs in a transaction block, the file's own COMMIT notwithstanding")

# Flyway's own refusal (its parser, before it runs anything), as it words it.
MIXED = ("Detected both transactional and non-transactional statements within the same migration (even though"
         " mixed is false): flyway refuses the migration; put the statements PostgreSQL runs only outside a"
         " transaction (CREATE INDEX CONCURRENTLY, ...) in a migration of their own, or set flyway.mixed=true")


# Called inside a transaction, just before it commits: with None after a whole script, with the
# statement after each statement of a script that runs statement by statement.
BeforeCommit = Callable[[psycopg.Connection, Statement | None], None]
# Instead, for a script that runs in one transaction: a query read inside it just before its COMMIT,
# sent in the same message as the script (or its last statement) and the COMMIT, and what takes its
# rows: the observation costs no round trip of its own.
CommitRead = tuple[str, Callable[[list[tuple]], None]]


def execute_script(conn: psycopg.Connection, script: Script, before_commit: BeforeCommit | None = None,
                   commit_read: CommitRead | None = None) -> list[ScriptFailed]:
    """Run `script` on `conn` (autocommit). Raises ScriptFailed; on failure nothing is left half-done
    where a transaction was possible. `before_commit` runs inside the script's transaction after its
    last statement (a family observing the locks it holds). In a script that runs statement by
    statement, each statement that may run in a transaction (not CONCURRENTLY, not in a script
    with its own BEGIN/COMMIT) runs in one of its own, and `before_commit` is called for it. Returns
    the failures the script went on after (Script.tolerated), as its runner does."""
    went_on: list[ScriptFailed] = []
    try:
        statements = statements_to_run(script)
    except SyntaxProblem as problem:
        raise ScriptFailed(problem.path, problem.line, problem.column, problem.message, sqlstate=SYNTAX_ERROR) from None
    if script.transaction is Transaction.UNMIXED and (
            mixed := _mixed_at(statements, conn.info.server_version)) is not None:
        raise ScriptFailed(mixed.path, mixed.line, mixed.column, MIXED, statement=mixed.sql)
    if (refused := _refused_in_one_query(script, statements)) is not None:
        raise ScriptFailed(refused.path, refused.line, refused.column, ONE_QUERY_REFUSAL, sqlstate=NOT_IN_TRANSACTION,
                           statement=refused.sql)
    for statement in statements:
        reason = outside_reason(statement.sql)
        if reason:
            raise ScriptFailed(statement.path, statement.line, statement.column,
                               f"refused: {reason}; a migration check runs no program and reads no file outside"
                               " the database", sqlstate=INSUFFICIENT_PRIVILEGE, statement=statement.sql)
    try:
        in_one_transaction = runs_in_one_transaction(script, statements, conn.info.server_version)
        if in_one_transaction and script.tolerated:
            return run_with_savepoints(conn, script, statements, before_commit, commit_read, RESET_SESSION)
        if in_one_transaction:
            if _run_in_transaction(conn, script, statements, before_commit, commit_read):
                return went_on
        else:
            # A script with its own BEGIN/COMMIT is not wrapped: its statements are not observed.
            observe = None if has_transaction_control(statements) else before_commit
            ended: Region | None = None  # the tolerated region a failure ended
            for statement in statements:
                if within(ended, statement):
                    continue
                try:
                    if observe is not None and not statement.needs_autocommit and statement.copy_data is None:
                        with conn.transaction():  # one statement: as autocommit, observed before its end
                            _run_statement(conn, statement)
                            observe(conn, statement)
                    else:
                        _run_statement(conn, statement)
                except ScriptFailed as failure:
                    ended = region_of(script, statement) if not conn.closed else None
                    if ended is None:
                        raise
                    went_on.append(failure)
            if script.transaction is Transaction.WRAPPED:
                _commit_as_the_runner(conn, statements)
    except ScriptFailed:
        if not conn.closed:  # a migration may have ended its own session (pg_terminate_backend)
            reset_session(conn)
        raise
    except BaseException:
        # Interrupted mid-query (Ctrl-C, SIGTERM): the connection is busy and unusable. Ask the
        # server to stop the query; the caller tears the database down next.
        abandon(conn)
        raise
    reset_session(conn)
    return went_on


def _refused_in_one_query(script: Script, statements: list[Statement]) -> Statement | None:
    """The statement PostgreSQL refuses where the runner sends the file as one query in its
    transaction and the file ends that transaction itself (`COMMIT; CREATE INDEX CONCURRENTLY ...;
    BEGIN;`, which works where the runner sends statements one by one): the rest of the query still
    runs in a transaction block. Without a COMMIT of its own the file runs in one transaction here
    too, and PostgreSQL refuses the statement itself."""
    if not (script.sent_as_one_query and script.transaction is Transaction.WRAPPED and has_transaction_control(statements)):
        return None
    return next((statement for statement in statements if statement.needs_autocommit), None)


def _commit_as_the_runner(conn: psycopg.Connection, statements: list[Statement]) -> None:
    """The runner's COMMIT after a file it wrapped: a transaction the file opened and left open
    (heroiclabs/nakama's sql-migrate files end the runner's transaction for a CREATE INDEX
    CONCURRENTLY and open one again for the runner to commit) is committed, not rolled back."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        return
    controls = [s for s in statements if s.transaction_control]  # the last one opened what is open
    try:
        conn.execute("COMMIT")
    except psycopg.Error as error:  # a deferred constraint checked at COMMIT
        failure = statement_failure(controls[-1], error) if controls else failure_of(error, statements[-1].path,
                                                                                 statements[-1].line, None, None)
        failure.message = f"at the runner's COMMIT after the file: {failure.message}"
        raise failure from None


def _mixed_at(statements: list[Statement], server_version: int) -> Statement | None:
    """The first statement whose kind, as Flyway's parser reads it (runs in a transaction or only
    outside one), differs from the first one's, in a script that mixes them; None when it does not."""
    kinds = [s for s in statements if not s.transaction_control]
    outside = [runs_outside(s, server_version) for s in kinds]
    return next((s for s, out in zip(kinds, outside, strict=True) if out != outside[0]), None)


def runs_in_one_transaction(script: Script, statements: list[Statement], server_version: int) -> bool:
    if script.transaction is Transaction.NONE:
        return False
    if script.transaction is Transaction.WRAPPED or (script.transaction is Transaction.ONE_QUERY and len(statements) > 1):
        # As the runner runs it: what PostgreSQL refuses in a transaction block fails, as there.
        return not any(s.transaction_control or s.copy_data is not None for s in statements)
    if script.transaction is Transaction.UNMIXED:
        # Outside a transaction only what Flyway's parser recognises (a script it did not refuse
        # as mixed holds one kind); the rest in its transaction, as there.
        return not any(s.transaction_control or s.copy_data is not None or runs_outside(s, server_version)
                       for s in statements)
    if server_version < ENUM_ADD_VALUE_IN_TRANSACTION and any(s.node == "AlterEnumStmt" for s in statements):
        return False
    return not any(s.needs_autocommit or s.transaction_control or s.copy_data is not None for s in statements)


def reset_session(conn: psycopg.Connection) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    conn.execute(RESET_SESSION)


def sent_whole(script: Script, statements: list[Statement]) -> bool:
    """Whether the file's text is itself the SQL to send: not when the layout marked statement
    boundaries, nor when psql meta-commands, variables or includes made the statements differ."""
    return script.statements is None and all(s.verbatim for s in statements)


def abandon(conn: psycopg.Connection) -> None:
    try:
        conn.cancel_safe(timeout=5)
    except (psycopg.Error, AttributeError):
        pass
    conn.close()


def _run_in_transaction(conn: psycopg.Connection, script: Script, statements: list[Statement],
                        before_commit: BeforeCommit | None, commit_read: CommitRead | None = None) -> bool:
    """Run the script atomically. True when the session was reset in the same message."""
    if not statements:
        return False
    whole = sent_whole(script, statements)
    observed = before_commit is not None or commit_read is not None
    # BEGIN rides with a script sent whole when the transaction is observed before it commits;
    # error positions then count from after it.
    begin = "BEGIN;" if whole and observed else ""
    # The observation's read and the COMMIT ride with the script's last message (after the script's
    # text: its error positions are unchanged); the read's rows are the message's last.
    ending = f";{commit_read[0]};COMMIT;{RESET_SESSION}" if commit_read is not None else ""
    try:
        if whole and not observed:
            # Several statements in one simple-protocol message run as one implicit transaction:
            # atomic without BEGIN/COMMIT round trips, and the session reset rides along. The
            # newline ends a trailing `--` comment; error positions still count from the file's start.
            conn.execute(f"{script.sql}\n;{RESET_SESSION}".encode())
            return True
        if whole:
            last = conn.execute(f"{begin}{script.sql}\n{ending}".encode())
        else:
            conn.execute("BEGIN")
            for statement in statements[:-1]:
                conn.execute(statement.sql.encode())
            last = conn.execute(f"{statements[-1].sql}\n{ending}".encode())
        if commit_read is not None:
            commit_read[1](result_rows(last)[-1])
            return True
        if before_commit is not None:
            before_commit(conn, None)
        conn.execute(f"COMMIT;{RESET_SESSION}")
        return True
    except psycopg.Error as error:
        if conn.closed:
            raise session_ended(error, script.path, statements[0].line, None) from None
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        raise _locate(conn, script, statements, error, shift=len(begin)) from None


def _locate(conn: psycopg.Connection, script: Script, statements: list[Statement], error: psycopg.Error,
            shift: int = 0) -> ScriptFailed:
    """Which statement failed. Postgres gives a position for parse-analysis errors; for the rest,
    replay statement by statement in a transaction that is rolled back, to find the culprit.
    `shift`: characters sent before the script's own text."""
    position = error.diag.statement_position
    if position and sent_whole(script, statements):
        # Postgres counts error positions in characters of the query string, from 1.
        offset = max(0, min(int(position) - 1 - shift, len(script.sql)))
        line, column = position_in_file(script, offset)
        failing = _statement_at(statements, offset)
        return failure_of(error, script.path, line, column, failing.sql if failing else None,
                          offset - failing.offset if failing else None)
    culprit = _find_failing_statement(conn, statements)
    if culprit is None:
        return failure_of(error, script.path, statements[0].line, None, None)
    statement, located_error = culprit
    return statement_failure(statement, located_error)


def _find_failing_statement(conn: psycopg.Connection, statements: list[Statement]) -> tuple[Statement, psycopg.Error] | None:
    # A goose block sent as one query fails at one of its statements: replayed one by one, in the
    # transaction that holds them all the same, the failure is told at that statement's line.
    parts = (part for whole in statements
             for part in (statement_parts(whole) if not whole.transaction_control else [whole]))
    with conn.transaction(force_rollback=True):
        for statement in parts:
            try:
                with conn.transaction():
                    conn.execute(statement.sql.encode())
            except psycopg.Error as error:
                return statement, error
    return None


def record(conn: psycopg.Connection, script: Script, table: str, statements: Sequence[Query]) -> None:
    """Write the runner's history row for a script that ran (`statements`, into `table`); where that
    fails (the migration dropped or changed the runner's table) the script fails, as the runner does."""
    try:
        for statement in statements:
            conn.execute(statement)
    except psycopg.Error as error:
        reason = error.diag.message_primary or str(error)
        if error.diag.sqlstate == UNIQUE_VIOLATION:  # the runner refuses it as it refuses this copy
            reason += ": another migration has its version (the history check names it)"
        raise ScriptFailed(script.path, script.first_line, None,
                           f"the runner's history table {table} could not record this step: {reason}",
                           sqlstate=error.diag.sqlstate) from None


def execute_in_one_transaction(conn: psycopg.Connection, steps: list[tuple[Script, Sequence[Query]]],
                               history_table: str = "") -> None:
    """Every statement of each step's script, then the step's own statements (the runner's history
    row, which it writes in the same transaction, where a later migration may read it), in order,
    in one transaction that is then rolled back, as a runner that applies all pending migrations
    at once runs them on a new database (drizzle). Raises ScriptFailed at the failing statement."""
    try:
        with conn.transaction(force_rollback=True):
            for script, recorded in steps:
                for statement in statements_to_run(script):
                    _run_statement(conn, statement)
                record(conn, script, history_table, recorded)
    except SyntaxProblem as problem:
        raise ScriptFailed(problem.path, problem.line, problem.column, problem.message, sqlstate=SYNTAX_ERROR) from None
    finally:
        if not conn.closed:
            reset_session(conn)


def _run_statement(conn: psycopg.Connection, statement: Statement) -> None:
    try:
        if statement.copy_data is not None:
            with conn.cursor() as cursor, cursor.copy(statement.sql.encode()) as copy:
                copy.write(statement.copy_data.encode())
        else:
            conn.execute(statement.sql.encode())
    except psycopg.Error as error:
        if conn.closed:
            raise session_ended(error, statement.path, statement.line, statement.sql) from None
        raise statement_failure(statement, error) from None


def _statement_at(statements: list[Statement], offset: int) -> Statement | None:
    found = None
    for statement in statements:
        if statement.offset <= offset:
            found = statement
    return found


def precondition_fails(conn: psycopg.Connection, migration: Migration) -> str | None:
    """Why the runner would not run the migration here (its precondition does not hold, or cannot be
    checked), or None. The runner does not run it either: what later migrations need from it is
    missing in production too, so they are judged, not excused."""
    if migration.precondition is None:
        return None
    try:
        holds = conn.execute(f"SELECT ({migration.precondition})::boolean".encode()).fetchone()
    except psycopg.Error as error:
        return f"its preconditions could not be checked here: {str(error).strip().splitlines()[0]}"
    return None if holds and holds[0] else migration.precondition_reason
