"""Sequelize's query interface, written as its PostgreSQL query generator writes it (sequelize v6:
src/dialects/postgres/query-generator.js, abstract/query-generator.js, abstract/query-interface.js,
data-types.js). A call or an attribute this does not write as Sequelize would raises Unwritable,
naming it; the migration is then skipped, never replayed as something else.

- Attributes: the type's SQL (`STRING` is `VARCHAR(255)`, `DATE` is `TIMESTAMP WITH TIME ZONE`, ...),
  then `NOT NULL` (`allowNull: false`), `SERIAL` (`autoIncrement`, folded into the type as PostgreSQL
  spells it: `INTEGER SERIAL` is `SERIAL`), `DEFAULT` (a value Sequelize can write in the schema:
  `Sequelize.NOW` and `UUIDV4` are filled in by the client, not the database), `UNIQUE`, `PRIMARY
  KEY`, `REFERENCES "table" ("key")` with `ON DELETE`/`ON UPDATE`, and a comment.
- `createTable`: `CREATE TABLE IF NOT EXISTS` with the primary key as its own clause. An ENUM
  column is refused there: Sequelize first asks the database which enum types exist.
- `addColumn` of an ENUM creates its type `enum_<table>_<column>` in a DO block first, as Sequelize does.
- Index names: `<table>_<fields>`, underscored as the inflection library underscores them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from migration_check.discovery.js_values import Unwritable, js_string, sql_scalar


@dataclass(frozen=True)
class DataType:
    """A Sequelize data type as written (`Sequelize.STRING(100)`): its key and arguments."""

    key: str
    arguments: tuple[Any, ...] = ()
    unsigned: bool = False


@dataclass(frozen=True)
class Method:
    """`Sequelize.fn('now')`, `Sequelize.literal('...')`, `Sequelize.NOW`: SQL-side values."""

    kind: str  # fn, literal, col, NOW, UUIDV1, UUIDV4
    arguments: tuple[Any, ...] = ()


RAW = "raw"  # a type written as SQL
NOT_SCHEMABLE = frozenset({"NOW", "UUIDV1", "UUIDV4"})  # Utils.defaultValueSchemable: filled in by the client
PLAIN_TYPES = {"TEXT": "TEXT", "BOOLEAN": "BOOLEAN", "DATEONLY": "DATE", "TIME": "TIME", "UUID": "UUID", "JSON": "JSON",
               "JSONB": "JSONB", "BLOB": "BYTEA", "CITEXT": "CITEXT", "INET": "INET", "CIDR": "CIDR", "MACADDR": "MACADDR",
               "TSVECTOR": "TSVECTOR", "HSTORE": "HSTORE", "SMALLINT": "SMALLINT", "INTEGER": "INTEGER", "BIGINT": "BIGINT",
               "TINYINT": "TINYINT", "MEDIUMINT": "MEDIUMINT", "REAL": "REAL", "DOUBLE": "DOUBLE PRECISION",
               "FLOAT": "FLOAT"}
TEXTUAL = frozenset({"STRING", "CHAR", "TEXT", "CITEXT", "UUID", "ENUM", "DATEONLY", "TIME", "INET", "CIDR", "MACADDR"})
NUMERIC = frozenset({"SMALLINT", "INTEGER", "BIGINT", "TINYINT", "MEDIUMINT", "REAL", "DOUBLE", "FLOAT", "DECIMAL"})
ATTRIBUTE_KEYS = frozenset({"type", "allowNull", "defaultValue", "primaryKey", "autoIncrement", "unique", "references",
                            "onDelete", "onUpdate", "comment", "field", "validate", "values", "autoIncrementIdentity"})


def quote(name: str) -> str:
    """Sequelize's PostgreSQL quoteIdentifier: every double quote removed, then the whole quoted."""
    return '"' + name.replace('"', "") + '"'


def quote_table(table: Any) -> str:
    """A table as `"name"`, or `{tableName, schema}` as `"schema"."name"`."""
    if isinstance(table, dict):
        name = table.get("tableName")
        if not isinstance(name, str):
            raise Unwritable("a table without its tableName")
        return (quote(table["schema"]) + "." if table.get("schema") else "") + quote(name)
    if not isinstance(table, str):
        raise Unwritable(f"table {table!r}")
    return quote(table)


def table_name(table: Any) -> str:
    return table.get("tableName", "") if isinstance(table, dict) else str(table)


def escape(value: Any) -> str:
    """Sequelize's SqlString.escape for PostgreSQL."""
    if (scalar := sql_scalar(value)) is not None:
        return scalar
    if isinstance(value, str):
        return "'" + value.replace("'", "''").replace("\0", "\\0") + "'"
    raise Unwritable(f"value {value!r}")


