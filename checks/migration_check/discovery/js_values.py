"""Values written in a JavaScript module, read from its parse tree (tree-sitter) as JavaScript
would compute them where that needs no running: strings (escapes, `+`, templates whose `${}` name
the module's constants), numbers, true, false, null, arrays and objects of those, the members of
names a runner declares (db-migrate's `type.STRING`) and what its makers make (`new String('now()')`,
`pgm.func(...)`, `new Table({...})`). Anything else is code: `Code` carries its node.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tree_sitter import Node

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class Unwritable(Exception):
    """A call, or a value of one, that no writer here writes as the runner would."""


@dataclass(frozen=True)
class Expression:
    """SQL a runner writes as it is, not quoted (`new String('now()')`, `pgm.func('now()')`)."""

    text: str


def sql_text(value: Any) -> Expression | None:
    """The maker of an Expression (`new String(...)`): from a string only."""
    return Expression(value) if isinstance(value, str) else None


# What a writer raises when the arguments are not the shapes it reads (the runner would fail too).
MISREAD = (TypeError, KeyError, AttributeError, ValueError, IndexError)
Written = TypeVar("Written")


def written_by(call: str, writer: Callable[..., Written], *arguments: Any) -> Written:
    """What `writer` writes of a call's arguments; Unwritable naming the call where it cannot."""
    try:
        return writer(*arguments)
    except Unwritable as exc:
        raise Unwritable(f"{call} with {exc}") from None
    except MISREAD as exc:
        raise Unwritable(f"{call} with arguments this check does not write ({exc})") from None


# What Values.constant answers for a name the module binds no value to (None is JavaScript's null).
UNBOUND = object()


class Code(Exception):
    """What makes a value code: the node, for its line and name."""

    def __init__(self, node: Node) -> None:
        super().__init__(node.type)
        self.node = node


