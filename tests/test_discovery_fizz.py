"""pop's fizz migrations: written as gobuffalo/fizz's PostgreSQL translator writes them (one YAML
case per construct, tests/fixtures/fizz/postgres.yaml), code told at its line, and replayed as pop
runs them (hanko's backend/persistence/migrations are all fizz)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.discovery.fizz import FizzRefuses, translate
from migration_check.discovery.fizz_plush import Parser, Unreadable
from migration_check.servers.base import Database
from migration_check.sql import split_script

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "fizz" / "postgres.yaml").read_text())
GO_MOD = "module example.com/app\n\nrequire github.com/gobuffalo/pop/v6 v6.1.1\n"


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_fizz_is_written_as_its_postgres_translator_writes_it(case: dict[str, Any]) -> None:
    from migration_check.discovery.fizz import _statement

    assert "\n".join(_statement(call) for call in Parser(case["fizz"]).program()) == case["sql"]


def test_each_call_keeps_its_line_and_a_strings_lines_are_the_files() -> None:
    export = translate('create_table("a") {\n  t.Column("id", "uuid", {primary: true})\n}\n'
                       'sql("insert into a (id, created_at, updated_at)\n  values (gen_random_uuid(), now(), now())")\n'
                       'drop_table("a")\n')
    lines = export.sql().split("\n")
    assert lines[0].startswith('CREATE TABLE "a" ( "id" UUID NOT NULL, PRIMARY KEY("id"),')
    # The string's text starts where it does in the file (after `sql("`, column 6).
    assert lines[3] == " " * 5 + "insert into a (id, created_at, updated_at)"
    assert lines[4].strip().startswith("values")
    assert lines[5] == 'DROP TABLE "a";'


@pytest.mark.parametrize(("script", "line", "what"), [
    ('add_column("a", "b", "text")\nexec("psql -c \\"drop table a\\"")\n', 2, "exec, which runs a program"),
    ('let x = "a"\ndrop_table(x)\n', 1, "let, not a call"),
    ('create_table("a") {\n  if (true) { t.Column("b", "text") }\n}\n', 2, "if, not a call on the table"),
])
def test_what_is_not_fizz_calls_alone_is_told_at_its_line(script: str, line: int, what: str) -> None:
    with pytest.raises(Unreadable) as raised:
        translate(script)
    assert (raised.value.line, raised.value.what) == (line, what)


def test_a_primary_key_fizz_cannot_make_is_fizzs_refusal() -> None:
    with pytest.raises(FizzRefuses) as raised:
        translate('\ncreate_table("a") {\n  t.Column("id", "text", {primary: true})\n}\n')
    assert (raised.value.line, raised.value.message) == (2, "can not use text as a primary key")


def hanko_like(tmp_path: Path) -> Path:
    return write_files(tmp_path / "repo", {
        "backend/go.mod": GO_MOD,
        "backend/persistence/migrations/20220405153240_create_users.up.fizz": (
            'create_table("users") {\n    t.Column("id", "uuid", {primary: true})\n    t.Column("email", "string", {})\n'
            '    t.Column("verified", "bool", {})\n    t.Timestamps()\n    t.Index("email", {"unique": true})\n}\n'),
        "backend/persistence/migrations/20220405153240_create_users.down.fizz": 'drop_table("users")\n',
        # hanko's change_users: `null: false` in the rollback makes the column nullable, as fizz writes it.
        "backend/persistence/migrations/20221027104900_change_users.up.fizz": (
            'change_column("users", "email", "string", { "null": true })\n'),
        "backend/persistence/migrations/20221027104900_change_users.down.fizz": (
            'change_column("users", "email", "string", { "null": false })\n'),
        "backend/persistence/migrations/20221101000000_seed.up.fizz": 'exec("./seed.sh")\n',
        "backend/persistence/migrations/20221101000000_seed.down.fizz": 'sql("delete from users")\n',
    })


def test_a_fizz_directory_is_pops_and_its_scripts_are_sql(tmp_path: Path) -> None:
    root = hanko_like(tmp_path)
    found = discover(root, repo_root=root)
    assert found.format == "pop" and "some of them fizz" in found.reason
    users, change, seed = found.migrations
    assert users.up is not None and [s.node for s in split_script(users.up)] == ["CreateStmt", "IndexStmt"]
    assert users.down is not None and split_script(users.down)[0].sql == 'DROP TABLE "users"'
    assert seed.up is None and seed.skip_reason == ("a fizz migration the replay cannot run: it runs code, not fizz's"
                                                    " calls alone (exec, which runs a program, line 1)")


def test_fizz_migrations_are_replayed_and_judged(pg_server: Database, tmp_path: Path) -> None:
    root = hanko_like(tmp_path)
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"].split(".")[-1], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    assert code == 1
    assert cases[("roundtrip", "20220405153240_create_users")].find("failure") is None
    failure = cases[("roundtrip", "20221027104900_change_users")].find("failure")
    assert failure is not None and "column public.users.email: nullability nullable, was NOT NULL" in failure.attrib["message"]
    assert cases[("roundtrip", "20221027104900_change_users")].attrib["file"].endswith("20221027104900_change_users.down.fizz")
    skipped = cases[("apply", "20221101000000_seed")].find("skipped")
    assert skipped is not None and "exec, which runs a program, line 1" in skipped.attrib["message"]


def test_an_error_in_a_sql_string_is_told_at_its_line_and_column(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {
        "go.mod": GO_MOD,
        "migrations/20240101000000_a.up.fizz": 'create_table("a") {\n  t.Column("id", "uuid", {primary: true})\n}\n'
                                                 'sql("update a set\n  nope = 1")\n',
        "migrations/20240101000000_a.down.fizz": 'drop_table("a")\n',
    })
    report = tmp_path / "report.xml"
    main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    [case] = [c for c in ET.parse(report).getroot().iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    failure = case.find("failure")
    assert failure is not None and failure.attrib["message"].startswith("migrations/20240101000000_a.up.fizz:5:3: ERROR 42703")
