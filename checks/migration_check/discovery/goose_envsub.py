"""goose's `-- +goose ENVSUB ON`: each line goose reads until `-- +goose ENVSUB OFF` has its
`$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:offset:length}` and
`${NAME?message}` expanded from the environment goose runs in, by mfridman/interpolate v0.0.2
(buildkite's grammar: `$$` and `\\$` are a `$`, `$(` is left alone; a `$` not followed by a letter
or `{`, or any other operator, such as bash's `${NAME%suffix}`, is an error that makes goose refuse
the file).

The check does not have the deploy's environment, and does not read its own into the SQL (values
there may be secrets, and would show in the findings). So a value the user gives (`--var NAME=VALUE`)
is used, else a default where the line gives one; a variable with neither is what the script needs
from the environment, and the migration is not replayed, with that said (goose would substitute an
empty value where the variable is unset, which is not what the deploy runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class SubstitutionError(Exception):
    """goose refuses the file: "variable substitution failed"."""


@dataclass(frozen=True)
class Expanded:
    text: str
    needs: str | None  # the first variable only the environment gives, or None


def expand(line: str, values: Mapping[str, str] | None = None) -> Expanded:
    """One line as goose expands it (without its line ending), with what it needs; `values`: the
    variables the user gives (`--var`), as the deploy's environment would."""
    parser = _Parser(line, values or {})
    return Expanded(parser.expression(), parser.needs)


class _Parser:
    def __init__(self, text: str, values: Mapping[str, str]) -> None:
        self.text = text
        self.values = values
        self.pos = 0
        self.needs: str | None = None

    def expression(self, stop: str = "") -> str:
        out: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] not in stop:
            rest = self.text[self.pos:]
            if rest.startswith("\\\\"):
                out.append("\\\\")
                self.pos += 2
            elif rest.startswith(("\\$", "$$")):
                out.append("$")
                self.pos += 2
            elif rest.startswith("$("):  # a shell's command substitution: left alone
                out.append("$(")
                self.pos += 2
            elif rest[0] == "$" and self.pos < len(self.text) - 1:
                out.append(self._expansion())
            else:
                start = self.pos
                self.pos += 1
                while self.pos < len(self.text) and self.text[self.pos] not in "$\\" + stop:
                    self.pos += 1
                out.append(self.text[start:self.pos])
        return "".join(out)

    def _expansion(self) -> str:
        self.pos += 1  # the $
        if self._peek() != "{":
            return self._value(self._identifier())
        self.pos += 1
        name = self._identifier()
        operator = self._next()
        if operator == "}":
            return self._value(name)
        if operator == ":" and self._peek() == "-":
            operator += self._next()
        # interpolate v0.0.2 (goose's) knows these four and no other: `${X%suffix}` is refused.
        if operator not in (":-", "-", ":", "?"):
            raise SubstitutionError(f"Expected an operator, got {operator or 'the end of the line'}")
        if operator in (":-", "-"):
            default = self.expression("}")
            given = self.values.get(name)
            value = given if given is not None and (given or operator == "-") else default
        elif operator == ":":
            offset, length = self._substring()
            value = _slice(self.values[name], offset, length) if name in self.values else self._unset(name)
        elif name in self.values:  # ?
            self.expression("}")  # the message, for a variable that is not set
            value = self.values[name]
        else:
            self.expression("}")
            value = self._unset(name)
        if self._next() != "}":
            raise SubstitutionError("Expected brace expansion to end with }")
        return value

    def _substring(self) -> tuple[int, int | None]:
        """`offset[:length]` of `${X:offset:length}`, read as plain text (no expansion inside)."""
        offset = _number(self._until(":}"), "offset")
        if self._peek() != ":":
            return offset, None
        self.pos += 1
        return offset, _number(self._until("}"), "length")

    def _until(self, stops: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stops:
            self.pos += 1
        return self.text[start:self.pos]

    def _identifier(self) -> str:
        if not self._peek().isalpha():
            raise SubstitutionError(f"Expected identifier to start with a letter, got {self._peek() or 'the end'!r}")
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        return self.text[start:self.pos]

    def _value(self, name: str) -> str:
        return self.values[name] if name in self.values else self._unset(name)

    def _unset(self, name: str) -> str:
        self.needs = self.needs or name
        return ""

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _next(self) -> str:
        char = self._peek()
        self.pos += len(char)
        return char


def _number(text: str, what: str) -> int:
    """Go's strconv.Atoi of the trimmed text: an optional sign and ASCII digits, nothing else."""
    digits = text.strip()
    unsigned = digits[1:] if digits[:1] in ("+", "-") else digits
    if not unsigned or any(char not in "0123456789" for char in unsigned):
        raise SubstitutionError(f"Unable to parse {what}: {text.strip()!r} is not a number")
    return int(digits)


def _slice(value: str, offset: int, length: int | None) -> str:
    """bash's ${X:offset:length} as interpolate computes it: on the value's bytes, a negative
    offset or length counting from the end, both cut to the value."""
    data = value.encode()
    start = min(max(offset + len(data) if offset < 0 else offset, 0), len(data))
    if length is None:
        return data[start:].decode(errors="replace")
    end = start + length if length >= 0 else max(length + len(data), start)
    return data[start:min(end, len(data))].decode(errors="replace")
