"""'now', 'today', 'tomorrow' or 'yesterday' in a stored definition is frozen when it is made.

PostgreSQL reads the constant `'now'::timestamp` (and `DEFAULT 'now'` on a date or time column)
once, when it stores the view, default, check constraint, index predicate, policy or trigger
condition: from then on every row gets, and every query compares with, the moment the migration
ran. A view of "the last month" keeps showing the month before the deploy. The functions are read
each time instead: `now()`, `CURRENT_TIMESTAMP`, `CURRENT_DATE`.

Anti-pattern:

```sql
CREATE VIEW recent_posts AS SELECT * FROM posts WHERE published > 'now'::timestamp - interval '1 month';
ALTER TABLE posts ADD COLUMN seen_at timestamptz DEFAULT 'now';
```

Best practice:

```sql
CREATE VIEW recent_posts AS SELECT * FROM posts WHERE published > now() - interval '1 month';
ALTER TABLE posts ADD COLUMN seen_at timestamptz DEFAULT now();
```

The round trip and re-apply checks do not count the two moments as a difference: the same
statement run twice stores two times; this rule reports the constant itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType
from pglast.visitors import Visitor

from migration_check.lint.base import LintContext, Rule
from migration_check.lint.nodes import column_types, default_of, type_name

# The special input values PostgreSQL turns into a moment when the constant is read.
MOMENTS = {"now": "now()", "today": "CURRENT_DATE", "tomorrow": "CURRENT_DATE + 1", "yesterday": "CURRENT_DATE - 1"}
TIME_TYPES = frozenset({"timestamp", "timestamptz", "date", "time", "timetz"})
# Statements whose expressions PostgreSQL keeps, to evaluate later.
STORING = (ast.ViewStmt, ast.CreateStmt, ast.AlterTableStmt, ast.IndexStmt, ast.CreatePolicyStmt,
           ast.AlterPolicyStmt, ast.CreateDomainStmt, ast.AlterDomainStmt, ast.CreateFunctionStmt,
           ast.CreateTrigStmt, ast.RuleStmt)


class FrozenTimeLiteral(Rule):
    code = "MC037"
    name = "frozen-time-literal"

    def check(self, node: ast.Node, context: LintContext) -> Iterator[str]:
        matview = isinstance(node, ast.CreateTableAsStmt) and node.objtype == ObjectType.OBJECT_MATVIEW
        if not (isinstance(node, STORING) or matview):
            return
        text = context.sql.lower()
        if context.sql and not any(f"'{moment}" in text or f"{moment}'" in text for moment in MOMENTS):
            return  # no such quoted word in the text: no need to walk the tree (the costly part)
        for moment, type_ in sorted(_frozen_constants(node)):
            yield (f"'{moment}'::{type_} is read once, when the definition is stored: it keeps the moment the migration"
                   f" ran; use {MOMENTS[moment]}, which is read each time")


def _frozen_constants(node: ast.Node) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    class _Casts(Visitor):
        def visit_TypeCast(self, ancestors: object, cast: ast.TypeCast) -> None:
            moment = _moment(cast.arg)
            if moment and type_name(cast.typeName) in TIME_TYPES:
                found.add((moment, type_name(cast.typeName)))

    _Casts()(node)
    # A bare 'now' takes the column's type: frozen the same way on a date or time column.
    for column, type_ in column_types(node):
        definition = _column(node, column)
        moment = _moment(default_of(definition)) if definition is not None else None
        if moment and type_name(type_) in TIME_TYPES:
            found.add((moment, type_name(type_)))
    return found


def _moment(node: ast.Node | None) -> str | None:
    value = getattr(getattr(node, "val", None), "sval", None) if isinstance(node, ast.A_Const) else None
    moment = str(value).strip().lower() if value is not None else ""
    return moment if moment in MOMENTS else None


def _column(node: ast.Node, name: str) -> ast.ColumnDef | None:
    elements = node.tableElts if isinstance(node, ast.CreateStmt) else [
        getattr(command, "def_", None) for command in getattr(node, "cmds", None) or ()]
    return next((e for e in elements or () if isinstance(e, ast.ColumnDef) and e.colname == name), None)
