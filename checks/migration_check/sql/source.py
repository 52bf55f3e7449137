"""Where things are in a SQL file: offsets to 1-based (line, column), through substitutions, and
the located error every part of the SQL layer raises."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from pglast import parser


@dataclass
class SyntaxProblem(Exception):
    """The script does not parse. Carries the location for a file:line message."""

    path: Path
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


def advance(line: int, column: int, text: str, offset: int) -> tuple[int, int]:
    """The (line, column) reached by moving `offset` characters into `text`, which starts at
    (`line`, `column`) of its file."""
    before = text[:offset]
    newlines = before.count("\n")
    if not newlines:
        return line, column + offset
    return line + newlines, offset - before.rfind("\n")



class Source:
    """The text of one file (or a section of one) with a line index, so that positions of many
    statements are found by bisection instead of recounting newlines from the start each time."""

    def __init__(self, path: Path, text: str, first_line: int = 1) -> None:
        self.path = path
        self.text = text
        self.first_line = first_line
        self._line_starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts = [0]
            for line in self.text.split("\n")[:-1]:
                starts.append(starts[-1] + len(line) + 1)
            self._line_starts = starts
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return self.first_line + index, offset - self._line_starts[index] + 1

    def problem(self, offset: int, message: str) -> SyntaxProblem:
        line, column = self.position(offset)
        return SyntaxProblem(self.path, line, column, message)


class OffsetMap:
    """Maps offsets in a rewritten text (variables substituted) back to the original text."""

    def __init__(self) -> None:
        self._new: list[int] = [0]
        self._old: list[int] = [0]
        self._length: list[int | None] = [None]  # None: unchanged text from this anchor on

    def replaced(self, new_at: int, old_at: int, new_length: int, old_end: int) -> None:
        self._new.append(new_at)
        self._old.append(old_at)
        self._length.append(new_length)
        self._new.append(new_at + new_length)
        self._old.append(old_end)
        self._length.append(None)

    def original(self, offset: int) -> int:
        index = bisect.bisect_right(self._new, offset) - 1
        if self._length[index] is not None:  # inside a substituted value: point at the `:name`
            return self._old[index]
        return self._old[index] + offset - self._new[index]



def error_offset(exc: parser.ParseError, text: str = "") -> int:
    """Where in `text` the parser's error is. "at end of input" comes without a location: it is
    at the end of the text (its last character), not at its start."""
    location = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(location, int) and location >= 0:
        return location
    if "end of input" in str(exc.args[0] if exc.args else "") and text.strip():
        return len(text.rstrip()) - 1
    return 0
