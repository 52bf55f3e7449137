"""Splitting real-world SQL: COPY blocks, psql meta-commands, dollar quotes, explicit transactions,
positions, and the speed on a large file. Pure: no database, except where marked."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from migration_check.model import Script
from migration_check.replay.executor import execute_script
from migration_check.sql import Statement, SyntaxProblem, split_script


def split(sql: str, path: Path = Path("/repo/m.sql"), **kwargs: object) -> list[Statement]:
    return split_script(Script(path, sql, **kwargs))


def problem(sql: str, path: Path = Path("/repo/m.sql"), **kwargs: object) -> SyntaxProblem:
    with pytest.raises(SyntaxProblem) as caught:
        split(sql, path, **kwargs)
    return caught.value


# --- plain SQL ---------------------------------------------------------------------------------

def test_dollar_quoted_bodies_do_blocks_and_begin_atomic_stay_whole() -> None:
    statements = split(
        "create function f() returns int language plpgsql as $fn$ begin return 1; end; $fn$;\n"
        "do $$ begin perform 1; end $$;\n"
        "select $tag$ a; $$ b; $tag$;\n"
        "create function g() returns int language sql begin atomic select 1; select 2; end;\n"
        "create extension if not exists pgcrypto;\n"
    )
    assert [s.node for s in statements] == [
        "CreateFunctionStmt", "DoStmt", "SelectStmt", "CreateFunctionStmt", "CreateExtensionStmt"
    ]
    assert statements[3].sql.endswith("select 2; end")
    assert all(s.verbatim and s.copy_data is None for s in statements)


def test_statement_position_skips_leading_comments_and_honours_first_line() -> None:
    statements = split("-- header\n\n  /* note */ create table t (a int);\n   select 1;", first_line=10)
    assert [(s.line, s.column) for s in statements] == [(12, 14), (13, 4)]
    assert statements[0].sql == "create table t (a int)"


def test_syntax_error_is_located_in_the_file() -> None:
    found = problem("select 1;\n\ncreate tabel t (a int);\n", first_line=5)
    assert (found.line, found.column) == (7, 8)
    assert "tabel" in found.message


def test_transaction_control_and_statements_that_need_autocommit() -> None:
    statements = split(
        "begin;\ncreate index concurrently i on t (a);\ndrop index concurrently i;\nanalyze t;\n"
        "vacuum t;\nreindex index concurrently i;\nalter table p detach partition c concurrently;\n"
        "savepoint s;\ncommit;\n"
    )
    flags = [(s.node, s.needs_autocommit, s.transaction_control) for s in statements]
    assert flags == [
        ("TransactionStmt", False, True),
        ("IndexStmt", True, False),
        ("DropStmt", True, False),
        ("VacuumStmt", False, False),  # ANALYZE alone runs in a transaction block
        ("VacuumStmt", True, False),
        ("ReindexStmt", True, False),
        ("AlterTableStmt", True, False),
        ("TransactionStmt", False, True),
        ("TransactionStmt", False, True),
    ]


@pytest.mark.parametrize(("sql", "outside"), [
    # Each as PostgreSQL 15 and 18 answer inside a transaction block (25001 where refused).
    ("discard all", True), ("discard temp", False),
    ("reindex schema public", True), ("reindex (verbose) database app", True), ("reindex system app", True),
    ("reindex table t", False),
    ("cluster", True), ("cluster t using t_pkey", False),
    ("alter database app set tablespace pg_default", True), ("alter database app connection limit 3", False),
])
def test_what_postgresql_refuses_in_a_transaction_block(sql: str, outside: bool) -> None:
    [statement] = split(f"{sql};")
    assert statement.needs_autocommit is outside


def test_explicit_statement_boundaries_are_kept() -> None:
    sql = "-- +goose StatementBegin\ncreate function f() returns int language sql as 'select 1';\nselect 2;\n-- +goose StatementEnd\ncreate index concurrently i on t (a);\n"
    block = sql.index("create function")
    index = sql.index("create index")
    statements = split(sql, statements=((block, sql[block:index]), (index, sql[index:])), first_line=3)
    assert [(s.line, s.node) for s in statements] == [(4, "CreateFunctionStmt"), (7, "IndexStmt")]
    assert statements[0].sql.endswith("select 2;\n-- +goose StatementEnd")
    assert statements[1].needs_autocommit


def test_explicit_statement_with_syntax_error_is_located() -> None:
    sql = "select 1;\nselect from from;\n"
    found = problem(sql, statements=((10, sql[10:]),))
    assert found.line == 2


# --- COPY ... FROM stdin -------------------------------------------------------------------------

DUMP = """\
SET client_encoding = 'UTF8';
CREATE TABLE public.notes (id int, body text);
COPY public.notes (id, body) FROM stdin;
1\tO'Brien's note; not SQL
2\t$$ unbalanced
3\t\\N
\\.

