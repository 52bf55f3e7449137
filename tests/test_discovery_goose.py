"""goose discovery: annotations (any case), StatementBegin/End boundaries, NO TRANSACTION, Go files."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.errors import FileError
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
def test_annotations_goose_refuses_are_file_errors(tmp_path: Path, text: str, line: int) -> None:
    write_files(tmp_path, {"migrations/00001_t.sql": text})
    with pytest.raises(FileError) as caught:
        discover(tmp_path, repo_root=tmp_path)
    assert caught.value.line == line
