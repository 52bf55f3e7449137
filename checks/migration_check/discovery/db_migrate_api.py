"""The SQL db-migrate's PostgreSQL driver sends for its schema API (`db.createTable`,
`db.addColumn`, ...), written as the driver writes it, so that a migration written against the API
is replayed like one written in SQL (Unleash creates its first tables so).

Read from db-migrate-base (index.js: createTable, dropTable, addColumn, addIndex, removeIndex,
_prepareSpec, _handleMultiPrimaryKeys, bindForeignKey) and db-migrate-pg (index.js:
createColumnDef, createColumnConstraint, mapDataType, renameTable, removeColumn, renameColumn,
addForeignKey, removeForeignKey). What the driver does with a value is copied, flaws included: a
string default is quoted without escaping (`defaultValue: 'now()'` is the text 'now()', which
PostgreSQL reads as the time the table was created), as the runner sends it. A call this module
does not write (`addColumn` with a default it cannot print, `db.insert`) raises Unwritable, and the
export is skipped with its name.
"""

from __future__ import annotations

import re
from typing import Any

from migration_check.discovery.js_values import Expression, Unwritable, js_string, written_by

# db-migrate-shared's data_type.js: the names modules write as `type.STRING` (exports.setup
# hands `dbm.dataType` over as `type`).
DATA_TYPES = {
    "CHAR": "char", "STRING": "string", "TEXT": "text", "SMALLINT": "smallint", "BIGINT": "bigint",
    "INTEGER": "int", "SMALL_INTEGER": "smallint", "BIG_INTEGER": "bigint", "REAL": "real", "DATE": "date",
    "DATE_TIME": "datetime", "TIME": "time", "BLOB": "blob", "TIMESTAMP": "timestamp", "BINARY": "binary",
    "BOOLEAN": "boolean", "DECIMAL": "decimal",
}
# mapDataType: db-migrate-pg's cases first, then db-migrate-base's; anything else upper-cased.
SQL_TYPES = {
    "json": "JSON", "jsonb": "JSONB", "string": "VARCHAR", "datetime": "TIMESTAMP", "blob": "BYTEA",
    "text": "TEXT", "int": "INTEGER", "bigint": "BIGINT", "real": "REAL", "timestamp": "TIMESTAMP",
    "binary": "BINARY", "boolean": "BOOLEAN", "decimal": "DECIMAL", "char": "CHAR", "date": "DATE",
    "smallint": "SMALLINT",
}
WITH_ZONE = re.compile(r"^(time|timestamp)tz$")


def api_sql(method: str, arguments: list[Any]) -> str:
    """The statements (`; `-separated, on one line) the driver sends for `db.<method>(arguments)`,
    callbacks left out."""
    writer = WRITERS.get(method)
    if writer is None:
        raise Unwritable(f"db.{method}")
    return written_by(f"db.{method}", writer, *arguments)


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise Unwritable(f"a name that is not a string ({value!r})")
    return f'"{value}"'


def _create_table(table: str, options: dict[str, Any], *rest: Any) -> str:
    columns, settings = (options["columns"], options) if "columns" in options else (options, {})
    specs = {name: {"type": spec} if isinstance(spec, str) else spec for name, spec in columns.items()}
    keys = [name for name, spec in specs.items() if spec.get("primaryKey")]
    primary_key = f", PRIMARY KEY ({', '.join(_name(k) for k in keys)})" if len(keys) > 1 else ""
    after: list[str] = []
    definitions = [_column(name, spec, table, emit_primary_key=len(keys) == 1, after=after) for name, spec in specs.items()]
    exists = "IF NOT EXISTS" if settings.get("ifNotExists") else ""
    # recurseCallbackArray pops the foreign keys and comments: the last one is sent first.
    return "; ".join([f"CREATE TABLE {exists} {_name(table)} ({', '.join(definitions)}{primary_key}) ",
                      *reversed(after)])


def _drop_table(table: str, options: dict[str, Any] | None = None) -> str:
    return f"DROP TABLE {'IF EXISTS' if (options or {}).get('ifExists') else ''} {_name(table)}"


def _add_column(table: str, column: str, spec: Any) -> str:
    after: list[str] = []
    definition = _column(column, {"type": spec} if isinstance(spec, str) else spec, table, False, after)
    return "; ".join([f"ALTER TABLE {_name(table)} ADD COLUMN {definition} ", *after])


def _remove_column(table: str, column: str, options: dict[str, Any] | None = None) -> str:
    if (options or {}).get("columnStrategy") == "delay":
        raise Unwritable("db.removeColumn with columnStrategy 'delay'")
    return f"ALTER TABLE {_name(table)} DROP COLUMN {_name(column)}"


def _rename_column(table: str, old: str, new: str, *rest: Any) -> str:
    return f"ALTER TABLE {_name(table)} RENAME COLUMN {_name(old)} TO {_name(new)}"


def _rename_table(table: str, new: str, *rest: Any) -> str:
    return f"ALTER TABLE {_name(table)} RENAME TO {_name(new)}"


def _add_index(table: str, index: str, columns: Any, unique: Any = False) -> str:
    names = columns if isinstance(columns, list) else [columns]
    return f"CREATE {'UNIQUE' if unique else ''} INDEX {_name(index)} ON {_name(table)} ({', '.join(_name(c) for c in names)})"


def _remove_index(table: str, index: str | None = None) -> str:
    return f"DROP INDEX {_name(index if index is not None else table)}"


