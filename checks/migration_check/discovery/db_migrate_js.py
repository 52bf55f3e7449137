"""What a db-migrate module runs, read with a JavaScript parser (tree-sitter's JavaScript grammar),
never by searching its text.

db-migrate requires the module and calls its `up` and `down` exports with the driver (`db`) and a
callback. Most modules written by hand send their SQL in the module itself: `db.runSql('ALTER
TABLE ...', callback)`, PostgreSQL's driver (db-migrate-pg) sending each `runSql` as one query in
the migration's transaction (Unleash keeps 388 of its 394 migrations so). An export is read as that
SQL when all it does is call `db.runSql` with SQL written in the module (a string, a template
without `${}`, or a `+` of those) and call or pass on its callbacks; anything else (the driver's
API, SQL the code builds, a branch on what a query returned, a loop) is code the replay cannot run,
and the first such thing is named with its line.

The module's string literals also give the SQL files a generated module loads (`db-migrate create
--sql-file`: `path.join(__dirname, 'sqls', '<name>-up.sql')`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

from migration_check.sql.lexing import closing_of

SQL_FILE = re.compile(r"(?:^|/)(?P<file>[^/]+-(?P<direction>up|down)\.sql)$")
DIRECTIONS = ("up", "down")
FUNCTIONS = frozenset({"function_expression", "arrow_function", "function_declaration", "method_definition",
                       "generator_function", "function"})
# What an export may hold around its runSql calls without doing anything else.
PLAIN = frozenset({"program", "statement_block", "expression_statement", "return_statement", "await_expression",
                   "parenthesized_expression", "comment", "empty_statement", "null", "undefined", "true", "false"})
WHAT = {
    "if_statement": "an if", "ternary_expression": "a condition", "switch_statement": "a switch",
    "for_statement": "a loop", "for_in_statement": "a loop", "while_statement": "a loop", "do_statement": "a loop",
    "lexical_declaration": "a variable", "variable_declaration": "a variable", "assignment_expression": "an assignment",
    "try_statement": "a try", "throw_statement": "a throw", "new_expression": "a new object",
    "template_substitution": "a ${} in its SQL", "array": "query parameters",
}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


@dataclass(frozen=True)
class Piece:
    """One `runSql` of SQL written in the module, where that SQL starts (1-based line and column)."""

    line: int
    column: int
    sql: str


@dataclass(frozen=True)
class Export:
    """What the module's `up` or `down` runs: its SQL in order, or the first thing it does besides
    (line, what), which the replay cannot run."""

    line: int
    pieces: tuple[Piece, ...] = ()
    code: tuple[int, str] | None = None

    def sql(self) -> str:
        """The pieces at their own lines and columns from the export's line on (so that an error's
        position is the module's), each closed with `;` where it leaves a statement open, blanks
        between them."""
        text = ""
        line, column = self.line, 1
        for piece in self.pieces:
            if piece.line > line:
                text += "\n" * (piece.line - line)
                line, column = piece.line, 1
            text += " " * max(piece.column - column, 1 if text and not text.endswith("\n") else 0)
            closing = closing_of(piece.sql)
            text += piece.sql + closing
            line += (piece.sql + closing).count("\n")
            column = len(text) - text.rfind("\n")
        return text


@dataclass(frozen=True)
class Module:
    """A db-migrate module as it reads: its `up` and `down` exports, and the SQL files its strings
    name (direction: (file name, line))."""

    exports: dict[str, Export] = field(default_factory=dict)
    sql_files: dict[str, tuple[str, int]] = field(default_factory=dict)


@functools.cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_javascript.language()))


def read_module(path: Path, text: str) -> Module:
    """The module at `path` (its `text`), read with the JavaScript parser."""
    source = text.encode("utf-8")
    root = _parser().parse(source).root_node
    files: dict[str, tuple[str, int]] = {}
    for node in _strings(root):
        cooked = _cooked(node)
        if isinstance(cooked, str) and (match := SQL_FILE.search(cooked)):
            files.setdefault(match["direction"], (match["file"], node.start_point.row + 1))
    exports = {name: _export(function, source) for name, function in _exported_functions(root).items()}
    return Module(exports, files)


def _strings(node: Node) -> list[Node]:
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("string", "template_string"):
            found.append(current)
        else:
            stack.extend(reversed(current.children))
    return found


def _exported_functions(root: Node) -> dict[str, Node]:
    """The functions the module exports as `up` and `down`: `exports.up = ...`, `module.exports =
    {up, down}`, `export async function up`, and a name given to one declared in the module."""
    declared: dict[str, Node] = {}
    exported: dict[str, Node | str] = {}  # a str: the name of a function declared in the module
    for statement in root.named_children:
        target = statement.named_children[0] if statement.type == "export_statement" and statement.named_children else statement
        if target.type == "function_declaration" and (named := target.child_by_field_name("name")) is not None:
            declared[_text(named)] = target
            if target is not statement:
                exported[_text(named)] = target
        elif target.type in ("lexical_declaration", "variable_declaration"):
            for declarator in target.named_children:
                named, given = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
                if named is not None and given is not None:
                    declared[_text(named)] = given
                    if target is not statement:
                        exported[_text(named)] = given
        elif target.type == "expression_statement" and target.named_children:
            exported |= _assigned(target.named_children[0])
    functions: dict[str, Node] = {}
    for direction in DIRECTIONS:
        value = exported.get(direction)
        if isinstance(value, Node) and value.type == "identifier":
            value = _text(value)
        function = declared.get(value) if isinstance(value, str) else value
        if function is not None:
            functions[direction] = function
    return functions


def _assigned(expression: Node) -> dict[str, Node | str]:
    if expression.type != "assignment_expression":
        return {}
    left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
    if left is None or right is None:
        return {}
    target = _text(left)
    if target in ("exports", "module.exports") and right.type == "object":
        members: dict[str, Node | str] = {}
        for member in right.named_children:
            if member.type == "pair" and (key := member.child_by_field_name("key")) is not None \
                    and (value := member.child_by_field_name("value")) is not None:
                members[_text(key)] = value
            elif member.type == "method_definition" and (key := member.child_by_field_name("name")) is not None:
                members[_text(key)] = member
            elif member.type == "shorthand_property_identifier":  # `{ up, down }`
                members[_text(member)] = _text(member)
        return members
    for prefix in ("exports.", "module.exports."):
        if target.startswith(prefix) and target[len(prefix):] in DIRECTIONS:
            return {target[len(prefix):]: right}
    return {}


def _export(function: Node, source: bytes) -> Export:
    line = function.start_point.row + 1
    if function.type not in FUNCTIONS:
        return Export(line, code=(line, f"not a function ({function.type.replace('_', ' ')})"))
    reading = _Reading(source)
    code = reading.function(function, first=True)
    return Export(line, tuple(reading.pieces), code)


class _Reading:
    """The walk through one export: its SQL pieces in order, until the first thing that is code."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.pieces: list[Piece] = []
        self.db = ""
        self.callbacks: set[str] = set()

    def function(self, node: Node, first: bool = False) -> tuple[int, str] | None:
        parameters = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
        names = [_text(p) for p in (parameters.named_children if parameters is not None and parameters.type ==
                                    "formal_parameters" else [parameters] if parameters is not None else [])
                 if p.type == "identifier"]
        if first and names:
            self.db, names = names[0], names[1:]
        self.callbacks.update(names)
        body = node.child_by_field_name("body")
        return self.walk(body) if body is not None else None

    def walk(self, node: Node) -> tuple[int, str] | None:
        if not node.is_named or node.type in ("comment", "formal_parameters"):
            return None
        if node.type in FUNCTIONS:
            return self.function(node)
        if node.type == "call_expression":
            return self.call(node)
        if node.type == "identifier" and _text(node) in self.callbacks | {"undefined"}:
            return None  # a callback passed on
        if node.type in PLAIN or node.type == "arguments":
            for child in node.children:
                if (code := self.walk(child)) is not None:
                    return code
            return None
        return self.code(node)

    def call(self, node: Node) -> tuple[int, str] | None:
        callee = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        given = [a for a in arguments.named_children if a.type != "comment"] if arguments is not None else []
        if callee is not None and callee.type == "identifier" and _text(callee) in self.callbacks:
            return self.walk(arguments) if arguments is not None else None
        if callee is None or _text(callee) != f"{self.db}.runSql":
            return self.code(callee or node)
        if not given:
            return self.code(node, "db.runSql without SQL")
        sql = _cooked(given[0])
        if not isinstance(sql, str):
            return self.code(sql if sql is not None else given[0])
        row, column = _content_start(given[0])
        self.pieces.append(Piece(row + 1, _column(self.source, row, column), sql))
        for rest in given[1:]:
            if (code := self.walk(rest)) is not None:
                return code
        return None

    def code(self, node: Node, what: str | None = None) -> tuple[int, str]:
        if what is None:
            if node.type in ("member_expression", "identifier"):
                what = _text(node) if node.type == "member_expression" else f"SQL held in {_text(node)}"
            else:
                what = WHAT.get(node.type, node.type.replace("_", " "))
        return node.start_point.row + 1, what


