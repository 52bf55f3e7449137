"""sqitch discovery: plan order, dependencies, tags, reworked changes, malformed plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.errors import FileError

WHO = "2024-01-01T10:00:00Z Ada Lovelace <ada@example.com>"


def plan(*lines: str) -> str:
    return "%syntax-version=1.0.0\n%project=shop\n\n" + "\n".join(lines) + "\n"


def scripts(*names: str, revert: bool = True, verify: bool = False) -> dict[str, str]:
    files = {}
    for name in names:
        files[f"deploy/{name}.sql"] = f"-- deploy {name}\n"
        if revert:
            files[f"revert/{name}.sql"] = f"-- revert {name}\n"
        if verify:
            files[f"verify/{name}.sql"] = f"-- verify {name}\n"
    return files


def test_plan_order_tags_and_reworked_changes(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "sqitch.plan": plan(
            f"schema {WHO} # Add schema.",
            f"users [schema] {WHO} # Users.",
            f"+touch [schema !legacy other_project:thing] {WHO}",
            f"@v1.0 {WHO} # Tag v1.0.",
            "# a comment line",
            f"touch [touch@v1.0] {WHO} # Rework touch.",
        ),
        "sqitch.conf": "[core]\n\tengine = pg\n",
        **scripts("schema", "users", "touch@v1.0", "touch", verify=True),
        "deploy/leftover.sql": "select 1;\n",
        "revert/gone.sql": "select 1;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqitch" and found.reason == "sqitch.plan and 5 deploy scripts"
    assert [m.id for m in found.migrations] == ["schema", "users", "touch@v1.0", "touch"]
    first_touch = found.migrations[2]
    assert first_touch.up.path.name == "touch@v1.0.sql" and first_touch.down.path.name == "touch@v1.0.sql"
    assert first_touch.verify.path.parent.name == "verify"
    assert [m.sort_key for m in found.migrations] == [(0,), (1,), (2,), (3,)]
    assert [s.path.name for s in found.stray_files] == ["leftover.sql"]
    assert [o.path.name for o in found.orphan_rollbacks] == ["gone.sql"]


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        ((f"schema {WHO}", "users [schema] yesterday Ada"), 5, "malformed change line"),
        ((f"users [schema] {WHO}",), 4, "not earlier in the plan"),
        ((f"schema {WHO}", f"schema {WHO}"), 5, "tag the plan before reworking"),
        ((f"@v1 {WHO}",), 4, "before any change"),
        ((f"schema {WHO}", f"users [schema@v9] {WHO}"), 5, "no tag @v9"),
        ((f"schema {WHO}", "%broken pragma"), 5, "malformed pragma"),
    ],
)
def test_malformed_plans_are_file_errors_at_their_line(tmp_path: Path, lines: tuple[str, ...], line: int, words: str) -> None:
    write_files(tmp_path, {"sqitch.plan": plan(*lines), **scripts("schema", "users")})
    with pytest.raises(FileError) as caught:
        discover(tmp_path, repo_root=tmp_path)
    assert caught.value.path.name == "sqitch.plan"
    assert caught.value.line == line and words in caught.value.message


def test_missing_deploy_script_is_a_file_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"sqitch.plan": plan(f"schema {WHO}")})
    with pytest.raises(FileError, match="deploy/schema.sql does not exist"):
        discover(tmp_path, repo_root=tmp_path)


def test_found_in_a_conventional_directory(tmp_path: Path) -> None:
    write_files(tmp_path, {"db/sqitch.plan": plan(f"schema {WHO}"), **{f"db/{k}": v for k, v in scripts("schema").items()}})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqitch" and found.directory == (tmp_path / "db").resolve()
