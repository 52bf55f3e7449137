"""What a Sequelize migration's `up(queryInterface, Sequelize)` and `down` send, read with
tree-sitter's parsers.

The query interface's calls (`queryInterface.addColumn('users', 'email', { type: Sequelize.STRING,
allowNull: false })`, ...) are written as Sequelize's PostgreSQL query generator writes them
(sequelize_ops.py); `queryInterface.sequelize.query('...')` sends its SQL as written. The data
types and SQL-side values are read from the module's `Sequelize` (or `DataTypes`, or the function's
second parameter): `Sequelize.STRING(100)`, `Sequelize.ARRAY(Sequelize.TEXT)`, `Sequelize.fn('now')`,
`Sequelize.literal('...')`, `Sequelize.NOW`. An options argument that only passes the transaction or
a query type is Sequelize's business, not SQL. `queryInterface.sequelize.transaction(async (t) =>
{...})` runs its callback in a transaction; `Promise.all([...])` of calls runs them in the array's
order. Anything else (a query whose rows the code reads, a loop, a model) is code.
"""

from __future__ import annotations

import functools
from typing import Any

from tree_sitter import Node

from migration_check.discovery.js_reading import FUNCTIONS, Reading, member_of, parameter_names
from migration_check.discovery.js_values import Code, Values, arguments_of, text_of
from migration_check.discovery.sequelize_ops import OPERATIONS
from migration_check.discovery.sequelize_sql import PLAIN_TYPES, DataType, Method

TYPE_KEYS = frozenset({*PLAIN_TYPES, "STRING", "CHAR", "DATE", "DECIMAL", "ARRAY", "ENUM"})
NAMESPACES = ("Sequelize", "DataTypes")
OPTION_KEYS = frozenset({"transaction", "type", "raw", "logging", "plain"})  # how a query runs, not what it sends
TRANSACTION = "transaction"
OUTSIDE = "outside a transaction"  # a flag: SQL sent outside `sequelize.transaction(...)`


def type_namespace() -> dict[str, Any]:
    """What `Sequelize.X` is: a data type, or a value the client fills in (`NOW`, `UUIDV4`)."""
    space: dict[str, Any] = {key: DataType(key) for key in TYPE_KEYS}
    space |= {key: Method(key) for key in ("NOW", "UUIDV1", "UUIDV4")}
    return space


def calls(names: tuple[str, ...]) -> dict[str, Any]:
    """`Sequelize.STRING(100)`, `Sequelize.fn('now')`, ...: by the callee's text."""
    found: dict[str, Any] = {}
    for name in (*names, *(f"{name}.DataTypes" for name in names)):  # `Sequelize.DataTypes.ARRAY(...)` too
        found |= {f"{name}.{key}": functools.partial(_made, DataType, key) for key in TYPE_KEYS}
        found |= {f"{name}.{kind}": functools.partial(_made, Method, kind) for kind in ("fn", "literal", "col")}
    return found


def _made(maker: Any, key: str, given: list[Any]) -> Any:
    return maker(key, tuple(given))


def prepare(values: Values, names: tuple[str, ...]) -> None:
    """Teach the module's values Sequelize's names (its own, and what the functions call it)."""
    space = type_namespace()
    for name in names:
        values.namespaces[name] = space
    for key in TYPE_KEYS:  # `Sequelize.INTEGER.UNSIGNED`: PostgreSQL drops it
        values.namespaces[key] = {"UNSIGNED": DataType(key, (), True), "ZEROFILL": DataType(key),
                                  "BINARY": DataType(key, ({"binary": True},))}
    values.calls |= calls(names)


