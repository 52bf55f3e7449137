"""Prisma discovery: one directory per migration, forward-only, the lock file."""

from __future__ import annotations

from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover
from migration_check.model import RollbackPolicy


def test_directories_in_name_order_forward_only(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "prisma/schema.prisma": "datasource db {}\n",
        "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
        "prisma/migrations/20240102000000_add_posts/migration.sql": "create table post (id int);\n",
        "prisma/migrations/20240101000000_init/migration.sql": "create table users (id int);\n",
        "prisma/migrations/20240103000000_empty/notes.txt": "nothing\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "prisma"
    assert found.reason == "migration_lock.toml and 2 <timestamp>_<name>/migration.sql directories; directory from prisma/schema.prisma (Prisma)"
    assert found.directory == (tmp_path / "prisma" / "migrations").resolve()
    assert [m.id for m in found.migrations] == ["20240101000000_init", "20240102000000_add_posts"]
    assert all(m.down is None for m in found.migrations)
    assert found.rollback_policy is RollbackPolicy.ABSENT
    assert [s.path.name for s in found.stray_files] == ["20240103000000_empty"]


def test_without_lock_file_detection_is_weaker(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20240101000000_init/migration.sql": "select 1;\n"})
    found = discover(tmp_path / "migrations", repo_root=tmp_path)
    assert found.format == "prisma" and found.reason == "1 <timestamp>_<name>/migration.sql directories"
