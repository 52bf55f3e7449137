"""DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table.

The drop itself is quick, but it waits for every running query on the table, and every new query
waits behind it.

Anti-pattern:

```sql
DROP INDEX orders_user_id_idx;
```

Best practice:

```sql
DROP INDEX CONCURRENTLY orders_user_id_idx;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migration_check.lint.base import LintContext, Rule
from migration_check.lint.nodes import dotted


class DropIndexWithoutConcurrently(Rule):
    code = "MC013"
    name = "drop-index-without-concurrently"
    elsewhere = ("atlas:PG102", "atlas:concurrent_index", "squawk:require-concurrent-index-deletion")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX and not node.concurrent:
            names = ", ".join(dotted(name) for name in node.objects or ())
            yield (f"drops index {names} without CONCURRENTLY: it waits for, and then blocks, every query on its table;"
                   " use DROP INDEX CONCURRENTLY " + context.outside_transaction())
