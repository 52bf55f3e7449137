"""Reading what a migration written in JavaScript or TypeScript runs, with tree-sitter's parsers,
never by searching its text.

A runner calls the migration's function with its driver (db-migrate's `db`, TypeORM's
`queryRunner`). The function is read as SQL when all it does is send SQL written in the module
through the driver's method for it (a string, a template whose `${}` name the module's constants,
or a `+` of those; several calls, chained by callbacks, `.then` or `await`, in order) and call or
pass on its callbacks; anything else (SQL the code builds, a branch on what a query returned, a
loop) is code the replay cannot run, and the first such thing is named with its line. Each piece
of SQL keeps its place in the file (`Export.sql`), so an error in it is at the module's line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Node, Parser

from migration_check.discovery.base import refuse_nul
from migration_check.discovery.js_values import MISREAD, Code, Unwritable, Values, arguments_of, text_of
from migration_check.model import Script, Transaction
from migration_check.sql.lexing import closing_of

DIRECTIONS = ("up", "down")
DEEP = "code nested deeper than this check reads"
# The languages of migration modules, by suffix (tree-sitter's grammar for each).
LANGUAGES = {".js": "javascript", ".cjs": "javascript", ".mjs": "javascript", ".ts": "typescript",
             ".cts": "typescript", ".mts": "typescript"}
FUNCTIONS = frozenset({"function_expression", "arrow_function", "function_declaration", "method_definition",
                       "generator_function", "function"})
# What a migration function may hold around its SQL calls without doing anything else.
PLAIN = frozenset({"program", "statement_block", "expression_statement", "return_statement", "await_expression",
                   "parenthesized_expression", "comment", "empty_statement", "null", "undefined", "true", "false",
                   "as_expression", "non_null_expression"})
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
    """One piece of SQL the function sends (a `runSql`, a `query`, a builder's operation), where it
    starts in the module (1-based line and column)."""

    line: int
    column: int
    sql: str
    # The repository's file whose whole text it is, where the module read it (js_files.FileText).
    read_from: Path | None = None


@dataclass(frozen=True)
class Export:
    """What a migration function (`up`, `down`) runs: its SQL in order, or the first thing it does
    besides (line, what), which the replay cannot run."""

    line: int
    pieces: tuple[Piece, ...] = ()
    code: tuple[int, str] | None = None
    # Driver calls that set how the runner runs it rather than what (node-pg-migrate's noTransaction)
    flags: frozenset[str] = frozenset()
    tolerated: tuple[tuple[int, int], ...] = ()  # Script.tolerated

    def why_not_sql(self, runner: str, direction: str) -> str:
        """Why the replay cannot run it: the first thing it does besides sending SQL, and where."""
        line, what = self.code or (self.line, "")
        return f"{runner}: its {direction} runs code, not SQL alone ({what}, line {line})"

    def script(self, path: Path, transaction: Transaction) -> Script:
        """The function's SQL as the script of `path` it is, from the function's line on (a NUL in
        it, which would end the query there, is a FileError at its line)."""
        if len(self.pieces) == 1 and (read_from := self.pieces[0].read_from) is not None:
            # All it sends is a file's text: the script is that file, an error placed at its own line.
            refuse_nul(read_from, self.pieces[0].sql)
            return Script(read_from, self.pieces[0].sql, transaction=transaction)
        sql = self.sql()
        refuse_nul(path, "\n" * (self.line - 1) + sql)
        return Script(path, sql, first_line=self.line, transaction=transaction, tolerated=self.tolerated)

    def replayable_script(self, path: Path, transaction: Transaction) -> Script | None:
        """`script`, or None where the function runs code (`why_not_sql` says what)."""
        return self.script(path, transaction) if self.code is None else None

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


@functools.cache
def parser(language: str = "javascript") -> Parser:
    """tree-sitter's parser for JavaScript, or TypeScript (`typescript`, `tsx`)."""
    if language == "javascript":
        return Parser(Language(tree_sitter_javascript.language()))
    grammar = tree_sitter_typescript.language_tsx() if language == "tsx" else tree_sitter_typescript.language_typescript()
    return Parser(Language(grammar))


def member_of(node: Node | None) -> tuple[Node | None, str]:
    """(object, property) of `object.property`; (None, "") for anything else."""
    if node is None or node.type != "member_expression":
        return None, ""
    owner, member = node.child_by_field_name("object"), node.child_by_field_name("property")
    return (owner, text_of(member)) if owner is not None and member is not None else (None, "")


def parameter_names(function: Node) -> list[str]:
    """The names of a function's parameters (TypeScript's typed ones too: `queryRunner: QueryRunner`)."""
    parameters = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if parameters is None:
        return []
    names = []
    for parameter in parameters.named_children if parameters.type == "formal_parameters" else [parameters]:
        if parameter.type in ("required_parameter", "optional_parameter"):
            parameter = parameter.child_by_field_name("pattern") or parameter
        if parameter.type == "identifier":
            names.append(text_of(parameter))
    return names


def first_error(node: Node) -> Node:
    for child in node.children:
        if child.is_error or child.is_missing:
            return child
        if child.has_error:
            return first_error(child)
    return node


class Reading:
    """The walk through one migration function: its SQL pieces in order, until the first thing that
    is code. A runner's reading names the driver's method that sends SQL, and reads what else its
    migrations call (`other_call`)."""

    sql_method = "query"

    def __init__(self, source: bytes, values: Values) -> None:
        self.source = source
        self.values = values
        self.pieces: list[Piece] = []
        self.db = ""
        self.callbacks: set[str] = set()
        self.flags: set[str] = set()

    def function(self, node: Node, first: bool = False) -> tuple[int, str] | None:
        names = parameter_names(node)
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
            return self.walk_all(node.children)
        return self.other_node(node)

    def walk_all(self, nodes: list[Node]) -> tuple[int, str] | None:
        for child in nodes:
            if (code := self.walk(child)) is not None:
                return code
        return None

    def other_node(self, node: Node) -> tuple[int, str] | None:
        """A statement or expression of any other kind: code, unless the runner reads it; a `const`
        bound to a value written there (outline's `const searchDocument = "..."`) names that value below it."""
        if node.type == "lexical_declaration" and text_of(node).startswith("const") and self.bound(node):
            return None
        return self.code(node)

    def bound(self, declaration: Node) -> bool:
        declarators = [d for d in declaration.named_children if d.type != "comment"]
        return bool(declarators) and all(self.values.bind(declarator) for declarator in declarators)

    def call(self, node: Node) -> tuple[int, str] | None:
        callee = node.child_by_field_name("function")
        given = arguments_of(node)
        if callee is not None and callee.type == "identifier" and text_of(callee) in self.callbacks:
            return self.rest(given)
        owner, member = member_of(callee)
        if owner is not None and self.db and owner.type == "identifier" and text_of(owner) == self.db:
            return self.run_sql(node, given) if member == self.sql_method else self.driver_call(node, member, given)
        if owner is not None and member == "then" and owner.type == "call_expression":
            # a promise chain: the call, then what its callbacks run
            return self.walk(owner) or self.rest(given)
        return self.other_call(node, given)

    def promise_all(self, node: Node) -> list[Node] | None:
        """The calls of `Promise.all([...])`, which the readings that take it (knex's, Sequelize's) run
        in the array's order: the migration's queries go one after the other on its connection.
        None for any other call."""
        owner, member = member_of(node.child_by_field_name("function"))
        given = arguments_of(node)
        if owner is None or text_of(owner) != "Promise" or member != "all" or len(given) != 1 or given[0].type != "array":
            return None
        return [item for item in given[0].named_children if item.type != "comment"]

    def driver_call(self, node: Node, method: str, given: list[Node]) -> tuple[int, str] | None:
        """Another method of the driver: code, unless the runner writes its SQL."""
        return self.code(node)

    def other_call(self, node: Node, given: list[Node]) -> tuple[int, str] | None:
        """A call of anything but the driver and the callbacks: code, unless the runner knows it;
        logging (`console.log`) does nothing to the database."""
        owner, _ = member_of(node.child_by_field_name("function"))
        if owner is not None and owner.type == "identifier" and text_of(owner) == "console":
            return None
        return self.code(node)

    def run_sql(self, node: Node, given: list[Node]) -> tuple[int, str] | None:
        if not given:
            return self.code(node, f"{self.db}.{self.sql_method} without SQL")
        sql = self.values.cooked(given[0])
        # A constant holding it, or a call that reads it from a file of the repository (js_files.py).
        if sql is None and given[0].type in ("identifier", "member_expression", "call_expression"):
            try:
                held = self.values.value(given[0])
            except Code:
                held = None
            if isinstance(held, str):
                row, offset = given[0].start_point.row, given[0].start_byte
                written = self.values.positions.get(text_of(given[0]))
                if written is not None and (not self.pieces or written[0] + 1 > self.pieces[-1].line):
                    row, offset = written  # where its text is (where the pieces stay in order)
                self.pieces.append(Piece(row + 1, column_of(self.source, offset), held, getattr(held, "path", None)))
                return self.rest(given[1:])
        if not isinstance(sql, str):
            return self.code(sql if sql is not None else given[0])
        row, offset = content_start(given[0])
        self.pieces.append(Piece(row + 1, column_of(self.source, offset), sql))
        return self.rest(given[1:])

    def rest(self, arguments: list[Node]) -> tuple[int, str] | None:
        return self.walk_all(arguments)

    def written(self, node: Node, arguments: list[Node], write: Callable[[list[Any]], list[str]],
                call: str = "") -> tuple[int, str] | None:
        """A call of a runner's API, as the statements `write` makes of its arguments' values
        (placed at the call); code where an argument is not a value or `write` cannot write it
        (`call` names the call in what is said then, where `write` does not itself)."""
        try:
            values = [self.argument(argument) for argument in arguments]
        except Code as code:
            return self.code(code.node)
        try:
            statements = write(values)
        except Unwritable as exc:
            return node.start_point.row + 1, f"{call}: {exc}" if call else str(exc)
        except MISREAD as exc:
            if not call:
                raise
            return node.start_point.row + 1, f"{call} with arguments this check does not write ({exc})"
        self.pieces += [Piece(node.start_point.row + 1, column_of(self.source, node.start_byte), sql) for sql in statements]
        return None

    def argument(self, node: Node) -> Any:
        """An argument's value, as the runner reads it."""
        return self.values.value(node)

    def code(self, node: Node, what: str | None = None) -> tuple[int, str]:
        if node.type == "call_expression" and (callee := node.child_by_field_name("function")) is not None:
            node = callee
        if what is None:
            if node.type in ("member_expression", "identifier"):
                named = " ".join(text_of(node).split())  # a chain written over several lines, on one
                what = (named if len(named) <= 80 else named[:77] + "...") if node.type == "member_expression" \
                    else f"SQL held in {named}"
            else:
                what = WHAT.get(node.type, node.type.replace("_", " "))
        return node.start_point.row + 1, what


def exported(root: Node, names: tuple[str, ...] = DIRECTIONS, default: bool = False) -> dict[str, Node]:
    """What the module exports under `names` (its `up` and `down` functions): `exports.up = ...`,
    `module.exports = {up, down}`, `export async function up`, `export const up = ...`, a name given
    to one declared in the module, and where the runner reads it (`default`: Kysely's provider), a
    default export's members, `export default {up, down}`."""
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
            exported |= assigned_exports(target.named_children[0])
        elif default and target.type == "object" and target is not statement:
            exported |= members_of(target)
    found: dict[str, Node] = {}
    for name in names:
        value = exported.get(name)
        if isinstance(value, Node) and value.type == "identifier":
            value = text_of(value)
        node = declared.get(value) if isinstance(value, str) else value
        if node is not None:
            found[name] = node
    return found


def assigned_exports(expression: Node) -> dict[str, Node | str]:
    if expression.type != "assignment_expression":
        return {}
    left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
    if left is None or right is None:
        return {}
    target = text_of(left)
    if target in ("exports", "module.exports") and right.type == "object":
        return members_of(right)
    return next(({target[len(prefix):]: right} for prefix in ("exports.", "module.exports.") if target.startswith(prefix)),
                {})


def members_of(written: Node) -> dict[str, Node | str]:
    """An object's functions by name: `{ up: ..., async down() {...} }`; `{ up, down }` names them."""
    members: dict[str, Node | str] = {}
    for member in written.named_children:
        if member.type == "pair" and (key := member.child_by_field_name("key")) is not None \
                and (value := member.child_by_field_name("value")) is not None:
            members[text_of(key)] = value
        elif member.type == "method_definition" and (key := member.child_by_field_name("name")) is not None:
            members[text_of(key)] = member
        elif member.type == "shorthand_property_identifier":
            members[text_of(member)] = text_of(member)
    return members


def read_function(function: Node, source: bytes, values: Values, reading: type[Reading] = Reading,
                  **context: object) -> Export:
    """What a migration function runs: its first parameter is the driver."""
    line = function.start_point.row + 1
    if function.type not in FUNCTIONS:
        return Export(line, code=(line, f"not a function ({function.type.replace('_', ' ')})"))
    try:
        if function.has_error:  # tree-sitter recovers; what it recovered is not what node would run
            return Export(line, code=(first_error(function).start_point.row + 1, WHAT["ERROR"]))
        walk = reading(source, values, **context)
        module_constants, module_positions = dict(values.constants), dict(values.positions)  # a function's own end with it
        try:
            code = walk.function(function, first=True)
        finally:
            values.constants, values.positions = module_constants, module_positions
    except RecursionError:  # untrusted text: nesting deeper than Python's stack is code, not SQL
        return Export(line, code=(line, DEEP))
    return Export(line, tuple(walk.pieces), code, frozenset(walk.flags))



def content_start(node: Node) -> tuple[int, int]:
    """(row, byte offset) where a literal's text starts: after its quote (after the first quote of
    a `+` of literals)."""
    while node.type in ("binary_expression", "parenthesized_expression") and node.named_children:
        node = node.named_children[0]
    return node.start_point.row, node.start_byte + 1


def column_of(source: bytes, offset: int) -> int:
    """The 1-based character column of a byte offset (tree-sitter counts bytes)."""
    start = source.rfind(b"\n", 0, offset) + 1
    return len(source[start:offset].decode("utf-8", "replace")) + 1
