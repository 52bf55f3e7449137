"""pop's `.fizz` migrations, written as SQL as gobuffalo/fizz's PostgreSQL translator writes them
(fizz: bubbler.go, tables.go, columns.go, index.go, foreign_keys.go, raw_sql.go;
translators/postgres.go). What is not one of fizz's calls with literal arguments (a variable, a
condition, `exec`, which runs a program) is code the replay does not run: the migration is
skipped, saying what and where (fizz_plush.py reads the script).

- `create_table(name, {timestamps: false}) { t.Column(...) ... }`: the `id` column first, then the
  others in order, `created_at` and `updated_at` (`timestamp NOT NULL`) added unless the table turns
  timestamps off or has them; a primary key of integer type is a `SERIAL` (`BIGSERIAL` for bigint),
  then `PRIMARY KEY("id")`; the table's foreign keys, unnamed, then a primary key of several columns;
  its indexes after it (`<table>_<columns>_idx`, the columns unquoted).
- A column is `NOT NULL` unless its options have `null` (any value but nil); `default` is quoted as
  Go's `%v` writes it, `default_raw` is SQL; `string` is `VARCHAR (255)` (`size`), `time` and
  `datetime` are `timestamptz`, `json` is `jsonb`, `float` and `decimal` are `DECIMAL`
  (`precision`, `scale`), other types as written.
- `add_foreign_key` names the constraint `<table>_<referenced table>_<columns>_fk` unless `name`.
- `sql(...)` and `raw(...)` are sent as written, with `;` added where missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from migration_check.discovery.fizz_plush import Call, Parser, Unreadable
from migration_check.discovery.js_reading import Export, Piece

RAW = frozenset({"sql", "raw"})
SERIAL = {"integer": "SERIAL", "INT": "SERIAL", "int": "SERIAL", "bigint": "BIGSERIAL", "BIGINT": "BIGSERIAL"}
TYPES = {"uuid": "UUID", "time": "timestamptz", "datetime": "timestamptz", "blob": "bytea", "[]byte": "bytea",
         "[]string": "varchar[]", "[]float": "decimal[]", "[]int": "integer[]", "json": "jsonb"}


class FizzRefuses(Exception):
    """What fizz itself stops at (a primary key of a type it cannot make one of), at its line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


@dataclass
class Column:
    name: str
    kind: str
    options: dict[str, Any]
    primary: bool = False


@dataclass
class Table:
    """fizz.Table as a create_table block builds it."""

    name: str
    timestamps: bool = True
    columns: list[Column] = field(default_factory=list)
    indexes: list[tuple[str, list[str], bool]] = field(default_factory=list)  # name, columns, unique
    foreign_keys: list[tuple[str, str, list[str], dict[str, Any]]] = field(default_factory=list)
    primary_keys: list[str] | None = None


def translate(source: str) -> Export:
    """The SQL fizz writes for a script, each call's at its line (raises Unreadable, FizzRefuses).
    What fizz writes over several lines is laid on one, so that every later call keeps its line;
    a `sql(...)` string keeps its own lines, which are the file's."""
    pieces = []
    for call in Parser(source).program():
        sql = _statement(call)
        if call.name in RAW:  # its string was checked to be one (_strings), so text_at is set
            pieces.append(Piece(*(call.text_at or (call.line, call.column)), sql))
        else:
            pieces.append(Piece(call.line, call.column, " ".join(sql.split("\n"))))
    return Export(1, tuple(pieces))


def _statement(call: Call) -> str:
    writer = STATEMENTS.get(call.name)
    if writer is None:
        raise Unreadable(call.line, "exec, which runs a program" if call.name == "exec" else f"{call.name}, not a fizz call")
    if call.block is not None and call.name != "create_table":
        raise Unreadable(call.line, f"a block after {call.name}")
    try:
        return writer(call)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise Unreadable(call.line, f"{call.name} with arguments this check does not write ({error})") from None


def _strings(call: Call, count: int) -> list[str]:
    given = call.arguments[:count]
    if len(given) < count or not all(isinstance(value, str) for value in given):
        raise TypeError(f"{count} names")
    return given


def _options(call: Call, at: int) -> dict[str, Any]:
    """The options map at `at`, or the empty map Plush gives a helper called without it."""
    given = call.arguments[at] if len(call.arguments) > at else {}
    if not isinstance(given, dict):
        raise TypeError("options that are not a map")
    return given


