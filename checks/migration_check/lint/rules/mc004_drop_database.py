"""A migration drops a database.

Migrations change one database; dropping a database (perhaps the one the application uses) from a
migration is almost always a mistake, and it cannot run in a transaction.

Anti-pattern:

```sql
DROP DATABASE analytics;
```

Best practice: drop databases by hand, outside the migrations.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule
from migration_check.model import Severity


class DropDatabase(Rule):
    code = "MC004"
    name = "drop-database"
    elsewhere = ("squawk:ban-drop-database",)
    severity = Severity.ERROR

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.DropdbStmt):
            yield f"drops database {node.dbname}; drop databases by hand, not in a migration"
