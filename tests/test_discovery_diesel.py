"""diesel discovery: <version>_<name>/up.sql + down.sql, metadata.toml."""

from __future__ import annotations

from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover
from migration_check.model import Transaction


def test_directories_versions_and_transactions(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "diesel.toml": "[print_schema]\n",
        "migrations/.keep": "",
        "migrations/2024-01-02-000000_add_index/up.sql": "create index concurrently i on users (id);\n",
        "migrations/2024-01-02-000000_add_index/down.sql": "drop index concurrently i;\n",
        "migrations/2024-01-02-000000_add_index/metadata.toml": "run_in_transaction = false\n",
        "migrations/2024-01-01-000000_create_users/up.sql": "create table users (id int);\n",
        "migrations/2024-01-01-000000_create_users/down.sql": "drop table users;\n",
        "migrations/2024-01-03-000000_no_down/up.sql": "select 1;\n",
        "migrations/scratch/notes.sql": "select 2;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "diesel"
    assert found.reason == "3 directories <version>_<name>/ with up.sql, diesel.toml; directory from diesel.toml `migrations_directory`"
    # Named as the project names them (rust-lang/crates.io: the naming case said
    # 2026-06-17-112535-0000_drop_versions_checksum, every other 202606171125350000_drop_...).
    assert [m.id for m in found.migrations] == ["2024-01-01-000000_create_users", "2024-01-02-000000_add_index", "2024-01-03-000000_no_down"]
    assert [m.version for m in found.migrations] == ["20240101000000", "20240102000000", "20240103000000"]
    users, index, no_down = found.migrations
    assert users.up.path.name == "up.sql" and users.down.path.name == "down.sql"
    assert index.up.transaction is Transaction.NONE and index.down.transaction is Transaction.NONE
    assert users.up.transaction is Transaction.WRAPPED
    assert no_down.down is None
    assert [s.path.name for s in found.stray_files] == ["scratch"]