SELECT pg_catalog.setval('s', 3, true);
COPY public.other (id) FROM STDIN;
7
\\.
"""


def test_copy_rows_go_into_copy_data_up_to_the_terminator() -> None:
    statements = split(DUMP)
    assert [s.node for s in statements] == ["VariableSetStmt", "CreateStmt", "CopyStmt", "SelectStmt", "CopyStmt"]
    copy = statements[2]
    assert copy.sql == "COPY public.notes (id, body) FROM stdin"
    assert copy.copy_data == "1\tO'Brien's note; not SQL\n2\t$$ unbalanced\n3\t\\N\n"
    assert statements[3].line == 9  # positions after the data are right
    assert statements[4].copy_data == "7\n"
    assert all(s.verbatim for s in statements)  # COPY alone is plain SQL for psql and for the server


def test_copy_without_terminator_runs_to_the_end_of_the_file() -> None:
    statements = split("copy t (a) from stdin;\n1\n2\n")
    assert statements[-1].copy_data == "1\n2\n"


def test_slash_copy_from_a_repository_file_sends_the_file_as_copy_data(tmp_path: Path,
                                                                       conn: psycopg.Connection) -> None:
    # As FreeGeekArkansas/timeclock's sqitch changes load their countries: the file is found as
    # \\i finds one (from the script's directory up to the repository), and psql's case-free \\COPY.
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "countries.csv").write_text("Canada\n\"Korea, Republic of\"\n")
    script = tmp_path / "deploy" / "countries.sql"
    sql = ("create table countries (id serial primary key, name text);\n"
           "\\COPY countries (name) FROM 'deploy/countries.csv'(FORMAT 'csv',HEADER FALSE);\n")
    statements = split(sql, script, root=tmp_path)
    copy = statements[1]
    assert (copy.line, copy.node, copy.sql) == (2, "CopyStmt", "COPY countries (name) FROM STDIN WITH (FORMAT csv, HEADER FALSE)")
    execute_script(conn, Script(script, sql, root=tmp_path))
    assert conn.execute("select name from countries order by id").fetchall() == [("Canada",), ("Korea, Republic of",)]


def test_copy_to_a_file_is_an_ordinary_statement() -> None:
    statements = split("copy t (a) from '/tmp/x.csv';\nselect 1;")
    assert [s.copy_data for s in statements] == [None, None]


def test_copy_rows_run_on_a_real_database(conn: psycopg.Connection) -> None:
    for statement in split(DUMP.replace("SELECT pg_catalog.setval('s', 3, true);", "CREATE TABLE public.other (id int);")):
        if statement.copy_data is not None:
            with conn.cursor() as cursor, cursor.copy(statement.sql) as copy:
                copy.write(statement.copy_data)
        else:
            conn.execute(statement.sql)
    assert conn.execute("select body from public.notes order by id").fetchall() == [
        ("O'Brien's note; not SQL",), ("$$ unbalanced",), (None,)
    ]


# --- psql meta-commands ------------------------------------------------------------------------

def test_harmless_meta_commands_are_skipped_and_mark_the_script_not_verbatim() -> None:
    statements = split("\\set ON_ERROR_STOP on\n\\echo creating\n\\pset pager off\n\\timing on\n\\restrict k\ncreate table t (a int);\n\\unrestrict k\n")
    assert [(s.line, s.node) for s in statements] == [(6, "CreateStmt")]
    assert not statements[0].verbatim


def test_set_variables_are_substituted_as_psql_does() -> None:
    statements = split(
        "\\set schema app\n\\set owner 'O''Brien'\n\\set col \"Mixed\"\n"
        "create table :\"schema\".t (name text default :'owner', n int);\n"
        "select :schema, ':schema', $$ :schema $$, a::int, b[1:2] from t; -- :schema\n"
    )
    assert statements[0].sql == "create table \"app\".t (name text default 'O''Brien', n int)"
    assert statements[1].sql.startswith("select app, ':schema', $$ :schema $$, a::int, b[1:2]")
    assert all(not s.verbatim for s in statements)


def test_undefined_variables_are_left_alone() -> None:
    assert split("\\set a 1\nselect x[1:b] from t;")[0].sql == "select x[1:b] from t"


def test_error_after_substitution_points_at_the_original_text() -> None:
    found = problem("\\set t my_table\nselect * from :t where where;\n")
    assert (found.line, found.column) == (2, 24)  # the second `where`, after `:t` in the file


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("select 1;\n\\connect other\n", "\\connect is not supported"),
        ("select 1;\n\\c other\n", "\\connect is not supported"),
        ("select format('create table %I ()', 'x')\n\\gexec\n", "\\gexec"),
        ("select 1;\n\\copy t to 'data.csv'\n", "\\copy is replayed only FROM a file of the repository"),
        ("select 1;\n\\copy t from program 'cat /etc/passwd'\n", "runs no program"),
        ("select 1;\n\\! rm -rf /\n", "shell"),
        ("select 1;\n\\if :flag\n", "conditionals"),
        ("select 1;\n\\frobnicate\n", "\\frobnicate is not supported"),
        ("select 1\n\\g\n", "inside a statement"),
    ],
)
def test_unsupported_meta_commands_are_refused_at_their_line(sql: str, words: str) -> None:
    found = problem(sql)
    assert found.line == 2 and found.column == 1
    assert words in found.message


def test_quit_stops_reading() -> None:
    assert [s.sql for s in split("select 1;\n\\q\nselect 2;\n")] == ["select 1"]


def test_include_inlines_the_file_with_its_own_path_and_lines(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "types.sql").write_text("-- shared types\n\ncreate type mood as enum ('ok');\n\\ir more.sql\n")
    (tmp_path / "lib" / "more.sql").write_text("create domain positive as int check (value > 0);\n")
    main = tmp_path / "migrations" / "001_init.sql"
    main.parent.mkdir()
    main.write_text("\\i lib/types.sql\ncreate table t (m mood);\n")
    statements = split(main.read_text(), main)
    assert [(s.path.name, s.line, s.node) for s in statements] == [
        ("types.sql", 3, "CreateEnumStmt"),
        ("more.sql", 1, "CreateDomainStmt"),
        ("001_init.sql", 2, "CreateStmt"),
    ]
    assert not any(s.verbatim for s in statements)


def test_include_problems_are_located(tmp_path: Path) -> None:
    main = tmp_path / "m.sql"
    found = problem("select 1;\n\\i missing.sql\n", main)
    assert (found.path, found.line) == (main, 2) and "not found" in found.message
    loop = tmp_path / "loop.sql"
    loop.write_text("\\ir loop.sql\n")
    assert "nested too deeply" in problem(loop.read_text(), loop).message
    bad = tmp_path / "bad.sql"
    bad.write_text("select 1;\nselect from from;\n")
    found = problem("\\ir bad.sql\n", main)
    assert (found.path, found.line) == (bad, 2)


def test_a_backquoted_cat_of_a_repository_file_is_its_content(tmp_path: Path) -> None:
    # Tamarou/Registry (sqitch): `\\set template_content `cat templates/....html.ep``, then
    # `INSERT ... VALUES (:'template_content')`: refused as "backquoted shell commands" before.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("<p>it's here</p>\n")
    main = tmp_path / "sql" / "deploy" / "page.sql"
    main.parent.mkdir(parents=True)
    sql = "\\set content `cat templates/page.html`\ninsert into pages values (:'content');\n"
    [statement] = split(sql, main, root=tmp_path)
    assert statement.sql == "insert into pages values ('<p>it''s here</p>')"
    # No shell runs for a migration: any other command is refused at its place.
    found = problem("\\set x `curl http://example.com`\nselect 1;\n", main, root=tmp_path)
    assert (found.line, found.column) == (1, 8) and "runs a shell command" in found.message
    outside = problem("\\set x `cat /etc/passwd`\nselect 1;\n", main, root=tmp_path)
    assert "outside the repository" in outside.message


def test_backslashes_inside_strings_and_comments_are_not_meta_commands() -> None:
    statements = split("select E'a\\\\b', '\\\\x';\n-- \\connect x\n/* \\q */ select 2;")
    assert [s.node for s in statements] == ["SelectStmt", "SelectStmt"]
    assert all(s.verbatim for s in statements)


# --- the executor and these statements -----------------------------------------------------------

def test_script_with_meta_commands_runs(conn: psycopg.Connection) -> None:
    from migration_check.replay.executor import execute_script

    execute_script(conn, Script(Path("/repo/m.sql"), "\\set name widgets\n\\echo go\ncreate table :name (a int);\n"))
    assert conn.execute("select to_regclass('widgets') is not null").fetchone() == (True,)


# --- speed -------------------------------------------------------------------------------------

def large_script(size: int) -> str:
    parts: list[str] = []
    total, i = 0, 0
    while total < size:
        chunk = (
            f"-- table {i}\ncreate table t{i} (id bigint primary key, name text not null default 'x');\n"
            f"insert into t{i} (id, name) values " + ", ".join(f"({j}, 'name {j}')" for j in range(20)) + ";\n"
            f"create function f{i}() returns trigger language plpgsql as $fn$ begin new.name := 'y'; return new; end $fn$;\n"
        )
        if i % 500 == 0:
            chunk += f"copy t{i} (id, name) from stdin;\n" + "".join(f"{k}\tO'Row {k}\n" for k in range(1000)) + "\\.\n"
        parts.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(parts)


def test_a_five_megabyte_file_splits_fast() -> None:
    sql = large_script(5_000_000)
    started = time.perf_counter()
    statements = split(sql)
    elapsed = time.perf_counter() - started
    assert len(statements) > 20_000
    assert sum(1 for s in statements if s.copy_data) > 5
    assert statements[-1].line == sql.rstrip("\n").count("\n") + 1
    assert elapsed < 5, f"{elapsed:.2f}s"  # about 1 s on a laptop; generous for slow CI runners
