"""varchar(n) makes a longer limit a migration; prefer text with a check.

Raising a varchar(n) limit is cheap today, but lowering it rewrites the table, and the limit is
usually a business rule better kept in a check constraint.

Anti-pattern:

```sql
CREATE TABLE users (name varchar(100));
```

Best practice:

```sql
CREATE TABLE users (name text CHECK (length(name) <= 100));
```

A style rule: off unless turned on in the config (`lint: {prefer-text-field: warning}`).
"""

from __future__ import annotations

from migration_check.lint.base import ColumnTypeRule


class PreferTextField(ColumnTypeRule):
    code = "MC031"
    name = "prefer-text-field"
    elsewhere = ("squawk:prefer-text-field",)
    types = frozenset({"varchar"})
    advice = "is varchar(n); prefer text with a length check"
    needs_length = True  # varchar without a length has no limit