def _add_foreign_key(table: str, referenced: str, key: str, mapping: dict[str, Any], rules: Any = None) -> str:
    rules = rules if isinstance(rules, dict) else {}
    return (f"ALTER TABLE {_name(table)} ADD CONSTRAINT {_name(key)} FOREIGN KEY ({', '.join(_name(c) for c in mapping)})"
            f" REFERENCES {_name(referenced)} ({', '.join(_name(c) for c in mapping.values())})"
            f" ON DELETE {rules.get('onDelete') or 'NO ACTION'} ON UPDATE {rules.get('onUpdate') or 'NO ACTION'}")


def _remove_foreign_key(table: str, key: str, *rest: Any) -> str:
    return f"ALTER TABLE {_name(table)} DROP CONSTRAINT {_name(key)}"


def _change_column(table: str, column: str, spec: dict[str, Any], *rest: Any) -> str:
    """changeColumn (db-migrate-pg): NOT NULL set or dropped, the `<table>_<column>_key` unique
    constraint added or dropped, the default set or dropped, then the type, each its own statement."""
    altered = f"ALTER TABLE {_name(table)} ALTER COLUMN {_name(column)}"
    statements = [f"{altered} {'SET' if spec.get('notNull') is True else 'DROP'} NOT NULL"]
    key = _name(f"{table}_{column}_key")
    if spec.get("unique") is True:
        statements.append(f"ALTER TABLE {_name(table)} ADD CONSTRAINT {key} UNIQUE ({_name(column)})")
    elif spec.get("unique") is False:
        statements.append(f"ALTER TABLE {_name(table)} DROP CONSTRAINT {key}")
    if "defaultValue" in spec:
        value = spec["defaultValue"]
        statements.append(f"{altered} SET DEFAULT {_quoted_default(value)}")
    else:
        statements.append(f"{altered} DROP DEFAULT")
    if "type" in spec:
        kind = spec["type"]
        if not isinstance(kind, str):
            raise Unwritable(f"column type {kind!r}")
        mapped = SQL_TYPES.get(kind, kind.upper())
        using = spec["using"] if "using" in spec else f"USING {_name(column)}::{mapped}"
        length = f"({js_string(spec['length'])})" if spec.get("length") else ""
        statements.append(f"{altered} TYPE {mapped} {length} {using}")
    return "; ".join(statements)


def _quoted_default(value: Any) -> str:
    """changeColumn's default: a string quoted as it is, anything else as JavaScript prints it."""
    return f"'{value}'" if isinstance(value, str) else js_string(value)


WRITERS: dict[str, Any] = {
    "createTable": _create_table, "dropTable": _drop_table, "addColumn": _add_column,
    "removeColumn": _remove_column, "renameColumn": _rename_column, "renameTable": _rename_table,
    "addIndex": _add_index, "removeIndex": _remove_index, "addForeignKey": _add_foreign_key,
    "removeForeignKey": _remove_foreign_key, "changeColumn": _change_column,
}


def _column(name: str, spec: dict[str, Any], table: str, emit_primary_key: bool, after: list[str]) -> str:
    """createColumnDef and createColumnConstraint (db-migrate-pg), with what runs after the table
    or column is made (its foreign key, its comment) added to `after`. Options it does not read
    (MySQL's `unsigned`, `after`) it leaves out, as the driver does."""
    kind = spec["type"]
    if not isinstance(kind, str):
        raise Unwritable(f"column type {kind!r}")
    zone = WITH_ZONE.match(kind)
    kind = zone.group(1) if zone else kind
    serial = spec.get("primaryKey") and spec.get("autoIncrement")
    sql_type = "" if serial else SQL_TYPES.get(kind, kind.upper())
    length = f"({js_string(spec['length'])})" if spec.get("length") else ""
    constraint = ["WITH TIME ZONE"] if zone else []
    if spec.get("primaryKey"):
        if spec.get("autoIncrement"):
            constraint.append("BIGSERIAL" if kind == "bigint" else "SERIAL")
        if emit_primary_key:
            constraint.append("PRIMARY KEY")
    if spec.get("notNull") is True:
        constraint.append("NOT NULL")
    if spec.get("unique"):
        constraint.append("UNIQUE")
    if "defaultValue" in spec:
        constraint += ["DEFAULT", _default(spec["defaultValue"])]
    if isinstance(foreign := spec.get("foreignKey"), dict):
        mapping = foreign["mapping"]
        after.append(_add_foreign_key(table, foreign["table"], foreign["name"],
                                      {name: mapping} if isinstance(mapping, str) else mapping, foreign.get("rules")))
    if spec.get("comment"):
        after.append(f"COMMENT on COLUMN {table}.{name} IS '{spec['comment']}'")
    quoted = name if name.startswith('"') else f'"{name}"'
    return " ".join([quoted, sql_type, length, " ".join(constraint)])


def _default(value: Any) -> str:
    """The DEFAULT as the driver writes it: a string quoted as it is, `{raw}` or `new String()` as
    SQL, CURRENT_TIMESTAMP for `{special: 'CURRENT_TIMESTAMP'}`, anything else as JavaScript prints it."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, Expression):
        return value.text
    if isinstance(value, dict):
        if isinstance(value.get("raw"), str):
            return str(value["raw"])
        if value.get("special") == "CURRENT_TIMESTAMP":
            return "CURRENT_TIMESTAMP"
        raise Unwritable(f"default {value!r}")
    return js_string(value)
