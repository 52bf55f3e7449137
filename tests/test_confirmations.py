"""Confirmations written in a migration file, found by PostgreSQL's own scanner (issue 11; the lint
rules use the same mechanism)."""

from __future__ import annotations

from pathlib import Path

from migration_check.model import Script
from migration_check.sql.confirmations import Confirmation, confirmations, confirmed


def script(sql: str, first_line: int = 1) -> Script:
    return Script(Path("m.sql"), sql, first_line=first_line)


def test_line_and_block_comments_confirm_with_their_reason_and_line() -> None:
    found = confirmations(script(
        'select 1;\n-- migration-check: allow data-loss "kept in the archive"\n'
        '/* migration-check: allow adding-not-null "table is empty in production" */\n', first_line=10))
    assert found == (Confirmation("data-loss", "kept in the archive", 11),
                     Confirmation("adding-not-null", "table is empty in production", 12))


def test_text_inside_strings_and_bodies_is_not_a_confirmation() -> None:
    sql = ("select '-- migration-check: allow data-loss \"no\"';\n"
           "create function f() returns int language sql as $$ select 1 -- migration-check: allow data-loss \"no\"\n$$;\n"
           "-- an ordinary comment\n")
    assert confirmations(script(sql)) == ()


def test_malformed_confirmations_say_what_is_wrong() -> None:
    found = confirmations(script('-- migration-check: allow data-loss\n-- migration-check: permit it\n'
                                 '-- migration-check: allow data-loss "unclosed\n'))
    assert [c.problem for c in found] == [
        "the confirmation of data-loss gives no reason: add one in quotes",
        'a confirmation reads: -- migration-check: allow <what> "<reason>"',
        "cannot read the confirmation: No closing quotation",
    ]
    assert confirmed([script('-- migration-check: allow data-loss "x"\n'), None], "data-loss")[0][1].reason == "x"


def test_a_confirmation_in_an_included_file_is_that_files(tmp_path: Path) -> None:
    # A sqitch deploy script that `\i`s a shared file (or a split pop migration's parts): the
    # comment there confirms that file's statement, not the including script's at the same line.
    shared = tmp_path / "shared" / "drop.sql"
    shared.parent.mkdir()
    shared.write_text('-- migration-check: allow drop-table "moved to the archive schema"\ndrop table t;\n')
    deploy = tmp_path / "deploy" / "x.sql"
    deploy.parent.mkdir()
    deploy.write_text('\\i shared/drop.sql\n-- migration-check: allow data-loss "kept in the archive"\nselect 1;\n')
    found = confirmations(Script(deploy, deploy.read_text(), root=tmp_path))
    assert found == (Confirmation("data-loss", "kept in the archive", 2, path=deploy),
                     Confirmation("drop-table", "moved to the archive schema", 1, path=shared))
