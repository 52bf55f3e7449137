"""Who did it: the statement of the up or the rollback that created, dropped or changed an object
that the round trip finds out of place, so a finding reads "dropped by the up (line 12) and not
restored by rollback" and its annotation lands on that line."""

from __future__ import annotations

from dataclasses import dataclass

from migration_check.model import Script
from migration_check.schema.diff import CHANGED, EXTRA, MISSING, Difference
from migration_check.sql import Statement, SyntaxProblem, split_script
from migration_check.sql.objects import CHANGED as ALTERED
from migration_check.sql.objects import CREATED, DROPPED, find_statement

# For each kind of difference: which script to search, for which verb, in order of likelihood.
_SUSPECTS = {
    EXTRA: (("up", CREATED, "created by the up"), ("rollback", CREATED, "created by the rollback")),
    MISSING: (("up", DROPPED, "dropped by the up"), ("rollback", DROPPED, "dropped by the rollback")),
    CHANGED: (("rollback", ALTERED, "changed by the rollback"), ("up", ALTERED, "changed by the up"),
              ("rollback", CREATED, "created again by the rollback"), ("up", CREATED, "created by the up")),
}


@dataclass(frozen=True)
class Culprit:
    statement: Statement
    words: str  # "dropped by the up (line 12)"


class Attribution:
    """Finds culprits in one migration's up and rollback (parsed once, on the first question)."""

    def __init__(self, up: Script | None, down: Script | None) -> None:
        self._scripts = {"up": up, "rollback": down}
        self._statements: dict[str, list[Statement]] = {}

    def culprit(self, difference: Difference) -> Culprit | None:
        for role, verb, words in _SUSPECTS.get(difference.change, ()):
            statement = find_statement(self._parsed(role), difference.kind, difference.name, (verb,))
            if statement is not None:
                return Culprit(statement, f"{words} (line {statement.line})")
        return None

    def statement(self, difference: Difference) -> Statement | None:
        culprit = self.culprit(difference)
        return culprit.statement if culprit else None

    def words(self, difference: Difference) -> str | None:
        culprit = self.culprit(difference)
        return culprit.words if culprit else None

    def _parsed(self, role: str) -> list[Statement]:
        if role not in self._statements:
            script = self._scripts[role]
            try:
                self._statements[role] = split_script(script) if script is not None else []
            except SyntaxProblem:
                self._statements[role] = []
        return self._statements[role]
