"""Dropping a table loses its rows and breaks every client that still reads it.

A table that existed before this migration is dropped. Its data is gone for good (a rollback can
re-create the table, not its rows), and application code deployed before the migration still
queries it. Dropping it takes an ACCESS EXCLUSIVE lock, which waits for every running query on it.

Anti-pattern:

```sql
DROP TABLE orders_legacy;
```

A `DROP TABLE IF EXISTS` of a table that did not exist before the migration (no earlier migration
made it: a "drop if exists, then create" at the start of a new table's migration) drops nothing:
the replay sees that, and the case passes saying so.

Best practice: stop using the table in a release first, keep a copy if the data matters, then
drop it in a later migration and confirm it with the reason (a migration runner's history table,
`databasechangelog` or `flyway_schema_history`, is no application data: dropping one hands the
schema over to another runner):

```sql
-- migration-check: allow drop-table "unused since 2025-08, archived to s3://backups/orders_legacy"
DROP TABLE orders_legacy;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from migration_check.lint.base import LintContext, Rule
from migration_check.lint.nodes import dotted
from migration_check.model import Severity

# The history tables of migration runners (Liquibase, Flyway, golang-migrate and dbmate, goose,
# diesel, Prisma, sqlx, yoyo, sql-migrate, pop, knex, node-pg-migrate, MikroORM): only their runner reads them, so dropping one
# loses nobody's data (DependencyTrack/hyades-apiserver drops Liquibase's when it moves to Flyway).
RUNNER_TABLES = frozenset({
    "databasechangelog", "databasechangeloglock", "flyway_schema_history", "schema_migrations", "goose_db_version",
    "__diesel_schema_migrations", "_prisma_migrations", "_sqlx_migrations", "_yoyo_migration", "_yoyo_log",
    "_yoyo_version", "yoyo_lock", "gorp_migrations", "schema_migration", "knex_migrations", "knex_migrations_lock",
    "pgmigrations", "mikro_orm_migrations", "sequelizemeta",
})


class DropTable(Rule):
    code = "MC001"
    name = "drop-table"
    elsewhere = ("atlas:DS102", "atlas:destructive", "squawk:ban-drop-table")
    severity = Severity.ERROR
    void_if_absent = True

    def check(self, node: ast.Node, context: LintContext) -> Iterator[tuple[str, str]]:
        if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
            for names in node.objects or ():
                name = dotted(names)
                if names[-1].sval not in context.created and names[-1].sval.lower() not in RUNNER_TABLES:
                    yield (f"drops table {name}: its rows are lost and clients that still read it break;"
                           " stop using it first, then confirm the drop with a reason", names[-1].sval)
