"""postgres-migrations (ThomWright/postgres-migrations), as supabase/storage runs its tenant migrations:
read as numbered scripts, its `0042-rollback-prefix-triggers.sql` was "a rollback without its forward
migration"; postgres-migrations has no rollbacks, and runs it forward."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover, layout_named
from migration_check.history.naming import check_naming
from migration_check.model import Status, Transaction
from migration_check.settings import Settings

PACKAGE = '{"dependencies": {"postgres-migrations": "^5.3.0"}}'


def test_ids_in_order_forward_only_and_the_transaction_marker(tmp_path: Path) -> None:
    root = write_files(tmp_path, {
        "package.json": PACKAGE,
        "migrations/tenant/0001-initialmigration.sql": "create table objects (id int);\n",
        "migrations/tenant/0002_storage-schema.sql": "create table buckets (id int);\n",
        "migrations/tenant/0003-rollback-prefix-triggers.sql": "drop table buckets;\n",
        "migrations/tenant/0004-index.sql": ("-- postgres-migrations disable-transaction\n"
                                             "create index concurrently objects_id on objects (id);\n"),
        "migrations/tenant/0005-seed.js": "module.exports.generateSql = () => 'select 1'\n",
        "migrations/tenant/10.sql": "select 10;\n",
        "migrations/tenant/README.md": "docs\n",
        "migrations/tenant/notes.txt": "not read by the loader\n",
    })
    found = discover(root / "migrations/tenant", repo_root=root)
    assert found.format == "postgres-migrations"
    assert found.reason == "6 files named <id>_<name>.sql, postgres-migrations in a package.json"
    assert [(m.version, m.name) for m in found.migrations] == [
        ("1", "initialmigration"), ("2", "storage-schema"), ("3", "rollback-prefix-triggers"), ("4", "index"),
        ("5", "seed"), ("10", "10.sql")]
    first, _, rollback_named, index, seed, _ = found.migrations
    assert rollback_named.up is not None and rollback_named.down is None and found.orphan_rollbacks == []
    assert first.up.transaction is Transaction.WRAPPED and first.up.sent_as_one_query
    assert index.up.transaction is Transaction.ONE_QUERY
    assert seed.up is None and "generateSql()" in (seed.skip_reason or "")
    # 10 after 5: the loader stops at the gap, before any migration runs.
    [gap] = [s for s in found.stray_files if s.refused]
    assert gap.path.name == "10.sql" and "its id is 10 where postgres-migrations expects 6" in gap.reason
    # The naming check says what the loader does with it, not that it is no migration.
    [naming] = [r for r in check_naming(found, Settings()) if r.status is Status.FAILED]
    assert naming.message.startswith("10.sql: its id is 10 where postgres-migrations expects 6:")


def test_a_name_without_its_id_stops_the_loader(tmp_path: Path) -> None:
    root = write_files(tmp_path, {
        "package.json": PACKAGE,
        "migrations/0001-a.sql": "select 1;\n",
        "migrations/0002-b.sql": "select 2;\n",
        "migrations/schema.sql": "select 3;\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "postgres-migrations"
    [stray] = found.stray_files
    assert stray.refused and stray.path.name == "schema.sql" and "Invalid file name" in stray.reason


def test_without_the_package_the_scripts_are_numbered_ones(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"migrations/0001-a.sql": "select 1;\n", "migrations/0002-b.sql": "select 2;\n"})
    assert discover(root, repo_root=root).format == "numbered"


def test_a_new_migration_takes_the_next_id(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"package.json": PACKAGE, "migrations/0009-a.sql": "select 1;\n"})
    made = layout_named("postgres-migrations").new_files(root / "migrations", "add_tags", datetime.now(UTC))
    assert list(made) == [root / "migrations/0010-add-tags.sql"]
