"""REINDEX without CONCURRENTLY blocks writes (and reads that use the index) while it rebuilds.

Anti-pattern:

```sql
REINDEX INDEX orders_user_id_idx;
```

Best practice (PostgreSQL 12 and later, outside a transaction):

```sql
REINDEX INDEX CONCURRENTLY orders_user_id_idx;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule

REINDEX_CONCURRENTLY = 120000


class ReindexWithoutConcurrently(Rule):
    code = "MC014"
    name = "reindex-without-concurrently"

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.ReindexStmt) and context.server_version >= REINDEX_CONCURRENTLY:
            if not any(getattr(p, "defname", "") == "concurrently" for p in node.params or ()):
                target = node.relation.relname if node.relation is not None else node.name
                yield (f"reindexes {target} without CONCURRENTLY: writes wait for the rebuild;"
                       " use REINDEX ... CONCURRENTLY " + context.outside_transaction())
