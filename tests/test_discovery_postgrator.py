"""postgrator (and Platformatic DB, which runs it): `<version>.do.<name>.sql` and
`<version>.undo.<name>.sql`, read as postgrator's getMigrations reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover, layout_named
from migration_check.history import static_checks
from migration_check.model import Status, Transaction
from migration_check.settings import Settings

PACKAGE = '{ "dependencies": { "postgrator": "^7.3.0" } }\n'


def test_versions_actions_and_names_as_postgrator_splits_them(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "package.json": PACKAGE,
        "migrations/001.do.sql": "create table a (id int);\n",
        "migrations/001.undo.sql": "drop table a;\n",
        "migrations/002.do.add-b.extra.sql": "create table b (id int);\n",  # what a third dot starts is dropped
        "migrations/002.undo.remove-b.sql": "drop table b;\n",  # paired by version alone
        "migrations/10.do.add-c.sql": "create table c (id int);\ncreate index c_id on c (id);\n",
        "migrations/011.do.seed.js": "export function generateSql() { return 'select 1' }\n",
        "migrations/index.js": "// the script that runs postgrator\n",
        "migrations/3-add-d.sql": "create table d (id int);\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "postgrator" and "postgrator in a package.json" in found.reason
    assert [(m.id, m.version, m.down is not None and not m.implicit_down, bool(m.skip_reason)) for m in found.migrations] == [
        ("001.do", "1", True, False), ("002.do.add-b.extra", "2", True, False),
        ("10.do.add-c", "10", False, False), ("011.do.seed", "11", False, True)]
    assert found.migrations[1].down is not None and found.migrations[1].down.path.name == "002.undo.remove-b.sql"
    assert all(m.up.transaction is Transaction.ONE_QUERY for m in found.migrations if m.up)
    # The runner's own script is left out without a word; a misnamed SQL file is not.
    assert [s.path.name for s in found.stray_files] == ["3-add-d.sql"]


def test_one_version_twice_is_refused_as_postgrator_refuses_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {"package.json": PACKAGE, "migrations/1.do.a.sql": "select 1;\n",
                                  "migrations/01.do.b.sql": "select 2;\n"})
    found = discover(root, repo_root=root)
    failed = [r.message for r in static_checks(found, Settings()) if r.check == "history" and r.status is Status.FAILED]
    assert any('postgrator runs no migration then ("Two migrations found with version 1")' in m for m in failed)


def test_a_new_migration_takes_the_next_version_at_the_same_width(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {"package.json": PACKAGE, "migrations/009.do.a.sql": "select 1;\n"})
    made = layout_named("postgrator").new_files(root / "migrations", "add_tags", datetime(2025, 9, 6, tzinfo=UTC))
    assert [p.name for p in made] == ["010.do.add-tags.sql", "010.undo.add-tags.sql"]


def test_platformatic_db_runs_them_and_keeps_its_own_table(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "platformatic.db.json": '{ "db": { "connectionString": "{DATABASE_URL}" },'
                                ' "migrations": { "dir": "migrations", "table": "plt_versions" } }\n',
        "migrations/001.do.sql": "create table movies (id serial primary key, title text not null);\n",
        "migrations/001.undo.sql": "drop table movies;\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "postgrator" and found.reason.endswith("run by Platformatic DB (platformatic.db.json)")
    assert layout_named("postgrator").history_tables(found.directory) == frozenset({
        "public.schemaversion", "public.plt_versions"})
