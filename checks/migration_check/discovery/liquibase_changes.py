"""Liquibase's own change types, written as the SQL its PostgreSQL generators write, and the inverse
Liquibase derives for those it can roll back by itself.

Covered: createTable, dropTable, renameTable, addColumn, dropColumn, renameColumn, modifyDataType,
addNotNullConstraint, dropNotNullConstraint, addDefaultValue, dropDefaultValue, addAutoIncrement,
addPrimaryKey, dropPrimaryKey, addUniqueConstraint, dropUniqueConstraint, addForeignKeyConstraint,
dropForeignKeyConstraint, createIndex, dropIndex, createSequence, alterSequence, dropSequence, renameSequence,
createView, dropView, renameView, setTableRemarks, setColumnRemarks, insert, update, delete. Any
other is not written (None): its changeset is skipped with the reason.

Names are written as Liquibase's default quoting writes them: as given, quoted only where
PostgreSQL would not read them as written (a reserved word, a character outside an identifier's).
Types are Liquibase's names mapped to PostgreSQL's (`datetime` is `TIMESTAMP WITHOUT TIME ZONE`,
`clob` is `TEXT`, ...); any other type is written as given (`jsonb`, `geometry(Point, 4326)`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from pglast.keywords import RESERVED_KEYWORDS

from migration_check.discovery.liquibase_entries import is_false, is_true
from migration_check.sql.prepared import quote_identifier, quote_literal

# Liquibase's type names that PostgreSQL spells otherwise (liquibase.datatype.core, PostgresDatabase).
TYPES = {
    "int": "INTEGER", "integer": "INTEGER", "int4": "INTEGER", "mediumint": "INTEGER", "tinyint": "SMALLINT",
    "int2": "SMALLINT", "smallint": "SMALLINT", "int8": "BIGINT", "bigint": "BIGINT", "long": "BIGINT",
    "datetime": "TIMESTAMP WITHOUT TIME ZONE", "timestamp": "TIMESTAMP WITHOUT TIME ZONE",
    "clob": "TEXT", "nclob": "TEXT", "longtext": "TEXT", "mediumtext": "TEXT", "tinytext": "TEXT", "ntext": "TEXT",
    "blob": "BYTEA", "longblob": "BYTEA", "mediumblob": "BYTEA", "tinyblob": "BYTEA", "image": "BYTEA", "binary": "BYTEA",
    "varbinary": "BYTEA", "double": "DOUBLE PRECISION", "currency": "DECIMAL", "bit": "BOOLEAN", "boolean": "BOOLEAN",
    "nvarchar": "VARCHAR", "nchar": "CHAR", "uuid": "UUID", "text": "TEXT", "date": "DATE", "time": "TIME WITHOUT TIME ZONE",
}


JDBC_TYPE = "java.sql.types."
SERIALS = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})


# The changelog's (or changeset's) objectQuotingStrategy, while its changes are written.
QUOTING: ContextVar[str] = ContextVar("liquibase_quoting", default="LEGACY")


def name(identifier: object) -> str:
    """A name as PostgresDatabase.escapeObjectName writes it under the quoting strategy: LEGACY
    quotes a name in mixed case (haitaton-backend renames its column `permissionCode` to
    `permissioncode`, two names only when the first was quoted), one with a `-`, one that starts
    with a digit and a reserved word; QUOTE_ONLY_RESERVED_WORDS the last (AAFC-BICoE/seqdb-api
    drops `ContainerTypes`, created as `containertypes`); QUOTE_ALL_OBJECTS every name."""
    text = str(identifier)
    strategy = QUOTING.get().upper()
    unusual = not (text.replace("_", "a").isalnum() and text.isascii()) or text[:1].isdigit()
    mixed = any(c.isupper() for c in text) and any(c.islower() for c in text)
    quoted = (strategy == "QUOTE_ALL_OBJECTS" or unusual or text.lower() in RESERVED_KEYWORDS
              or (strategy == "LEGACY" and mixed))
    return quote_identifier(text) if quoted else text


def table(attributes: dict[str, Any], key: str = "tableName") -> str:
    schema = attributes.get("schemaName")
    return (f"{name(schema)}." if schema else "") + name(attributes.get(key, ""))


def data_type(written: object) -> str:
    text = str(written).strip()
    if text.lower().startswith(JDBC_TYPE):  # Liquibase reads `java.sql.Types.VARCHAR(500)` as VARCHAR(500)
        text = text[len(JDBC_TYPE):]
    words = " ".join(text.lower().split())
    if words == "timestamptz" or (words.startswith("timestamp") and ("with timezone" in words or "with time zone" in words)):
        return "TIMESTAMP WITH TIME ZONE"  # Liquibase's TimestampType reads either spelling
    base, _, rest = text.partition("(")
    mapped = TYPES.get(base.strip().lower())
    if mapped is None:
        return text
    return f"{mapped}({rest}" if rest and mapped in ("VARCHAR", "CHAR", "DECIMAL") else mapped


def value(attributes: dict[str, Any], prefix: str = "value") -> str | None:
    """The SQL of a column's `value*` (or `defaultValue*`) attribute; None where it has none."""
    renders: tuple[tuple[str, Callable[[Any], str]], ...] = (
        ("Computed", _computed), ("Numeric", str), ("Boolean", lambda v: "TRUE" if is_true(v) else "FALSE"),
        # ColumnConfig: a plain value of `null` is NULL, not the string (natural-history-collection-api
        # sets a timestamptz column to value="null" before changing its type).
        ("Date", lambda v: quote_literal(str(v))),
        ("", lambda v: "NULL" if v is None or str(v).lower() == "null" else quote_literal(str(v))))
    for suffix, render in renders:
        key = prefix + suffix
        if key in attributes:
            return render(attributes[key]).strip()
    return None


