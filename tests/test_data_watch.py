"""Which tables the data check copies (data/watch.py): those a migration names, those that reference
them through a key whose action writes rows, and those their triggers' code writes; every table only
when code hides what it writes. The lock family reads every referencing table (`reached`)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from migration_check.data.watch import Watched, watched_tables
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


def names(conn: psycopg.Connection, sql: str, which: str = "reached") -> set[str]:
    oids = getattr(watched_tables(conn, [Script(Path("m.sql"), sql)]), which)
    return {name for (name,) in conn.execute("SELECT relname::text FROM pg_class WHERE oid = ANY(%s)", (oids,))}


def test_a_trigger_s_writes_are_watched_and_nothing_else(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)
    assert names(conn, "UPDATE accounts SET email = lower(email);") == {"accounts", "orders", "audit_log", "counters"}
    assert names(conn, "ALTER TABLE unrelated ADD COLUMN x int;") == {"unrelated"}


KEYS = """
CREATE TABLE teams (id int PRIMARY KEY);
CREATE TABLE members (id int PRIMARY KEY, team_id int REFERENCES teams);
CREATE TABLE badges (member_id int REFERENCES members ON DELETE CASCADE);
CREATE TABLE projects (id int PRIMARY KEY, team_id int REFERENCES teams ON DELETE SET NULL);
CREATE TABLE tasks (project_id int REFERENCES projects ON UPDATE CASCADE);
CREATE TABLE notes (project_id int REFERENCES projects ON DELETE RESTRICT);
"""


def test_only_keys_whose_action_writes_rows_make_a_table_changeable(conn: psycopg.Connection) -> None:
    # members' key only refuses (NO ACTION): neither it nor badges below it can lose a row when teams
    # does; projects (SET NULL) and tasks below it (ON UPDATE CASCADE) can; notes (RESTRICT) cannot.
    conn.execute(KEYS)
    every = {"teams", "members", "badges", "projects", "tasks", "notes"}
    assert names(conn, "DELETE FROM teams;") == every
    assert names(conn, "DELETE FROM teams;", "changeable") == {"teams", "projects", "tasks"}
    assert names(conn, "DELETE FROM members;", "changeable") == {"members", "badges"}


@pytest.mark.parametrize("sql", ["TRUNCATE teams CASCADE;", "ALTER TABLE teams ADD COLUMN x int; TRUNCATE ONLY teams, tasks CASCADE;"])
def test_a_truncate_cascade_makes_every_referencing_table_changeable(conn: psycopg.Connection, sql: str) -> None:
    conn.execute(KEYS)
    assert names(conn, sql, "changeable") == {"teams", "members", "badges", "projects", "tasks", "notes"}
    assert names(conn, "TRUNCATE teams;", "changeable") == {"teams", "projects", "tasks"}


def test_a_trigger_that_truncates_with_cascade_watches_every_table(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)
    conn.execute("CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN TRUNCATE counters CASCADE; RETURN NEW; END $$")
    assert "unrelated" in names(conn, "UPDATE accounts SET email = 'x';", "changeable")


def test_a_dropped_table_is_watched(conn: psycopg.Connection) -> None:
    # A DROP names its tables as strings, not as relations (AAFC-BICoE/agent-api's Liquibase
    # dropTable, with no rollback that names the table again).
    conn.execute(SCHEMA)
    assert names(conn, "DROP TABLE unrelated;", "changeable") == {"unrelated"}
    assert names(conn, "DROP TABLE IF EXISTS public.unrelated CASCADE;", "changeable") == {"unrelated"}
    assert names(conn, "DROP TRIGGER accounts_audit ON accounts CASCADE;", "changeable") == set()  # no row changes


def test_a_dropped_table_s_row_type_takes_the_columns_of_that_type_with_it(conn: psycopg.Connection) -> None:
    # `DROP TABLE address CASCADE` drops every column of type address (through an array, a domain or
    # a composite type over it too): those tables lose values though no statement names them.
    conn.execute("CREATE TABLE address (street text); CREATE TABLE people (home address, past address[]);"
                 " CREATE DOMAIN postal AS address; CREATE TABLE letters (sent_to postal);"
                 " CREATE TYPE visit AS (at address); CREATE TABLE visits (v visit); CREATE TABLE plain (id int);")
    every = {"address", "people", "letters", "visits"}
    assert names(conn, "DROP TABLE address CASCADE;", "changeable") == every
    assert names(conn, "DROP TABLE address;", "changeable") == {"address"}  # refused without CASCADE


@pytest.mark.parametrize("sql", ["DROP TYPE mood CASCADE;", "DROP SCHEMA app CASCADE;", "DROP FUNCTION f() CASCADE;",
                                 "DROP EXTENSION citext CASCADE;", "DROP OWNED BY app_user;"])
def test_a_drop_that_reaches_unnamed_tables_watches_every_table(conn: psycopg.Connection, sql: str) -> None:
    conn.execute(SCHEMA)
    assert "unrelated" in names(conn, sql, "changeable")
    assert "unrelated" not in names(conn, sql.replace(" CASCADE", ""), "changeable") or "OWNED" in sql


WRITER = """
CREATE TABLE elsewhere (id int);
CREATE FUNCTION remember(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN n := length(t); INSERT INTO unrelated VALUES (n); RETURN t; END $$;
CREATE FUNCTION relay(t text) RETURNS text LANGUAGE sql AS $$ SELECT remember(t) $$;
CREATE FUNCTION slug(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN t := lower(t); RETURN t; END $$;
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT upper(t) $$;
CREATE FUNCTION anywhere(t text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM ' || t; RETURN t; END $$;
"""
NAMED = {"accounts", "audit_log", "counters"}  # accounts, and what its trigger writes


@pytest.mark.parametrize("sql", [
    "UPDATE accounts SET email = remember(email);",
    "UPDATE accounts SET email = relay(email);",  # through a function it calls
    "ALTER TABLE accounts ADD COLUMN tag text DEFAULT remember('x');",
])
def test_the_tables_a_function_of_the_project_writes_are_watched(conn: psycopg.Connection, sql: str) -> None:
    # The function writes where the statement does not say (unrelated): its code is read in turn.
    conn.execute(SCHEMA + WRITER)
    assert names(conn, sql, "changeable") == NAMED | {"unrelated"}


@pytest.mark.parametrize("create", [
    "CREATE FUNCTION note_it() RETURNS int LANGUAGE sql AS $$ INSERT INTO unrelated VALUES (1) RETURNING id $$;",
    "CREATE FUNCTION note_it() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN length(remember('x')); END $$;",
])
def test_a_function_the_script_creates_is_read_from_its_create_statement(conn: psycopg.Connection, create: str) -> None:
    # Not in the catalog before the migration runs; the second calls one that is.
    conn.execute(SCHEMA + WRITER)
    assert names(conn, f"{create} DELETE FROM counters WHERE n = note_it(); DROP FUNCTION note_it();",
                 "changeable") == {"counters", "unrelated"}


@pytest.mark.parametrize("sql", [
    "UPDATE accounts SET email = anywhere(email);",  # dynamic SQL
    "CREATE FUNCTION note_it() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM unrelated'; RETURN 1; END $$;"
    " DELETE FROM counters WHERE n = note_it();",  # made by the script, and runs dynamic SQL
])
def test_a_function_whose_writes_cannot_be_read_watches_every_table(conn: psycopg.Connection, sql: str) -> None:
    conn.execute(SCHEMA + WRITER)
    assert {"unrelated", "elsewhere"} <= names(conn, sql, "changeable")


def test_a_function_whose_parameters_are_types_of_another_schema_is_read(conn: psycopg.Connection) -> None:
    # pg_get_functiondef qualifies them (app.members), which pglast's PL/pgSQL parser cannot look up.
    conn.execute(SCHEMA + WRITER + "CREATE SCHEMA app; CREATE TYPE app.level AS ENUM ('low', 'high');"
                 " CREATE TABLE app.members (id int, level app.level);"
                 " CREATE FUNCTION app.note(a app.members, l app.level) RETURNS text LANGUAGE plpgsql AS $$"
                 " DECLARE t text; BEGIN t := a.id::text || l::text; INSERT INTO unrelated VALUES (a.id); RETURN t; END $$")
    assert names(conn, "UPDATE app.members a SET level = 'high' WHERE app.note(a, a.level) IS NOT NULL;",
                 "changeable") == {"members", "unrelated"}


def test_a_function_whose_parameter_type_two_schemas_name_is_read(conn: psycopg.Connection) -> None:
    # AREDL's aredl.submissions and arepl.submissions, each schema with its own helper taking its
    # own row type: read with its own schema first, neither helper's type is qualified.
    conn.execute(SCHEMA + WRITER + "".join(
        f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.submissions (id int);"
        f" CREATE FUNCTION {schema}.toggle(s {schema}.submissions) RETURNS int LANGUAGE plpgsql AS $$"
        f" BEGIN INSERT INTO unrelated VALUES (s.id); RETURN s.id; END $$;" for schema in ("aredl", "arepl")))
    for schema in ("aredl", "arepl"):
        assert names(conn, f"UPDATE {schema}.submissions s SET id = {schema}.toggle(s);",
                     "changeable") == {"submissions", "unrelated"}


def test_what_a_trigger_performs_or_calls_is_read(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA + WRITER)
    conn.execute("CREATE PROCEDURE stash() LANGUAGE sql AS $$ INSERT INTO elsewhere VALUES (1) $$")
    conn.execute("CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN PERFORM remember(NEW.email); CALL stash(); RETURN NEW; END $$")
    assert names(conn, "UPDATE accounts SET email = 'x';", "changeable") == {"accounts", "unrelated", "elsewhere"}


def test_a_trigger_s_functions_are_read_too(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA + WRITER)
    conn.execute("CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN NEW.email := remember(NEW.email); NEW.updated_at := now(); RETURN NEW; END $$")
    assert names(conn, "UPDATE accounts SET email = 'x';", "changeable") == {"accounts", "unrelated"}
    conn.execute("CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN NEW.email := anywhere(NEW.email); RETURN NEW; END $$")
    assert "elsewhere" in names(conn, "UPDATE accounts SET email = 'x';", "changeable")


@pytest.mark.parametrize("sql", [
    "UPDATE accounts SET email = lower(email);",  # built in
    "UPDATE accounts SET email = shout(email);",  # STABLE: may not write
    "UPDATE accounts SET email = slug(email);",  # VOLATILE (the default), and writes nothing
    "CREATE VIEW loud AS SELECT remember(email) FROM accounts;",  # runs later, when read
    "INSERT INTO counters SELECT md5(x::text), 1 FROM normal_rand(2, 0, 1) x;",  # an extension's
])
def test_a_function_that_writes_nothing_or_does_not_run_watches_only_what_is_named(
        conn: psycopg.Connection, sql: str) -> None:
    conn.execute(SCHEMA + WRITER + "CREATE EXTENSION tablefunc;")
    assert names(conn, sql, "changeable") <= NAMED


def test_nothing_named_watches_nothing(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)
    assert watched_tables(conn, [Script(Path("m.sql"), "CREATE TYPE mood AS ENUM ('ok');")]) == Watched([], [])


@pytest.mark.parametrize("body", [
    "BEGIN EXECUTE 'DELETE FROM ' || TG_ARGV[0]; RETURN NEW; END",
    "BEGIN PERFORM archive_everything(); RETURN NEW; END",  # whose code runs dynamic SQL
    "BEGIN PERFORM query_to_xml('DELETE FROM unrelated RETURNING 1', true, false, ''); RETURN NEW; END",
])
def test_a_trigger_that_runs_hidden_code_watches_every_table(conn: psycopg.Connection, body: str) -> None:
    conn.execute(SCHEMA)
    conn.execute("CREATE FUNCTION archive_everything() RETURNS void LANGUAGE plpgsql AS $$"
                 " BEGIN EXECUTE 'TRUNCATE ' || current_setting('app.table'); END $$")
    conn.execute(f"CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$")
    assert "unrelated" in names(conn, "UPDATE accounts SET email = lower(email);")


def test_a_sql_trigger_function_is_read_too(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)
    conn.execute("CREATE FUNCTION log_it() RETURNS void LANGUAGE sql AS $$ INSERT INTO unrelated VALUES (1) $$")
    conn.execute("CREATE OR REPLACE FUNCTION accounts_audit() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN INSERT INTO audit_log (note) VALUES ('x'); RETURN NEW; END $$")
    assert names(conn, "UPDATE accounts SET email = 'x';") == {"accounts", "orders", "audit_log"}
