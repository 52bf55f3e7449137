"""memos' and bytebase's migrators (usememos/memos' store/migrator.go, bytebase/bytebase's
backend/migrator/migrator.go): LATEST.sql for a new database, version folders of `<NN>__<name>.sql` (or
`<NNNN>##<name>.sql`) for an upgrade. Before this layout, memos' 12 version folders were 12 migration
directories to choose from, and none of them could be replayed from an empty database."""

from __future__ import annotations

import contextlib
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover, layout_named
from migration_check.servers.base import Database

MEMOS = {
    "store/migration/postgres/LATEST.sql": "create table memo (id serial primary key, content text not null);\n",
    "store/migration/postgres/0.19/00__add_name.sql": "alter table memo add column name text;\n",
    "store/migration/postgres/0.9/00__early.sql": "select 1;\n",
    "store/migration/postgres/0.22/01__second.sql": "select 2;\n",
    "store/migration/postgres/0.22/00__first.sql": "alter table memo drop column name;\n",
    "store/migration/postgres/0.22/notes.sql": "select 3;\n",
    "store/migration/postgres/README.md": "how to migrate\n",
    "store/migration/postgres/prod/x.sql": "select 4;\n",
    "store/migration/mysql/LATEST.sql": "CREATE TABLE memo (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB;\n",
    "store/migration/mysql/0.22/00__first.sql": "ALTER TABLE `memo` DROP COLUMN `name`;\n",
    "store/migration/sqlite/LATEST.sql": "CREATE TABLE memo (id INTEGER PRIMARY KEY AUTOINCREMENT);\n",
    "store/migration/sqlite/0.22/00__first.sql": "ALTER TABLE memo DROP COLUMN name;\n",
}


def test_latest_for_a_new_database_the_folders_for_an_upgrade(tmp_path: Path) -> None:
    root = write_files(tmp_path, MEMOS)
    found = discover(root, repo_root=root)
    assert found.format == "latest-sql" and found.directory == root / "store/migration/postgres"
    assert found.reason.startswith("LATEST.sql and 5 files in 3 version folders (memos' migrator)")
    # Paths sorted as text, as the migrator sorts them (0.9 after 0.22); versions as it reads them.
    assert [(m.id, m.version) for m in found.migrations] == [
        ("LATEST", "0.22.2"), ("0.19/00__add_name", "0.19.1"), ("0.22/00__first", "0.22.1"),
        ("0.22/01__second", "0.22.2"), ("0.9/00__early", "0.9.1")]
    latest, *upgrades = found.migrations
    assert latest.baseline and latest.skip_reason is None and latest.linted
    assert all(m.upgrade_only and m.covered and m.linted for m in upgrades)
    assert upgrades[0].skip_reason.startswith("upgrade only: memos' migrator runs it on databases from before 0.19.1")
    stray = {s.path.relative_to(found.directory).as_posix(): s.refused for s in found.stray_files}
    # A file without its number stops the upgrade; what the migrator never reads does not (a README is no stray).
    assert stray == {"0.22/notes.sql": True, "prod/x.sql": False}


def test_a_new_migration_takes_the_next_number_of_the_newest_folder(tmp_path: Path) -> None:
    root = write_files(tmp_path, MEMOS)
    made = layout_named("latest-sql").new_files(root / "store/migration/postgres", "add_tags", datetime.now(UTC))
    assert list(made) == [root / "store/migration/postgres/0.22/02__add_tags.sql"]


def test_latest_is_replayed_and_the_upgrades_are_linted(tmp_path: Path, pg_server: Database) -> None:
    root = write_files(tmp_path / "repo", {k: v for k, v in MEMOS.items() if "notes" not in k})
    report = tmp_path / "r.xml"
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report)])
    cases = list(ET.parse(report).getroot().iter("testcase"))
    apply = {c.get("name"): c for c in cases if c.get("classname") == "migration_check.apply"}
    assert apply["LATEST"].find("failure") is None and apply["LATEST"].find("skipped") is None
    assert apply["0.19/00__add_name"].find("skipped") is not None
    # The drop runs on every upgrade from before 0.22.1: the lint says so, as for any migration.
    linted = [c.find("failure").get("message") for c in cases
              if c.get("classname") == "migration_check.lint" and c.find("failure") is not None]
    assert code == 1, output.getvalue()
    assert any(m.startswith("store/migration/postgres/0.22/00__first.sql:1:1: MC002 drop-column") for m in linted), linted


def test_bytebases_migrator_orders_by_version_and_stops_at_what_it_cannot_read(tmp_path: Path) -> None:
    root = write_files(tmp_path, {
        "backend/migrator/migration/LATEST.sql": "create table principal (id serial primary key);\n",
        "backend/migrator/migration/3.9/0000##a.sql": "select 1;\n",
        "backend/migrator/migration/3.10/0000##b.sql": "select 2;\n",
        "backend/migrator/migration/3.10/0001##c.sql": "select 3;\n",
        "backend/migrator/migration/3.10/notes.sql": "select 4;\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "latest-sql" and found.reason.startswith("LATEST.sql and 4 files in 2 version folders"
                                                                    " (bytebase's migrator)")
    # Semantic versions, not paths as text: 3.9 before 3.10; the number as it is.
    assert [(m.id, m.version) for m in found.migrations] == [
        ("LATEST", "3.10.1"), ("3.9/0000##a", "3.9.0"), ("3.10/0000##b", "3.10.0"), ("3.10/0001##c", "3.10.1")]
    assert found.migrations[1].skip_reason.startswith("upgrade only: bytebase's migrator runs it on databases from"
                                                      " before 3.9.0")
    [stray] = found.stray_files
    assert stray.refused and stray.path.name == "notes.sql"
    made = layout_named("latest-sql").new_files(root / "backend/migrator/migration", "add_tags", datetime.now(UTC))
    assert list(made) == [root / "backend/migrator/migration/3.10/0002##add_tags.sql"]


def test_a_branchs_upgrade_below_the_newest_version_fails_the_history_check(tmp_path: Path, pg_server: Database) -> None:
    # An installation at 0.31 never runs a new 0.30 file. main deleted an old version folder once:
    # those files, read alone for the history, hold no LATEST.sql (that stopped the run).
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), "-c", "user.email=a@b", "-c", "user.name=a", *args], check=True,
                       capture_output=True)

    root = write_files(tmp_path / "repo", {
        "store/migration/postgres/LATEST.sql": "create table memo (id int, mood text);\n",
        "store/migration/postgres/0.18/00__old.sql": "select 1;\n",
        "store/migration/postgres/0.31/00__memo.sql": "alter table memo add column mood text;\n",
    })
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "base")
    git("rm", "-q", "store/migration/postgres/0.18/00__old.sql")
    git("commit", "-qm", "drop an old folder")
    git("checkout", "-q", "-b", "feature")
    write_files(root, {"store/migration/postgres/0.30/01__color.sql": "alter table memo add column color text;\n"})
    git("add", "-A")
    git("commit", "-qm", "feature")
    report = tmp_path / "r.xml"
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report),
                     "--base-ref", "main"])
    history = [c.find("failure").get("message") for c in ET.parse(report).getroot().iter("testcase")
               if c.get("classname") == "migration_check.history" and c.find("failure") is not None]
    assert code == 1, output.getvalue()
    assert history == ["0.30/01__color.sql is new on this branch but sorts before 0.31/00__memo.sql, which is already on"
                       " main: databases that ran main's migrations would skip it or run it out of order. Give it a name"
                       " that sorts after 0.31/00__memo.sql (`migration-check new <name>` makes one) and move its SQL"
                       " there."]
