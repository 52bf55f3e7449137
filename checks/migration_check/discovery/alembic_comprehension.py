"""A comprehension in a migration (`", ".join(f"'{v}'" for v in VALUES)`, `{k: v for k, v in ...}`),
evaluated as Python would over the values the file can say, by the same evaluator as the rest.

Its loops go over lists, tuples, strings and dict views the file holds, never a query's result, and
all of them together at most MOST_ITEMS times: nested loops multiply.
"""

from __future__ import annotations

import ast
from typing import Any, Protocol

from migration_check.discovery.alembic_python import MOST_ITEMS, Items, NotReplayable, unpacked

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
UNPACKED = "a comprehension whose items do not unpack into its names"


class Evaluates(Protocol):
    def value(self, node: ast.expr, scope: dict[str, Any]) -> Any: ...
    def truth(self, node: ast.expr, scope: dict[str, Any]) -> bool: ...
    def used(self, value: Any, node: ast.AST | None = None) -> Any: ...


def comprehension(values: Evaluates, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
                  scope: dict[str, Any]) -> Any:
    """What the comprehension makes: a list (a generator's items too, as what consumes it takes
    them), a set's items in order as a list, or a dict."""
    made: list[Any] = []
    counted = [0]

    def loop(index: int, inner: dict[str, Any]) -> None:
        if index == len(node.generators):
            made.append((values.value(node.key, inner), values.value(node.value, inner)) if isinstance(node, ast.DictComp)
                        else values.value(node.elt, inner))
            return
        generator = node.generators[index]
        if generator.is_async:
            raise NotReplayable(node.lineno, "an async comprehension")
        items = values.used(values.value(generator.iter, inner), generator.iter)
        if not isinstance(items, list | tuple | str | dict | Items):
            raise NotReplayable(node.lineno, "a comprehension over what the file cannot say alone")
        for item in items:
            counted[0] += 1
            if counted[0] > MOST_ITEMS:
                raise NotReplayable(node.lineno, f"a comprehension of more than {MOST_ITEMS:,} items")
            bound = {**inner, **unpacked(generator.target, item, node.lineno, UNPACKED)}
            if all(values.truth(condition, bound) for condition in generator.ifs):
                loop(index + 1, bound)

    loop(0, scope)
    if isinstance(node, ast.DictComp):
        return dict(made)
    return list(dict.fromkeys(made)) if isinstance(node, ast.SetComp) and all(_hashable(v) for v in made) else made


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
