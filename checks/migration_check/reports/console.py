"""What a person reads in the terminal: where the migrations are and how they were recognised, one
line per migration with its verdict and time (as it happens), the findings, then a summary."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from migration_check.model import CheckResult, Project, RunReport, Severity, Status
from migration_check.replay.outcomes import MigrationOutcome
from migration_check.reports.coverage import replay_coverage

LABELS = {Status.PASSED: "PASS", Status.FAILED: "FAIL", Status.SKIPPED: "SKIP"}
# Control characters other than newline and tab, escaped in everything printed: names and messages
# come from migrations, and an escape sequence could rewrite what a reviewer sees in the terminal.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))}


def printable(text: str) -> str:
    """`text` with every terminal control character shown as an escape (\\x1b), never sent raw."""
    return text.translate(_CONTROL)
DETAIL_LINES = 12


class Console:
    def __init__(self, out: TextIO = sys.stdout, quiet: bool = False, verbose: bool = False,
                 fail_on: Severity = Severity.ERROR) -> None:
        self.out = out
        self.quiet = quiet
        self.verbose = verbose
        self.fail_on = fail_on

    def say(self, text: str = "") -> None:
        try:
            print(printable(text), file=self.out, flush=True)
        except BrokenPipeError:
            # `migration-check check | head`: the reader left. The run goes on (reports, cleanup)
            # silently; pointing the descriptor at /dev/null stops the interpreter's exit-time
            # complaint about the unflushed pipe.
            devnull = os.open(os.devnull, os.O_WRONLY)
            if self.out is sys.stdout:
                os.dup2(devnull, sys.stdout.fileno())
            self.out = open(os.devnull, "w")

    def project(self, project: Project) -> None:
        if self.quiet:
            return
        where = project.relative(project.directory) or str(project.directory)
        self.say(f"migrations: {where} ({len(project.migrations)} found)")
        self.say(f"format: {project.format}: {project.reason}")
        if project.setup_reason:
            self.say(f"setup: {project.setup_reason}")
        if project.histories_reason:
            self.say(f"histories: {project.histories_reason}")

    def server(self, description: str) -> None:
        if not self.quiet:
            self.say(f"postgres: {description}")
            self.say()

    def static_results(self, results: list[CheckResult], skipped: bool = False) -> None:
        """naming, pairing, history: list the findings (every case with --verbose; with `skipped`,
        the cases skipped too: what `lint` did not read, and why)."""
        for result in results:
            if result.status is Status.FAILED or (self.verbose and not self.quiet) \
                    or (skipped and result.status is Status.SKIPPED and not self.quiet):
                self._case_line(result)

    def migration(self, outcome: MigrationOutcome) -> None:
        status = outcome.status
        if self.quiet and status is not Status.FAILED:
            return
        reason = ""
        if status is Status.SKIPPED:
            reason = next((r.message for r in outcome.results if r.message), "")
        label = LABELS[status]
        if status is Status.FAILED and not any(r.counts_as_failure(self.fail_on) for r in outcome.results):
            label = "WARN"  # only warnings: the migration does not fail the run
        self.say(f"  {label}  {outcome.migration.id:<52} {outcome.seconds:7.3f}s  {reason}".rstrip())
        for result in outcome.results:
            if result.status is Status.FAILED:
                self._failure_details(result, indent="        ")
            elif self.verbose:
                self.say(f"        {LABELS[result.status].lower():<4} {result.check:<9} {result.message}".rstrip())

    def summary(self, report: RunReport) -> None:
        passed, skipped = report.count(Status.PASSED), report.count(Status.SKIPPED)
        failed = len(report.failures(self.fail_on))
        warnings = report.count(Status.FAILED) - failed
        self.say()
        if report.error:
            self.say(f"error: {report.error}")
        elif (coverage := replay_coverage(report)) is not None:
            self.say(coverage.sentence())
        parts = [f"{passed} passed", f"{failed} failed", f"{skipped} skipped"]
        if warnings:
            parts.append(f"{warnings} warnings")
        verdict = {0: "OK", 1: "FAILED", 2: "ERROR"}[report.exit_code(self.fail_on)]
        self.say(f"{verdict}: {', '.join(parts)} in {report.seconds:.2f}s")

    def _case_line(self, result: CheckResult) -> None:
        where = f"{result.file}:{result.line}" if result.file and result.line else (result.file or result.subject)
        label = LABELS[result.status] if result.counts_as_failure(self.fail_on) or result.status is not Status.FAILED else "WARN"
        text = result.message if result.message.startswith(f"{where}:") else f"{where}: {result.message}"
        self.say(f"  {label}  {result.check:<9} {text}".rstrip())

    def _failure_details(self, result: CheckResult, indent: str) -> None:
        label = "FAIL" if result.counts_as_failure(self.fail_on) else "WARN"
        self.say(f"{indent}{label.lower()} {result.check}: {result.message}")
        extra = result.details_beyond_message()
        if self.quiet or not extra:
            return
        lines = extra.splitlines()
        shown = lines if self.verbose else lines[:DETAIL_LINES]
        for line in shown:
            self.say(f"{indent}  {line}".rstrip())
        if len(shown) < len(lines):
            self.say(f"{indent}  ... ({len(lines) - len(shown)} more lines; --verbose shows all)")
