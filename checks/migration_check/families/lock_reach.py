"""Which existing relations a migration's up can lock, for the locks family to note before it runs.

In proportion to the migration, not to the schema: the tables its statements name (those the data
family watches: data/watch.py), their partitions and indexes. Statements that name what they lock
other than as a table in a FROM or an ALTER (DROP TABLE and DROP INDEX, a trigger's or a policy's
table, RENAME, REINDEX, CLUSTER, VACUUM, REFRESH) are resolved by name: an index to its table. A
table or foreign key dropped drops the key's triggers on the table it references (inbox-zero's
`ALTER TABLE "Member" DROP CONSTRAINT "Member_userId_fkey"` locks "User"), and a table dropped is
detached from its partitioned table: the tables their keys reference and their ancestors count too.
What no name says (a CASCADE, an extension dropped, a REINDEX SCHEMA, a VACUUM of everything)
reaches any relation: then every relation is noted, as before. A type, function or schema dropped
without CASCADE locks none (PostgreSQL refuses while anything depends on it).
"""

from __future__ import annotations

import psycopg
from pglast import ast
from pglast.enums import AlterTableType, DropBehavior, ObjectType
from pglast.stream import maybe_double_quote_name as quote_ident

from migration_check.schema.snapshot import Snapshot
from migration_check.sql import Statement, trees
from migration_check.sql.objects import RELATION_KINDS, touched_names
from migration_check.sql.prepared import Prepared, fetch
from migration_check.sql.statement import name_text

# Statements that name what they lock other than as a table (an index, a materialized view).
BY_OTHER_NAMES = frozenset({"DropStmt", "ReindexStmt", "ClusterStmt", "RefreshMatViewStmt", "RenameStmt", "VacuumStmt"})
_ON_TABLE_KINDS = frozenset({ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY, ObjectType.OBJECT_RULE})
# Objects no relation is locked to drop without CASCADE: PostgreSQL refuses while a column, a
# default, an index, a trigger or a policy depends on one (an extension's tables are its own: not here).
_NO_RELATION_KINDS = frozenset({
    ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN, ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE,
    ObjectType.OBJECT_ROUTINE, ObjectType.OBJECT_AGGREGATE, ObjectType.OBJECT_OPERATOR, ObjectType.OBJECT_SCHEMA,
    ObjectType.OBJECT_COLLATION, ObjectType.OBJECT_CONVERSION,
})

_RELATIONS = """
SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind, c.relfilenode,
       coalesce((SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname) FROM pg_index i
                 JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                 WHERE i.indexrelid = c.oid), ''), c.relname
FROM {relations} JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'i', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
"""
# The end of both queries below: the partitions of `tables`, then the indexes of all.
_PARTITIONS_AND_INDEXES = """
  UNION
    SELECT i.inhrelid FROM tables CROSS JOIN LATERAL (
        SELECT inhrelid FROM pg_inherits WHERE inhparent = tables.oid OFFSET 0) i
), relations(oid) AS (
    SELECT oid FROM tables
  UNION
    SELECT i.indexrelid FROM tables CROSS JOIN LATERAL (
        SELECT indexrelid FROM pg_index WHERE indrelid = tables.oid OFFSET 0) i
)
"""
# The tables given and those the names resolve to (with what a drop of them locks: the tables their
# foreign keys reference, their partitioned ancestors), then their partitions and their indexes,
# each read through an index, relation by relation (LATERAL ... OFFSET 0 fixes that order: a plan
# that joined pg_class or pg_index whole would cost what the schema holds).
_REACHED = """
WITH RECURSIVE named(oid) AS (
    SELECT coalesce(i.indrelid, c.oid) FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
    WHERE c.relname = ANY($2::name[]) AND c.relkind IN ('r', 'p', 'm', 'i', 'I')
), seeds(oid) AS (
    SELECT unnest($1::oid[]) UNION SELECT oid FROM named
), up(oid) AS (
    SELECT oid FROM seeds
  UNION
    SELECT p.oid FROM up CROSS JOIN LATERAL (
        SELECT inhparent FROM pg_inherits WHERE inhrelid = up.oid OFFSET 0) p(oid)
), tables(oid) AS (
    SELECT oid FROM up
  UNION
    SELECT k.confrelid FROM seeds CROSS JOIN LATERAL (
        SELECT confrelid FROM pg_constraint WHERE conrelid = seeds.oid AND contype = 'f' OFFSET 0) k
""" + _PARTITIONS_AND_INDEXES
# Without other names: the watched tables, their partitions and indexes.
_NAMED = """
WITH RECURSIVE tables(oid) AS (
    SELECT unnest($1::oid[])
""" + _PARTITIONS_AND_INDEXES
_IN_RELATIONS = "relations r CROSS JOIN LATERAL (SELECT * FROM pg_class WHERE oid = r.oid OFFSET 0) c"
_EVERY_RELATION = Prepared(_RELATIONS.format(relations="pg_class c"))
_NAMED_RELATIONS = Prepared(_NAMED + _RELATIONS.format(relations=_IN_RELATIONS), "oid[]")
_REACHED_RELATIONS = Prepared(_REACHED + _RELATIONS.format(relations=_IN_RELATIONS), "oid[], name[]")


def reached_relations(session: psycopg.Connection, statements: list[Statement], tables: list[int]) -> list[tuple]:
    """(oid, name, kind, relfilenode, an index's table, relname) of every relation the statements
    can lock: `tables` (the watched tables) and what the other names reach, or every relation."""
    if not any(statement.node in BY_OTHER_NAMES for statement in statements):
        return fetch(session, _NAMED_RELATIONS, tables)
    names = other_names(statements)
    if names is None:
        return fetch(session, _EVERY_RELATION, indexed=False)
    return fetch(session, _REACHED_RELATIONS, tables, sorted(names))


