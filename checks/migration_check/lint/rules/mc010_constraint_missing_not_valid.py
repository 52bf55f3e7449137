"""A foreign key or check constraint added without NOT VALID scans the table while it blocks writes.

Adding a FOREIGN KEY or CHECK constraint to an existing table validates every row at once, holding
a lock that blocks writes (and, for a foreign key, writes to the referenced table) until the scan
ends.

Anti-pattern:

```sql
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
```

Best practice: add it NOT VALID (instant), then validate it in a separate statement, which lets
writes go on:

```sql
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migration_check.lint.base import LintContext, Rule, qualified, table_commands

_KINDS = {ConstrType.CONSTR_FOREIGN: "foreign key", ConstrType.CONSTR_CHECK: "check constraint"}


class ConstraintMissingNotValid(Rule):
    code = "MC010"
    name = "constraint-missing-not-valid"
    elsewhere = ("squawk:constraint-missing-not-valid", "squawk:adding-foreign-key-constraint", "eugene:E1")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, command in table_commands(node):
            if (command.subtype == AlterTableType.AT_ValidateConstraint and command.name in context.not_valid
                    and (context.in_transaction or context.explicit_transaction)):
                yield (f"validates {command.name} in the same transaction that added it NOT VALID: the lock of the add is"
                       " held for the whole scan, so NOT VALID gains nothing; validate it in a separate migration")
            constraint = command.def_
            if (command.subtype == AlterTableType.AT_AddConstraint and isinstance(constraint, ast.Constraint)
                    and constraint.contype in _KINDS and not constraint.skip_validation and context.existing(table)):
                name = f" {constraint.conname}" if constraint.conname else ""
                yield (f"adds {_KINDS[constraint.contype]}{name} to {qualified(table)} without NOT VALID: every row is"
                       " checked while writes wait; add it NOT VALID, then VALIDATE CONSTRAINT in its own statement")
