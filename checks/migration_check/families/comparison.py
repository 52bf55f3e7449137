"""A verdict that compares two schemas, shared by the roundtrip and reapply families."""

from __future__ import annotations

from collections.abc import Callable

from migration_check.families.base import MigrationContext
from migration_check.model import CheckResult, Script, Status
from migration_check.schema.diff import Difference
from migration_check.schema.snapshot import Snapshot

MAX_LISTED_DIFFERENCES = 20
MESSAGE_DIFFERENCES = 3  # the failure message quotes the first few; the body lists more


def compare(
    context: MigrationContext,
    check: str,
    expected: Snapshot,
    actual: Snapshot,
    describe: Callable[[list[Difference]], list[str]],
    headline: str,
    script: Script,
    seconds: float = 0.0,
) -> CheckResult:
    differences = context.differences(expected, actual)
    if not differences:
        return context.result(check, Status.PASSED, script=script, seconds=seconds)
    lines = describe(differences)
    return context.result(check, Status.FAILED, script=script,
                          message=f"{headline}: {listed(lines, MESSAGE_DIFFERENCES, '; ')}",
                          details=listed(lines, MAX_LISTED_DIFFERENCES, "\n"), seconds=seconds)


def listed(lines: list[str], limit: int, separator: str) -> str:
    more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
    return separator.join(lines[:limit]) + more
