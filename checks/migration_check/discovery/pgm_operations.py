"""The SQL node-pg-migrate's MigrationBuilder writes for its operations (`pgm.createTable`,
`pgm.addColumns`, ...), and for their inverses where it infers a migration's down from its up.

Read from node-pg-migrate's src/operations (tables, indexes, extensions, types, views, functions,
triggers) and src/utils
(escapeValue, createSchemalize, types, formatLines): names are quoted as its `literal` quotes them
(`{schema, name}` objects as `"schema"."name"`), strings dollar-quoted as `escapeValue` does
(`$pga$active$pga$`), `pgm.func('now()')` written as it is, a column type through its shorthands
(`id`: serial primary key; the module's own `shorthands`) and adapters (`int`: integer). Each
operation gives its statements in order; an operation or an option this module does not write
raises Unwritable, and the migration is skipped naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from migration_check.discovery.js_values import Unwritable, written_by
from migration_check.discovery.pgm_writer import TYPE_ADAPTERS, Writer, comment, escape_value

ALIASES = {"addColumn": "addColumns", "dropColumn": "dropColumns", "createConstraint": "addConstraint",
           "addIndex": "createIndex", "addExtension": "createExtension", "addType": "createType"}


def operation_sql(method: str, arguments: list[Any], shorthands: dict[str, Any], reverse: bool = False) -> list[str]:
    """The statements `pgm.<method>(arguments)` adds (or, with `reverse`, its inverse adds)."""
    name = ALIASES.get(method, method)
    writer = (INVERSES if reverse else OPERATIONS).get(name)
    if writer is None:
        raise Unwritable(f"pgm.{method} has no inverse node-pg-migrate can infer" if reverse and name in OPERATIONS
                         else f"pgm.{method}")
    return written_by(f"pgm.{method}", writer, Writer(shorthands), *arguments)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _create_table(w: Writer, table: Any, columns: dict[str, Any], options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    if options.get("like") or options.get("partition") or options.get("inherits"):
        raise Unwritable("like, partition or inherits")
    lines, key, column_comments = w.columns(table, columns)
    constraints, constraint_comments = w.constraints(table, {**(options.get("constraints") or {}), **key}, "")
    words = ["CREATE", " TEMPORARY" if options.get("temporary") else "", " UNLOGGED" if options.get("unlogged") else "",
             " TABLE", " IF NOT EXISTS" if options.get("ifNotExists") else ""]
    comments = [*column_comments, *constraint_comments]
    if "comment" in options:
        comments.append(comment("TABLE", w.literal(table), options["comment"]))
    return [" ".join([f"{''.join(words)} {w.literal(table)} ({', '.join([*lines, *constraints])});", *comments])]


def _drop_table(w: Writer, table: Any, options: dict[str, Any] | None = None, *rest: Any) -> list[str]:
    options = options or {}
    return [f"DROP TABLE{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(table)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


def _add_columns(w: Writer, table: Any, columns: dict[str, Any], options: dict[str, Any] | None = None) -> list[str]:
    lines, _, comments = w.columns(table, columns)
    exists = "IF NOT EXISTS " if (options or {}).get("ifNotExists") else ""
    return [" ".join([f"ALTER TABLE {w.literal(table)} {', '.join(f'ADD {exists}{line}' for line in lines)};", *comments])]


def _drop_columns(w: Writer, table: Any, columns: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    names = list(columns) if isinstance(columns, dict) else _list(columns)
    exists, cascade = ("IF EXISTS " if options.get("ifExists") else ""), (" CASCADE" if options.get("cascade") else "")
    return [f"ALTER TABLE {w.literal(table)} {', '.join(f'DROP {exists}{w.literal(c)}{cascade}' for c in names)};"]


def _rename_column(w: Writer, table: Any, old: str, new: str) -> list[str]:
    return [f"ALTER TABLE {w.literal(table)} RENAME {w.literal(old)} TO {w.literal(new)};"]


def _rename_table(w: Writer, table: Any, new: Any) -> list[str]:
    return [f"ALTER TABLE {w.literal(table)} RENAME TO {w.literal(new)};"]


def _alter_column(w: Writer, table: Any, column: str, options: dict[str, Any]) -> list[str]:
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
        queries.append(comment("COLUMN", f"{w.literal(table)}.{w.literal(column)}", options["comment"]))
    return [" ".join(queries)] if queries else []


def _add_constraint(w: Writer, table: Any, name: str | None, expression: Any) -> list[str]:
    comments: list[str] = []
    if isinstance(expression, str):
        constraints = [(f"CONSTRAINT {w.literal(name)} " if name else "") + expression]
    else:
        constraints, comments = w.constraints(table, expression, name)
    if not constraints:
        raise Unwritable("no constraint")
    return [" ".join([f"ALTER TABLE {w.literal(table)} {', '.join(f'ADD {c}' for c in constraints)};", *comments])]


def _drop_constraint(w: Writer, table: Any, name: str, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    alter = "ALTER TABLE IF EXISTS" if options.get("ifTableExists") else "ALTER TABLE"
    return [f"{alter} {w.literal(table)} DROP CONSTRAINT{' IF EXISTS' if options.get('ifExists') else ''}"
            f" {w.literal(name)}{' CASCADE' if options.get('cascade') else ''};"]


def _create_index(w: Writer, table: Any, columns: Any, options: dict[str, Any] | None = None) -> list[str]:
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


def _drop_index(w: Writer, table: Any, columns: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    name = w.index_name(table, _list(columns), options)
    return [f"DROP INDEX{' CONCURRENTLY' if options.get('concurrently') else ''}{' IF EXISTS' if options.get('ifExists') else ''}"
            f" {w.literal(name)}{' CASCADE' if options.get('cascade') else ''};"]


def _create_extension(w: Writer, extensions: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    schema = f" SCHEMA {w.literal(options['schema'])}" if options.get("schema") else ""
    exists = " IF NOT EXISTS" if options.get("ifNotExists") else ""
    return [f"CREATE EXTENSION{exists} {w.literal(e)}{schema};" for e in _list(extensions)]


def _drop_extension(w: Writer, extensions: Any, options: dict[str, Any] | None = None) -> list[str]:
    options = options or {}
    return [f"DROP EXTENSION{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(e)}"
            f"{' CASCADE' if options.get('cascade') else ''};" for e in _list(extensions)]


def _create_type(w: Writer, name: Any, values: Any) -> list[str]:
    if isinstance(values, list):
        return [f"CREATE TYPE {w.literal(name)} AS ENUM ({', '.join(escape_value(v) for v in values)});"]
    attributes = ", ".join(f"{w.literal(key)} {w.column_type(kind)['type']}" for key, kind in values.items())
    return [f"CREATE TYPE {w.literal(name)} AS ({attributes});"]


def _drop_type(w: Writer, name: Any, options: dict[str, Any] | None = None, *rest: Any) -> list[str]:
    options = options or {}
    return [f"DROP TYPE{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(name)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


def _create_view(w: Writer, name: Any, options: dict[str, Any], definition: str) -> list[str]:
    if not definition:
        raise Unwritable("no definition")
    if options.get("options") or options.get("checkOption"):
        raise Unwritable("view options")
    columns = ", ".join(map(w.literal, _list(options["columns"]))) if options.get("columns") else ""
    words = (" OR REPLACE" if options.get("replace") else "") + (" TEMPORARY" if options.get("temporary") else "") + \
        (" RECURSIVE" if options.get("recursive") else "")
    return [f"CREATE{words} VIEW {w.literal(name)}{f'({columns})' if columns else ''} AS {definition};"]


def _drop_view(w: Writer, name: Any, options: dict[str, Any] | None = None, *rest: Any) -> list[str]:
    options = options or {}
    return [f"DROP VIEW{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(name)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


def _params(w: Writer, params: list[Any]) -> str:
    """formatParams: each parameter's mode, name, type and default."""
    formatted = []
    for param in params or []:
        options = w.column_type(param)
        words = [options["mode"]] if options.get("mode") else []
        words += [w.literal(options["name"])] if options.get("name") else []
        words += [options["type"]] if options.get("type") else []
        words += [f"DEFAULT {escape_value(options['default'])}"] if "default" in options else []
        formatted.append(" ".join(words))
    return f"({', '.join(formatted)})"


