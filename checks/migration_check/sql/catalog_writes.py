"""Scripts that change the system catalogs without a DDL command, which event triggers do not see:
rows written straight into a catalog (`UPDATE pg_attribute SET atttypmod = ...`, an old way to
widen a column), also from a DO block, and CLUSTER (it marks the index clustered). After such a
script the schema snapshot reads everything again (see schema/logged.py)."""

from __future__ import annotations

import functools

from pglast import ast, parser

from migration_check.model import Script
from migration_check.sql import SyntaxProblem, split_script, trees
from migration_check.sql.objects import statement_names

# The catalogs whose rows a snapshot prints, or that print names.
CATALOGS = frozenset({
    "pg_class", "pg_attribute", "pg_attrdef", "pg_constraint", "pg_index", "pg_trigger", "pg_policy", "pg_rewrite",
    "pg_statistic_ext", "pg_inherits", "pg_sequence", "pg_foreign_table", "pg_type", "pg_enum", "pg_range", "pg_proc",
    "pg_aggregate", "pg_description", "pg_depend", "pg_namespace", "pg_authid", "pg_auth_members", "pg_default_acl",
    "pg_event_trigger", "pg_extension", "pg_collation", "pg_operator", "pg_opclass", "pg_opfamily", "pg_language",
    "pg_am", "pg_cast", "pg_publication", "pg_publication_rel", "pg_database", "pg_db_role_setting",
    "pg_init_privs", "pg_shdepend", "pg_shdescription", "pg_seclabel", "pg_shseclabel",
})
# The statements that write a table's rows (by the parse node's name).
ROW_WRITES = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})
_WRITE_WORDS = frozenset({"insert", "update", "delete", "merge", "execute"})


def writes_catalogs(script: Script) -> bool:
    try:
        statements = split_script(script)
    except SyntaxProblem:
        return True  # (it does not run either; nothing to lose by reading everything)
    return any(_writes_catalogs(statement.node, statement.sql) for statement in statements)


@functools.lru_cache(maxsize=4096)
def _writes_catalogs(node: str, sql: str) -> bool:
    if node == "ClusterStmt":
        return True
    if node in ROW_WRITES:
        return bool(statement_names(sql) & CATALOGS)
    if node == "DoStmt":
        return any(_names_a_catalog(body) for body in _do_bodies(sql))
    return False


def _do_bodies(sql: str) -> list[str]:
    try:
        parsed = trees.parse(sql)
    except parser.ParseError:
        return [sql]
    return [item.arg.sval or "" for raw in parsed if isinstance(raw.stmt, ast.DoStmt)
            for item in raw.stmt.args or () if item.defname == "as" and isinstance(item.arg, ast.String)]


def _names_a_catalog(body: str) -> bool:
    """Whether PL/pgSQL code may write a catalog: it names one and holds a write (or EXECUTE, which
    may write anything); its tokens, read by PostgreSQL's own scanner. Reading the catalogs (a DO
    block that checks a partition exists) is common and harmless."""
    try:
        tokens = parser.scan(body)
    except parser.ParseError:
        return True
    words = {body[token.start:token.end + 1].strip('"').lower() for token in tokens}
    return bool(words & CATALOGS) and bool(words & _WRITE_WORDS)
