"""A verdict that compares two schemas, shared by the roundtrip and reapply families."""

from __future__ import annotations

from collections.abc import Callable

from migration_check.families.base import MigrationContext
from migration_check.model import CheckResult, Script, Status
from migration_check.schema.diff import Difference, unified_diffs
from migration_check.schema.snapshot import Snapshot
from migration_check.sql import Statement

MAX_LISTED_DIFFERENCES = 20
MESSAGE_DIFFERENCES = 3  # the failure message quotes the first few; the body lists more


def compare(
    context: MigrationContext,
    check: str,
    expected: tuple[Snapshot, str],
    actual: tuple[Snapshot, str],
    describe: Callable[[list[Difference]], list[str]],
    headline: str,
    script: Script,
    seconds: float = 0.0,
    locate: Callable[[Difference], Statement | None] | None = None,
    elsewhere: tuple[Callable[[Difference], bool], str] | None = None,
) -> CheckResult:
    """`expected` and `actual` are a snapshot and the words for when it was taken ("before up").
    A failure points at `script`, or at the statement `locate` finds for the first difference.
    `elsewhere` picks out the differences another check judges, with the words that say which:
    they are left out, and named in the message of a case that passes for want of others."""
    found = context.differences(expected[0], actual[0])
    differences = [d for d in found if not elsewhere or not elsewhere[0](d)]
    if not differences:
        note = f"{elsewhere[1]}: {listed(describe(found), MESSAGE_DIFFERENCES, '; ')}" if found and elsewhere else ""
        return context.result(check, Status.PASSED, script=script, seconds=seconds, message=note)
    lines = describe(differences)
    details = listed(lines, MAX_LISTED_DIFFERENCES, "\n")
    diffs = unified_diffs(differences[:MAX_LISTED_DIFFERENCES], expected[1], actual[1])
    culprit = locate(differences[0]) if locate else None
    return context.result(check, Status.FAILED, script=script,
                          file=context.project.relative(culprit.path) if culprit else None,
                          line=culprit.line if culprit else None,
                          message=f"{headline}: {listed(lines, MESSAGE_DIFFERENCES, '; ')}",
                          details=f"{details}\n\n{diffs}" if diffs else details, seconds=seconds)


def listed(lines: list[str], limit: int, separator: str) -> str:
    more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
    return separator.join(lines[:limit]) + more
