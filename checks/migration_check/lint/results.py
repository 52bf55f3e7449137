"""Findings as test cases of the `lint` family: one case per finding (named by its rule, at the
statement's file:line), a passing case for a migration with none, and the confirmations.

A confirmation applies to the statement it sits in or, on a line of its own, to the next
statement:

    -- migration-check: allow drop-table "replaced by orders_v2 in 20250901"
    DROP TABLE orders;

The finding then passes with the reason. A confirmation without a reason is a finding of its own;
one that names no rule, or that nothing needed, is reported as a warning.
"""

from __future__ import annotations

from migration_check.discovery import LAYOUTS
from migration_check.lint import registered, rule_named
from migration_check.lint.base import Finding, Observed, Rule
from migration_check.lint.engine import DEFAULT_SERVER_VERSION, lint_script
from migration_check.model import CheckResult, Migration, Project, Script, Severity, Status
from migration_check.settings import Settings
from migration_check.sql import Statement, SyntaxProblem
from migration_check.sql.confirmations import FAMILY_CONFIRMATIONS, Confirmation, confirmations
from migration_check.sql.other_linters import Acknowledgment, acknowledgments, covering


def enabled_rules(settings: Settings) -> list[Rule]:
    """The rules that are on, each with its configured severity."""
    rules = []
    for rule_class in registered():
        configured = settings.lint.get(rule_class.name, settings.lint.get(rule_class.code, rule_class.severity))
        if configured is None:
            continue
        rules.append(rule_class(configured))
    return rules


def lint_results(project: Project, subject: str, script: Script, settings: Settings,
                 server_version: int = DEFAULT_SERVER_VERSION, observed: Observed | None = None) -> list[CheckResult]:
    """The lint cases of one script (a migration's up); `subject` names the migration. `observed`:
    for each table, whether the replay saw the up rewrite it (the observation beats the guess)."""
    try:
        linted = lint_script(script, enabled_rules(settings), server_version, leave_transaction=_leave_transaction(project))
    except SyntaxProblem:
        return []  # the apply check (or `lint`'s own parse) reports the syntax error
    found = confirmations(script)
    elsewhere = acknowledgments(script)
    targets = {confirmation: _target(linted.statements, confirmation) for confirmation in found}
    used: set[Confirmation] = set()
    results = []
    for finding in linted.findings:
        confirmation = next((c for c in found if {finding.rule.name, finding.rule.code} & set(c.names())
                             and c.problem is None and targets[c] is finding.statement), None)
        if confirmation is not None:
            used.add(confirmation)
        acknowledged = None if confirmation else covering(elsewhere, finding.statement, finding.rule.elsewhere)
        case = _case(project, subject, finding, confirmation, acknowledged)
        if confirmation is None and finding.rule.predicts_rewrite and observed and observed.get(finding.table or "") is False:
            case.status = Status.PASSED
            case.message = (f"observed on PostgreSQL {server_version // 10000}: {finding.table} was not rewritten"
                            f" ({finding.rule.name} guessed it might be)")
        elif confirmation is None and finding.rule.void_if_absent and observed is not None and observed.complete \
                and finding.table and (absent := _absent(finding, observed)):
            case.status = Status.PASSED
            case.message = absent
        results.append(case)
    relative = project.relative(script.path) or str(script.path)
    for confirmation in found:
        problem = _confirmation_problem(confirmation, used)
        if problem is not None:
            severity, text = problem
            results.append(CheckResult("lint", f"{subject}: confirmation", Status.FAILED, file=relative,
                                       line=confirmation.line, message=f"{relative}:{confirmation.line}: {text}",
                                       severity=severity))
    if not results:
        results.append(CheckResult("lint", subject, Status.PASSED, file=relative, line=script.first_line))
    return results


def _absent(finding: Finding, observed: Observed) -> str | None:
    """What the replay saw where the finding's table (or schema, by the rule's `absent_kind`) held
    no rows before the migration; None where it did."""
    if finding.rule.absent_kind == "schema":
        if finding.table in observed.schemas():
            return None
        return (f"observed: no table was in schema {finding.table} before this migration (it was empty or did not"
                " exist), so the statement lost no rows")
    if finding.table in observed:
        return None
    return f"observed: no table {finding.table} existed before this migration, so the statement dropped nothing"


