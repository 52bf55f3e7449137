"""Test cases for the static families: one constructor, so every result carries its severity."""

from __future__ import annotations

from migration_check.model import CheckResult, Status
from migration_check.settings import Settings


def result(
    settings: Settings,
    check: str,
    subject: str,
    file: str | None,
    problems: list[str],
    line: int | None = None,
) -> CheckResult:
    """PASSED when `problems` is empty, else FAILED with the problems as the message (first first).
    A case about a file has a line (1 for a whole-file finding), so an annotation can be placed."""
    if line is None and file is not None:
        line = 1
    if not problems:
        return CheckResult(check, subject, Status.PASSED, file=file, line=line, severity=settings.severity_of(check))
    return CheckResult(
        check,
        subject,
        Status.FAILED,
        file=file,
        line=line,
        message=" ".join(problems),
        details="\n".join(problems) if len(problems) > 1 else "",
        severity=settings.severity_of(check),
    )


def skipped(settings: Settings, check: str, subject: str, reason: str) -> CheckResult:
    return CheckResult(check, subject, Status.SKIPPED, message=reason, severity=settings.severity_of(check))
