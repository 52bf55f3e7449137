"""The SQL TypeORM's PostgreSQL query runner sends for its schema API (`queryRunner.createTable(new
Table({...}))`, `addColumn`, `createForeignKey`, `createIndex`, their drops), written as it writes it.

Read from TypeORM's src/driver/postgres/PostgresQueryRunner.ts (createTable, createTableSql,
buildCreateColumnSql, createEnumTypeSql, buildEnumName, createIndexSql, dropIndexSql,
createForeignKeySql, dropForeignKeySql, escapePath), PostgresDriver.ts (createFullType,
uuidGenerator) and DefaultNamingStrategy.ts (the names of unnamed constraints and indexes: a prefix
and the SHA-1 of the table and its sorted columns). The query runner asks the database first where
it may (does the table exist, which constraints does a column carry): what depends on that
(`renameColumn`, a `dropColumn` that names no TableColumn, a new primary key column) raises
Unwritable, and the migration is skipped naming the call.
"""

from __future__ import annotations

import hashlib
from typing import Any

from migration_check.discovery.js_values import Unwritable, written_by

SEARCH_SCHEMA = "public"  # the connection's first schema, which TypeORM leaves out of names
SERIALS = {"integer": "SERIAL", "int": "SERIAL", "int4": "SERIAL", "smallint": "SMALLSERIAL", "int2": "SMALLSERIAL",
           "bigint": "BIGSERIAL", "int8": "BIGSERIAL"}
CLASSES = ("Table", "TableColumn", "TableForeignKey", "TableIndex", "TableUnique", "TableCheck")


def made(kind: str) -> Any:
    """What `new <kind>({...})` is here: its options, marked with the class (None, code, for
    anything but its options)."""
    def make(options: Any) -> dict[str, Any] | None:
        return {**options, "__class__": kind} if isinstance(options, dict) else None
    return make


def query_runner_sql(method: str, arguments: list[Any], uuid_generator: str) -> list[str]:
    """The statements `queryRunner.<method>(arguments)` sends."""
    writer = WRITERS.get(method)
    if writer is None:
        raise Unwritable(f"queryRunner.{method}")
    return written_by(f"queryRunner.{method}", writer, uuid_generator, *arguments)


def _name(table: Any) -> str:
    name = table["name"] if isinstance(table, dict) else table
    if not isinstance(name, str):
        raise Unwritable(f"a table {table!r}")
    return name


def _path(table: Any) -> str:
    """escapePath: the schema only where it is not the search path's."""
    schema, _, name = _name(table).rpartition(".")
    return f'"{schema}"."{name}"' if schema and schema != SEARCH_SCHEMA else f'"{name}"'


def _hashed(prefix: str, table: Any, columns: list[str], length: int, where: str | None = None) -> str:
    """DefaultNamingStrategy: the prefix and the SHA-1 of `<table>_<sorted columns>`."""
    key = f"{_name(table).split('.')[-1].replace('.', '_')}_{'_'.join(sorted(columns))}" + (f"_{where}" if where else "")
    return prefix + hashlib.sha1(key.encode("utf-8")).hexdigest()[:length]


def _enum_name(table: Any, column: dict[str, Any]) -> str:
    schema, _, table_name = _name(table).rpartition(".")
    name = column.get("enumName") or f"{table_name}_{column['name'].lower()}_enum"
    return ".".join(f'"{part}"' for part in ([schema] if schema else []) + [name])


def _full_type(column: dict[str, Any]) -> str:
    """PostgresDriver.createFullType (the common types; spatial ones with their options: Unwritable)."""
    kind = column["type"]
    precision, scale = column.get("precision"), column.get("scale")
    if column.get("spatialFeatureType") is not None:
        raise Unwritable("a spatial column")
    full = kind + (f"({column['length']})" if column.get("length") else f"({precision},{scale})"
                   if precision is not None and scale is not None else f"({precision})" if precision is not None else "")
    timed = {"time without time zone": ("TIME", ""), "time with time zone": ("TIME", " WITH TIME ZONE"),
             "timestamp without time zone": ("TIMESTAMP", ""), "timestamp with time zone": ("TIMESTAMP", " WITH TIME ZONE")}
    if kind in timed:
        base, zone = timed[kind]
        full = base + (f"({precision})" if precision is not None else "") + zone
    return full + (" array" if column.get("isArray") else "")


