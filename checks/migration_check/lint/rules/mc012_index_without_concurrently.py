"""CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build.

A plain CREATE INDEX holds a SHARE lock: reads go on, every INSERT, UPDATE and DELETE waits until
the index is built, which takes minutes on a large table. An index on a table created earlier in
the same migration blocks nobody and is not reported.

Anti-pattern:

```sql
CREATE INDEX orders_user_id_idx ON orders (user_id);
```

Best practice (outside a transaction: see concurrently-in-transaction):

```sql
CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule, qualified


class IndexWithoutConcurrently(Rule):
    code = "MC012"
    name = "index-without-concurrently"
    elsewhere = ("atlas:PG101", "atlas:concurrent_index", "squawk:require-concurrent-index-creation", "eugene:E6")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.IndexStmt) and not node.concurrent and context.existing(node.relation):
            assert node.relation is not None
            kind = "unique index" if node.unique else "index"
            name = f"{node.idxname} " if node.idxname else ""
            yield (f"builds {kind} {name}on {qualified(node.relation)} without CONCURRENTLY: writes to the table wait for"
                   " the whole build; use CREATE INDEX CONCURRENTLY " + context.outside_transaction())
