"""The executor against a real PostgreSQL: transaction rules, error locations, session isolation."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migration_check.model import Script, Transaction
from migration_check.replay.executor import ScriptFailed, execute_script


def run(conn: psycopg.Connection, sql: str, **kwargs: object) -> None:
    execute_script(conn, Script(Path("/repo/m.sql"), sql, **kwargs))


def failure(conn: psycopg.Connection, sql: str, **kwargs: object) -> ScriptFailed:
    with pytest.raises(ScriptFailed) as caught:
        run(conn, sql, **kwargs)
    return caught.value


def relations(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("select relname from pg_class where relnamespace = 'public'::regnamespace").fetchall()
    return {name for (name,) in rows}


def test_dollar_quoted_bodies_and_semicolons_in_strings(conn: psycopg.Connection) -> None:
    run(conn, """
        create table notes (body text);
        insert into notes values ('a; b'), ($tag$ c; d $tag$);
        create function count_notes() returns bigint language plpgsql as $fn$
        begin
            return (select count(*) from notes where body like '%;%');
        end;
        $fn$;
        do $$ begin perform 1; end $$;
    """)
    assert conn.execute("select count_notes()").fetchone() == (2,)


def test_error_position_maps_to_file_line_and_column(conn: psycopg.Connection) -> None:
    problem = failure(conn, "create table t (a int);\nselect 1;\ninsert into t values ('x');\n", first_line=10)
    assert (problem.line, problem.column) == (12, 23)
    assert problem.sqlstate == "22P02"
    assert "invalid input syntax" in problem.message
    assert problem.summary("db/m.sql").startswith("db/m.sql:12:23: ERROR 22P02:")


def _fails_at_its_line_leaving_nothing(conn: psycopg.Connection, **observation: object) -> None:
    """A script observed before its commit that fails at line 12, column 23: located there, nothing left."""
    script = Script(Path("/repo/m.sql"), "create table t (a int);\nselect 1;\ninsert into t values ('x');\n", first_line=10)
    with pytest.raises(ScriptFailed) as caught:
        execute_script(conn, script, **observation)  # type: ignore[arg-type]
    assert (caught.value.line, caught.value.column) == (12, 23)
    assert "t" not in relations(conn) and conn.info.transaction_status.name == "IDLE"


def test_an_observed_transaction_locates_errors_and_commits_or_rolls_back(conn: psycopg.Connection) -> None:
    seen: list[str] = []

    def observe(observed: psycopg.Connection, statement: object) -> None:
        seen.append(str(observed.info.transaction_status.name))

    _fails_at_its_line_leaving_nothing(conn, before_commit=observe)
    assert seen == []
    execute_script(conn, Script(Path("/repo/m.sql"), "create table t (a int);\nset lock_timeout = '1s';\n"),
                   before_commit=observe)
    assert seen == ["INTRANS"] and "t" in relations(conn)
    assert conn.execute("show lock_timeout").fetchone() != ("1s",)  # the session was reset after the commit


def test_a_read_before_the_commit_rides_with_the_script_and_its_commit(conn: psycopg.Connection) -> None:
    # The lock family's pg_locks read, sent with the up and its COMMIT (one message): its rows are
    # the transaction's (the up's own lock on its table), errors are located as without it, and the
    # session is reset after the commit. A script whose last statement returns rows keeps them apart.
    taken: list[list[tuple]] = []
    read = ("SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = to_regclass('t')", taken.append)
    _fails_at_its_line_leaving_nothing(conn, commit_read=read)
    assert taken == []
    execute_script(conn, Script(Path("/repo/m.sql"), "create table t (a int);\nset lock_timeout = '1s';\nselect 2 -- last\n"),
                   commit_read=read)
    assert taken == [[("AccessExclusiveLock",)]] and "t" in relations(conn)
    assert conn.execute("show lock_timeout").fetchone() != ("1s",)
    # Statements the layout marked (goose's StatementBegin/End) go one by one: the read rides with the last.
    marked = Script(Path("/repo/m.sql"), "alter table t add b int;\nselect 3;", statements=((0, "alter table t add b int"),
                                                                                          (25, "select 3")))
    execute_script(conn, marked, commit_read=read)
    assert taken[-1] == [("AccessExclusiveLock",)] and conn.info.transaction_status.name == "IDLE"


def test_error_without_position_is_located_by_replaying_statements(conn: psycopg.Connection) -> None:
    problem = failure(conn, "create table t (a int);\n\n   create table t (a int);\n")
    assert (problem.line, problem.column) == (3, 4)
    assert problem.sqlstate == "42P07"
    assert problem.statement == "create table t (a int)"


def test_a_failure_inside_a_block_sent_as_one_query_is_told_at_its_statement(conn: psycopg.Connection) -> None:
    """goose sends a StatementBegin ... StatementEnd block as one query; an error without a position
    in its third statement is told at that statement's line, not the block's first."""
    sql = "create table t (a int);\n\nselect 1;\n  alter table nope add column b int;\n"
    problem = failure(conn, sql, statements=((0, sql),))
    assert (problem.line, problem.column, problem.sqlstate) == (4, 3, "42P01")
    assert problem.statement == "alter table nope add column b int"
    assert "t" not in relations(conn)


def test_failed_script_leaves_nothing_behind(conn: psycopg.Connection) -> None:
    failure(conn, "create table kept (a int);\nselect 1/0;")
    assert "kept" not in relations(conn)


def test_syntax_error_is_reported_before_anything_runs(conn: psycopg.Connection) -> None:
    problem = failure(conn, "create table t (a int);\ncreate tabel u (a int);\n")
    assert (problem.line, problem.sqlstate) == (2, "42601")
    assert "tabel" in problem.message
    assert "t" not in relations(conn)


def test_hint_is_kept(conn: psycopg.Connection) -> None:
    problem = failure(conn, "select no_such_function(1);")
    assert problem.hint and "No function matches" in problem.hint
    assert "HINT:" in problem.body("m.sql")


def test_concurrently_runs_outside_a_transaction(conn: psycopg.Connection) -> None:
    run(conn, "create table t (a int);\ncreate index concurrently t_a on t (a);\nvacuum t;")
    assert {"t", "t_a"} <= relations(conn)


def test_a_do_block_that_commits_runs_outside_a_transaction(conn: psycopg.Connection) -> None:
    # As andrewah64/base-app-db's data scripts do; psql (sqitch) runs them in autocommit.
    run(conn, "create table t (a int);\ndo $$ begin insert into t values (1); commit; end $$;")
    assert conn.execute("select count(*) from t").fetchone() == (1,)
    # A temporary table's ON COMMIT is no COMMIT: that block still runs in the script's transaction.
    run(conn, "do $$ begin create temp table tmp (a int) on commit drop; end $$;\ncreate table u (a int);")
    assert "u" in relations(conn)


def test_a_call_of_a_procedure_that_commits_runs_outside_a_transaction(conn: psycopg.Connection) -> None:
    # As 0x0501/readest backfills a column in batches (016_add_books_synced_at.sql), beside a
    # CREATE INDEX CONCURRENTLY, observed statement by statement: its CALL was wrapped in an
    # observed transaction and failed ("invalid transaction termination"); psql runs it.
    observed: list[str] = []
    script = """create table t (a int);
        create procedure fill(n int) language plpgsql as $$
        begin
          for i in 1..n loop insert into t values (i); commit; end loop;
        end $$;
        call public.fill(3);
        create index concurrently t_a on t (a);
        drop procedure fill(int);
    """
    execute_script(conn, Script(Path("/repo/m.sql"), script), lambda _conn, statement: observed.append(
        statement.node if statement else ""))
    assert conn.execute("select count(*) from t").fetchone() == (3,)
    assert "CallStmt" not in observed and "CreateStmt" in observed  # the CALL ran unobserved
    # A procedure that does not commit is called inside the script's transaction, as before.
    run(conn, "create procedure one() language sql as $$ insert into t values (0) $$;\ncall one();")
    assert conn.execute("select count(*) from t").fetchone() == (4,)


def test_explicit_transaction_control_in_the_file(conn: psycopg.Connection) -> None:
    run(conn, "begin;\ncreate table t (a int);\ncommit;\n")
    assert "t" in relations(conn)


def test_a_transaction_left_open_in_a_wrapped_file_is_committed_by_the_runner(conn: psycopg.Connection) -> None:
    # heroiclabs/nakama (sql-migrate wraps every file): the file ends the runner's transaction for
    # CONCURRENTLY and opens one again, which the runner's COMMIT after the file commits.
    sql = ("create table users (name text);\ncommit;\ncreate index concurrently users_name on users (name);\nbegin;\n"
           "create table after_begin (a int);\n")
    run(conn, sql, transaction=Transaction.WRAPPED)
    assert {"users", "users_name", "after_begin"} <= relations(conn)
    # psql, and a runner that does not wrap the file, end the session with it open: rolled back.
    run(conn, "begin;\ncreate table left_open (a int);\n")
    assert "left_open" not in relations(conn)


def test_the_runners_commit_of_a_transaction_left_open_fails_at_the_files_begin(conn: psycopg.Connection) -> None:
    # A deferred constraint is checked at the runner's COMMIT: the failure points at the BEGIN.
    sql = ("create table parent (id int primary key);\ncommit;\nbegin;\ncreate table child (p int references parent"
           " deferrable initially deferred);\ninsert into child values (1);\n")
    problem = failure(conn, sql, transaction=Transaction.WRAPPED)
    assert problem.line == 3 and problem.sqlstate == "23503"
    assert problem.message.startswith("at the runner's COMMIT after the file: insert or update on table \"child\"")
    assert "child" not in relations(conn)


def test_layout_opt_out_of_transactions_runs_statement_by_statement(conn: psycopg.Connection) -> None:
    problem = failure(conn, "create table first (a int);\nselect 1/0;", transaction=Transaction.NONE)
    assert problem.line == 2
    assert "first" in relations(conn)  # no wrapper: the first statement stays, as with the real runner


def test_session_settings_do_not_leak_into_the_next_script(conn: psycopg.Connection) -> None:
    conn.execute("create role migration_check_leak_test nologin")
    try:
        run(conn, "create schema app; set search_path = app; set role migration_check_leak_test;")
        assert conn.execute("select current_setting('search_path'), current_user").fetchone() == (
            '"$user", public', "postgres")
    finally:
        conn.execute("drop role migration_check_leak_test")


def test_position_with_multibyte_text_before_it(conn: psycopg.Connection) -> None:
    problem = failure(conn, "select 'héllo wörld';\nselect 'ü' + 1;")
    assert problem.line == 2
    assert problem.column == 8  # the literal, after multibyte text on the line before


def test_empty_script_is_fine(conn: psycopg.Connection) -> None:
    run(conn, "-- nothing to do\n")


def test_enum_add_value_leaves_the_transaction_only_before_postgres_12() -> None:
    from migration_check.replay.executor import runs_in_one_transaction
    from migration_check.sql import split_script
    script = Script(Path("m.sql"), "alter type mood add value 'meh';")
    statements = split_script(script)
    assert runs_in_one_transaction(script, statements, 110000) is False
    assert runs_in_one_transaction(script, statements, 150000) is True