class Values:
    """The module's values, knowing its constants (`const DESCRIPTION = {...}` at the top level,
    whose values are themselves values) and, given the module's path, those it imports from the
    project's own modules (js_imports.py)."""

    def __init__(self, root: Node | None = None, path: Path | None = None) -> None:
        self.constants: dict[str, Any] = {}
        # The names it imports from relative modules, each read only when a value names it: most
        # imports (a migration's base class, a helper) never are, and reading them is reading modules.
        self.imports: dict[str, tuple[str, str]] = {}
        self.path = path
        if root is not None and path is not None:
            from migration_check.discovery.js_imports import import_bindings  # it reads modules with Values

            self.imports = import_bindings(root)
        # What makes a value of its one argument's value, by the callee's text (`new ` before a
        # constructor): db-migrate's `new String('now()')`, node-pg-migrate's `pgm.func('now()')`,
        # TypeORM's `new Table({...})`. A maker answers None for an argument it does not take.
        self.makers: dict[str, Callable[[Any], object | None]] = {"new String": sql_text}
        # What makes a value of its arguments' values, by the callee's text (Sequelize's
        # `Sequelize.DECIMAL(10, 2)`).
        self.calls: dict[str, Callable[[list[Any]], object]] = {"JSON.stringify": json_stringify}
        if path is not None:  # the module's SQL files, read as Node.js reads them (js_files.py)
            from migration_check.discovery.js_files import file_calls

            self.calls |= file_calls(path)
        # Names whose members are values (db-migrate's data types: `type.STRING`), by the owner's
        # last name.
        self.namespaces: dict[str, dict[str, Any]] = {}
        # The fields of the class being read (`this.table`), where written as values.
        self.fields: dict[str, Any] = {}
        # Where a constant's string is written (row, byte offset of its first character): SQL held in
        # one is placed there, so that an error in it is at its own line.
        self.positions: dict[str, tuple[int, int]] = {}
        for statement in root.named_children if root is not None else []:
            if statement.type == "export_statement":  # `export const TABLE = 'tags'`
                statement = statement.child_by_field_name("declaration") or statement
            if statement.type == "lexical_declaration" and text_of(statement).startswith("const"):
                for declarator in statement.named_children:
                    try:
                        self.bind(declarator)
                    except RecursionError:
                        continue

    def bind(self, declarator: Node) -> bool:
        """`NAME = value` of a `const`: the name bound to the value written there, and where a string
        it holds is written (a literal or a template, not a `+`); False where it is no such thing."""
        name, given = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
        if name is None or given is None or name.type != "identifier":
            return False
        try:
            self.constants[text_of(name)] = self.value(given)
        except Code:
            return False
        if given.type in ("string", "template_string"):
            self.positions[text_of(name)] = (given.start_point.row, given.start_byte + 1)
        else:
            self.positions.pop(text_of(name), None)
        return True

    def constant(self, name: str) -> Any:
        """The value the module binds to `name`: a constant of its own, or one it imports (read now);
        UNBOUND where it binds none."""
        if name in self.constants:
            return self.constants[name]
        if name in self.imports and self.path is not None:
            from migration_check.discovery.js_imports import imported_value

            return imported_value(self.path, *self.imports[name])
        return UNBOUND

    def value(self, node: Node) -> Any:
        """A value written in the module (a string, a number, true, an array, an object of those, a
        data type such as `type.STRING`, `new String('now()')`, the module's constants); Code at anything else."""
        kind = node.type
        if kind in ("string", "template_string", "binary_expression", "parenthesized_expression"):
            cooked = self.cooked(node)
            if isinstance(cooked, str):
                return cooked
            raise Code(cooked if cooked is not None else node)
        if kind in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[kind]
        if kind == "number":
            text = text_of(node).replace("_", "")
            try:
                return int(text, 0)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    raise Code(node) from None
        if kind == "unary_expression" and text_of(node).startswith("-") and node.named_children:
            return -self.value(node.named_children[0])
        if kind == "array":
            return [self.value(item) for item in node.named_children if item.type != "comment"]
        if kind == "object":
            found = {}
            for member in node.named_children:
                key = member.child_by_field_name("key") if member.type == "pair" else None
                value = member.child_by_field_name("value") if member.type == "pair" else None
                if member.type == "comment":
                    continue
                if key is None or value is None:
                    raise Code(member)
                found[self.cooked(key) if key.type == "string" else text_of(key)] = self.value(value)
            return found
        if kind == "identifier" and (constant := self.constant(text_of(node))) is not UNBOUND:
            return constant
        if kind == "identifier" and text_of(node) == "__dirname" and self.path is not None:
            return Path(os.path.abspath(self.path.parent)).as_posix()  # CommonJS's folder of the module
        if kind == "member_expression" and (prop := node.child_by_field_name("property")) is not None:
            owner = node.child_by_field_name("object")
            if owner is not None and owner.type == "this" and text_of(prop) in self.fields:
                return self.fields[text_of(prop)]
            if owner is not None and owner.type == "identifier" \
                    and (value := self.constant(text_of(owner))) is not UNBOUND:
                if isinstance(value, dict) and text_of(prop) in value:
                    return value[text_of(prop)]
            elif (space := self.namespaces.get(text_of(node).split(".")[-2])) is not None and text_of(prop) in space:
                return space[text_of(prop)]
        if kind in ("call_expression", "new_expression"):
            callee = node.child_by_field_name("function" if kind == "call_expression" else "constructor")
            maker = self.makers.get(("new " if kind == "new_expression" else "") + text_of(callee or node))
            given = arguments_of(node)
            if maker is not None and len(given) == 1 and (made := maker(self.value(given[0]))) is not None:
                return made
            caller = self.calls.get(text_of(callee)) if kind == "call_expression" and callee is not None else None
            if caller is None and kind == "call_expression" and callee is not None and self.imports:
                from migration_check.discovery.js_files import builtin_callee  # `join` imported from 'path'

                caller = self.calls.get(builtin_callee(callee, self.imports) or "")
            if caller is not None:
                try:
                    return caller([self.value(argument) for argument in given])
                except Unwritable:  # not a value this reads as JavaScript would compute it
                    raise Code(node) from None
        raise Code(node)

    def cooked(self, node: Node) -> str | Node | None:
        """The value of a string written in the module (a `+` of strings included); else the node that
        makes it code (a `${}`), or None where it is no string at all."""
        if node.type == "parenthesized_expression" and node.named_children:
            return self.cooked(node.named_children[0])
        if node.type == "binary_expression" and (operator := node.child_by_field_name("operator")) is not None \
                and text_of(operator) == "+":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            cooked = [self.cooked(side) if side is not None else None for side in (left, right)]
            if all(isinstance(part, str) for part in cooked):
                return "".join(part for part in cooked if isinstance(part, str))
            return next((part for part in cooked if not isinstance(part, str)), None)
        if node.type not in ("string", "template_string"):
            return None
        text = []
        for child in node.named_children:
            if child.type == "template_substitution":
                try:  # a constant of the module, as JavaScript prints it
                    value = self.value(child.named_children[0]) if child.named_children else None
                except Code:
                    return child
                if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                    return child
                text.append(js_string(value))
                continue
            text.append(fragment_text(child))
        return "".join(text)


