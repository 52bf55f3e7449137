"""TRUNCATE removes every row of a table (and, with CASCADE, of the tables that reference it).

Anti-pattern:

```sql
TRUNCATE sessions CASCADE;
```

Best practice: delete what must go with a WHERE clause, or confirm it with a reason:

```sql
-- migration-check: allow truncate "sessions are re-created at the next login"
TRUNCATE sessions;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule, qualified


class Truncate(Rule):
    code = "MC017"
    name = "truncate"

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.TruncateStmt):
            tables = [r for r in node.relations or () if context.existing(r)]
            if tables:
                cascade = " and every table that references them" if node.behavior == 1 else ""
                yield (f"truncates {', '.join(qualified(t) for t in tables)}{cascade}: every row is lost;"
                       " delete only what must go, or confirm it with a reason")
