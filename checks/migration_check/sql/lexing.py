"""Find where plain SQL stops, with the C lexer: psql meta-command lines and `COPY ... FROM stdin`
data. Everything else is left for the parser to split."""

from __future__ import annotations

from dataclasses import dataclass

import pglast
from pglast import parser

from migration_check.sql.source import Source, error_offset

_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_BACKSLASH = "ASCII_92"
_FIRST_WINDOW = 1 << 16


@dataclass(frozen=True)
class Interrupt:
    """Where plain SQL stops: a meta-command line, or the end of a `COPY ... FROM stdin;`."""

    kind: str  # "meta" or "copy"
    start: int  # meta: the backslash; copy: the end of the COPY statement, after its `;`
    end: int  # where plain SQL resumes (after the meta line, or after the `\.` line)
    at_statement_start: bool = True
    data: str | None = None  # copy: the rows


def next_interrupt(source: Source, position: int) -> Interrupt | None:
    """The first meta-command or COPY ... FROM stdin at or after `position`, or None.

    `position` is always where a statement may start. The lexer (in C) runs over a window of text
    and delimits statements at `;`. It leaves out statements without a keyword (`\\echo hi`), so
    the gaps between its pieces are searched too. A piece is final once its `;` is inside the
    window: the lexer's state after a `;` does not depend on what follows. Where the lexer fails (a
    cut in a string, or COPY rows with a lone quote) the text before the failure still lexes the
    same, so it is searched first; otherwise the window grows."""
    text = source.text
    window = _FIRST_WINDOW
    while position < len(text):
        end = min(len(text), position + window)
        complete = end == len(text)  # the window reaches the end of the text
        chunk = text[position:end]
        try:
            pieces = parser.split(chunk, with_parser=False, only_slices=True)
            failed = False
        except parser.ParseError as exc:
            chunk = chunk[: error_offset(exc)]
            pieces = parser.split(chunk, with_parser=False, only_slices=True)
            failed = True
        final = [p for p in pieces if (complete and not failed) or _terminated(chunk, p.stop)]
        cursor = 0
        for piece in final:
            found = _interrupt_in(source, position, cursor, piece.start, gap=True)
            found = found or _interrupt_in(source, position, piece.start, piece.stop, gap=False)
            if found is not None:
                return found
            cursor = piece.stop
        if complete or failed:
            found = _interrupt_in(source, position, cursor, len(chunk), gap=True)
            if found is not None:
                return found
        if complete:
            return None  # after a lexical error the parser reports it with its location
        if final and not failed:
            position += final[-1].stop
            window = _FIRST_WINDOW
        else:
            window *= 4
    return None


def _terminated(chunk: str, stop: int) -> bool:
    """Whether the piece that ends at `stop` is followed by its `;` within `chunk`."""
    rest = chunk[stop : stop + 256].lstrip()
    return rest.startswith(";")


def _interrupt_in(source: Source, base: int, start: int, stop: int, gap: bool) -> Interrupt | None:
    """A meta-command or a COPY FROM stdin in text[base+start:base+stop], or None.

    A piece is one statement as the lexer delimited it; a gap holds `;`, comments and statements
    without a keyword. A backslash starts a meta-command at a statement start when it is the
    piece's first token, or in a gap when nothing but `;` precedes it since the last `;`."""
    text = source.text
    piece = text[base + start : base + stop]
    has_backslash = "\\" in piece
    maybe_copy = not gap and "copy" in piece[:4096].lower()
    if not (has_backslash or maybe_copy):
        return None  # the cheap test first: most pieces are neither
    try:
        tokens = [t for t in parser.scan(piece) if t.name not in _COMMENTS]
    except parser.ParseError:
        return None
    if not tokens:
        return None
    statement_start = not gap or start == 0
    for token in tokens:
        if token.name == _BACKSLASH:
            at = base + start + token.start
            return Interrupt("meta", at, line_end(text, at), at_statement_start=statement_start)
        statement_start = token.name == "ASCII_59"
    names = [t.name for t in tokens]
    if names[0] == "COPY" and any(a == "FROM" and b == "STDIN" for a, b in zip(names, names[1:], strict=False)):
        return _copy_block(source, base + stop)
    return None


def _copy_block(source: Source, statement_end: int) -> Interrupt:
    """The data after a `COPY ... FROM stdin;` that ends at `statement_end` (before its `;`).

    Like psql, the rows start on the next line and end at a line holding only `\\.` (or at the end
    of the file)."""
    text = source.text
    semicolon = statement_end
    while semicolon < len(text) and text[semicolon] in " \t\r\n":
        semicolon += 1
    if semicolon >= len(text) or text[semicolon] != ";":
        raise source.problem(statement_end, "COPY ... FROM stdin must end with ; before its data")
    end_of_line = line_end(text, semicolon)
    if text[semicolon + 1 : end_of_line].strip():
        raise source.problem(semicolon + 1, "text after COPY ... FROM stdin; on the same line is not supported")
    data_start = end_of_line
    cursor = data_start
    while cursor < len(text):
        if text.startswith("\\.", cursor) and text[cursor + 2 : cursor + 3] in ("", "\n", "\r"):
            return Interrupt("copy", semicolon + 1, line_end(text, cursor), data=text[data_start:cursor])
        found = text.find("\n\\.", cursor)
        if found == -1:
            break
        cursor = found + 1
    # no terminator: like psql, the data runs to the end of the file
    return Interrupt("copy", semicolon + 1, len(text), data=text[data_start:])


def line_end(text: str, at: int) -> int:
    """The offset just past the end of the line holding `at`."""
    newline = text.find("\n", at)
    return len(text) if newline == -1 else newline + 1


NO_BREAK_SPACE = "\u00a0"


def spaced_between_statements(text: str) -> str:
    """The text with each no-break space between statements made a space, as Flyway's parser reads
    one there (it swallows U+00A0 like a space, and sends each statement from its first token to its
    delimiter); inside a statement it stays, as Flyway sends it (dhis2's V2_36_20 ends with
    `CASCADE;` and a no-break space, which PostgreSQL alone reads as a statement)."""
    if NO_BREAK_SPACE not in text:
        return text
    spaced = text.replace(NO_BREAK_SPACE, " ")
    try:
        pieces = list(pglast.split(spaced, with_parser=False, only_slices=True))
    except parser.ParseError:
        return text  # the replay reports what the lexer stops at
    inside = [False] * len(text)
    for piece in pieces:
        inside[piece.start:piece.stop] = [True] * (piece.stop - piece.start)
    return "".join(" " if char == NO_BREAK_SPACE and not inside[at] else char for at, char in enumerate(text))


def closing_of(text: str) -> str:
    """What closes the last statement of `text` when another piece of SQL follows it: `;` where it
    leaves one open, on a line of its own after a `--` comment; "" where it ends closed (or is
    nothing but comments, or does not scan: the replay reports that at its place)."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return ""
    code = [token for token in tokens if token.name not in _COMMENTS]
    if not code or code[-1].name == "ASCII_59":
        return ""
    return "\n;" if tokens[-1].name == "SQL_COMMENT" else ";"


def joined_scripts(texts: list[str]) -> str:
    """Several scripts a runner sends one after the other, as one: each ends where its own
    statements do (a `;` put after a script whose last line is a `--` comment would be lost in
    it)."""
    scripts = [text.strip() for text in texts if text.strip()]
    return "\n".join(script if script.endswith(";") else script + "\n;" for script in scripts)
