"""Statements whose effects reach beyond their database: roles, databases, tablespaces, the
server's settings, subscriptions. Also from procedural code: a DO block or a function that runs
one, read with PostgreSQL's own PL/pgSQL parser; where its code builds a statement at run time
(EXECUTE), a word of one in that code's text is enough. Unknown code (C, PL/Python) counts.

A copy of a database kept on the server is only safe where no migration does any of this
(replay/restore.py): DROP ROLE counts the copy's objects, and re-running an up on a copy repeats
its CREATE ROLE.
"""

from __future__ import annotations

from pglast import ast, enums, parser

from migration_check.sql import trees
from migration_check.sql.statement import Statement, code_of

CLUSTER_WIDE = frozenset({
    "CreateRoleStmt", "AlterRoleStmt", "AlterRoleSetStmt", "DropRoleStmt", "GrantRoleStmt", "ReassignOwnedStmt",
    "DropOwnedStmt", "CreatedbStmt", "DropdbStmt", "AlterDatabaseStmt", "AlterDatabaseSetStmt",
    "AlterDatabaseRefreshCollStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt", "AlterTableSpaceOptionsStmt",
    "AlterSystemStmt", "CreateSubscriptionStmt", "AlterSubscriptionStmt", "DropSubscriptionStmt"})
# PL/pgSQL statements whose SQL is a string built at run time.
_DYNAMIC = frozenset({"PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_open"})
_WORDS = ("role", "database", "owned", "tablespace", "subscription", "system")


def reaches_beyond_database(statement: Statement) -> bool:
    if statement.node in CLUSTER_WIDE:
        return True
    if statement.node not in ("DoStmt", "CreateFunctionStmt"):
        return False
    node = trees.statement(statement.sql)
    if not isinstance(node, ast.DoStmt | ast.CreateFunctionStmt):
        return False
    if isinstance(node, ast.CreateFunctionStmt) and getattr(node, "sql_body", None) is not None:  # BEGIN ATOMIC
        return _any_cluster_wide(node.sql_body)
    language, body = code_of(node)
    if language == "sql":
        try:
            return _any_cluster_wide(tuple(raw.stmt for raw in trees.parse(body)))
        except parser.ParseError:
            return True
    if language != "plpgsql":
        return True
    tree = trees.plpgsql_body(body) if isinstance(node, ast.DoStmt) else trees.plpgsql_function(statement.sql)
    return tree is None or _plpgsql_reaches(tree)


def _any_cluster_wide(nodes: object) -> bool:
    items = nodes if isinstance(nodes, tuple | list) else (nodes,)
    return any(type(node).__name__ in CLUSTER_WIDE or (isinstance(node, tuple | list) and _any_cluster_wide(node))
               for node in items)


def _plpgsql_reaches(tree: list) -> bool:
    pending: list[object] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "PLpgSQL_stmt_execsql":
                    query = value.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query", "")
                    if _parses_cluster_wide(query):
                        return True
                elif key in _DYNAMIC and any(word in str(value).lower() for word in _WORDS):
                    return True
                pending.append(value)
        elif isinstance(node, list):
            pending.extend(node)
    return False


def _parses_cluster_wide(query: str) -> bool:
    try:
        return _any_cluster_wide(tuple(raw.stmt for raw in trees.parse(query)))
    except parser.ParseError:
        return True


def superuser_given(statement: Statement, role: str) -> bool | None:
    """True or False where `statement` gives `role` SUPERUSER or takes it away (by its name, or as
    CURRENT_USER, CURRENT_ROLE or SESSION_USER, which are `role` in a migration's session); None
    where it does neither."""
    if statement.node != "AlterRoleStmt":
        return None
    node = trees.statement(statement.sql)
    if not isinstance(node, ast.AlterRoleStmt) or node.role is None:
        return None
    if node.role.roletype == enums.RoleSpecType.ROLESPEC_CSTRING and node.role.rolename != role:
        return None
    for option in node.options or ():
        if option.defname == "superuser" and isinstance(option.arg, ast.Boolean):
            return bool(option.arg.boolval)
    return None
