"""tern (jackc/tern), as its migrate package reads files (migrate/migrate.go). Found on leg100/otf,
whose 24 tern migrations read as `numbered` ones: each up ran its own down right after it, and 007's
apply failed on a column 003's down had put back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover, layout_named
from migration_check.model import Transaction

SEPARATOR = "---- create above / drop below ----"


def test_the_separator_splits_each_file_and_tells_the_layout(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "internal/sql/migrations/001_people.sql": f"create table people (id int);\n\n{SEPARATOR}\n\ndrop table people;\n",
        "internal/sql/migrations/002_note.sql": "-- irreversible: no separator\nalter table people add note text;\n",
        "internal/sql/migrations/003_empty_down.sql": f"alter table people add age int;\n{SEPARATOR}\n\n",
        "internal/sql/migrations/shared/audit.sql": "create table audit (id int);\n",
        "internal/sql/migrations/README.sql": "-- not a migration name\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "tern" and found.directory == root / "internal/sql/migrations"
    people, note, empty = found.migrations
    assert people.up is not None and people.up.sql.strip() == "create table people (id int);"
    assert people.down is not None and people.down.sql.strip() == "drop table people;" and people.down.first_line == 4
    assert note.down is None and empty.down is None  # tern refuses to roll them back
    assert [s.path.name for s in found.stray_files] == ["README.sql"]


def test_tern_conf_or_the_go_module_tells_it_without_a_separator(tmp_path: Path) -> None:
    (tmp_path / "a/.git").mkdir(parents=True)
    conf = write_files(tmp_path / "a", {"tern.conf": "[database]\n", "migrations/001_a.sql": "create table a (id int);\n"})
    assert discover(conf, repo_root=conf).format == "tern"
    (tmp_path / "b/.git").mkdir(parents=True)
    module = write_files(tmp_path / "b", {"go.mod": "module x\n\nrequire github.com/jackc/tern/v2 v2.3.0\n",
                                          "migrations/001_a.sql": "create table a (id int);\n"})
    assert discover(module, repo_root=module).format == "tern"
    (tmp_path / "c/.git").mkdir(parents=True)
    plain = write_files(tmp_path / "c", {"migrations/001_a.sql": "create table a (id int);\n"})
    assert discover(plain, repo_root=plain).format == "numbered"


def test_each_direction_opts_out_of_its_transaction_on_its_own(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"tern.conf": "", "migrations/001_index.sql": (
        "---- tern: disable-tx ----\ncreate index concurrently i on t (a);\n"
        f"{SEPARATOR}\ndrop index i;\n")})
    [migration] = discover(root, repo_root=root).migrations
    assert migration.up is not None and migration.up.transaction is Transaction.NONE
    assert migration.down is not None and migration.down.transaction is Transaction.WRAPPED


def test_a_gap_in_the_numbers_stops_tern_and_a_template_is_not_replayed(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"tern.conf": "", "migrations/001_a.sql": "create table a (id int);\n",
                                  "migrations/003_c.sql": "create table {{.prefix}}_c (id int);\n"})
    found = discover(root, repo_root=root)
    [gap] = found.stray_files
    assert gap.path.name == "003_c.sql" and gap.refused and "Missing migration 2" in gap.reason
    templated = found.migrations[1]
    assert templated.up is None and templated.skip_reason is not None and "{{.prefix}}" in templated.skip_reason


def test_a_new_migration_takes_the_next_number_and_the_separator(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"tern.conf": "", "migrations/007_a.sql": "select 1;\n"})
    made = layout_named("tern").new_files(root / "migrations", "add_tags", datetime.now(UTC))
    assert list(made) == [root / "migrations/008_add_tags.sql"] and SEPARATOR in next(iter(made.values()))
