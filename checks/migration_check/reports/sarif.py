"""SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`).

One rule per check family (`migration-check/roundtrip`) and per lint rule (`MC001`), each with its
summary, its documentation and a link to it; one result per failing case (errors as `error`,
findings below the fail-on level as `warning`) at its file, line and, where known, column. Passing
and skipped cases are not results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migration_check import __version__
from migration_check.lint import registered
from migration_check.model import CHECK_FAMILIES, CheckResult, RunReport, Severity, Status
from migration_check.reports.files import write_report

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
README = "README.md"
_FAMILY_HELP = {
    "naming": "File names follow the runner's own naming rules.",
    "pairing": "Every migration has its rollback, and no rollback is an orphan.",
    "history": "Versions are unique and ordered; the branch adds migrations only after the base branch's newest.",
    "apply": "The migration applies on a fresh PostgreSQL.",
    "verify": "The layout's verify script passes after the deploy.",
    "locks": "No table that existed before is rewritten under an ACCESS EXCLUSIVE lock.",
    "rollback": "The rollback runs.",
    "roundtrip": "After up and rollback the schema equals the schema before the up.",
    "data": "The rows that existed before the up are unchanged after the rollback.",
    "integrity": "After the rollback every foreign key, check and NOT NULL holds for every row.",
    "reapply": "The up applies again after its rollback and gives the same schema.",
    "lint": "Risky statements, from PostgreSQL's parse tree.",
    "drift": "The migrated schema equals the declared schema and the live database.",
}


def build(report: RunReport, fail_on: Severity = Severity.ERROR) -> dict[str, Any]:
    rules = [_family_rule(family) for family in CHECK_FAMILIES] + [
        {"id": rule.code, "name": rule.name, "shortDescription": {"text": rule.summary()},
         "fullDescription": {"text": rule.documentation()}, "helpUri": rule.anchor(),
         "help": {"text": rule.documentation(), "markdown": rule.documentation()},
         "defaultConfiguration": {"level": (rule.severity or Severity.WARNING).value, "enabled": rule.severity is not None}}
        for rule in registered()]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = [_result(case, index, fail_on) for case in report.results if case.status is Status.FAILED]
    invocation: dict[str, Any] = {"executionSuccessful": report.error is None}
    if report.error:
        invocation["toolExecutionNotifications"] = [{"level": "error", "message": {"text": report.error}}]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "migration-check", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://github.com/migration-check/migration-check", "rules": rules}},
            "invocations": [invocation],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def write(report: RunReport, path: Path, fail_on: Severity = Severity.ERROR) -> None:
    write_report(path, json.dumps(build(report, fail_on), indent=2) + "\n")


def _family_rule(family: str) -> dict[str, Any]:
    text = _FAMILY_HELP.get(family, family)
    return {"id": f"migration-check/{family}", "name": family, "shortDescription": {"text": text},
            "helpUri": f"{README}#what-it-checks", "defaultConfiguration": {"level": "error"}}


def _result(case: CheckResult, index: dict[str, int], fail_on: Severity) -> dict[str, Any]:
    rule_id = _lint_code(case) if case.check == "lint" else None
    rule_id = rule_id if rule_id in index else f"migration-check/{case.check}"
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index.get(rule_id, index.get(f"migration-check/{case.check}", 0)),
        "level": "error" if case.counts_as_failure(fail_on) else "warning",
        "message": {"text": case.message or f"{case.check}: {case.subject}"},
        "partialFingerprints": {"migrationCheck/v1": f"{case.check}:{case.subject}"},
    }
    if case.file:
        region: dict[str, int] = {"startLine": max(case.line or 1, 1)}
        if case.column:
            region["startColumn"] = case.column
        result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": case.file, "uriBaseId": "%SRCROOT%"},
                                                     "region": region}}]
    return result


def _lint_code(case: CheckResult) -> str | None:
    """`20250102000000_risky: MC002 drop-column` -> MC002."""
    tail = case.subject.rpartition(": ")[2].split(" ")
    return tail[0] if tail and tail[0].startswith("MC") else None