def go_value(value: Any) -> str:
    """Go's `%v` of a value Plush gives (a string, an int, a float, a bool)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or isinstance(value, str):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, float) and 1e-4 <= abs(value) < 1e21:
        return repr(value)
    raise ValueError(f"default {value!r}")


def _integer(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} where fizz writes an integer")
    return str(value)


def column_type(column: Column) -> str:
    options = column.options
    if column.kind == "string":
        return f"VARCHAR ({_integer(options['size']) if options.get('size') is not None else '255'})"
    if column.kind in ("float", "decimal"):
        if options.get("precision") is None:
            return "DECIMAL"
        scale = f",{_integer(options['scale'])}" if options.get("scale") is not None else ""
        return f"DECIMAL({_integer(options['precision'])}{scale})"
    return TYPES.get(column.kind, column.kind)


def column_definition(column: Column) -> str:
    """buildAddColumn."""
    sql = f'"{column.name}" {column_type(column)}'
    if column.options.get("null") is None or column.primary:
        sql += " NOT NULL"
    if column.options.get("default") is not None:
        sql += f" DEFAULT '{go_value(column.options['default'])}'"
    if column.options.get("default_raw") is not None:
        sql += f" DEFAULT {go_value(column.options['default_raw'])}"
    return sql


def escape_identifier(name: str) -> str:
    """The translator's escapeIdentifier: a dotted name is left as written (its loop quotes copies)."""
    return name if "." in name else f'"{name}"'


def foreign_key(table: str, column: str, references: Any, options: dict[str, Any], name: str | None) -> str:
    """buildForeignKey: a clause of CREATE TABLE (`name` None) or an ALTER TABLE of its own."""
    if not isinstance(references, dict) or len(references) != 1:
        raise ValueError("references that are not one table's columns")
    [(referenced, columns)] = references.items()
    if not isinstance(columns, list):
        raise ValueError("referenced columns that are not a list")
    quoted = ", ".join(f'"{go_value(c)}"' for c in columns)
    sql = f'FOREIGN KEY ("{column}") REFERENCES {escape_identifier(referenced)} ({quoted})'
    if "on_update" in options:
        sql += f" ON UPDATE {go_value(options['on_update'])}"
    if "on_delete" in options:
        sql += f" ON DELETE {go_value(options['on_delete'])}"
    return sql if name is None else f'ALTER TABLE {escape_identifier(table)} ADD CONSTRAINT "{name}" {sql};'


def foreign_key_name(table: str, references: Any, options: dict[str, Any]) -> str:
    if options.get("name") is not None:
        if not isinstance(options["name"], str):
            raise ValueError("a name that is not a string")
        return options["name"]
    [(referenced, columns)] = references.items()
    return f"{table}_{referenced}_{'_'.join(go_value(c) for c in columns)}_fk"


def index(table: str, columns: Any, options: dict[str, Any]) -> tuple[str, list[str], bool]:
    """Table.Index: (name, columns, unique)."""
    listed = [columns] if isinstance(columns, str) else columns
    if not isinstance(listed, list) or not listed or not all(isinstance(c, str) for c in listed):
        raise ValueError("index columns that are not names")
    name = options.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError("an index name that is not a string")
    return name or f"{table}_{'_'.join(listed)}_idx", listed, options.get("unique") is True


def create_index(table: str, found: tuple[str, list[str], bool]) -> str:
    name, columns, unique = found
    return f'CREATE {"UNIQUE " if unique else ""}INDEX "{name}" ON "{table}" ({", ".join(columns)});'


def create_table(call: Call) -> str:
    [name] = _strings(call, 1)
    options = _options(call, 1)
    table = Table(name, timestamps=options.get("timestamps", True))
    for inner in call.block or []:
        _table_call(table, inner)
    if not isinstance(table.timestamps, bool):
        raise ValueError("timestamps that is not true or false")
    if table.timestamps:
        table.columns += [Column(stamp, "timestamp", {}) for stamp in ("created_at", "updated_at")
                          if stamp not in {c.name for c in table.columns}]
    clauses = []
    for column in table.columns:
        if column.primary and column.kind not in ("string", "uuid"):
            if column.kind not in SERIAL:
                raise FizzRefuses(call.line, f"can not use {column.kind} as a primary key")
            column = Column(column.name, SERIAL[column.kind], column.options, True)
        clauses.append(column_definition(column))
        if column.primary:
            clauses.append(f'PRIMARY KEY("{column.name}")')
    clauses += [foreign_key(name, column, {referenced: columns}, options, None)
                for column, referenced, columns, options in table.foreign_keys]
    if table.primary_keys is not None and len(table.primary_keys) > 1:
        clauses.append("PRIMARY KEY(" + ", ".join(f'"{key}"' for key in table.primary_keys) + ")")
    statements = [f'CREATE TABLE "{name}" (\n' + ",\n".join(clauses) + "\n);"]
    statements += [create_index(name, found) for found in table.indexes]
    return "\n".join(statements)


def _table_call(table: Table, call: Call) -> None:
    """A call inside create_table's block, on `t`."""
    method = call.name.removeprefix("t.")
    if not call.name.startswith("t.") or method not in TABLE_METHODS:
        raise Unreadable(call.line, f"{call.name}, not a call on the table")
    TABLE_METHODS[method](table, call)


