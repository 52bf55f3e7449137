"""Errors that show a migration was written for another database than PostgreSQL.

Migration runners such as golang-migrate and goose serve SQLite and MySQL too, and a repository's
SQLite migrations look like any others. PostgreSQL then stops at a word it does not know; the
failure says which database the file was written for, so that the reader does not hunt for a typo.
Read from the server's (or the parser's) own error, never from the SQL text.
"""

from __future__ import annotations

# The word PostgreSQL stops at (`syntax error at or near "X"`), and the database that uses it.
SYNTAX = {"AUTOINCREMENT": "SQLite", "AUTO_INCREMENT": "MySQL", "`": "MySQL", "ENGINE": "MySQL",
          "UNSIGNED": "MySQL", "PRAGMA": "SQLite"}
# Type names PostgreSQL does not have (`type "x" does not exist`).
TYPES = {"datetime": "MySQL or SQLite", "tinyint": "MySQL", "mediumint": "MySQL", "mediumtext": "MySQL",
         "longtext": "MySQL", "tinytext": "MySQL", "longblob": "MySQL", "blob": "MySQL or SQLite",
         "nvarchar": "SQL Server", "datetime2": "SQL Server"}
SYNTAX_ERROR = "42601"
UNDEFINED_OBJECT = "42704"


def missing_type(sqlstate: str | None, message: str) -> str | None:
    """The type an error says does not exist (`type "x" does not exist`, as written), else None."""
    if sqlstate != UNDEFINED_OBJECT or not (message.startswith('type "') and message.endswith('" does not exist')):
        return None
    return message[len('type "'):-len('" does not exist')]


def other_dialect(sqlstate: str | None, message: str) -> str | None:
    """`(that is MySQL SQL: ...)` when the error is one of another database's words, else None."""
    dialect = None
    if sqlstate == SYNTAX_ERROR and message.startswith('syntax error at or near "'):
        dialect = SYNTAX.get(message.removeprefix('syntax error at or near "').removesuffix('"').upper())
    elif (name := missing_type(sqlstate, message)) is not None:
        dialect = TYPES.get(name.lower())
    if dialect is None:
        return None
    return f"(that is {dialect} SQL: migration-check replays migrations on PostgreSQL)"
