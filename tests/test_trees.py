"""The parse trees built without pglast's assignment checks (sql/trees.py) are the trees pglast
builds with them: the same node classes, attribute values and value types, on every SQL file of
the fixtures; and nodes built outside the check's parses keep pglast's checks."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pglast
import pytest
from pglast import ast, parser

from migration_check.sql import trees

FIXTURES = Path(__file__).parent / "fixtures"


def _shape(value: object) -> object:
    """The tree as plain data, each value with its type (True and 1 differ here, not under ==)."""
    if isinstance(value, ast.Node):
        return type(value).__name__, tuple((name, _shape(getattr(value, name))) for name in value)
    if isinstance(value, tuple):
        return "tuple", tuple(_shape(item) for item in value)
    return type(value).__name__, value


def _shapes(texts: list[str], parse: Callable[[str], object]) -> list[object]:
    shapes: list[object] = []
    for text in texts:
        try:
            shapes.append(_shape(parse(text)))
        except parser.ParseError as error:
            shapes.append(("ParseError", str(error)))
    return shapes


def test_trees_are_those_pglast_checks() -> None:
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in sorted(FIXTURES.rglob("*.sql"))]
    texts += ["SELECT true, false, 1::bool", "CREATE TABLE t (a int GENERATED ALWAYS AS IDENTITY, b text STORAGE EXTERNAL)",
              "ALTER TABLE ONLY t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u MATCH FULL ON DELETE SET NULL (a)"]
    assert len(texts) > 300
    assert _shapes(texts, trees.parse_sql) == _shapes(texts, lambda text: tuple(pglast.parse_sql(text)))


def test_nodes_built_elsewhere_keep_pglast_s_checks_and_conversions() -> None:
    """Only the check's own parses skip the checks: a team's code beside the pytest plugin that
    builds nodes still gets pglast's conversions (a list made a tuple) and its errors."""
    trees.parse_sql("SELECT 1")
    _pglast_s_assignment_works()


def _pglast_s_assignment_works() -> None:
    assert ast.SelectStmt(targetList=[ast.ResTarget(name="a")]).targetList == (ast.ResTarget(name="a"),)
    assert ast.A_Const(isnull=0).isnull is False
    with pytest.raises(ValueError):
        ast.RangeVar(relname=42)


def test_parses_on_other_threads_leave_this_one_with_pglast_s_assignment() -> None:
    texts = [f"CREATE TABLE t{i} (id int PRIMARY KEY, flag boolean DEFAULT true)" for i in range(300)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parsed = pool.map(trees.parse_sql, texts)
        _pglast_s_assignment_works()
        assert len(list(parsed)) == 300
    _pglast_s_assignment_works()
