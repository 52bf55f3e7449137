"""`migration-check lint [PATH ...]`: the static rules alone, no database. A directory is a project
(its layout detected as in `check`, so the rules know each file's transaction mode); a file is
linted as the migration it is in its project, or on its own."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from migration_check.discovery import discover
from migration_check.discovery.base import read_sql
from migration_check.discovery.liquibase_preconditions import known_without_a_database
from migration_check.errors import MigrationCheckError, UsageError
from migration_check.lint.engine import DEFAULT_SERVER_VERSION
from migration_check.lint.results import lint_results, project_lint
from migration_check.model import CheckResult, Migration, Project, RollbackPolicy, RunReport, Script, Status
from migration_check.settings import Settings
from migration_check.sql import SyntaxProblem, statements_to_run


def run_lint(paths: list[Path], settings: Settings) -> RunReport:
    report = RunReport(project=None, results=[])
    version = settings.pg_version or DEFAULT_SERVER_VERSION
    # Files of one folder (pre-commit passes every changed file) share one discovery of it.
    projects: dict[Path, Project | None] = {}
    try:
        for path in paths or [Path(".")]:
            if path.is_dir():
                project = discover(path, settings.format, ignore=settings.ignore, values=settings.vars)
                report.project = report.project or project
                # A migration not replayed (a pop template whose values are not given), or that the
                # runner never runs here (a Liquibase precondition for another database), is not linted.
                project = replace(project, migrations=[_not_run_here(m) for m in project.migrations])
                report.results += [*_syntax_errors(project, [m.up for m in project.migrations if m.up and m.linted]),
                                   *(CheckResult("lint", m.id, Status.SKIPPED, message=m.skip_reason or "")
                                     for m in project.migrations if m.up and not m.linted),
                                   *project_lint(project, settings, version)]
            elif path.is_file():
                report.results += _lint_file(path, settings, version, projects)
            else:
                raise UsageError(f"{path}: no such file or directory")
    except MigrationCheckError as error:
        report.error = error.one_line()
    return report


def _not_run_here(migration: Migration) -> Migration:
    """The migration skipped where its runner's precondition is known not to hold without a database."""
    if migration.skip_reason or migration.precondition is None or known_without_a_database(migration.precondition) is not False:
        return migration
    return replace(migration, skip_reason=migration.precondition_reason)


def _lint_file(path: Path, settings: Settings, version: int, projects: dict[Path, Project | None]) -> list[CheckResult]:
    resolved = path.resolve()
    if resolved.parent not in projects:
        try:
            projects[resolved.parent] = discover(path.parent, settings.format, ignore=settings.ignore,
                                                 values=settings.vars)
        except MigrationCheckError:
            projects[resolved.parent] = None
    project = projects[resolved.parent]
    migration = next((m for m in project.migrations if m.up is not None and m.up.path.resolve() == resolved), None) \
        if project is not None else None
    if project is None or migration is None or migration.up is None:
        project = Project("file", "a file on its own", resolved.parent, Path.cwd().resolve(), [], RollbackPolicy.OPTIONAL)
        script = Script(resolved, read_sql(resolved), root=project.repo_root)
        subject = project.relative(resolved) or str(path)
    else:
        script, subject = migration.up, migration.id
    return [*_syntax_errors(project, [script]), *lint_results(project, subject, script, settings, version)]


def _syntax_errors(project: Project, scripts: list[Script]) -> list[CheckResult]:
    """A file that does not parse is a finding of its own, at its line and column."""
    found = []
    for script in scripts:
        try:
            statements_to_run(script)
        except SyntaxProblem as problem:
            relative = project.relative(problem.path) or str(problem.path)
            found.append(CheckResult("lint", f"{relative}: syntax", Status.FAILED, file=relative, line=problem.line,
                                     message=f"{relative}:{problem.line}:{problem.column}: syntax error: {problem.message}"))
    return found


def as_json(report: RunReport) -> str:
    return json.dumps({
        "error": report.error,
        "findings": [{"rule": r.subject.rpartition(": ")[2], "file": r.file, "line": r.line, "severity": r.severity.value,
                      "status": r.status.value, "message": r.message}
                     for r in report.results if r.status is Status.FAILED or (r.message and r.status is Status.PASSED)],
        "not_linted": [{"migration": r.subject, "reason": r.message} for r in report.results if r.status is Status.SKIPPED],
    }, indent=2)
