"""Adding a NOT NULL column without a default fails on a table that has rows.

`ALTER TABLE ... ADD COLUMN ... NOT NULL` with no default has no value to give the existing rows,
so it fails as soon as the table is not empty: it passes on an empty development database and
fails in production.

Anti-pattern:

```sql
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
```

Best practice: add it with a default (a constant default is free from PostgreSQL 11), or add it
nullable, backfill, then set NOT NULL through a NOT VALID check:

```sql
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType

from migration_check.lint.base import LintContext, Rule, added_columns, qualified
from migration_check.lint.nodes import default_of, has_constraint
from migration_check.model import Severity


class AddingRequiredField(Rule):
    code = "MC008"
    name = "adding-required-field"
    elsewhere = ("atlas:MF103", "atlas:data_depend", "squawk:adding-required-field")
    severity = Severity.ERROR

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, column in added_columns(node, context):
            required = column.is_not_null or has_constraint(column, ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY)
            filled = default_of(column) is not None or has_constraint(
                column, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED)
            if required and not filled and not (column.typeName and _serial(column.typeName)):
                yield (f"adds NOT NULL column {qualified(table)}.{column.colname} without a default: it fails on a table"
                       " with rows; give it a default, or add it nullable, backfill, then set NOT NULL")


def _serial(type_: ast.TypeName) -> bool:
    return str(getattr((type_.names or ("",))[-1], "sval", "")) in SERIALS


SERIALS = frozenset({"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"})