def typed(rendered: str | None, written_type: object) -> str | None:
    """A value as Liquibase writes it into a column of its type: 0 and 1 for a boolean are FALSE
    and TRUE (its BooleanType; apache/fineract's `defaultValueNumeric="0"` on a boolean column)."""
    if rendered is not None and written_type is not None and data_type(written_type) == "BOOLEAN":
        return {"0": "FALSE", "1": "TRUE", "'0'": "FALSE", "'1'": "TRUE"}.get(rendered, rendered)
    return rendered


def _computed(written: object) -> str:
    """A computed value as Liquibase writes it for PostgreSQL (AbstractJdbcDatabase's
    generateDatabaseFunctionValue): any `current_timestamp...` or `current_datetime...` is the
    database's own function, NOW() (apache/fineract's `current_timestamp()`, which PostgreSQL
    would refuse)."""
    text = str(written)
    lowered = text.lower()
    return "NOW()" if lowered.startswith(("current_timestamp", "current_datetime")) or lowered == "now()" else text


def columns_of(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["column"] for entry in attributes.get("columns") or [] if isinstance(entry, dict) and "column" in entry]


def _column_definition(column: dict[str, Any], primary_keys: list[str], trailing: list[str]) -> str:
    parts = [name(column.get("name", "")), data_type(column.get("type", ""))]
    # A serial type is its own auto-increment: Liquibase adds no identity to it (AAFC-BICoE's
    # `type="SERIAL" autoIncrement="true"`; both would be "both default and identity specified").
    if is_true(column.get("autoIncrement")) and str(column.get("type", "")).strip().lower() not in SERIALS:
        parts.append(_identity(column))
    default = typed(value(column, "defaultValue"), column.get("type"))
    if default is not None:
        parts.append(f"DEFAULT {default}")
    constraints = column.get("constraints") or {}
    if is_false(constraints.get("nullable")) or is_true(constraints.get("primaryKey")):
        parts.append("NOT NULL")
    if is_true(constraints.get("unique")):
        parts.append(f"CONSTRAINT {name(constraints['uniqueConstraintName'])} UNIQUE"
                     if constraints.get("uniqueConstraintName") else "UNIQUE")
    if is_true(constraints.get("primaryKey")):
        primary_keys.append(name(column.get("name", "")))
    references = constraints.get("references") or (
        f"{constraints['referencedTableName']}({constraints.get('referencedColumnNames', 'id')})"
        if constraints.get("referencedTableName") else None)
    if references:
        key = f"CONSTRAINT {name(constraints['foreignKeyName'])} " if constraints.get("foreignKeyName") else ""
        cascade = " ON DELETE CASCADE" if is_true(constraints.get("deleteCascade")) else ""
        trailing.append(f"{key}FOREIGN KEY ({name(column.get('name', ''))}) REFERENCES {references}{cascade}")
    return " ".join(parts)


