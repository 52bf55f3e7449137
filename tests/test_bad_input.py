"""Bad input ends cleanly (issue 10): one line naming the file and line, exit 2 (or 1 for a finding
about a migration), the JUnit file written, no traceback. Through the CLI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database

ROLLBACK = {"migrations/20250101000000_a_rollback.sql": "select 1;\n"}


def run(pg_server: Database, root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, ET.Element, str]:
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, ET.parse(report).getroot(), captured.out + captured.err


@pytest.mark.parametrize(("content", "line", "words"), [
    (b"create table a (id int);\nselect 1;\x00\ndrop table everything;\n", 2, "holds a NUL byte, which would end the SQL there"),
    ("create table a (id int);\n".encode("utf-16-le"), 1, "holds a NUL byte, which would end the SQL there (is it UTF-16?"),
    (b"create table a (id int);\nselect '\xe9';\n", 2, "not valid UTF-8 (byte 0xe9"),
])
def test_a_file_that_cannot_be_read_whole_is_an_error_at_its_line(
        pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, line: int, words: str) -> None:
    root = write_files(tmp_path / "repo", ROLLBACK)
    (root / "migrations/20250101000000_a.sql").write_bytes(content)
    code, junit, printed = run(pg_server, root, tmp_path, capsys)
    assert code == 2
    assert f"20250101000000_a.sql:{line}: {words}" in printed
    assert any(c.find("error") is not None for c in junit.iter("testcase"))


def test_a_syntax_error_at_end_of_input_is_at_the_end(pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "select 1;\n\ncreate table t (\n  id int\n"})
    code, junit, _ = run(pg_server, root, tmp_path, capsys)
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    assert code == 1 and apply.attrib["line"] == "4"
    assert "20250101000000_a.sql:4:8: ERROR 42601: syntax error at end of input" in apply.find("failure").attrib["message"]


def test_meta_command_arguments_are_words_as_psql_reads_them(pg_server: Database, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", {
        "migrations/20250101000000_a.sql": "\\set table 'p'\n\\i parts/0001_part.sql\n\\ir parts/0001_part-2.sql\n",
        "migrations/parts/0001_part.sql": "create table :\"table\" (id int);\n",
        "migrations/parts/0001_part-2.sql": "create table q (id int);\n",
        "migrations/20250101000000_a_rollback.sql": "drop table p; drop table q;\n",
        ".migration-check.yml": "ignore: [\"migrations/parts/*\"]\n",
    })
    code, junit, printed = run(pg_server, root, tmp_path, capsys)
    assert code == 0, printed


@pytest.mark.parametrize("file", ["pyproject.toml", "migrations/2024-01-01-000000_a/metadata.toml"])
def test_config_files_that_are_not_utf8_are_errors_at_their_line(pg_server: Database, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str], file: str) -> None:
    root = write_files(tmp_path / "repo", {"migrations/2024-01-01-000000_a/up.sql": "select 1;\n",
                                           "migrations/2024-01-01-000000_a/down.sql": "select 1;\n"})
    (root / file).write_bytes(b"[tool.migration-check]\nformat = \"di\xe9sel\"\n" if file == "pyproject.toml"
                              else b"run_in_transaction = f\xe9\n")
    code, junit, printed = run(pg_server, root, tmp_path, capsys)
    assert code == 2
    assert f"{file}:{2 if file == 'pyproject.toml' else 1}: not valid UTF-8 (byte 0xe9" in printed


def test_new_into_a_directory_that_cannot_be_made_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the migrations directory should be\n")
    code = main(["new", "add_users", "--dir", str(blocker / "migrations")])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    assert captured.err.startswith("migration-check: error: cannot create") and captured.err.count("\n") == 1
    assert not list(tmp_path.rglob("*.sql"))


@pytest.mark.parametrize("sql", ["select pg_sleep(100000);\n", "do $$ begin loop end loop; end $$;\n"])
def test_a_migration_that_never_ends_is_stopped_by_the_statement_timeout(
        pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str) -> None:
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": sql,
                                           ".migration-check.yml": "statement-timeout: 1s\n"})
    code, junit, _ = run(pg_server, root, tmp_path, capsys)
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    assert code == 1 and apply.attrib["line"] == "1"
    message = apply.find("failure").attrib["message"]
    assert "ERROR 57014: canceling statement due to statement timeout (the check's statement-timeout" in message


def test_a_timeout_that_is_not_a_duration_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "select 1;\n",
                                           ".migration-check.yml": "lock-timeout: forever\n"})
    assert main(["check", str(root)]) == 2
    assert ".migration-check.yml:1: lock-timeout: expected a duration such as 90s, 10min or 2h" in capsys.readouterr().err


def test_a_var_without_a_value_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "select 1;\n"})
    assert main(["check", str(root), "--var", "Namespace"]) == 2
    assert capsys.readouterr().err == "migration-check: error: --var Namespace: expected NAME=VALUE\n"


def test_a_migration_that_ends_its_own_session_is_a_finding_at_its_file(
        pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", {
        "migrations/20250101000000_a.sql": "create table a (id int);\n",
        "migrations/20250101000000_a_rollback.sql": "drop table a;\n",
        "migrations/20250102000000_b.sql": "select 1;\nselect pg_terminate_backend(pg_backend_pid());\n",
        "migrations/20250102000000_b_rollback.sql": "select 1;\n",
    })
    code, junit, _ = run(pg_server, root, tmp_path, capsys)
    [failed] = [c for c in junit.iter("testcase") if c.find("failure") is not None]
    assert code == 1 and failed.attrib["name"] == "20250102000000_b" and failed.attrib["classname"] == "migration_check.apply"
    assert "the session ended during this script" in failed.find("failure").attrib["message"]
    assert not [c for c in junit.iter("testcase") if c.find("error") is not None]  # not a run error


def test_a_bug_of_the_tools_own_is_one_line_exit_2_and_the_reports_written(
        pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # A family's verdict that raises what no check expects (an AlterTableCmd put in a dict, once):
    # one line that says where in the tool, exit 2, every migration still given a case.
    from migration_check.families import rollback

    def broken(*_args: object) -> object:
        raise TypeError("unhashable type: 'AlterTableCmd'")

    monkeypatch.setattr(rollback.Rollback, "verdict", broken)
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "create table a (id int);\n"})
    code, junit, printed = run(pg_server, root, tmp_path, capsys)
    assert code == 2
    # (where in the tool: the innermost of its own frames, the family's caller here)
    assert "internal error of migration-check (TypeError: unhashable type: 'AlterTableCmd') at base.py:" in printed
    assert "please report it, with --verbose's traceback" in printed
    assert [c.attrib["name"] for c in junit.iter("testcase")] and any(
        c.find("error") is not None or c.find("skipped") is not None for c in junit.iter("testcase"))
