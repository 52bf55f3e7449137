"""locks: the locks and rewrites each migration's up really takes on the tables and indexes that
existed before it, observed in PostgreSQL rather than guessed from the text.

Before the up, the storage file (relfilenode) of every table, materialized view and index is noted.
Inside the up's transaction, just before its commit, `pg_locks` shows every lock the up holds.
After the commit, a relation whose relfilenode changed was rewritten (a type change, a volatile
default, VACUUM FULL) or, for an index, rebuilt. Observed facts beat guesses: whether `ALTER
COLUMN ... TYPE` rewrites depends on the exact types and the server's version.

A table that existed before and is rewritten under ACCESS EXCLUSIVE fails the case (reads and
writes wait for the whole copy) unless the migration confirms it:

    -- migration-check: allow table-rewrite "orders has 2,000 rows; done in the maintenance window"

Everything else observed is listed in the passing case's text, e.g.
`public.appointments: ACCESS EXCLUSIVE (blocks reads and writes), rewritten by line 1 (ALTER TABLE ...)`.
A script that runs statement by statement (it holds a CONCURRENTLY, or goose NO TRANSACTION) is
observed after each statement, which then runs in a transaction of its own, so each lock is pinned
on the statement that took it; a CONCURRENTLY statement cannot run in a transaction and is reported
as not observed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from pglast import ast, parser
from pglast.enums import DropBehavior, ObjectType
from pglast.stream import RawStream

from migration_check.data.code import do_block_tables
from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.lock_reach import reached_relations, taking_statement
from migration_check.families.type_change import relabelled_only
from migration_check.lint import registered
from migration_check.lint.base import LintContext, Observed
from migration_check.model import CheckResult, Script, Status
from migration_check.replay.executor import CommitRead
from migration_check.settings import Settings
from migration_check.sql import Statement, readable_statements, trees
from migration_check.sql.confirmations import TABLE_REWRITE, confirmed
from migration_check.sql.objects import statement_names
from migration_check.sql.other_linters import acknowledgments, covering
from migration_check.sql.prepared import Prepared, fetch
from migration_check.sql.splitter import readable_parts, statement_parts
from migration_check.sql.statement import code_of

ALLOWS = TABLE_REWRITE
_HELD = "SELECT relation::oid, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted"
_FILES = Prepared("SELECT oid, relfilenode FROM pg_class WHERE oid = ANY($1)", "oid[]")
# Lock modes from weakest to strongest, in plain words. Reads-only modes are not worth telling.
MODES = {
    "RowExclusiveLock": "ROW EXCLUSIVE (writes rows; blocks only SHARE and stronger)",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE (blocks schema changes and VACUUM, not reads or writes)",
    "ShareLock": "SHARE (blocks writes)",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE (blocks writes)",
    "ExclusiveLock": "EXCLUSIVE (blocks writes)",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE (blocks reads and writes)",
}
_ORDER = list(MODES)


@dataclass(frozen=True)
class _Relation:
    name: str  # qualified
    kind: str  # r table, m materialized view, i index, p partitioned table
    filenode: int
    table: str  # an index's table
    relname: str


@dataclass
class _Seen:
    """What the family saw of one migration's up."""

    before: dict[int, _Relation] = field(default_factory=dict)  # the relations that existed, by oid
    held: dict[int, str] | None = None  # the strongest lock on each, where observed
    rewritten: list[int] = field(default_factory=list)
    runners: set[str] = field(default_factory=set)  # the runner's history tables that existed (no rewrite is judged on them)
    taken_by: dict[int, Statement] = field(default_factory=dict)  # the statement that took the lock, where observed one by one
    rewritten_by: dict[int, Statement] = field(default_factory=dict)  # likewise, the statement that rewrote the relation


