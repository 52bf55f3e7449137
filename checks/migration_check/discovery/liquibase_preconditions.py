"""A Liquibase changeset's preconditions as one SQL condition, evaluated where Liquibase evaluates
them: on the database, just before the changeset.

Only `onFail: MARK_RAN` and `onFail: CONTINUE` decide whether a changeset runs (the default, HALT,
stops Liquibase; WARN runs it anyway): with those, a precondition that does not hold skips the
changeset, as Liquibase skips it. Covered: tableExists, columnExists, viewExists, indexExists,
sequenceExists, foreignKeyConstraintExists, primaryKeyExists, rowCount, tableIsEmpty, sqlCheck,
dbms, changeSetExecuted (decided from the changelog: on the new database the replay builds, the
changesets before this one are the ones that ran), and `not`, `and`, `or` around them (the top
level is an `and`). Names are compared as PostgreSQL folds them; the schema is the one given, else
any schema on the search path. A precondition of another kind cannot be evaluated here: None, and
the changeset is skipped with the reason instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import ast
from pglast.enums import BoolExprType

from migration_check.discovery.liquibase_changes import table
from migration_check.discovery.liquibase_formatted import dbms_includes_postgresql
from migration_check.sql import trees
from migration_check.sql.prepared import quote_literal

DECIDING = frozenset({"MARK_RAN", "CONTINUE"})
# Whether the changeset (changelog file, id, author) has run before this one.
Ran = Callable[[str, str, str], bool]


def condition(preconditions: object, ran: Ran | None = None) -> str | None:
    """The SQL boolean of the preconditions (a list of `{kind: attributes}`, YAML's shape); None
    where one of them is not covered."""
    entries = preconditions if isinstance(preconditions, list) else [preconditions]
    # An entry may hold the settings and a check at once (`- onFail: MARK_RAN` with `and:` beside
    # it): onFail, onError, onFailMessage, ... say how to react, not what to check.
    parts = [_one({key: value}, ran) for entry in entries if isinstance(entry, dict)
             for key, value in entry.items() if not str(key).startswith("on")]
    if any(part is None for part in parts):
        return None
    return " AND ".join(f"({part})" for part in parts if part) or "TRUE"


def known_without_a_database(sql: str) -> bool | None:
    """The condition's value where no part of it needs the database (a `dbms` alone, `not` and `and`
    around it), else None: `migration-check lint` leaves out what Liquibase never runs here."""
    parsed = trees.statements(f"SELECT {sql}")
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.SelectStmt) or not parsed[0].stmt.targetList:
        return None
    return _constant(parsed[0].stmt.targetList[0].val)


def _constant(node: object) -> bool | None:
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        return bool(node.val.boolval)
    if not isinstance(node, ast.BoolExpr):
        return None
    values = [_constant(arg) for arg in node.args or ()]
    if node.boolop == BoolExprType.NOT_EXPR:
        return None if values[0] is None else not values[0]
    # An AND that one FALSE decides, an OR that one TRUE decides, whatever the others need.
    decisive = node.boolop == BoolExprType.OR_EXPR
    if decisive in values:
        return decisive
    return None if None in values else not decisive


def _one(entry: dict[str, Any], ran: Ran | None) -> str | None:
    if len(entry) != 1:
        return None
    [(kind, attributes)] = entry.items()
    if kind in ("not", "and", "or"):
        inner = [_one(item, ran) for item in (attributes if isinstance(attributes, list) else [attributes])
                 if isinstance(item, dict)]
        if not inner or any(part is None for part in inner):
            return None
        if kind == "not":
            return " AND ".join(f"NOT ({part})" for part in inner)
        return f" {kind.upper()} ".join(f"({part})" for part in inner)
    a = attributes if isinstance(attributes, dict) else {}
    if kind == "changeSetExecuted":
        if ran is None or not a.get("id") or not a.get("author"):
            return None
        executed = ran(str(a.get("changeLogFile", "")), str(a["id"]), str(a["author"]))
        return "TRUE" if executed else "FALSE"
    if kind == "dbms":
        return "TRUE" if dbms_includes_postgresql(str(a.get("type", ""))) else "FALSE"
    if kind == "sqlCheck":
        sql = str(a.get("sql", "")).strip().rstrip(";")
        return f"(({sql}))::text = {quote_literal(str(a.get('expectedResult', '')))}" if sql else None
    if kind in ("rowCount", "tableIsEmpty"):
        expected = str(a.get("expectedRows", 0)) if kind == "rowCount" else "0"
        return f"(SELECT count(*) FROM {table(a)}) = {int(expected)}" if expected.isdigit() else None
    relation = RELATIONS.get(kind)
    if relation is not None:
        key, kinds = relation
        return _relation_exists(str(a.get(key, "")), a.get("schemaName"), kinds)
    if kind == "columnExists":
        column = _named("t.attname", a.get("columnName"))
        return _relation_exists(str(a.get("tableName", "")), a.get("schemaName"), "rpvmf",
                                extra=" AND EXISTS (SELECT FROM pg_catalog.pg_attribute t WHERE t.attrelid = c.oid"
                                      f" AND t.attnum > 0 AND NOT t.attisdropped AND {column})")
    if kind in ("foreignKeyConstraintExists", "primaryKeyExists"):
        contype = "f" if kind == "foreignKeyConstraintExists" else "p"
        name = a.get("foreignKeyName") or a.get("primaryKeyName")
        owner = a.get("foreignKeyTableName") or a.get("tableName")
        if not name and not owner:
            return None
        where = [f"k.contype = '{contype}'"] + ([_named("k.conname", name)] if name else []) + (
            [f"k.conrelid IN (SELECT c.oid FROM pg_catalog.pg_class c WHERE {_named('c.relname', owner)})"] if owner else [])
        return f"EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE {' AND '.join(where)})"
    return None


# The precondition, the attribute that names its relation, and the relkinds it may be.
RELATIONS = {
    "tableExists": ("tableName", "rp"),
    "viewExists": ("viewName", "vm"),
    "indexExists": ("indexName", "iI"),
    "sequenceExists": ("sequenceName", "S"),
}


def _relation_exists(name: str, schema: object, kinds: str, extra: str = "") -> str:
    where = [f"c.relkind IN ({', '.join(quote_literal(kind) for kind in kinds)})", _named("c.relname", name),
             f"n.nspname = {quote_literal(str(schema))}" if schema else "n.nspname = ANY (pg_catalog.current_schemas(false))"]
    return (f"EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE {' AND '.join(where)}{extra})")


def _named(column: str, name: object) -> str:
    """Liquibase looks a name up as PostgreSQL folds it: unquoted, in lower case."""
    return f"lower({column}) = lower({quote_literal(str(name))})"
