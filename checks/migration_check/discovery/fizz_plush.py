"""The Plush scripts pop's `.fizz` migrations are (gobuffalo/plush's lexer, inside `<% %>` as
fizz's RunScript runs them): calls with literal arguments, and blocks after them. Anything else is
code the replay does not run, told at its line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PUNCTUATION = "(){}[],:.;"


class Unreadable(Exception):
    """What the replay does not run (code, or a call fizz does not have), at its line."""

    def __init__(self, line: int, what: str) -> None:
        super().__init__(what)
        self.line, self.what = line, what


@dataclass(frozen=True)
class Token:
    kind: str  # "string", "number", "ident", or the punctuation itself
    text: str
    line: int
    column: int


def tokens(source: str) -> Iterator[Token]:
    """Plush's lexer, inside `<% %>` (RunScript): whitespace between tokens, identifiers of letters,
    digits, `_` and `-`, strings in double quotes that may span lines."""
    at, line, start_of_line = 0, 1, 0
    while at < len(source):
        char = source[at]
        if char in " \t\r\n":
            if char == "\n":
                line, start_of_line = line + 1, at + 1
            at += 1
            continue
        column = at - start_of_line + 1
        if char == '"':
            end = at + 1
            while end < len(source) and source[end] != '"':
                end += 2 if source.startswith('\\"', end) else 1
            if end >= len(source):
                raise Unreadable(line, "a string that does not end")
            text = source[at + 1 : end]
            yield Token("string", text.replace('\\"', '"'), line, column)
            line += text.count("\n")
            if "\n" in text:
                start_of_line = at + 1 + text.rfind("\n") + 1
            at = end + 1
        elif char in PUNCTUATION and not (char == "." and source[at + 1 : at + 2].isdigit()):
            yield Token(char, char, line, column)
            at += 1
        elif char.isdigit() or char == "." or (char == "-" and source[at + 1 : at + 2].isdigit()):
            end = at + 1
            while end < len(source) and (source[end].isdigit() or source[end] == "."):
                end += 1
            yield Token("number", source[at:end], line, column)
            at = end
        elif char.isalpha() or char == "_":
            end = at + 1
            while end < len(source) and (source[end].isalnum() or source[end] in "_-"):
                end += 1
            yield Token("ident", source[at:end], line, column)
            at = end
        else:  # an operator, `<%`, ...: what the parser finds there is told as code
            yield Token("other", char, line, column)
            at += 1


@dataclass
class Call:
    name: str  # "create_table", or "t.Column" inside a block
    arguments: list[Any]
    line: int
    column: int
    block: list[Call] | None = None
    # Where the first argument's text starts (a `sql("...")` string's first character).
    text_at: tuple[int, int] | None = None


class Parser:
    def __init__(self, source: str) -> None:
        self.tokens = list(tokens(source))
        self.at = 0

    def program(self, closing: str | None = None) -> list[Call]:
        calls = []
        while self.at < len(self.tokens) and self.peek().kind != closing:
            if self.peek().kind == ";":
                self.at += 1
                continue
            calls.append(self.call())
        if closing is not None:
            self.expect(closing)
        return calls

    def call(self) -> Call:
        first = self.expect("ident")
        name = first.text
        if self.peek().kind == ".":
            self.at += 1
            name += "." + self.expect("ident").text
        if self.peek().kind != "(":
            raise Unreadable(first.line, f"{name}, not a call")
        self.at += 1
        opening = self.peek()
        text_at = (opening.line, opening.column + 1) if opening.kind == "string" else None
        arguments = self.values(")")
        block = None
        if self.at < len(self.tokens) and self.tokens[self.at].kind == "{":
            self.at += 1
            block = self.program("}")
        return Call(name, arguments, first.line, first.column, block, text_at)

    def values(self, closing: str) -> list[Any]:
        found = []
        while self.peek().kind != closing:
            found.append(self.value())
            if self.peek().kind == ",":
                self.at += 1
            elif self.peek().kind != closing:
                raise Unreadable(self.peek().line, f"{self.peek().text!r} where a value ends")
        self.at += 1
        return found

    def value(self) -> Any:
        token = self.next()
        if token.kind == "string":
            return token.text
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "ident" and token.text in ("true", "false", "nil"):
            return {"true": True, "false": False, "nil": None}[token.text]
        if token.kind == "[":
            return self.values("]")
        if token.kind == "{":
            pairs: dict[str, Any] = {}
            while self.peek().kind != "}":
                key = self.next()
                if key.kind not in ("ident", "string"):
                    raise Unreadable(key.line, "a map key that is not a name")
                self.expect(":")
                pairs[key.text] = self.value()
                if self.peek().kind == ",":
                    self.at += 1
            self.at += 1
            return pairs
        raise Unreadable(token.line, f"{token.text!r}, a value fizz is not given as written")

    def peek(self) -> Token:
        if self.at >= len(self.tokens):
            last = self.tokens[-1] if self.tokens else Token("", "", 1, 1)
            raise Unreadable(last.line, "a script that ends inside a call")
        return self.tokens[self.at]

    def next(self) -> Token:
        token = self.peek()
        self.at += 1
        return token

    def expect(self, kind: str) -> Token:
        token = self.next()
        if token.kind != kind:
            raise Unreadable(token.line, f"{token.text!r} where Plush wants {kind}")
        return token

