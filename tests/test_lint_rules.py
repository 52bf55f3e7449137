"""Every lint rule against its YAML fixtures (tests/fixtures/lint/<code>-<name>.yml), in the
sqlfluff manner: one parametrised test runs them all; another checks that every rule is
registered, documented, has fixtures with both findings and clean cases, and that docs/rules.md
is generated from the current docstrings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from migration_check.lint import registered, rule_named
from migration_check.lint.docs import render
from migration_check.lint.engine import DEFAULT_SERVER_VERSION, lint_script
from migration_check.model import Script, Transaction

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
ROOT = Path(__file__).parent.parent


def _cases() -> list[object]:
    cases = []
    for path in sorted(FIXTURES.glob("*.yml")):
        spec = yaml.safe_load(path.read_text())
        for case in spec["cases"]:
            cases.append(pytest.param(spec["rule"], case, id=f"{path.stem}: {case['name']}"))
    return cases


@pytest.mark.parametrize(("rule_name", "case"), _cases())
def test_rule_fixture(rule_name: str, case: dict[str, object]) -> None:
    rule_class = rule_named(rule_name)
    assert rule_class is not None, rule_name
    # `transaction: none`: the layout runs the file outside a transaction (goose NO TRANSACTION);
    # `transaction: wrapped`: its runner runs the file in a transaction of its own (dbmate's default).
    transaction = Transaction(case.get("transaction", "auto"))
    script = Script(Path("migration.sql"), str(case["sql"]), transaction=transaction)
    linted = lint_script(script, [rule_class()], int(case.get("pg_version", DEFAULT_SERVER_VERSION)))  # type: ignore[call-overload]
    found = [f"{f.statement.line}:{f.statement.column}" for f in linted.findings]
    assert found == case["findings"], [f.message for f in linted.findings]
    for finding in linted.findings:  # every message says what to do, not only what is wrong
        assert ";" in finding.message or "use" in finding.message or "prefer" in finding.message, finding.message
    # `says`: a piece of each finding's message, in order, where the case pins what it names.
    for finding, piece in zip(linted.findings, case.get("says", []), strict=False):  # type: ignore[call-overload]
        assert piece in finding.message, finding.message


def test_every_rule_is_registered_documented_and_has_fixtures() -> None:
    rules = registered()
    assert len({r.code for r in rules}) == len(rules) and len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert rule.code.startswith("MC") and rule.name == rule.name.lower() and " " not in rule.name
        assert rule.summary().endswith("."), rule.code
        documentation = rule.documentation()
        assert "Anti-pattern" in documentation and "Best practice" in documentation and "```sql" in documentation, rule.code
        fixture = FIXTURES / f"{rule.code}-{rule.name}.yml"
        assert fixture.is_file(), fixture
        cases = yaml.safe_load(fixture.read_text())["cases"]
        assert any(c["findings"] for c in cases) and any(not c["findings"] for c in cases), rule.code
    assert {p.stem for p in FIXTURES.glob("*.yml")} == {f"{r.code}-{r.name}" for r in rules}


def test_the_rules_documentation_is_generated_from_the_docstrings() -> None:
    assert (ROOT / "docs" / "rules.md").read_text() == render(), \
        "docs/rules.md is stale: python -m migration_check.lint.docs > docs/rules.md"
