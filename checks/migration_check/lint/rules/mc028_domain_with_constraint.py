"""A domain with a constraint is hard to change later: altering the constraint scans every column of the domain.

Loosening or tightening a domain's CHECK means `ALTER DOMAIN`, which validates every column of the
domain in every table, holding locks while it does; a check constraint on the column is cheaper to
change.

Anti-pattern:

```sql
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
```

Best practice: a plain domain (or the base type), with a CHECK constraint on each column.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType

from migration_check.lint.base import LintContext, Rule
from migration_check.lint.nodes import dotted


class DomainWithConstraint(Rule):
    code = "MC028"
    name = "domain-with-constraint"
    elsewhere = ("squawk:ban-create-domain-with-constraint",)
    severity = None  # a design choice: off unless the config turns it on

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if isinstance(node, ast.CreateDomainStmt) and any(
                isinstance(c, ast.Constraint) and c.contype == ConstrType.CONSTR_CHECK for c in node.constraints or ()):
            name = dotted(node.domainname)
            yield (f"creates domain {name} with a CHECK: changing it later scans every column of the domain; prefer"
                   " a check constraint on each column")
