"""A unique constraint or primary key added to an existing table builds its index while blocking writes.

`ADD CONSTRAINT ... UNIQUE` and `ADD PRIMARY KEY` build a new index under a lock that blocks every
write (and ACCESS EXCLUSIVE for the constraint) until the build ends.

Anti-pattern:

```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```

Best practice: build the index concurrently, then attach it:

```sql
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from migration_check.lint.base import LintContext, Rule, added_columns, qualified, table_commands
from migration_check.lint.nodes import has_constraint

_KINDS = {ConstrType.CONSTR_UNIQUE: "unique constraint", ConstrType.CONSTR_PRIMARY: "primary key"}


class BlockingUniqueConstraint(Rule):
    code = "MC011"
    name = "blocking-unique-constraint"
    elsewhere = ("squawk:disallowed-unique-constraint", "eugene:E7")

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, column in added_columns(node, context):
            if has_constraint(column, *_KINDS):
                yield (f"adds column {qualified(table)}.{column.colname} with a unique index built while reads and writes"
                       " wait; add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX")
        for table, command in table_commands(node):
            constraint = command.def_
            if (command.subtype == AlterTableType.AT_AddConstraint and isinstance(constraint, ast.Constraint)
                    and constraint.contype in _KINDS and not constraint.indexname and context.existing(table)):
                # Named where the statement names it: one ALTER TABLE may add several (Permify's two unique
                # constraints on relation_tuples gave two findings alike at the same line).
                kind = _KINDS[constraint.contype]
                what = f"{kind} {constraint.conname}" if constraint.conname else f"a {kind}"
                yield (f"adds {what} to {qualified(table)} by building its index while writes"
                       " wait; CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX")