def _column(uuid_generator: str, table: Any, column: dict[str, Any]) -> str:
    """buildCreateColumnSql."""
    text = f'"{column["name"]}"'
    generated, strategy, kind = column.get("isGenerated") is True, column.get("generationStrategy"), column["type"]
    if generated and strategy != "uuid":
        if strategy == "identity":
            text += f" {kind} GENERATED {column.get('generatedIdentity') or 'BY DEFAULT'} AS IDENTITY"
        elif kind in SERIALS:
            text += f" {SERIALS[kind]}"
    if kind in ("enum", "simple-enum"):
        text += f" {_enum_name(table, column)}" + (" array" if column.get("isArray") else "")
    elif not generated or kind == "uuid":
        text += f" {_full_type(column)}"
    if column.get("generatedType") == "STORED" and column.get("asExpression"):
        text += f" GENERATED ALWAYS AS ({column['asExpression']}) STORED"
    if column.get("collation"):
        text += f' COLLATE "{column["collation"]}"'
    if column.get("isNullable") is not True:
        text += " NOT NULL"
    if column.get("default") is not None:
        text += f" DEFAULT {column['default']}"
    if generated and strategy == "uuid" and not column.get("default"):
        text += f" DEFAULT {uuid_generator}"
    return text


def _enums(table: Any, columns: list[dict[str, Any]]) -> list[str]:
    created: list[str] = []
    for column in columns:
        if column["type"] in ("enum", "simple-enum") and (name := _enum_name(table, column)) not in created:
            created.append(name)
    # TypeORM creates an enum type only where the database has none of that name (hasEnumType)
    return [f"DO $$ BEGIN CREATE TYPE {name} AS ENUM("
            f"{', '.join(_quoted(v) for v in next(c for c in columns if _enum_name(table, c) == name)['enum'])});"
            " EXCEPTION WHEN duplicate_object THEN NULL; END $$" for name in created]


