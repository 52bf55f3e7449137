"""Dropping a schema drops everything in it.

`DROP SCHEMA` removes the schema and, with CASCADE, every table, view and function in it, with all
their data.

Anti-pattern:

```sql
DROP SCHEMA reporting CASCADE;
```

A `DROP SCHEMA IF EXISTS ... CASCADE` of a schema that held no table before the migration (Graphile
Migrate's first migration clears its schemas so, to run again from scratch) loses no rows: the replay
sees that, and the case passes saying so.

Best practice: drop the objects one by one in migrations that say what goes, or confirm the drop
with a reason:

```sql
-- migration-check: allow drop-schema "reporting moved to the warehouse"
DROP SCHEMA reporting CASCADE;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migration_check.lint.base import LintContext, Rule
from migration_check.model import Severity


class DropSchema(Rule):
    code = "MC003"
    name = "drop-schema"
    elsewhere = ("atlas:DS101", "atlas:destructive", "squawk:ban-drop-schema")
    severity = Severity.ERROR
    void_if_absent = True  # in `check`: a schema that held no table lost no rows
    absent_kind = "schema"

    def check(self, node: ast.Node, context: LintContext) -> Iterator[tuple[str, str]]:
        if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_SCHEMA:
            for name in node.objects or ():
                schema = str(getattr(name, "sval", name))
                yield f"drops schema {schema} and everything in it; confirm it with a reason", schema
