"""What a Kysely migration's `up(db)` and `down(db)` send, read with tree-sitter's parsers.

Kysely sends a query when its builder's `.execute()` is called: `await db.schema.createTable(...)
...execute()`, written as kysely_schema.py says, and `await sql`...`.execute(db)` (or
`sql.raw('...').execute(db)`), its text as written. Inside a `sql` template, `${sql.raw('...')}`
and `${sql.lit(...)}` are written into the text, `${sql.ref('a.b')}`, `${sql.table('t')}` and
`${sql.id(...)}` as quoted identifiers; any other `${}` is a parameter Kysely binds, which this
check does not send (code). A builder chain without `.execute()` sends nothing (a forgotten
`.execute()` is a rollback that does nothing, and the round trip says what it left). The rows a
seed writes with the query builder (`db.insertInto(...).values({...})`, and the `updateTable` and
`deleteFrom` that undo it) are written as kysely_queries.py says; a query built otherwise, and
anything else, is code.
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from migration_check.discovery.js_reading import FUNCTIONS, Piece, Reading, column_of, member_of, parameter_names
from migration_check.discovery.js_values import (
    Code,
    Expression,
    Link,
    Unwritable,
    Values,
    arguments_of,
    chain_of,
    fragment_text,
    text_of,
)
from migration_check.discovery.kysely_queries import query_statement
from migration_check.discovery.kysely_schema import Call, Callback, Refused, dotted, identifier, schema_statement, table, value

SQL_TAG = "sql"
QUERIES = frozenset({"insertInto", "updateTable", "deleteFrom"})  # (kysely_queries.py)


class KyselyReading(Reading):
    """Kysely's `db.schema` chains and `sql` templates, each sent by its `.execute()`."""

    sql_method = "executeQuery"  # (a compiled query: code, as every other call of `db`)

    def __init__(self, source: bytes, values: Values, refused: list[tuple[int, str]] | None = None,
                 unexecuted: list[int] | None = None) -> None:
        super().__init__(source, values)
        self.refused = refused if refused is not None else []  # where Kysely throws as it builds, and what
        self.unexecuted = unexecuted if unexecuted is not None else []  # the lines of queries never executed

    def call(self, node: Node) -> tuple[int, str] | None:
        root, links = chain_of(node)
        if root.type == "identifier" and text_of(root) == self.db and links:
            first = links[0][0]
            if first == "schema":
                return self.builder_chain(node, links[1:])
            return self.builder_chain(node, links, first) if first in QUERIES else self.code(node, f"{self.db}.{first}")
        if self.is_template(root) or (root.type == "identifier" and text_of(root) == SQL_TAG and links
                                      and links[0][0] == "raw"):
            return self.sql_chain(node, root, links)
        return super().call(node)

    def builder_chain(self, node: Node, links: list[Link], query: str = "") -> tuple[int, str] | None:
        """A `db.schema` chain (links after `schema`), or a query builder's (`query`: its first method)."""
        calls: list[Call] = []
        for method, given, at in links:
            if given is None:
                return self.code(at, f"{self.db}.{query or 'schema'}...{method}")
            try:
                calls.append((method, tuple(self.argument(argument) for argument in given)))
            except Code as code:
                held = code.node.type == "identifier"
                return self.code(code.node, f"a value held in {text_of(code.node)}" if held else None)
        try:
            sql = query_statement(query, calls) if query else schema_statement(calls)
        except Unwritable as exc:
            return node.start_point.row + 1, f"{query or 'schema'}: {exc}"
        except Refused as exc:
            self.refused.append((node.start_point.row + 1, str(exc)))
            return None
        if sql is None:
            self.unexecuted.append(node.start_point.row + 1)
        else:
            self.pieces.append(Piece(node.start_point.row + 1, column_of(self.source, node.start_byte), sql))
        return None

    def other_node(self, node: Node) -> tuple[int, str] | None:
        """`sql<T>`...`.execute(db)`, which tree-sitter's TypeScript grammar reads as
        `sql < T > (`...`.execute(db))`; and a `try`, whose body is read as it stands: every
        migration runs in the one transaction, which a failed query aborts whatever the `catch` does
        (bluesky-social/atproto's `create extension if not exists pg_trgm` in a try that ignores
        "already exists")."""
        if node.type == "try_statement" and (body := node.child_by_field_name("body")) is not None:
            finalizer = node.child_by_field_name("finalizer")
            after = finalizer.child_by_field_name("body") if finalizer is not None else None
            return self.walk(body) or (self.walk(after) if after is not None else None)
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if node.type == "binary_expression" and left is not None and right is not None and _typed_tag(node, left):
            root, links = chain_of(right)
            if root.type == "template_string":
                return self.sql_chain(node, root, links, root)
        return super().other_node(node)

    def sql_chain(self, node: Node, root: Node, links: list[Link], typed: Node | None = None) -> tuple[int, str] | None:
        """`sql`...`.execute(db)`, `sql.raw('...').execute(db)`: the text, sent by the execute."""
        if links and links[0][0] == "raw" and not self.is_template(root):
            given, links = links[0][1] or [], links[1:]
            try:
                text = self.values.value(given[0]) if len(given) == 1 else None
            except Code as code:
                return self.code(code.node)
            if not isinstance(text, str):
                return self.code(node, "sql.raw without SQL written in the module")
            start = given[0]
            row, column = start.start_point.row + 1, column_of(self.source, start.start_byte + 1)
        else:
            template = typed or _template_of(root) or root
            try:
                text = self.template_text(template)
            except Code as code:
                return self.code(code.node)
            row, column = template.start_point.row + 1, column_of(self.source, template.start_byte + 1)
        names = [name for name, _, _ in links]
        if not names:
            self.unexecuted.append(node.start_point.row + 1)
            return None
        if names != ["execute"]:
            return self.code(node, f"sql...{'.'.join(names)}")
        executed_on = links[0][1] or []
        if len(executed_on) != 1 or text_of(executed_on[0]) != self.db:
            return self.code(node, "sql...execute on another connection")
        self.pieces.append(Piece(row, column, text))
        return None

    @staticmethod
    def is_template(node: Node) -> bool:
        """`sql`...``: a call of `sql` whose argument is a template."""
        return _template_of(node) is not None

    def template(self, node: Node) -> str:
        """A `sql` template's text, each `${}` written as Kysely writes it; a parameter is code."""
        return self.template_text(_template_of(node))

    def template_text(self, given: Node | None) -> str:
        text = []
        for child in given.named_children if given is not None else []:
            if child.type == "template_substitution":
                inner = child.named_children[0] if child.named_children else child
                if not (self.is_template(inner) or _sql_helper(inner)):
                    raise Code(child)  # a value Kysely binds as a parameter
                text.append(self.helper(inner))
            elif child.type in ("string_fragment", "escape_sequence"):
                text.append(fragment_text(child))
        return "".join(text)

    def helper(self, node: Node) -> str:
        """`sql.raw(...)`, `sql.lit(...)`, `sql.ref(...)`, `sql.table(...)`, `sql.id(...)`, or a nested
        template, as Kysely writes it into the text."""
        if self.is_template(node):
            return self.template(node)
        owner, member = member_of(node.child_by_field_name("function")) if node.type == "call_expression" else (None, "")
        if owner is None or text_of(owner) != SQL_TAG:
            raise Code(node)  # a parameter Kysely binds
        given = [self.values.value(argument) for argument in arguments_of(node)]
        try:
            if member == "raw" and len(given) == 1 and isinstance(given[0], str):
                return given[0]
            if member == "lit" and len(given) == 1:
                return value(given[0])
            if member in ("ref", "table") and len(given) == 1 and isinstance(given[0], str):
                return table(given[0]) if member == "table" else dotted(given[0])
            if member == "id" and given and all(isinstance(part, str) for part in given):
                return ".".join(identifier(part) for part in given)
        except Unwritable:
            raise Code(node) from None
        raise Code(node)

    def argument(self, node: Node) -> Any:
        """A builder argument: a value written in the module, a `sql` template or helper (an
        Expression), a callback (the calls it makes on its parameter), a list of those."""
        if self.is_template(node) or _sql_helper(node):
            return Expression(self.helper(node))
        if node.type in FUNCTIONS:
            return self.callback(node)
        if node.type == "array":
            return [self.argument(item) for item in node.named_children if item.type != "comment"]
        members = [member for member in node.named_children if member.type != "comment"] if node.type == "object" else []
        if members and all(member.type == "pair" for member in members):  # (`{ at: sql`now()` }`)
            return {self.values.value(key) if key.type != "property_identifier" else text_of(key): self.argument(value)
                    for member in members if (key := member.child_by_field_name("key")) is not None
                    and (value := member.child_by_field_name("value")) is not None}
        return self.values.value(node)

    def callback(self, function: Node) -> Callback:
        """`(col) => col.notNull().defaultTo(0)` (or a body that returns it): the calls on `col`."""
        names = parameter_names(function)
        body = function.child_by_field_name("body")
        if body is not None and body.type == "statement_block":
            statements = [s for s in body.named_children if s.type != "comment"]
            body = statements[0].named_children[0] if len(statements) == 1 and statements[0].type == "return_statement" \
                and statements[0].named_children else None
        if body is None or len(names) != 1:
            raise Code(function)
        root, links = chain_of(body)
        if root.type != "identifier" or text_of(root) != names[0] or any(given is None for _, given, _ in links):
            raise Code(body)
        return Callback(tuple((method, tuple(self.argument(a) for a in given or [])) for method, given, _ in links))


