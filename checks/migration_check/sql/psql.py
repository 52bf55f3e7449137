"""psql meta-commands as psql reads them: which are harmless, which are refused, their arguments,
variable substitution (`:name`, `:'name'`, `:"name"`) and `\\i`/`\\ir` includes."""

from __future__ import annotations

import shlex
from pathlib import Path

from pglast import parser

from migration_check.sql.prepared import quote_identifier, quote_literal
from migration_check.sql.source import OffsetMap, Source

# psql meta-commands that only print or format output: nothing to replay.
OUTPUT_ONLY = frozenset({
    "echo", "qecho", "warn", "pset", "timing", "t", "a", "x", "H", "C", "f", "T", "o", "out",
    "conninfo", "errverbose", "restrict", "unrestrict", "encoding", "z", "l", "list", "sv", "sf",
})
REFUSED = {
    "c": "\\connect is not supported: migration-check runs every script in its own throwaway database",
    "connect": "\\connect is not supported: migration-check runs every script in its own throwaway database",
    "gexec": "\\gexec runs query results as SQL and is not supported: write the generated statements out",
    "!": "\\! runs a shell command and is not supported",
    "cd": "\\cd is not supported: \\i paths are resolved relative to the including file",
    "if": "psql conditionals (\\if/\\elif/\\else/\\endif) are not supported",
    "elif": "psql conditionals (\\if/\\elif/\\else/\\endif) are not supported",
    "else": "psql conditionals (\\if/\\elif/\\else/\\endif) are not supported",
    "endif": "psql conditionals (\\if/\\elif/\\else/\\endif) are not supported",
    "prompt": "\\prompt waits for input and is not supported",
}


def meta_name(text: str, backslash: int) -> str:
    """The command of a meta-command: what follows the backslash up to white space or a backslash."""
    end = backslash + 1
    while end < len(text) and not text[end].isspace() and text[end] != "\\":
        end += 1
    return text[backslash + 1 : end]


def meta_arguments(source: Source, at: int, rest: str, variables: dict[str, str],
                   root: Path | None = None) -> list[str]:
    """The arguments of a meta-command as psql reads them (psqlscanslash.l), not as SQL: white
    space separates them, single quotes quote them ('it''s'), and `:name`, `:'name'`, `:"name"`
    are substituted; so `\\i parts/0001_part.sql` is one file name. A backquoted command is the
    shell's: only `cat FILE` of a file of the repository (`root`) is replayed, as its content."""
    words: list[str] = []
    index, length = 0, len(rest)
    while index < length:
        if rest[index].isspace():
            index += 1
            continue
        word: list[str] = []
        while index < length and not rest[index].isspace():
            char = rest[index]
            if char == "`":
                closing = rest.find("`", index + 1)
                if closing == -1:
                    raise source.problem(at + index, "unterminated backquoted command in a meta-command argument")
                word.append(_command_output(source, at + index, rest[index + 1 : closing], root))
                index = closing + 1
                continue
            if char in "'\"":
                closing = _closing_quote(rest, index)
                if closing == -1:
                    raise source.problem(at + index, "unterminated quoted string in a meta-command argument")
                inner = rest[index + 1 : closing]
                word.append(inner.replace("''", "'") if char == "'" else rest[index : closing + 1])
                index = closing + 1
                continue
            if char == ":":
                raw = _variable_reference(rest, index + 1)
                value = variable_value(raw, variables) if raw else None
                if value is not None:
                    word.append(value)
                    index += 1 + len(raw)
                    continue
            word.append(char)
            index += 1
        words.append("".join(word))
    return words


