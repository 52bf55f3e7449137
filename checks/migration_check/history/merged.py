"""A pull request is judged on what it changes: with `--base-ref`, the replay's and the lint's
findings on migrations the base branch already has, byte for byte, are warnings, not failures.

Those migrations ran in production long ago; a finding on them is worth reporting (the Markdown
report and the job summary keep it), but it is not this branch's to fix, and editing a merged
migration is itself a history failure (and breaks Flyway's and Prisma's checksums). The apply
check is not scoped: a merged migration that does not apply here stops the replay of the branch's
own. `--fail-on warning` fails on them again. A migration the branch edits is the branch's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from migration_check.errors import MigrationCheckError
from migration_check.history.linear_check import base_snapshots
from migration_check.history.snapshots import project_snapshot
from migration_check.model import CheckResult, Project, Severity
from migration_check.settings import Settings

# The families whose findings on a merged migration are the base's, not the branch's.
SCOPED = frozenset({"rollback", "roundtrip", "reapply", "data", "integrity", "locks", "lint", "verify"})


@dataclass(frozen=True)
class MergedScope:
    files: frozenset[str]  # repository paths of the base's migration files the branch left as they are
    ref: str = ""

    def apply(self, results: Iterable[CheckResult]) -> None:
        """Make the scoped families' failures on those files warnings, saying why."""
        for result in results:
            if result.failed and result.severity is Severity.ERROR and result.check in SCOPED \
                    and result.file in self.files:
                result.severity = Severity.WARNING
                result.message += f" (merged on {self.ref} already: not this branch's change)"


def merged_scope(project: Project, settings: Settings) -> MergedScope:
    """The files the base branch (at the merge base) already has, byte for byte; none without
    `--base-ref` or when the base cannot be read (the history check says why)."""
    ref = settings.base_ref
    if not ref:
        return MergedScope(frozenset())
    try:
        fork, _tip, _retired = base_snapshots(project, settings, ref)
    except MigrationCheckError:  # git.BaseRefNotFound among them
        return MergedScope(frozenset())
    branch = {file.path: file.content for entry in project_snapshot(project) for file in entry.files}
    return MergedScope(frozenset(file.path for entry in fork for file in entry.files
                                 if branch.get(file.path) == file.content), ref)
