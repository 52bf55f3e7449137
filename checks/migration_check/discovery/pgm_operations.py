"""The SQL node-pg-migrate's MigrationBuilder writes for its operations (`pgm.createTable`,
`pgm.addColumns`, ...), and for their inverses where it infers a migration's down from its up.

Read from node-pg-migrate's src/operations (tables, indexes, extensions, types, views) and src/utils
(escapeValue, createSchemalize, types, formatLines): names are quoted as its `literal` quotes them
(`{schema, name}` objects as `"schema"."name"`), strings dollar-quoted as `escapeValue` does
(`$pga$active$pga$`), `pgm.func('now()')` written as it is, a column type through its shorthands
(`id`: serial primary key; the module's own `shorthands`) and adapters (`int`: integer). Each
operation gives its statements in order; an operation or an option this module does not write
raises Unwritable, and the migration is skipped naming it.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable
from typing import Any

from migration_check.discovery.db_migrate_api import Expression, Unwritable, js_string

TYPE_ADAPTERS = {"int": "integer", "string": "text", "float": "real", "double": "double precision",
                 "datetime": "timestamp", "bool": "boolean"}
DEFAULT_SHORTHANDS: dict[str, Any] = {"id": {"type": "serial", "primaryKey": True}}
ALIASES = {"addColumn": "addColumns", "dropColumn": "dropColumns", "createConstraint": "addConstraint",
           "addIndex": "createIndex", "addExtension": "createExtension", "addType": "createType"}
_EXPRESSION = re.compile(r"(->>|->|#>>|#>|@\?|@@|@>|<@|\?\||\?&|\?|#-|\|\||::)|^[\w.]+\(|\s+[+*/-]\s+")


def operation_sql(method: str, arguments: list[Any], shorthands: dict[str, Any], reverse: bool = False) -> list[str]:
    """The statements `pgm.<method>(arguments)` adds (or, with `reverse`, its inverse adds)."""
    name = ALIASES.get(method, method)
    writer = (INVERSES if reverse else OPERATIONS).get(name)
    if writer is None:
        raise Unwritable(f"pgm.{method} has no inverse node-pg-migrate can infer" if reverse and name in OPERATIONS
                         else f"pgm.{method}")
    try:
        return writer(_Writer(shorthands), *arguments)
    except Unwritable as exc:
        raise Unwritable(f"pgm.{method} with {exc}") from None
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise Unwritable(f"pgm.{method} with arguments this check does not write ({exc})") from None


class _Writer:
    def __init__(self, shorthands: dict[str, Any]) -> None:
        self.shorthands = {**DEFAULT_SHORTHANDS, **shorthands}

    def literal(self, name: Any) -> str:
        """createSchemalize({shouldQuote: true})."""
        if isinstance(name, Expression):
            return name.text
        if isinstance(name, dict) and isinstance(name.get("name"), str):
            schema = f"{_quote(name['schema'])}." if isinstance(name.get("schema"), str) else ""
            return schema + _quote(name["name"])
        if isinstance(name, str):
            return _quote(name)
        raise Unwritable(f"a name {name!r}")

    def schemalize(self, name: Any) -> str:
        """createSchemalize({shouldQuote: false}): an expression in parentheses."""
        if isinstance(name, Expression):
            return name.text
        if isinstance(name, str):
            return f"({name})" if _is_expression(name) else name
        raise Unwritable(f"a name {name!r}")

    def column_type(self, definition: Any) -> dict[str, Any]:
        """applyType: a definition through the shorthands, its type through the adapters."""
        options = {"type": definition} if isinstance(definition, str) else dict(definition)
        extension: dict[str, Any] | None = None
        seen = [options.get("type")]
        while isinstance(seen[-1], str) and seen[-1] in self.shorthands:
            short = self.shorthands[seen[-1]]
            short = {"type": short} if isinstance(short, str) else dict(short)
            extension = {**short, **({} if extension is None else {k: v for k, v in extension.items() if k != "type"})}
            if extension.get("type") in seen:
                raise Unwritable(f"shorthands that refer to each other ({seen})")
            seen.append(extension.get("type"))
        kind = (extension or {}).get("type", options.get("type"))
        return {**(extension or {}), **options, "type": TYPE_ADAPTERS.get(kind, kind) if isinstance(kind, str) else kind}

    def columns(self, table: Any, columns: dict[str, Any]) -> tuple[list[str], dict[str, Any], list[str]]:
        """parseColumns: the column lines, the table constraint their several primary keys make, the comments."""
        typed = {name: self.column_type(definition) for name, definition in columns.items()}
        keys = [name for name, options in typed.items() if options.get("primaryKey")]
        if len(keys) > 1:
            typed = {name: {**options, "primaryKey": False} for name, options in typed.items()}
        comments = [_comment("COLUMN", f"{self.literal(table)}.{self.literal(name)}", options["comment"])
                    for name, options in typed.items() if "comment" in options]
        lines = []
        for name, options in typed.items():
            if options.get("sequenceGenerated"):
                raise Unwritable("sequenceGenerated")
            constraints = [f"COLLATE {options['collation']}"] if options.get("collation") else []
            if "default" in options:
                constraints.append(f"DEFAULT {escape_value(options['default'])}")
            constraints += [word for key, word in (("unique", "UNIQUE"), ("primaryKey", "PRIMARY KEY"),
                                                   ("notNull", "NOT NULL")) if options.get(key)]
            if options.get("check"):
                constraints.append(f"CHECK ({options['check']})")
            if options.get("references"):
                named = options.get("referencesConstraintName") or (
                    f"{table}_fk_{name}" if options.get("referencesConstraintComment") else "")
                constraints.append((f"CONSTRAINT {self.literal(named)} " if named else "") + self.references(options))
                if options.get("referencesConstraintComment"):
                    comments.append(_comment(f"CONSTRAINT {self.literal(named)} ON", self.literal(table),
                                             options["referencesConstraintComment"]))
            if options.get("deferrable"):
                constraints.append(_deferrable(options))
            if options.get("expressionGenerated"):
                constraints.append(f"GENERATED ALWAYS AS ({options['expressionGenerated']}) STORED")
            base = self.literal(options["type"]) if isinstance(options["type"], dict) else options["type"]
            array = options.get("array")
            kind = f"{base} ARRAY" if array is True else f"{base} ARRAY[{js_string(array)}]" if isinstance(
                array, (int, float)) and not isinstance(array, bool) else base
            lines.append(f"{self.literal(name)} {kind}" + (f" {' '.join(constraints)}" if constraints else ""))
        return lines, ({"primaryKey": keys} if len(keys) > 1 else {}), comments

    def references(self, options: dict[str, Any]) -> str:
        """parseReferences."""
        target = options["references"]
        raw = isinstance(target, str) and (target.startswith('"') or target.endswith(")"))
        clauses = [f"REFERENCES {target if raw else self.literal(target)}"]
        clauses += [f"{word} {options[key]}" for key, word in (("match", "MATCH"), ("onDelete", "ON DELETE"),
                                                               ("onUpdate", "ON UPDATE")) if options.get(key)]
        return " ".join(clauses)

    def constraints(self, table: Any, options: dict[str, Any], option_name: str | None) -> tuple[list[str], list[str]]:
        """parseConstraints."""
        table_name = table["name"] if isinstance(table, dict) else table
        found: list[str] = []
        comments: list[str] = []
        check = options.get("check")
        if check:
            checks = check if isinstance(check, list) else [check]
            for at, expression in enumerate(checks, 1):
                named = option_name or (f"{table_name}_chck_{at}" if isinstance(check, list) else f"{table_name}_chck")
                found.append(f"CONSTRAINT {self.literal(named)} CHECK ({expression})")
        unique = options.get("unique")
        if unique:
            sets = unique if isinstance(unique, list) and any(isinstance(u, list) for u in unique) else [unique]
            for columns in sets:
                columns = columns if isinstance(columns, list) else [columns]
                named = option_name or f"{table_name}_uniq_{'_'.join(map(str, columns))}"
                found.append(f"CONSTRAINT {self.literal(named)} UNIQUE ({', '.join(map(self.literal, columns))})")
        primary = options.get("primaryKey")
        if primary:
            columns = primary if isinstance(primary, list) else [primary]
            found.append(f"CONSTRAINT {self.literal(option_name or f'{table_name}_pkey')} PRIMARY KEY"
                         f" ({', '.join(map(self.literal, columns))})")
        foreign = options.get("foreignKeys")
        for key in (foreign if isinstance(foreign, list) else [foreign] if foreign else []):
            columns = key["columns"] if isinstance(key["columns"], list) else [key["columns"]]
            named = self.literal(key.get("referencesConstraintName") or option_name
                                 or f"{table_name}_fk_{'_'.join(map(str, columns))}")
            found.append(f"CONSTRAINT {named} FOREIGN KEY ({', '.join(map(self.literal, columns))}) {self.references(key)}")
        if options.get("exclude"):
            found.append(f"CONSTRAINT {self.literal(option_name or f'{table_name}_excl')} EXCLUDE {options['exclude']}")
        if options.get("deferrable"):
            found = [f"{constraint} {_deferrable(options)}" for constraint in found]
        if options.get("comment"):
            if not option_name:
                raise Unwritable("a comment on unnamed constraints")
            comments.append(_comment(f"CONSTRAINT {self.literal(option_name)} ON", self.literal(table), options["comment"]))
        return found, comments

    def index_name(self, table: Any, columns: list[Any], options: dict[str, Any]) -> Any:
        """generateIndexName."""
        if options.get("name"):
            return {"schema": table["schema"], "name": options["name"]} if isinstance(table, dict) and table.get(
                "schema") else options["name"]
        parts = "_".join(self.schemalize(c["name"] if isinstance(c, dict) else c) for c in columns)
        unique = "_unique" if options.get("unique") else ""
        if isinstance(table, dict):
            return {"schema": table.get("schema"), "name": f"{table['name']}_{parts}{unique}_index"}
        return f"{table}_{parts}{unique}_index"

    def index_column(self, column: Any) -> str:
        """generateColumnString (and an IndexColumn's opclass and sort)."""
        if isinstance(column, dict):
            words = [self.index_column(column["name"]),
                     self.literal(column["opclass"]) if column.get("opclass") else "", column.get("sort") or ""]
            return " ".join(word for word in words if isinstance(word, str) and word)
        if isinstance(column, Expression):
            return column.text
        name = self.schemalize(column)
        if not re.search(r"[^\w\".]", name):
            return self.literal(name)
        return name if name.endswith(")") else f"({name})"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_expression(value: str) -> bool:
    return bool(_EXPRESSION.search(value)) or (bool(re.search(r"[=<>!]+", value)) and bool(re.search(r"[A-Za-z0-9]", value)))


def escape_value(value: Any) -> str:
    """escapeValue: NULL, true, a dollar-quoted string, a number, an ARRAY[...], a literal as written."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        tag = next(f"$pg{ident}$" for ident in _ids() if f"$pg{ident}$" not in value)
        return f"{tag}{value}{tag}"
    if isinstance(value, (int, float)):
        return js_string(value)
    if isinstance(value, list):
        return "ARRAY[" + ",".join(escape_value(v)[len("ARRAY"):] if isinstance(v, list) else escape_value(v)
                                   for v in value) + "]"
    if isinstance(value, Expression):
        return value.text
    return ""


def _ids() -> Any:
    """stringIdGenerator: a, b, ..., z, aa, ab, ..."""
    for length in itertools.count(1):
        for letters in itertools.product(string.ascii_lowercase, repeat=length):
            yield "".join(letters)


def _comment(kind: str, name: str, text: Any) -> str:
    return f"COMMENT ON {kind} {name} IS {escape_value(text)};"


def _deferrable(options: dict[str, Any]) -> str:
    return f"DEFERRABLE INITIALLY {'DEFERRED' if options.get('deferred') else 'IMMEDIATE'}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _create_table(w: _Writer, table: Any, columns: dict[str, Any], options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    if options.get("like") or options.get("partition") or options.get("inherits"):
        raise Unwritable("like, partition or inherits")
    lines, key, column_comments = w.columns(table, columns)
    constraints, constraint_comments = w.constraints(table, {**(options.get("constraints") or {}), **key}, "")
    words = ["CREATE", " TEMPORARY" if options.get("temporary") else "", " UNLOGGED" if options.get("unlogged") else "",
             " TABLE", " IF NOT EXISTS" if options.get("ifNotExists") else ""]
    comments = [*column_comments, *constraint_comments]
    if "comment" in options:
        comments.append(_comment("TABLE", w.literal(table), options["comment"]))
    return [" ".join([f"{''.join(words)} {w.literal(table)} ({', '.join([*lines, *constraints])});", *comments])]


def _drop_table(w: _Writer, table: Any, options: dict[str, Any] | None = None, *rest: Any) -> list[str]:
    options = options or {}
    return [f"DROP TABLE{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(table)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


def _add_columns(w: _Writer, table: Any, columns: dict[str, Any], options: dict[str, Any] | None = None) -> list[str]:
    lines, _, comments = w.columns(table, columns)
    exists = "IF NOT EXISTS " if (options or {}).get("ifNotExists") else ""
    return [" ".join([f"ALTER TABLE {w.literal(table)} {', '.join(f'ADD {exists}{line}' for line in lines)};", *comments])]


def _drop_columns(w: _Writer, table: Any, columns: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    names = list(columns) if isinstance(columns, dict) else _list(columns)
    exists, cascade = ("IF EXISTS " if options.get("ifExists") else ""), (" CASCADE" if options.get("cascade") else "")
    return [f"ALTER TABLE {w.literal(table)} {', '.join(f'DROP {exists}{w.literal(c)}{cascade}' for c in names)};"]


def _rename_column(w: _Writer, table: Any, old: str, new: str) -> list[str]:
    return [f"ALTER TABLE {w.literal(table)} RENAME {w.literal(old)} TO {w.literal(new)};"]


def _rename_table(w: _Writer, table: Any, new: Any) -> list[str]:
    return [f"ALTER TABLE {w.literal(table)} RENAME TO {w.literal(new)};"]


def _alter_column(w: _Writer, table: Any, column: str, options: dict[str, Any]) -> list[str]:
    if "sequenceGenerated" in options or "expressionGenerated" in options:
        raise Unwritable("sequenceGenerated or expressionGenerated")
    actions = ["DROP DEFAULT"] if "default" in options and options["default"] is None else (
        [f"SET DEFAULT {escape_value(options['default'])}"] if "default" in options else [])
    if options.get("type"):
        kind = TYPE_ADAPTERS.get(options["type"], options["type"])
        actions.append(f"SET DATA TYPE {kind}" + (f" COLLATE {options['collation']}" if options.get("collation") else "")
                       + (f" USING {options['using']}" if options.get("using") else ""))
    if options.get("notNull"):
        actions.append("SET NOT NULL")
    elif options.get("notNull") is False or options.get("allowNull"):
        actions.append("DROP NOT NULL")
    altered = ", ".join(f"ALTER {w.literal(column)} {action}" for action in actions)
    queries = [f"ALTER TABLE {w.literal(table)} {altered};"] if actions else []
    if "comment" in options:
        queries.append(_comment("COLUMN", f"{w.literal(table)}.{w.literal(column)}", options["comment"]))
    return [" ".join(queries)] if queries else []


def _add_constraint(w: _Writer, table: Any, name: str | None, expression: Any) -> list[str]:
    comments: list[str] = []
    if isinstance(expression, str):
        constraints = [(f"CONSTRAINT {w.literal(name)} " if name else "") + expression]
    else:
        constraints, comments = w.constraints(table, expression, name)
    if not constraints:
        raise Unwritable("no constraint")
    return [" ".join([f"ALTER TABLE {w.literal(table)} {', '.join(f'ADD {c}' for c in constraints)};", *comments])]


def _drop_constraint(w: _Writer, table: Any, name: str, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    alter = "ALTER TABLE IF EXISTS" if options.get("ifTableExists") else "ALTER TABLE"
    return [f"{alter} {w.literal(table)} DROP CONSTRAINT{' IF EXISTS' if options.get('ifExists') else ''}"
            f" {w.literal(name)}{' CASCADE' if options.get('cascade') else ''};"]


def _create_index(w: _Writer, table: Any, columns: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    listed = _list(columns)
    words = [" UNIQUE" if options.get("unique") else "", " INDEX", " CONCURRENTLY" if options.get("concurrently") else "",
             " IF NOT EXISTS" if options.get("ifNotExists") else ""]
    tail = (f" USING {options['method']}" if options.get("method") else "") + \
        f" ({', '.join(w.index_column(c) for c in listed)})" + \
        (f" INCLUDE ({', '.join(map(w.literal, _list(options['include'])))})" if options.get("include") else "") + \
        (f" NULLS {str(options['nulls']).upper()}" if options.get("nulls") else "") + \
        (f" WHERE {options['where']}" if options.get("where") else "")
    return [f"CREATE{''.join(words)} {w.literal(w.index_name(table, listed, options))} ON {w.literal(table)}{tail};"]


def _drop_index(w: _Writer, table: Any, columns: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    name = w.index_name(table, _list(columns), options)
    return [f"DROP INDEX{' CONCURRENTLY' if options.get('concurrently') else ''}{' IF EXISTS' if options.get('ifExists') else ''}"
            f" {w.literal(name)}{' CASCADE' if options.get('cascade') else ''};"]


def _create_extension(w: _Writer, extensions: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    schema = f" SCHEMA {w.literal(options['schema'])}" if options.get("schema") else ""
    exists = " IF NOT EXISTS" if options.get("ifNotExists") else ""
    return [f"CREATE EXTENSION{exists} {w.literal(e)}{schema};" for e in _list(extensions)]


def _drop_extension(w: _Writer, extensions: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    return [f"DROP EXTENSION{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(e)}"
            f"{' CASCADE' if options.get('cascade') else ''};" for e in _list(extensions)]


def _create_type(w: _Writer, name: Any, values: Any) -> list[str]:
    if isinstance(values, list):
        return [f"CREATE TYPE {w.literal(name)} AS ENUM ({', '.join(escape_value(v) for v in values)});"]
    attributes = ", ".join(f"{w.literal(key)} {w.column_type(kind)['type']}" for key, kind in values.items())
    return [f"CREATE TYPE {w.literal(name)} AS ({attributes});"]


def _drop_type(w: _Writer, name: Any, options: dict[str, Any] | None = None, *rest: Any) -> list[str]:
    options = options or {}
    return [f"DROP TYPE{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(name)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


def _create_view(w: _Writer, name: Any, options: dict[str, Any], definition: str) -> list[str]:
    if not definition:
        raise Unwritable("no definition")
    if options.get("options") or options.get("checkOption"):
        raise Unwritable("view options")
    columns = ", ".join(map(w.literal, _list(options["columns"]))) if options.get("columns") else ""
    words = (" OR REPLACE" if options.get("replace") else "") + (" TEMPORARY" if options.get("temporary") else "") + \
        (" RECURSIVE" if options.get("recursive") else "")
    return [f"CREATE{words} VIEW {w.literal(name)}{f'({columns})' if columns else ''} AS {definition};"]


def _drop_view(w: _Writer, name: Any, options: dict[str, Any] | None = None, *rest: Any) -> list[str]:
    options = options or {}
    return [f"DROP VIEW{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(name)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


Operation = Callable[..., list[str]]
OPERATIONS: dict[str, Operation] = {
    "createTable": _create_table, "dropTable": _drop_table, "addColumns": _add_columns, "dropColumns": _drop_columns,
    "renameColumn": _rename_column, "renameTable": _rename_table, "alterColumn": _alter_column,
    "addConstraint": _add_constraint, "dropConstraint": _drop_constraint, "createIndex": _create_index,
    "dropIndex": _drop_index, "createExtension": _create_extension, "dropExtension": _drop_extension,
    "createType": _create_type, "dropType": _drop_type, "createView": _create_view, "dropView": _drop_view,
}


def _reverse_add_constraint(w: _Writer, table: Any, name: str | None, expression: Any) -> list[str]:
    if name is None or isinstance(expression, str):
        raise Unwritable("no inverse node-pg-migrate can infer (an unnamed constraint, or raw SQL)")
    return _drop_constraint(w, table, name, expression)


INVERSES: dict[str, Operation] = {
    "createTable": lambda w, table, columns, options=None: _drop_table(w, table, options),
    "addColumns": lambda w, table, columns, options=None: _drop_columns(w, table, columns, options),
    "renameColumn": lambda w, table, old, new: _rename_column(w, table, new, old),
    "renameTable": lambda w, table, new: _rename_table(w, new, table),
    "addConstraint": _reverse_add_constraint,
    "createIndex": _drop_index, "createExtension": _drop_extension, "createType": _drop_type, "createView": _drop_view,
}
