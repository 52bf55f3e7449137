"""refinery (rust-db/refinery), as PeerDB runs its catalog migrations: Flyway's names, not Flyway's
rules. Read as Flyway's, a `U` file would be run as the undo of its `V`, and a `${...}` in a string
would be a placeholder without a value."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover, layout_named

CARGO = '[package]\nname = "catalog"\n\n[dependencies]\nrefinery = { version = "0.8" }\n'


def test_versions_unversioned_ones_subdirectories_and_what_refinery_skips(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "nexus/catalog/Cargo.toml": CARGO,
        "nexus/catalog/src/lib.rs": 'refinery::embed_migrations!("migrations");\n',
        "nexus/catalog/migrations/V1__init.sql": "create table peers (id int, note text default '${x}');\n",
        "nexus/catalog/migrations/U2__backfill.sql": "update peers set id = 1;\n",
        "nexus/catalog/migrations/later/V3__flows.sql": "create table flows (id int);\n",
        "nexus/catalog/migrations/V4__code.rs": "pub fn migration() -> String { String::new() }\n",
        "nexus/catalog/migrations/V5__add-index.sql": "create index i on peers (id);\n",
        "nexus/catalog/migrations/V6.1__point.sql": "select 1;\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "refinery" and found.directory == root / "nexus/catalog/migrations"
    assert [(m.id, m.up is not None, m.down) for m in found.migrations] == [
        ("V1__init", True, None), ("U2__backfill", True, None), ("V3__flows", True, None), ("V4__code", False, None)]
    assert found.migrations[0].up is not None and "'${x}'" in found.migrations[0].up.sql  # no placeholder
    assert found.orphan_rollbacks == []
    stray = {s.path.name: s.refused for s in found.stray_files}
    # A name of other characters is skipped (a warning); a version that is no integer stops refinery.
    assert stray == {"V5__add-index.sql": False, "V6.1__point.sql": True}


def test_without_the_crate_the_files_are_flyways(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"migrations/V1__init.sql": "create table t (id int);\n"})
    assert discover(root, repo_root=root).format == "flyway"


def test_a_new_migration_takes_the_next_version(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {"Cargo.toml": CARGO, "migrations/V9__a.sql": "select 1;\n"})
    made = layout_named("refinery").new_files(root / "migrations", "add_tags", datetime.now(UTC))
    assert list(made) == [root / "migrations/V10__add_tags.sql"]


def test_a_link_to_a_folder_is_not_walked(tmp_path: Path) -> None:
    # refinery's WalkDir follows no link; a link back up walked without end here.
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {"Cargo.toml": CARGO, "migrations/V1__init.sql": "create table t (id int);\n"})
    (root / "migrations/loop").symlink_to(root / "migrations")
    found = discover(root, repo_root=root)
    assert found.format == "refinery" and [m.id for m in found.migrations] == ["V1__init"]


def test_migrations_another_crate_of_the_workspace_embeds_are_refinerys(tmp_path: Path) -> None:
    # ArroyoSystems/arroyo: crates/arroyo-api holds the migrations (its build script loads another
    # folder, for SQLite), crates/arroyo embeds them by a path from itself.
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "crates/api/Cargo.toml": '[package]\nname = "api"\n\n[build-dependencies]\nrefinery = "0.8"\n',
        "crates/api/build.rs": 'fn main() { refinery::load_sql_migrations("sqlite_migrations"); }\n',
        "crates/api/migrations/V1__init.sql": "create table t (id int);\n",
        "crates/app/Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\nrefinery = { version = "0.8" }\n',
        "crates/app/src/main.rs": 'mod migrations {\n    refinery::embed_migrations!("../api/migrations");\n}\n',
    })
    found = discover(root, repo_root=root)
    assert found.format == "refinery" and "run by refinery from crates/app/Cargo.toml" in found.reason


def test_a_crate_of_the_workspace_that_names_another_folder_leaves_them_flyways(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "crates/api/Cargo.toml": '[package]\nname = "api"\n',
        "crates/api/migrations/V1__init.sql": "create table t (id int);\n",
        "crates/app/Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\nrefinery = "0.8"\n',
        "crates/app/src/main.rs": 'refinery::embed_migrations!("./migrations");\n',
    })
    assert discover(root, repo_root=root).format == "flyway"
