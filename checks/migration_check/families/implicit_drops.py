"""What PostgreSQL drops along with what a statement names: the indexes and constraints on a column
that `DROP COLUMN` drops, the indexes, constraints, triggers and policies `DROP TABLE` drops with
its table, the views that a `CASCADE` takes with a table or column they read, and the triggers a
`DROP FUNCTION ... CASCADE` takes with the function they call. The statement never names them, so
the round trip's finding would point nowhere ("not restored by rollback") without this
(openmeterio/openmeter: an index on (namespace, key) went with `DROP COLUMN key`, and the rollback
added the column back alone; heroiclabs/nakama: a foreign key went with its table, which the
rollback made again without it; rust-lang/crates.io: a rollback dropped, CASCADE, the function the
up had replaced, and the trigger that called it with it).

The object's columns and relations are read from its definition as PostgreSQL printed it in the
snapshot before the up (`pg_get_indexdef`, `pg_get_constraintdef`, `pg_get_viewdef`,
`pg_get_triggerdef`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pglast import ast, visitors
from pglast.enums import AlterTableType, DropBehavior, ObjectType

from migration_check.sql import Statement, trees
from migration_check.sql.objects import object_key, statement_names

_VIEWS = frozenset({"view", "materialized view"})
_ON_COLUMNS = frozenset({"index", "constraint"})  # what DROP COLUMN takes with a column it uses
_ON_A_TABLE = _ON_COLUMNS | {"trigger", "policy", "rule"}  # what DROP TABLE takes with the table
# What a view reads by name: a CASCADE drop of one of these takes the view with it.
_RELATION_KINDS = {ObjectType.OBJECT_TABLE: "table", ObjectType.OBJECT_VIEW: "view",
                   ObjectType.OBJECT_MATVIEW: "materialized view", ObjectType.OBJECT_FOREIGN_TABLE: "foreign table"}


@dataclass(frozen=True)
class ImplicitDrop:
    statement: Statement
    words: str  # "(it went with column key: ...)"


def implicit_drop(statements: list[Statement], kind: str, name: str, definition: str | None,
                  script: str = "the up") -> ImplicitDrop | None:
    """The statement of `script` ("the up", "the rollback") that dropped the object `kind` `name`
    without naming it, or None."""
    if kind in _ON_A_TABLE:
        used = _columns_used(kind, name, definition) if kind in _ON_COLUMNS and definition else {}
        # An index's table is in its definition; the others are named `x on schema.table`.
        tables = set(used) if kind == "index" else set(used) | {object_key(kind, name)[1][-1]}
        for statement in statements:
            for relation_kind, table, _ in _dropped_relations(statement.sql):
                if relation_kind == "table" and table in tables:
                    return ImplicitDrop(statement, f" (it went with table {table}, which {script} drops: make it again"
                                                   " in the rollback, after the table)")
            for table, column, _ in _dropped_columns(statement.sql):
                if column in used.get(table, ()):
                    return ImplicitDrop(statement, f" (it went with column {column} of {table}, which it uses: DROP"
                                                   " COLUMN drops the indexes and constraints on a column; make it"
                                                   " again in the rollback once the column is back)")
        function = _trigger_function(definition) if kind == "trigger" and definition else None
        for statement in statements:
            if function is not None and function in _cascaded_functions(statement.sql):
                return ImplicitDrop(statement, f" (it went with function {function}, which it calls: DROP FUNCTION"
                                               " ... CASCADE drops the triggers that call the function)")
    elif kind in _VIEWS and definition:
        read = statement_names(definition)
        for statement in statements:
            for what, relation in _cascaded(statement.sql):
                if relation in read:
                    return ImplicitDrop(statement, f" (it went with {what}: CASCADE drops the views that use it;"
                                                   f" make the {kind} again in the rollback)")
    return None


def _columns_used(kind: str, name: str, definition: str) -> dict[str, set[str]]:
    """{table: columns} that an index or constraint uses (a foreign key: both of its tables)."""
    if kind == "index":
        node = trees.statement(definition)
        if not isinstance(node, ast.IndexStmt) or node.relation is None or not node.relation.relname:
            return {}
        return {node.relation.relname: _column_names(node)}
    table = object_key(kind, name)[1][-1]
    node = trees.statement(f"ALTER TABLE t ADD {definition}")
    commands = getattr(node, "cmds", None) or ()
    constraint = getattr(commands[0], "def_", None) if commands else None
    if not isinstance(constraint, ast.Constraint):
        return {}
    used = {table: _column_names(constraint)}
    if constraint.pktable is not None and constraint.pktable.relname and constraint.pk_attrs:
        used.setdefault(constraint.pktable.relname, set()).update(_strings(constraint.pk_attrs))
    return used


def _column_names(node: ast.Node) -> set[str]:
    """Every column an index's or constraint's tree names: index elements, column references,
    key lists (a constraint's keys, INCLUDE, foreign-key columns)."""
    collector = _Columns()
    collector(node)
    if isinstance(node, ast.Constraint):
        for names in (node.keys, node.including, node.fk_attrs):
            collector.names.update(_strings(names))
    return collector.names


def _strings(names: object) -> list[str]:
    return [str(name.sval) for name in names or () if isinstance(name, ast.String)]  # type: ignore[attr-defined]


class _Columns(visitors.Visitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_IndexElem(self, ancestors: object, node: ast.IndexElem) -> None:
        if node.name:
            self.names.add(node.name)

    def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> None:
        if node.fields and isinstance(node.fields[-1], ast.String):
            self.names.add(str(node.fields[-1].sval))


def _dropped_columns(sql: str) -> Iterator[tuple[str, str, bool]]:
    """(table, column, cascade) of each `ALTER TABLE ... DROP COLUMN` of a statement."""
    node = trees.statement(sql)
    if not isinstance(node, ast.AlterTableStmt) or node.relation is None or not node.relation.relname:
        return
    for command in node.cmds or ():
        if isinstance(command, ast.AlterTableCmd) and command.subtype == AlterTableType.AT_DropColumn and command.name:
            yield node.relation.relname, command.name, command.behavior == DropBehavior.DROP_CASCADE


def _cascaded(sql: str) -> Iterator[tuple[str, str]]:
    """(what was dropped, the relation a view would read to depend on it) of a statement's CASCADE."""
    for table, column, cascade in _dropped_columns(sql):
        if cascade:
            yield f"column {column} of {table}", table
    for kind, relation, cascade in _dropped_relations(sql):
        if cascade:
            yield f"{kind} {relation}", relation


_ROUTINES = frozenset({ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_ROUTINE})


def _trigger_function(definition: str) -> str | None:
    node = trees.statement(definition)
    names = _strings(node.funcname) if isinstance(node, ast.CreateTrigStmt) else []
    return names[-1] if names else None


def _cascaded_functions(sql: str) -> set[str]:
    """The functions a `DROP FUNCTION ... CASCADE` drops (unqualified names)."""
    node = trees.statement(sql)
    if not (isinstance(node, ast.DropStmt) and node.removeType in _ROUTINES and node.behavior == DropBehavior.DROP_CASCADE):
        return set()
    return {names[-1] for item in node.objects or () if (names := _strings(getattr(item, "objname", None)))}


def _dropped_relations(sql: str) -> Iterator[tuple[str, str, bool]]:
    """(kind, name, cascade) of each table, view or materialized view a DROP statement drops."""
    node = trees.statement(sql)
    if isinstance(node, ast.DropStmt) and node.removeType in _RELATION_KINDS:
        for item in node.objects or ():
            if names := _strings(item):
                yield _RELATION_KINDS[node.removeType], names[-1], node.behavior == DropBehavior.DROP_CASCADE
