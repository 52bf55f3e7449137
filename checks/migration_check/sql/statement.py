"""One statement of a script, and what PostgreSQL allows it to do in a transaction block."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pglast import ast, parser
from pglast.enums.parsenodes import DiscardMode, ReindexObjectType

from migration_check.sql import trees

# In the parser's JSON output, the name of a statement's node follows this key.
_STMT_KEY = '"stmts":[{"stmt":{"'
# Node kinds whose options decide whether they can run in a transaction block.
_DECIDED_BY_OPTIONS = frozenset({"IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "AlterTableStmt", "DoStmt",
                                 "DiscardStmt", "ClusterStmt", "AlterDatabaseStmt"})
# Before PostgreSQL 12, ALTER TYPE ... ADD VALUE could not run inside a transaction block.
ENUM_ADD_VALUE_IN_TRANSACTION = 120000
# REINDEX SCHEMA, SYSTEM and DATABASE run outside a transaction block only.
REINDEX_MANY = frozenset({ReindexObjectType.REINDEX_OBJECT_SCHEMA, ReindexObjectType.REINDEX_OBJECT_SYSTEM,
                           ReindexObjectType.REINDEX_OBJECT_DATABASE})
_NEVER_IN_TRANSACTION = frozenset({
    "CreatedbStmt", "DropdbStmt", "AlterSystemStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
    "CreateSubscriptionStmt",
})


@dataclass(frozen=True)
class Statement:
    sql: str
    path: Path
    line: int  # 1-based line in `path`
    column: int  # 1-based column in `path`
    offset: int  # character offset in its script's `sql` (in the included file's text for `\i` statements)
    node: str  # the parse node's name, e.g. "IndexStmt"
    needs_autocommit: bool = False  # cannot run inside a transaction block
    transaction_control: bool = False  # BEGIN, COMMIT, ROLLBACK, SAVEPOINT written in the file
    copy_data: str | None = None  # the rows of a `COPY ... FROM stdin`, without the `\.` line
    # False when the script is not plain SQL (it holds psql meta-commands, substituted variables
    # or \i includes): the executor must run the statements one by one, not `script.sql`.
    verbatim: bool = True
    # The runner sends several statements as this one query (a goose StatementBegin block).
    grouped: bool = False


def has_transaction_control(statements: list[Statement]) -> bool:
    return any(s.transaction_control for s in statements)


def cannot_run_in_transaction(node: ast.Node | None) -> bool:
    """Statements PostgreSQL refuses inside a transaction block."""
    if node is None:
        return False
    if isinstance(node, ast.IndexStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return node.kind in REINDEX_MANY or any(getattr(p, "defname", "") == "concurrently" for p in (node.params or ()))
    if isinstance(node, ast.DiscardStmt):
        return node.target == DiscardMode.DISCARD_ALL
    if isinstance(node, ast.ClusterStmt):
        return node.relation is None  # CLUSTER of every table clustered before
    if isinstance(node, ast.AlterDatabaseStmt):
        return any(getattr(o, "defname", "") == "tablespace" for o in node.options or ())
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)  # ANALYZE alone runs in a transaction; VACUUM does not
    if isinstance(node, (ast.CreatedbStmt, ast.DropdbStmt, ast.AlterSystemStmt,
                         ast.CreateTableSpaceStmt, ast.DropTableSpaceStmt)):
        return True
    if isinstance(node, ast.CreateSubscriptionStmt):
        return True
    if isinstance(node, ast.AlterTableStmt):
        # ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY
        return any(getattr(getattr(cmd, "def_", None), "concurrent", False) for cmd in (node.cmds or ()))
    if isinstance(node, ast.DoStmt):
        return _commits(node)
    return False


def _commits(block: ast.DoStmt) -> bool:
    """Whether a DO block's PL/pgSQL commits or rolls back (PostgreSQL 11+): it may only run
    outside a transaction block, as psql runs it in autocommit ("invalid transaction termination"
    otherwise)."""
    return _body_commits(*code_of(block))


def code_of(node: ast.DoStmt | ast.CreateFunctionStmt) -> tuple[str, str]:
    """The language (lower case) and the code of a DO block or CREATE FUNCTION: the text of AS,
    its parts joined (a C function's is its file and symbol)."""
    options = {str(o.defname): o.arg for o in (node.args if isinstance(node, ast.DoStmt) else node.options) or ()
               if isinstance(o, ast.DefElem)}
    language = getattr(options.get("language"), "sval", None) or ("plpgsql" if isinstance(node, ast.DoStmt) else "sql")
    body = options.get("as")
    parts = body if isinstance(body, (list, tuple)) else (body,)
    return str(language).lower(), " ".join(getattr(part, "sval", "") or "" for part in parts)


def _body_commits(language: str, body: str) -> bool:
    if language != "plpgsql":
        return False
    try:
        tokens = [t.name for t in parser.scan(body)]
    except parser.ParseError:
        return False
    # `ON COMMIT DROP` of a temporary table is not a COMMIT.
    return any(name in ("COMMIT", "ROLLBACK") and (i == 0 or tokens[i - 1] != "ON") for i, name in enumerate(tokens))


def committing_procedure(node: ast.Node | None) -> str | None:
    """The name of the procedure `node` creates when its PL/pgSQL commits or rolls back (a batched
    backfill): a CALL of it must then run outside a transaction block, as psql runs it."""
    if not isinstance(node, ast.CreateFunctionStmt) or not node.is_procedure:
        return None
    return last_name(node.funcname) if _body_commits(*code_of(node)) else None


def called_procedure(node: ast.Node | None) -> str | None:
    """The name of the procedure a CALL statement calls."""
    if not isinstance(node, ast.CallStmt) or node.funccall is None:
        return None
    return last_name(node.funccall.funcname)


def last_name(names: tuple[object, ...] | None) -> str:
    """The last part of a qualified name in a parse tree (`public.fill` is `fill`), as PostgreSQL
    folded it: schemas and search paths aside, a CALL of a procedure of this name in the same
    script is taken for a call of it."""
    return name_text(names[-1]) if names else ""


def name_text(node: object) -> str:
    return getattr(node, "sval", None) or str(node)


def classify(text: str) -> tuple[str, bool]:
    """The node name of one statement and whether it cannot run in a transaction block.

    The parser's JSON output gives the name cheaply; a tree (slow to build in Python) is built
    only for the few kinds whose options decide it (CONCURRENTLY, VACUUM)."""
    output = parser.parse_sql_json(text)
    marker = output.find(_STMT_KEY)
    if marker == -1:
        return "", False
    start = marker + len(_STMT_KEY)
    name = output[start : output.index('"', start)]
    if name in _DECIDED_BY_OPTIONS:
        return name, cannot_run_in_transaction(trees.parse(text)[0].stmt)
    return name, name in _NEVER_IN_TRANSACTION
