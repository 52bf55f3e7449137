"""Small readers of pglast parse nodes that several rules share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast import ast
from pglast.enums import ConstrType

from migration_check.sql.trees import nodes_of


def constraints(column: ast.ColumnDef) -> list[ast.Constraint]:
    return [c for c in column.constraints or () if isinstance(c, ast.Constraint)]


def has_constraint(column: ast.ColumnDef, *kinds: ConstrType) -> bool:
    return any(c.contype in kinds for c in constraints(column))


def default_of(column: ast.ColumnDef) -> ast.Node | None:
    return next((c.raw_expr for c in constraints(column) if c.contype == ConstrType.CONSTR_DEFAULT), None)


def dotted(names: Iterable[Any] | None) -> str:
    """`public.orders`: a qualified name the parser gives as a list of String nodes."""
    return ".".join(str(part.sval) for part in names or ())


def type_name(type_: ast.TypeName | None) -> str:
    """`int4`, `varchar`, `timestamp`: the last part of the type's name."""
    if type_ is None or not type_.names:
        return ""
    return str(getattr(type_.names[-1], "sval", ""))


def column_types(node: ast.Node) -> list[tuple[str, ast.TypeName]]:
    """(column, type) of every column a CREATE TABLE or ALTER TABLE defines or retypes."""
    found: list[tuple[str, ast.TypeName]] = []
    if isinstance(node, ast.CreateStmt):
        found += [(str(e.colname), e.typeName) for e in node.tableElts or () if isinstance(e, ast.ColumnDef) and e.typeName]
    elif isinstance(node, ast.AlterTableStmt):
        for command in node.cmds or ():
            definition = getattr(command, "def_", None)
            if isinstance(definition, ast.ColumnDef) and definition.typeName is not None:
                found.append((str(definition.colname or getattr(command, "name", "")), definition.typeName))
    return found


def has_star(node: ast.Node | None) -> bool:
    """Whether a query selects `*` somewhere (`SELECT *`, `t.*`), which PostgreSQL expands to
    the columns of the moment the view or table is made."""
    return node is not None and next(nodes_of(node, ast.A_Star), None) is not None


def output_names(query: ast.Node | None) -> list[str]:
    """The names of the columns a SELECT gives (its alias, else the column it reads), in order;
    of a UNION and the like, its first branch's."""
    while isinstance(query, ast.SelectStmt) and query.larg is not None:
        query = query.larg
    if not isinstance(query, ast.SelectStmt):
        return []
    names = []
    for target in query.targetList or ():
        if getattr(target, "name", None):
            names.append(str(target.name))
        elif isinstance(target.val, ast.ColumnRef) and target.val.fields:
            names.append(str(getattr(target.val.fields[-1], "sval", "*")))
        else:
            names.append("?column?")
    return names