def _column(table: Table, call: Call) -> None:
    name, kind = _strings(call, 2)
    options = _options(call, 2)
    if name in {c.name for c in table.columns}:
        raise Unreadable(call.line, f"a second column {name}, which fizz refuses")
    primary = "primary" in options
    if primary:
        table.primary_keys = [name]
    column = Column(name, kind, options, primary)
    table.columns = [column, *table.columns] if name == "id" else [*table.columns, column]


def _timestamps(table: Table, call: Call) -> None:
    for stamp in ("created_at", "updated_at"):
        _column(table, Call("t.Column", [stamp, "timestamp", {}], call.line, call.column))


def _timestamp(table: Table, call: Call) -> None:
    [name] = _strings(call, 1)
    _column(table, Call("t.Column", [name, "timestamp", {}], call.line, call.column))


def _index(table: Table, call: Call) -> None:
    table.indexes.append(index(table.name, call.arguments[0], _options(call, 1)))


def _foreign_key(table: Table, call: Call) -> None:
    [column] = _strings(call, 1)
    references, options = call.arguments[1], _options(call, 2)
    foreign_key_name(table.name, references, options)  # checks the references as fizz does
    [(referenced, columns)] = references.items()
    table.foreign_keys.append((column, referenced, list(columns), options))


def _primary_key(table: Table, call: Call) -> None:
    names = call.arguments
    if not names or not all(isinstance(n, str) for n in names) or table.primary_keys is not None:
        raise Unreadable(call.line, "a primary key fizz refuses")
    if len(names) == 1:
        for column in table.columns:
            column.primary = column.primary or column.name == names[0]
    table.primary_keys = list(names)


def _disable_timestamps(table: Table, call: Call) -> None:
    table.timestamps = False


TABLE_METHODS: dict[str, Callable[[Table, Call], None]] = {
    "Column": _column, "Timestamps": _timestamps, "Timestamp": _timestamp, "Index": _index,
    "ForeignKey": _foreign_key, "PrimaryKey": _primary_key, "DisableTimestamps": _disable_timestamps}


def _change_column(call: Call) -> str:
    table, name, kind = _strings(call, 3)
    options = _options(call, 3)
    column = Column(name, kind, options)
    sets = [f'ALTER COLUMN "{name}" {"SET" if options.get("null") is None else "DROP"} NOT NULL']
    if options.get("default") is not None:
        sets.append(f"ALTER COLUMN \"{name}\" SET DEFAULT '{go_value(options['default'])}'")
    if options.get("default_raw") is not None:
        sets.append(f'ALTER COLUMN "{name}" SET DEFAULT {go_value(options["default_raw"])}')
    return f'ALTER TABLE "{table}" ALTER COLUMN "{name}" TYPE {column_type(column)}, {", ".join(sets)};'


def _add_column(call: Call) -> str:
    table, name, kind = _strings(call, 3)
    return f'ALTER TABLE "{table}" ADD COLUMN {column_definition(Column(name, kind, _options(call, 3)))};'


def _add_foreign_key(call: Call) -> str:
    table, column = _strings(call, 2)
    references, options = call.arguments[2], _options(call, 3)
    return foreign_key(table, column, references, options, foreign_key_name(table, references, options))


def _drop_foreign_key(call: Call) -> str:
    table, name = _strings(call, 2)
    exists = "IF EXISTS " if _options(call, 2).get("if_exists") is True else ""
    return f'ALTER TABLE {escape_identifier(table)} DROP CONSTRAINT {exists}"{name}";'


def _raw(call: Call) -> str:
    [sql] = _strings(call, 1)
    return sql if sql.endswith(";") else sql + ";"


STATEMENTS: dict[str, Callable[[Call], str]] = {
    "create_table": create_table,
    "drop_table": lambda call: 'DROP TABLE "{}";'.format(*_strings(call, 1)),
    "rename_table": lambda call: 'ALTER TABLE "{}" RENAME TO "{}";'.format(*_strings(call, 2)),
    "add_column": _add_column,
    "change_column": _change_column,
    "drop_column": lambda call: 'ALTER TABLE "{}" DROP COLUMN "{}";'.format(*_strings(call, 2)),
    "rename_column": lambda call: 'ALTER TABLE "{}" RENAME COLUMN "{}" TO "{}";'.format(*_strings(call, 3)),
    "add_index": lambda call: create_index(_strings(call, 1)[0], index(call.arguments[0], call.arguments[1], _options(call, 2))),
    "drop_index": lambda call: f'DROP INDEX "{_strings(call, 2)[1]}";',
    "rename_index": lambda call: 'ALTER INDEX "{}" RENAME TO "{}";'.format(*_strings(call, 3)[1:]),
    "add_foreign_key": _add_foreign_key,
    "drop_foreign_key": _drop_foreign_key,
    "sql": _raw,
    "raw": _raw,
}
