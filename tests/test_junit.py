"""The JUnit report, built from in-memory results: structure, attributes, skips, errors, order."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from migration_check.model import CheckResult, RunReport, Severity, Status
from migration_check.reports import junit


def report(*results: CheckResult, error: str | None = None) -> RunReport:
    return RunReport(project=None, results=list(results), error=error)


def cases(xml: str) -> list[ET.Element]:
    return list(ET.fromstring(xml).iter("testcase"))


def test_one_case_per_check_with_file_line_classname_and_time() -> None:
    xml = junit.render(report(
        CheckResult("apply", "20250101000000_a", Status.PASSED, file="db/a.sql", line=1, seconds=0.25),
        CheckResult("roundtrip", "20250101000000_a", Status.FAILED, file="db/a_rollback.sql", line=1,
                    message="rollback is not the inverse of up: index public.i: left behind by rollback",
                    details="index public.i: left behind by rollback"),
    ))
    apply, roundtrip = cases(xml)
    assert apply.attrib == {"name": "20250101000000_a", "classname": "migration_check.apply",
                            "time": "0.250000", "file": "db/a.sql", "line": "1"}
    failure = roundtrip.find("failure")
    assert failure is not None
    assert failure.attrib["message"].startswith("rollback is not the inverse")
    assert "left behind by rollback" in (failure.text or "")
    assert roundtrip.attrib["file"] == "db/a_rollback.sql"


def test_skipped_cases_carry_the_reason() -> None:
    xml = junit.render(report(CheckResult("reapply", "m", Status.SKIPPED, message="not run: up failed")))
    skipped = cases(xml)[0].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == "not run: up failed"


def test_families_in_fixed_order_whatever_the_result_order() -> None:
    xml = junit.render(report(
        CheckResult("reapply", "m1", Status.PASSED),
        CheckResult("apply", "m1", Status.PASSED),
        CheckResult("naming", "m1.sql", Status.PASSED),
        CheckResult("apply", "m2", Status.PASSED),
    ))
    suites = [s.attrib["name"] for s in ET.fromstring(xml).iter("testsuite")]
    assert suites == ["migration_check.naming", "migration_check.apply", "migration_check.reapply"]
    assert [c.attrib["name"] for c in cases(xml)] == ["m1.sql", "m1", "m2", "m1"]
    assert junit.render(report(CheckResult("apply", "m", Status.PASSED))) == junit.render(
        report(CheckResult("apply", "m", Status.PASSED)))


def test_a_run_error_is_an_errored_case() -> None:
    xml = junit.render(report(error="no PostgreSQL server binaries found"))
    error = cases(xml)[0].find("error")
    assert error is not None and "no PostgreSQL server binaries" in error.attrib["message"]


def test_warnings_fail_only_when_fail_on_is_warning() -> None:
    warning = CheckResult("naming", "x.sql", Status.FAILED, message="bad name", severity=Severity.WARNING)
    assert cases(junit.render(report(warning)))[0].find("failure") is None
    assert cases(junit.render(report(warning), Severity.WARNING))[0].find("failure") is not None
    assert report(warning).exit_code() == 0
    assert report(warning).exit_code(Severity.WARNING) == 1


def test_write_creates_directories_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "junit.xml"
    junit.write(report(CheckResult("apply", "m", Status.PASSED)), target)
    assert ET.parse(target).getroot().tag == "testsuites"
    assert [p.name for p in target.parent.iterdir()] == ["junit.xml"]


def test_the_report_is_readable_by_other_users(tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    junit.write(report(CheckResult("apply", "m", Status.PASSED)), target)
    assert target.stat().st_mode & 0o777 == 0o644


def test_written_suite_by_suite_the_document_junit_xml_makes_whole(tmp_path: Path) -> None:
    # Suite by suite keeps a large run's memory down; the document must stay the one junit_xml
    # makes of all suites at once, indented: same escaping, same removal of characters XML cannot
    # hold, same totals.
    from junit_xml import to_xml_report_string

    run = report(
        CheckResult("naming", "a.sql", Status.PASSED, file="db/a.sql", seconds=0.1),
        CheckResult("apply", "a", Status.FAILED, file="db/a.sql", line=3, message='x < y & "z"\x1b[31m',
                    details="line one\nline two\x00", seconds=0.2),
        CheckResult("reapply", "a", Status.SKIPPED, message="not run: up failed", seconds=0.3),
        CheckResult("locks", "a", Status.PASSED, message="public.t: ACCESS EXCLUSIVE", seconds=0.4),
        CheckResult("lint", "db/a.sql:1", Status.FAILED, message="MC002", severity=Severity.WARNING),
        error="interrupted",
    )
    whole = ET.fromstring(to_xml_report_string(list(junit.suites(run)), prettyprint=False, encoding="utf-8").encode())
    ET.indent(whole, space="\t")
    expected = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(whole, encoding="unicode") + "\n"
    assert junit.render(run) == expected
    target = tmp_path / "junit.xml"
    junit.write(run, target)
    assert target.read_text(encoding="utf-8") == expected
    assert junit.render(report()) == '<?xml version="1.0" encoding="utf-8"?>\n<testsuites />\n'


def test_a_path_that_is_no_regular_file_is_written_through_not_replaced(tmp_path: Path) -> None:
    # `--junit-xml /dev/null` once replaced the device with a file: every later write to /dev/null
    # on the machine failed. A FIFO stands in for the device here.
    import os
    import stat
    import threading

    fifo = tmp_path / "reports.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    junit.write(report(CheckResult("apply", "m", Status.PASSED)), fifo)
    reader.join(timeout=10)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and ET.fromstring(received[0]).tag == "testsuites"


def test_a_symbolic_link_keeps_pointing_at_the_report_it_names(tmp_path: Path) -> None:
    real = tmp_path / "out" / "junit.xml"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "junit.xml"
    link.symlink_to(real)
    junit.write(report(CheckResult("apply", "m", Status.PASSED)), link)
    assert link.is_symlink() and ET.parse(real).getroot().tag == "testsuites"
