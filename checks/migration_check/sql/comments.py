"""The comments of a script, as PostgreSQL's own scanner finds them (a `--` inside a string or a
dollar-quoted body is none): what confirmations (`-- migration-check: allow ...`) and other
linters' directives (`-- atlas:nolint`) are read from, in the script's own text and in every file
its statements come from (`\\i`, a split pop migration's parts), each with its file.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pglast import parser

from migration_check.errors import read_utf8
from migration_check.model import Script
from migration_check.sql.splitter import included_files

_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


@dataclass(frozen=True)
class Comment:
    line: int  # 1-based, in the text it was read from
    body: str  # without `--` or `/* */`, stripped
    written: str  # the comment as written, stripped
    end: int  # the offset just after it
    before_code: bool  # no statement's token comes before it in the text
    next_code_line: int  # the line of the next statement's first token; 0 when none follows


@dataclass(frozen=True)
class CommentedText:
    comments: tuple[Comment, ...]
    text: str
    offset: int  # add to a comment's line for the line in its file
    path: Path | None  # its file, where the script's statements come from several; None: the script's


def commented_texts(script: Script) -> Iterator[CommentedText]:
    """The script's own text, then the text of each file its statements come from besides it."""
    included = included_files(script)
    yield CommentedText(comments(script.sql), script.sql, script.first_line - 1, script.path if included else None)
    for path in included:
        text = read_utf8(path)
        yield CommentedText(comments(text), text, 0, path)


@functools.lru_cache(maxsize=1024)
def comments(text: str) -> tuple[Comment, ...]:
    """Every comment of `text`, in order; none where the scanner cannot read it."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return ()
    # Each token's line, counted once along the text (the scanner's offsets count characters).
    lines, line, counted = [], 1, 0
    for token in tokens:
        line += text.count("\n", counted, token.start)
        counted = token.start
        lines.append(line)
    # The line of the next code token after each token, from the end back.
    following, next_line = [0] * len(tokens), 0
    for index in range(len(tokens) - 1, -1, -1):
        following[index] = next_line
        if tokens[index].name not in _COMMENTS:
            next_line = lines[index]
    found, code_seen = [], False
    for index, token in enumerate(tokens):
        if token.name not in _COMMENTS:
            code_seen = True
            continue
        written = text[token.start:token.end + 1]
        body = (written[2:-2] if token.name == "C_COMMENT" else written[2:]).strip()
        found.append(Comment(lines[index], body, written.strip(), token.end + 1, not code_seen, following[index]))
    return tuple(found)
