"""Who did it: the statement of the up or the rollback that created, dropped or changed an object
that the round trip finds out of place, so a finding reads "dropped by the up (line 12) and not
restored by rollback" and its annotation lands on that line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from migration_check.families.implicit_drops import implicit_drop
from migration_check.lint.nodes import has_star, output_names
from migration_check.model import Script
from migration_check.schema.diff import CHANGED, EXTRA, MISSING, Difference
from migration_check.schema.snapshot import Snapshot
from migration_check.sql import Statement, trees
from migration_check.sql.objects import CHANGED as ALTERED
from migration_check.sql.objects import CREATED, DROPPED, find_statement
from migration_check.sql.splitter import readable_parts

# For each kind of difference: which script to search, for which verb, in order of likelihood,
# and how to say it ({line} is the statement's line).
_DROPPED_BY_UP = "dropped by the up (line {line}) and not restored by rollback"
_SUSPECTS = {
    EXTRA: (("up", CREATED, "created by the up (line {line}) and left behind by rollback"),
            ("rollback", CREATED, "created by the rollback (line {line})")),
    MISSING: (("up", DROPPED, _DROPPED_BY_UP),
              ("rollback", DROPPED, "dropped by the rollback (line {line})")),
    CHANGED: (("rollback", ALTERED, "changed by the rollback (line {line})"),
              ("up", ALTERED, "changed by the up (line {line})"),
              ("rollback", CREATED, "created again by the rollback (line {line})"),
              # Changed, so it was there before the up and after the rollback: the up replaced it.
              ("up", CREATED, "replaced by the up (line {line}) and not restored by rollback")),
}
_PROVIDED = "existed before this migration (installed by {provider}); the rollback drops it (line {line})"
# ALTER TYPE ... ADD VALUE has no inverse statement: say how a rollback undoes it.
# A view made with `*` lists the columns of the moment it is made: made again by the rollback, it
# takes in the columns added since it was first made.
_STAR = (" (with `*`, which PostgreSQL expands when a view is made: it now also lists {columns}, added"
         " since it was first made; name the columns it had instead of `*`)")
_ENUM_LABELS = ("; PostgreSQL cannot drop an enum label: the rollback rebuilds the type (CREATE TYPE with the"
                " old labels, ALTER COLUMN ... TYPE ... USING, DROP TYPE, RENAME)")


@dataclass(frozen=True)
class Culprit:
    statement: Statement
    words: str  # "dropped by the up (line 12) and not restored by rollback"


class Attribution:
    """Finds culprits in one migration's up and rollback (parsed once, on the first question)."""

    def __init__(self, up: Script | None, down: Script | None,
                 setup_objects: Mapping[tuple[str, str], str] | None = None, before: Snapshot | None = None) -> None:
        self._scripts = {"up": up, "rollback": down}
        self._statements: dict[str, list[Statement]] = {}
        self._setup_objects = setup_objects or {}
        self._before = before  # what a missing object looked like, to find what it went with

    def culprit(self, difference: Difference) -> Culprit | None:
        for role, verb, words in _SUSPECTS.get(difference.change, ()):
            statement = find_statement(self._parsed(role), difference.kind, difference.name, (verb,))
            if statement is not None:
                provider = self._setup_objects.get((difference.kind, difference.name))
                if provider and difference.change == MISSING and role == "rollback":
                    words = _PROVIDED.replace("{provider}", provider)
                if difference.kind == "enum" and role == "up" and any(f[0] == "labels" for f in difference.fields):
                    words += _ENUM_LABELS
                if role == "rollback" and verb == CREATED:
                    words += _expanded_star(statement, difference)
                    if difference.change == EXTRA and (
                            drop := find_statement(self._parsed("up"), difference.kind, difference.name, (DROPPED,))):
                        # Not there before the up: the up's DROP ... IF EXISTS let it pass.
                        words += (f" (the up's drop of it, line {self._line(drop, 'up')}, found none: it was not there"
                                  " before the up)")
                return Culprit(statement, words.format(line=self._line(statement, role)))
        return self._dropped_along(difference)

    def _dropped_along(self, difference: Difference) -> Culprit | None:
        """The statement that dropped a missing object without naming it (a DROP COLUMN its index
        went with, a CASCADE its view or trigger went with)."""
        if difference.change != MISSING or self._before is None:
            return None
        before = self._before.objects().get((difference.kind, difference.name))
        definition = before.fields.get("definition") if before is not None else None
        found = implicit_drop(self._parsed("up"), difference.kind, difference.name, definition)
        if found is not None:
            return Culprit(found.statement, _DROPPED_BY_UP.format(line=self._line(found.statement, "up")) + found.words)
        # Or the rollback's (crates.io: its rollback drops the function the up replaced, CASCADE,
        # and with it the trigger that called it, which no statement names).
        found = implicit_drop(self._parsed("rollback"), difference.kind, difference.name, definition, "the rollback")
        if found is None:
            return None
        return Culprit(found.statement, f"dropped by the rollback (line {self._line(found.statement, 'rollback')})"
                       + found.words)

    def statement(self, difference: Difference) -> Statement | None:
        culprit = self.culprit(difference)
        return culprit.statement if culprit else None

    def words(self, difference: Difference) -> str | None:
        culprit = self.culprit(difference)
        return culprit.words if culprit else None

    def _line(self, statement: Statement, role: str) -> str:
        """The statement's line, and its file where that is not the script's own (an included
        file, a split pop migration's part: "line 4 of 20220210000001000003_nid.postgres.up.sql")."""
        script = self._scripts[role]
        return str(statement.line) if script is None or (statement.path == script.path and not script.parts) else \
            f"{statement.line} of {statement.path.name}"

    def _parsed(self, role: str) -> list[Statement]:
        if role not in self._statements:
            self._statements[role] = readable_parts(self._scripts[role])
        return self._statements[role]


def _expanded_star(statement: Statement, difference: Difference) -> str:
    definitions = [(before, after) for field, before, after in difference.fields if field == "definition"]
    if not definitions or not has_star(trees.statement(statement.sql)):
        return ""
    before, after = (output_names(trees.statement(text)) for text in definitions[0])
    added = [name for name in after if name not in before]
    return _STAR.format(columns=", ".join(added)) if added else ""
