"""Adding a serial or identity primary key column rewrites the table and builds its index while everything waits.

Every existing row gets a value (a rewrite under ACCESS EXCLUSIVE) and the primary key's index is
built in the same lock.

Anti-pattern:

```sql
ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;
```

Best practice: add the column nullable with a sequence default for new rows, backfill old rows in
batches, build the unique index concurrently, then add the primary key USING INDEX.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType

from migration_check.lint.base import LintContext, Rule, added_columns, qualified
from migration_check.lint.nodes import has_constraint, type_name
from migration_check.lint.rules.mc008_adding_required_field import SERIALS


class AddingSerialPrimaryKey(Rule):
    code = "MC027"
    name = "adding-serial-primary-key"
    elsewhere = ("squawk:adding-serial-primary-key-field",)
    predicts_rewrite = True

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, column in added_columns(node, context):
            if (has_constraint(column, ConstrType.CONSTR_PRIMARY)
                    and (type_name(column.typeName) in SERIALS or has_constraint(column, ConstrType.CONSTR_IDENTITY))):
                yield (f"adds primary key column {qualified(table)}.{column.colname}: every row is rewritten and the index"
                       " built under an ACCESS EXCLUSIVE lock; backfill in batches, build the index CONCURRENTLY,"
                       " then ADD PRIMARY KEY USING INDEX")
