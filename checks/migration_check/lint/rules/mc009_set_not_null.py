"""SET NOT NULL on an existing column scans the whole table under an ACCESS EXCLUSIVE lock.

PostgreSQL checks every row while reads and writes wait, unless a valid CHECK (col IS NOT NULL)
constraint already proves it (PostgreSQL 12 and later).

Anti-pattern:

```sql
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
```

Best practice: prove it without blocking first, then set it:

```sql
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;  -- does not block writes
ALTER TABLE users ALTER COLUMN email SET NOT NULL;            -- uses the check, no scan
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migration_check.lint.base import LintContext, Rule, qualified, table_commands


class SetNotNull(Rule):
    code = "MC009"
    name = "set-not-null"
    elsewhere = ("atlas:MF104", "atlas:data_depend", "squawk:adding-not-nullable-field", "eugene:E2")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, command in table_commands(node):
            if command.subtype == AlterTableType.AT_SetNotNull and context.existing(table):
                yield (f"sets {qualified(table)}.{command.name} NOT NULL: every row is scanned under an ACCESS EXCLUSIVE"
                       " lock; add CHECK (... IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL")
