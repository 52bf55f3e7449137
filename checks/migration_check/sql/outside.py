"""Statements that reach outside the database server's own data: they run a program on the server
(`COPY ... PROGRAM`), read or write a file of the server's machine (`COPY ... TO/FROM 'file'`,
`pg_read_file`, `lo_import`, ...). A disposable check server has no such program or file that a
migration could need, and where the server is not sandboxed they would reach the machine that
runs the check. They are refused at their file:line, before the script runs; dynamic SQL that
builds them at run time is what the OS sandbox (servers/sandbox.py) is for.
"""

from __future__ import annotations

import functools

from pglast import ast, parser

from migration_check.sql import trees

# Server functions that read, list or write files of the server's machine.
FILE_FUNCTIONS = frozenset({
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",
    "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir",
    "pg_ls_archive_statusdir", "dblink", "dblink_exec", "dblink_connect",
})
# Words one of those statements must contain: most statements skip the parse.
_WORDS = ("program", "copy", *FILE_FUNCTIONS)


def outside_reason(sql: str) -> str | None:
    """Why the statement `sql` reaches outside the server, or None."""
    lowered = sql.lower()
    if not any(word in lowered for word in _WORDS):
        return None
    return _reason(sql)


@functools.lru_cache(maxsize=1024)
def _reason(sql: str) -> str | None:
    try:
        parsed = trees.parse(sql)
    except parser.ParseError:
        return None  # the server reports the syntax error itself
    for raw in parsed:
        node = raw.stmt
        if node is None:
            continue
        if isinstance(node, ast.CopyStmt) and node.is_program:
            return "COPY ... PROGRAM runs a program on the database server's machine"
        if isinstance(node, ast.CopyStmt) and node.filename:
            return f"COPY ... '{node.filename}' reads or writes a file of the database server's machine"
        named = sorted(trees.function_names(node) & FILE_FUNCTIONS)
        if named:
            return f"{named[0]}() reaches files or connections of the database server's machine"
    return None

