"""What a knex migration's `up(knex)` and `down(knex)` send, read with tree-sitter's parsers.

knex builds its SQL from chains of calls on the `knex` it gives the function: `knex.raw('...')`,
`knex.schema.raw('...')`, and the schema builder (`knex.schema.createTable('users', (table) =>
{ table.increments(); table.string('email').notNullable().unique(); })`, `.alterTable`,
`.dropTable`, ... chained one after the other, `withSchema` first). Each chain is read link by
link, each table callback statement by statement, into the model knex_schema.py writes as knex's
PostgreSQL client writes it. `Promise.all([...])` of such chains runs them in the array's order
(in the migration's transaction, knex sends its queries one after the other on one connection).
`knex('users').insert({...})` is the INSERT its query compiler writes. Anything else (an update
or a delete through the query builder, `hasTable` and a branch on its answer, a loop) is code.
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from migration_check.discovery.js_reading import FUNCTIONS, Piece, Reading, column_of, parameter_names
from migration_check.discovery.js_values import Code, Link, Unwritable, arguments_of, chain_of, json_stringify, text_of
from migration_check.discovery.knex_schema import ALIASES, COLUMN_TYPES, Column, Raw, Table, TableWriter, escape, wrap

TABLE_METHODS = {"createTable": "create", "createTableIfNotExists": "createIfNot", "table": "alter", "alterTable": "alter"}
TABLE_STATEMENTS = frozenset({"index", "unique", "primary", "dropIndex", "dropUnique", "dropUniqueIfExists", "dropForeign",
                              "dropForeignIfExists", "dropPrimary", "dropPrimaryIfExists", "dropColumn", "dropColumns",
                              "renameColumn", "setNullable", "dropNullable"})
MODIFIERS = {"notNullable": ("nullable", [False]), "notNull": ("nullable", [False])}
# The column modifiers knex reads (`unsigned`, `first`, `after` and `collate` it writes nothing for on
# PostgreSQL: kept, and left out by knex_schema as knex leaves them out).
MODIFIER_NAMES = {"nullable": "nullable", "defaultTo": "defaultTo", "default": "defaultTo", "defaultsTo": "defaultTo",
                  "comment": "comment", "unsigned": "unsigned", "first": "first", "after": "after", "collate": "collate",
                  "checkPositive": "checkPositive", "checkNegative": "checkNegative", "checkIn": "checkIn",
                  "checkNotIn": "checkNotIn"}
FOREIGN_LINKS = {"inTable": "inTable", "on": "inTable", "onDelete": "onDelete", "onUpdate": "onUpdate",
                 "withKeyName": "keyName", "deferrable": "deferrable"}


class KnexReading(Reading):
    """knex's chains: `knex.raw`, `knex.schema.*` with its table callbacks, `Promise.all` of them."""

    sql_method = "raw"

    def call(self, node: Node) -> tuple[int, str] | None:
        root, links = chain_of(node)
        first_then = next((i for i, (name, _, _) in enumerate(links) if name == "then"), None)
        if first_then is not None and all(name == "then" and given is not None for name, given, _ in links[first_then:]):
            # a promise chain, `knex.schema.raw(...).then(() => ...).then(...)`: the chain, then each callback
            code = self.chain(node, root, links[:first_then]) if first_then else self.code(node)
            for _, given, _ in links[first_then:]:
                code = code or self.rest(given or [])
            return code
        if root.type == "identifier" and text_of(root) == self.db:
            return self.chain(node, root, links)
        if root.type == "call_expression" and text_of(root.child_by_field_name("function") or root) == self.db:
            return self.query(node, root, links)
        if (calls := self.promise_all(node)) is not None:
            return self.walk_all(calls)
        return super().call(node)

    def chain(self, node: Node, root: Node, links: list[Link]) -> tuple[int, str] | None:
        if root.type != "identifier" or text_of(root) != self.db or not links:
            return self.code(node)
        first, given, _ = links[0]
        if first == "raw" and given is not None and len(links) == 1:
            return self.run_sql(node, given) if len(given) == 1 else self.code(given[1], "query parameters")
        if first != "schema" or given is not None:
            return self.code(node, f"{self.db}.{first}")
        schema: str | None = None
        for method, arguments, at in links[1:]:
            if arguments is None:
                return self.code(at, f"{self.db}.schema...{method}")
            try:
                if method == "withSchema":
                    schema = self.value(arguments[0]) if arguments else None
                    continue
                statements = self.schema_call(method, arguments, schema)
            except Code as code:
                return self.code(code.node)
            except Unwritable as exc:
                return at.start_point.row + 1, f"schema.{method}: {exc}"
            for sql, origin in statements:  # at the table callback's statement that made it, else at the call
                where = origin if isinstance(origin, Node) else at
                self.pieces.append(Piece(where.start_point.row + 1, column_of(self.source, where.start_byte), sql))
        return None

    def query(self, node: Node, root: Node, links: list[Link]) -> tuple[int, str] | None:
        """`knex('users').insert({...})` (or a list of rows; `.returning(...)` changes nothing sent to
        the table): the INSERT knex's query compiler writes, its values inline as the driver binds
        them. Any other query is code."""
        named = arguments_of(root)
        if not links or links[0][0] != "insert" or len(links[0][1] or []) != 1 or len(named) != 1 \
                or any(name != "returning" for name, _, _ in links[1:]):
            return self.code(node)
        rows = (links[0][1] or [])[0]
        return self.written(node, [named[0], rows], lambda values: [insert_sql(*values)], f"{self.db}(...).insert")

    def schema_call(self, method: str, arguments: list[Node], schema: str | None) -> list[tuple[str, object]]:
        if method in TABLE_METHODS:
            if len(arguments) != 2 or arguments[1].type not in FUNCTIONS:
                raise Unwritable("a table without its callback")
            table = Table(self.value(arguments[0]), TABLE_METHODS[method], schema)
            self.table_callback(arguments[1], table)
            return TableWriter(table).write()
        return [(sql, None) for sql in schema_sql(method, [self.value(a) for a in arguments], schema)]

    def value(self, node: Node) -> Any:
        """A value written in the module, `knex.raw('...')` and `knex.fn.now()` as knex writes them."""
        if node.type == "call_expression" and (callee := node.child_by_field_name("function")) is not None:
            named, given = text_of(callee).replace(" ", ""), arguments_of(node)
            if named == f"{self.db}.fn.now":
                precision = self.values.value(given[0]) if given else None
                return Raw(f"CURRENT_TIMESTAMP({precision})" if isinstance(precision, int) else "CURRENT_TIMESTAMP")
            if named == f"{self.db}.fn.uuid" and not given:
                return Raw("(gen_random_uuid())")
            if named == f"{self.db}.raw" and len(given) == 1 and isinstance(text := self.values.value(given[0]), str):
                return Raw(text)
        if node.type == "undefined":
            return None  # an argument left out, as knex reads it
        return self.values.value(node)

    def table_callback(self, function: Node, table: Table) -> None:
        """The table builder's calls, statement by statement (`table.string('email').unique()`)."""
        # knex calls it with the builder as `this` too (`function () { this.string('foo') }`)
        names = parameter_names(function) or (["this"] if function.type != "arrow_function" else [])
        body = function.child_by_field_name("body")
        if not names or body is None:
            raise Unwritable("a table callback that does not name its table builder")
        statements = body.named_children if body.type == "statement_block" else [body]
        for statement in statements:
            if statement.type == "comment":
                continue
            expression = statement.named_children[0] if statement.type == "expression_statement" and \
                statement.named_children else statement
            root, links = chain_of(expression)
            if root.type not in ("identifier", "this") or text_of(root) != names[0] or not links or links[0][1] is None:
                raise Code(expression)
            self.table_chain(table, links, expression)

    def table_chain(self, table: Table, links: list[Link], at: Node) -> None:
        method, given, _ = links[0]
        values = [self.value(a) for a in given or []]
        kind = ALIASES.get(method.lower(), method.lower())
        if kind in COLUMN_TYPES:
            column = Column(kind, values, at=at)
            table.columns.append(column)
            self.column_links(table, column, links[1:])
            return
        if len(links) > 1 and method != "foreign":
            # the table builder's own methods return it: `table.index(['a']).index(['b'])`
            if all(given is not None and name in TABLE_STATEMENTS for name, given, _ in links):
                for position in range(len(links)):
                    self.table_chain(table, links[position:position + 1], at)
                return
            raise Unwritable(f"table.{method}(...).{links[1][0]}")
        if method == "timestamps":
            self.timestamps(table, values, at)
        elif method == "dropTimestamps":
            table.statements.append(("dropColumn", [["createdAt", "updatedAt"] if values[:1] == [True] else
                                                    ["created_at", "updated_at"]], at))
        elif method == "comment" and values and isinstance(values[0], str):
            table.comment = values[0]
        elif method == "foreign":
            data: dict[str, Any] = {"column": values[0] if values else None, "keyName": values[1] if len(values) > 1 else None}
            table.statements.append(("foreign", [data], at))
            self.foreign_links(data, links[1:])
        elif method in TABLE_STATEMENTS:
            table.statements.append(("dropColumn" if method == "dropColumns" else method, values, at))
        else:
            raise Unwritable(f"table.{method}")

    def column_links(self, table: Table, column: Column, links: list[Link]) -> None:
        for position, (method, given, _) in enumerate(links):
            values = [self.value(a) for a in given or []]
            if given is None:
                raise Unwritable(f".{method} on a column")
            if method in MODIFIERS:
                key, fixed = MODIFIERS[method]
                column.modifiers[key] = fixed
            elif method in MODIFIER_NAMES:
                column.modifiers[MODIFIER_NAMES[method]] = values
            elif method in ("index", "unique", "primary"):
                if "increments" not in column.kind:  # knex ignores them on an increments column
                    table.statements.append((method, [column.name, *values], column.at))
            elif method == "alter":
                options = values[0] if values else {}
                if not isinstance(options, dict) or set(options) - {"alterNullable", "alterType"} or table.method != "alter":
                    raise Unwritable(".alter() with options knex does not take, or in a new table")
                column.method = "alter"
                column.alter = (options.get("alterNullable", True) is not False, options.get("alterType", True) is not False)
            elif method == "references":
                data: dict[str, Any] = {"column": column.name, "keyName": None}
                table.statements.append(("foreign", [data], column.at))
                self.foreign_links(data, [(method, given, links[position][2]), *links[position + 1:]])
                return
            else:
                raise Unwritable(f".{method}() on a column")

    def foreign_links(self, data: dict[str, Any], links: list[Link]) -> None:
        for method, given, _ in links:
            values = [self.value(a) for a in given or []]
            if given is None or len(values) != 1:
                raise Unwritable(f".{method} of a foreign key")
            if method == "references":
                target = values[0]
                if isinstance(target, str) and "." in target:
                    data["inTable"], data["references"] = target.split(".", 1)
                else:
                    data["references"] = target
            elif method in FOREIGN_LINKS:
                data[FOREIGN_LINKS[method]] = values[0]
            else:
                raise Unwritable(f".{method}() of a foreign key")

    def timestamps(self, table: Table, values: list[Any], at: Node) -> None:
        options = values[0] if values and isinstance(values[0], dict) else None
        use, now, camel = (options.get("useTimestamps"), options.get("defaultToNow"), options.get("useCamelCase")) \
            if options is not None else (values + [None, None, None])[:3]
        kind = "timestamp" if use is True else "datetime"
        for name in ("createdAt", "updatedAt") if camel else ("created_at", "updated_at"):
            column = Column(kind, [name], at=at)
            if now is True:
                column.modifiers |= {"nullable": [False], "defaultTo": [Raw("CURRENT_TIMESTAMP")]}
            table.columns.append(column)


