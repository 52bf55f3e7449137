"""Renaming a table breaks every client that still uses the old name.

Code deployed before the migration keeps querying the old name until it is replaced, and fails in
between.

Anti-pattern:

```sql
ALTER TABLE customers RENAME TO accounts;
```

Best practice: create the new name as a view first (or the other way round), move the clients,
then drop the old name in a later migration:

```sql
ALTER TABLE customers RENAME TO accounts;
CREATE VIEW customers AS SELECT * FROM accounts;  -- until every client uses accounts
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migration_check.lint.base import LintContext, Rule, qualified


class RenameTable(Rule):
    code = "MC005"
    name = "rename-table"
    elsewhere = ("atlas:BC101", "atlas:incompatible", "squawk:renaming-table")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE
                and context.existing(node.relation)):
            assert node.relation is not None
            yield (f"renames table {qualified(node.relation)} to {node.newname}: clients that use the old name break;"
                   " keep the old name as a view until they move")
