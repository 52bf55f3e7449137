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

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

from migration_check.discovery.db_migrate_api import Unwritable, api_sql
from migration_check.discovery.js_values import Code, Values, text_of
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
    "ERROR": "JavaScript the parser cannot read",
}


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


def read_module(text: str) -> Module:
    """A module's text, read with the JavaScript parser."""
    source = text.encode("utf-8")
    root = _parser().parse(source).root_node
    values = Values(root)
    files: dict[str, tuple[str, int]] = {}
    for node in _strings(root):
        cooked = values.cooked(node)
        if isinstance(cooked, str) and (match := SQL_FILE.search(cooked)):
            files.setdefault(match["direction"], (match["file"], node.start_point.row + 1))
    exports = {name: _export(function, source, values) for name, function in _exported_functions(root).items()}
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
            declared[text_of(named)] = target
            if target is not statement:
                exported[text_of(named)] = target
        elif target.type in ("lexical_declaration", "variable_declaration"):
            for declarator in target.named_children:
                named, given = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
                if named is not None and given is not None:
                    declared[text_of(named)] = given
                    if target is not statement:
                        exported[text_of(named)] = given
        elif target.type == "expression_statement" and target.named_children:
            exported |= _assigned(target.named_children[0])
    functions: dict[str, Node] = {}
    for direction in DIRECTIONS:
        value = exported.get(direction)
        if isinstance(value, Node) and value.type == "identifier":
            value = text_of(value)
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
    target = text_of(left)
    if target in ("exports", "module.exports") and right.type == "object":
        members: dict[str, Node | str] = {}
        for member in right.named_children:
            if member.type == "pair" and (key := member.child_by_field_name("key")) is not None \
                    and (value := member.child_by_field_name("value")) is not None:
                members[text_of(key)] = value
            elif member.type == "method_definition" and (key := member.child_by_field_name("name")) is not None:
                members[text_of(key)] = member
            elif member.type == "shorthand_property_identifier":  # `{ up, down }`
                members[text_of(member)] = text_of(member)
        return members
    for prefix in ("exports.", "module.exports."):
        if target.startswith(prefix) and target[len(prefix):] in DIRECTIONS:
            return {target[len(prefix):]: right}
    return {}


def _export(function: Node, source: bytes, values: Values) -> Export:
    line = function.start_point.row + 1
    if function.type not in FUNCTIONS:
        return Export(line, code=(line, f"not a function ({function.type.replace('_', ' ')})"))
    if function.has_error:  # tree-sitter recovers; what it recovered is not what node would run
        return Export(line, code=(_first_error(function).start_point.row + 1, WHAT["ERROR"]))
    reading = _Reading(source, values)
    code = reading.function(function, first=True)
    return Export(line, tuple(reading.pieces), code)


def _member(node: Node | None) -> tuple[Node | None, str]:
    """(object, property) of `object.property`; (None, "") for anything else."""
    if node is None or node.type != "member_expression":
        return None, ""
    owner, member = node.child_by_field_name("object"), node.child_by_field_name("property")
    return (owner, text_of(member)) if owner is not None and member is not None else (None, "")


def _arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [a for a in arguments.named_children if a.type != "comment"] if arguments is not None else []


def _first_error(node: Node) -> Node:
    for child in node.children:
        if child.is_error or child.is_missing:
            return child
        if child.has_error:
            return _first_error(child)
    return node


