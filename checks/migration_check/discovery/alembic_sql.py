"""The SQL an Alembic migration sends, written by Alembic and SQLAlchemy themselves.

A migration's `op.create_table(...)`, `sa.Column(...)`, `postgresql.ENUM(...)` are built from the
values the file writes out (alembic_reading.py evaluates nothing else) and handed to Alembic's own
`Operations`, in its offline mode for the PostgreSQL dialect: each operation compiles to the
statements `alembic upgrade` would send (the enum types a `create_table` creates first, the
several ALTERs of one `alter_column`, a batch's operations, an `autocommit_block`'s COMMIT and
BEGIN), collected statement by statement instead of being printed. Values are rendered inline, as
the driver would bind them.

What a migration may reach is a closed list: SQLAlchemy's types, schema items and SQL constructs
(classes and a few constructor functions, by what they are, not by name), Alembic's `op`, and the
types of libraries that only wrap SQLAlchemy's (sqlmodel's AutoString), and alembic_utils' entities
(`PGFunction`, `PGView`, `PGTrigger`, `PGExtension`, ... with `op.create_entity`, `replace_entity`,
`drop_entity`), whose SQL alembic_utils writes itself, and alembic-postgresql-enum's operations
(`op.sync_enum_values`, `op.add_enum_value`, with its `TableReference`), whose SQL it writes itself
through the connection it is given (a Bind: it collects what they send, and a query whose result
it would read is code the replay does not have). Nothing of the project's
own code and nothing that opens a connection, reads a file or reflects a database is reachable:
migrations are untrusted code.
"""

from __future__ import annotations

import importlib
import inspect
import io
from collections.abc import Callable
from typing import Any

import alembic_postgresql_enum  # registers op.sync_enum_values, op.add_enum_value
import alembic_utils.replaceable_entity  # registers op.create_entity, drop_entity, replace_entity
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic_postgresql_enum.sql_commands.indexes import TableIndex
from pglast import parser
from sqlalchemy import schema, types
from sqlalchemy.sql import elements, expression

from migration_check.discovery.alembic_config import NO_ENV, EnvPy
from migration_check.discovery.alembic_types import wrapped
from migration_check.sql.prepared import quote_identifier, quote_literal

# Constructor functions of SQL expressions, pure: no connection, file or reflection behind them.
CONSTRUCTORS = frozenset({
    "text", "literal_column", "literal", "column", "table", "null", "true", "false", "func", "cast", "and_",
    "or_", "not_", "select", "insert", "update", "delete", "bindparam", "case", "type_coerce", "exists",
    "tuple_", "desc", "asc", "distinct", "any_", "all_", "collate", "extract", "over", "quoted_name",
})
# What reads the database's own schema: there is none to read before the migration runs.
REFLECTION = frozenset({"inspect", "Inspector", "reflect", "reflection"})
ENUM_OPERATIONS = frozenset({"sync_enum_values", "add_enum_value"})  # alembic-postgresql-enum's
OTHER_ENUM_LIBRARY = "alembic_autogenerate_enums"  # registers an op.sync_enum_values of its own
# What a migration names of alembic-postgresql-enum besides its operations: plain descriptions of
# columns and indexes (its reading and comparing of the database stay out of reach).
ENUM_LIBRARY = {"alembic_postgresql_enum.TableReference": alembic_postgresql_enum.TableReference,
                "alembic_postgresql_enum.ColumnType": alembic_postgresql_enum.ColumnType,
                "alembic_postgresql_enum.get_enum_data.TableReference": alembic_postgresql_enum.TableReference,
                "alembic_postgresql_enum.get_enum_data.ColumnType": alembic_postgresql_enum.ColumnType,
                "alembic_postgresql_enum.sql_commands.indexes.TableIndex": TableIndex}
# Functions a Column takes as its Python-side `default=` or `onupdate=`: the application calls them
# when it inserts, and no DDL holds them. Called by the migration itself, they are Python.
PYTHON_SIDE = frozenset({"uuid.uuid4", "uuid.uuid1", "datetime.datetime.utcnow", "datetime.datetime.now",
                         "datetime.date.today"})


def _python_side(path: str) -> Callable[[], None]:
    def called() -> None:
        raise Unreachable(f"{path}(), a value computed in Python")
    called.__name__ = path.rpartition(".")[2]
    return called


# Operations a migration may call (Alembic's `op` and a batch's): every public one but those that
# hand out the connection or run Python (`run_async`, `invoke`, `register_operation`).
REFUSED_OPERATIONS = frozenset({"get_bind", "get_context", "run_async", "invoke", "register_operation",
                                "implementation_for", "context", "migration_context", "impl"})


class Unreachable(Exception):
    """A name the migration uses that is not SQLAlchemy's or Alembic's: its message names it."""


