"""The parse trees built without pglast's assignment checks (sql/trees.py) are the trees pglast
builds with them: the same node classes, attribute values and value types, on every SQL file of
the fixtures."""

from __future__ import annotations

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


def _shapes(texts: list[str]) -> list[object]:
    shapes: list[object] = []
    for text in texts:
        try:
            shapes.append(_shape(pglast.parse_sql(text)))
        except parser.ParseError as error:
            shapes.append(("ParseError", str(error)))
    return shapes


def test_the_fast_assignment_is_installed() -> None:
    assert ast.Node.__setattr__ is not trees.PGLAST_ASSIGN


def test_trees_are_those_pglast_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in sorted(FIXTURES.rglob("*.sql"))]
    texts += ["SELECT true, false, 1::bool", "CREATE TABLE t (a int GENERATED ALWAYS AS IDENTITY, b text STORAGE EXTERNAL)",
              "ALTER TABLE ONLY t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u MATCH FULL ON DELETE SET NULL (a)"]
    assert len(texts) > 300
    fast = _shapes(texts)
    monkeypatch.setattr(ast.Node, "__setattr__", trees.PGLAST_ASSIGN)
    assert _shapes(texts) == fast
