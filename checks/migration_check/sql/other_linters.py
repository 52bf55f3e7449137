"""What other migration linters' comments acknowledge, so that a risk a team has already accepted
in the tool it uses is not failed again here.

    -- atlas:nolint DS103              Atlas: the next statement (no names: every check); at the top
                                       of the file, followed by an empty line: the whole file
    -- squawk-ignore ban-drop-column   squawk: the next statement; `squawk-ignore-file`: the file
    -- eugene: ignore E2, E4           eugene: the next statement (no codes: every hint)
    -- safety-assured:start            diesel-guard: every statement up to
    -- safety-assured:end              the end of the block

A name given is matched against the names each lint rule lists as its equivalents in that tool
(`Rule.elsewhere`); a comment that names none acknowledges every rule. Comments are read by
PostgreSQL's own scanner, as confirmations are, so a `--` inside a string is never taken for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from migration_check.model import Script
from migration_check.sql.comments import CommentedText, commented_texts
from migration_check.sql.statement import Statement

# Each tool's directive: the tool, what the words after it name, and how far it reaches.
_DIRECTIVES = (
    ("atlas", re.compile(r"^atlas:nolint\b(?P<names>.*)$", re.S)),
    ("squawk", re.compile(r"^squawk-ignore(?P<file>-file)?\b(?P<names>.*)$", re.S)),
    ("eugene", re.compile(r"^eugene:\s*ignore\b(?P<names>.*)$", re.S)),
)
_BLOCK_START, _BLOCK_END = "safety-assured:start", "safety-assured:end"
NEXT, BLOCK, FILE = "next statement", "block", "file"


@dataclass(frozen=True)
class Acknowledgment:
    tool: str  # "atlas", "squawk", "eugene", "diesel-guard"
    names: frozenset[str] | None  # lower-cased check names; None: every check
    line: int  # of the comment, in the file
    reach: str  # NEXT, BLOCK or FILE
    last_line: int = 0  # BLOCK: the line of its end; NEXT: the line the next statement starts on
    text: str = ""  # the comment as written
    path: Path | None = None  # the file it is in, where the script's statements come from several

    def acknowledges(self, elsewhere: tuple[str, ...]) -> bool:
        """Whether it names one of a rule's equivalents (`tool:name`), or names none."""
        if self.names is None:
            return True
        return any(tool == self.tool and name.lower() in self.names
                   for tool, _, name in (alias.partition(":") for alias in elsewhere))

    def describe(self) -> str:
        if self.reach == BLOCK:
            return f"diesel-guard's safety-assured block, lines {self.line}-{self.last_line}"
        return f"`{self.text}` at line {self.line}" + (" (the whole file)" if self.reach == FILE else "")


def acknowledgments(script: Script | None) -> tuple[Acknowledgment, ...]:
    if script is None:
        return ()
    return tuple(acknowledgment for source in commented_texts(script) for acknowledgment in _found(source))


def covering(found: tuple[Acknowledgment, ...], statement: Statement, elsewhere: tuple[str, ...]) -> Acknowledgment | None:
    """The acknowledgment of a rule (its `elsewhere` names) for the statement."""
    line = statement.line
    for acknowledgment in found:
        if not acknowledgment.acknowledges(elsewhere):
            continue
        if acknowledgment.path is not None and acknowledgment.path != statement.path:
            continue
        if acknowledgment.reach == FILE or (acknowledgment.reach == NEXT and acknowledgment.last_line == line):
            return acknowledgment
        if acknowledgment.reach == BLOCK and acknowledgment.line <= line <= acknowledgment.last_line:
            return acknowledgment
    return None


def _found(source: CommentedText) -> list[Acknowledgment]:
    found: list[Acknowledgment] = []
    block_start: int | None = None
    for comment in source.comments:
        line = source.offset + comment.line
        if comment.body.startswith(_BLOCK_START):
            block_start = line
            continue
        if comment.body.startswith(_BLOCK_END) and block_start is not None:
            found.append(Acknowledgment("diesel-guard", None, block_start, BLOCK, line, path=source.path))
            block_start = None
            continue
        for tool, pattern in _DIRECTIVES:
            match = pattern.match(comment.body)
            if match is None:
                continue
            names = frozenset(name.lower() for name in re.split(r"[\s,]+", match["names"]) if name) or None
            whole_file = bool(match.groupdict().get("file")) or (
                tool == "atlas" and comment.before_code and _blank_line_after(source.text, comment.end))
            next_line = source.offset + comment.next_code_line if comment.next_code_line else 0
            found.append(Acknowledgment(tool, names, line, FILE if whole_file else NEXT, next_line, comment.written,
                                        source.path))
    return found


def _blank_line_after(text: str, end: int) -> bool:
    """Atlas reads a directive as the file's when an empty line follows it."""
    rest = text[end:].split("\n", 2)
    return len(rest) > 1 and not rest[1].strip()
