"""What the replay says of a migration: its test cases, one per family, including the cases of a
migration the replay could not run (skipped with the reason, its scripts still parsed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from migration_check.discovery import layout_named
from migration_check.families import Family, replay_families
from migration_check.families.case_location import default_location
from migration_check.model import CheckResult, Migration, Project, RollbackPolicy, Script, Status
from migration_check.settings import Settings
from migration_check.sql import SyntaxProblem, statements_to_run
from migration_check.sql.dialects import SYNTAX_ERROR, other_dialect


@dataclass
class MigrationOutcome:
    """The replay test cases of one migration, for the console's one line per migration."""

    migration: Migration
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.results}
        if Status.FAILED in statuses:
            return Status.FAILED
        if statuses and statuses <= {Status.SKIPPED} or self.migration.skip_reason:
            return Status.SKIPPED
        return Status.PASSED



def skipped_outcome(project: Project, migration: Migration, reason: str,
                    families: list[Family] | None = None) -> MigrationOutcome:
    """Every case of a migration the replay did not run, skipped with `reason`."""
    outcome = MigrationOutcome(migration)
    for family in families if families is not None else replay_families(Settings()):
        if family.applies_to(migration):
            outcome.results.append(skipped_case(project, migration, family.name, reason))
    return outcome


def parsed_outcome(project: Project, migration: Migration, reason: str,
                   families: list[Family] | None = None) -> MigrationOutcome:
    """A migration the replay cannot run: skipped with `reason`, except that its scripts are still
    parsed, so a syntax error in it is reported at its file:line in the same run."""
    outcome = skipped_outcome(project, migration, reason, families)
    # Each file once: the rollback case parses the rollback file only (without one, a syntax
    # error in the up is the apply case's finding, not the rollback's too).
    scripts = {"apply": migration.up, "rollback": migration.down}
    for index, case in enumerate(outcome.results):
        script = scripts.get(case.check)
        problem = _syntax_problem(script) if script is not None else None
        if problem is not None:
            relative = project.relative(problem.path) or str(problem.path)
            outcome.results[index] = CheckResult(
                check=case.check, subject=migration.id, status=Status.FAILED, file=relative, line=problem.line,
                message=f"{relative}:{problem.line}:{problem.column}: syntax error: {problem.message}"
                        f"{' ' + hint if (hint := other_dialect(SYNTAX_ERROR, problem.message)) else ''} ({reason})")
    return outcome


def _syntax_problem(script: Script) -> SyntaxProblem | None:
    try:
        statements_to_run(script)
    except SyntaxProblem as problem:
        return problem
    return None


def skipped_case(project: Project, migration: Migration, check: str, reason: str) -> CheckResult:
    file, line = default_location(project, migration, check)
    return CheckResult(check=check, subject=migration.id, status=Status.SKIPPED, file=file, line=line, message=reason)


def why_no_rollback(migration: Migration, policy: RollbackPolicy, layout: str) -> str | None:
    """Why the replay runs no rollback for `migration` (its rollback cases are skipped with it);
    None where it runs one."""
    if migration.repeatable:
        return "repeatable migration: no rollback"
    if migration.baseline:
        return "baseline migration: a new database starts from it, nothing rolls it back"
    if policy is RollbackPolicy.ABSENT:
        if migration.down is not None:
            return "rollbacks: absent: the rollback is not run"
        return f"forward-only ({layout}: no migration here has a rollback): no rollback to test"
    if migration.down is not None:
        return None
    return migration.down_skip_reason or layout_named(layout).no_rollback_reason(migration) \
        or "no rollback script (see the pairing check)"
