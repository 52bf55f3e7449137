"""What a db-migrate module runs, read with a JavaScript parser (tree-sitter's JavaScript grammar),
never by searching its text.

db-migrate requires the module and calls its `up` and `down` exports with the driver (`db`) and a
callback. Most modules written by hand send their SQL in the module itself: `db.runSql('ALTER
TABLE ...', callback)`, PostgreSQL's driver (db-migrate-pg) sending each `runSql` as one query in
the migration's transaction (Unleash keeps 388 of its 394 migrations so). An export is read as that
SQL (js_reading) when all it does is call `db.runSql` with SQL written in the module, the driver's
schema API (`db.createTable`, ..., written as db-migrate-pg writes it: db_migrate_api.py), alone or
bound in `async.series`, and call or pass on its callbacks; anything else (SQL the code builds, a
branch on what a query returned, a loop) is code the replay cannot run, and the first such thing
is named with its line.

The module's string literals also give the SQL files a generated module loads (`db-migrate create
--sql-file`: `path.join(__dirname, 'sqls', '<name>-up.sql')`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from migration_check.discovery.db_migrate_api import DATA_TYPES, api_sql
from migration_check.discovery.js_reading import (
    FUNCTIONS,
    Export,
    Reading,
    exported,
    member_of,
    read_function,
)
from migration_check.discovery.js_values import Values, arguments_of, descendants, text_of

SQL_FILE = re.compile(r"(?:^|/)(?P<file>[^/]+-(?P<direction>up|down)\.sql)$")


@dataclass(frozen=True)
class Module:
    """A db-migrate module as it reads: its `up` and `down` exports, and the SQL files its strings
    name (direction: (file name, line))."""

    exports: dict[str, Export] = field(default_factory=dict)
    sql_files: dict[str, tuple[str, int]] = field(default_factory=dict)


def read_module(source: bytes, root: Node, path: Path | None = None) -> Module:
    """A module's text and parse tree."""
    values = Values(root, path)
    values.namespaces = {"type": DATA_TYPES, "dataType": DATA_TYPES}  # `type = dbm.dataType` in setup
    files: dict[str, tuple[str, int]] = {}
    for node in descendants(root, ("string", "template_string")):
        try:
            cooked = values.cooked(node)
        except RecursionError:  # a `+` of strings deeper than Python's stack: no file name there
            continue
        if isinstance(cooked, str) and (match := SQL_FILE.search(cooked)):
            files.setdefault(match["direction"], (match["file"], node.start_point.row + 1))
    exports = {name: read_function(function, source, values, DbMigrateReading)
               for name, function in exported(root).items()}
    return Module(exports, files)


class DbMigrateReading(Reading):
    """db-migrate's driver: `runSql`, its schema API, and `async.series` of bound driver calls."""

    sql_method = "runSql"

    def driver_call(self, node: Node, method: str, given: list[Node]) -> tuple[int, str] | None:
        return self.api(node, method, given)

    def other_call(self, node: Node, given: list[Node]) -> tuple[int, str] | None:
        owner, member = member_of(node.child_by_field_name("function"))
        if owner is not None and text_of(owner) == "async" and member == "series" and given and given[0].type == "array":
            return self.series(given[0], given[1:])
        return super().other_call(node, given)

    def method_bound(self, task: Node) -> str | None:
        """The driver's method a task of async.series binds (`db.createTable.bind(db, ...)`)."""
        owner, member = member_of(task.child_by_field_name("function") if task.type == "call_expression" else None)
        if owner is None or member != "bind":
            return None
        driver, method = member_of(owner)
        given = arguments_of(task)
        bound_to_db = given and text_of(given[0]) == self.db
        return method if driver is not None and text_of(driver) == self.db and bound_to_db else None

    def api(self, node: Node, method: str, given: list[Node]) -> tuple[int, str] | None:
        """A call of the driver's schema API, as the SQL the driver sends for it; its callbacks then."""
        callbacks = [a for a in given if a.type in FUNCTIONS or (a.type == "identifier" and text_of(a) in self.callbacks)]
        arguments = [a for a in given if a not in callbacks]
        code = self.written(node, arguments, lambda values: [api_sql(method, values)])
        return code if code is not None else self.rest(callbacks)

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
                given = arguments_of(task)[1:]
                code = self.run_sql(task, given) if method == "runSql" else self.api(task, method, given)
            if code is not None:
                return code
        return self.rest(rest)
