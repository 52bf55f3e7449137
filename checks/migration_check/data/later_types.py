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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from migration_check.data.catalog import Table
from migration_check.model import Migration
from migration_check.sql import readable_statements, trees


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
               and ("::" in migration.up.sql or " type " in migration.up.sql.lower()
                    or "cast" in migration.up.sql.lower())]
    enums: dict[str, tuple[str, ...]] = {}
    found: dict[tuple[str, str], str] = {}
    renamed: dict[str, set[str]] = {}  # a table's name -> the names it had before a RENAME
    for script in scripts:
        for statement in readable_statements(script):
            for raw in trees.statements(statement.sql):
                node = raw.stmt
                if isinstance(node, ast.CreateEnumStmt) and node.typeName:
                    enums.setdefault(_last(node.typeName), tuple(str(v.sval) for v in node.vals or ()))
                if (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE
                        and node.relation is not None and node.relation.relname and node.newname):
                    renamed.setdefault(node.newname, set()).add(node.relation.relname)
                for table, column, type_name in _casts(node):
                    found.setdefault((table, column), type_name)
    # A table cast under the name a RENAME gave it has its rows made under the name it had
    # (goalert renames goalert_user to users, then casts users.role).
    for (table, column), type_name in list(found.items()):
        for earlier in _earlier_names(table, renamed):
            found.setdefault((earlier, column), type_name)
    return [LaterCast(table, column, type_name, enums.get(type_name, ())) for (table, column), type_name in found.items()]


def _earlier_names(table: str, renamed: dict[str, set[str]]) -> set[str]:
    names: set[str] = set()
    todo = [table]
    while todo:
        for earlier in renamed.get(todo.pop(), set()) - names - {table}:
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