class Locks(Family):
    name = "locks"
    stage = Stage.UP_DONE

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.observed: dict[str, Observed] = {}  # migration -> table (relname) -> rewritten

    def before_up(self, context: MigrationContext) -> None:
        # In proportion to the migration: the relations its up can lock (lock_reach.py).
        rows = reached_relations(context.tool_session, readable_statements(context.migration.up), context.watched_tables())
        # The runner's history table is the runner's: only it reads the table, and its own bookkeeping
        # (golang-migrate's TRUNCATE after each step) gives the table a new file (goharbor/harbor's
        # ADD COLUMN on schema_migrations read as a rewrite).
        seen = self.state(context, _Seen, new=True)
        seen.before = {oid: _Relation(name, kind, node, table, relname) for oid, name, kind, node, table, relname in rows
                       if name not in context.runner_tables and table not in context.runner_tables}
        seen.runners = {relname for _, name, kind, _, _, relname in rows if kind != "i" and name in context.runner_tables}

    def up_again_on_fresh_state(self, context: MigrationContext) -> None:
        # The rebuilt database's relations, not the old one's: a rewrite compared across the two
        # would be a guess (trigger.dev's ADD COLUMN on a rebuilt table read as a rewrite).
        self.before_up(context)

    def in_up_transaction(self, context: MigrationContext, conn: psycopg.Connection) -> None:
        seen = self.state(context, _Seen)
        if context.current_statement is not None:  # statement by statement: which one rewrote what
            for oid, node in fetch(conn, _FILES, list(seen.before)):
                if node != seen.before[oid].filenode and oid not in seen.rewritten_by:
                    seen.rewritten_by[oid] = context.current_statement
        self._held(context, conn.execute(_HELD).fetchall())

    def up_transaction_read(self, context: MigrationContext) -> CommitRead:
        return _HELD, lambda rows: self._held(context, rows)

    def _held(self, context: MigrationContext, rows: list[tuple]) -> None:
        """Note the strongest lock held on each relation that existed (`rows`: _HELD's)."""
        seen = self.state(context, _Seen)
        held = seen.held if seen.held is not None else {}
        for oid, mode in rows:
            current = held.get(oid)
            if oid in seen.before and mode in MODES and (current is None or _ORDER.index(mode) > _ORDER.index(current)):
                held[oid] = mode
                if context.current_statement is not None:  # statement by statement: who took it is known
                    seen.taken_by[oid] = context.current_statement
        seen.held = held

    def after_up(self, context: MigrationContext) -> None:
        seen = self.state(context, _Seen)
        now: dict[int, int] = dict(fetch(context.tool_session, _FILES, list(seen.before)))
        seen.rewritten = [oid for oid, relation in seen.before.items()
                           if oid in now and relation.filenode and now[oid] != relation.filenode]
        # What the static rules are told: each table that existed, rewritten or not (a partitioned
        # table's rows are its partitions': None). A table the up drops or renames was read by its
        # name (lock_reach.py), so a table missing here did not exist.
        self.observed[context.migration.id] = Observed({
            relation.relname: (oid in seen.rewritten if relation.kind in ("r", "m") else None)
            for oid, relation in seen.before.items() if relation.kind in ("r", "m", "p")} | dict.fromkeys(seen.runners),
            complete=not context.skipped_before,
            names=frozenset(relation.name for relation in seen.before.values() if relation.kind in ("r", "m", "p")))

    def verdict(self, context: MigrationContext) -> CheckResult:
        seen = self.state(context, _Seen)
        up = context.migration.up
        assert up is not None
        statements = readable_parts(up)
        facts, blocking = [], []
        for oid in sorted({*(seen.held or {}), *seen.rewritten}, key=lambda o: seen.before[o].name):
            relation, mode = seen.before[oid], (seen.held or {}).get(oid)
            rewritten = oid in seen.rewritten
            if relation.kind == "i":
                if rewritten:
                    facts.append(f"index {relation.name} on {relation.table}: rebuilt")
                continue
            if not rewritten and mode in (None, "RowExclusiveLock"):
                continue
            # A partition's statement names its partitioned table (asked once, for a rewrite or where
            # no statement names the partition).
            ancestors = _ancestors(context, oid) if rewritten else None
            observed = (seen.rewritten_by.get(oid) if rewritten else None) or seen.taken_by.get(oid)
            statement = (observed and (_responsible(statement_parts(observed), relation.relname, rewritten) or observed)) \
                or _responsible(statements, relation.relname, rewritten) \
                or next((_responsible(statements, parent, rewritten)
                         for parent in (ancestors if ancestors is not None else _ancestors(context, oid))), None)
            fact = relation.name + (f": {MODES[mode]}" if mode else "")
            if rewritten and mode is None and relation.kind in ("r", "m"):
                # Unobserved (the script's own BEGIN ... COMMIT, or a statement run outside a
                # transaction), but every rewrite of a table holds ACCESS EXCLUSIVE until it ends:
                # the same rewrite failed without the file's BEGIN and passed with it.
                mode = "AccessExclusiveLock"
                fact += f": {MODES[mode]} (not observed, but every rewrite of a table holds it)"
            emptied = _emptied_first(statements, {relation.relname, *ancestors},
                                     functools.partial(_referenced, context, oid)) if ancestors is not None else None
            if emptied is not None:
                # TRUNCATE gives the table a new, empty file: nothing is copied (the data family
                # judges the rows it drops).
                fact += f", emptied{_by(emptied)}"
            elif rewritten:
                relabelled = functools.partial(relabelled_only, context.tool_session, context.before, relation.name)
                fact += f", rewritten{_by(statement, free=relabelled)}"
                if mode == "AccessExclusiveLock" and relation.kind in ("r", "m"):
                    blocking.append((fact, statement))
            elif mode == "AccessExclusiveLock" and (taker := observed or taking_statement(
                    statements, relation.relname, relation.name, context.before) or statement) is not None:
                fact += _by(taker, "taken")
            facts.append(fact)
        unobserved = [str(s.line) for s in statements if s.needs_autocommit]
        if unobserved:
            facts.append(f"locks not observed at line{'s' if len(unobserved) > 1 else ''} {', '.join(unobserved)}: run"
                         " outside a transaction (CONCURRENTLY takes SHARE UPDATE EXCLUSIVE: reads and writes go on)")
        elif seen.held is None:
            facts.append("locks not observed: the script manages its own transactions")
        return self._case(context, up, facts, blocking)

    def _case(self, context: MigrationContext, up: Script, facts: list[str],
              blocking: list[tuple[str, Statement | None]]) -> CheckResult:
        text = "; ".join(facts)
        if not blocking:
            return context.result(self.name, Status.PASSED, script=up, message=text)
        confirmations = [c for _, c in confirmed([up], ALLOWS) if c.problem is None]
        if confirmations:
            return context.result(self.name, Status.PASSED, script=up, line=confirmations[0].line,
                                  message=f"rewrite confirmed: {confirmations[0].reason} ({text})")
        acknowledged = _acknowledged(up, [statement for _, statement in blocking])
        if acknowledged:
            return context.result(self.name, Status.PASSED, script=up, line=blocking[0][1].line if blocking[0][1] else None,
                                  message=f"rewrite acknowledged by {acknowledged} ({text})")
        fact, statement = blocking[0]
        relative = context.project.relative(statement.path if statement else up.path)
        line = statement.line if statement else up.first_line
        return context.result(
            self.name, Status.FAILED, file=relative, line=line,
            message=f"{fact}: reads and writes wait for the whole copy. Expand and contract instead (a new column, a"
                    f" backfill in batches, a switch), or confirm it: -- migration-check: allow {ALLOWS} \"<why>\"",
            details=text)


