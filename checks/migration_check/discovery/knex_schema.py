"""knex's schema builder, written as its PostgreSQL client writes it (knex's lib/schema/*.js and
lib/dialects/postgres/schema/*.js): the table a `createTable` or `alterTable` callback describes,
and the statements knex sends for it, in knex's order. A call this does not write as knex would
raises Unwritable, naming it; the migration is then skipped, never replayed as something else.

- `createTable`: every `add` column in one CREATE TABLE (a table `primary()` as its constraint,
  `<table>_pkey` unless named), native enum types created before it, then each column's comment,
  then the table's other statements (indexes, uniques, foreign keys) in the order they were called.
- `alterTable` (`table`): the new columns in one ALTER TABLE, then each `.alter()`ed column (its
  default dropped, its NOT NULL dropped, its type changed with a cast, its default and NOT NULL
  set again), then the rest in order.
- Unnamed indexes and constraints are named `<table>_<columns>_<index|unique|foreign>`, lower
  case, as knex names them; a column's `.index()`, `.unique()`, `.primary()` and `.references()`
  are the table's, and are ignored on an increments column, as knex ignores them there.
- Defaults are knex's `formatDefault`: strings and numbers quoted (`'0'`), booleans `'1'`/`'0'`,
  `knex.fn.now()` as `CURRENT_TIMESTAMP`, `knex.raw('...')` as written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from migration_check.discovery.js_values import Unwritable, js_string, sql_scalar
from migration_check.sql.prepared import quote_identifier, quote_literal


@dataclass(frozen=True)
class Raw:
    """`knex.raw('...')`, `knex.fn.now()`: SQL knex writes as it is."""

    sql: str


@dataclass
class Column:
    kind: str  # knex's type, lower case (varchar for string, enu for enum, bool for boolean)
    arguments: list[Any]
    modifiers: dict[str, list[Any]] = field(default_factory=dict)
    method: str = "add"  # alter: `.alter()`
    at: object = None  # where the reader found it (statements written for it are placed there)
    alter: tuple[bool, bool] = (True, True)  # `.alter({alterNullable, alterType})`

    @property
    def name(self) -> str:
        if self.arguments and isinstance(self.arguments[0], str):
            return self.arguments[0]
        if "increments" in self.kind:
            return "id"
        raise Unwritable(f"a {self.kind} column without a name")


@dataclass
class Table:
    name: str
    method: str  # create, createIfNot, alter
    schema: str | None = None
    columns: list[Column] = field(default_factory=list)
    # knex's "alterTable" group: (method, arguments, where the reader found it)
    statements: list[tuple[str, list[Any], object]] = field(default_factory=list)
    comment: str | None = None


ALIASES = {"float": "floating", "enum": "enu", "boolean": "bool", "string": "varchar", "bigint": "biginteger",
           "int": "integer", "datetime": "datetime", "timestamp": "timestamp"}
SIMPLE_TYPES = {"integer": "integer", "smallint": "smallint", "tinyint": "smallint", "mediumint": "integer",
                "biginteger": "bigint", "text": "text", "bool": "boolean", "date": "date", "time": "time",
                "binary": "bytea", "double": "double precision", "floating": "real", "real": "real", "json": "json",
                "jsonb": "jsonb", "geometry": "geometry", "geography": "geography", "point": "point",
                "tinytext": "text", "mediumtext": "text", "longtext": "text"}
COLUMN_TYPES = frozenset({*SIMPLE_TYPES, *ALIASES, "varchar", "decimal", "datetime", "timestamp", "increments",
                          "bigincrements", "uuid", "enu", "specifictype"})
FOREIGN_ACTIONS = ("onDelete", "onUpdate", "deferrable")


def wrap(name: str) -> str:
    """knex's identifier quoting: each dotted part in double quotes (`public.users` -> `"public"."users"`)."""
    if name == "*":
        return name
    return ".".join(quote_identifier(part) for part in name.split("."))


def columnize(columns: Any) -> str:
    return ", ".join(wrap(c) for c in (columns if isinstance(columns, list) else [columns]))


def escape(value: Any) -> str:
    """knex's PostgreSQL `_escapeBinding`: NULL, true/false, numbers bare, strings quoted (E'' with a backslash)."""
    if (scalar := sql_scalar(value)) is not None:
        return scalar
    if isinstance(value, Raw):
        return value.sql
    if not isinstance(value, str):
        raise Unwritable(f"value {value!r}")
    return quote_literal(value).lstrip()  # PQescapeLiteral's rule, which knex's escapeString follows


def format_default(value: Any, kind: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, Raw):
        return value.sql
    if kind == "bool":
        return "'1'" if value not in (False, 0, "", "false") else "'0'"
    if kind in ("json", "jsonb") and isinstance(value, (dict, list)):
        return "'" + json.dumps(value, separators=(",", ":")) + "'"
    return escape(js_string(value))


