"""How node-pg-migrate writes the parts of its statements (src/utils: createSchemalize, escapeValue,
types, makeComment; src/operations/tables/shared.ts: parseColumns, parseReferences,
parseConstraints; src/operations/indexes/shared.ts): names, values, columns, constraints and
index names, for pgm_operations.py.
"""

from __future__ import annotations

import itertools
import re
import string
from typing import Any

from migration_check.discovery.js_values import Expression, Unwritable, js_string, sql_scalar
from migration_check.sql.prepared import quote_identifier

TYPE_ADAPTERS = {"int": "integer", "string": "text", "float": "real", "double": "double precision",
                 "datetime": "timestamp", "bool": "boolean"}
DEFAULT_SHORTHANDS: dict[str, Any] = {"id": {"type": "serial", "primaryKey": True}}
_EXPRESSION = re.compile(r"(->>|->|#>>|#>|@\?|@@|@>|<@|\?\||\?&|\?|#-|\|\||::)|^[\w.]+\(|\s+[+*/-]\s+")


class Writer:
    """The writing of one migration: its shorthands (the module's, over node-pg-migrate's `id`)."""

    def __init__(self, shorthands: dict[str, Any]) -> None:
        self.shorthands = {**DEFAULT_SHORTHANDS, **shorthands}

    def literal(self, name: Any) -> str:
        """createSchemalize({shouldQuote: true})."""
        if isinstance(name, Expression):
            return name.text
        if isinstance(name, dict) and isinstance(name.get("name"), str):
            schema = f"{quote_identifier(name['schema'])}." if isinstance(name.get("schema"), str) else ""
            return schema + quote_identifier(name["name"])
        if isinstance(name, str):
            return quote_identifier(name)
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
        comments = [comment("COLUMN", f"{self.literal(table)}.{self.literal(name)}", options["comment"])
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
                    comments.append(comment(f"CONSTRAINT {self.literal(named)} ON", self.literal(table),
                                             options["referencesConstraintComment"]))
            if options.get("deferrable"):
                constraints.append(deferrable(options))
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
            found = [f"{constraint} {deferrable(options)}" for constraint in found]
        if options.get("comment"):
            if not option_name:
                raise Unwritable("a comment on unnamed constraints")
            comments.append(comment(f"CONSTRAINT {self.literal(option_name)} ON", self.literal(table), options["comment"]))
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


def _is_expression(value: str) -> bool:
    return bool(_EXPRESSION.search(value)) or (bool(re.search(r"[=<>!]+", value)) and bool(re.search(r"[A-Za-z0-9]", value)))


def escape_value(value: Any) -> str:
    """escapeValue: NULL, true, a dollar-quoted string, a number, an ARRAY[...], a literal as written."""
    if (scalar := sql_scalar(value)) is not None:
        return scalar
    if isinstance(value, str):
        tag = next(f"$pg{ident}$" for ident in _ids() if f"$pg{ident}$" not in value)
        return f"{tag}{value}{tag}"
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


def comment(kind: str, name: str, text: Any) -> str:
    return f"COMMENT ON {kind} {name} IS {escape_value(text)};"


def deferrable(options: dict[str, Any]) -> str:
    return f"DEFERRABLE INITIALLY {'DEFERRED' if options.get('deferred') else 'IMMEDIATE'}"