class SequelizeReading(Reading):
    """The query interface's calls, `sequelize.query`, `sequelize.transaction` and `Promise.all`."""

    sql_method = "query"

    def __init__(self, source: bytes, values: Values) -> None:
        super().__init__(source, values)
        self.depth = 0  # inside a transaction callback

    def function(self, node: Node, first: bool = False) -> tuple[int, str] | None:
        if first:
            names = parameter_names(node) or _context_name(node)
            prepare(self.values, tuple(names[1:2]) + NAMESPACES)
            self.db = names[0] if names else ""
            body = node.child_by_field_name("body")
            return self.walk(body) if body is not None else None
        return super().function(node)

    def other_node(self, node: Node) -> tuple[int, str] | None:
        """`const { INTEGER, STRING } = Sequelize;` (egg.js's migrations): the types by their own names."""
        if node.type in ("lexical_declaration", "variable_declaration") and self.types_taken(node):
            return None
        return super().other_node(node)

    def types_taken(self, declaration: Node) -> bool:
        taken: dict[str, str] = {}
        for declarator in declaration.named_children:
            pattern, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
            if pattern is None or value is None or pattern.type != "object_pattern" \
                    or text_of(value) not in self.values.namespaces:
                return False
            for part in pattern.named_children:
                if part.type != "shorthand_property_identifier_pattern" or text_of(part) not in TYPE_KEYS:
                    return False
                taken[text_of(part)] = text_of(part)
        self.values.constants |= {name: DataType(key) for name, key in taken.items()}
        self.values.calls |= {name: functools.partial(_made, DataType, key) for name, key in taken.items()}
        return bool(taken)

    def call(self, node: Node) -> tuple[int, str] | None:
        callee = node.child_by_field_name("function")
        owner, member = member_of(callee)
        given = arguments_of(node)
        if (calls := self.promise_all(node)) is not None:
            return self.walk_all(calls)
        if owner is not None and self.db and text_of(owner).replace(" ", "") == f"{self.db}.sequelize":
            if member == "query":
                return self.query(node, given)
            if member == TRANSACTION and len(given) == 1 and given[0].type in FUNCTIONS:
                return self.transaction(given[0])
            return self.code(node)
        if owner is not None and owner.type == "identifier" and text_of(owner) == self.db and member in OPERATIONS:
            return self.operation(node, member, given)
        return super().call(node)

    def query(self, node: Node, given: list[Node]) -> tuple[int, str] | None:
        if len(given) > 2 or (len(given) == 2 and not self.only_options(given[1])):
            return self.code(given[1] if len(given) > 1 else node, "query replacements or options")
        before = len(self.pieces)
        code = self.run_sql(node, given[:1])
        self.count(len(self.pieces) - before)
        return code

    def transaction(self, callback: Node) -> tuple[int, str] | None:
        names = parameter_names(callback)
        self.callbacks.update(names)
        self.flags.add(TRANSACTION)
        self.depth += 1
        try:
            body = callback.child_by_field_name("body")
            return self.walk(body) if body is not None else None
        finally:
            self.depth -= 1

    def operation(self, node: Node, method: str, given: list[Node]) -> tuple[int, str] | None:
        arguments = given[:-1] if given and self.only_options(given[-1]) else given
        before = len(self.pieces)
        code = self.written(node, arguments, lambda values: OPERATIONS[method](*values), f"queryInterface.{method}")
        self.count(len(self.pieces) - before)
        return code

    def count(self, added: int) -> None:
        if not self.depth and added:
            self.flags.add(OUTSIDE)

    def only_options(self, node: Node) -> bool:
        """An object of how the query runs (`{ transaction }`, `{ type: QueryTypes.SELECT }`), not
        what it sends (an attribute's `{ type: Sequelize.UUID }` is not one)."""
        if node.type != "object":
            return False
        keys = []
        for member in node.named_children:
            key = member if member.type == "shorthand_property_identifier" else \
                member.child_by_field_name("key") if member.type == "pair" else None
            if key is None or text_of(key) not in OPTION_KEYS:
                return False
            keys.append(text_of(key))
        return "transaction" in keys or "QueryTypes" in text_of(node) or "logging" in keys

    def argument(self, node: Node) -> Any:
        """An argument's value, an options object without its transaction (`{ transaction, unique: true }`)."""
        if node.type != "object":
            return self.values.value(node)
        found = {}
        for member in node.named_children:
            if member.type == "comment" or (member.type == "shorthand_property_identifier" and text_of(member) == TRANSACTION):
                continue
            key = member.child_by_field_name("key") if member.type == "pair" else None
            value = member.child_by_field_name("value") if member.type == "pair" else None
            if key is None or value is None:
                raise Code(member)
            name = self.values.cooked(key) if key.type == "string" else text_of(key)
            if name in (TRANSACTION, "logging"):
                continue
            found[name] = self.values.value(value)
        return found


def _context_name(function: Node) -> list[str]:
    """umzug 3's `async ({ context: queryInterface }) => ...`: the query interface's name."""
    parameters = function.child_by_field_name("parameters")
    first = parameters.named_children[0] if parameters is not None and parameters.named_children else None
    if first is not None and first.type in ("required_parameter", "optional_parameter"):
        first = first.child_by_field_name("pattern") or first
    if first is None or first.type != "object_pattern":
        return []
    for part in first.named_children:
        if part.type == "pair_pattern" and (key := part.child_by_field_name("key")) is not None \
                and text_of(key) == "context" and (value := part.child_by_field_name("value")) is not None:
            if value.type == "object_pattern":  # `{ context: { queryInterface, logger } }`
                named = [text_of(p) for p in value.named_children if p.type == "shorthand_property_identifier_pattern"]
                return [n for n in named if n == "queryInterface"][:1]
            return [text_of(value)]
        if part.type == "shorthand_property_identifier_pattern" and text_of(part) == "context":
            return ["context"]
    return []
