"""Dropping a column loses its values and breaks clients that still select it.

A column of a table that existed before this migration is dropped. The values are gone (a rollback
can add the column back, empty), and code deployed before the migration still names it in its
queries, which then fail.

Anti-pattern:

```sql
ALTER TABLE users DROP COLUMN phone;
```

Best practice: stop reading and writing the column in a release first, then drop it in a later
migration, with the reason:

```sql
-- migration-check: allow drop-column "phone moved to user_contacts in 20250901"
ALTER TABLE users DROP COLUMN phone;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migration_check.lint.base import LintContext, Rule, qualified, table_commands
from migration_check.model import Severity


class DropColumn(Rule):
    code = "MC002"
    name = "drop-column"
    elsewhere = ("atlas:DS103", "atlas:destructive", "squawk:ban-drop-column")
    severity = Severity.ERROR

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, command in table_commands(node):
            if command.subtype == AlterTableType.AT_DropColumn and context.existing(table):
                yield (f"drops column {qualified(table)}.{command.name}: its values are lost and clients that still"
                       " select it break; stop using it first, then confirm the drop with a reason")