def schema_sql(method: str, args: list[Any], schema: str | None) -> list[str]:
    """knex.schema's own operations (SchemaCompiler_PG), other than a table's."""
    name = args[0] if args and isinstance(args[0], str) else None
    if name is None:
        raise Unwritable(f"schema.{method} without a name")
    prefixed = wrap(f"{schema}.{name}" if schema else name)
    cascade = " cascade" if len(args) > 1 and args[1] is True else ""
    written = {
        "dropTable": f"drop table {prefixed}",
        "dropTableIfExists": f"drop table if exists {prefixed}",
        "dropView": f"drop view {prefixed}",
        "dropViewIfExists": f"drop view if exists {prefixed}",
        "dropMaterializedView": f"drop materialized view {prefixed}",
        "dropMaterializedViewIfExists": f"drop materialized view if exists {prefixed}",
        "createSchema": f"create schema {wrap(name)}",
        "createSchemaIfNotExists": f"create schema if not exists {wrap(name)}",
        "dropSchema": f"drop schema {wrap(name)}{cascade}",
        "dropSchemaIfExists": f"drop schema if exists {wrap(name)}{cascade}",
        "createExtension": f"create extension {wrap(name)}",
        "createExtensionIfNotExists": f"create extension if not exists {wrap(name)}",
        "dropExtension": f"drop extension {wrap(name)}",
        "dropExtensionIfExists": f"drop extension if exists {wrap(name)}",
    }
    if method == "renameTable":
        if len(args) < 2 or not isinstance(args[1], str):
            raise Unwritable("renameTable without the new name")
        return [f"alter table {prefixed} rename to {wrap(args[1])}"]
    if method == "raw":
        return [name]
    if method not in written:
        raise Unwritable(f"schema.{method}")
    return [written[method]]


def insert_sql(table: Any, rows: Any) -> str:
    """knex's `_prepInsert`: the columns of every row, sorted; a row without one gets DEFAULT."""
    rows = rows if isinstance(rows, list) else [rows]
    if not isinstance(table, str) or not rows or not all(isinstance(row, dict) and row for row in rows):
        raise Unwritable("rows this check does not write")
    columns = sorted({key for row in rows for key in row})
    values = ", ".join("(" + ", ".join(bound(row[c]) if c in row else "DEFAULT" for c in columns) + ")" for row in rows)
    return f"insert into {wrap(table)} ({', '.join(wrap(c) for c in columns)}) values {values}"


def bound(value: Any) -> str:
    """A value as node-postgres binds it: an object as its JSON; a list (a PostgreSQL array there) is not written."""
    if isinstance(value, dict):
        return escape(json_stringify([value]))
    if isinstance(value, list):
        raise Unwritable("a list value (node-postgres binds it as a PostgreSQL array)")
    return escape(value)
