"""reapply: after its rollback, the up applies again and gives the same schema as the first time.

An up that adds an enum label fails when it runs again: a rollback cannot drop the label
(PostgreSQL has no DROP VALUE), so the finding says how to make the up run twice. An up whose rows
collide with rows that stayed, after a rollback that set a sequence back, is told that.

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
from migration_check.lint.nodes import function_names
from migration_check.model import CheckResult, Script, Status
from migration_check.schema.diff import EXTRA, MISSING, Difference, describe_reapply
from migration_check.schema.snapshot import Definition
from migration_check.sql import SyntaxProblem, split_script, trees
from migration_check.sql.dialects import existing_object, missing_object
from migration_check.sql.objects import unquote

DUPLICATE_OBJECT = "42710"
UNIQUE_VIOLATION = "23505"


def sequence_restarts(script: Script | None) -> list[tuple[str, int]]:
    """(sequence, line) of each `ALTER SEQUENCE ... RESTART` and `setval(...)` of a script."""
    if script is None:
        return []
    try:
        statements = split_script(script)
    except SyntaxProblem:
        return []
    found: list[tuple[str, int]] = []
    for statement in statements:
        node = trees.statement(statement.sql) if statement.node in ("AlterSeqStmt", "SelectStmt") else None
        if isinstance(node, ast.AlterSeqStmt) and node.sequence is not None and any(
                getattr(option, "defname", "") == "restart" for option in node.options or ()):
            found.append((str(node.sequence.relname), statement.line))
        elif isinstance(node, ast.SelectStmt) and "setval" in function_names(node):
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
            return result
        return compare(context, self.name, (context.after_up, "after the first up"),
                       (context.after_reapply, "after the up again"), describe_reapply,
                       "up after rollback gives a different schema", step.script, step.seconds,
                       elsewhere=(lambda difference: left_by_rollback(context, difference),
                                  "the up gives the same again; what differs is the rollback's (see roundtrip)"))


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
