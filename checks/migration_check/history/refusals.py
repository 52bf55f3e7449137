"""What the runner refuses in the files alone, as history cases: its integrity file (atlas.sum)
checked against the directory, and directives it rejects. One case per file, at the first line
found; a checked integrity file that matches is a passing case, so the report shows it was read."""

from __future__ import annotations

from itertools import groupby

from migration_check.history.results import result
from migration_check.model import CheckResult, Project
from migration_check.settings import Settings


def check_refusals(project: Project, settings: Settings) -> list[CheckResult]:
    results: list[CheckResult] = []
    refused = {refusal.path for refusal in project.refusals}
    if project.integrity_file is not None and project.integrity_file not in refused:
        path = project.integrity_file
        results.append(result(settings, "history", path.name, project.relative(path), []))
    for path, found in groupby(project.refusals, key=lambda refusal: refusal.path):
        refusals = list(found)
        results.append(result(settings, "history", path.name, project.relative(path),
                              [refusal.message for refusal in refusals], line=refusals[0].line))
    return results
