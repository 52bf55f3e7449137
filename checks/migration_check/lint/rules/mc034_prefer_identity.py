"""serial columns are a legacy; prefer identity columns.

serial creates a sequence with its own owner and grants; identity columns are standard SQL and
are managed with the column.

Anti-pattern:

```sql
CREATE TABLE users (id bigserial PRIMARY KEY);
```

Best practice:

```sql
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
```

A style rule: off unless turned on in the config (`lint: {prefer-identity: warning}`).
"""

from __future__ import annotations

from migration_check.lint.base import ColumnTypeRule


class PreferIdentity(ColumnTypeRule):
    code = "MC034"
    name = "prefer-identity"
    elsewhere = ("squawk:prefer-identity",)
    types = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})
    advice = "is serial; prefer GENERATED ... AS IDENTITY"
