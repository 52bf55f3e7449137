"""goose discovery: annotations (any case), StatementBegin/End boundaries, NO TRANSACTION, Go files."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover, layout_named
from migration_check.discovery.goose_envsub import Expanded, SubstitutionError, expand
from migration_check.model import Transaction
from migration_check.sql import split_script

FUNCTION_MIGRATION = """
-- +goose Up
create table t (a int);
-- +goose StatementBegin
create function f() returns trigger language plpgsql as $$
begin
    return new;
end;
$$;
-- +goose StatementEnd
create index i on t (a);

-- +goose Down
drop function f();
drop table t;
"""


def project(tmp_path: Path, files: dict[str, str]):
    return discover(write_files(tmp_path, files), repo_root=tmp_path)


def test_order_by_integer_version_and_go_migrations_are_skipped(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "migrations/00010_third.sql": "-- +goose Up\nselect 3;\n",
        "migrations/00002_second.go": "package migrations\nimport \"github.com/pressly/goose/v3\"\n",
        "migrations/00001_first.sql": "-- +goose up\nselect 1;\n-- +goose down\nselect 0;\n",
        "migrations/00002_second_test.go": "package migrations\n",
        "migrations/embed.go": "package migrations\n",
    })
    assert found.format == "goose"
    assert found.reason == "2 files with -- +goose Up annotations, 1 Go migration"
    assert [m.id for m in found.migrations] == ["00001_first", "00002_second", "00010_third"]
    go = found.migrations[1]
    assert go.up is None and "Go migration" in go.skip_reason and go.files[0].name == "00002_second.go"
    assert found.migrations[0].down.sql == "select 0;\n"
    assert sorted(s.path.name for s in found.stray_files) == ["00002_second_test.go", "embed.go"]


def test_statement_blocks_become_explicit_statements(tmp_path: Path) -> None:
    found = project(tmp_path, {"migrations/00001_f.sql": FUNCTION_MIGRATION})
    up = found.migrations[0].up
    assert up.first_line == 2 and up.statements is not None
    statements = split_script(up)
    assert [(s.line, s.node) for s in statements] == [(2, "CreateStmt"), (4, "CreateFunctionStmt"), (10, "IndexStmt")]
    assert statements[1].sql.rstrip().endswith("$$;")
    assert found.migrations[0].down.statements is None  # no block: the parser splits it
    assert found.migrations[0].down.first_line == 13


def test_no_transaction_in_any_case_applies_to_both_directions(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "migrations/00001_index.sql": "-- +goose no transaction\n-- +goose Up\ncreate index concurrently i on t (a);\n-- +goose Down\ndrop index concurrently i;\n",
    })
    migration = found.migrations[0]
    assert migration.up.transaction is Transaction.NONE and migration.down.transaction is Transaction.NONE


def test_empty_down_section_is_a_rollback_that_does_nothing(tmp_path: Path) -> None:
    found = project(tmp_path, {"migrations/00001_t.sql": "-- +goose Up\ncreate table t (a int);\n-- +goose Down\n"})
    assert found.migrations[0].down is not None and found.migrations[0].down.sql == ""


def test_broken_sql_between_blocks_fails_at_its_line(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "migrations/00001_t.sql": "-- +goose Up\n-- +goose StatementBegin\nselect 1;\n-- +goose StatementEnd\ncreate tabel t (a int);\n",
    })
    from migration_check.sql import SyntaxProblem

    with pytest.raises(SyntaxProblem) as caught:
        split_script(found.migrations[0].up)
    assert caught.value.line == 5


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("-- +goose Up\n-- +goose StatementBegin\nselect 1;\n", 2),
        ("-- +goose Up\n-- +goose StatementEnd\n", 2),
        ("-- +goose Up\n-- +goose Sideways\n", 2),
    ],
)
def test_annotations_goose_refuses_are_refusals_at_their_line(tmp_path: Path, text: str, line: int) -> None:
    # goose applies the files before it and stops at it: the others are still judged.
    write_files(tmp_path, {"migrations/00001_t.sql": text, "migrations/00002_u.sql": "-- +goose Up\nselect 2;\n"})
    found = discover(tmp_path, repo_root=tmp_path)
    [refusal] = found.refusals
    assert (refusal.path.name, refusal.line) == ("00001_t.sql", line)
    refused, other = found.migrations
    assert refused.up is None and refused.skip_reason == f"goose refuses the file (line {line}): {refusal.message}"
    assert other.up is not None and other.skip_reason is None


@pytest.mark.parametrize(("line", "text", "needs"), [
    ("alter table t owner to ${DB_OWNER:-app_owner};", "alter table t owner to app_owner;", None),
    ("alter table t owner to ${DB_OWNER-${FALLBACK:-x}};", "alter table t owner to x;", None),
    ("alter table t owner to $DB_OWNER;", "alter table t owner to ;", "DB_OWNER"),
    ("grant select on t to ${READER?set READER};", "grant select on t to ;", "READER"),
    # `$$` and `\$` are one `$` to goose, `$(` is left alone.
    ("select 'a$$b', '\\$c', '$(d)';", "select 'a$b', '$c', '$(d)';", None),
    ("comment on table t is 'in' || ' $", "comment on table t is 'in' || ' $", None),  # a last `$` is text
])
def test_envsub_expands_lines_as_goose_does(line: str, text: str, needs: str | None) -> None:
    assert expand(line) == Expanded(text, needs)


@pytest.mark.parametrize(("line", "text"), [
    # bash's substrings as interpolate v0.0.2 cuts them (its parser_test.go and interpolate_test.go).
    ("${SCHEMA:0:3}", "app"), ("${SCHEMA:4}", "data"), ("${SCHEMA: -4}", "data"), ("${SCHEMA:1:-5}", "pp"),
    ("${SCHEMA:-2:10}", "app_data"),  # `:-` is a default, not a negative offset: the value is set
    ("${SCHEMA:20}", ""), ("${SCHEMA: -20:2}", "ap"), ("${SCHEMA:2:-10}", ""),
    ("${SCHEMA?unset}_x", "app_data_x"), ("${EMPTY?unset}|${EMPTY:-d}|${EMPTY-d}", "|d|"),
])
def test_envsub_given_values_are_expanded_as_goose_expands_them(line: str, text: str) -> None:
    assert expand(line, {"SCHEMA": "app_data", "EMPTY": ""}) == Expanded(text, None)
    if ":" in line and "?" not in line and "-2" not in line:
        assert expand(line).needs == "SCHEMA"  # without its value, what it needs


@pytest.mark.parametrize(("line", "message"), [
    # goose refuses these lines ("variable substitution failed"): interpolate has no other operator.
    ("alter table t owner to ${OWNER%_rw};", "Expected an operator, got %"),
    ("alter table t owner to ${OWNER#app_};", "Expected an operator, got #"),
    ("select '${OWNER:x}';", "Unable to parse offset"),
    ("select '${OWNER:1:y}';", "Unable to parse length"),
    ("select '${OWNER:1", "Expected brace expansion to end with }"),
])
def test_envsub_operators_goose_refuses(line: str, message: str) -> None:
    with pytest.raises(SubstitutionError, match=message):
        expand(line, {"OWNER": "app_rw"})


def test_envsub_sections_use_defaults_and_what_needs_the_environment_is_not_replayed(tmp_path: Path) -> None:
    # As goose's users write them: a role from the deploy's environment (`$DATABASE_USER`).
    found = discover(write_files(tmp_path, {
        "migrations/00001_a.sql": ("-- +goose Up\n-- +goose ENVSUB ON\ncreate table a (id int);\n"
                                   "alter table a owner to ${DATABASE_USER:-postgres};\n-- +goose ENVSUB OFF\n"
                                   "select '$KEPT';\n-- +goose Down\ndrop table a;\n"),
        "migrations/00002_b.sql": ("-- +goose Up\n-- +goose ENVSUB ON\ncreate table b (id int);\n"
                                   "alter table b owner to $DATABASE_USER;\n-- +goose Down\ndrop table b;\n"),
    }), repo_root=tmp_path)
    first, second = found.migrations
    assert "\nalter table a owner to postgres;\n" in first.up.sql and "\nselect '$KEPT';\n" in first.up.sql
    assert first.skip_reason is None
    assert second.skip_reason == ("line 4 takes $DATABASE_USER from the environment goose runs in (-- +goose ENVSUB ON),"
                                  " which this check does not have: give its value with --var DATABASE_USER=VALUE,"
                                  " or a default in the file (${DATABASE_USER:-value}), to have the migration replayed")
    assert second.down_skip_reason is None
    # Given its value (`--var DATABASE_USER=app`), as the deploy's environment does: over the defaults.
    first, second = discover(tmp_path, repo_root=tmp_path, values={"DATABASE_USER": "app"}).migrations
    assert first.up is not None and "\nalter table a owner to app;\n" in first.up.sql
    assert second.skip_reason is None and second.up is not None and "\nalter table b owner to app;\n" in second.up.sql


def test_envsub_goose_refuses_is_a_refusal_at_its_line(tmp_path: Path) -> None:
    # A PL/pgSQL `$1` inside an ENVSUB section: goose's substitution fails, and goose with it.
    write_files(tmp_path, {"migrations/00001_f.sql": ("-- +goose Up\n-- +goose ENVSUB ON\n"
                                                      "create function f(int) returns int language sql as 'select $1';\n")})
    [refusal] = discover(tmp_path / "migrations", "goose", repo_root=tmp_path).refusals
    assert refusal.line == 3 and "variable substitution failed" in refusal.message


def test_a_dollar_quote_envsub_halves_fails_with_that_said(tmp_path: Path, pg_server) -> None:
    # As a real project wrote it: a DO block inside an ENVSUB section, for a role's password from the
    # environment. goose sends PostgreSQL `DO $ ...` (its substitution reads `$$` as an escaped `$`),
    # which fails there as here; the failure says why. `$$$$` is what goose sends as `$$`.
    block = ("-- +goose Up\n-- +goose StatementBegin\n-- +goose ENVSUB ON\nDO {up}\nBEGIN\n"
             "  CREATE ROLE app_{n} LOGIN PASSWORD '${{APP_PASSWORD:-dev}}';\nEND {up};\n-- +goose ENVSUB OFF\n"
             "-- +goose StatementEnd\n-- +goose Down\n-- +goose ENVSUB ON\nDO {down} BEGIN DROP ROLE app_{n}; END {down};\n")
    root = write_files(tmp_path / "project", {
        "migrations/00001_halved.sql": block.format(up="$$", down="$$$$", n=1),
        "migrations/00002_doubled.sql": block.format(up="$$$$", down="$$$$", n=2),
        "migrations/00003_halved_down.sql": block.format(up="$$$$", down="$$", n=3),
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = tmp_path / "report.xml"
    main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    why = ("(goose's -- +goose ENVSUB ON reads `$$` as an escaped `$`: line {line} reaches PostgreSQL with its dollar"
           " quotes halved, as when goose runs it; end the section before the quoted body (-- +goose ENVSUB OFF)"
           " or double each `$` of its quotes)")
    failure = cases[("migration_check.apply", "00001_halved")].find("failure")
    assert failure is not None and failure.attrib["message"] == (
        'migrations/00001_halved.sql:4:4: ERROR 42601: syntax error at or near "$" ' + why.format(line=4))
    assert cases[("migration_check.apply", "00002_doubled")].find("failure") is None
    assert cases[("migration_check.rollback", "00002_doubled")].find("failure") is None
    rollback = cases[("migration_check.rollback", "00003_halved_down")].find("failure")
    assert rollback is not None and rollback.attrib["message"].endswith(why.format(line=12))


def test_the_history_table_goose_table_names_is_the_runners(tmp_path: Path) -> None:
    # goose loads .env and reads GOOSE_TABLE (cmd/goose/main.go): a live database then holds that
    # table, which drift must leave out as it leaves out goose_db_version.
    write_files(tmp_path, {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".env": "GOOSE_DRIVER=postgres\nGOOSE_TABLE=goose_migrations\n",
        "migrations/20240101000000_init.sql": "-- +goose Up\ncreate table t (a int);\n",
    })
    found = discover(tmp_path / "migrations", repo_root=tmp_path)
    assert layout_named(found.format).history_tables(found.directory) == {"public.goose_db_version",
                                                                          "public.goose_migrations"}
