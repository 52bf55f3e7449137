"""Confirmations a migration's author writes in the file, for a finding they accept knowingly:

    -- migration-check: allow data-loss "backfilled copy kept in users_phone_archive"

The comment names what it allows (a family such as `data-loss`, or a lint rule; several separated
by commas, `allow drop-column,data-loss "..."`) and why. The check
that would fail then passes, with the reason in its text; a confirmation nothing needed is
reported, so that stale ones do not pile up. Comments are found by PostgreSQL's own scanner, so a
`--` inside a string or a dollar-quoted body is never taken for one.
"""

from __future__ import annotations

import functools
import shlex
from dataclasses import dataclass
from pathlib import Path

from migration_check.model import Script
from migration_check.sql.comments import commented_texts

PREFIX = "migration-check:"
# What the replay's families let an author confirm (the rest of the names are lint rules).
DATA_LOSS = "data-loss"  # the data family
TABLE_REWRITE = "table-rewrite"  # the locks family
IRREVERSIBLE = "irreversible"  # the roundtrip family
FAMILY_CONFIRMATIONS = frozenset({DATA_LOSS, TABLE_REWRITE, IRREVERSIBLE})


@dataclass(frozen=True)
class Confirmation:
    allows: str  # "data-loss", a lint rule's name or code; several separated by commas
    reason: str
    line: int  # in the file
    problem: str | None = None  # why the comment is not a valid confirmation
    path: Path | None = None  # the file it is in, where the script's statements come from several

    def names(self) -> tuple[str, ...]:
        """What it allows: `allow drop-column,data-loss "..."` confirms both findings of one statement."""
        return tuple(name.strip() for name in self.allows.split(",") if name.strip())


def confirmations(script: Script | None) -> tuple[Confirmation, ...]:
    if script is None:
        return ()
    return tuple(Confirmation(allows, reason, source.offset + comment.line, problem, source.path)
                 for source in commented_texts(script) for comment in source.comments
                 if comment.body.startswith(PREFIX)
                 for allows, reason, problem in [_parsed(comment.body[len(PREFIX):])])


@functools.lru_cache(maxsize=1024)
def _parsed(directive: str) -> tuple[str, str, str | None]:
    """(what it allows, the reason, a problem or None) of `allow data-loss "reason"`."""
    try:
        words = shlex.split(directive)
    except ValueError as error:
        return "", "", f"cannot read the confirmation: {error}"
    if len(words) < 2 or words[0] != "allow":
        return "", "", 'a confirmation reads: -- migration-check: allow <what> "<reason>"'
    if len(words) < 3 or not words[2].strip():
        return words[1], "", f'the confirmation of {words[1]} gives no reason: add one in quotes'
    return words[1], " ".join(words[2:]), None


def confirmed(scripts: list[Script | None], allows: str) -> list[tuple[Script, Confirmation]]:
    """The confirmations of `allows` in the scripts, with the script each is in."""
    return [(script, confirmation) for script in scripts if script is not None
            for confirmation in confirmations(script) if allows in confirmation.names()]
