"""The tool's catalog queries as prepared statements of the session (sql/prepared.py): planned once,
prepared again when a migration throws them away, and harmless inside a migration's transaction."""

from __future__ import annotations

import psycopg
import pytest

from migration_check.sql.prepared import Prepared, fetch, literal, run

TABLES = Prepared("SELECT c.relname::text FROM pg_class c WHERE c.oid = ANY($1) ORDER BY 1", "oid[]")
BY_NAME = Prepared("SELECT c.relname::text FROM pg_class c WHERE c.relname = ANY($1) AND c.relkind = $2 ORDER BY 1",
                   "name[], \"char\"")


def prepared_names(conn: psycopg.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM pg_prepared_statements")}


def oids(conn: psycopg.Connection, *names: str) -> list[int]:
    return [oid for (oid,) in conn.execute("SELECT oid::int8 FROM pg_class WHERE relname = ANY(%s)", (list(names),))]


def test_a_query_is_prepared_once_and_then_executed(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE a (id int); CREATE TABLE b (id int)")
    assert fetch(conn, TABLES, oids(conn, "a", "b")) == [("a",), ("b",)]
    assert TABLES.name in prepared_names(conn)
    assert fetch(conn, TABLES, oids(conn, "b")) == [("b",)]
    assert fetch(conn, BY_NAME, ["a", "it's", "b"], "r") == [("a",), ("b",)]


@pytest.mark.parametrize("forget", ["DISCARD ALL", "DEALLOCATE ALL"])
def test_a_statement_the_server_forgot_is_prepared_again(conn: psycopg.Connection, forget: str) -> None:
    conn.execute("CREATE TABLE a (id int)")
    fetch(conn, TABLES, oids(conn, "a"))
    conn.execute(forget)
    assert fetch(conn, TABLES, oids(conn, "a")) == [("a",)]
    conn.execute("BEGIN")
    conn.execute(forget if forget != "DISCARD ALL" else "DEALLOCATE ALL")  # DISCARD ALL cannot run in a transaction
    assert fetch(conn, TABLES, oids(conn, "a")) == [("a",)]
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    conn.execute("ROLLBACK")


def test_inside_a_transaction_the_caller_s_settings_and_work_stand(conn: psycopg.Connection) -> None:
    conn.execute("BEGIN")
    conn.execute("SET LOCAL search_path = public; SET LOCAL enable_seqscan = on; CREATE TABLE inside (id int)")
    assert fetch(conn, TABLES, oids(conn, "inside")) == [("inside",)]
    assert conn.execute("SHOW search_path").fetchone() == ("public",)
    assert conn.execute("SHOW enable_seqscan").fetchone() == ("on",)
    assert conn.execute("SELECT count(*) FROM inside").fetchone() == (0,)
    conn.execute("ROLLBACK")


def test_an_error_inside_a_transaction_leaves_it_usable(conn: psycopg.Connection) -> None:
    failing = Prepared("SELECT 1 / $1", "int")
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE kept (id int)")
    with pytest.raises(psycopg.errors.DivisionByZero):
        fetch(conn, failing, 0)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    conn.execute("ROLLBACK")


def test_several_calls_share_one_message(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE a (id int)")
    [first, second, third] = run(conn, [(TABLES, [literal(oids(conn, "a"))]), ("SELECT 42", []),
                                        (BY_NAME, [literal(["a"]), literal("r")])])
    assert (first, second, third) == ([("a",)], [(42,)], [("a",)])


def test_literals_are_untyped_text_the_parameter_type_reads() -> None:
    assert literal([1, 2]) == "'{1,2}'"
    assert literal(["a", "it's", None]) == "'{a,it''s,NULL}'"
    assert literal(5) == "'5'"
    assert literal(None) == "NULL"


@pytest.mark.parametrize("values", [
    ["a", None, "b c", 'x"y', "q\\z", "it's", "", "NULL", "null", "{}", "a,b", " lead", "tab\there", "é", "\\", '"'],
    [1, 2, 3],
    [],
])
def test_an_array_literal_reads_back_as_its_values(conn: psycopg.Connection, values: list[object]) -> None:
    """The array literal is written as text (array_in's quoting rules): the server reads back each
    value, NULL as NULL, whatever it holds."""
    expected = [None if value is None else str(value) for value in values]
    row = conn.execute(f"SELECT {literal(values)}::text[]").fetchone()
    assert row is not None and row[0] == expected
    conn.execute("SET standard_conforming_strings = off")
    row = conn.execute(f"SELECT {literal(values)}::text[]").fetchone()
    assert row is not None and row[0] == expected
