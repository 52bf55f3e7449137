"""Which schema objects a statement creates, drops or changes, read from pglast's parse tree.

Used to point a finding at the statement responsible ("dropped by the up (line 12) and not restored
by the rollback") instead of at line 1 of a file. Objects are matched by kind and unqualified name
(and table, for columns, constraints, triggers and policies), the way the schema snapshot names
them; a statement this module does not know simply touches nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migration_check.sql import trees
from migration_check.sql.statement import Statement, last_name, name_text

CREATED, DROPPED, CHANGED = "created", "dropped", "changed"
WRITTEN = "written"  # rows inserted, updated, deleted or truncated

# The snapshot's kinds that one SQL word covers.
_TYPE_KINDS = frozenset({"enum", "composite type", "range type", "base type", "shell type"})
_DROPPED_KIND = {
    ObjectType.OBJECT_TABLE: "table", ObjectType.OBJECT_INDEX: "index", ObjectType.OBJECT_VIEW: "view",
    ObjectType.OBJECT_MATVIEW: "materialized view", ObjectType.OBJECT_SEQUENCE: "sequence",
    ObjectType.OBJECT_FUNCTION: "function", ObjectType.OBJECT_PROCEDURE: "procedure",
    ObjectType.OBJECT_AGGREGATE: "aggregate", ObjectType.OBJECT_TYPE: "type", ObjectType.OBJECT_DOMAIN: "domain",
    ObjectType.OBJECT_TRIGGER: "trigger", ObjectType.OBJECT_POLICY: "policy", ObjectType.OBJECT_SCHEMA: "schema",
    ObjectType.OBJECT_EXTENSION: "extension", ObjectType.OBJECT_RULE: "rule", ObjectType.OBJECT_COLUMN: "column",
    ObjectType.OBJECT_TABCONSTRAINT: "constraint", ObjectType.OBJECT_EVENT_TRIGGER: "event trigger",
}
_ON_TABLE = frozenset({"trigger", "policy", "rule", "constraint"})


@dataclass(frozen=True)
class Touch:
    kind: str  # the snapshot's kind ("table", "column", ...); "type" for any type
    key: tuple[str, ...]  # (name,), or (table, name) for columns and objects that live on a table
    verb: str  # CREATED, DROPPED or CHANGED


def object_key(kind: str, name: str) -> tuple[str, tuple[str, ...]]:
    """The (kind, key) of an object as the schema snapshot names it: `public.users.phone`,
    `users_pkey on public.users`, `public.f(integer)`."""
    matched_kind = "type" if kind in _TYPE_KINDS else kind
    if " on " in name:
        own, table = name.split(" on ", 1)
        return matched_kind, (unquote(own), unquote(_dotted(table)[-1]))
    base = name.split("(", 1)[0] if kind in ("function", "procedure", "aggregate") else name
    parts = [unquote(p) for p in _dotted(base)]
    if kind == "column":
        return matched_kind, tuple(parts[-2:])
    return matched_kind, (parts[-1],) if parts else ()


def tables_touched(statements: list[Statement]) -> set[str]:
    """The unqualified names of the tables the statements create, change, drop or write rows of."""
    return {touch.key[-1] if touch.kind == "constraint" else touch.key[0]  # (name, table) for constraints
            for statement in statements for touch in touches(statement.sql)
            if touch.kind in ("table", "column", "constraint", "materialized view")} - {""}


def find_statement(statements: list[Statement], kind: str, name: str, verbs: tuple[str, ...]) -> Statement | None:
    """The first statement that does one of `verbs` to the object `kind` `name`, or None."""
    wanted_kind, key = object_key(kind, name)
    for statement in statements:
        for touch in touches(statement.sql):
            if touch.verb in verbs and touch.kind == wanted_kind and touch.key == key:
                return statement
    return None


@functools.lru_cache(maxsize=4096)
def touches(sql: str) -> tuple[Touch, ...]:
    return tuple(touch for raw in trees.statements(sql) if raw.stmt is not None for touch in _touches(raw.stmt))


def _touch(kind: str, verb: str, *names: object) -> Iterator[Touch]:
    """One Touch when every name is known (a part the parse tree lacks means: nothing to say)."""
    if all(isinstance(name, str) and name for name in names):
        yield Touch(kind, tuple(str(name) for name in names), verb)


def _relname(node: object) -> str | None:
    return getattr(node, "relname", None)


# Statements that create one object, and how to read its name from the parse node.
_CREATED: dict[type, tuple[str, Callable[[Any], object]]] = {
    ast.CreateStmt: ("table", lambda n: _relname(n.relation)),
    ast.IndexStmt: ("index", lambda n: n.idxname),
    ast.ViewStmt: ("view", lambda n: _relname(n.view)),
    ast.CreateSeqStmt: ("sequence", lambda n: _relname(n.sequence)),
    ast.CreateEnumStmt: ("type", lambda n: last_name(n.typeName)),
    ast.CompositeTypeStmt: ("type", lambda n: _relname(n.typevar)),
    ast.CreateRangeStmt: ("type", lambda n: last_name(n.typeName)),
    ast.CreateDomainStmt: ("domain", lambda n: last_name(n.domainname)),
    ast.CreateSchemaStmt: ("schema", lambda n: n.schemaname),
    ast.CreateExtensionStmt: ("extension", lambda n: n.extname),
    ast.CreateEventTrigStmt: ("event trigger", lambda n: n.trigname),
}


def _touches(node: ast.Node) -> Iterator[Touch]:
    if type(node) in _CREATED:
        kind, name_of = _CREATED[type(node)]
        yield from _touch(kind, CREATED, name_of(node))
    elif isinstance(node, ast.CreateTableAsStmt):
        kind = "materialized view" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
        yield from _touch(kind, CREATED, _relname(getattr(node.into, "rel", None)))
    elif isinstance(node, ast.CreateFunctionStmt):
        yield from _touch("procedure" if node.is_procedure else "function", CREATED, last_name(node.funcname))
    elif isinstance(node, ast.CreateTrigStmt):
        yield from _touch("trigger", CREATED, node.trigname, _relname(node.relation))
    elif isinstance(node, ast.CreatePolicyStmt):
        yield from _touch("policy", CREATED, node.policy_name, _relname(node.table))
    elif isinstance(node, ast.CreateRoleStmt):
        yield from _touch("role", CREATED, node.role)
    elif isinstance(node, ast.DropRoleStmt):
        for role in node.roles or ():
            yield from _touch("role", DROPPED, getattr(role, "rolename", None))
    elif isinstance(node, ast.AlterEnumStmt):
        yield from _touch("type", CHANGED, last_name(node.typeName))
    elif isinstance(node, ast.AlterDomainStmt):
        yield from _touch("domain", CHANGED, last_name(node.typeName))
    elif isinstance(node, ast.AlterFunctionStmt) and node.objtype is not None:
        yield from _named(node.objtype, node.func, CHANGED)
    elif isinstance(node, ast.CommentStmt) and node.objtype is not None:
        yield from _named(node.objtype, node.object, CHANGED)
    elif isinstance(node, ast.DropStmt):
        yield from _dropped(node)
    elif isinstance(node, ast.AlterTableStmt):
        yield from _altered(node)
    elif isinstance(node, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.CopyStmt)):
        yield from _touch("table", WRITTEN, _relname(node.relation))
    elif isinstance(node, ast.TruncateStmt):
        for relation in node.relations or ():
            yield from _touch("table", WRITTEN, _relname(relation))


def _dropped(node: ast.DropStmt) -> Iterator[Touch]:
    if node.removeType is not None:
        for item in node.objects or ():
            yield from _named(node.removeType, item, DROPPED)


def _named(object_type: ObjectType, item: object, verb: str) -> Iterator[Touch]:
    """The Touch of an object named the way DROP, COMMENT ON and ALTER FUNCTION name it."""
    kind = _DROPPED_KIND.get(object_type)
    if kind is None:
        return
    if isinstance(item, ast.ObjectWithArgs):
        names = [name_text(part) for part in item.objname or ()]
    elif isinstance(item, ast.TypeName):
        names = [name_text(part) for part in item.names or ()]
    elif isinstance(item, (tuple, list)):
        names = [name_text(part) for part in item]
    else:
        names = [name_text(item)]
    if kind in _ON_TABLE and len(names) >= 2:
        yield from _touch(kind, verb, names[-1], names[-2])
    elif kind == "column" and len(names) >= 2:
        yield from _touch(kind, verb, names[-2], names[-1])
    elif names:
        yield from _touch(kind, verb, names[-1])


def _altered(node: ast.AlterTableStmt) -> Iterator[Touch]:
    table = _relname(node.relation)
    kind = "materialized view" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
    yield from _touch(kind, CHANGED, table)
    for command in node.cmds or ():
        if not isinstance(command, ast.AlterTableCmd):
            continue
        subtype, definition = command.subtype, command.def_
        if subtype == AlterTableType.AT_AddColumn and isinstance(definition, ast.ColumnDef):
            yield from _touch("column", CREATED, table, definition.colname)
        elif subtype == AlterTableType.AT_DropColumn:
            yield from _touch("column", DROPPED, table, command.name)
        elif subtype in _COLUMN_CHANGES:
            yield from _touch("column", CHANGED, table, command.name)
        elif subtype == AlterTableType.AT_AddConstraint and isinstance(definition, ast.Constraint):
            yield from _touch("constraint", CREATED, definition.conname, table)
        elif subtype == AlterTableType.AT_DropConstraint:
            yield from _touch("constraint", DROPPED, command.name, table)


_COLUMN_CHANGES = frozenset({
    AlterTableType.AT_AlterColumnType, AlterTableType.AT_ColumnDefault, AlterTableType.AT_DropNotNull,
    AlterTableType.AT_SetNotNull, AlterTableType.AT_AddIdentity, AlterTableType.AT_DropIdentity,
    AlterTableType.AT_SetIdentity, AlterTableType.AT_DropExpression,
})


def _dotted(name: str) -> list[str]:
    """`a."b.c".d` -> ['a', '"b.c"', 'd']: dots inside double quotes do not split."""
    parts, current, quoted = [], "", False
    for char in name:
        if char == '"':
            quoted = not quoted
        if char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def schema_of(qualified: str) -> str | None:
    """The schema of a qualified name (`"My Schema".t` -> My Schema); None for an unqualified one."""
    parts = _dotted(qualified)
    return unquote(parts[0]) if len(parts) > 1 else None


def unquote(part: str) -> str:
    """An identifier as PostgreSQL names it: `"Stamp"` is Stamp (doubled quotes undone), `stamp` stays."""
    part = part.strip()
    if len(part) >= 2 and part.startswith('"') and part.endswith('"'):
        return part[1:-1].replace('""', '"')
    return part


# The kinds a DROP names relations of.
RELATION_KINDS = frozenset({ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW,
                            ObjectType.OBJECT_INDEX, ObjectType.OBJECT_SEQUENCE, ObjectType.OBJECT_FOREIGN_TABLE})


@functools.lru_cache(maxsize=4096)
def touched_names(sql: str) -> frozenset[str]:
    """The relation names a statement mentions, those it drops included (a DROP names them as
    lists of strings, not as relations)."""
    return statement_names(sql) | dropped_names(sql)


def dropped_names(sql: str) -> frozenset[str]:
    """The relation names a statement's DROP gives (unqualified)."""
    return frozenset(str(names[-1].sval) for raw in trees.statements(sql) if isinstance(raw.stmt, ast.DropStmt)
                     and raw.stmt.removeType in RELATION_KINDS for names in raw.stmt.objects or ()
                     if isinstance(names, tuple) and names and isinstance(names[-1], ast.String))


@functools.lru_cache(maxsize=4096)
def statement_names(sql: str) -> frozenset[str]:
    """The relation names (unqualified) that a statement mentions anywhere."""
    return frozenset(node.relname for node in trees.nodes_of(trees.statements(sql), ast.RangeVar) if node.relname)
