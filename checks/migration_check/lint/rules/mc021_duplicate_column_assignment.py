"""A statement assigns the same column twice.

`UPDATE t SET a = 1, a = 2` and `INSERT INTO t (a, a)` fail with "multiple assignments to same
column"; in a long statement it is easy to miss.

Anti-pattern:

```sql
UPDATE users SET status = 'active', status = 'verified' WHERE id = 1;
```

Best practice: assign each column once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule
from migration_check.model import Severity


class DuplicateColumnAssignment(Rule):
    code = "MC021"
    name = "duplicate-column-assignment"
    severity = Severity.ERROR

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        targets: tuple[ast.Node, ...] = ()
        if isinstance(node, ast.UpdateStmt):
            targets = node.targetList or ()
        elif isinstance(node, ast.InsertStmt):
            targets = node.cols or ()
        # `a.x = 1, a.y = 2` and `a[1] = 1, a[2] = 2` assign different parts of a.
        counts = Counter((getattr(target, "name", None), repr(getattr(target, "indirection", None))) for target in targets)
        for (column, _), count in counts.items():
            if column and count > 1:
                yield f"assigns column {column} {count} times: PostgreSQL refuses it; assign it once"
