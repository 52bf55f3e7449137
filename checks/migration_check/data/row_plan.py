"""How each row of a table is made (data/fill.py inserts them): the columns given, and each one's
value for row i, from values.py, a foreign key's parent rows, a partition's bounds."""

from __future__ import annotations

from dataclasses import dataclass

from migration_check.data import catalog
from migration_check.data.catalog import Column, Table, TypeInfo
from migration_check.data.values import value
from migration_check.sql.prepared import quote_literal

# Enough rows that every label of an enum appears, within reason.
MAX_ROWS = 20
# One nullable value in this many is NULL: mostly values, as in a real table.
NULL_EVERY = 5


@dataclass(frozen=True)
class RowPlan:
    """How each row of a table is made: the columns given, and their value for row i (SQL text:
    the names are quoted already, the values are quote_literal's)."""

    table: Table
    columns: list[Column]
    types: dict[int, TypeInfo]
    references: dict[str, tuple[catalog.ForeignKey, int]]  # column -> its foreign key, position in it
    # Each foreign key's parent rows, read before the INSERT (fill.py's _parent_keys): their key columns as
    # typed literals, in key order. Without them (a table that references itself), a subquery per cell.
    parent_keys: dict[catalog.ForeignKey, list[list[str]]] | None = None

    def row(self, i: int, nulls: bool = False, defaults: bool = False, versions: bool = False,
            apart: bool = False, alone: bool = False) -> str:
        """Row i. `apart`: the keys into one parent table take different parent rows (a CHECK that
        two references differ); `alone`: of the nullable columns, keys included, only one holds a
        value, a different one in each row (a CHECK that exactly one of several references is set)."""
        kept = None
        if alone:
            nullable = [column.quoted for column in self.columns if not column.not_null]
            kept = nullable[i % len(nullable)] if nullable else None
        return "(" + ", ".join([self._cell(column, i, nulls, defaults, versions, apart, kept)
                                for column in self.columns]) + ")"

    def _cell(self, column: Column, i: int, nulls: bool, defaults: bool, versions: bool, apart: bool,
              kept: str | None) -> str:
        partitions = self.table.partitions
        routed = partitions[i % len(partitions)].get(column.quoted) if partitions else None
        if routed is not None:
            return f"{quote_literal(routed)}::{column.type_text}"
        if kept is not None and not column.not_null and column.quoted != kept:
            return "NULL"
        reference = self.references.get(column.quoted)
        if reference is not None:
            fk, position = reference
            row = i
            if apart:  # the k-th key into its parent table takes the parent row k further on
                keys = self.table.foreign_keys
                row += sum(1 for other in keys[:keys.index(fk)] if other.parent == fk.parent)
            parents = self.parent_keys[fk] if self.parent_keys is not None else None
            if parents:
                return parents[row % len(parents)][position]
            if not fk.later:  # (a key a later migration adds, with no parent rows to take: a value of its own)
                return parent_key(fk, position, row) if parents is None else f"NULL::{column.type_text}"
        if defaults and column.has_default:
            return "DEFAULT"
        if not column.not_null and (nulls or i % NULL_EVERY == NULL_EVERY - 1):
            return "NULL"
        text = value(column, self.types, i, versions)
        if text is None:
            return "DEFAULT" if column.has_default else "NULL"
        return f"{quote_literal(text)}::{column.type_text}"


def plan_rows(table: Table, types: dict[int, TypeInfo]) -> RowPlan | str:
    references = {column: (fk, index) for fk in reversed(table.foreign_keys) for index, column in enumerate(fk.columns)}
    columns = []
    for column in table.columns:
        if column.server_fills:
            continue
        if column.quoted not in references and value(column, types, 0) is None and column.not_null and not column.has_default:
            return f"no value can be generated for column {column.quoted} of type {column.type_text}"
        columns.append(column)
    return RowPlan(table, columns, types, references)


def parent_key(fk: catalog.ForeignKey, position: int, i: int) -> str:
    """Column `position` of the key of parent row i (cycling through the parent's rows, in key order)."""
    order = ", ".join(f"p.{column}" for column in fk.parent_columns)
    return (f"(SELECT p.{fk.parent_columns[position]} FROM {fk.parent} p ORDER BY {order}"
            f" LIMIT 1 OFFSET {i} % greatest((SELECT count(*) FROM {fk.parent}), 1))")


def row_count(table: Table, types: dict[int, TypeInfo], rows: int) -> int:
    wanted = [len(_enum_labels(column.type_oid, types)) for column in table.columns] + [len(table.partitions)]
    return max(rows, min(MAX_ROWS, max(wanted)))


def _enum_labels(type_oid: int, types: dict[int, TypeInfo]) -> tuple[str, ...]:
    info = types.get(type_oid)
    while info is not None and info.kind == "d":
        info = types.get(info.base)
    return info.labels if info is not None else ()


def insert_sql(plan: RowPlan, rows: list[str]) -> str:
    if not plan.columns:
        return f"INSERT INTO {plan.table.name} DEFAULT VALUES ON CONFLICT DO NOTHING"
    names = ", ".join(column.quoted for column in plan.columns)
    return f"INSERT INTO {plan.table.name} ({names}) VALUES {', '.join(rows)} ON CONFLICT DO NOTHING"