def _cooked(node: Node) -> str | Node | None:
    """The value of a string written in the module (a `+` of strings included); else the node that
    makes it code (a `${}`), or None where it is no string at all."""
    if node.type == "parenthesized_expression" and node.named_children:
        return _cooked(node.named_children[0])
    if node.type == "binary_expression" and (operator := node.child_by_field_name("operator")) is not None \
            and _text(operator) == "+":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        cooked = [_cooked(side) if side is not None else None for side in (left, right)]
        if all(isinstance(part, str) for part in cooked):
            return "".join(part for part in cooked if isinstance(part, str))
        return next((part for part in cooked if not isinstance(part, str)), None)
    if node.type not in ("string", "template_string"):
        return None
    text = []
    for child in node.named_children:
        if child.type == "template_substitution":
            return child
        if child.type == "escape_sequence":
            text.append(_unescaped(_text(child)))
        elif child.type == "string_fragment":
            text.append(_text(child))
    return "".join(text)


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


def _content_start(node: Node) -> tuple[int, int]:
    """(row, byte column) where a literal's text starts: after its quote (after the first quote of
    a `+` of literals)."""
    while node.type in ("binary_expression", "parenthesized_expression") and node.named_children:
        node = node.named_children[0]
    return node.start_point.row, node.start_point.column + 1


def _column(source: bytes, row: int, byte_column: int) -> int:
    """The 1-based character column of a byte column of a row (tree-sitter counts bytes)."""
    start = 0
    for _ in range(row):
        start = source.index(b"\n", start) + 1
    return len(source[start:start + byte_column].decode("utf-8", "replace")) + 1


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")
