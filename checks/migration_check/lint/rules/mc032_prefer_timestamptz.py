"""timestamp without time zone loses the time zone of every value.

Values are stored as wall-clock time with no zone: the same instant reads differently on servers
and sessions with other TimeZone settings.

Anti-pattern:

```sql
CREATE TABLE events (at timestamp);
```

Best practice:

```sql
CREATE TABLE events (at timestamptz);
```

A style rule: off unless turned on in the config (`lint: {prefer-timestamptz: warning}`).
"""

from __future__ import annotations

from migration_check.lint.base import ColumnTypeRule


class PreferTimestamptz(ColumnTypeRule):
    code = "MC032"
    name = "prefer-timestamptz"
    elsewhere = ("squawk:prefer-timestamptz",)
    types = frozenset({"timestamp"})
    advice = "is timestamp without time zone; use timestamptz"
