"""json stores text and cannot be indexed or compared; prefer jsonb.

json keeps the text as given (re-parsed on every access), has no equality operator and no GIN
index.

Anti-pattern:

```sql
CREATE TABLE events (payload json);
```

Best practice:

```sql
CREATE TABLE events (payload jsonb);
```

A style rule: off unless turned on in the config (`lint: {prefer-jsonb: warning}`).
"""

from __future__ import annotations

from migration_check.lint.base import ColumnTypeRule


class PreferJsonb(ColumnTypeRule):
    code = "MC035"
    name = "prefer-jsonb"
    elsewhere = ("eugene:E3",)
    types = frozenset({"json"})
    advice = "is json; prefer jsonb"
