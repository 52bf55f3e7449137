"""The statements Sequelize's query interface sends on PostgreSQL for each call of a migration
(abstract/query-interface.js with the PostgreSQL query generator), from the calls' values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migration_check.discovery.js_values import Unwritable
from migration_check.discovery.sequelize_sql import (
    attribute_sql,
    escape,
    mapped,
    quote,
    quote_table,
    table_name,
    underscore,
)

# addIndexQuery ignores the keys it does not read (outline's `indicesType`, a Sequelize 3 name,
# makes no unique index on Sequelize 6).
CONSTRAINT_TYPES = {"unique": "uk", "primary key": "pk", "foreign key": "fk"}


def create_table(table: Any, attributes: Any, options: Any = None) -> list[str]:
    if not isinstance(attributes, dict) or not attributes:
        raise Unwritable("createTable without attributes")
    if options and set(options) - {"comment", "schema"}:
        raise Unwritable("createTable with options")
    quoted = quote_table({"tableName": table, "schema": options["schema"]} if options and options.get("schema")
                         else table)
    columns, comments, keys, before = [], "", [], []
    for key, attribute in attributes.items():
        definition, enums = attribute_sql(attribute, table, key, "createTable")
        before += enums  # ensureEnums, before the table
        if " COMMENT " in definition:
            definition, comment = definition.split(" COMMENT ", 1)
            comments += f"; COMMENT ON COLUMN {quoted}.{quote(key)} IS {escape(comment)}"
        if "PRIMARY KEY" in definition:
            keys.append(quote(key))
        columns.append(f"{quote(key)} {mapped(definition)}")
    clause = ", ".join(columns) + (f", PRIMARY KEY ({','.join(keys)})" if keys else "")
    table_comment = f"; COMMENT ON TABLE {quoted} IS {escape(options['comment'])}" \
        if options and isinstance(options.get("comment"), str) else ""
    return [*before, f"CREATE TABLE IF NOT EXISTS {quoted} ({clause}){table_comment}{comments};"]


def add_column(table: Any, key: str, attribute: Any, _options: Any = None) -> list[str]:
    definition, before = attribute_sql(attribute, table, key, "addColumn")
    return [*before, f"ALTER TABLE {quote_table(table)} ADD COLUMN {quote(key)} {mapped(definition)};"]


def remove_column(table: Any, key: str, _options: Any = None) -> list[str]:
    return [f"ALTER TABLE {quote_table(table)} DROP COLUMN {quote(key)};"]


def change_column(table: Any, key: str, attribute: Any, _options: Any = None) -> list[str]:
    """The PostgreSQL changeColumnQuery: NOT NULL, DEFAULT and TYPE each changed, or a foreign key added."""
    definition, enum = attribute_sql(attribute, table, key, "changeColumn")
    if ";" in definition or "SERIAL" in definition or "PRIMARY KEY" in definition:
        raise Unwritable("changeColumn with a comment, autoIncrement or primaryKey")
    if enum and ("UNIQUE" in definition or "REFERENCES" in definition):
        raise Unwritable("changeColumn to an ENUM with unique or references")
    alter = f"ALTER TABLE {quote_table(table)} ALTER COLUMN "
    sql = ""
    if "NOT NULL" in definition:
        sql += f"{alter}{quote(key)} SET NOT NULL;"
        definition = definition.replace("NOT NULL", "", 1).strip()
    elif "REFERENCES" not in definition:
        sql += f"{alter}{quote(key)} DROP NOT NULL;"
    if "DEFAULT" in definition:
        default = definition.split("DEFAULT ", 1)[1].split(";", 1)[0]
        sql += f"{alter}{quote(key)} SET DEFAULT {default};"
        definition = definition.replace(f"DEFAULT {default}", "", 1).strip()
    elif "REFERENCES" not in definition:
        sql += f"{alter}{quote(key)} DROP DEFAULT;"
    if enum:  # to an ENUM: its type made (pgEnum), the column cast to it
        sql += enum[0]
        definition += f" USING ({quote(key)}::{definition.split(' ', 1)[0]})"
    if definition.endswith("UNIQUE"):
        definition = definition[:-len("UNIQUE")]
        sql += f"ALTER TABLE {quote_table(table)}  ADD UNIQUE ({quote(key)});"
    if "REFERENCES" in definition:
        definition = definition[definition.index("REFERENCES"):]
        sql += f"ALTER TABLE {quote_table(table)}  ADD FOREIGN KEY ({quote(key)}) {definition};"
    else:
        sql += f"{alter}{quote(key)} TYPE {definition};"
    return [sql]


def rename_column(table: Any, before: str, after: str, _options: Any = None) -> list[str]:
    return [f"ALTER TABLE {quote_table(table)} RENAME COLUMN {quote(before)} TO {quote(after)};"]


def rename_table(before: Any, after: Any, _options: Any = None) -> list[str]:
    return [f"ALTER TABLE {quote_table(before)} RENAME TO {quote_table(after)};"]


def drop_table(table: Any, options: Any = None) -> list[str]:
    cascade = isinstance(options, dict) and bool(options.get("cascade") or options.get("force"))
    return [f"DROP TABLE IF EXISTS {quote_table(table)}{' CASCADE' if cascade else ''};"]


def add_index(table: Any, fields: Any, options: Any = None) -> list[str]:
    if not isinstance(fields, list):  # addIndex(table, options)
        fields, options = (fields or {}).get("fields"), fields
    options = dict(options or {})
    if not isinstance(fields, list) or not fields:
        raise Unwritable("addIndex without fields")
    where = where_sql(options["where"]) if options.get("where") else ""
    names, columns = [], []
    for field in fields:
        if isinstance(field, dict):
            name = field.get("name") or field.get("attribute")
            if not isinstance(name, str) or set(field) - {"name", "attribute", "order", "operator", "collate", "length"}:
                raise Unwritable("an index field this check does not write")
            column = quote(name) + (f" COLLATE {quote(field['collate'])}" if field.get("collate") else "")
            operator = field.get("operator") or options.get("operator")
            column += (f" {operator}" if operator else "") + (f" {field['order']}" if field.get("order") else "")
        elif isinstance(field, str):
            name = field
            column = quote(name) + (f" {options['operator']}" if options.get("operator") else "")
        else:
            raise Unwritable("an index field this check does not write")
        names.append(name)
        columns.append(column)
    prefix = str(options.get("prefix") or table_name(table)).replace(".", "_").replace('"', "").replace("'", "")
    index = options.get("name") or underscore(f"{prefix}_{'_'.join(names)}")
    unique = options.get("unique") or str(options.get("type", "")).upper() == "UNIQUE"
    # PostgreSQL takes no index type: Sequelize drops it, but for UNIQUE (Model._conformIndex)
    parts = ["CREATE", "UNIQUE" if unique else "", "INDEX", "CONCURRENTLY" if options.get("concurrently") else "",
             quote(index), f"ON {quote_table(table)}", f"USING {options['using']}" if options.get("using") else "",
             f"({', '.join(columns)})", where]
    return [" ".join(part for part in parts if part)]


def where_sql(where: Any) -> str:
    """whereQuery of an object of plain values (`{ deletedAt: null }`): `WHERE "deletedAt" IS NULL`,
    each key `=` its value, joined with AND. Operators (`[Op.ne]`) are code."""
    if not isinstance(where, dict) or not where:
        raise Unwritable("an index's where this check does not write")
    items = []
    for key, value in where.items():
        if "." in key or isinstance(value, (dict, list)):
            raise Unwritable("an index's where this check does not write")
        items.append(f"{quote(key)} IS NULL" if value is None else f"{quote(key)} = {escape(value)}")
    return "WHERE " + " AND ".join(items)


def remove_index(table: Any, index: Any, options: Any = None) -> list[str]:
    name = index if isinstance(index, str) else underscore(f"{table_name(table)}_{'_'.join(index)}") \
        if isinstance(index, list) and all(isinstance(i, str) for i in index) else None
    if name is None:
        raise Unwritable("removeIndex of what this check does not name")
    concurrently = " CONCURRENTLY" if isinstance(options, dict) and options.get("concurrently") else ""
    return [f"DROP INDEX{concurrently} IF EXISTS {quote(name)}"]


def add_constraint(table: Any, options: Any) -> list[str]:
    if not isinstance(options, dict) or not isinstance(options.get("type"), str):
        raise Unwritable("addConstraint without its type")
    kind = options["type"].lower()
    fields = options.get("fields")
    if kind not in CONSTRAINT_TYPES or not isinstance(fields, list) or not all(isinstance(f, str) for f in fields) \
            or options.get("deferrable"):
        raise Unwritable(f"addConstraint of type {options['type']}")
    quoted_table = quote_table(table)
    listed, joined = ", ".join(quote(f) for f in fields), "_".join(quote(f) for f in fields)
    suffix = CONSTRAINT_TYPES[kind]
    if kind == "foreign key":
        references = options.get("references") or {}
        target = references.get("table")
        field = references.get("field") or references.get("fields")
        if not isinstance(target, (str, dict)) or not field:
            raise Unwritable("a foreign key without the table and field it references")
        name = quote(options.get("name") or f"{quoted_table}_{joined}_{table_name(target)}_fk")
        referenced = quote(field) if isinstance(field, str) else ", ".join(quote(f) for f in field)
        snippet = f"CONSTRAINT {name} FOREIGN KEY ({listed}) REFERENCES {quote_table(target)} ({referenced})"
        for action, words in (("onUpdate", "ON UPDATE"), ("onDelete", "ON DELETE")):
            if isinstance(options.get(action), str):
                snippet += f" {words} {options[action].upper()}"
    else:
        name = quote(options.get("name") or f"{quoted_table}_{joined}_{suffix}")
        snippet = f"CONSTRAINT {name} {'UNIQUE' if kind == 'unique' else 'PRIMARY KEY'} ({listed})"
    return [f"ALTER TABLE {quoted_table} ADD {snippet};"]


def remove_constraint(table: Any, name: str, _options: Any = None) -> list[str]:
    return [f"ALTER TABLE {quote_table(table)} DROP CONSTRAINT {quote(name)};"]


OPERATIONS: dict[str, Callable[..., list[str]]] = {
    "createTable": create_table, "addColumn": add_column, "removeColumn": remove_column, "changeColumn": change_column,
    "renameColumn": rename_column, "renameTable": rename_table, "dropTable": drop_table, "addIndex": add_index,
    "removeIndex": remove_index, "addConstraint": add_constraint, "removeConstraint": remove_constraint,
}