def resolve(path: str) -> Any:
    """The object `path` (a dotted name a migration imports) is, where a migration may use it: a
    module of SQLAlchemy, a type, schema item or SQL construct of it, or a wrapped library's type."""
    found, reexported = wrapped(path)
    if found is not None:
        return found
    path = reexported or path
    if path in PYTHON_SIDE:
        return _python_side(path)
    if path == "sqlalchemy" or path.startswith("sqlalchemy."):
        return allowed(_imported(path, "SQLAlchemy"), path)
    if path.startswith("alembic_utils."):
        found = _imported(path, "alembic_utils")
        if inspect.isclass(found) and issubclass(found, alembic_utils.replaceable_entity.ReplaceableEntity):
            return found
        raise Unreachable(f"{path}, which is not one of alembic_utils' entities")
    if path in ENUM_LIBRARY:
        return ENUM_LIBRARY[path]
    owner, _, member = path.rpartition(".")
    if ENUM_LIBRARY.get(owner) is alembic_postgresql_enum.ColumnType and member in alembic_postgresql_enum.ColumnType.__members__:
        return alembic_postgresql_enum.ColumnType[member]
    raise Unreachable(f"{path}, the project's own Python or a library this check does not read")


def _imported(path: str, library: str) -> Any:
    """The object at `path`: its longest prefix that is a module, then attributes of it."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        for part in parts[end:]:
            if part.startswith("_") or not hasattr(found, part):
                raise Unreachable(f"{path}, which {library} does not have")
            found = getattr(found, part)
        return found
    raise Unreachable(f"{path}, which {library} does not have")


def allowed(found: Any, path: str) -> Any:
    """`found` where a migration may use it (`path` names it in the message otherwise)."""
    if inspect.ismodule(found):
        if found.__name__.startswith("sqlalchemy"):
            return found
    elif inspect.isclass(found):
        # Reflection (a Table's autoload_with, MetaData.reflect) needs a connection, which a
        # migration here never has: op.get_bind() is a Bind.
        if issubclass(found, types.TypeEngine | schema.SchemaItem | elements.ClauseElement | schema.MetaData):
            return found
    elif path.rpartition(".")[2] in CONSTRUCTORS and getattr(found, "__module__", "").startswith("sqlalchemy") \
            or isinstance(found, type(expression.func)):  # func, func.now, func.pg_catalog.lower
        return found
    if REFLECTION & set(path.split(".")):
        raise Unreachable(f"{path}, which reads the database's schema as it is (reflection)")
    raise Unreachable(f"{path}, which is not a SQLAlchemy type, schema item or SQL construct")


class Bind:
    """What `op.get_bind()` gives a migration: its statements are the migration's, nothing else."""

    def __init__(self, sent: SentSql) -> None:
        self.sent = sent
        self.dialect = sent.context.dialect  # `if bind.dialect.name == "postgresql":` reads it
        self.engine = Engine(self.dialect)

    def execute(self, statement: Any, parameters: Any = None) -> Result:
        """The statement sent where the migration runs its others; with its parameters bound, as
        the driver binds them (a list of them: once per item, as executemany runs it)."""
        for bound in _bound(statement, parameters):
            self.sent.operations.execute(bound)
        return Result()

    exec_driver_sql = execute

    def connect(self) -> Bind:
        """Itself: what alembic-postgresql-enum asks a bind that is not a Connection for (a
        migration cannot reach it: `connect` is not among what it may read of a bind)."""
        return self

    def commit(self) -> None:
        """The transaction so far committed, and the next begun (SQLAlchemy 2 begins one with the
        next statement): what a migration does before an `autocommit_block`, whose own COMMIT then
        ends an empty transaction."""
        self.sent.context.impl.emit_commit()
        self.sent.context.impl.emit_begin()


def _bound(statement: Any, parameters: Any) -> list[Any]:
    if parameters is None:
        return [statement]
    every = parameters if isinstance(parameters, list | tuple) else [parameters]
    if not every or not all(isinstance(given, dict) for given in every):
        raise Unreachable("a query with parameters of a kind this check does not bind")
    if isinstance(statement, str):
        statement = expression.text(statement)
    if isinstance(statement, elements.TextClause):
        return [statement.bindparams(**given) for given in every]
    if isinstance(statement, expression.Insert | expression.Update):
        return [statement.values(**given) for given in every]
    raise Unreachable("a query with parameters given apart")


