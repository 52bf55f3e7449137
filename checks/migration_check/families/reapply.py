"""reapply: after its rollback, the up applies again and gives the same schema as the first time.

An up that adds an enum label fails when it runs again: a rollback cannot drop the label
(PostgreSQL has no DROP VALUE), so the finding says how to make the up run twice. An up whose rows
collide with rows that stayed, after a rollback that set a sequence back, is told that.
"""

from __future__ import annotations

from pglast import ast

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import compare
from migration_check.lint.nodes import function_names
from migration_check.model import CheckResult, Script
from migration_check.schema.diff import describe_reapply
from migration_check.sql import SyntaxProblem, split_script, trees

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
                       "up after rollback gives a different schema", step.script, step.seconds)
