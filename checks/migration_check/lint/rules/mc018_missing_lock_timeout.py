"""A statement that takes a strong lock on an existing table runs without a lock_timeout.

ALTER TABLE waits for every running query on the table; while it waits, every new query queues
behind it, so a migration stuck behind one slow report takes the application down. A
`lock_timeout` makes it fail fast instead, and the deploy can retry.

Anti-pattern:

```sql
ALTER TABLE users ADD COLUMN nickname text;
```

Best practice:

```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule, qualified


class MissingLockTimeout(Rule):
    code = "MC018"
    name = "missing-lock-timeout"
    elsewhere = ("squawk:require-lock-timeout", "eugene:E9")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if context.lock_timeout or self.name in context.reported:
            return  # once per script: the first locking statement is where the SET belongs
        relation = None
        if isinstance(node, (ast.AlterTableStmt, ast.RenameStmt, ast.ClusterStmt)):
            relation = node.relation
        elif isinstance(node, ast.IndexStmt) and not node.concurrent:
            relation = node.relation
        elif isinstance(node, ast.LockStmt) and node.relations:
            relation = node.relations[0]
        elif isinstance(node, ast.TruncateStmt) and node.relations:
            relation = node.relations[0]
        if relation is not None and context.existing(relation):
            context.reported.add(self.name)
            yield (f"locks {qualified(relation)} with no lock_timeout set: if it waits behind a long query, every"
                   " query on the table queues behind it; SET lock_timeout = '2s' first")
