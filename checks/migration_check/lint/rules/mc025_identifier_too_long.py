"""An identifier longer than 63 bytes is silently truncated.

PostgreSQL cuts names at 63 bytes (NAMEDATALEN - 1) with only a NOTICE: two long names can end up
the same, and a later migration that uses the full name does not find the object.

Anti-pattern:

```sql
CREATE INDEX index_on_customer_orders_by_created_at_and_status_for_the_reports ON orders (created_at);
```

Best practice: keep names within 63 bytes.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast, parser

from migration_check.lint.base import LintContext, Rule

NAMEDATALEN = 64


class IdentifierTooLong(Rule):
    code = "MC025"
    name = "identifier-too-long"

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        # The parser has truncated the names in the tree already: read them from the tokens.
        for token in parser.scan(context.sql):  # offsets count characters
            if token.name == "IDENT":
                name = context.sql[token.start:token.end + 1].strip('"')
                size = len(name.encode())
                if size >= NAMEDATALEN:
                    yield f"the name {name} is {size} bytes: PostgreSQL truncates it to 63; use a shorter name"