def _acknowledged(up: Script, statements: list[Statement | None]) -> str | None:
    """Where other linters' comments accept every rewriting statement (as a table rewrite: a
    check that predicts one, or every check), or None."""
    found = acknowledgments(up)
    if not found:
        return None
    covered = [covering(found, statement, _REWRITE_ALIASES) if statement is not None else None for statement in statements]
    if None in covered:
        return None
    return "; ".join(dict.fromkeys(acknowledgment.describe() for acknowledgment in covered if acknowledgment))


# The partitioned tables a partition belongs to, nearest first: a statement on the parent
# rewrites or locks its partitions, which it never names (tensorzero's daily partitions).
_ANCESTORS = ("SELECT p.relname::text FROM pg_catalog.pg_partition_ancestors(%s::oid) WITH ORDINALITY AS a(relid, n)"
              " JOIN pg_catalog.pg_class p ON p.oid = a.relid WHERE a.relid <> %s::oid ORDER BY a.n")


def _ancestors(context: MigrationContext, oid: int) -> list[str]:
    if context.conn.info.server_version < 120000:  # pg_partition_ancestors came with 12
        return []
    return [name for (name,) in context.tool_session.execute(_ANCESTORS, (oid, oid)).fetchall()]


def _emptied_first(statements: list[Statement], names: set[str], referenced: Callable[[], set[str]]) -> Statement | None:
    """The TRUNCATE of the table (or of its partitioned table, or, with CASCADE, of a table it
    references: `referenced` reads those) that comes before any statement on it that rewrites,
    when there is one: its new file is then TRUNCATE's, not a copy."""
    for statement in statements:
        if names & statement_names(statement.sql) and _may_rewrite(statement):
            return None
        try:
            parsed = trees.parse(statement.sql)
        except parser.ParseError:
            continue
        for raw in parsed:
            if not isinstance(raw.stmt, ast.TruncateStmt):
                continue
            truncated = {getattr(r, "relname", None) for r in raw.stmt.relations or ()}
            if truncated & names or (raw.stmt.behavior == DropBehavior.DROP_CASCADE and truncated & referenced()):
                return statement
    return None


# The tables a table references through foreign keys, near and far: TRUNCATE ... CASCADE of any
# of them empties it too (mild-blue/txmatching's `TRUNCATE TABLE config CASCADE`).
_REFERENCED = ("WITH RECURSIVE refs(oid) AS (SELECT confrelid FROM pg_catalog.pg_constraint WHERE conrelid = %s::oid"
               " AND contype = 'f' UNION SELECT c.confrelid FROM pg_catalog.pg_constraint c JOIN refs r"
               " ON c.conrelid = r.oid WHERE c.contype = 'f') SELECT p.relname::text FROM refs"
               " JOIN pg_catalog.pg_class p ON p.oid = refs.oid")


