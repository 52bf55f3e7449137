"""An exclusion constraint added to an existing table builds its index while blocking.

`ADD CONSTRAINT ... EXCLUDE` builds a GiST (or other) index and checks every row under an ACCESS
EXCLUSIVE lock; it cannot be added NOT VALID or built concurrently.

Anti-pattern:

```sql
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
```

Best practice: add it while the table is small or new, in a maintenance window, or enforce the
rule in a trigger first; confirm it with a reason when the lock is acceptable.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migration_check.lint.base import LintContext, Rule, qualified, table_commands


class ExclusionConstraint(Rule):
    code = "MC022"
    name = "exclusion-constraint"
    elsewhere = ("eugene:E8",)

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, command in table_commands(node):
            constraint = command.def_
            if (command.subtype == AlterTableType.AT_AddConstraint and isinstance(constraint, ast.Constraint)
                    and constraint.contype == ConstrType.CONSTR_EXCLUSION and context.existing(table)):
                yield (f"adds an exclusion constraint to {qualified(table)}: its index is built and every row checked"
                       " under an ACCESS EXCLUSIVE lock, which NOT VALID cannot avoid; add it while the table is new or small,"
                       " or confirm the lock with a reason")
