"""Errors that show a migration was written for another database than PostgreSQL.

Migration runners such as golang-migrate and goose serve SQLite and MySQL too, and a repository's
SQLite migrations look like any others. PostgreSQL then stops at a word it does not know; the
failure says which database the file was written for, so that the reader does not hunt for a typo.
Read from the server's (or the parser's) own error, never from the SQL text. A syntax error can
also mean a newer PostgreSQL: the failing statement is then given to the parser the tool ships
(pglast's, from a recent PostgreSQL), which reads it.
"""

from __future__ import annotations

import itertools

import pglast
from pglast import ast, parser

from migration_check.sql.trees import parse_sql

# The word PostgreSQL stops at (`syntax error at or near "X"`), and the database that uses it.
SYNTAX = {"AUTOINCREMENT": "SQLite", "AUTO_INCREMENT": "MySQL", "`": "MySQL", "ENGINE": "MySQL or ClickHouse",
          "UNSIGNED": "MySQL", "PRAGMA": "SQLite"}
# ClickHouse's table engines, which `ENGINE =` names as MySQL's does its own (InnoDB, MyISAM):
# devflowinc/trieve's ch_migrations were "MySQL's".
CLICKHOUSE_ENGINES = frozenset({"log", "tinylog", "stripelog", "distributed", "kafka", "buffer", "null", "join",
                                "dictionary", "merge", "url", "s3", "postgresql", "rabbitmq"})
# Type names PostgreSQL does not have (`type "x" does not exist`).
TYPES = {"datetime": "MySQL or SQLite", "tinyint": "MySQL", "mediumint": "MySQL", "mediumtext": "MySQL",
         "longtext": "MySQL", "tinytext": "MySQL", "longblob": "MySQL", "blob": "MySQL or SQLite",
         "nvarchar": "SQL Server", "datetime2": "SQL Server"}
# Column types PostgreSQL's grammar reads as names but no PostgreSQL has, and whose they are (as
# the parser folds them: `UInt8` is uint8). ClickHouse's `ALTER TABLE t ADD COLUMN x String` reads
# as PostgreSQL until the server looks the type up.
OTHER_TYPES = {**{name: "ClickHouse" for name in (
    "uint8", "uint16", "uint32", "uint64", "uint128", "uint256", "int128", "int256", "float32", "float64",
    "string", "fixedstring", "datetime64", "lowcardinality", "nullable", "decimal32", "decimal64", "decimal128",
    "ipv4", "ipv6")}, "tinyint": "MySQL", "mediumint": "MySQL", "mediumtext": "MySQL", "longtext": "MySQL",
    "tinytext": "MySQL", "longblob": "MySQL"}
SYNTAX_ERROR = "42601"
FEATURE_NOT_SUPPORTED = "0A000"
UNDEFINED_OBJECT = "42704"
UNDEFINED_FUNCTION = "42883"
UNDEFINED_TABLE = "42P01"
INSUFFICIENT_PRIVILEGE = "42501"
DISK_FULL = "53100"
OBJECT_IN_USE = "55006"
DEPENDENT_OBJECTS = "2BP01"  # cannot drop X because other objects depend on it
UNDEFINED_SCHEMA = "3F000"
UNSAFE_NEW_ENUM_VALUE = "55P04"


# undefined table, column, function, object, schema
MISSING_OBJECT_STATES = frozenset({"42P01", "42703", "42883", "42704", "3F000"})


# duplicate table (any relation), object, function, schema, column
EXISTING_OBJECT_STATES = frozenset({"42P07", "42710", "42723", "42P06", "42701"})


def existing_object(sqlstate: str | None, message: str) -> str | None:
    """The object an error says already exists, as written: the first name it quotes
    (`relation "x" already exists`, `column "c" of relation "t" already exists`), else None."""
    return first_quoted(message) if sqlstate in EXISTING_OBJECT_STATES else None


def first_quoted(message: str) -> str | None:
    """The first name an error message puts in double quotes, else None."""
    quoted = message.split('"')
    return quoted[1] if len(quoted) >= 3 else None


def missing_type(sqlstate: str | None, message: str) -> str | None:
    """The type an error says does not exist (`type "x" does not exist`, or `type x does not exist`
    as PL/pgSQL and casts word it), as written, else None."""
    if sqlstate != UNDEFINED_OBJECT or not (message.startswith("type ") and message.endswith(" does not exist")):
        return None
    name = message[len("type "):-len(" does not exist")]
    return name[1:-1] if len(name) > 1 and name[0] == name[-1] == '"' else name


def missing_function(sqlstate: str | None, message: str) -> str | None:
    """The function an error says does not exist (`function f(integer) does not exist`: `f`, as
    written, qualified or not), else None."""
    if sqlstate != UNDEFINED_FUNCTION or not message.startswith("function ") or "(" not in message:
        return None
    return message.removeprefix("function ").split("(", 1)[0]


def missing_relation(sqlstate: str | None, message: str) -> str | None:
    """The name in `relation "x" does not exist`, as the error prints it, else None."""
    if sqlstate == UNDEFINED_TABLE and message.startswith('relation "') and message.endswith('" does not exist'):
        return message.removeprefix('relation "').removesuffix('" does not exist')
    return None


