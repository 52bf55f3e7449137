"""BEGIN inside a transaction the runner opened, or a transaction the file never ends.

When the runner wraps the file in a transaction, a BEGIN in it only warns and the COMMIT in it
ends the runner's transaction early: what follows runs outside it, and a failure there is not
rolled back. A BEGIN without COMMIT leaves the transaction open, unless the runner commits after
the file (a file that ends the runner's transaction for a `CREATE INDEX CONCURRENTLY` and opens
one again for the runner to commit is fine).

Anti-pattern:

```sql
BEGIN;
ALTER TABLE users ADD COLUMN nickname text;
-- no COMMIT
```

Best practice: let the runner manage the transaction, or write BEGIN and COMMIT as a pair in a
file the runner does not wrap.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import TransactionStmtKind

from migration_check.lint.base import LintContext, Rule
from migration_check.model import Severity

_BEGIN = (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)


class TransactionNesting(Rule):
    code = "MC020"
    name = "transaction-nesting"
    elsewhere = ("squawk:transaction-nesting",)
    severity = Severity.ERROR

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.TransactionStmt) and node.kind in _BEGIN and context.explicit_transaction:
            yield "BEGIN inside a transaction that is already open: the first COMMIT ends both; remove the inner BEGIN"

    @staticmethod
    def unfinished() -> str:
        return "BEGIN without COMMIT: the transaction is left open at the end of the file; add COMMIT"
