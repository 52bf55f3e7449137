"""char(n) pads values with spaces and is never faster than text.

Values are padded to the length, comparisons ignore the padding, and the length limit is better
written as a check.

Anti-pattern:

```sql
CREATE TABLE codes (code char(3));
```

Best practice:

```sql
CREATE TABLE codes (code text CHECK (length(code) = 3));
```

A style rule: off unless turned on in the config (`lint: {ban-char-field: warning}`).
"""

from __future__ import annotations

from migration_check.lint.base import ColumnTypeRule


class BanCharField(ColumnTypeRule):
    code = "MC030"
    name = "ban-char-field"
    elsewhere = ("squawk:ban-char-field",)
    types = frozenset({"bpchar"})
    advice = "is char(n): values are space-padded; use text (with a length check if needed)"
