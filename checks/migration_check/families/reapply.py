"""reapply: after its rollback, the up applies again and gives the same schema as the first time.

An up that adds an enum label fails when it runs again: a rollback cannot drop the label
(PostgreSQL has no DROP VALUE), so the finding says how to make the up run twice. An up whose rows
collide with rows that stayed, after a rollback that set a sequence back, is told that; and one
that names its own rows by the ids a sequence handed out the first time, after a rollback that
deleted them, that the sequence went on.

What the up leaves alone, the first time and again, but the rollback left out of place (a view
the rollback makes again with other text) is the roundtrip's finding, not this one's: the case
passes and names it. An up that cannot run again because the rollback left behind what it makes
(a table, where the migration has no rollback) is not judged, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast

from migration_check.families.base import Family, MigrationContext, Stage, StepRun
from migration_check.families.comparison import compare
from migration_check.model import CheckResult, Script, Status
from migration_check.schema.diff import EXTRA, MISSING, Difference, describe_reapply
from migration_check.schema.snapshot import Definition
from migration_check.sql import readable_statements, trees
from migration_check.sql.dialects import existing_object, first_quoted, missing_object
from migration_check.sql.objects import WRITTEN, statement_names, touches, unquote
from migration_check.sql.prepared import quote_identifier

DUPLICATE_OBJECT = "42710"
FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"


def sequence_restarts(script: Script | None) -> list[tuple[str, int]]:
    """(sequence, line) of each `ALTER SEQUENCE ... RESTART` and `setval(...)` of a script."""
    found: list[tuple[str, int]] = []
    for statement in readable_statements(script):
        node = trees.statement(statement.sql) if statement.node in ("AlterSeqStmt", "SelectStmt") else None
        if isinstance(node, ast.AlterSeqStmt) and node.sequence is not None and any(
                getattr(option, "defname", "") == "restart" for option in node.options or ()):
            found.append((str(node.sequence.relname), statement.line))
        elif isinstance(node, ast.SelectStmt) and "setval" in trees.function_names(node):
            found.append(("setval(...)", statement.line))
    return found


class Reapply(Family):
    name = "reapply"
    stage = Stage.REAPPLY_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        step = context.reapply
        assert step is not None and context.after_up is not None
        if (left := left_behind(context, step)) is not None:
            empty = context.empty_rollback()
            return context.result(self.name, Status.SKIPPED, script=step.script,
                                  message=f"not judged{empty}: {left.words(nothing_undone=bool(empty))} (see roundtrip),"
                                          " and so the up cannot run again")
        if step.failed and (runner := _runners_own(context, step)) is not None:
            return context.result(self.name, Status.SKIPPED, script=step.script,
                                  message=f"not judged: the up changes {runner}, the runner's own table, and fails again"
                                          " on what it did there the first time; the runner's table is not the"
                                          " rollback's to restore")
        if step.failed or context.after_reapply is None:
            result = context.step_result(self.name, step,
                                         f"up does not apply again after its rollback{context.empty_rollback()}: ")
            failure = step.failure
            if failure is not None and failure.sqlstate == DUPLICATE_OBJECT and failure.message.startswith("enum label "):
                result.message += (" (a rollback cannot drop an enum label: write ALTER TYPE ... ADD VALUE IF NOT EXISTS,"
                                   " so that the up runs again)")
            elif failure is not None and failure.sqlstate == UNIQUE_VIOLATION and (
                    restarts := sequence_restarts(context.migration.down)):
                where = ", ".join(f"{name} (line {line})" for name, line in restarts)
                result.message += (f" (the rollback sets sequence {where} back: the ids it hands out again are taken"
                                   " by rows still in the table; leave the sequence where it is)")
            elif failure is not None and failure.sqlstate == FOREIGN_KEY_VIOLATION and (
                    table := _renumbered(context, failure.detail or "")):
                result.message += (f" (the up inserts rows into {table} and then names them by id; the rollback deletes"
                                   " them, but the sequence behind their ids goes on, so inserted again they get other"
                                   " ids: name the ids in the up's INSERT, or restart the sequence in the rollback"
                                   " (TRUNCATE ... RESTART IDENTITY, ALTER SEQUENCE ... RESTART))")
            return result
        return compare(context, self.name, (context.after_up, "after the first up"),
                       (context.after_reapply, "after the up again"), describe_reapply,
                       "up after rollback gives a different schema", step.script, step.seconds,
                       elsewhere=(lambda difference: left_by_rollback(context, difference),
                                  "the up gives the same again; what differs is the rollback's (see roundtrip)"))


def _runners_own(context: MigrationContext, step: StepRun) -> str | None:
    """The runner's table, where the statement that failed again names nothing else (harness's
    `ALTER TABLE migrations ADD PRIMARY KEY (version)` on maragu's own table)."""
    failure = step.failure
    if failure is None or not failure.statement or not context.runner_tables:
        return None
    try:
        names = statement_names(failure.statement)
    except Exception:  # noqa: BLE001 - a statement the parser cannot read names nothing
        return None
    own = {unquote(table.rsplit(".", 1)[-1]): table for table in context.runner_tables}
    return own[next(iter(names))] if len(names) == 1 and next(iter(names)) in own else None


