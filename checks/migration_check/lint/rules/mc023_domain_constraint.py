"""A domain constraint added without NOT VALID checks every column of the domain, in every table.

`ALTER DOMAIN ... ADD CONSTRAINT` scans each table that has a column of the domain, blocking writes
to them while it does.

Anti-pattern:

```sql
ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
```

Best practice:

```sql
ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%') NOT VALID;
ALTER DOMAIN email VALIDATE CONSTRAINT email_has_at;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from migration_check.lint.base import LintContext, Rule
from migration_check.lint.nodes import dotted


class DomainConstraint(Rule):
    code = "MC023"
    name = "domain-constraint"
    elsewhere = ("squawk:ban-alter-domain-with-add-constraint",)

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        if (isinstance(node, ast.AlterDomainStmt) and node.subtype == "C" and isinstance(node.def_, ast.Constraint)
                and not node.def_.skip_validation):
            name = dotted(node.typeName)
            yield (f"adds a constraint to domain {name} without NOT VALID: every column of the domain is scanned while"
                   " writes wait; add it NOT VALID, then VALIDATE CONSTRAINT")