def _sql_helper(node: Node) -> bool:
    """`sql.raw(...)`, `sql.ref(...)`, ...: a call of a member of `sql`."""
    owner, _ = member_of(node.child_by_field_name("function")) if node.type == "call_expression" else (None, "")
    return owner is not None and text_of(owner) == SQL_TAG


def _template_of(node: Node) -> Node | None:
    """The template of `sql`...``, or of `sql<T>`...`` (which tree-sitter's TypeScript
    grammar reads as `sql < T > `...``); None for anything else."""
    if node.type == "call_expression":
        callee, given = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        return given if callee is not None and text_of(callee) == SQL_TAG and given is not None \
            and given.type == "template_string" else None
    if node.type == "binary_expression" and (left := node.child_by_field_name("left")) is not None \
            and (right := node.child_by_field_name("right")) is not None and right.type == "template_string" \
            and _typed_tag(node, left):
        return right
    return None


def _typed_tag(node: Node, left: Node) -> bool:
    """Whether `node` (a `>`) and `left` (a `<`) are `sql<T>`'s brackets, as tree-sitter reads them."""
    tag = left.child_by_field_name("left") if left.type == "binary_expression" else None
    if tag is not None and tag.type == "await_expression" and tag.named_children:
        tag = tag.named_children[0]  # (`await sql<T>...` reads as `(await sql) < T > ...`)
    return tag is not None and text_of(tag) == SQL_TAG and text_of(node.child_by_field_name("operator") or node) == ">" \
        and text_of(left.child_by_field_name("operator") or left) == "<"
