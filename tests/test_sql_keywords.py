"""Words a newer PostgreSQL reserves: pgxn/pgxn-manager names a function `json_value` and a result
column `json`, as PostgreSQL 12 to 15 allow (its CI runs them). The parser this tool ships
(PostgreSQL 17's) and a PostgreSQL 17 or 18 server stop there: no defect of the migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import write_files

from migration_check.cli import main
from migration_check.model import Script
from migration_check.servers.binaries import Binaries, candidate_bindirs, find_binaries, server_version
from migration_check.sql import SyntaxProblem, split_script, statements_to_run
from migration_check.sql.keywords import newer_keyword_at, newer_keyword_hint, reserved_in

JSON_VALUE = ("CREATE OR REPLACE FUNCTION json_value(val text, def text DEFAULT 'null') RETURNS text\n"
              "LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(to_json(val)::text, def) $$;\n")
RESULT_COLUMN = ("CREATE FUNCTION setup_meta(IN nick text, IN json text, OUT name text) LANGUAGE sql\n"
                 "AS $$ SELECT nick $$;\n")
CALL = ("CREATE FUNCTION tag_json(tag text) RETURNS text LANGUAGE sql AS $$\n"
        "    SELECT '{\"tag\": ' || json_value(lower(tag)) || '}'\n$$;\n")


def test_the_word_at_or_just_before_a_syntax_error_is_found() -> None:
    at_parenthesis = JSON_VALUE.index("(")
    assert newer_keyword_at(JSON_VALUE, at_parenthesis) is not None
    found = newer_keyword_at(RESULT_COLUMN, RESULT_COLUMN.index("text, OUT"))
    assert found is not None and (found.word, found.since) == ("json", 16)
    # Inside a LANGUAGE sql body, which the server validates at CREATE: its error points there.
    inside = newer_keyword_at(CALL, CALL.index("))") + 1)
    assert inside is not None and inside.word == "json_value"
    assert newer_keyword_at("CREATE TABEL t (id int);", 7) is None
    assert newer_keyword_at("SELECT a, FROM t;", 10) is None


def test_only_scripts_the_parser_stops_at_such_a_word_want_an_older_server() -> None:
    texts = [JSON_VALUE, RESULT_COLUMN, "CREATE TABLE t (data json, doc jsonb);", "CREATE TABEL json (id int);"]
    assert reserved_in(texts) == {"unreserved json_value": 1, "unreserved json": 1}
    # DIGI-UW/OpenELIS-Global-2's Liquibase changesets reference a table named system_user, which
    # PostgreSQL 16 made a reserved word: its changesets failed here with a syntax error on 15.
    notebook = "CREATE TABLE notebook (id int PRIMARY KEY, creator_id int REFERENCES system_user (id));"
    assert reserved_in([notebook]) == {"unreserved system_user": 1}


def test_the_executor_sends_what_only_the_server_can_judge_and_a_typo_is_still_one(tmp_path: Path) -> None:
    script = Script(tmp_path / "1.sql", "CREATE TABLE t (id int);\n" + JSON_VALUE + "SELECT 1;\n")
    with pytest.raises(SyntaxProblem):
        split_script(script)
    statements = statements_to_run(script)
    assert [(s.line, s.node) for s in statements] == [(1, "CreateStmt"), (2, ""), (4, "SelectStmt")]
    typo = Script(tmp_path / "2.sql", JSON_VALUE + "CREATE TABEL t (id int);\n")
    with pytest.raises(SyntaxProblem) as raised:
        statements_to_run(typo)
    assert raised.value.line == 3


def test_the_hint_is_for_servers_that_reserve_the_word() -> None:
    near = JSON_VALUE.index("(")
    assert newer_keyword_hint("42601", JSON_VALUE, near, 150004) is None
    hint = newer_keyword_hint("42601", JSON_VALUE, near, 180001)
    assert hint is not None and '"json_value" is a keyword from PostgreSQL 17 on' in hint and "PostgreSQL 18" in hint
    assert newer_keyword_hint("42P01", JSON_VALUE, near, 180001) is None


def _installed() -> list[Binaries]:
    return [Binaries(d, v) for d in candidate_bindirs() if (v := server_version(d)) is not None]


def test_an_installation_older_than_the_word_is_chosen() -> None:
    installed = _installed()
    chosen = find_binaries(wanted={"unreserved json_value": 1})
    newest = max(installed, key=lambda b: b.version)
    if any(b.version < (17,) for b in installed) and newest.version >= (17,):
        assert chosen.version < (17,) and "reserves json_value, which the migrations use as names" in chosen.note
    else:
        assert chosen.bindir == newest.bindir


def test_a_project_written_for_an_older_postgresql_passes_there_and_is_explained_on_a_newer_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path, {
        "migrations/001_json_value.sql": JSON_VALUE,
        "migrations/002_use.sql": "CREATE TABLE tags (name text);\nCREATE VIEW tag_json AS SELECT json_value(name) AS j FROM tags;\n",
        "migrations/002_use.rollback.sql": "DROP VIEW tag_json;\nDROP TABLE tags;\n",
        "migrations/001_json_value.rollback.sql": "DROP FUNCTION json_value(text, text);\n",
    })
    installed = _installed()
    older = [b for b in installed if b.version < (17,)]
    newer = [b for b in installed if b.version >= (17,)]
    if older:
        assert main(["check", str(root), "--junit-xml", str(tmp_path / "old.xml")]) == 0
        if newer:
            assert "which reserves json_value" in capsys.readouterr().out
    if newer:
        code = main(["check", str(root), "--pg-bindir", str(newer[0].bindir), "--junit-xml", str(tmp_path / "new.xml")])
        out = capsys.readouterr().out
        assert code == 1
        assert '"json_value" is a keyword from PostgreSQL 17 on' in out and "001_json_value.sql:1:" in out