class _Reading:
    """The walk through one export: its SQL pieces in order, until the first thing that is code."""

    def __init__(self, source: bytes, values: Values) -> None:
        self.source = source
        self.values = values
        self.pieces: list[Piece] = []
        self.db = ""
        self.callbacks: set[str] = set()

    def function(self, node: Node, first: bool = False) -> tuple[int, str] | None:
        parameters = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
        names = [text_of(p) for p in (parameters.named_children if parameters is not None and parameters.type ==
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
        if node.type == "identifier" and text_of(node) in self.callbacks | {"undefined"}:
            return None  # a callback passed on
        if node.type in PLAIN or node.type == "arguments":
            for child in node.children:
                if (code := self.walk(child)) is not None:
                    return code
            return None
        return self.code(node)

    def call(self, node: Node) -> tuple[int, str] | None:
        callee = node.child_by_field_name("function")
        given = _arguments(node)
        if callee is not None and callee.type == "identifier" and text_of(callee) in self.callbacks:
            return self.rest(given)
        owner, member = _member(callee)
        if owner is not None and self.db and owner.type == "identifier" and text_of(owner) == self.db:
            return self.run_sql(node, given) if member == "runSql" else self.api(node, member, given)
        if owner is not None and member == "then" and owner.type == "call_expression":
            # a promise chain: the call, then what its callbacks run
            return self.walk(owner) or self.rest(given)
        if owner is not None and text_of(owner) == "async" and member == "series" and given and given[0].type == "array":
            return self.series(given[0], given[1:])
        return self.code(callee or node)

    def method_bound(self, task: Node) -> str | None:
        """The driver's method a task of async.series binds (`db.createTable.bind(db, ...)`)."""
        owner, member = _member(task.child_by_field_name("function") if task.type == "call_expression" else None)
        if owner is None or member != "bind":
            return None
        driver, method = _member(owner)
        given = _arguments(task)
        bound_to_db = given and text_of(given[0]) == self.db
        return method if driver is not None and text_of(driver) == self.db and bound_to_db else None

    def run_sql(self, node: Node, given: list[Node]) -> tuple[int, str] | None:
        if not given:
            return self.code(node, "db.runSql without SQL")
        sql = self.values.cooked(given[0])
        if not isinstance(sql, str):
            return self.code(sql if sql is not None else given[0])
        row, column = _content_start(given[0])
        self.pieces.append(Piece(row + 1, _column(self.source, row, column), sql))
        return self.rest(given[1:])

    def api(self, node: Node, method: str, given: list[Node]) -> tuple[int, str] | None:
        """A call of the driver's schema API, as the SQL the driver sends for it."""
        values = []
        callbacks = []
        for argument in given:
            if argument.type in FUNCTIONS or (argument.type == "identifier" and text_of(argument) in self.callbacks):
                callbacks.append(argument)
                continue
            try:
                values.append(self.values.value(argument))
            except Code as code:
                return self.code(code.node)
        try:
            sql = api_sql(method, values)
        except Unwritable as exc:
            return node.start_point.row + 1, str(exc)
        self.pieces.append(Piece(node.start_point.row + 1, _column(self.source, *node.start_point), sql))
        return self.rest(callbacks)

    def series(self, tasks: Node, rest: list[Node]) -> tuple[int, str] | None:
        """`async.series([db.createTable.bind(db, ...), db.runSql.bind(db, '...')], callback)`: each
        task in turn."""
        for task in tasks.named_children:
            if task.type == "comment":
                continue
            method = self.method_bound(task)
            if method is None:
                code = self.walk(task)
            else:
                given = _arguments(task)[1:]
                code = self.run_sql(task, given) if method == "runSql" else self.api(task, method, given)
            if code is not None:
                return code
        return self.rest(rest)

    def rest(self, arguments: list[Node]) -> tuple[int, str] | None:
        for argument in arguments:
            if (code := self.walk(argument)) is not None:
                return code
        return None

    def code(self, node: Node, what: str | None = None) -> tuple[int, str]:
        if node.type == "call_expression" and (callee := node.child_by_field_name("function")) is not None:
            node = callee
        if what is None:
            if node.type in ("member_expression", "identifier"):
                what = text_of(node) if node.type == "member_expression" else f"SQL held in {text_of(node)}"
            else:
                what = WHAT.get(node.type, node.type.replace("_", " "))
        return node.start_point.row + 1, what


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