def missing_object(sqlstate: str | None, message: str) -> tuple[str, str] | None:
    """What a missing-object error says does not exist: (kind, name as written) with kind
    "function", "type", "relation", or "object" for any other quoted name (a column, a schema, a
    publication); None for other errors."""
    if sqlstate not in MISSING_OBJECT_STATES:
        return None
    for kind, written in (("function", missing_function(sqlstate, message)), ("type", missing_type(sqlstate, message)),
                          ("relation", missing_relation(sqlstate, message))):
        if written is not None:
            return kind, written
    written = first_quoted(message)
    return ("object", written) if written is not None else None


def _stopped_at(message: str) -> str | None:
    """The database whose word a syntax error stops at (`syntax error at or near "`"`), else None."""
    if message.startswith('syntax error at or near "'):
        return SYNTAX.get(message.removeprefix('syntax error at or near "').removesuffix('"').upper())
    return None


def written_for(sql: str, most: int = 50) -> str | None:
    """The other database whose word PostgreSQL's parser stops at in one of the first `most`
    statements of `sql` (a MySQL dump's backquoted names, SQLite's AUTOINCREMENT), else None.
    The statements are cut by the parser's own scanner, so that one it cannot read (a byte order
    mark in the middle of the file) does not hide the next; a text the scanner cannot cut (MySQL's
    backslash escapes in strings) is read as far as it goes."""
    try:
        for piece in itertools.islice(pglast.split(sql, with_parser=False, only_slices=True), most):
            try:
                statements = parse_sql(sql[piece])
            except parser.ParseError as error:
                if (database := _stopped_at(error.args[0])) is not None:
                    return _engines(database, sql[piece], error)
                continue
            if (database := next((OTHER_TYPES[t] for t in _column_types(statements) if t in OTHER_TYPES), None)):
                return database
    except parser.ParseError as error:
        return _engines(_stopped_at(error.args[0]), sql, error)
    return None


def _column_types(statements: tuple[ast.RawStmt, ...]) -> list[str]:
    """The type names (the last part, as the parser folds it) of the columns CREATE TABLE and ALTER
    TABLE define or retype."""
    found = []
    for raw in statements:
        node = raw.stmt
        columns: list[object] = []
        if isinstance(node, ast.CreateStmt):
            columns = list(node.tableElts or ())
        elif isinstance(node, ast.AlterTableStmt):
            columns = [command.def_ for command in node.cmds or () if isinstance(command, ast.AlterTableCmd)]
        for column in columns:
            if isinstance(column, ast.ColumnDef) and column.typeName is not None and column.typeName.names:
                found.append(str(getattr(column.typeName.names[-1], "sval", "")).lower())
    return found


def _engines(database: str | None, sql: str, error: parser.ParseError) -> str | None:
    """`MySQL or ClickHouse` (the parser stopped at ENGINE) told apart by the engine the
    scanner reads after it (`ENGINE = ReplacingMergeTree(...)`, `ENGINE=InnoDB`)."""
    if database != SYNTAX["ENGINE"] or len(error.args) < 2 or not isinstance(error.args[1], int):
        return database
    try:
        tokens = parser.scan(sql[error.args[1]:])
    except parser.ParseError:
        return database
    words = [sql[error.args[1] + t.start:error.args[1] + t.end + 1] for t in tokens[1:4] if t.name != "ASCII_61"]
    engine = words[0].strip('"').lower() if words else ""
    if engine.endswith("mergetree") or engine in CLICKHOUSE_ENGINES:
        return "ClickHouse"
    return "MySQL" if engine else database


def reads_as_postgresql(sql: str) -> bool:
    """Whether PostgreSQL's parser reads `sql` whole."""
    try:
        parse_sql(sql)
    except parser.ParseError:
        return False
    return True


def other_dialect(sqlstate: str | None, message: str) -> str | None:
    """`(that is MySQL SQL: ...)` when the error is one of another database's words, else None."""
    dialect = None
    if sqlstate == SYNTAX_ERROR:
        dialect = _stopped_at(message)
    elif (name := missing_type(sqlstate, message)) is not None:
        dialect = TYPES.get(name.lower())
    if dialect is None:
        return None
    return f"(that is {dialect} SQL: migration-check replays migrations on PostgreSQL)"


def newer_postgresql(sqlstate: str | None, statement: str | None, server_version: int,
                     declared: tuple[int, str] | None = None) -> str | None:
    """`(PostgreSQL 18 reads this statement; this server is 15: ...)` when a syntax error on this
    server is a statement a newer PostgreSQL's grammar accepts, else None; `declared` (the major the
    project runs, and where it says so) is named where it is newer than this server."""
    newest = parser.get_postgresql_version()[0]
    if sqlstate != SYNTAX_ERROR or not statement or server_version // 10000 >= newest or not reads_as_postgresql(statement):
        return None
    major = server_version // 10000
    runs = (f" and the project runs PostgreSQL {declared[0]} ({declared[1]})"
            if declared is not None and declared[0] > major else "")
    return (f"(PostgreSQL {newest} reads this statement; this server is PostgreSQL {major}{runs}: the"
            " migrations are written for a newer one. Check on it: `--pg-bindir DIR`, `--postgres-image IMAGE`"
            " or `--database-url URL`)")
