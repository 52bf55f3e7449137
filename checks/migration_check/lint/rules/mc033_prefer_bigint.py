"""int and smallint keys run out; prefer bigint.

A 32-bit integer key overflows at 2.1 billion, and widening it later rewrites the table.

Anti-pattern:

```sql
CREATE TABLE events (id int PRIMARY KEY);
```

Best practice:

```sql
CREATE TABLE events (id bigint PRIMARY KEY);
```

A style rule: off unless turned on in the config (`lint: {prefer-bigint: warning}`).
"""

from __future__ import annotations

from migration_check.lint.base import ColumnTypeRule


class PreferBigint(ColumnTypeRule):
    code = "MC033"
    name = "prefer-bigint"
    elsewhere = ("squawk:prefer-bigint-over-int", "squawk:prefer-big-int")
    types = frozenset({"int4", "int2", "serial", "smallserial", "serial4", "serial2"})
    advice = "is a 32-bit or 16-bit integer; prefer bigint"