def _create_table(a: dict[str, Any]) -> str:
    primary_keys: list[str] = []
    trailing: list[str] = []
    definitions = [_column_definition(column, primary_keys, trailing) for column in columns_of(a)]
    if primary_keys:
        pk_name = next((c.get("constraints", {}).get("primaryKeyName") for c in columns_of(a)
                        if (c.get("constraints") or {}).get("primaryKeyName")), None)
        definitions.append((f"CONSTRAINT {name(pk_name)} " if pk_name else "") + f"PRIMARY KEY ({', '.join(primary_keys)})")
    sql = f"CREATE TABLE {table(a)} ({', '.join(definitions + trailing)});"
    if a.get("remarks"):
        sql += f"\nCOMMENT ON TABLE {table(a)} IS {quote_literal(str(a['remarks']))};"
    return sql


def _add_column(a: dict[str, Any]) -> str:
    statements = []
    for column in columns_of(a):
        trailing: list[str] = []
        definition = _column_definition(column, [], trailing)
        extra = "".join(f", ADD {constraint}" for constraint in trailing)
        statements.append(f"ALTER TABLE {table(a)} ADD {definition}{extra};")
    return "\n".join(statements)


def _drop_column(a: dict[str, Any]) -> str:
    names = [a["columnName"]] if a.get("columnName") else [c.get("name", "") for c in columns_of(a)]
    return "\n".join(f"ALTER TABLE {table(a)} DROP COLUMN {name(column)};" for column in names)


def _add_not_null(a: dict[str, Any]) -> str:
    column = name(a.get("columnName", ""))
    fill = value(a, "defaultNullValue")
    update = f"UPDATE {table(a)} SET {column} = {fill} WHERE {column} IS NULL;\n" if fill is not None else ""
    return f"{update}ALTER TABLE {table(a)} ALTER COLUMN {column} SET NOT NULL;"


def _names(written: object) -> list[str]:
    """The names of a comma-separated list, as Liquibase splits it (Java's split: a trailing comma
    adds no name; apache/fineract's `columnNames="reversal_external_id,"`)."""
    return [part.strip() for part in str(written or "").split(",") if part.strip()]


def column_list(written: object) -> str:
    """A list of columns as Liquibase's escapeColumnNameList writes it: each name escaped as a
    name, a trailing DESC or ASC kept."""
    columns = []
    for part in _names(written):
        base, _, order = part.rpartition(" ")
        if base and order.upper() in ("ASC", "DESC"):
            columns.append(f"{name(base.strip())} {order.upper()}")
        else:
            columns.append(name(part))
    return ", ".join(columns)


def _indexcolumns_of(a: dict[str, Any]) -> str:
    """The index's columns; an expression (`computed`, or a name with a call in it, `LOWER(name)`)
    is written as it is, as Liquibase writes it."""
    return ", ".join((str(c.get("name", "")) if is_true(c.get("computed")) or "(" in str(c.get("name", ""))
                      else name(c.get("name", ""))) + (" DESC" if is_true(c.get("descending")) else "")
                     for c in columns_of(a))


def _insert(a: dict[str, Any]) -> str:
    columns = columns_of(a)
    return (f"INSERT INTO {table(a)} ({', '.join(name(c.get('name', '')) for c in columns)})"
            f" VALUES ({', '.join(value(c) or 'NULL' for c in columns)});")