def _command_output(source: Source, at: int, command: str, root: Path | None) -> str:
    """What a backquoted `cat FILE` prints, the trailing newline removed as psql removes it
    (Tamarou/Registry: `\\set template_content `cat templates/....html.ep``). No shell runs:
    migrations are untrusted, so any other command is refused."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if len(words) != 2 or words[0] != "cat" or any(char in command for char in "|;&$<>()*?~{}"):
        raise source.problem(at, f"`{command}` runs a shell command, which this check never runs for a migration"
                                 " (migrations are untrusted): only `cat FILE` of a file of the repository is"
                                 " replayed; put the value in the script, or \\i a file")
    path = resolve_include(source, at, words[1], relative=False, root=root)
    text = read_included(source, at, path)
    return text[:-1] if text.endswith("\n") else text


def _closing_quote(text: str, opening: int) -> int:
    """The index of the quote that closes the one at `opening` (a doubled quote stays inside)."""
    quote, index = text[opening], opening + 1
    while index < len(text):
        if text[index] == quote:
            if text[index + 1 : index + 2] == quote:
                index += 2
                continue
            return index
        index += 1
    return -1


def _variable_reference(text: str, start: int) -> str:
    """What follows a `:`: 'name', "name" or name, or "" when nothing that names a variable."""
    if text[start : start + 1] in ("'", '"'):
        closing = _closing_quote(text, start)
        return text[start : closing + 1] if closing != -1 else ""
    end = start
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[start:end]


def variable_value(name_raw: str, variables: dict[str, str]) -> str | None:
    """The replacement psql makes for `:` followed by `name_raw`, or None when it makes none."""
    if name_raw.startswith("'") and name_raw.endswith("'") and len(name_raw) > 1:
        name = name_raw[1:-1]
        if name not in variables:
            return None
        return quote_literal(variables[name])  # as psql quotes it (PQescapeLiteral)
    if name_raw.startswith('"') and name_raw.endswith('"') and len(name_raw) > 1:
        name = name_raw[1:-1]
        if name not in variables:
            return None
        return quote_identifier(variables[name])
    if name_raw in variables and (name_raw.replace("_", "a").isalnum()):
        return variables[name_raw]
    return None


def substitute(chunk: str, variables: dict[str, str]) -> tuple[str, OffsetMap | None]:
    """`chunk` with psql variables substituted, as psql does outside quotes and comments."""
    try:
        tokens = parser.scan(chunk)
    except parser.ParseError:
        return chunk, None  # the parser reports the lexical error
    parts: list[str] = []
    mapping = OffsetMap()
    copied = 0
    length = 0
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.name != "ASCII_58" or following.start != token.end + 1:
            continue
        value = variable_value(chunk[following.start : following.end + 1], variables)
        if value is None:
            continue
        parts.append(chunk[copied : token.start])
        length += token.start - copied
        mapping.replaced(length, token.start, len(value), following.end + 1)
        parts.append(value)
        length += len(value)
        copied = following.end + 1
    if not parts:
        return chunk, None
    parts.append(chunk[copied:])
    return "".join(parts), mapping


def resolve_include(source: Source, at: int, name: str, relative: bool, root: Path | None = None) -> Path:
    """`\\ir` is relative to the including file. `\\i` is relative to psql's working directory,
    which a replay does not have: it is looked up from the including file's directory upwards (to
    `root`), so that paths written for the repository root or the migrations directory both work.
    A file that resolves outside `root` (an absolute path, `..`, a symbolic link) is refused."""
    path = Path(name)
    parents = [source.path.parent, *source.path.parent.parents]
    if root is not None:
        parents = [p for p in parents if p.resolve().is_relative_to(root)]
    if path.is_absolute():
        candidates = [path]
    elif relative:
        candidates = [source.path.parent / path]
    else:
        candidates = [directory / path for directory in parents]
    for candidate in candidates:
        if root is not None and not candidate.resolve().is_relative_to(root):
            raise source.problem(at, f"included file {name} is outside the repository ({candidate.resolve()}):"
                                     " migrations may include only files of the repository")
        if candidate.is_file():
            return candidate
    where = "relative to the including file" if relative else "in the including file's directory or above"
    raise source.problem(at, f"included file {name} not found ({where})")


def read_included(source: Source, at: int, path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        raise source.problem(at, f"included file {path} holds a NUL byte (is it UTF-16? save it as UTF-8)")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise source.problem(at, f"included file {path} is not valid UTF-8 (offset {exc.start})") from None
