"""Auto-detection across layouts: every fixture project is recognised from its root, layouts that
share file names are told apart by their contents, and a real tie asks for --format."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, write_files
from migration_check.discovery import LAYOUTS, detect, discover
from migration_check.errors import UsageError

LAYOUT_FIXTURES = FIXTURES / "layouts"


@pytest.mark.parametrize("project", sorted(p for p in LAYOUT_FIXTURES.glob("*/*") if p.is_dir()), ids=lambda p: f"{p.parent.name}-{p.name}")
def test_every_fixture_project_is_detected_from_its_root(project: Path) -> None:
    found = discover(project, repo_root=project)
    assert found.format == project.parent.name
    assert found.reason and found.migrations


def test_every_layout_has_fixtures() -> None:
    assert sorted(p.name for p in LAYOUT_FIXTURES.iterdir()) == sorted(LAYOUTS)


def test_markers_outrank_plain_timestamp_names(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "db/migrations/20240101000000_a.sql": "-- migrate:up\nselect 1;\n",
        "db/migrations/20240102000000_b.sql": "-- migrate:up\nselect 2;\n",
    })
    layout, _, detection = detect(tmp_path)
    assert layout.name == "dbmate" and detection.reason == "2 files with -- migrate:up markers"


def test_a_real_tie_asks_for_format(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/20240101000000_a.sql": "-- migrate:up\nselect 1;\n",
        "migrations/20240102000000_b.sql": "-- +goose Up\nselect 2;\n",
    })
    with pytest.raises(UsageError, match=r"ambiguous \((dbmate, goose|goose, dbmate)\); choose one with --format"):
        discover(tmp_path, repo_root=tmp_path)
    assert discover(tmp_path, "goose", repo_root=tmp_path).format == "goose"


def test_format_override_names_the_choice(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20240101000000_a.sql": "select 1;\n"})
    found = discover(tmp_path, "dbmate", repo_root=tmp_path)
    assert found.format == "dbmate" and found.reason == "chosen with --format"
    assert [s.path.name for s in found.stray_files] == ["20240101000000_a.sql"]  # nothing dropped silently


def test_stray_files_and_duplicated_versions_never_crash(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/20240101000000_a.sql": "select 1;\n",
        "migrations/20240101000000_b.sql": "select 2;\n",
        "migrations/20240101000000_b_rollback.sql": "select 0;\n",
        "migrations/README.md": "docs\n",
        "migrations/.keep": "",
        "migrations/notes.txt": "x\n",
        "migrations/schema-dump.sql": "select 3;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "timestamp"
    assert [(m.version, m.name) for m in found.migrations] == [("20240101000000", "a"), ("20240101000000", "b")]
    assert sorted(s.path.name for s in found.stray_files) == ["notes.txt", "schema-dump.sql"]


def test_nothing_found_names_the_layouts(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no migrations found"):
        discover(tmp_path, repo_root=tmp_path)


def test_the_only_directory_found_named_for_another_database_is_not_replayed(tmp_path: Path) -> None:
    # flipt-io/flipt keeps only ClickHouse migrations now (internal/migrations/clickhouse): each
    # failed on PostgreSQL with a syntax error.
    write_files(tmp_path, {"internal/migrations/clickhouse/20250121202120_create_table.up.sql": "CREATE TABLE t (a UInt64) ENGINE = Log;",
                           "internal/migrations/clickhouse/20250121202120_create_table.down.sql": "DROP TABLE t;"})
    with pytest.raises(UsageError, match=r"^internal/migrations/clickhouse holds migrations for ClickHouse \(its name says so\)"):
        discover(tmp_path, repo_root=tmp_path)
    # Given as the path, the directory is the user's choice.
    assert discover(tmp_path / "internal/migrations/clickhouse", repo_root=tmp_path).format == "golang-migrate"
