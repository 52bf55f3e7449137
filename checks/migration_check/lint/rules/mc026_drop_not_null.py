"""Dropping NOT NULL lets NULLs in that clients do not expect.

Code deployed before the migration reads the column as always set; once NULLs can be written, it
fails on them (a null pointer, a crash in a report).

Anti-pattern:

```sql
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
```

Best practice: make every reader handle NULL first, in a release, then drop the constraint.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migration_check.lint.base import LintContext, Rule, qualified, table_commands


class DropNotNull(Rule):
    code = "MC026"
    name = "drop-not-null"
    elsewhere = ("squawk:ban-drop-not-null",)

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, command in table_commands(node):
            if command.subtype == AlterTableType.AT_DropNotNull and context.existing(table):
                yield (f"drops NOT NULL from {qualified(table)}.{command.name}: clients that expect a value break on NULL;"
                       " make every reader handle NULL first")
