"""Text columns that a later migration casts to another type: the row filler gives them text that
the cast reads, as the project's own rows hold it (the migration could not run on them otherwise),
instead of text no cast reads, on which that migration fails and is judged without rows.

target/goalert keeps ids as text, then copies them into uuid columns
(`INSERT INTO user_contact_methods (id, ...) SELECT id::UUID, ... FROM contact`), and keeps a
user's role as text before `ALTER TABLE users ALTER COLUMN role TYPE enum_user_role USING
role::enum_user_role`: `'id 1'` and `'role 1'` made both fail on the generated rows.

Read from the ups' parse trees: `ALTER TABLE t ALTER COLUMN c TYPE T`, without USING or with USING
a cast of the column itself; and a cast of a column in a SELECT from one table (qualified by the
table or its alias where there are several). Only types whose text form is known by name
(values.py), and enums a migration creates, whose labels the values take in turn.

JSON columns that a later migration reads as arrays (`address->>0`, `jsonb_array_elements(tags)`, in
an UPDATE of the table or a SELECT from it) get arrays the same way: MadNovOrg/test-blacksmith turns
`organization.address` from an array into its first element and back, which an object lost.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migration_check.data.catalog import Table
from migration_check.model import Migration
from migration_check.sql import readable_statements, trees

# What a JSON column read as an array is given (values.py writes an array of the usual object).
JSON_ARRAY = "json array"
ARRAY_FUNCTIONS = frozenset({"json_array_elements", "jsonb_array_elements", "json_array_elements_text",
                             "jsonb_array_elements_text", "json_array_length", "jsonb_array_length"})


@dataclass(frozen=True)
class LaterCast:
    table: str  # as PostgreSQL stores the name
    column: str
    type_name: str  # the target type's name as the parser reads it (int4, uuid, my_enum)
    labels: tuple[str, ...] = ()  # the enum's labels, where the type is an enum a migration creates


def later_casts(migrations: Iterable[Migration]) -> list[LaterCast]:
    """The casts of text columns to other types that the migrations' ups make."""
    # Only scripts whose text may hold one are parsed (most of a big project's hold none).
    scripts = [migration.up for migration in migrations if migration.up is not None
               and ("::" in migration.up.sql or "->" in migration.up.sql or "_array_" in migration.up.sql
                    or any(word in migration.up.sql.lower() for word in (" type ", "cast", "rename")))]
    enums: dict[str, tuple[str, ...]] = {}
    found: dict[tuple[str, str], str] = {}
    renamed: dict[str, set[str]] = {}  # a table's name -> the names it had before a RENAME
    columns_renamed: dict[tuple[str, str], set[str]] = {}  # (table, column) -> the column's earlier names
    for script in scripts:
        for statement in readable_statements(script):
            for raw in trees.statements(statement.sql):
                node = raw.stmt
                if isinstance(node, ast.CreateEnumStmt) and node.typeName:
                    enums.setdefault(_last(node.typeName), tuple(str(v.sval) for v in node.vals or ()))
                if (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE
                        and node.relation is not None and node.relation.relname and node.newname):
                    renamed.setdefault(node.newname, set()).add(node.relation.relname)
                if (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_COLUMN
                        and node.relation is not None and node.relation.relname and node.subname and node.newname):
                    columns_renamed.setdefault((node.relation.relname, node.newname), set()).add(node.subname)
                for table, column, type_name in [*_casts(node), *_json_arrays(node)]:
                    found.setdefault((table, column), type_name)
    # A table cast under the name a RENAME gave it has its rows made under the name it had
    # (goalert renames goalert_user to users, then casts users.role).
    for (table, column), type_name in list(found.items()):
        for earlier in _earlier_names(table, lambda name: renamed.get(name, set())):
            found.setdefault((earlier, column), type_name)
    # And a column under the name it had (test-blacksmith renames organization.addresses to address).
    for (table, column), type_name in list(found.items()):
        for earlier in _earlier_names(column, functools.partial(_column_renamed, columns_renamed, table)):
            found.setdefault((table, earlier), type_name)
    return [LaterCast(table, column, type_name, enums.get(type_name, ())) for (table, column), type_name in found.items()]


def _column_renamed(renamed: dict[tuple[str, str], set[str]], table: str, column: str) -> set[str]:
    return renamed.get((table, column), set())


def _earlier_names(name: str, before: Callable[[str], set[str]]) -> set[str]:
    """Every name `name` had before, through chains of RENAMEs (`before`: the names one had)."""
    names: set[str] = set()
    todo = [name]
    while todo:
        for earlier in before(todo.pop()) - names - {name}:
            names.add(earlier)
            todo.append(earlier)
    return names


