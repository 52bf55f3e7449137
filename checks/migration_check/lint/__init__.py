"""The static half of risk analysis: lint rules on pglast's parse tree (one module per rule in
rules/), with the context of the migration (see base.py). `engine.py` runs them on a script,
`results.py` turns findings into test cases, with confirmations."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from migration_check.lint import rules as rules_package
from migration_check.lint.base import Finding, LintContext, Rule


@functools.cache
def registered() -> tuple[type[Rule], ...]:
    """Every rule, by code: each module in lint/rules/ holds one."""
    found = []
    for module in pkgutil.iter_modules(rules_package.__path__):
        loaded = importlib.import_module(f"{rules_package.__name__}.{module.name}")
        found += [value for value in vars(loaded).values()
                  if isinstance(value, type) and issubclass(value, Rule) and value is not Rule
                  and value.__module__ == loaded.__name__]
    return tuple(sorted(found, key=lambda rule: rule.code))


def rule_named(name: str) -> type[Rule] | None:
    """A rule by its name (drop-table) or code (MC001)."""
    return next((rule for rule in registered() if name in (rule.name, rule.code) or name.upper() == rule.code), None)


__all__ = ["Finding", "LintContext", "Rule", "registered", "rule_named"]
