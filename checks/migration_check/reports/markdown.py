"""The Markdown hygiene report (`--report FILE.md`): the document a team keeps in the repository
(`tools/reports/db-migrations-hygiene.md`) and refreshes on every merge. The job summary shows
the same sections.

It holds nothing that changes from run to run (no times, no temporary names), so two runs on the
same repository give the same file, and its diff in a pull request shows what changed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from migration_check.model import CheckResult, RunReport, Severity, Status
from migration_check.reports.coverage import replay_coverage
from migration_check.reports.files import write_report

# What to fix first: a migration that does not apply beats a style finding.
PRIORITY = ("apply", "rollback", "roundtrip", "reapply", "data", "integrity", "locks", "drift", "verify",
            "history", "pairing", "lint", "naming")
TOP = 10


def render(report: RunReport, fail_on: Severity = Severity.ERROR) -> str:
    lines = ["# Database migrations: hygiene report", ""]
    lines += _inventory(report) + _coverage(report) + _section(report, fail_on)
    return "\n".join(lines).rstrip() + "\n"


def write(report: RunReport, path: Path, fail_on: Severity = Severity.ERROR) -> None:
    write_report(path, render(report, fail_on))



def _inventory(report: RunReport) -> list[str]:
    project = report.project
    if project is None:
        return ["No migrations were found" + (f": {report.error}" if report.error else "."), ""]
    versions = [m.version for m in project.migrations]
    lines = ["## Inventory", "", "| | |", "|---|---|",
             f"| directory | `{project.relative(project.directory)}` |",
             f"| layout | {project.format} |",
             f"| migrations | {len(versions)} |"]
    if versions:
        lines += [f"| first | `{project.migrations[0].id}` |", f"| last | `{project.migrations[-1].id}` |"]
    with_down = sum(1 for m in project.migrations if m.down is not None)
    lines += [f"| with a rollback script | {with_down} of {len(versions)} |", ""]
    if project.histories_reason:
        lines += [f"Histories: {project.histories_reason}.", ""]
    if not report.error and (coverage := replay_coverage(report)) is not None:
        lines += [coverage.sentence()[0].upper() + coverage.sentence()[1:] + ".", ""]
    if report.error:
        lines += [f"The run ended early: {report.error}", ""]
    return lines


def _coverage(report: RunReport) -> list[str]:
    """How many migrations have a rollback proven to be a true inverse (it runs, the schema and the
    rows come back, and the up applies again)."""
    by_migration: dict[str, dict[str, Status]] = {}
    for case in report.results:
        if case.check in ("rollback", "roundtrip", "reapply", "data"):
            by_migration.setdefault(case.subject, {})[case.check] = case.status
    if not by_migration:
        return []
    proven = sum(1 for checks in by_migration.values()
                 if all(checks.get(c) in (Status.PASSED, None) for c in ("rollback", "roundtrip", "reapply", "data"))
                 and checks.get("roundtrip") is Status.PASSED)
    return ["## Rollback coverage", "",
            f"{proven} of {len(by_migration)} migrations have a rollback proven to be a true inverse"
            " (it runs, the schema and the rows come back, the up applies again).", ""]


def _section(report: RunReport, fail_on: Severity) -> list[str]:
    failing = [case for case in report.results if case.status is Status.FAILED]
    counts = Counter((case.check, case.counts_as_failure(fail_on)) for case in failing)
    lines = ["## Findings by check", "", "| check | errors | warnings | passed | skipped |", "|---|---|---|---|---|"]
    for check in PRIORITY:
        cases = [c for c in report.results if c.check == check]
        if cases:
            passed = sum(c.status is Status.PASSED for c in cases)
            skipped = sum(c.status is Status.SKIPPED for c in cases)
            lines.append(f"| {check} | {counts[(check, True)]} | {counts[(check, False)]} | {passed} | {skipped} |")
    lines.append("")
    ordered = sorted(failing, key=lambda c: (not c.counts_as_failure(fail_on), _rank(c), c.file or "", c.line or 0))
    if not ordered:
        return lines + ["Nothing to fix.", ""]
    lines += ["## What to fix first", ""]
    for case in ordered[:TOP]:
        level = "error" if case.counts_as_failure(fail_on) else "warning"
        where = f"`{case.file}:{case.line}`" if case.file else f"`{case.subject}`"
        lines.append(f"1. **{case.check}** ({level}) {where}: {_one_line(case)}")
    if len(ordered) > TOP:
        lines.append(f"\n... and {len(ordered) - TOP} more in the JUnit report.")
    return lines + [""]


def _rank(case: CheckResult) -> int:
    return PRIORITY.index(case.check) if case.check in PRIORITY else len(PRIORITY)


def _one_line(case: CheckResult) -> str:
    text = " ".join(case.message.split())
    return (text if len(text) <= 300 else text[:297] + "...").replace("|", "\\|")
