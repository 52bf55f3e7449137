"""JUnit XML: one test suite per check family, one test case per check on each migration or file.

Test cases carry `file` (relative to the repository) and `line`, which mikepenz/action-junit-report
and EnricoMi's publisher turn into annotations. Order is deterministic: families in a fixed order,
then migrations in replay order. A run that ended early still gets its file, with the error as an
errored test case, so a required status check never goes green by accident.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from migration_check.model import CHECK_FAMILIES, CheckResult, RunReport, Severity, Status
from migration_check.reports.files import write_report

CLASS_PREFIX = "migration_check."


def test_case(result: CheckResult, fail_on: Severity) -> TestCase:
    case = TestCase(
        name=result.subject,
        classname=CLASS_PREFIX + result.check,
        elapsed_sec=round(result.seconds, 6),
        file=result.file,
        line=result.line,
    )
    if result.status is Status.SKIPPED:
        case.add_skipped_info(message=result.message or "skipped")
    elif result.status is Status.FAILED and result.counts_as_failure(fail_on):
        case.add_failure_info(message=result.message, output=result.details or result.message,
                              failure_type=result.severity.value)
    elif result.status is Status.FAILED:
        # A warning below the fail-on level: visible, but not a failing case.
        case.stdout = f"warning: {result.message}\n{result.details}".rstrip()
    elif result.message:
        # What a passing check has to say (a confirmed loss and its reason, what the up did to rows).
        case.stdout = f"{result.message}\n{result.details_beyond_message()}".rstrip()
    return case


def build_suites(report: RunReport, fail_on: Severity = Severity.ERROR) -> list[TestSuite]:
    by_family: dict[str, list[CheckResult]] = defaultdict(list)
    for result in report.results:
        by_family[result.check].append(result)
    order = list(CHECK_FAMILIES) + sorted(set(by_family) - set(CHECK_FAMILIES))
    suites = [
        TestSuite(CLASS_PREFIX + family, [test_case(r, fail_on) for r in by_family[family]])
        for family in order
        if by_family.get(family)
    ]
    if report.error is not None:
        case = TestCase(name="run", classname=CLASS_PREFIX + "run", elapsed_sec=round(report.seconds, 6))
        case.add_error_info(message=report.error, output=report.error)
        suites.append(TestSuite(CLASS_PREFIX + "run", [case]))
    return suites


def render(report: RunReport, fail_on: Severity = Severity.ERROR) -> str:
    # junit_xml pretty-prints through minidom, whose tree of a 5,000-migration run (60,000 cases)
    # takes hundreds of MB: the flat text is indented with ElementTree instead.
    flat = to_xml_report_string(build_suites(report, fail_on), prettyprint=False, encoding="utf-8")
    root = ET.fromstring(flat.encode("utf-8"))
    ET.indent(root, space="\t")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(report: RunReport, path: Path, fail_on: Severity = Severity.ERROR) -> None:
    write_report(path, render(report, fail_on))
