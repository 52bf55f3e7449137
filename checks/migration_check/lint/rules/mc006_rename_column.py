"""Renaming a column breaks every client that still uses the old name.

Anti-pattern:

```sql
ALTER TABLE users RENAME COLUMN name TO full_name;
```

Best practice: add the new column, write both, backfill, move the readers, then drop the old
column in a later migration (expand and contract).
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migration_check.lint.base import LintContext, Rule, qualified


class RenameColumn(Rule):
    code = "MC006"
    name = "rename-column"
    elsewhere = ("atlas:BC102", "atlas:incompatible", "squawk:renaming-column")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_COLUMN
                and context.existing(node.relation)):
            assert node.relation is not None
            yield (f"renames column {qualified(node.relation)}.{node.subname} to {node.newname}: clients that use the"
                   " old name break; add the new column, backfill, move the readers, then drop the old one")
