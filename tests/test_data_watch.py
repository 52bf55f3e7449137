"""Which tables the data check copies (data/watch.py): those a migration names, those that reference
them, and those their triggers' code writes; every table only when code hides what it writes."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migration_check.data.watch import watched_tables
from migration_check.model import Script

SCHEMA = """
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY, note text);
CREATE TABLE counters (name text PRIMARY KEY, n int);
CREATE TABLE unrelated (id int);
CREATE TABLE accounts (id int PRIMARY KEY, email text, updated_at timestamptz);
CREATE TABLE orders (id int, account_id int REFERENCES accounts);
CREATE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    INSERT INTO audit_log (note) VALUES ('account ' || NEW.id);
    UPDATE counters SET n = n + 1 WHERE name = 'accounts';
    RETURN NEW;
END
$$;
CREATE TRIGGER accounts_audit BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_audit();
"""


def names(conn: psycopg.Connection, sql: str) -> set[str]:
    oids = watched_tables(conn, [Script(Path("m.sql"), sql)])
    return {name for (name,) in conn.execute("SELECT relname::text FROM pg_class WHERE oid = ANY(%s)", (oids,))}


def test_a_trigger_s_writes_are_watched_and_nothing_else(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)
    assert names(conn, "UPDATE accounts SET email = lower(email);") == {"accounts", "orders", "audit_log", "counters"}
    assert names(conn, "ALTER TABLE unrelated ADD COLUMN x int;") == {"unrelated"}


@pytest.mark.parametrize("body", [
    "BEGIN EXECUTE 'DELETE FROM ' || TG_ARGV[0]; RETURN NEW; END",
    "BEGIN PERFORM archive_everything(); RETURN NEW; END",
])
def test_a_trigger_that_runs_hidden_code_watches_every_table(conn: psycopg.Connection, body: str) -> None:
    conn.execute(SCHEMA)
    conn.execute(f"CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$")
    assert "unrelated" in names(conn, "UPDATE accounts SET email = lower(email);")


def test_a_sql_trigger_function_is_read_too(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)
    conn.execute("CREATE FUNCTION log_it() RETURNS void LANGUAGE sql AS $$ INSERT INTO unrelated VALUES (1) $$")
    conn.execute("CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN INSERT INTO audit_log (note) VALUES ('x'); RETURN NEW; END $$")
    assert names(conn, "UPDATE accounts SET email = 'x';") == {"accounts", "orders", "audit_log"}
