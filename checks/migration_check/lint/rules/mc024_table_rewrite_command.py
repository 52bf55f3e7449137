"""VACUUM FULL and CLUSTER rewrite the whole table under an ACCESS EXCLUSIVE lock.

Reads and writes wait until the copy is done; on a large table that is an outage.

Anti-pattern:

```sql
VACUUM FULL orders;
```

Best practice: plain VACUUM, or pg_repack, outside the migrations.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule, qualified


class TableRewriteCommand(Rule):
    code = "MC024"
    name = "table-rewrite-command"

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.VacuumStmt) and any(getattr(o, "defname", "") == "full" for o in node.options or ()):
            names = [qualified(r.relation) for r in node.rels or () if isinstance(r, ast.VacuumRelation) and r.relation]
            yield (f"VACUUM FULL {', '.join(names) or 'of every table'} rewrites under an ACCESS EXCLUSIVE lock;"
                   " use plain VACUUM or pg_repack outside the migrations")
        elif isinstance(node, ast.ClusterStmt) and node.relation is not None and context.existing(node.relation):
            yield (f"CLUSTER {qualified(node.relation)} rewrites the table under an ACCESS EXCLUSIVE lock;"
                   " use pg_repack outside the migrations")