def underscore(text: str) -> str:
    """The inflection library's `underscore`: `_` before each capital, none leading, lower case."""
    return "/".join(re.sub(r"^_", "", re.sub(r"([A-Z])", r"_\1", part)) for part in text.split("::")).lower()


def type_sql(kind: DataType) -> str:
    key, given = kind.key, kind.arguments
    if key == RAW:
        return str(given[0])
    if key in ("STRING", "CHAR"):
        options = given[0] if given and isinstance(given[0], dict) else {"length": given[0] if given else None}
        if options.get("binary") or (len(given) > 1 and given[1]):
            return "BYTEA"
        length = options.get("length") or 255
        return f"{'VARCHAR' if key == 'STRING' else 'CHAR'}({js_string(length)})"
    if key == "DATE":
        return "TIMESTAMP WITH TIME ZONE"
    if key == "DECIMAL":
        if not given:
            return "DECIMAL"
        precision, scale = (given[0].get("precision"), given[0].get("scale")) if isinstance(given[0], dict) else \
            (given[0], given[1] if len(given) > 1 else None)
        return f"DECIMAL({','.join(js_string(p) for p in (precision, scale) if p)})"
    if key == "ARRAY":
        if len(given) != 1 or not isinstance(given[0], DataType) or given[0].key == "ENUM":
            raise Unwritable("an ARRAY of what this check does not write")
        return type_sql(given[0]) + "[]"
    if key == "TEXT" and given:
        raise Unwritable("TEXT with a length")
    if key in PLAIN_TYPES:
        if key == "FLOAT" and len(given) == 1 and isinstance(given[0], int):
            return f"FLOAT({given[0]})"
        if given and key not in NUMERIC:
            raise Unwritable(f"{key} with arguments")
        return PLAIN_TYPES[key]  # PostgreSQL's integer types take no length: Sequelize drops it
    raise Unwritable(f"data type {key}")


