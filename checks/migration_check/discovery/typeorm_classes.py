"""TypeORM's migration classes, read with tree-sitter's TypeScript (or JavaScript) parser.

TypeORM instantiates each class its `migrations` setting loads and calls `up(queryRunner)` and
`down(queryRunner)`. What `migration:generate` writes, and most hand-written ones, send SQL through
`await queryRunner.query(`...`)`: that is read as the migration's SQL (js_reading). Besides that,
a class may pass the query runner on to methods of its own (`this.postgresUp(queryRunner)`), which
are read in place, and choose its SQL by the database it runs on (`switch
(queryRunner.connection.options.type)`, ever-gauzy keeps its 278 migrations so for PostgreSQL,
MySQL and SQLite): the PostgreSQL case is what runs here. The query runner's schema API
(`createTable(new Table({...}))`, ...) is the SQL TypeORM sends for it (typeorm_api.py), with the
class's fields (`this.table`). Logging (`console.log`) does nothing to the database. Anything else
(SQL the code builds, a seed read from a file) is code, named with its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from migration_check.discovery.js_classes import class_declarations, class_fields, class_methods
from migration_check.discovery.js_reading import (
    Export,
    Reading,
    member_of,
    parameter_names,
    read_function,
)
from migration_check.discovery.js_values import Code, Values, text_of
from migration_check.discovery.typeorm_api import CLASSES, made, query_runner_sql

DATABASE_TYPES = frozenset({"postgres", "postgresql"})  # TypeORM's DataSource `type`, and a project's own name
MAX_DEPTH = 8  # methods calling methods: more is recursion, read as code


@dataclass(frozen=True)
class MigrationClass:
    """One class of a migration file: its name as TypeORM reads it (its `name` property, else the
    class's), where it is declared, what `up` and `down` run, and its own `transaction` setting."""

    name: str
    line: int
    up: Export
    down: Export | None
    transaction: bool | None = None


def read_classes(source: bytes, root: Node, path: Path | None = None) -> list[MigrationClass]:
    """The migration classes of a file: those with an `up` method."""
    values = Values(root, path)
    values.makers |= {f"new {kind}": made(kind) for kind in CLASSES}
    found = []
    for declaration in class_declarations(root):
        body = declaration.child_by_field_name("body")
        if body is None:
            continue
        methods = class_methods(body)
        if "up" not in methods:
            continue
        fields = class_fields(body, values)
        values.fields = fields  # `this.table` in its methods
        named = declaration.child_by_field_name("name")
        given_name, transaction = fields.get("name"), fields.get("transaction")
        up = read_function(methods["up"], source, values, TypeOrmReading, methods=methods)
        down = read_function(methods["down"], source, values, TypeOrmReading, methods=methods) if "down" in methods else None
        found.append(MigrationClass(
            name=given_name if isinstance(given_name, str) else text_of(named) if named is not None else "",
            line=declaration.start_point.row + 1,
            up=up,
            down=down,
            transaction=transaction if isinstance(transaction, bool) else None,
        ))
    return found


class TypeOrmReading(Reading):
    """`queryRunner.query(sql)`; the class's own methods given the query runner; the PostgreSQL case
    of a switch on the database type; logging."""

    sql_method = "query"

    def __init__(self, source: bytes, values: Values, methods: dict[str, Node] | None = None, depth: int = 0,
                 uuid_generator: str = "uuid_generate_v4()") -> None:
        super().__init__(source, values)
        self.methods = methods or {}
        self.depth = depth
        self.uuid_generator = uuid_generator

    def driver_call(self, node: Node, method: str, given: list[Node]) -> tuple[int, str] | None:
        """The query runner's schema API, as the SQL it sends (typeorm_api.py)."""
        return self.written(node, given, lambda values: query_runner_sql(method, values, self.uuid_generator))

    def other_call(self, node: Node, given: list[Node]) -> tuple[int, str] | None:
        owner, member = member_of(node.child_by_field_name("function"))
        if owner is not None and owner.type == "this" and member in self.methods and self.depth < MAX_DEPTH:
            return self.own_method(node, self.methods[member], given)
        return super().other_call(node, given)

    def own_method(self, node: Node, method: Node, given: list[Node]) -> tuple[int, str] | None:
        """`this.postgresUp(queryRunner)`: the method's body, its first parameter the query runner."""
        names = parameter_names(method)
        passes_driver = bool(given) and text_of(given[0]) == self.db
        if not passes_driver or not names:
            return self.code(node)
        driver, self.db, self.depth = self.db, names[0], self.depth + 1
        body = method.child_by_field_name("body")
        try:
            return self.walk(body) if body is not None else None
        finally:
            self.db, self.depth = driver, self.depth - 1

    def other_node(self, node: Node) -> tuple[int, str] | None:
        if node.type == "switch_statement" and self.on_database_type(node):
            return self.database_case(node)
        return super().other_node(node)

    def on_database_type(self, switch: Node) -> bool:
        """Whether a switch chooses by the database: it asks the query runner's connection
        (`queryRunner.connection.options.type`), or a type (ever-traduora's
        `config.db.default.type`) one of whose cases names PostgreSQL (`DbType.POSTGRES`)."""
        value = switch.child_by_field_name("value")
        while value is not None and value.type in ("parenthesized_expression", "as_expression") and value.named_children:
            value = value.named_children[0]
        if value is None or value.type not in ("member_expression", "identifier"):
            return False
        words = text_of(value).replace(" ", "").replace("\n", "").split(".")
        if words[0] == self.db and words[-2:] == ["options", "type"]:
            return True
        body = switch.child_by_field_name("body")
        cases = [c for c in body.named_children if c.type == "switch_case"] if body is not None else []
        return "type" in words[-1].lower() and any(self.is_postgres(case) for case in cases)

    def database_case(self, switch: Node) -> tuple[int, str] | None:
        """The statements that run on PostgreSQL: from its case on (falling through the cases
        below it) up to a `break`; the default's where no case names PostgreSQL."""
        body = switch.child_by_field_name("body")
        cases = [c for c in body.named_children if c.type in ("switch_case", "switch_default")] if body is not None else []
        start = next((i for i, case in enumerate(cases) if case.type == "switch_case" and self.is_postgres(case)), None)
        if start is None:
            start = next((i for i, case in enumerate(cases) if case.type == "switch_default"), None)
        if start is None:
            return None  # nothing runs on PostgreSQL
        for case in cases[start:]:
            for statement in case.children_by_field_name("body"):
                if statement.type == "break_statement":
                    return None
                if (code := self.walk(statement)) is not None:
                    return code
        return None

    def is_postgres(self, case: Node) -> bool:
        label = case.child_by_field_name("value")
        if label is None:
            return False
        if label.type == "member_expression":  # DatabaseTypeEnum.postgres, DbType.POSTGRES
            return text_of(label).rsplit(".", 1)[-1].lower() in DATABASE_TYPES
        try:
            value = self.values.value(label)
            return isinstance(value, str) and value.lower() in DATABASE_TYPES
        except (Code, RecursionError):  # a label that is code is not PostgreSQL's
            return False
