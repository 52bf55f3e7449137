"""What Kysely's schema builder sends to PostgreSQL, written as its DefaultQueryCompiler writes it
(kysely src/query-compiler/default-query-compiler.ts; PostgresQueryCompiler only doubles `"` in an
identifier): `db.schema.createTable('users').addColumn('id', 'serial', (col) => col.primaryKey())
.execute()` sends `create table "users" ("id" serial primary key)`.

A chain arrives as calls (kysely_reading.py): each builder method with its arguments' values; a
callback (a column's, an alteration's, a foreign key's) as the calls it makes on its parameter;
`sql` templates as Expression. A chain that never calls `.execute()` sends nothing. What Kysely
throws while it builds (a data type it does not know, written as a string) is Refused: the run
fails there, as Kysely's does. What this writer does not write is Unwritable: code the replay does
not run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from migration_check.discovery.js_values import Expression, Unwritable

Call = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Callback:
    """A builder callback (`(col) => col.notNull().unique()`): the calls it makes on its parameter."""

    calls: tuple[Call, ...]


class Refused(Exception):
    """What Kysely throws as it builds a query: nothing is sent, and the migration fails."""


# data-type-node.ts: the types Kysely takes as a string; any other must be written as sql`...`.
SIMPLE_TYPES = frozenset({
    "varchar", "char", "text", "integer", "int2", "int4", "int8", "smallint", "bigint", "boolean", "real",
    "double precision", "float4", "float8", "decimal", "numeric", "binary", "bytea", "date", "datetime", "time",
    "timetz", "timestamp", "timestamptz", "serial", "bigserial", "uuid", "json", "jsonb", "datetime2", "blob",
    "varbinary", "int4range", "int4multirange", "int8range", "int8multirange", "numrange", "nummultirange", "tsrange",
    "tsmultirange", "tstzrange", "tstzmultirange", "daterange", "datemultirange",
})
SIZED_TYPES = tuple(re.compile(pattern) for pattern in (
    r"^varchar\(\d+\)$", r"^char\(\d+\)$", r"^decimal\(\d+, \d+\)$", r"^numeric\(\d+, \d+\)$", r"^binary\(\d+\)$",
    r"^datetime\(\d+\)$", r"^time\(\d+\)$", r"^timetz\(\d+\)$", r"^timestamp\(\d+\)$", r"^timestamptz\(\d+\)$",
    r"^datetime2\(\d+\)$", r"^varbinary\(\d+\)$"))


def identifier(name: Any) -> str:
    if not isinstance(name, str):
        raise Unwritable(f"the name {name!r}")
    return '"' + name.replace('"', '""') + '"'


def dotted(name: str) -> str:
    """A reference as Kysely writes one (`sql.ref('a.b')`, a `where` column): each part quoted."""
    return ".".join(identifier(part) for part in name.split("."))


def table(name: Any, schema: str | None = None) -> str:
    """parseTable: `schema.table` split at its dot; else in the schema `withSchema` gave."""
    if not isinstance(name, str):
        raise Unwritable(f"the table {name!r}")
    if "." in name:
        owner, own = (part.strip() for part in name.split(".")[:2])
        return f"{identifier(owner)}.{identifier(own)}"
    return f"{identifier(schema)}.{identifier(name)}" if schema else identifier(name)


def value(given: Any) -> str:
    """An immediate value (appendImmediateValue), or the SQL of an expression."""
    if isinstance(given, Expression):
        return given.text
    if isinstance(given, bool):
        return "true" if given else "false"
    if given is None:
        return "null"
    if isinstance(given, (int, float)):
        return str(int(given)) if isinstance(given, float) and given.is_integer() else str(given)
    if isinstance(given, str):
        return "'" + given.replace("'", "''") + "'"
    raise Unwritable(f"the value {given!r}")


def data_type(given: Any) -> str:
    if isinstance(given, Expression):
        return given.text
    if isinstance(given, str) and (given in SIMPLE_TYPES or any(p.match(given) for p in SIZED_TYPES)):
        return given
    written = f"sql`{given}`" if isinstance(given, str) else "a sql`...` template"
    raise Refused(f"invalid column data type {json.dumps(given)} (a type Kysely does not list is written as {written})")


def ordered(column: Any) -> str:
    """parseOrderedColumnName: `name` or `name desc`."""
    if isinstance(column, Expression):
        return column.text
    if not isinstance(column, str):
        raise Unwritable(f"the column {column!r}")
    name, _, direction = column.strip().partition(" ")
    return identifier(name) + (f" {direction.strip()}" if direction.strip() in ("asc", "desc") else "")


def columns(given: Any) -> str:
    return ", ".join(identifier(c) for c in (given if isinstance(given, list) else [given]))


def callback_calls(given: tuple[Any, ...], at: int) -> tuple[Call, ...]:
    if len(given) <= at:
        return ()
    if not isinstance(given[at], Callback):
        raise Unwritable("a builder callback this check does not read")
    return given[at].calls


def references(ref: Any) -> str:
    """`table.column` or `schema.table.column`, as ColumnDefinitionBuilder.references parses it."""
    parts = ref.split(".") if isinstance(ref, str) else []
    if len(parts) not in (2, 3):
        raise Refused(f"invalid call references('{ref}'). The reference must have format table.column or"
                      " schema.table.column")
    owner = ".".join(identifier(p.strip()) for p in parts[:-1])
    return f"references {owner} ({identifier(parts[-1].strip())})"


def column_definition(given: tuple[Any, ...]) -> str:
    """`addColumn(name, type, build?)`, as visitColumnDefinition writes it (its fixed order)."""
    if len(given) < 2:
        raise Unwritable("addColumn without a name and a type")
    found: dict[str, str] = {}
    ends: dict[str, list[str]] = {"modifyFront": [], "modifyEnd": [], "references": []}
    for method, arguments in callback_calls(given, 2):
        if method in ("primaryKey", "notNull", "unique", "nullsNotDistinct", "unsigned", "identity", "ifNotExists",
                      "autoIncrement"):
            found[method] = ""
        elif method == "defaultTo" and len(arguments) == 1:
            found[method] = "default " + value(arguments[0])
        elif method == "references" and len(arguments) == 1:
            ends["references"] = [references(arguments[0])]
        elif method in ("onDelete", "onUpdate") and len(arguments) == 1 and ends["references"]:
            ends["references"].append(f"on {method[2:].lower()} {arguments[0]}")
        elif method == "generatedAlwaysAsIdentity":
            found["generated"] = "generated always as identity"
        elif method == "generatedByDefaultAsIdentity":
            found["generated"] = "generated by default as identity"
        elif method == "generatedAlwaysAs" and len(arguments) == 1:
            found["generated"] = f"generated always as ({value(arguments[0])})"
        elif method == "stored" and "generated" in found:
            found["generated"] += " stored"
        elif method == "check" and len(arguments) == 1:
            found["check"] = f"check ({value(arguments[0])})"
        elif method in ("modifyFront", "modifyEnd") and len(arguments) == 1:
            ends[method].append(value(arguments[0]))
        else:
            raise Unwritable(f"a column's {method}")
    parts = [("if not exists " if "ifNotExists" in found else "") + identifier(given[0]), data_type(given[1])]
    parts += ["unsigned"] * ("unsigned" in found) + ends["modifyFront"]
    parts += [found[key] for key in ("generated",) if key in found] + ["identity"] * ("identity" in found)
    parts += [found[key] for key in ("defaultTo",) if key in found]
    parts += [words for key, words in (("notNull", "not null"), ("unique", "unique"), ("nullsNotDistinct",
              "nulls not distinct"), ("primaryKey", "primary key"), ("autoIncrement", "auto_increment")) if key in found]
    parts += [" ".join(ends["references"])] * bool(ends["references"])
    parts += [found[key] for key in ("check",) if key in found] + ends["modifyEnd"]
    return " ".join(parts)


def _deferrable(calls: tuple[Call, ...]) -> str:
    said = {method for method, _ in calls}
    text = " deferrable" if "deferrable" in said else " not deferrable" if "notDeferrable" in said else ""
    return text + (" initially deferred" if "initiallyDeferred" in said
                   else " initially immediate" if "initiallyImmediate" in said else "")


def constraint(method: str, given: tuple[Any, ...]) -> str:
    """A table constraint of createTable or `add ...` of alterTable."""
    named = f"constraint {identifier(given[0])} " if given and given[0] else ""
    if method == "addPrimaryKeyConstraint" and len(given) >= 2:
        return f"{named}primary key ({columns(given[1])}){_deferrable(callback_calls(given, 2))}"
    if method == "addUniqueConstraint" and len(given) >= 2:
        calls = callback_calls(given, 2)
        nulls = " nulls not distinct" if any(m == "nullsNotDistinct" for m, _ in calls) else ""
        return f"{named}unique{nulls} ({columns(given[1])}){_deferrable(calls)}"
    if method == "addCheckConstraint" and len(given) >= 2:
        return f"{named}check ({value(given[1])})"
    if method == "addForeignKeyConstraint" and len(given) >= 4:
        calls = callback_calls(given, 4)
        actions = "".join(f" on {m[2:].lower()} {a[0]}" for m, a in calls if m in ("onDelete", "onUpdate") and a)
        return (f"{named}foreign key ({columns(given[1])}) references {table(given[2])} ({columns(given[3])})"
                f"{actions}{_deferrable(calls)}")
    raise Unwritable(f"{method} with these arguments")


CONSTRAINTS = frozenset({"addPrimaryKeyConstraint", "addUniqueConstraint", "addCheckConstraint",
                         "addForeignKeyConstraint"})


def create_table(given: tuple[Any, ...], rest: list[Call], schema: str | None) -> str:
    items: list[str] = []
    said: dict[str, str] = {}
    front: list[str] = []
    end: list[str] = []
    for method, arguments in rest:
        if method == "addColumn":
            items.append(column_definition(arguments))
        elif method in CONSTRAINTS:
            items.append(constraint(method, arguments))
        elif method in ("ifNotExists", "temporary"):
            said[method] = ""
        elif method == "onCommit" and len(arguments) == 1:
            said[method] = f" on commit {arguments[0]}"
        elif method in ("modifyFront", "modifyEnd") and len(arguments) == 1:
            (front if method == "modifyFront" else end).append(value(arguments[0]))
        else:
            raise Unwritable(f"createTable(...).{method}")
    return ("create " + "".join(f"{f} " for f in front) + "temporary " * ("temporary" in said) + "table "
            + "if not exists " * ("ifNotExists" in said) + table(given[0] if given else None, schema)
            + f" ({', '.join(items)})" + said.get("onCommit", "") + "".join(f" {e}" for e in end))


def alter_table(given: tuple[Any, ...], rest: list[Call], schema: str | None) -> str:
    head = f"alter table {table(given[0] if given else None, schema)} "
    alterations: list[str] = []
    for method, arguments in rest:
        if method == "renameTo" and len(arguments) == 1:
            return head + f"rename to {identifier(arguments[0])}"
        if method == "setSchema" and len(arguments) == 1:
            return head + f"set schema {identifier(arguments[0])}"
        if method in CONSTRAINTS:
            return head + "add " + constraint(method, arguments)
        if method == "dropConstraint" and len(arguments) == 1:
            return head + _drop_constraint(arguments[0], rest[rest.index((method, arguments)) + 1:])
        if method == "renameConstraint" and len(arguments) == 2:
            return head + f"rename constraint {identifier(arguments[0])} to {identifier(arguments[1])}"
        alterations.append(_alteration(method, arguments))
    if not alterations:
        raise Unwritable("alterTable with nothing to alter")
    return head + ", ".join(alterations)


def _drop_constraint(name: Any, after: list[Call]) -> str:
    said = {method for method, _ in after}
    return ("drop constraint " + "if exists " * ("ifExists" in said) + identifier(name)
            + " cascade" * ("cascade" in said) + " restrict" * ("restrict" in said and "cascade" not in said))


def _alteration(method: str, arguments: tuple[Any, ...]) -> str:
    if method == "addColumn":
        return "add column " + column_definition(arguments)
    if method == "dropColumn" and len(arguments) == 1:
        return f"drop column {identifier(arguments[0])}"
    if method == "renameColumn" and len(arguments) == 2:
        return f"rename column {identifier(arguments[0])} to {identifier(arguments[1])}"
    if method == "alterColumn" and len(arguments) == 2:
        changes = []
        for change, given in callback_calls(arguments, 1):
            if change == "setDataType" and len(given) == 1:
                changes.append("type " + data_type(given[0]))
            elif change == "setDefault" and len(given) == 1:
                changes.append("set default " + value(given[0]))
            elif change in ("dropDefault", "setNotNull", "dropNotNull"):
                changes.append({"dropDefault": "drop default", "setNotNull": "set not null",
                                "dropNotNull": "drop not null"}[change])
            else:
                raise Unwritable(f"alterColumn(...).{change}")
        if len(changes) != 1:
            raise Unwritable("alterColumn with more or less than one change")  # (Kysely keeps the last)
        return f"alter column {identifier(arguments[0])} {changes[0]}"
    raise Unwritable(f"alterTable(...).{method}")


def create_index(given: tuple[Any, ...], rest: list[Call], schema: str | None) -> str:
    said: dict[str, str] = {}
    listed: list[str] = []
    for method, arguments in rest:
        if method in ("unique", "ifNotExists", "nullsNotDistinct"):
            said[method] = ""
        elif method == "on" and len(arguments) == 1:
            said["on"] = f" on {table(arguments[0], schema)}"
        elif method == "using" and len(arguments) == 1:
            said["using"] = f" using {arguments[0] if isinstance(arguments[0], str) else value(arguments[0])}"
        elif method in ("column", "expression") and len(arguments) == 1:
            listed.append(ordered(arguments[0]))
        elif method == "columns" and len(arguments) == 1 and isinstance(arguments[0], list):
            listed += [ordered(c) for c in arguments[0]]
        elif method == "where" and len(arguments) == 1:
            said["where"] = f" where {value(arguments[0])}"
        elif method == "where" and len(arguments) == 3 and isinstance(arguments[1], str):
            said["where"] = f" where {ordered(arguments[0])} {arguments[1]} {value(arguments[2])}"
        else:
            raise Unwritable(f"createIndex(...).{method}")
    return ("create " + "unique " * ("unique" in said) + "index " + "if not exists " * ("ifNotExists" in said)
            + identifier(given[0] if given else None) + said.get("on", "") + said.get("using", "")
            + (f" ({', '.join(listed)})" if listed else "") + " nulls not distinct" * ("nullsNotDistinct" in said)
            + said.get("where", ""))


def _drop(kind: str, schemable: bool = True) -> Callable[[tuple[Any, ...], list[Call], str | None], str]:
    """dropTable, dropView, dropType (a name in a schema), dropIndex, dropSchema (a name alone)."""
    def write(given: tuple[Any, ...], rest: list[Call], schema: str | None) -> str:
        said = {method for method, _ in rest}
        if said - {"ifExists", "cascade", "materialized", "temporary"} or not given:
            raise Unwritable(f"drop {kind} with {', '.join(sorted(said))}")
        what = ("materialized " * ("materialized" in said) + "temporary " * ("temporary" in said and kind == "table")
                + kind)
        names = ", ".join(table(item, schema) if schemable else identifier(item) for item in given)
        return f"drop {what} " + "if exists " * ("ifExists" in said) + names + " cascade" * ("cascade" in said)
    return write


def create_type(given: tuple[Any, ...], rest: list[Call], schema: str | None) -> str:
    if [method for method, _ in rest] != ["asEnum"] or not isinstance(labels := rest[0][1][0], list):
        raise Unwritable("createType other than asEnum([...])")
    return f"create type {table(given[0], schema)} as enum ({', '.join(value(label) for label in labels)})"


def create_view(given: tuple[Any, ...], rest: list[Call], schema: str | None) -> str:
    said: dict[str, str] = {}
    for method, arguments in rest:
        if method in ("orReplace", "materialized", "temporary", "ifNotExists"):
            said[method] = ""
        elif method == "columns" and len(arguments) == 1 and isinstance(arguments[0], list):
            said["columns"] = f"({columns(arguments[0])}) "
        elif method == "as" and len(arguments) == 1 and isinstance(arguments[0], Expression):
            said["as"] = "as " + arguments[0].text
        else:
            raise Unwritable(f"createView(...).{method} (a query built with Kysely's query builder)"
                             if method == "as" else f"createView(...).{method}")
    return ("create " + "or replace " * ("orReplace" in said) + "materialized " * ("materialized" in said)
            + "temporary " * ("temporary" in said) + "view " + "if not exists " * ("ifNotExists" in said)
            + table(given[0] if given else None, schema) + " " + said.get("columns", "") + said.get("as", ""))


def create_schema(given: tuple[Any, ...], rest: list[Call], schema: str | None) -> str:
    if {method for method, _ in rest} - {"ifNotExists"}:
        raise Unwritable("createSchema with more than ifNotExists")
    return "create schema " + "if not exists " * bool(rest) + identifier(given[0] if given else None)


WRITERS: dict[str, Callable[[tuple[Any, ...], list[Call], str | None], str]] = {
    "createTable": create_table, "alterTable": alter_table, "createIndex": create_index, "createType": create_type,
    "createView": create_view, "createSchema": create_schema,
    "dropTable": _drop("table"), "dropIndex": _drop("index", schemable=False), "dropView": _drop("view"),
    "dropType": _drop("type"), "dropSchema": _drop("schema", schemable=False),
}


def schema_statement(calls: list[Call]) -> str | None:
    """The statement a `db.schema` chain sends, None where it sends none (no `.execute()` at its end)."""
    schema = None
    if calls and calls[0][0] == "withSchema" and len(calls[0][1]) == 1 and isinstance(calls[0][1][0], str):
        schema, calls = calls[0][1][0], calls[1:]
    if not calls or calls[-1][0] != "execute":
        return None
    (first, given), rest = calls[0], calls[1:-1]
    writer = WRITERS.get(first)
    if writer is None:
        raise Unwritable(f"schema.{first}")
    return writer(given, rest, schema)
