"""sqlx discovery: its mark beside the files, simple and reversible migrations, versions sqlx refuses."""

from __future__ import annotations

from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover
from migration_check.model import RollbackPolicy, Transaction
from migration_check.replay.outcomes import why_no_rollback

CARGO = '[package]\nname = "api"\n\n[dependencies]\nsqlx = { version = "0.5", features = ["postgres", "migrate"] }\n'


def test_simple_migrations_are_forward_only_and_named_as_sqlx_reads_them(tmp_path: Path) -> None:
    # As carbon-bond/carbonbond keeps them: api-service/migrations beside a Cargo.toml with sqlx,
    # one file named `..._simplify_force.sql.sql` (sqlx's description: "simplify force.sql").
    write_files(tmp_path, {
        "api-service/Cargo.toml": CARGO,
        "api-service/migrations/20200719123355_create_db.sql": "create table users (id int);",
        "api-service/migrations/20220207115827_simplify_force.sql.sql": "alter table users add column force int;",
        "api-service/migrations/20220301000000_index.sql": "-- no-transaction\ncreate index concurrently u on users (id);",
        "api-service/migrations/README.md": "notes",
        "api-service/migrations/latest_fix.sql": "select 1;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqlx" and "api-service/Cargo.toml depends on sqlx" in found.reason
    assert [m.id for m in found.migrations] == [
        "20200719123355_create_db", "20220207115827_simplify_force.sql", "20220301000000_index"]
    assert found.rollback_policy is RollbackPolicy.ABSENT
    assert [m.up.transaction for m in found.migrations] == [Transaction.WRAPPED, Transaction.WRAPPED, Transaction.NONE]
    # sqlx stops on a file whose version is not an integer (README.md is nobody's migration).
    assert {s.path.name: s.refused for s in found.stray_files} == {"latest_fix.sql": True}


def test_reversible_migrations_pair_up_and_down_and_a_down_is_optional(tmp_path: Path) -> None:
    # sqlx-cli's `migrate revert` (and the Migrator's `undo`) skips a migration without a .down.sql,
    # an .up.sql alone or a simple one, and reverts the newest one that has one.
    write_files(tmp_path, {
        ".sqlx/query-1.json": "{}",
        "migrations/1_users.up.sql": "create table users (id int);",
        "migrations/1_users.down.sql": "drop table users;",
        "migrations/2_orders.up.sql": "create table orders (id int);",
        "migrations/3_seed.sql": "insert into users values (1);",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqlx" and "sqlx's offline data" in found.reason
    assert [(m.id, m.down is not None) for m in found.migrations] == [
        ("1_users", True), ("2_orders", False), ("3_seed", False)]
    assert found.rollback_policy is RollbackPolicy.OPTIONAL
    orders, seed = found.migrations[1:]
    assert why_no_rollback(orders, found.rollback_policy, "sqlx") == (
        "no .down.sql: `sqlx migrate revert` skips it and reverts the newest applied migration that has one, leaving"
        " this one applied")
    assert why_no_rollback(seed, found.rollback_policy, "sqlx") == (
        "a simple migration: sqlx never reverts it (`sqlx migrate revert` skips it)")


def test_without_sqlxs_mark_the_same_files_are_not_sqlxs(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20240101000000_init.sql": "create table t (id int);",
                           "migrations/20240101000000_init_rollback.sql": "drop table t;"})
    assert discover(tmp_path, repo_root=tmp_path).format == "timestamp"


def test_sqlx_for_queries_leaves_another_runners_migrations_to_it(tmp_path: Path) -> None:
    # A Rust service whose queries use sqlx and whose migrations are dbmate's, or the Supabase CLI's.
    write_files(tmp_path, {"Cargo.toml": CARGO,
                           "db/migrations/20240101000000_init.sql": "-- migrate:up\ncreate table t (id int);\n-- migrate:down\ndrop table t;\n",
                           "supabase/config.toml": 'project_id = "x"\n',
                           "supabase/migrations/20240101000000_init.sql": "create table s (id int);"})
    assert discover(tmp_path / "db", repo_root=tmp_path).format == "dbmate"
    assert discover(tmp_path / "supabase", repo_root=tmp_path).format == "supabase"