def _create_function(w: Writer, name: Any, params: list[Any], options: dict[str, Any], definition: Any) -> list[str]:
    if not options.get("language"):
        raise Unwritable("a function without its language")
    words = [options.get("behavior", "VOLATILE") or "", f"LANGUAGE {options['language']}"]
    words += [f"SECURITY {options['security']}"] if options.get("security", "INVOKER") != "INVOKER" else []
    words += ["WINDOW"] if options.get("window") else []
    words += ["RETURNS NULL ON NULL INPUT"] if options.get("onNull") else []
    words += [f"PARALLEL {options['parallel']}"] if options.get("parallel") else []
    for setting in options.get("set") or []:
        value = setting["value"]
        words.append(f"SET {w.literal(setting['configurationParameter'])} " + (
            "FROM CURRENT" if value == "FROM CURRENT" else f"TO {value}"))
    replace = " OR REPLACE" if options.get("replace") else ""
    return [f"CREATE{replace} FUNCTION {w.literal(name)}{_params(w, params)} RETURNS {options.get('returns', 'void')}"
            f" AS {escape_value(definition)} {' '.join(word for word in words if word)};"]


def _drop_function(w: Writer, name: Any, params: list[Any] | None = None, options: dict[str, Any] | None = None,
                   *rest: Any) -> list[str]:
    options = options or {}
    kept = [{k: v for k, v in p.items() if k != "default"} if isinstance(p, dict) else p for p in params or []]
    return [f"DROP FUNCTION{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(name)}{_params(w, kept)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


def _create_trigger(w: Writer, table: Any, name: str, options: dict[str, Any], definition: Any = None) -> list[str]:
    when, level, function = options.get("when"), options.get("level", "STATEMENT"), options.get("function")
    if options.get("constraint"):
        when = "AFTER"
    operations = " OR ".join(_list(options.get("operation") or []))
    if not when or not operations:
        raise Unwritable("a trigger without its when or its operation")
    if re.search(r"instead\s+of", str(when), re.IGNORECASE):
        level = "ROW"
    function = (name if function is None else function) if definition else function
    if not function:
        raise Unwritable("a trigger without its function")
    deferred = ("DEFERRABLE INITIALLY " + ("DEFERRED" if options.get("deferred") else "IMMEDIATE")
                if options.get("deferrable") else "NOT DEFERRABLE") + " " if options.get("constraint") else ""
    condition = f"WHEN ({options['condition']}) " if options.get("condition") else ""
    params = ", ".join(escape_value(p) for p in options.get("functionParams") or [])
    trigger = (f"CREATE{' CONSTRAINT' if options.get('constraint') else ''} TRIGGER {w.literal(name)} {when} {operations}"
               f" ON {w.literal(table)} {deferred}FOR EACH {level} {condition}EXECUTE PROCEDURE {w.literal(function)}({params});")
    made = _create_function(w, function, [], {**options, "returns": "trigger"}, definition)[0] + " " if definition else ""
    return [made + trigger]


def _drop_trigger(w: Writer, table: Any, name: str, options: dict[str, Any] | None = None, *rest: Any) -> list[str]:
    options = options or {}
    return [f"DROP TRIGGER{' IF EXISTS' if options.get('ifExists') else ''} {w.literal(name)} ON {w.literal(table)}"
            f"{' CASCADE' if options.get('cascade') else ''};"]


def _reverse_create_trigger(w: Writer, table: Any, name: str, options: dict[str, Any], definition: Any = None) -> list[str]:
    dropped = _drop_trigger(w, table, name, options)[0]
    if definition:
        dropped += " " + _drop_function(w, options.get("function") or name, [], options)[0]
    return [dropped]


Operation = Callable[..., list[str]]
OPERATIONS: dict[str, Operation] = {
    "createTable": _create_table, "dropTable": _drop_table, "addColumns": _add_columns, "dropColumns": _drop_columns,
    "renameColumn": _rename_column, "renameTable": _rename_table, "alterColumn": _alter_column,
    "addConstraint": _add_constraint, "dropConstraint": _drop_constraint, "createIndex": _create_index,
    "dropIndex": _drop_index, "createExtension": _create_extension, "dropExtension": _drop_extension,
    "createType": _create_type, "dropType": _drop_type, "createView": _create_view, "dropView": _drop_view,
    "createFunction": _create_function, "dropFunction": _drop_function, "createTrigger": _create_trigger,
    "dropTrigger": _drop_trigger,
}


def _reverse_add_constraint(w: Writer, table: Any, name: str | None, expression: Any) -> list[str]:
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
    "createFunction": lambda w, name, params, options, definition: _drop_function(w, name, params, options),
    "createTrigger": _reverse_create_trigger,
}
