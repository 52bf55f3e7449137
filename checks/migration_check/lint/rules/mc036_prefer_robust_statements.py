"""CREATE and DROP without IF [NOT] EXISTS fail when a migration is run again after a partial failure.

Where a runner cannot wrap a migration in a transaction (CONCURRENTLY, `NO TRANSACTION`), a failure
halfway leaves the first statements done; running the migration again then fails on them.

Anti-pattern:

```sql
CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);
```

Best practice:

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_idx ON orders (user_id);
```

A style rule: off unless turned on in the config (`lint: {prefer-robust-statements: warning}`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule


class PreferRobustStatements(Rule):
    code = "MC036"
    name = "prefer-robust-statements"
    elsewhere = ("squawk:prefer-robust-stmts",)
    severity = None

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, (ast.CreateStmt, ast.IndexStmt)) and not node.if_not_exists:
            yield "CREATE without IF NOT EXISTS fails if the migration runs again after a partial failure; use IF NOT EXISTS"
        elif isinstance(node, ast.DropStmt) and not node.missing_ok:
            yield "DROP without IF EXISTS fails if the migration runs again after a partial failure; use IF EXISTS"