def _alter(a: dict[str, Any], key: str = "tableName") -> str:
    return f"ALTER TABLE {table(a, key)}"


def _column(a: dict[str, Any]) -> str:
    return name(a.get("columnName", ""))


def _named_constraint(a: dict[str, Any]) -> str:
    return f"CONSTRAINT {name(a['constraintName'])} " if a.get("constraintName") else ""


def _assignment(column: dict[str, Any]) -> str:
    return f"{name(column.get('name', ''))} = {value(column) or 'NULL'}"


def _identity(a: dict[str, Any]) -> str:
    return f"GENERATED {'ALWAYS' if str(a.get('generationType', '')).upper() == 'ALWAYS' else 'BY DEFAULT'} AS IDENTITY"


def _drop_unnamed_primary_key(a: dict[str, Any]) -> str:
    """DropPrimaryKeyGenerator on PostgreSQL without a constraintName: a DO block that finds the table's
    primary key in information_schema, whatever its name (tolgee's `task_keyPK`), and drops it."""
    schema = a.get("schemaName")
    stored = {key: (text if name(text).startswith('"') else text.lower())
              for key, text in (("schema", str(schema or "")), ("table", str(a.get("tableName", ""))))}
    where_schema = quote_literal(stored["schema"]) if schema else "current_schema()"
    return ("DO $$ DECLARE constraint_name varchar; BEGIN SELECT tc.constraint_name INTO STRICT constraint_name"
            " FROM information_schema.table_constraints tc WHERE constraint_type = 'PRIMARY KEY' AND table_name ="
            f" {quote_literal(stored['table'])} AND table_schema = {where_schema}; EXECUTE 'alter table ' ||"
            f" {quote_literal(table(a))} || ' drop constraint \"' || constraint_name || '\"'; END $$;")


def _alter_sequence(a: dict[str, Any]) -> str:
    """AlterSequenceGenerator: the clauses given, in its order."""
    clauses = [(f"INCREMENT BY {a['incrementBy']}" if a.get("incrementBy") is not None else ""),
               (f"MINVALUE {a['minValue']}" if a.get("minValue") is not None else ""),
               (f"MAXVALUE {a['maxValue']}" if a.get("maxValue") is not None else ""),
               (f"CACHE {a['cacheSize']}" if a.get("cacheSize") is not None else ""),
               ({"true": "CYCLE", "false": "NO CYCLE"}.get(str(a.get("cycle")).lower(), "")),
               (f"AS {data_type(a['dataType'])}" if a.get("dataType") else "")]
    return f"ALTER SEQUENCE {table(a, 'sequenceName')} {' '.join(c for c in clauses if c)};"


def _default_unique(a: dict[str, Any]) -> str:
    """PostgreSQL's name for a unique constraint nobody named."""
    columns = "_".join(_names(a.get("columnNames")))
    return f"{a.get('tableName', '')}_{columns}_key"


def _add_auto_increment(a: dict[str, Any]) -> str:
    """Liquibase's addAutoIncrement on PostgreSQL (AddAutoIncrementChange): a sequence owned by the
    column, and the column's default its nextval, not an identity (haitaton-backend inserts its
    own ids into such a column right after)."""
    sequence = table({"schemaName": a.get("schemaName"), "tableName": f"{a.get('tableName', '')}_{a.get('columnName', '')}_seq"})
    options = "".join(f" {word} {a[key]}" for word, key in (("START WITH", "startWith"), ("INCREMENT BY", "incrementBy"))
                      if a.get(key) is not None)
    return (f"CREATE SEQUENCE {sequence}{options};\n{_alter(a)} ALTER COLUMN {_column(a)} SET NOT NULL;\n"
            f"{_alter(a)} ALTER COLUMN {_column(a)} SET DEFAULT nextval({quote_literal(sequence)}::regclass);\n"
            f"ALTER SEQUENCE {sequence} OWNED BY {table(a)}.{_column(a)};")


def _where(a: dict[str, Any]) -> str:
    return f" WHERE {a['where']}" if a.get("where") else ""