class Engine:
    """`op.get_bind().engine`, as migrations read it to learn the database: `str(bind.engine.url)`
    starts with `postgresql`. No host, user or password: there is none to give."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.name = dialect.name
        self.url = "postgresql://"


class Result:
    """What a query run through the connection gives back: the rows only the database knows."""

    def __getattr__(self, name: str) -> Any:
        # (a library's own code reading it: alembic-postgresql-enum's column default)
        raise Unreachable(f"a query's result ({name}), which only the database can say")


class SentSql:
    """Alembic's operations against a PostgreSQL dialect, offline: each statement they would send
    is collected, in order, instead of printed."""

    def __init__(self, env: EnvPy = NO_ENV) -> None:
        self.statements: list[str] = []
        self.env = env  # what the project's env.py sets: the plugins it imports register operations on op
        # Alembic names a constraint an operation leaves unnamed by target_metadata's naming convention.
        target = {"target_metadata": schema.MetaData(naming_convention=env.convention)} if env.convention else {}
        self.context = MigrationContext.configure(
            dialect_name="postgresql", dialect_opts={"paramstyle": "named"},
            opts={"as_sql": True, "literal_binds": True, "output_buffer": io.StringIO(), **target})  # (buffer unused)
        impl = self.context.impl
        self.mock = self.context.bind  # Alembic's own mock connection: schema items' create/drop
        impl._exec = _exec_collecting(self.statements, self.context)  # type: ignore[method-assign]
        # An autocommit_block's COMMIT and BEGIN, written out with the terminator.
        impl.static_output = lambda text: self.statements.append(text.rstrip(";"))  # type: ignore[method-assign]
        self.operations = Operations(self.context)
        self.bind = Bind(self)
        # A library's operation asks `operations.get_bind()` for its connection (a migration never
        # reaches get_bind on op): what it sends is collected, and a result it reads is refused.
        self.operations.get_bind = lambda: self.bind  # type: ignore[method-assign, assignment, return-value]

    def taken(self) -> list[str]:
        """The statements collected since the last call, and forgets them."""
        taken, self.statements[:] = list(self.statements), []
        return taken


def operation_of(operations: Any, name: str, sent: SentSql) -> Callable[..., Any]:
    """An operation of `op` or of a batch (`batch_op.add_column`), where a migration may call it."""
    if name.startswith("_") or name in REFUSED_OPERATIONS or not callable(getattr(operations, name, None)):
        raise Unreachable(f"op.{name}, which is not an operation Alembic writes SQL for")
    operation = getattr(operations, name)
    if name not in ENUM_OPERATIONS:
        return operation
    if OTHER_ENUM_LIBRARY in sent.env.imports and "alembic_postgresql_enum" not in sent.env.imports:
        # Its sync_enum_values takes other arguments and writes other SQL (Netflix/lemur).
        raise Unreachable(f"op.{name} of {OTHER_ENUM_LIBRARY}, which env.py imports and this check does not read")

    def on_one_line(*arguments: Any, **keywords: Any) -> Any:
        """The library's statements, laid out over many lines, each on the one of its operation (the
        functions it makes and drops again, bodies included): what follows stays at its own lines."""
        before = len(sent.statements)
        result = operation(*arguments, **keywords)
        sent.statements[before:] = [_one_line(statement, bodies=True) for statement in sent.statements[before:]]
        return result
    return on_one_line


def _exec_collecting(statements: list[str], context: MigrationContext) -> Callable[..., None]:
    def collected(construct: Any, execution_options: Any = None, multiparams: Any = None, params: Any = None) -> None:
        if multiparams is not None or params:
            raise Unreachable("a query with parameters given apart")
        if isinstance(construct, str):
            construct = expression.text(construct)
        ddl = isinstance(construct, schema.ExecutableDDLElement)
        compiled = str(construct.compile(dialect=context.dialect, **({} if ddl else
                                                                    {"compile_kwargs": {"literal_binds": True}})))
        # DDL comes out over several lines, indented: put on one, so that the statements after it
        # stay at their own lines of the migration. Text the migration wrote stays as written.
        statements.append(_one_line(compiled) if ddl else compiled)
    return collected


def _one_line(sql: str, bodies: bool = False) -> str:
    """`sql` on one line: each run of white space with a line break between two tokens made one
    space, or none inside parentheses (strings, whose line breaks are their value, kept as they are;
    with `bodies`, a dollar-quoted body's own tokens too)."""
    try:
        tokens = parser.scan(sql)
    except parser.ParseError:
        return sql.strip()
    if not tokens:
        return sql.strip()
    text = sql[tokens[0].start:tokens[0].end + 1]
    for before, token in zip(tokens, tokens[1:], strict=False):
        gap = sql[before.end + 1:token.start]
        if "\n" in gap and not gap.strip() and before.name != "SQL_COMMENT":  # a `--` comment ends at its line
            gap = "" if sql[before.end] == "(" or sql[token.start] == ")" else " "
        text += gap + _body_on_one_line(sql[token.start:token.end + 1], bodies)
    return text


def _body_on_one_line(token: str, bodies: bool) -> str:
    if not bodies or not token.startswith("$"):
        return token
    tag = token[:token.index("$", 1) + 1]
    return tag + _one_line(token[len(tag):-len(tag)]) + tag


def asked_first(item: Any, name: str, sql: str) -> str:
    """`sql` run only where the object it creates is missing (or it drops is there), as SQLAlchemy's
    checkfirst asks the database before it sends it."""
    qualified = ".".join(quote_identifier(part) for part in (getattr(item, "schema", None), item.name) if part)
    lookup = "to_regtype" if isinstance(item, types.TypeEngine) else "to_regclass"
    condition = "IS NULL" if name == "create" else "IS NOT NULL"
    return (f"DO $checkfirst$ BEGIN IF {lookup}({quote_literal(qualified)}) {condition} THEN EXECUTE {quote_literal(sql)};"
            " END IF; END $checkfirst$")
