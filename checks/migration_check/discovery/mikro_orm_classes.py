"""MikroORM's migration classes, read with tree-sitter's TypeScript (or JavaScript) parser.

MikroORM instantiates the class a migration module exports and calls `up()` (or `down()`), which
queue SQL with `this.addSql('...')`; the runner sends the queue, in order, once the method has
returned. `await this.execute('...')` sends its SQL at once, so it runs before anything queued:
SQL read in the order MikroORM sends it is `execute`s that come before every `addSql`. A class's
own methods (`this.createIndexes()`) are read in place. A class that overrides
`isTransactional()` to return `false` runs outside a transaction. Anything else (a knex builder,
the entity manager, a branch on what `execute` returned) is code, named with its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from migration_check.discovery.js_classes import class_declarations, class_fields, class_methods
from migration_check.discovery.js_reading import Export, Reading, member_of, read_function
from migration_check.discovery.js_values import Values, arguments_of, text_of

MAX_DEPTH = 8  # methods calling methods: more is recursion, read as code
QUEUE, AT_ONCE = "addSql", "execute"


@dataclass(frozen=True)
class MigrationClass:
    """The migration class of a module: where it is declared, what `up` and `down` run (no
    `down`: MikroORM's own throws "This migration cannot be reverted"), and whether it runs in a
    transaction (None: `isTransactional()` is code, named with its line)."""

    name: str
    line: int
    up: Export
    down: Export | None
    transactional: bool | None
    transactional_line: int


def read_class(source: bytes, root: Node, path: Path | None = None) -> MigrationClass | None:
    """The module's migration class: the first declared that extends a `Migration` and has `up`."""
    values = Values(root, path)
    for declaration in class_declarations(root):
        body = declaration.child_by_field_name("body")
        if body is None or not extends_migration(declaration):
            continue
        methods = class_methods(body)
        if "up" not in methods:
            continue
        values.fields = class_fields(body, values)
        named = declaration.child_by_field_name("name")
        transactional, line = _transactional(methods.get("isTransactional"))
        return MigrationClass(
            name=text_of(named) if named is not None else "",
            line=declaration.start_point.row + 1,
            up=read_function(methods["up"], source, values, MikroOrmReading, methods=methods),
            down=read_function(methods["down"], source, values, MikroOrmReading, methods=methods)
            if "down" in methods else None,
            transactional=transactional,
            transactional_line=line,
        )
    return None


def extends_migration(declaration: Node) -> bool:
    """`class X extends Migration` (or `migrations_1.Migration`, as TypeScript compiles it)."""
    heritage = next((child for child in declaration.children if child.type == "class_heritage"), None)
    if heritage is None:
        return False
    base = text_of(heritage).split("extends", 1)[-1].split("implements", 1)[0].strip()
    return base == "Migration" or base.endswith(".Migration")


def _transactional(method: Node | None) -> tuple[bool | None, int]:
    """What `isTransactional()` returns where it returns a literal (`return false;`); True without
    the method (MikroORM's own returns true); None where it returns anything else."""
    if method is None:
        return True, 0
    line = method.start_point.row + 1
    body = method.child_by_field_name("body")
    statements = [s for s in body.named_children if s.type != "comment"] if body is not None else []
    if len(statements) == 1 and statements[0].type == "return_statement" and statements[0].named_children:
        returned = statements[0].named_children[0]
        if returned.type in ("true", "false"):
            return returned.type == "true", line
    return None, line


class MikroOrmReading(Reading):
    """`this.addSql(sql)` and `this.execute(sql)` (before any `addSql`); the class's own methods."""

    sql_method = QUEUE

    def __init__(self, source: bytes, values: Values, methods: dict[str, Node] | None = None, depth: int = 0) -> None:
        super().__init__(source, values)
        self.db = "this"
        self.methods = methods or {}
        self.depth = depth
        self.queued = False

    def call(self, node: Node) -> tuple[int, str] | None:
        owner, member = member_of(node.child_by_field_name("function"))
        if owner is None or owner.type != "this":
            return super().call(node)
        given = arguments_of(node)
        if member == QUEUE:
            self.queued = True
            return self.run_sql(node, given)
        if member == AT_ONCE:
            if self.queued:  # MikroORM would send it before the SQL queued above it
                return self.code(node, "this.execute after this.addSql: MikroORM runs it first")
            if len(given) > 1:
                return self.code(given[1])
            return self.run_sql(node, given)
        if member in self.methods and self.depth < MAX_DEPTH and not given:
            body = self.methods[member].child_by_field_name("body")
            self.depth += 1
            try:
                return self.walk(body) if body is not None else None
            finally:
                self.depth -= 1
        return self.code(node)