def apply_later_casts(tables: list[Table], casts: list[LaterCast]) -> None:
    """Note on each column of `tables` that a later migration casts the type it is cast to."""
    if not casts:
        return
    by_table: dict[str, dict[str, LaterCast]] = {}
    for cast in casts:
        by_table.setdefault(cast.table, {})[cast.column] = cast
    for table in tables:
        wanted = by_table.get(table.relname)
        if not wanted:
            continue
        table.columns = [dataclasses.replace(column, later_type=wanted[column.name].type_name,
                                             later_labels=wanted[column.name].labels)
                         if column.name in wanted else column for column in table.columns]


def _casts(node: ast.Node | None) -> Iterator[tuple[str, str, str]]:
    """(table, column, type) for each cast of a column the statement makes."""
    if isinstance(node, ast.AlterTableStmt) and node.relation is not None and node.relation.relname:
        for command in node.cmds or ():
            if (isinstance(command, ast.AlterTableCmd) and command.subtype == AlterTableType.AT_AlterColumnType
                    and command.name and isinstance(command.def_, ast.ColumnDef) and command.def_.typeName):
                using = command.def_.raw_default
                if using is None or _cast_of(using, {"": node.relation.relname}) == (node.relation.relname, command.name):
                    yield node.relation.relname, command.name, _last(command.def_.typeName.names)
    yield from _select_casts(node)


def _select_casts(node: ast.Node | None) -> Iterator[tuple[str, str, str]]:
    """Casts of a column in the target lists of the SELECTs anywhere in the statement."""
    for select in trees.nodes_of(node, ast.SelectStmt) if node is not None else ():
        if not select.targetList or not select.fromClause:
            continue
        tables = _from_tables(select.fromClause)
        for target in select.targetList:
            value = getattr(target, "val", None)
            if isinstance(value, ast.TypeCast) and value.typeName is not None:
                found = _cast_of(value, tables)
                if found is not None:
                    yield found[0], found[1], _last(value.typeName.names)


def _from_tables(from_clause: tuple) -> dict[str, str]:
    """alias or name -> table, for the plain tables a FROM names; "" for the only one."""
    tables: dict[str, str] = {}
    for item in from_clause:
        if isinstance(item, ast.RangeVar) and item.relname:
            alias = item.alias.aliasname if item.alias is not None else None
            tables[alias or item.relname] = item.relname
    if len(tables) == 1 and len(from_clause) == 1:
        tables[""] = next(iter(tables.values()))
    return tables


def _cast_of(node: object, tables: dict[str, str]) -> tuple[str, str] | None:
    """(table, column) where `node` is a cast of a plain column of one of `tables`."""
    if not isinstance(node, ast.TypeCast) or not isinstance(node.arg, ast.ColumnRef):
        return None
    fields = [getattr(part, "sval", None) for part in node.arg.fields or ()]
    if any(part is None for part in fields) or not 1 <= len(fields) <= 2:
        return None
    qualifier, column = ("", fields[0]) if len(fields) == 1 else (fields[0], fields[1])
    table = tables.get(str(qualifier))
    return (table, str(column)) if table is not None else None


def _last(names: tuple | None) -> str:
    return str(getattr((names or (None,))[-1], "sval", "") or "")


def _json_arrays(node: ast.Node | None) -> Iterator[tuple[str, str, str]]:
    """(table, column, JSON_ARRAY) for each column of the table an UPDATE or a SELECT reads as a JSON
    array: an element by its position (`c->0`, `c->>0`) or the array functions."""
    if isinstance(node, ast.UpdateStmt) and node.relation is not None and node.relation.relname:
        yield from _array_reads(node, {"": node.relation.relname, node.relation.relname: node.relation.relname})
    for select in trees.nodes_of(node, ast.SelectStmt) if node is not None else ():
        if select.fromClause:
            yield from _array_reads(select, _from_tables(select.fromClause))


def _array_reads(node: ast.Node, tables: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    for expression in trees.nodes_of(node, ast.A_Expr):
        operator = _last(expression.name)
        if operator in ("->", "->>") and isinstance(expression.rexpr, ast.A_Const) \
                and isinstance(expression.rexpr.val, ast.Integer):
            found = _column_of(expression.lexpr, tables)
            if found is not None:
                yield found[0], found[1], JSON_ARRAY
    for call in trees.nodes_of(node, ast.FuncCall):
        if _last(call.funcname) in ARRAY_FUNCTIONS and call.args:
            found = _column_of(call.args[0], tables)
            if found is not None:
                yield found[0], found[1], JSON_ARRAY


def _column_of(node: object, tables: dict[str, str]) -> tuple[str, str] | None:
    """(table, column) of a plain column of one of `tables`, or of a cast of one (`address::json`)."""
    if isinstance(node, ast.TypeCast):
        return _cast_of(node, tables)
    return _cast_of(ast.TypeCast(arg=node), tables) if isinstance(node, ast.ColumnRef) else None
