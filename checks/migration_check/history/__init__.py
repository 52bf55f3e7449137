"""The static checks: naming, pairing and history. They read files (and git), never a database.

`static_checks` is what the CLI calls; each family lives in its own module:

- `naming.py`: file names follow the convention of the format;
- `pairing.py`: forward migrations have rollbacks, rollbacks have forward migrations;
- `refusals.py`: what the runner refuses in the files alone (an out-of-date atlas.sum);
- `linear.py` (pure) and `linear_check.py`: unique, ordered versions and, with `--base-ref`, a
  branch that only appends to the base's history; `git.py` reads the base branch (through
  `migration_check.git_command`, the one module that starts git).
"""

from __future__ import annotations

from migration_check.history.linear_check import check_history
from migration_check.history.naming import check_naming
from migration_check.history.pairing import check_pairing
from migration_check.history.refusals import check_refusals
from migration_check.model import CheckResult, Project
from migration_check.settings import Settings


def static_checks(project: Project, settings: Settings) -> list[CheckResult]:
    """Every naming, pairing and history test case, in that order (deterministic).

    Raises an InfrastructureError or UsageError (exit 2) when `--base-ref` cannot be used, e.g. a
    shallow clone that lacks the base branch.
    """
    return (check_naming(project, settings) + check_pairing(project, settings) + check_history(project, settings)
            + check_refusals(project, settings))


__all__ = ["static_checks"]