def fragment_text(child: Node) -> str:
    """The text a string's or template's piece stands for (an escape sequence unescaped); "" for
    anything else."""
    if child.type == "escape_sequence":
        return _unescaped(text_of(child))
    return text_of(child) if child.type == "string_fragment" else ""


def _unescaped(escape: str) -> str:
    body = escape[1:]
    if body.startswith(("\n", "\r")):
        return ""  # a line continuation
    if body[:1] in ("x", "u") and len(body) > 1:
        digits = body[1:].strip("{}")
        try:
            return chr(int(digits, 16))
        except ValueError:
            return body
    return ESCAPES.get(body, body)


def descendants(root: Node, kinds: tuple[str, ...], within: bool = False) -> list[Node]:
    """The nodes of those kinds under `root`, in the order they are written; with `within`, those
    inside another of them too."""
    found = []
    stack = [root]
    while stack:
        current = stack.pop()
        if current.type in kinds:
            found.append(current)
            if not within:
                continue
        stack.extend(reversed(current.children))
    return found


def arguments_of(call: Node) -> list[Node]:
    """The arguments of a call (or a `new`), comments left out."""
    arguments = call.child_by_field_name("arguments")
    return [a for a in arguments.named_children if a.type != "comment"] if arguments is not None else []


def json_stringify(given: list[Any]) -> str:
    """JavaScript's `JSON.stringify(value)` of a value written in the module (no spaces; a number
    JavaScript would print otherwise than Python, `1e-7`, is not written here)."""
    if len(given) != 1:
        raise Unwritable("JSON.stringify with more than a value")
    def plain(value: Any) -> Any:
        if isinstance(value, float) and ("e" in repr(value) or value != value or value in (float("inf"), float("-inf"))):
            raise Unwritable(f"JSON.stringify of {value!r}")
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if value is None or isinstance(value, (str, int, float, bool)):
            return js_number(value) if isinstance(value, float) else value
        raise Unwritable(f"JSON.stringify of {value!r}")
    return json.dumps(plain(given[0]), separators=(",", ":"), ensure_ascii=False)


def js_number(value: float) -> int | float:
    """A float JavaScript prints as an integer (`2.0` is `2`) as one."""
    return int(value) if value.is_integer() else value


def sql_scalar(value: Any) -> str | None:
    """NULL, true, false or a number as the JavaScript drivers write them in SQL; None for anything else."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return js_string(value) if isinstance(value, (int, float)) else None


def version_and_name(pattern: re.Pattern[str], text: str) -> tuple[str, str]:
    """(version, name) as the runner's generator writes a file's name (`pattern`'s two groups, the
    name optional), else the whole text as the version: the Node.js runners record the whole name."""
    found = pattern.match(text)
    return (found[1], found[2] or "") if found else (text, "")


def js_sort_key(name: str) -> tuple[bytes]:
    """How JavaScript's sort orders a name: by UTF-16 code unit (the Node.js runners sort file names so)."""
    return (name.encode("utf-16-be"),)


def js_string(value: Any) -> str:
    """A value as JavaScript's String() prints it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    raise Unwritable(f"value {value!r}")


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


Link = tuple[str, list[Node] | None, Node]  # (property, its call's arguments or None, the property's node)


def chain_of(node: Node) -> tuple[Node, list[Link]]:
    """The root of a chain of calls and properties (`knex` of `knex.schema.createTable(...)`) and
    its links, first to last."""
    links: list[Link] = []
    while True:
        if node.type == "call_expression" and (callee := node.child_by_field_name("function")) is not None \
                and callee.type == "member_expression":
            prop, owner = callee.child_by_field_name("property"), callee.child_by_field_name("object")
            if prop is None or owner is None:
                return node, links
            links.insert(0, (text_of(prop), arguments_of(node), prop))
            node = owner
        elif node.type == "member_expression" and (prop := node.child_by_field_name("property")) is not None \
                and (owner := node.child_by_field_name("object")) is not None:
            links.insert(0, (text_of(prop), None, prop))
            node = owner
        elif node.type in ("await_expression", "parenthesized_expression") and node.named_children:
            node = node.named_children[0]
        else:
            return node, links