def _referenced(context: MigrationContext, oid: int) -> set[str]:
    return {name for (name,) in context.tool_session.execute(_REFERENCED, (oid,)).fetchall()}


def _responsible(statements: list[Statement], relname: str, rewritten: bool = False) -> Statement | None:
    """The statement that most likely took the lock (or made the rewrite), when the whole script ran
    in one transaction: for a rewrite, the first statement of the kinds that rewrite; else the first
    DDL statement that names the table; else the first statement that does."""
    names = _renamed(statements, relname)
    naming = [s for s in statements if names & statement_names(s.sql)] \
        or [s for s in statements if s.node == "DoStmt" and names & _do_block_names(s)]
    if rewritten:
        rewriting = next((s for s in naming if _may_rewrite(s)), None)
        if rewriting is not None:
            return rewriting
    return next((s for s in naming if s.node.startswith(("Alter", "Index", "Cluster", "Vacuum", "Reindex", "Truncate"))),
                naming[0] if naming else None)


def _renamed(statements: list[Statement], relname: str) -> set[str]:
    """`relname` and the names a RENAME in the script gives it: the statements after it name the
    table by its new name (target/goalert's users table, rewritten under its new name, was put on
    its RENAME)."""
    names = {relname}
    for statement in statements:
        if statement.node != "RenameStmt":
            continue
        node = trees.statement(statement.sql)
        if (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE
                and node.relation is not None and node.relation.relname in names and node.newname):
            names.add(node.newname)
    return names


def _may_rewrite(statement: Statement) -> bool:
    """Whether a lint rule that predicts a rewrite (a type change, a volatile default, VACUUM FULL,
    CLUSTER) finds one in the statement: the static guess, used only to name the statement."""
    try:
        parsed = trees.parse(statement.sql)
    except parser.ParseError:
        return False
    return any(_predicts_rewrite(raw.stmt, statement.sql) for raw in parsed if raw.stmt is not None)


def _predicts_rewrite(node: ast.Node, sql: str) -> bool:
    """Whether a rule that predicts a rewrite finds one in the statement `node` (of the text `sql`)."""
    context = LintContext(server_version=LATEST, in_transaction=True, sql=sql)
    return any(next(iter(rule.check(node, context)), None) is not None for rule in _REWRITE_RULES)


LATEST = 999999
_REWRITE_RULES = [rule() for rule in registered() if rule.predicts_rewrite or rule.name == "table-rewrite-command"]
# What other linters call the checks that predict a rewrite: their comments acknowledge one.
_REWRITE_ALIASES = tuple(alias for rule in registered() if rule.predicts_rewrite for alias in rule.elsewhere)


def _by(statement: Statement | None, verb: str = "",
        free: Callable[[ast.AlterTableCmd], bool] = lambda _command: False) -> str:
    if statement is None:
        return ""
    first = (_rewriting_command(statement, free) if not verb else None) or " ".join(statement.sql.split())
    short = first if len(first) <= 60 else first[:57] + "..."
    return f"{' ' + verb if verb else ''} by line {statement.line} ({short})"


def _rewriting_command(statement: Statement, free: Callable[[ast.AlterTableCmd], bool]) -> str | None:
    """The command of an ALTER TABLE of several that a rule predicts rewrites, as an ALTER TABLE
    of its own (goalert's `ALTER TABLE alerts DROP CONSTRAINT ..., ALTER service_id TYPE UUID ...`
    read as its DROP CONSTRAINT, which rewrites nothing); of those, the first that is not `free`
    (ncps' text to varchar, which PostgreSQL only relabels, before its integer to bigint)."""
    node = trees.statement(statement.sql)
    if not isinstance(node, ast.AlterTableStmt) or len(node.cmds or ()) < 2:
        return None
    alone = [(command, ast.AlterTableStmt(relation=node.relation, cmds=(command,), objtype=node.objtype,
                                          missing_ok=node.missing_ok)) for command in node.cmds or ()]
    predicted = [(command, one) for command, one in alone if _predicts_rewrite(one, statement.sql)]
    if not predicted:
        return None
    chosen = next((one for command, one in predicted if not free(command)), predicted[0][1])
    try:
        return str(RawStream()(chosen))
    except Exception:  # noqa: BLE001 - pglast's printer may not print every node: the statement is shown
        return None


def _do_block_names(statement: Statement) -> frozenset[str]:
    """The tables a PL/pgSQL DO block's statements name (supabase/storage's ALTER TABLE ... TYPE
    bigint inside an IF): where no statement names the table outright."""
    node = trees.statement(statement.sql)
    if not isinstance(node, ast.DoStmt):
        return frozenset()
    language, body = code_of(node)
    return do_block_tables(body) if language == "plpgsql" else frozenset()
