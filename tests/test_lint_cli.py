"""`migration-check lint`: the static rules alone, without a database (issue 12)."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main

PROJECT = {
    "migrations/20250101000000_users.sql": "create table users (id bigint primary key, email text);\n",
    "migrations/20250102000000_risky.sql": (
        "alter table users drop column email;\n"
        "create index users_id_idx on users (id);\n"
    ),
}


def test_a_project_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path, PROJECT)
    report = tmp_path / "lint.xml"
    code = main(["lint", str(root / "migrations"), "--junit-xml", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert "20250102000000_risky.sql:1:1: MC002 drop-column: drops column users.email" in out
    assert "20250102000000_risky.sql:2:1: MC012 index-without-concurrently" in out
    cases = {c.attrib["name"]: c for c in ET.parse(report).getroot().iter("testcase")}
    drop = cases["20250102000000_risky: MC002 drop-column"]
    assert drop.attrib["classname"] == "migration_check.lint" and drop.attrib["line"] == "1"
    assert drop.find("failure") is not None
    assert cases["20250101000000_users"].find("failure") is None


def test_a_file_json_and_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path, {**PROJECT, ".migration-check.yml": "lint:\n  drop-column: warning\n  MC012: off\n"})
    code = main(["lint", str(root / "migrations" / "20250102000000_risky.sql"), "--format", "json",
                 "--config", str(root / ".migration-check.yml")])
    found = json.loads(capsys.readouterr().out)["findings"]
    assert code == 0
    assert [(f["rule"], f["line"], f["severity"]) for f in found] == [("MC002 drop-column", 1, "warning"),
                                                                      ("MC018 missing-lock-timeout", 1, "warning")]


def test_version_dependent_rules_and_a_file_outside_any_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "one.sql"
    path.write_text("set lock_timeout = '1s';\nalter table events detach partition events_2023;\n")
    assert main(["lint", str(path), "--pg-version", "13", "--fail-on", "warning"]) == 0
    assert main(["lint", str(path), "--pg-version", "14", "--fail-on", "warning"]) == 1
    assert "MC019 detach-partition-blocking" in capsys.readouterr().out


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("select 1;\nalter tabel users add column x int;\n")
    assert main(["lint", str(bad)]) == 1
    assert "bad.sql:2:7: syntax error: syntax error at or near \"tabel\"" in capsys.readouterr().out
    assert main(["lint", str(tmp_path / "missing.sql")]) == 2
    assert "missing.sql: no such file or directory" in capsys.readouterr().out
    assert main(["lint", str(bad), "--pg-version", "abc"]) == 2
    config = write_files(tmp_path / "c", {".migration-check.yml": "lint:\n  no-such-rule: error\n", "m.sql": "select 1;\n"})
    assert main(["lint", str(config / "m.sql")]) == 2
    assert "unknown lint rule 'no-such-rule'" in capsys.readouterr().err


def test_cases_worked_out_during_the_replay_are_used_where_they_saw_the_same_observations(tmp_path: Path) -> None:
    from migration_check.discovery import discover
    from migration_check.lint.results import LintAhead, project_lint
    from migration_check.settings import Settings

    files = {**PROJECT, "migrations/20250103000000_retype.sql": "alter table users alter column id type numeric;\n"}
    project = discover(write_files(tmp_path, files), "timestamp")
    settings = Settings()
    ahead = LintAhead(project, settings, 150000)
    for migration in project.migrations:
        ahead.migration(migration, None)
    assert project_lint(project, settings, 150000, {}, ahead.done) == project_lint(project, settings, 150000)
    # The replay saw the retype not rewrite users after the cases were worked out: worked out again.
    observed = {"20250103000000_retype": {"users": False}}
    [retype] = [case for case in project_lint(project, settings, 150000, observed, ahead.done)
                if case.subject == "20250103000000_retype: MC007 change-column-type"]
    assert retype.status.value == "passed" and "users was not rewritten" in retype.message


@pytest.mark.parametrize(("files", "how"), [
    ({"db/migrations/20250101000000_users.sql": "-- +goose Up\ncreate table users (id bigint primary key);\n",
      "db/migrations/20250102000000_index.sql": "-- +goose Up\ncreate index users_id_idx on users (id);\n"},
     "(outside a transaction; goose: run it outside one, with `-- +goose NO TRANSACTION` in the file)"),
    ({"db/migrations/20250101000000_users.sql": "-- migrate:up\ncreate table users (id bigint primary key);\n",
      "db/migrations/20250102000000_index.sql": "-- migrate:up\ncreate index users_id_idx on users (id);\n"},
     "(outside a transaction; dbmate: run it outside one, with `-- migrate:up transaction:false`"),
])
def test_the_advice_says_how_the_projects_runner_leaves_its_transaction(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], how: str) -> None:
    # "use CREATE INDEX CONCURRENTLY (outside a transaction)" alone leaves the reader to find out
    # how their runner does that; each layout knows.
    root = write_files(tmp_path, files)
    assert main(["lint", str(root)]) == 0  # MC012 is a warning
    out = capsys.readouterr().out
    assert "MC012 index-without-concurrently: builds index users_id_idx on users without CONCURRENTLY" in out
    assert how in out


def test_a_pop_template_is_linted_rendered_or_skipped_with_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # supabase/auth: every file a syntax error at `{` before; with the option given, the SQL pop runs.
    root = write_files(tmp_path, {"go.mod": "module x\n\nrequire github.com/gobuffalo/pop/v6 v6.1.1\n",
                                  "migrations/20210710035447_users.up.sql":
                                      'ALTER TABLE {{ index .Options "Namespace" }}.users DROP COLUMN phone;\n'})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    assert main(["lint", str(root / "migrations"), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["findings"] == [] and [entry["migration"] for entry in found["not_linted"]] == ["20210710035447_users"]
    assert "--var Namespace=VALUE" in found["not_linted"][0]["reason"]
    assert main(["lint", str(root / "migrations"), "--var", "Namespace=auth"]) == 1
    assert "MC002 drop-column: drops column auth.users.phone" in capsys.readouterr().out


def test_a_changeset_whose_precondition_is_another_database_is_not_linted(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # traccar: an `IF EXISTS ... BEGIN ... END` for SQL Server behind `<dbms type="mssql"/>` with
    # onFail MARK_RAN was a syntax error; Liquibase marks it ran on PostgreSQL without running it.
    root = write_files(tmp_path, {"changelog/db.changelog-master.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
        '  <changeSet id="1" author="ada">\n    <sql>create table t (id int)</sql>\n  </changeSet>\n'
        '  <changeSet id="2" author="ada">\n    <preConditions onFail="MARK_RAN"><dbms type="mssql"/></preConditions>\n'
        "    <sql>IF EXISTS (SELECT * FROM sysobjects) BEGIN DROP TRIGGER x END;</sql>\n  </changeSet>\n"
        '  <changeSet id="3" author="ada">\n    <preConditions onFail="MARK_RAN"><tableExists tableName="t"/></preConditions>\n'
        "    <sql>drop table t</sql>\n  </changeSet>\n"
        "</databaseChangeLog>\n")})
    assert main(["lint", str(root / "changelog"), "--format", "json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert [entry["migration"] for entry in found["not_linted"]] == ["db.changelog-master.xml::2::ada"]
    assert [finding["rule"] for finding in found["findings"]] == ["MC001 drop-table"]  # needs the database: linted
