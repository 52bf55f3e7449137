"""The whole run as JSON (`--json FILE`), for other tools: the exit code, the project and every case."""

from __future__ import annotations

import json
from pathlib import Path

from migration_check.model import RunReport, Severity, Status
from migration_check.reports.files import write_report


def write(report: RunReport, path: Path, fail_on: Severity = Severity.ERROR) -> None:
    write_report(path, as_json(report, fail_on))


def as_json(report: RunReport, fail_on: Severity = Severity.ERROR) -> str:
    """The whole run, for other tools (`--json FILE`)."""
    project = report.project
    return json.dumps({
        "exit_code": report.exit_code(fail_on),
        "error": report.error,
        "project": None if project is None else {
            "format": project.format, "directory": project.relative(project.directory),
            "migrations": [m.id for m in project.migrations],
            # Alternative histories (Migration.history), each replayed in a database of its own.
            "histories": {m.id: m.history for m in project.migrations if m.history}},
        "counts": {status.value: report.count(status) for status in Status},
        "results": [{"check": c.check, "subject": c.subject, "status": c.status.value, "severity": c.severity.value,
                     "counts_as_failure": c.counts_as_failure(fail_on), "file": c.file, "line": c.line,
                     "column": c.column, "message": c.message, "details": c.details} for c in report.results],
    }, indent=2) + "\n"