@dataclass(frozen=True)
class LeftOutOfPlace:
    """An object the rollback left out of place (the roundtrip's finding) that the up runs into."""

    difference: Difference

    def words(self, nothing_undone: bool) -> str:
        """Said of the rollback; or, where it undoes nothing (none, empty, a placeholder), of the
        object: "the rollback leaves it behind" would blame a rollback that is not there."""
        kind, name = self.difference.kind, self.difference.name
        if self.difference.change == EXTRA:
            return (f"{kind} {name}, which the up makes, is still there" if nothing_undone
                    else f"the rollback leaves {kind} {name} behind")
        return (f"{kind} {name}, which the up drops, is still gone" if nothing_undone
                else f"the rollback does not restore {kind} {name}")


# Whether the table's rows take their ids from a sequence (an identity, or a serial's default).
_SEQUENCE_IDS = ("SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d"
                 " ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0"
                 " AND NOT a.attisdropped AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%'))")


def _renumbered(context: MigrationContext, detail: str) -> str | None:
    """The table a foreign key found no row in (`Key (user_id)=(1) is not present in table "user".`)
    when the up inserts into it, the rollback deletes from it, and its ids come from a sequence:
    cinevoraces's seed names users by the ids the first run handed out."""
    table = first_quoted(detail.split(" is not present in table ", 1)[1]) if " is not present in table " in detail else None
    if table is None:
        return None
    writes = [{t.key[0] for s in readable_statements(script) for t in touches(s.sql) if t.kind == "table" and t.verb == WRITTEN}
              for script in (context.migration.up, context.migration.down)]
    if not all(table in written for written in writes):
        return None
    row = context.tool_session.execute(_SEQUENCE_IDS, (quote_identifier(table),)).fetchone()
    return table if row and row[0] else None


def left_behind(context: MigrationContext, step: StepRun) -> LeftOutOfPlace | None:
    """What the rollback left out of place (the roundtrip's finding) that makes the up fail when
    it runs again: an object it left behind that the up makes, or one it did not restore that the
    up drops or alters. That failure is the rollback's, not the up's."""
    failure = step.failure
    if failure is None or context.after_down is None:
        return None
    if (written := existing_object(failure.sqlstate, failure.message)) is not None:
        change = EXTRA
    elif (missing := missing_object(failure.sqlstate, failure.message)) is not None:
        (_, written), change = missing, MISSING
    else:
        return None
    name = unquote(written.rsplit(".", 1)[-1])
    for difference in context.differences(context.before, context.after_down):
        if difference.change == change and _own_name(difference.name) == name:
            return LeftOutOfPlace(difference)
    return None


def _own_name(name: str) -> str:
    """The object's own name, as PostgreSQL's messages name it: `plugin_type` of
    `public.plugins.plugin_type`, `f` of `public.f(integer)`, `k` of `k on public.t`."""
    return unquote(name.split(" on ", 1)[0].split("(", 1)[0].rsplit(".", 1)[-1])


def left_by_rollback(context: MigrationContext, difference: Difference) -> bool:
    """Whether the up let the object be, the first time and again, so that the difference is what
    the rollback left out of place (the roundtrip's finding), not something the up does otherwise
    the second time."""
    key = (difference.kind, difference.name)
    before, after_up, after_down, again = (
        snapshot.get(key) if snapshot is not None else None
        for snapshot in (context.before, context.after_up, context.after_down, context.after_reapply))
    return _text(before) == _text(after_up) and _text(after_down) == _text(again) and _text(before) != _text(after_down)


def _text(definition: Definition | None) -> str | None:
    return definition.text if definition is not None else None