def other_names(statements: list[Statement]) -> set[str] | None:
    """The relation names the statements give, those they drop included (`touched_names`: a
    materialized view is no watched table, crates.io's CREATE INDEX on recent_crate_downloads), and
    the table of a trigger, policy or rule dropped; None where one of them can reach relations no
    name says (see the module's docstring)."""
    names: set[str] = set()
    for statement in statements:
        node = trees.statement(statement.sql) if statement.node in BY_OTHER_NAMES else None
        if statement.node in BY_OTHER_NAMES and _reaches_unnamed(node):
            return None
        names |= touched_names(statement.sql)
        if isinstance(node, ast.DropStmt) and node.removeType in _ON_TABLE_KINDS:  # [schema,] table, name
            names |= {name_text(parts[-2]) for parts in node.objects or () if len(parts) >= 2}
    return names


def _reaches_unnamed(node: ast.Node | None) -> bool:
    if isinstance(node, ast.DropStmt):
        return node.behavior == DropBehavior.DROP_CASCADE or node.removeType not in (
            RELATION_KINDS | _ON_TABLE_KINDS | _NO_RELATION_KINDS)
    if isinstance(node, (ast.ReindexStmt, ast.ClusterStmt, ast.RefreshMatViewStmt)):
        return node.relation is None
    if isinstance(node, ast.VacuumStmt):
        return not node.rels
    return not isinstance(node, ast.RenameStmt)  # (a schema's, type's or function's name locks no relation; None: not read)


def taking_statement(statements: list[Statement], relname: str, qualified: str, before: Snapshot) -> Statement | None:
    """The statement that most likely took ACCESS EXCLUSIVE on a table it did not rewrite, where the
    script ran whole: one that locks the table itself whole (`_locked_whole`: crates.io's `UPDATE
    emails ... FROM tokens` was blamed for its later `DROP TABLE tokens`); else one that drops a foreign key (a constraint, or the
    table that holds it) referencing it, as the catalog before the up says: dropping the key drops
    its triggers on the referenced table (documenso's `ALTER TABLE "UserProfile" DROP CONSTRAINT
    "UserProfile_id_fkey"` locks "User", and the later `ADD CONSTRAINT ... REFERENCES "User"` takes
    only SHARE ROW EXCLUSIVE). None where neither is there."""
    drops: list[tuple[Statement, ast.Node]] = []
    for statement in statements:
        node = trees.statement(statement.sql) if statement.node in _WHOLE_TABLE_LOCKERS else None
        if node is not None and relname in _locked_whole(node):
            return statement
        if isinstance(node, (ast.AlterTableStmt, ast.DropStmt)):
            drops.append((statement, node))
    references = f"REFERENCES {qualified}("
    schema = qualified.rsplit(".", 1)[0]
    for statement, node in drops:
        if isinstance(node, ast.AlterTableStmt) and node.relation is not None and node.relation.relname:
            owner = quote_ident(node.relation.schemaname) if node.relation.schemaname else schema
            table = f"{owner}.{quote_ident(node.relation.relname)}"
            keys = [("constraint", f"{quote_ident(cmd.name)} on {table}") for cmd in node.cmds or ()
                    if isinstance(cmd, ast.AlterTableCmd) and cmd.name and cmd.subtype == AlterTableType.AT_DropConstraint]
        elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
            # (read only for a DROP TABLE, which names no constraint: every constraint is looked at)
            owners = tuple(f" on {schema if len(parts) < 2 else quote_ident(name_text(parts[-2]))}."
                           f"{quote_ident(name_text(parts[-1]))}" for parts in node.objects or ())
            keys = [key for key in before if key[0] == "constraint" and key[1].endswith(owners)]
        else:
            continue
        if any(key in before and references in before[key].fields.get("definition", "") for key in keys):
            return statement
    return None


# Statements that take ACCESS EXCLUSIVE on a table they name (and, for a DROP TRIGGER, POLICY or
# RULE, on the table it is on).
_WHOLE_TABLE_LOCKERS = frozenset({"AlterTableStmt", "DropStmt", "TruncateStmt", "LockStmt", "RenameStmt",
                                  "AlterObjectSchemaStmt", "CreatePolicyStmt", "AlterPolicyStmt", "RuleStmt"})
_ACCESS_EXCLUSIVE = 8  # LockStmt.mode, LOCK TABLE's default


def _locked_whole(node: ast.Node) -> set[str]:
    """The names of the tables the statement takes ACCESS EXCLUSIVE on by itself."""
    if isinstance(node, ast.DropStmt):
        if node.removeType in RELATION_KINDS:
            return {name_text(parts[-1]) for parts in node.objects or ()}
        if node.removeType in _ON_TABLE_KINDS:
            return {name_text(parts[-2]) for parts in node.objects or () if len(parts) >= 2}
        return set()
    if isinstance(node, (ast.TruncateStmt, ast.LockStmt)):
        if isinstance(node, ast.LockStmt) and node.mode != _ACCESS_EXCLUSIVE:
            return set()
        return {relation.relname for relation in node.relations or ()}
    relation = node.table if isinstance(node, (ast.CreatePolicyStmt, ast.AlterPolicyStmt)) else getattr(node, "relation", None)
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_INDEX:
        return set()  # (the index's, not its table's)
    return {relation.relname} if isinstance(relation, ast.RangeVar) and relation.relname else set()
