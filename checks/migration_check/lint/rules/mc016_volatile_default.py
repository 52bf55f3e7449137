"""A column added with a volatile default rewrites the whole table under an ACCESS EXCLUSIVE lock.

Since PostgreSQL 11 a constant default (or a stable one such as `now()`) is stored once and costs
nothing; a volatile default (`gen_random_uuid()`, `random()`, `clock_timestamp()`) must be computed
for every row, so the table is rewritten while reads and writes wait. Before PostgreSQL 11 every
default rewrote the table.

Anti-pattern:

```sql
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();
```

A `serial` or identity column added to a table is the same: every row takes a value from its
sequence (`nextval()`, volatile).

Best practice: add the column without a default, set the default for new rows, backfill old rows
in batches:

```sql
ALTER TABLE users ADD COLUMN token uuid;
ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();
UPDATE users SET token = gen_random_uuid() WHERE id BETWEEN 1 AND 10000;  -- and so on
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType

from migration_check.lint.base import LintContext, Rule, added_columns, qualified
from migration_check.lint.nodes import default_of, has_constraint, type_name
from migration_check.lint.rules.mc008_adding_required_field import SERIALS
from migration_check.sql.trees import function_names

FAST_DEFAULTS = 110000
# Built-in functions that are stable or immutable, the usual defaults: any other function may be volatile.
NOT_VOLATILE = frozenset({"now", "statement_timestamp", "transaction_timestamp", "current_date", "localtimestamp",
                          "lower", "upper", "length", "concat", "md5", "to_jsonb", "to_json", "jsonb_build_object",
                          "json_build_object", "jsonb_build_array", "json_build_array", "array_length", "make_date",
                          "make_interval", "date_trunc", "timezone", "to_timestamp", "to_char", "abs", "round",
                          "coalesce", "nullif", "greatest", "least", "replace", "trim", "btrim", "substring",
                          "current_setting", "array_fill", "string_to_array", "jsonb_typeof", "int4range", "tstzrange"})
# Functions PostgreSQL marks volatile that migrations use as defaults.
VOLATILE = frozenset({"random", "gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1", "uuid_generate_v1mc",
                      "clock_timestamp", "timeofday", "nextval", "txid_current", "uuid_generate_v7", "uuidv7", "uuidv4"})


class VolatileDefault(Rule):
    code = "MC016"
    name = "volatile-default"
    elsewhere = ("squawk:adding-field-with-default",)
    predicts_rewrite = True

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        for table, column in added_columns(node, context):
            if has_constraint(column, ConstrType.CONSTR_GENERATED):
                yield (f"adds the stored generated column {qualified(table)}.{column.colname}: the table is rewritten"
                       " under an ACCESS EXCLUSIVE lock to compute it; add a plain column, backfill it, keep it with a trigger")
                continue
            serial = type_name(column.typeName) in SERIALS
            if serial or has_constraint(column, ConstrType.CONSTR_IDENTITY):
                # Its default is the sequence's nextval(), volatile: ory/hydra's `ADD pk SERIAL`. A primary
                # key column of the kind is MC027's (the rewrite and the index together).
                if not has_constraint(column, ConstrType.CONSTR_PRIMARY):
                    kind = f"as {type_name(column.typeName)}" if serial else "as an identity column"
                    yield (f"adds {qualified(table)}.{column.colname} {kind}: every row takes a value from its sequence"
                           " (nextval(), volatile), so the table is rewritten under an ACCESS EXCLUSIVE lock; add a plain"
                           " column, SET DEFAULT nextval(...) for new rows, then backfill in batches")
                continue
            default = default_of(column)
            if default is None:
                continue
            called = function_names(default)
            volatile, unknown = called & VOLATILE, called - VOLATILE - NOT_VOLATILE
            if volatile or unknown or context.server_version < FAST_DEFAULTS:
                why = (f"the volatile {sorted(volatile)[0]}()" if volatile else
                       f"{sorted(unknown)[0]}(), which may be volatile" if unknown else "a default (before PostgreSQL 11)")
                yield (f"adds {qualified(table)}.{column.colname} with {why}: the table is rewritten under an ACCESS"
                       " EXCLUSIVE lock; add the column without it, SET DEFAULT, then backfill in batches")