def index_name(kind: str, table: str, columns: Any) -> str:
    """knex's `_indexCommand`: `<table>_<columns>_<kind>`, lower case, `.` and `-` of the table as `_`."""
    listed = columns if isinstance(columns, list) else [columns] if columns else []
    table_part = table.replace(".", "_").replace("-", "_")
    return wrap(f"{table_part}_{'_'.join(str(c) for c in listed)}_{kind}".lower())


class TableWriter:
    """One table builder's statements, as knex's TableCompiler_PG sends them."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.sequence: list[tuple[str, object]] = []  # (statement, where it comes from: None, the table's call)

    def qualified(self) -> str:
        return wrap(f"{self.table.schema}.{self.table.name}" if self.table.schema else self.table.name)

    def write(self) -> list[tuple[str, object]]:
        if self.table.method in ("create", "createIfNot"):
            self.create()
        else:
            self.alter()
        return self.sequence

    def create(self) -> None:
        columns = [self.column(c) for c in self.table.columns if c.method == "add"]
        primary = next((args for method, args, _ in self.table.statements if method == "primary"), None)
        inner = ", ".join(sql for sql, _, _ in columns) + (self.primary_constraint(primary) if primary else "")
        start = "create table if not exists " if self.table.method == "createIfNot" else "create table "
        created = f"{start}{self.qualified()} ({inner})"
        before = [q for _, (first, _after), _ in columns for q in first]
        self.sequence += [(q, None) for q in before] + [(created, None)]
        if self.table.comment is not None:
            self.sequence.append((f"comment on table {self.qualified()} is '{self.table.comment}'", None))
        self.sequence += self.after(columns)
        self.statements(skip_primary=True)

    def alter(self) -> None:
        added = [self.column(c) for c in self.table.columns if c.method == "add"]
        if added:
            self.sequence.append((f"alter table {self.qualified()} " + ", ".join(f"add column {sql}" for sql, _, _ in added),
                                  added[0][2]))  # at its first column
        altered = [c for c in self.table.columns if c.method == "alter"]
        for column in altered:
            self.alter_column(column)
        # knex unshifts what must come first (a native enum's type) to the front of the table's statements
        self.sequence[:0] = [(q, None) for _, (first, _after), _ in added for q in first]
        self.sequence += self.after(added)
        self.statements(skip_primary=False)
        if self.table.comment is not None:
            self.sequence.append((f"comment on table {self.qualified()} is '{self.table.comment}'", None))

    def after(self, written: list[tuple[str, tuple[list[str], list[str]], object]]) -> list[tuple[str, object]]:
        return [(q, at) for _, (_first, after), at in written for q in after]

    def primary_constraint(self, args: list[Any]) -> str:
        columns, given = args[0], args[1] if len(args) > 1 else None
        name, deferrable = given, None
        if isinstance(given, dict):
            if set(given) - {"constraintName", "deferrable"}:
                raise Unwritable("primary with options")
            name, deferrable = given.get("constraintName"), given.get("deferrable")
        return (f", constraint {wrap(name) if name else wrap(self.table.name + '_pkey')} primary key ({columnize(columns)})"
                f"{f' deferrable initially {deferrable}' if deferrable else ''}")

    def column(self, column: Column) -> tuple[str, tuple[list[str], list[str]], object]:
        """The column's definition, and the statements knex sends before and after its table's."""
        before: list[str] = []
        kind = self.column_type(column, before)
        modifiers = []
        increments = "increments" in column.kind
        for modifier in ("nullable", "defaultTo", "comment", "checkPositive", "checkNegative", "checkIn", "checkNotIn"):
            if modifier not in column.modifiers or (increments and modifier != "comment"):
                continue
            given = column.modifiers[modifier]
            if modifier == "nullable":
                modifiers.append("not null" if given and given[0] is False else "null")
            elif modifier == "defaultTo":
                modifiers.append(f"default {format_default(given[0] if given else None, column.kind)}")
            elif modifier.startswith("check"):
                modifiers.append(self.check(column, modifier, given))
        after = []
        if "comment" in column.modifiers:
            text = column.modifiers["comment"][0] if column.modifiers["comment"] else None
            escaped = "'" + text.replace("'", "''") + "'" if text else "NULL"
            after.append(f"comment on column {self.qualified()}.{wrap(column.name)} is {escaped}")
        return f"{wrap(column.name)} {kind}{''.join(' ' + m for m in modifiers)}", (before, after), column.at

    def column_type(self, column: Column, before: list[str]) -> str:
        kind, given = column.kind, column.arguments[1:]
        if kind in SIMPLE_TYPES:
            return SIMPLE_TYPES[kind]
        if kind == "varchar":
            return f"varchar({_number(given[0] if given else None, 255)})"
        if kind == "decimal":
            if given and given[0] is None:
                return "decimal"
            return f"decimal({_number(given[0] if given else None, 8)}, {_number(given[1] if len(given) > 1 else None, 2)})"
        if kind in ("datetime", "timestamp"):
            return _datetime(given)
        if kind in ("increments", "bigincrements"):
            options = given[0] if given and isinstance(given[0], dict) else {"primaryKey": True}
            primary = options.get("primaryKey", False) and not any(m == "primary" for m, _, _ in self.table.statements)
            return ("serial" if kind == "increments" else "bigserial") + (" primary key" if primary else "")
        if kind == "uuid":
            options = given[0] if given and isinstance(given[0], dict) else {}
            primary = options.get("primaryKey", False) and not any(m == "primary" for m, _, _ in self.table.statements)
            return "uuid" + (" primary key" if primary else "")
        if kind == "specifictype":
            if not given or not isinstance(given[0], str):
                raise Unwritable("specificType without a type")
            return given[0]
        if kind == "enu":
            return self.enum_type(column, given, before)
        raise Unwritable(f"a {column.kind} column")

    def enum_type(self, column: Column, given: list[Any], before: list[str]) -> str:
        allowed = given[0] if given else []
        options = given[1] if len(given) > 1 and isinstance(given[1], dict) else {}
        if not isinstance(allowed, list) and not (options.get("useNative") and options.get("existingType")):
            raise Unwritable("enum values that are not a list")
        values = "', '".join(js_string(v) for v in allowed) if isinstance(allowed, list) else ""
        if options.get("useNative"):
            schema = options.get("schemaName") or self.table.schema
            name = (f'"{schema}".' if schema else "") + f'"{options.get("enumName")}"'
            if not options.get("existingType"):
                before.insert(0, f"create type {name} as enum ('{values}')")
            return name
        return f"text check ({wrap(column.name)} in ('{values}'))"

    def check(self, column: Column, modifier: str, given: list[Any]) -> str:
        name = wrap(column.name)
        if modifier in ("checkPositive", "checkNegative"):
            predicate, constraint = f"{name} {'>' if modifier == 'checkPositive' else '<'} 0", given[0] if given else None
        else:
            values = given[0] if given else []
            predicate = f"{name} {'not ' if modifier == 'checkNotIn' else ''}in ({','.join(escape(v) for v in values)})"
            constraint = given[1] if len(given) > 1 else None
        if column.method == "alter":
            raise Unwritable(f".{modifier}() on an altered column")
        return (f"constraint {constraint} " if constraint else "") + f"check ({predicate})"

    def alter_column(self, column: Column) -> None:
        table, name = self.qualified(), wrap(column.name)
        kind = self.column_type(column, [])
        self.sequence.append((f"alter table {table} alter column {name} drop default", column.at))
        alter_nullable, alter_type = column.alter
        if alter_nullable:
            self.sequence.append((f"alter table {table} alter column {name} drop not null", column.at))
        cast = "::text::" if column.kind == "enu" else "::"
        if alter_type:
            self.sequence.append((f"alter table {table} alter column {name} type {kind} using ({name}{cast}{kind})",
                                  column.at))
        if column.modifiers.get("defaultTo"):
            self.sequence.append((f"alter table {table} alter column {name} set default "
                                  f"{format_default(column.modifiers['defaultTo'][0], column.kind)}", column.at))
        nullable = column.modifiers.get("nullable")
        if alter_nullable and nullable and nullable[0] is False:
            self.sequence.append((f"alter table {table} alter column {name} set not null", column.at))

    def statements(self, skip_primary: bool) -> None:
        """The table's other statements, in the order they were called."""
        for method, args, at in self.table.statements:
            if method == "primary" and skip_primary:
                continue
            write = getattr(self, f"write_{method}", None)
            if write is None:
                raise Unwritable(f"table.{method}")
            self.sequence.append((write(*args), at))

    def name_or(self, named: Any, kind: str, columns: Any) -> str:
        if isinstance(named, dict):
            raise Unwritable(f"{kind} with options")
        return wrap(named) if named else index_name(kind, self.table.name, columns)

    def write_primary(self, columns: Any, named: Any = None) -> str:
        return f"alter table {self.qualified()} add{self.primary_constraint([columns, named])[1:]}"

    def write_index(self, columns: Any, named: Any = None, options: Any = None) -> str:
        if isinstance(options, dict) and set(options) - {"indexType", "storageEngineIndexType"}:
            raise Unwritable("index with a predicate")
        using = options if isinstance(options, str) else (options or {}).get("storageEngineIndexType")
        unique = " unique" if isinstance(options, dict) and str(options.get("indexType", "")).lower() == "unique" else ""
        return (f"create{unique} index {self.name_or(named, 'index', columns)} on {self.qualified()}"
                f"{f' using {using}' if using else ''} ({columnize(columns)})")

    def write_unique(self, columns: Any, named: Any = None) -> str:
        deferrable, constraint = None, True
        if isinstance(named, dict):
            if set(named) - {"indexName", "useConstraint", "deferrable"}:
                raise Unwritable("unique with a predicate")
            deferrable = named.get("deferrable")
            constraint = named.get("useConstraint", True) is not False or bool(deferrable)
            named = named.get("indexName")
        name = self.name_or(named, "unique", columns)
        if not constraint:
            return f"create unique index {name} on {self.qualified()} ({columnize(columns)})"
        return (f"alter table {self.qualified()} add constraint {name} unique ({columnize(columns)})"
                f"{f' deferrable initially {deferrable}' if deferrable else ''}")

    def write_dropIndex(self, columns: Any, named: Any = None) -> str:  # noqa: N802 (knex's method names)
        schema = wrap(self.table.schema) + "." if self.table.schema else ""
        return f"drop index {schema}{self.name_or(named, 'index', columns)}"

    def _drop_constraint(self, kind: str, columns: Any, named: Any, if_exists: bool) -> str:
        return (f"alter table {self.qualified()} drop constraint {'if exists ' if if_exists else ''}"
                f"{self.name_or(named, kind, columns)}")

    def write_dropUnique(self, columns: Any, named: Any = None) -> str:  # noqa: N802
        return self._drop_constraint("unique", columns, named, False)

    def write_dropUniqueIfExists(self, columns: Any, named: Any = None) -> str:  # noqa: N802
        return self._drop_constraint("unique", columns, named, True)

    def write_dropForeign(self, columns: Any, named: Any = None) -> str:  # noqa: N802
        return self._drop_constraint("foreign", columns, named, False)

    def write_dropForeignIfExists(self, columns: Any, named: Any = None) -> str:  # noqa: N802
        return self._drop_constraint("foreign", columns, named, True)

    def write_dropPrimary(self, named: Any = None) -> str:  # noqa: N802
        return f"alter table {self.qualified()} drop constraint {wrap(named) if named else wrap(self.table.name + '_pkey')}"

    def write_dropPrimaryIfExists(self, named: Any = None) -> str:  # noqa: N802
        return self.write_dropPrimary(named).replace(" drop constraint ", " drop constraint if exists ", 1)

    def write_dropColumn(self, *args: Any) -> str:  # noqa: N802
        names = [n for a in args for n in (a if isinstance(a, list) else [a])]
        return f"alter table {self.qualified()} " + ", ".join(f"drop column {wrap(n)}" for n in names)

    def write_renameColumn(self, old: str, new: str) -> str:  # noqa: N802
        return f"alter table {self.qualified()} rename {wrap(old)} to {wrap(new)}"

    def write_setNullable(self, column: str) -> str:  # noqa: N802
        return f"alter table {self.qualified()} alter column {wrap(column)} drop not null"

    def write_dropNullable(self, column: str) -> str:  # noqa: N802
        return f"alter table {self.qualified()} alter column {wrap(column)} set not null"

    def write_foreign(self, data: dict[str, Any]) -> str:
        if "inTable" not in data or "references" not in data:
            raise Unwritable("a foreign key without the table it references")
        name = wrap(data["keyName"]) if data.get("keyName") else index_name("foreign", self.table.name, data["column"])
        sql = (f"alter table {self.qualified()} add constraint {name} foreign key ({columnize(data['column'])})"
               f" references {wrap(data['inTable'])} ({columnize(data['references'])})")
        if data.get("onUpdate"):
            sql += f" on update {data['onUpdate']}"
        if data.get("onDelete"):
            sql += f" on delete {data['onDelete']}"
        if data.get("deferrable"):
            sql += f" deferrable initially {str(data['deferrable']).lower()} "
        return sql


def _number(value: Any, default: int) -> int:
    """knex's `toNumber(value, fallback)`: the value as a number, else the fallback."""
    if isinstance(value, bool) or value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return int(number) if number == number else default  # NaN: the fallback


def _datetime(given: list[Any]) -> str:
    """knex's PostgreSQL `datetime(withoutTz, precision)` (or `{useTz, precision}`)."""
    without_tz = given[0] if given else False
    precision = given[1] if len(given) > 1 else None
    if isinstance(without_tz, dict):
        use_tz, precision = without_tz.get("useTz"), without_tz.get("precision")
    else:
        use_tz = not without_tz
    use_tz = use_tz if isinstance(use_tz, bool) else True
    return ("timestamptz" if use_tz else "timestamp") + (f"({js_string(precision)})" if precision is not None else "")
