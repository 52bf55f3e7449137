"""A CONCURRENTLY statement inside a transaction block fails.

`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` and `DETACH
PARTITION ... CONCURRENTLY` cannot run in a transaction block, nor can a `DO` block that runs
`COMMIT` or `ROLLBACK` itself. Inside a BEGIN ... COMMIT written in the file (or a script the
runner always wraps in one) the migration fails.

Anti-pattern:

```sql
BEGIN;
CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);
COMMIT;
```

The same statement in a migration its runner wraps in a transaction (dbmate, goose, sqlx, diesel,
yoyo and db-migrate do unless told not to) fails the same way, without any BEGIN in the file, and
so does a file of several statements that its runner sends as one query (golang-migrate, Prisma
up to 6), which PostgreSQL runs as one implicit transaction. Flyway runs a script outside a
transaction only when its parser recognises such a statement (CREATE INDEX CONCURRENTLY, VACUUM,
REINDEX SCHEMA, ...); a DO block that commits or a REINDEX INDEX CONCURRENTLY it runs in one.

Best practice: put the statement in a migration of its own that runs outside a transaction
(goose `-- +goose NO TRANSACTION`, dbmate `-- migrate:up transaction:false`, sqlx
`-- no-transaction`, Flyway `executeInTransaction=false` in the script's `.conf` file).
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule
from migration_check.model import Severity
from migration_check.sql import cannot_run_in_transaction


class ConcurrentlyInTransaction(Rule):
    code = "MC015"
    name = "concurrently-in-transaction"
    elsewhere = ("atlas:PG103", "atlas:concurrent_index", "squawk:ban-concurrent-index-creation-in-transaction")
    severity = Severity.ERROR

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if not cannot_run_in_transaction(node):
            return
        if context.explicit_transaction:
            yield ("runs inside BEGIN ... COMMIT, where PostgreSQL refuses it (cannot run inside a transaction block);"
                   " move it to a migration that runs outside a transaction")
        elif context.in_transaction:
            # Only a script the runner wraps runs in one transaction with such a statement in it.
            yield ("runs in a transaction its migration runner opens (around each migration, or for a file sent as one"
                   " query of several statements), where PostgreSQL refuses it (cannot run inside a transaction block); "
                   + (context.leave_transaction or "run it outside one, as the runner allows"))