def _quoted(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _comment(text: Any) -> str:
    return "NULL" if text is None else _quoted(text)


def _create_table(uuid_generator: str, table: dict[str, Any], if_not_exists: bool = False,
                  create_foreign_keys: bool = True, create_indices: bool = True) -> list[str]:
    # With ifNotExists TypeORM does nothing where the table exists: IF NOT EXISTS, for it and its indexes
    exists = "IF NOT EXISTS " if if_not_exists else ""
    columns: list[dict[str, Any]] = table.get("columns") or []
    parts = [_column(uuid_generator, table, column) for column in columns]
    uniques = list(table.get("uniques") or [])
    for column in columns:
        if column.get("isUnique") and not any(u.get("columnNames") == [column["name"]] for u in uniques):
            uniques.append({"name": _hashed("UQ_", table, [column["name"]], 27), "columnNames": [column["name"]]})
    for unique in uniques:
        named = unique.get("name") or _hashed("UQ_", table, unique["columnNames"], 27)
        parts.append(f'CONSTRAINT "{named}" UNIQUE ({_listed(unique["columnNames"])})')
    for check in table.get("checks") or []:
        if not check.get("name"):
            raise Unwritable("an unnamed check")
        parts.append(f'CONSTRAINT "{check["name"]}" CHECK ({check["expression"]})')
    for key in (table.get("foreignKeys") or []) if create_foreign_keys else []:
        parts.append(_foreign_key_constraint(table, key))
    primary = [column["name"] for column in columns if column.get("isPrimary")]
    if primary:
        named = next((c.get("primaryKeyConstraintName") for c in columns if c.get("isPrimary")), None) or _hashed(
            "PK_", table, primary, 27)
        parts.append(f'CONSTRAINT "{named}" PRIMARY KEY ({_listed(primary)})')
    sql = f"CREATE TABLE {exists}{_path(table)} ({', '.join(parts)})"
    sql += "".join(f'; COMMENT ON COLUMN {_path(table)}."{c["name"]}" IS {_comment(c["comment"])}'
                   for c in columns if c.get("comment"))
    indices = [_index(table, index, exists) for index in table.get("indices") or []] if create_indices else []
    comment = [f"COMMENT ON TABLE {_path(table)} IS {_comment(table['comment'])}"] if table.get("comment") else []
    return [*_enums(table, columns), sql, *indices, *comment]


def _foreign_key(table: Any, key: dict[str, Any]) -> str:
    """createForeignKeySql."""
    return f"ALTER TABLE {_path(table)} ADD {_foreign_key_constraint(table, key)}"


def _foreign_key_constraint(table: Any, key: dict[str, Any]) -> str:
    """A foreign key as createTableSql and createForeignKeySql write it (its name TypeORM's where unnamed)."""
    named = key.get("name") or _hashed("FK_", table, key["columnNames"], 27)
    referenced = key["referencedTableName"] if not key.get("referencedSchema") else (
        f"{key['referencedSchema']}.{key['referencedTableName']}")
    sql = (f'CONSTRAINT "{named}" FOREIGN KEY ({_listed(key["columnNames"])})'
           f' REFERENCES {_path(referenced)}({_listed(key["referencedColumnNames"], ",")})')
    return sql + "".join(f" {word} {key[option]}" for option, word in (
        ("onDelete", "ON DELETE"), ("onUpdate", "ON UPDATE"), ("deferrable", "DEFERRABLE")) if key.get(option))


def _listed(columns: list[str], separator: str = ", ") -> str:
    """Column names quoted as TypeORM quotes them (as written: it doubles no quote)."""
    return separator.join(f'"{column}"' for column in columns)


def _index(table: Any, index: dict[str, Any], exists: str = "") -> str:
    if index.get("isSpatial") or index.get("isFulltext"):
        raise Unwritable("a spatial or full-text index")
    named = index.get("name") or _hashed("IDX_", table, index["columnNames"], 26, index.get("where"))
    columns = _listed(index["columnNames"])
    return (f'CREATE {"UNIQUE " if index.get("isUnique") else ""}INDEX{" CONCURRENTLY" if index.get("isConcurrent") else ""}'
            f' {exists}"{named}" ON {_path(table)}  ({columns}) {("WHERE " + index["where"]) if index.get("where") else ""}')


def _drop_table(uuid_generator: str, table: Any, if_exists: bool = False, *rest: Any) -> list[str]:
    # TypeORM drops the table's foreign keys and indexes first, which DROP TABLE drops with it
    return [f"DROP TABLE {'IF EXISTS ' if if_exists else ''}{_path(table)}"]


def _add_column(uuid_generator: str, table: Any, column: dict[str, Any]) -> list[str]:
    if column.get("isPrimary"):
        raise Unwritable("a primary key column (TypeORM rebuilds the primary key it reads from the database)")
    statements = [] if column["type"] not in ("enum", "simple-enum") else _enums(table, [column])
    statements.append(f"ALTER TABLE {_path(table)} ADD {_column(uuid_generator, table, column)}")
    if column.get("isUnique"):
        statements.append(f'ALTER TABLE {_path(table)} ADD CONSTRAINT "{_hashed("UQ_", table, [column["name"]], 27)}"'
                          f' UNIQUE ("{column["name"]}")')
    if column.get("comment"):
        statements.append(f'COMMENT ON COLUMN {_path(table)}."{column["name"]}" IS {_comment(column["comment"])}')
    return statements


def _add_columns(uuid_generator: str, table: Any, columns: list[dict[str, Any]]) -> list[str]:
    return [statement for column in columns for statement in _add_column(uuid_generator, table, column)]


def _drop_column(uuid_generator: str, table: Any, column: Any, *rest: Any) -> list[str]:
    if not isinstance(column, dict):
        raise Unwritable("a column by name (TypeORM reads its type and constraints from the database)")
    statements = [f'ALTER TABLE {_path(table)} DROP COLUMN "{column["name"]}"']
    if column["type"] in ("enum", "simple-enum"):
        statements.append(f"DROP TYPE {_enum_name(table, column)}")
    return statements


def _create_foreign_key(uuid_generator: str, table: Any, key: dict[str, Any]) -> list[str]:
    return [_foreign_key(table, key)]


def _drop_foreign_key(uuid_generator: str, table: Any, key: Any, if_exists: bool = False) -> list[str]:
    named = key if isinstance(key, str) else key.get("name") or _hashed("FK_", table, key["columnNames"], 27)
    return [f'ALTER TABLE {_path(table)} DROP CONSTRAINT {"IF EXISTS " if if_exists else ""}"{named}"']


def _create_index(uuid_generator: str, table: Any, index: dict[str, Any]) -> list[str]:
    return [_index(table, index)]


def _drop_index(uuid_generator: str, table: Any, index: Any, if_exists: bool = False) -> list[str]:
    named = index if isinstance(index, str) else index.get("name")
    if not named:
        raise Unwritable("an index without its name")
    schema = _name(table).rpartition(".")[0]
    concurrently = "CONCURRENTLY " if isinstance(index, dict) and index.get("isConcurrent") else ""
    return [f'DROP INDEX {concurrently}{"IF EXISTS " if if_exists else ""}' + (f'"{schema}".' if schema else "") + f'"{named}"']


WRITERS: dict[str, Any] = {
    "createTable": _create_table, "dropTable": _drop_table, "addColumn": _add_column, "addColumns": _add_columns,
    "dropColumn": _drop_column, "createForeignKey": _create_foreign_key,
    "createForeignKeys": lambda u, t, keys: [s for k in keys for s in _create_foreign_key(u, t, k)],
    "dropForeignKey": _drop_foreign_key, "createIndex": _create_index, "dropIndex": _drop_index,
}
