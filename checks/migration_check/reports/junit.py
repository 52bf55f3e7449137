"""JUnit XML: one test suite per check family, one test case per check on each migration or file.

Test cases carry `file` (relative to the repository) and `line`, which mikepenz/action-junit-report
and EnricoMi's publisher turn into annotations. Order is deterministic: families in a fixed order,
then migrations in replay order. A run that ended early still gets its file, with the error as an
errored test case, so a required status check never goes green by accident.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from migration_check.model import CHECK_FAMILIES, CheckResult, RunReport, Severity, Status
from migration_check.reports.files import write_report

CLASS_PREFIX = "migration_check."
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


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


def suites(report: RunReport, fail_on: Severity = Severity.ERROR) -> Iterator[TestSuite]:
    """The test suites in their order, each built only when asked for: a family's test cases are
    not kept once its suite is written."""
    by_family: dict[str, list[CheckResult]] = defaultdict(list)
    for result in report.results:
        by_family[result.check].append(result)
    order = list(CHECK_FAMILIES) + sorted(set(by_family) - set(CHECK_FAMILIES))
    for family in order:
        if by_family.get(family):
            yield TestSuite(CLASS_PREFIX + family, [test_case(r, fail_on) for r in by_family[family]])
    if report.error is not None:
        case = TestCase(name="run", classname=CLASS_PREFIX + "run", elapsed_sec=round(report.seconds, 6))
        case.add_error_info(message=report.error, output=report.error)
        yield TestSuite(CLASS_PREFIX + "run", [case])


def render(report: RunReport, fail_on: Severity = Severity.ERROR) -> str:
    return "".join(pieces(report, fail_on))


def pieces(report: RunReport, fail_on: Severity = Severity.ERROR) -> list[str]:
    """The document's text in pieces, to be written one after the other.

    Suite by suite: junit_xml builds a document's whole tree, then its text, then (pretty-printed)
    a minidom tree of it; for a 5,000-migration run (60,000 cases) that took more memory than the
    rest of the run. Each suite goes through junit_xml alone (its escaping and its removal of
    characters XML cannot hold), is indented as it sits in the whole document, and only its text
    is kept; the totals of <testsuites> are junit_xml's own, summed the way it sums them."""
    totals: dict[str, float] = defaultdict(int)
    texts = []
    for suite in suites(report, fail_on):
        alone = ET.fromstring(to_xml_report_string([suite], prettyprint=False, encoding="utf-8").encode("utf-8"))
        for key in ("disabled", "errors", "failures", "tests"):
            totals[key] += int(alone.get(key, 0))
        totals["time"] += float(alone.get("time", 0))
        element = alone[0]
        ET.indent(element, space="\t", level=1)
        texts.append(ET.tostring(element, encoding="unicode"))
    root = ET.Element("testsuites", {key: str(value) for key, value in totals.items()})
    opening = ET.tostring(root, encoding="unicode").removesuffix(" />")
    if not texts:
        return [XML_DECLARATION, opening, " />\n"]
    return [XML_DECLARATION, opening, ">", *(piece for text in texts for piece in ("\n\t", text)), "\n</testsuites>\n"]


def write(report: RunReport, path: Path, fail_on: Severity = Severity.ERROR) -> None:
    write_report(path, pieces(report, fail_on))
