"""yoyo discovery: rollback files, -- depends: ordering, transactional headers, Python migrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.errors import FileError
from migration_check.history import static_checks
from migration_check.model import Status, Transaction
from migration_check.settings import Settings


def project(tmp_path: Path, files: dict[str, str]):
    return discover(write_files(tmp_path, {f"migrations/{k}": v for k, v in files.items()}), repo_root=tmp_path)


def test_order_by_dependencies_then_name(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "0001.base.sql": "create table a (id int);\n",
        "0001.base.rollback.sql": "drop table a;\n",
        "0002.needs-later.sql": "-- needs 0003\n-- depends: 0003.later\n\ncreate table b (id int);\n",
        "0003.later.sql": "-- depends: 0001.base\ncreate table c (id int);\n",
        "0004.python.py": "steps = []\n",
        "0005.rollback-orphan.rollback.sql": "select 1;\n",
        "post-apply.sql": "analyze;\n",
    })
    assert found.format == "yoyo"
    assert found.reason == "2 <id>.rollback.sql files, 2 -- depends: headers"
    assert [m.id for m in found.migrations] == ["0001.base", "0003.later", "0002.needs-later", "0004.python"]
    assert found.migrations[0].down.path.name == "0001.base.rollback.sql"
    assert found.migrations[3].up is None and "Python" in found.migrations[3].skip_reason
    assert [o.path.name for o in found.orphan_rollbacks] == ["0005.rollback-orphan.rollback.sql"]
    assert [s.path.name for s in found.stray_files] == ["post-apply.sql"]


def test_transactional_false_header(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "0001.index.sql": "-- transactional: false\n-- depends:\ncreate index concurrently i on t (a);\n",
        "0001.index.rollback.sql": "drop index concurrently i;\n",
    })
    assert found.migrations[0].up.transaction is Transaction.NONE
    assert found.migrations[0].down.transaction is Transaction.NONE


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"0001.a.sql": "-- depends: 0009.missing\nselect 1;\n"}, "not a migration here"),
        ({"0001.a.sql": "-- depends: 0002.b\nselect 1;\n", "0002.b.sql": "-- depends: 0001.a\nselect 2;\n"}, "dependency cycle"),
    ],
)
def test_bad_dependencies_are_file_errors(tmp_path: Path, files: dict[str, str], words: str) -> None:
    with pytest.raises(FileError) as caught:
        project(tmp_path, {**files, "0000.x.rollback.sql": "select 0;\n"})
    assert words in caught.value.message and caught.value.line == 1


def test_a_project_of_python_migrations_is_yoyo_and_its_names_are_fine(tmp_path: Path) -> None:
    # As `yoyo new` writes them without --sql (seen on medwig/yoyo-migration-tutorial): each one a
    # skipped case with the reason, not "no migrations found", and no naming failure for `.py`.
    step = 'from yoyo import step\n\nsteps = [step("create table users (id int)", "drop table users")]\n'
    write_files(tmp_path, {"yoyo.ini": "[DEFAULT]\nsources = ./migrations\n",
                           "migrations/20190604_01_Vra0v-create-users.py": step,
                           "migrations/20190604_02_ORgoL-add-age.py": step})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "yoyo"
    assert [m.skip_reason is not None for m in found.migrations] == [True, True]
    naming = [r for r in static_checks(found, Settings()) if r.check == "naming"]
    assert {r.status for r in naming} == {Status.PASSED}
