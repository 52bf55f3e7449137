"""Changing a column's type usually rewrites the table under an ACCESS EXCLUSIVE lock.

Most type changes rewrite every row and rebuild every index of the table while reads and writes
wait. A few are free (varchar(n) to a larger n or to text, numeric to an unconstrained numeric);
the `locks` family observes which it was on the replayed PostgreSQL.

Anti-pattern:

```sql
ALTER TABLE events ALTER COLUMN id TYPE bigint;
```

Best practice: expand and contract: add a new column of the new type, backfill it in batches,
switch the readers and writers, then drop the old column.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migration_check.lint.base import LintContext, Rule, qualified, table_commands


class ChangeColumnType(Rule):
    code = "MC007"
    name = "change-column-type"
    elsewhere = ("squawk:changing-column-type", "eugene:E5")
    predicts_rewrite = True

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, command in table_commands(node):
            if command.subtype == AlterTableType.AT_AlterColumnType and context.existing(table):
                yield (f"changes the type of {qualified(table)}.{command.name}: this usually rewrites the table under an"
                       " ACCESS EXCLUSIVE lock; add a new column, backfill it in batches, switch, then drop the old one")
