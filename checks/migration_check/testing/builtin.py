"""`--migration-check-builtin`: the tool's own checks as pytest items, one per migration and check,
so that a team that publishes pytest's JUnit gets them in the same report. The whole check runs
once, when the first of these items runs; each item then reports its cases.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from migration_check.discovery import discover
from migration_check.model import Migration, Project, RunReport, Status
from migration_check.settings import Settings

FAMILIES = ("apply", "roundtrip", "data", "integrity", "locks", "lint", "history")


class _CheckRun:
    """The one run of the whole check that every built-in item reads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._report: RunReport | None = None

    def report(self) -> RunReport:
        if self._report is None:
            from migration_check.cli import run_check
            from migration_check.reports.console import Console

            self._report = run_check(self.settings, Console(out=io.StringIO(), quiet=True))
        return self._report


class MigrationCheckFailure(Exception):
    pass


class MigrationCheckItem(pytest.Item):
    def __init__(self, *, run: _CheckRun, project: Project, migration: Migration, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run, self.project, self.migration, self.check = run, project, migration, check

    def runtest(self) -> None:
        report = self.run.report()
        if report.error:
            raise MigrationCheckFailure(f"migration-check could not run: {report.error}")
        files = {self.project.relative(path) for path in self.migration.files} | {self.project.relative(self.migration.main_file)}
        cases = [case for case in report.results if case.check == self.check
                 and (case.subject == self.migration.id or case.subject.startswith(f"{self.migration.id}:")
                      or (case.file in files and case.subject not in (m.id for m in self.project.migrations)))]
        failures = [case for case in cases if case.counts_as_failure(self.run.settings.fail_on)]
        if failures:
            raise MigrationCheckFailure("\n".join(case.message for case in failures))
        if cases and all(case.status is Status.SKIPPED for case in cases):
            pytest.skip(cases[0].message or "skipped")
        if not cases:
            pytest.skip(f"no {self.check} case for {self.migration.id}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, MigrationCheckFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.migration.main_file or "", 0, f"{self.check}: {self.migration.id}"


def add_builtin_items(session: pytest.Session, settings: Settings, items: list[pytest.Item]) -> None:
    project = discover(settings.path, settings.format, ignore=settings.ignore)
    run = _CheckRun(settings)
    for migration in project.migrations:
        for check in FAMILIES:
            items.append(MigrationCheckItem.from_parent(session, name=f"migration-check[{check}:{migration.id}]",
                                                        run=run, project=project, migration=migration, check=check))