def _foreign_key(a: dict[str, Any]) -> str:
    referenced = (f"{name(a['referencedTableSchemaName'])}." if a.get("referencedTableSchemaName") else "") + name(
        a.get("referencedTableName", ""))
    actions = "".join(f" ON {event} {a[key]}" for event, key in (("DELETE", "onDelete"), ("UPDATE", "onUpdate"))
                      if a.get(key) and str(a[key]).upper() != "RESTRICT")
    base = table({"schemaName": a.get("baseTableSchemaName"), "tableName": a.get("baseTableName", "")})
    return (f"ALTER TABLE {base} ADD CONSTRAINT {name(a.get('constraintName', ''))}"
            f" FOREIGN KEY ({column_list(a.get('baseColumnNames'))})"
            f" REFERENCES {referenced} ({column_list(a.get('referencedColumnNames'))}){actions};")


WRITERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "createTable": _create_table,
    "dropTable": lambda a: f"DROP TABLE {table(a)}{' CASCADE' if is_true(a.get('cascadeConstraints')) else ''};",
    "renameTable": lambda a: f"ALTER TABLE {table(a, 'oldTableName')} RENAME TO {name(a.get('newTableName', ''))};",
    "addColumn": _add_column,
    "dropColumn": _drop_column,
    "renameColumn": lambda a: (f"{_alter(a)} RENAME COLUMN {name(a.get('oldColumnName', ''))}"
                               f" TO {name(a.get('newColumnName', ''))};"),
    "modifyDataType": lambda a: (f"{_alter(a)} ALTER COLUMN {_column(a)} TYPE {data_type(a.get('newDataType', ''))}"
                                 f" USING ({_column(a)}::{data_type(a.get('newDataType', ''))});"),
    "addNotNullConstraint": _add_not_null,
    "dropNotNullConstraint": lambda a: f"{_alter(a)} ALTER COLUMN {_column(a)} DROP NOT NULL;",
    "addDefaultValue": lambda a: f"{_alter(a)} ALTER COLUMN {_column(a)} SET DEFAULT"
                      f" {typed(value(a, 'defaultValue'), a.get('columnDataType'))};",
    "dropDefaultValue": lambda a: f"{_alter(a)} ALTER COLUMN {_column(a)} DROP DEFAULT;",
    "addAutoIncrement": _add_auto_increment,
    "addPrimaryKey": lambda a: f"{_alter(a)} ADD {_named_constraint(a)}PRIMARY KEY ({column_list(a.get('columnNames'))});",
    "dropPrimaryKey": lambda a: (f"{_alter(a)} DROP CONSTRAINT {name(a['constraintName'])};" if a.get("constraintName")
                                 else _drop_unnamed_primary_key(a)),
    "addUniqueConstraint": lambda a: f"{_alter(a)} ADD {_named_constraint(a)}UNIQUE ({column_list(a.get('columnNames'))});",
    "dropUniqueConstraint": lambda a: f"{_alter(a)} DROP CONSTRAINT {name(a.get('constraintName') or _default_unique(a))};",
    "addForeignKeyConstraint": _foreign_key,
    "dropForeignKeyConstraint": lambda a: f"{_alter(a, 'baseTableName')} DROP CONSTRAINT {name(a.get('constraintName', ''))};",
    "createIndex": lambda a: (f"CREATE {'UNIQUE ' if is_true(a.get('unique')) else ''}INDEX {name(a.get('indexName', ''))}"
                              f" ON {table(a)} ({_indexcolumns_of(a)});"),
    "dropIndex": lambda a: f"DROP INDEX {table(a, 'indexName')};",
    "createSequence": lambda a: (f"CREATE SEQUENCE {table(a, 'sequenceName')}"
                                 + (f" START WITH {a['startValue']}" if a.get("startValue") is not None else "")
                                 + (f" INCREMENT BY {a['incrementBy']}" if a.get("incrementBy") is not None else "") + ";"),
    "dropSequence": lambda a: f"DROP SEQUENCE {table(a, 'sequenceName')};",
    "alterSequence": _alter_sequence,
    "createView": lambda a: (f"CREATE {'OR REPLACE ' if is_true(a.get('replaceIfExists')) else ''}VIEW"
                             f" {table(a, 'viewName')} AS {str(a.get('selectQuery', '')).strip().rstrip(';')};"),
    "dropView": lambda a: f"DROP VIEW {table(a, 'viewName')};",
    "renameView": lambda a: f"ALTER VIEW {table(a, 'oldViewName')} RENAME TO {name(a.get('newViewName', ''))};",
    "renameSequence": lambda a: (f"ALTER SEQUENCE {table(a, 'oldSequenceName')} RENAME TO"
                                 f" {name(a.get('newSequenceName', ''))};"),
    "setTableRemarks": lambda a: f"COMMENT ON TABLE {table(a)} IS {quote_literal(str(a.get('remarks', '')))};",
    "setColumnRemarks": lambda a: (f"COMMENT ON COLUMN {table(a)}.{_column(a)} IS"
                                   f" {quote_literal(str(a.get('remarks', '')))};"),
    "insert": _insert,
    "update": lambda a: f"UPDATE {table(a)} SET {', '.join(_assignment(c) for c in columns_of(a))}{_where(a)};",
    "delete": lambda a: f"DELETE FROM {table(a)}{_where(a)};",
}