def default_sql(value: Any, kind: DataType | None) -> str | None:
    """The DEFAULT Sequelize writes, or None where it writes none (a value the client fills in)."""
    if isinstance(value, Method):
        if value.kind in NOT_SCHEMABLE:
            return None
        if value.kind == "literal" and value.arguments and isinstance(value.arguments[0], str):
            return value.arguments[0]
        if value.kind == "fn" and value.arguments and isinstance(value.arguments[0], str):
            return f"{value.arguments[0]}({', '.join(_argument(a) for a in value.arguments[1:])})"
        raise Unwritable(f"default {value.kind}")
    key = kind.key if kind is not None else ""
    if key == RAW and (value is None or isinstance(value, (str, int, float))):  # no type to validate it against
        return escape(value)
    if value is None or (isinstance(value, str) and key in TEXTUAL) or (isinstance(value, bool) and key == "BOOLEAN") \
            or (isinstance(value, (int, float)) and not isinstance(value, bool) and key in NUMERIC):
        return escape(value)
    if isinstance(value, (dict, list)) and key in ("JSON", "JSONB"):
        return escape(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    if isinstance(value, list) and key == "ARRAY" and kind is not None and _plain_elements(kind, value):
        # The postgres dialect's ARRAY._stringify: each element escaped, the array cast to its type.
        return f"ARRAY[{','.join(escape(element) for element in value)}]::{type_sql(kind)}"
    raise Unwritable(f"default {value!r} on {key or 'a column'}")


def _plain_elements(kind: DataType, value: list[Any]) -> bool:
    """Whether each element is written as SqlString.escape writes it: an array of strings or of
    integers, of a type with no stringify of its own."""
    element = kind.arguments[0] if len(kind.arguments) == 1 and isinstance(kind.arguments[0], DataType) else None
    if element is None or element.key not in ("STRING", "CHAR", "TEXT", "CITEXT", "UUID", "SMALLINT", "INTEGER", "BIGINT"):
        return False
    wanted: type = str if element.key in TEXTUAL else int
    return all(isinstance(item, wanted) and not isinstance(item, bool) for item in value)


def _argument(value: Any) -> str:
    if isinstance(value, Method) and value.kind == "col" and value.arguments:
        return quote(str(value.arguments[0]))
    return escape(value)


def attribute_sql(attribute: Any, table: Any, key: str, context: str) -> tuple[str, list[str]]:
    """(the column's definition, the statements that must come before it: an ENUM's type)."""
    if isinstance(attribute, (DataType, str)):
        attribute = {"type": attribute}
    if isinstance(attribute, dict) and isinstance(attribute.get("type"), str):  # a type written as SQL ("UUID")
        attribute = {**attribute, "type": DataType(RAW, (attribute["type"],))}
    if not isinstance(attribute, dict) or not isinstance(attribute.get("type"), DataType):
        raise Unwritable(f"column {key} without a Sequelize type")
    unknown = set(attribute) - ATTRIBUTE_KEYS
    if unknown or attribute.get("field"):
        raise Unwritable(f"column {key} with {', '.join(sorted(unknown)) or 'field'}")
    kind: DataType = attribute["type"]
    before: list[str] = []
    if kind.key == "ENUM":
        values = list(kind.arguments) or list(attribute.get("values") or [])
        if not values or not all(isinstance(v, str) for v in values):
            raise Unwritable("an ENUM without its values")
        sql = enum_name(table, key)
        before += enum_statements(sql, values, context)
    else:
        sql = type_sql(kind)
    if attribute.get("allowNull") is False:
        sql += " NOT NULL"
    if attribute.get("autoIncrement"):
        sql += " GENERATED BY DEFAULT AS IDENTITY" if attribute.get("autoIncrementIdentity") else " SERIAL"
    if "defaultValue" in attribute and (default := default_sql(attribute["defaultValue"], kind)) is not None:
        sql += f" DEFAULT {default}"
    if attribute.get("unique") is True:
        sql += " UNIQUE"
    elif attribute.get("unique"):
        raise Unwritable(f"column {key} with a named unique")
    if attribute.get("primaryKey"):
        sql += " PRIMARY KEY"
    if attribute.get("references"):
        sql += _references(attribute)
    comment = attribute.get("comment")
    if isinstance(comment, str) and comment:
        if context == "createTable":
            sql += f" COMMENT {comment}"
        else:
            sql += f"; COMMENT ON COLUMN {quote_table(table)}.{quote(key)} IS {escape(comment)}"
    return sql, before


def enum_name(table: Any, key: str) -> str:
    """pgEnumName: `"<schema>"."enum_<table>_<column>"`, the schema `public` unless the table names one."""
    schema = str(table["schema"]) if isinstance(table, dict) and table.get("schema") else "public"
    return f"{quote(schema)}.{quote(f'enum_{table_name(table)}_{key}')}"


def enum_statements(name: str, values: list[str], context: str) -> list[str]:
    """pgEnum's DO block, which creates the type unless it exists. Before a new table Sequelize's
    ensureEnums first asks the database which labels an existing type has and adds the missing
    ones; the replay does not, so a type that lacks one stops it there, saying so."""
    labels = ", ".join(escape(v) for v in values)
    created = [f"DO {escape(f'BEGIN CREATE TYPE {name} AS ENUM({labels}); EXCEPTION WHEN duplicate_object THEN null; END')};"]
    if context != "createTable":
        return created
    wanted = "ARRAY[" + labels + "]::text[]"
    guard = (f"BEGIN IF EXISTS (SELECT FROM unnest({wanted}) AS w(label) WHERE label <> ALL (enum_range(NULL::{name})::text[]))"
             f" THEN RAISE EXCEPTION 'Sequelize would add labels to the existing type {name.replace(chr(39), '')} here"
             " (ensureEnums): the replay does not run that'; END IF; END")
    return [*created, f"DO {escape(guard)};"]


def _references(attribute: dict[str, Any]) -> str:
    """attributeToSQL's REFERENCES: the model, its key and the column's own onDelete and onUpdate;
    any other key of `references` is not read (outline's `references: {model, onDelete}` made no
    ON DELETE, which its later "missing-cascades" migrations add)."""
    references = attribute["references"]
    if not isinstance(references, dict) or not isinstance(references.get("model"), (str, dict)) \
            or not isinstance(references.get("key", ""), str) or references.get("deferrable"):
        raise Unwritable("references this check does not write")
    sql = f" REFERENCES {quote_table(references['model'])} ({quote(references.get('key') or 'id')})"
    for action in ("onDelete", "onUpdate"):
        if isinstance(attribute.get(action), str):
            sql += f" {'ON DELETE' if action == 'onDelete' else 'ON UPDATE'} {attribute[action].upper()}"
    return sql


def mapped(definition: str) -> str:
    """The PostgreSQL query generator's `dataTypeMapping`: PRIMARY KEY left to the table's clause,
    SERIAL folded into the type (`INTEGER SERIAL` is `SERIAL`, without NOT NULL)."""
    if "PRIMARY KEY" in definition:
        definition = definition.replace("PRIMARY KEY", "", 1)
    if "SERIAL" in definition:
        if "BIGINT" in definition:
            definition = definition.replace("SERIAL", "BIGSERIAL", 1).replace("BIGINT", "", 1)
        elif "SMALLINT" in definition:
            definition = definition.replace("SERIAL", "SMALLSERIAL", 1).replace("SMALLINT", "", 1)
        else:
            definition = definition.replace("INTEGER", "", 1)
        definition = definition.replace("NOT NULL", "", 1)
    return definition
