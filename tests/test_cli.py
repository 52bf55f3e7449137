"""The command line end to end, against a real PostgreSQL: verdicts, exit codes, JUnit, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.conftest import write_files

from migration_check.cli import main
from migration_check.servers.base import Database

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def check(pg_server: Database, path: Path, tmp_path: Path, *extra: str) -> tuple[int, ET.Element]:
    report = tmp_path / "report.xml"
    code = main(["check", str(path), "--database-url", pg_server.conninfo, "--junit-xml", str(report), *extra])
    return code, ET.parse(report).getroot()


def failing(root: ET.Element) -> list[ET.Element]:
    return [case for case in root.iter("testcase") if case.find("failure") is not None or case.find("error") is not None]


def by_check(root: ET.Element, check: str) -> list[ET.Element]:
    return [case for case in root.iter("testcase") if case.attrib["classname"] == f"migration_check.{check}"]


def test_clean_example_passes(pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, root = check(pg_server, EXAMPLES / "supabase-style", tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out
    assert failing(root) == []
    assert len(by_check(root, "roundtrip")) == 5
    assert all(case.find("skipped") is None for case in by_check(root, "roundtrip"))
    assert "OK:" in out


def test_rollback_that_forgets_an_index_and_a_type_fails_naming_both(
    pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, root = check(pg_server, EXAMPLES / "broken-rollback", tmp_path)
    out = capsys.readouterr().out
    assert code == 1
    [roundtrip] = [case for case in failing(root) if case.attrib["classname"] == "migration_check.roundtrip"]
    # The first difference is the column type the up changes and the rollback never changes back:
    # the case points at the up's statement, and each difference says who did it.
    assert roundtrip.attrib["file"] == "examples/broken-rollback/migrations/20250906120000_add_user_preferences.sql"
    assert roundtrip.attrib["line"] == "3"
    message = roundtrip.find("failure").attrib["message"]
    assert "was text — changed by the up (line 3)" in message
    assert "index public.users_email_lower_idx: created by the up (line 2) and left behind by rollback" in message
    body = roundtrip.find("failure").text or ""
    assert "users_email_lower_idx" in body and "left behind by rollback" in body
    assert "phone" in body and "character varying(64)" in body
    assert "users_email_lower_idx" in out


def test_broken_sql_is_reported_at_file_line(pg_server: Database, tmp_path: Path) -> None:
    project = write_files(tmp_path / "proj", {
        "migrations/20250101000000_create_users.sql": "create table users (id int);\n",
        "migrations/20250101000000_create_users_rollback.sql": "drop table users;\n",
        "migrations/20250102000000_add_email.sql": "-- add email\n\nalter table users add colum email text;\n",
        "migrations/20250102000000_add_email_rollback.sql": "alter table users drop column email;\n",
        "migrations/20250103000000_add_phone.sql": "alter table users add column phone text;\n",
        "migrations/20250103000000_add_phone_rollback.sql": "alter table users drop column phone;\n",
    })
    code, root = check(pg_server, project / "migrations", tmp_path)
    assert code == 1
    [apply] = [case for case in failing(root) if case.attrib["classname"] == "migration_check.apply"]
    assert apply.attrib["file"].endswith("20250102000000_add_email.sql")
    assert apply.attrib["line"] == "3"
    assert "20250102000000_add_email.sql:3:" in apply.find("failure").attrib["message"]
    later = [case for case in by_check(root, "apply") if case.attrib["name"] == "20250103000000_add_phone"]
    assert later[0].find("skipped") is None and later[0].find("failure") is None  # judged, and passes


def test_rollback_that_does_not_run_fails_the_rollback_case(pg_server: Database, tmp_path: Path) -> None:
    project = write_files(tmp_path / "proj", {
        "20250101000000_create_users.sql": "create table users (id int);\n",
        "20250101000000_create_users_rollback.sql": "drop table accounts;\n",
    })
    code, root = check(pg_server, project, tmp_path)
    assert code == 1
    [rollback] = failing(root)
    assert rollback.attrib["classname"] == "migration_check.rollback"
    assert rollback.attrib["file"] == "20250101000000_create_users_rollback.sql"
    assert "42P01" in rollback.find("failure").attrib["message"]


@pytest.mark.parametrize("args, message", [
    (["--database-url", "postgresql://nobody@127.0.0.1:1/none"], "cannot connect to PostgreSQL"),
    (["--database-url", "not a url at all"], "not a valid PostgreSQL URL"),
    (["--pg-bindir", "/nonexistent/bin"], "no runnable initdb and postgres"),
])
def test_infrastructure_errors_exit_2_with_one_line_and_a_junit_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    report = tmp_path / "r.xml"
    code = main(["check", str(EXAMPLES / "broken-rollback"), "--junit-xml", str(report), *args])
    out = capsys.readouterr()
    assert code == 2
    assert message in out.out
    assert "Traceback" not in out.out + out.err
    root = ET.parse(report).getroot()
    assert any(case.find("error") is not None for case in root.iter("testcase"))
    assert all(case.find("skipped") is not None for case in by_check(root, "apply"))


def test_empty_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code = main(["check", str(tmp_path / "empty"), "--junit-xml", str(tmp_path / "r.xml")])
    assert code == 2
    assert "no migrations found" in capsys.readouterr().out
    assert (tmp_path / "r.xml").exists()


def test_file_that_is_not_utf8_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "20250101000000_create_users.sql").write_bytes(b"create table users (id int);\n-- caf\xe9\n")
    (project / "20250101000000_create_users_rollback.sql").write_text("drop table users;\n")
    code = main(["check", str(project)])
    assert code == 2
    assert "20250101000000_create_users.sql:2: not valid UTF-8" in capsys.readouterr().out


def test_bad_flag_is_a_usage_error_and_still_writes_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--junit-xml", str(tmp_path / "r.xml"), "--no-such-flag"])
    assert code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err
    assert (tmp_path / "r.xml").exists()