def _leave_transaction(project: Project) -> str:
    """How the project's runner runs a migration outside its transaction, as the findings say it."""
    layout = LAYOUTS.get(project.format)
    return f"{layout.name}: {layout.transaction_opt_out}" if layout is not None and layout.transaction_opt_out else ""


def _confirmation_problem(confirmation: Confirmation, used: set[Confirmation]) -> tuple[Severity, str] | None:
    rules = [name for name in confirmation.names() if name not in FAMILY_CONFIRMATIONS]
    if not rules and confirmation.names():
        return None  # the data and locks families judge their own
    if confirmation.problem:
        return Severity.ERROR, confirmation.problem
    unknown = [name for name in rules if rule_named(name) is None]
    if unknown:
        return Severity.WARNING, f"unknown rule {unknown[0]!r} in a confirmation (the rules: docs/rules.md)"
    if confirmation not in used:
        return Severity.WARNING, (f"unused confirmation: no {confirmation.allows} finding in the statement it"
                                  " stands before; remove it")
    return None


def _target(statements: list[Statement], confirmation: Confirmation) -> Statement | None:
    """The statement a confirmation applies to: the one whose lines hold it, or the next one (in
    its own file, where the script is made of several)."""
    if confirmation.path is not None:
        statements = [s for s in statements if s.path == confirmation.path]
    for statement in statements:
        last = statement.line + statement.sql.rstrip().count("\n")
        if statement.line <= confirmation.line <= last or statement.line > confirmation.line:
            return statement
    return None


def _case(project: Project, subject: str, finding: Finding, confirmation: Confirmation | None,
          acknowledged: Acknowledgment | None = None) -> CheckResult:
    rule, statement = finding.rule, finding.statement
    relative = project.relative(statement.path) or str(statement.path)
    where = f"{relative}:{statement.line}:{statement.column}"
    name = f"{subject}: {rule.code} {rule.name}"
    if confirmation is not None:
        return CheckResult("lint", name, Status.PASSED, file=relative, line=statement.line,
                           message=f"confirmed: {confirmation.reason} ({rule.name}: {finding.message})")
    if acknowledged is not None:
        # The team accepted it in the linter it already runs: failing it again here is noise.
        return CheckResult("lint", name, Status.PASSED, file=relative, line=statement.line,
                           message=f"acknowledged by {acknowledged.describe()} ({rule.name}: {finding.message})")
    return CheckResult("lint", name, Status.FAILED, file=relative, line=statement.line,
                       message=f"{where}: {rule.code} {rule.name}: {finding.message} ({rule.anchor()})",
                       details=statement.sql.strip(), severity=finding.severity, column=statement.column)


def project_lint(project: Project, settings: Settings, server_version: int = DEFAULT_SERVER_VERSION,
                 observed: dict[str, Observed] | None = None,
                 done: dict[str, tuple[Observed | None, list[CheckResult]]] | None = None) -> list[CheckResult]:
    """The lint cases of every migration's up, in order (rollbacks exist to drop what the up made).
    `done`: cases already worked out (see `LintAhead`), used where they saw the same observations."""
    cases = []
    for migration in project.migrations:
        if migration.up is None or not migration.linted:
            continue
        seen = (observed or {}).get(migration.id)
        earlier = (done or {}).get(migration.id)
        if earlier is not None and earlier[0] == seen:
            cases += earlier[1]
        else:
            cases += lint_results(project, migration.id, migration.up, settings, server_version, seen)
    return cases


class LintAhead:
    """The lint cases of each migration, worked out while the replay waits for the server (its
    parse trees are at hand then, and the lint's Python work overlaps the server's); `project_lint`
    then only gathers them."""

    def __init__(self, project: Project, settings: Settings, server_version: int) -> None:
        self.project, self.settings, self.server_version = project, settings, server_version
        self.done: dict[str, tuple[Observed | None, list[CheckResult]]] = {}

    def migration(self, migration: Migration, observed: Observed | None) -> None:
        if migration.up is not None:
            self.done[migration.id] = (observed, lint_results(self.project, migration.id, migration.up, self.settings,
                                                              self.server_version, observed))
