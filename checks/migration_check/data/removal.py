"""Removing the generated rows in place, where that gives the state a rebuild would.

When a step fails on the generated rows (a NOT NULL column added without a default), the replay
judges it again on the state the ups produce without them. Rebuilding that state costs a copy of a
checkpoint, the ups since it, a new session and a snapshot read of the new database; on
trigger.dev's Prisma migrations that was a third of the run. Where nothing but the row filler ever
wrote a row that the rebuild would keep, deleting every row and setting every sequence back to its
start gives the same state in one message: the same schema (the caller checks that the failed step
left it as it was), no rows but the runner's history, and sequences that hand out the same ids
again, so the filler then makes the same rows. Anything that keeps that from holding falls back to
the rebuild:

- a statement of the setup or of the ups that makes rows the rebuild would make too (INSERT, COPY,
  MERGE, CREATE TABLE AS, a materialized view's refresh), or runs code the text does not show (DO,
  CALL, SELECT, EXECUTE), or sets a sequence's numbering (ALTER SEQUENCE, an identity's options);
  a statement-level trigger, an event trigger or a rule, which make rows where no row exists; an
  UPDATE or DELETE with a WITH clause (it may insert) or on the runner's table;
- in the database: a materialized view (its rows come from the generated ones), a trigger or rule
  that fires even in replication mode (ENABLE ALWAYS or REPLICA), a large object; or a session that
  may not set `session_replication_role` (not a superuser: a given server's plain role).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import psycopg
from pglast import ast
from pglast.enums import AlterTableType

from migration_check.model import Script
from migration_check.sql import SyntaxProblem, split_script, trees
from migration_check.sql.objects import unquote
from migration_check.sql.prepared import Prepared, literal, run

# Statements whose rows a rebuild makes too, or whose effect the text does not show.
_MAKES_ROWS = frozenset({
    "CopyStmt", "MergeStmt", "CreateTableAsStmt", "RefreshMatViewStmt", "SelectStmt", "DoStmt",
    "CallStmt", "ExecuteStmt", "AlterSeqStmt", "CreateEventTrigStmt", "RuleStmt",
})
# Statements read further (their tree): an INSERT into the runner's table (kept), a statement-level
# trigger, a data-modifying WITH, an identity's numbering.
_READ_FURTHER = frozenset({"InsertStmt", "CreateTrigStmt", "UpdateStmt", "DeleteStmt", "AlterTableStmt"})


def only_generated_rows(scripts: Iterable[Script | None], runner_tables: Iterable[str]) -> bool:
    """Whether no statement of `scripts` (the setup, the runner's bookkeeping and the ups a rebuild
    runs) makes a row, or sets a sequence's numbering, that a rebuild would keep, but in the
    runner's table (kept); False where a script does not parse."""
    runner = frozenset(unquote(name.rsplit(".", 1)[-1]) for name in runner_tables)
    return not any(_makes_rows(script, runner) for script in scripts if script is not None)


@functools.lru_cache(maxsize=4096)  # asked again at each failure, of every up so far
def _makes_rows(script: Script, runner: frozenset[str]) -> bool:
    try:
        statements = split_script(script)
    except SyntaxProblem:
        return True
    return any(statement.node in _MAKES_ROWS or statement.copy_data is not None
               or statement.node in _READ_FURTHER and _statement_makes_rows(trees.statement(statement.sql), runner)
               for statement in statements)


def _statement_makes_rows(node: ast.Node | None, runner: frozenset[str]) -> bool:
    if node is None:
        return True  # not readable: not known
    if isinstance(node, ast.CreateTrigStmt):
        return not node.row  # FOR EACH STATEMENT fires on no rows too
    if isinstance(node, ast.InsertStmt):  # the runner's own rows are kept, but not rows made from a table's
        constant = not getattr(node.selectStmt, "fromClause", None)  # VALUES, or goose's SELECT 0, true WHERE ...
        return node.withClause is not None or node.relation is None or str(node.relation.relname) not in runner \
            or not constant
    if isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)):
        return node.withClause is not None or node.relation is None or str(node.relation.relname) in runner
    if isinstance(node, ast.AlterTableStmt):
        return any(getattr(command, "subtype", None) == AlterTableType.AT_SetIdentity for command in node.cmds or ())
    return False


# What would keep the deletion from giving the rebuild's state (see the module's docstring).
_HELD_BACK = """
SELECT EXISTS (SELECT FROM pg_class c WHERE c.relkind = 'm' AND NOT EXISTS (
           SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
    OR EXISTS (SELECT FROM pg_trigger WHERE NOT tgisinternal AND tgenabled IN ('A', 'R'))
    OR EXISTS (SELECT FROM pg_rewrite WHERE rulename <> '_RETURN' AND ev_enabled IN ('A', 'R'))
    OR EXISTS (SELECT FROM pg_largeobject_metadata)
"""
# The tables whose rows go and the sequences set back: the user's (not the system's, not an
# extension's, not temporary), but the runner's history table and the sequences it owns.
_EMPTIED = Prepared("""
WITH runner AS (SELECT to_regclass(name) AS oid FROM unnest($1::text[]) name WHERE to_regclass(name) IS NOT NULL)
SELECT c.relkind = 'S', c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'S') AND c.relpersistence <> 't'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  AND c.oid NOT IN (SELECT oid FROM runner)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND (d.deptype = 'e' OR d.deptype IN ('a', 'i') AND d.refobjid IN (SELECT oid FROM runner)))
ORDER BY 3
""", "text[]")


def remove_generated_rows(admin: psycopg.Connection, runner_tables: Iterable[str]) -> bool:
    """Delete every row of the user's tables but the runner's, and set every sequence back to its
    start, in one transaction of `admin` (an autocommit superuser session on the database), with
    no trigger, rule or foreign key action firing. False, with nothing changed, where that would
    not give the rebuild's state or the session may not do it."""
    try:
        [[(held_back,)], relations] = run(admin, [(_HELD_BACK, []), (_EMPTIED, [literal(sorted(runner_tables))])])
        if held_back:
            return False
        deletes = [f"DELETE FROM ONLY {name}" for is_sequence, _, name in relations if not is_sequence]
        sequences = [oid for is_sequence, oid, _ in relations if is_sequence]
        # One message, one implicit transaction: SET LOCAL lasts until its end.
        admin.execute("; ".join([
            "SET LOCAL session_replication_role = replica", *deletes,
            "SELECT count(pg_catalog.setval(seqrelid, seqstart, false)) FROM pg_catalog.pg_sequence"
            f" WHERE seqrelid = ANY({literal(sequences)}::oid[])"]), prepare=False)
    except psycopg.Error:
        return False
    return True
