"""DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the partitioned table.

Anti-pattern:

```sql
ALTER TABLE events DETACH PARTITION events_2023;
```

Best practice (PostgreSQL 14 and later, outside a transaction):

```sql
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from migration_check.lint.base import LintContext, Rule, qualified, table_commands

DETACH_CONCURRENTLY = 140000


class DetachPartitionBlocking(Rule):
    code = "MC019"
    name = "detach-partition-blocking"

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if context.server_version < DETACH_CONCURRENTLY:
            return
        for table, command in table_commands(node):
            partition = command.def_
            if (command.subtype == AlterTableType.AT_DetachPartition and isinstance(partition, ast.PartitionCmd)
                    and not partition.concurrent and context.existing(table)):
                yield (f"detaches a partition of {qualified(table)} under an ACCESS EXCLUSIVE lock;"
                       " use DETACH PARTITION ... CONCURRENTLY " + context.outside_transaction())
