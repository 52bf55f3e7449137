"""The part of Go's text/template that migration files rendered by a project's own code use, with
the values given (`--var NAME=VALUE`, `vars:` in the config) as the template's data:
mattermost/focalboard renders its morph migrations with `{{.prefix}}`, `{{if .postgres}} ... {{else}}
... {{end}}` and `{{if and (not .plugin) .singleUser}}` over a map of its settings.

Printed: `{{.name}}`, which needs a value. Conditions: `if`, `else if`, `else`, `end` over `.name`,
`not`, `and`, `or` and parentheses; a name not given is false, as a missing key of Go's map is, and
`false`, `0` and an empty value are false (the project's code passes booleans). Comments
(`{{/* ... */}}`) print nothing; `{{-` and `-}}` trim the white space beside them. Any other action
(a function of the project's: focalboard's `{{ addColumnIfNeeded ... }}`) is not rendered: the
file is not replayed, and its case says which.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_WORD = re.compile(r"\(|\)|[^\s()]+")
_FALSE = frozenset({"", "false", "0"})


@dataclass(frozen=True)
class Rendered:
    text: str | None  # the file as the project's code renders it; None where it cannot be
    why: str | None = None  # why not: a value not given, or an action this does not render
    names: tuple[str, ...] = ()  # the names the template reads
    line: int | None = None  # the line of the action that is not rendered
    action: str = ""  # that action, as written


class _Unsupported(Exception):
    pass


def render(text: str, values: Mapping[str, str]) -> Rendered:
    """The template rendered with `values`, or why it cannot be."""
    pieces: list[str] = []
    # Each open `if`: (its branch now is taken, a branch of it was taken); a branch inside one not
    # taken is not evaluated, as Go does not run what it does not take.
    stack: list[tuple[bool, bool]] = []
    names: list[str] = []
    missing: str | None = None
    position, trim_next = 0, False
    match = None
    try:
        for match in _ACTION.finditer(text):
            literal = text[position:match.start()]
            if trim_next:
                literal = literal.lstrip()
            if match.group(1):
                literal = literal.rstrip()
            live = all(taken for taken, _ in stack)
            if live:
                pieces.append(literal)
            position, trim_next = match.end(), bool(match.group(3))
            action = match.group(2).strip()
            words = _WORD.findall(action)
            if not words or (action.startswith("/*") and action.endswith("*/")):
                continue
            head = words[0]
            if head == "if":
                condition = _condition(words[1:], values, names, action) if live else False
                stack.append((condition, condition or not live))
            elif head == "else" and stack:
                _, done = stack.pop()
                outer = all(taken for taken, _ in stack)
                condition = not done and outer and (
                    _condition(words[2:], values, names, action) if words[1:2] == ["if"] else True)
                stack.append((condition, done or condition))
            elif head == "end" and stack:
                stack.pop()
            elif not live:
                continue
            elif len(words) == 1 and _is_name(head):
                names.append(head[1:])
                if head[1:] not in values:
                    missing = missing or head[1:]
                pieces.append(values.get(head[1:], ""))
            else:
                raise _Unsupported(" ".join(action.split()))
    except _Unsupported as unsupported:
        line = text.count("\n", 0, match.start()) + 1 if match is not None else None
        return Rendered(None, "a function of the project's own", tuple(dict.fromkeys(names)), line,
                        f"{{{{{unsupported}}}}}")
    if stack:
        return Rendered(None, "an `if` without its `end`", tuple(dict.fromkeys(names)))
    rest = text[position:]
    pieces.append(rest.lstrip() if trim_next else rest)
    found = tuple(dict.fromkeys(names))
    if missing is not None:
        return Rendered(None, f"no value for .{missing}", found)
    return Rendered("".join(pieces), None, found)


def _condition(words: list[str], values: Mapping[str, str], names: list[str], action: str) -> bool:
    try:
        value, rest = _call(words, values, names)
    except _Unsupported:
        raise _Unsupported(" ".join(action.split())) from None
    if rest:
        raise _Unsupported(" ".join(action.split()))
    return value


def _expression(words: list[str], values: Mapping[str, str], names: list[str]) -> tuple[bool, list[str]]:
    """The truth of the expression at the start of `words`, and the words after it."""
    if not words:
        raise _Unsupported("if")
    head, rest = words[0], words[1:]
    if head == "(":
        value, rest = _call(rest, values, names)
        if not rest or rest[0] != ")":
            raise _Unsupported("(")
        return value, rest[1:]
    if _is_name(head):
        names.append(head[1:])
        return values.get(head[1:], "").strip().lower() not in _FALSE, rest
    raise _Unsupported(head)


def _call(words: list[str], values: Mapping[str, str], names: list[str]) -> tuple[bool, list[str]]:
    """`not x`, `and x y ...`, `or x y ...` or a plain operand, up to a `)` or the end."""
    if words and words[0] in ("not", "and", "or"):
        function, rest = words[0], words[1:]
        operands = []
        while rest and rest[0] != ")":
            value, rest = _expression(rest, values, names)
            operands.append(value)
        if not operands or (function == "not" and len(operands) != 1):
            raise _Unsupported(function)
        result = not operands[0] if function == "not" else all(operands) if function == "and" else any(operands)
        return result, rest
    return _expression(words, values, names)


def _is_name(word: str) -> bool:
    return word.startswith(".") and word[1:].isidentifier()