# The rollbacks Liquibase derives by itself (each change type's createInverses); the others have
# none, and a changeset of them rolls back only with a rollback written for it.
INVERSES: dict[str, Callable[[dict[str, Any]], str]] = {
    "createTable": lambda a: f"DROP TABLE {table(a)};",
    "renameTable": lambda a: WRITERS["renameTable"]({**a, "oldTableName": a.get("newTableName"),
                                                     "newTableName": a.get("oldTableName")}),
    "addColumn": lambda a: _drop_column({**a, "columnName": None}),
    "renameColumn": lambda a: WRITERS["renameColumn"]({**a, "oldColumnName": a.get("newColumnName"),
                                                       "newColumnName": a.get("oldColumnName")}),
    "addNotNullConstraint": lambda a: WRITERS["dropNotNullConstraint"](a),
    "dropNotNullConstraint": lambda a: f"{_alter(a)} ALTER COLUMN {_column(a)} SET NOT NULL;",
    "addDefaultValue": lambda a: WRITERS["dropDefaultValue"](a),
    "addPrimaryKey": lambda a: WRITERS["dropPrimaryKey"](a),
    "addUniqueConstraint": lambda a: WRITERS["dropUniqueConstraint"](a),
    "addForeignKeyConstraint": lambda a: WRITERS["dropForeignKeyConstraint"](a),
    "createIndex": lambda a: WRITERS["dropIndex"](a),
    "createSequence": lambda a: WRITERS["dropSequence"](a),
    "createView": lambda a: WRITERS["dropView"](a),
    "renameView": lambda a: WRITERS["renameView"]({**a, "oldViewName": a.get("newViewName"),
                                                   "newViewName": a.get("oldViewName")}),
    "renameSequence": lambda a: WRITERS["renameSequence"]({**a, "oldSequenceName": a.get("newSequenceName"),
                                                           "newSequenceName": a.get("oldSequenceName")}),
}


def change_sql(kind: str, attributes: object, quoting: str = "LEGACY") -> str | None:
    """The SQL Liquibase writes for the change on PostgreSQL; None for a type not covered here."""
    return _written(WRITERS.get(kind), attributes, quoting)


def inverse_sql(kind: str, attributes: object, quoting: str = "LEGACY") -> str | None:
    """The rollback Liquibase derives for the change; None where it derives none."""
    return _written(INVERSES.get(kind), attributes, quoting)


def _written(writer: Callable[[dict[str, Any]], str] | None, attributes: object, quoting: str) -> str | None:
    if writer is None or not isinstance(attributes, dict):
        return None
    token = QUOTING.set(quoting)
    try:
        return writer(attributes)
    finally:
        QUOTING.reset(token)
