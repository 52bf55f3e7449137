"""Other migration linters' ignore comments (Atlas, squawk, eugene, diesel-guard): what each
acknowledges, and how far it reaches. Found on rust-lang/crates.io (diesel-guard's safety-assured
blocks around each DROP COLUMN, failed here as "confirm the drop with a reason") and
openmeterio/openmeter (`-- atlas:nolint DS103` before each)."""

from __future__ import annotations

from pathlib import Path

from migration_check.lint import rule_named
from migration_check.model import Script
from migration_check.sql import Statement
from migration_check.sql.other_linters import BLOCK, FILE, NEXT, acknowledgments, covering


def at(line: int, path: Path = Path("m.sql")) -> Statement:
    return Statement(sql="select 1", path=path, line=line, column=1, offset=0, node="SelectStmt")

SQL = """-- atlas:nolint

CREATE TABLE a (id int);
-- squawk-ignore ban-drop-column, prefer-robust-stmts
ALTER TABLE t DROP COLUMN a;
-- eugene: ignore
-- the reason, on a line of its own
ALTER TABLE t ALTER b SET NOT NULL;
-- safety-assured:start
-- the reason
DROP TABLE x;
-- safety-assured:end
/* atlas:nolint DS102 */ DROP TABLE y;
select '-- squawk-ignore-file';
"""


def test_each_tools_directive_and_its_reach() -> None:
    found = acknowledgments(Script(Path("m.sql"), SQL, first_line=3))
    assert [(a.tool, a.names, a.line, a.reach, a.last_line) for a in found] == [
        ("atlas", None, 3, FILE, 5),  # at the top, an empty line after it: Atlas reads it as the file's
        ("squawk", frozenset({"ban-drop-column", "prefer-robust-stmts"}), 6, NEXT, 7),
        ("eugene", None, 8, NEXT, 10),
        ("diesel-guard", None, 11, BLOCK, 14),
        ("atlas", frozenset({"ds102"}), 15, NEXT, 15),
    ]  # and nothing from the string


def test_a_name_acknowledges_the_rules_that_check_the_same() -> None:
    drop_column, drop_table = rule_named("drop-column"), rule_named("drop-table")
    assert drop_column is not None and drop_table is not None
    found = acknowledgments(Script(Path("m.sql"), "-- squawk-ignore ban-drop-column\nALTER TABLE t DROP COLUMN a;\n"
                                                   "-- atlas:nolint DS102\nDROP TABLE t;\nDROP TABLE u;\n"))
    assert covering(found, at(2), drop_column.elsewhere) is found[0]
    assert covering(found, at(2), drop_table.elsewhere) is None  # squawk's name is the drop-column check
    assert covering(found, at(4), drop_table.elsewhere) is found[1]
    assert covering(found, at(5), drop_table.elsewhere) is None  # the next statement only
    assert found[1].describe() == "`-- atlas:nolint DS102` at line 3"


def test_an_atlas_directive_followed_by_a_statement_is_the_statements() -> None:
    [found] = acknowledgments(Script(Path("m.sql"), "-- atlas:nolint\nDROP TABLE t;\n\nDROP TABLE u;\n"))
    assert found.reach == NEXT and found.last_line == 2
