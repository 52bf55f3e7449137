"""psql meta-commands as psql reads them: which are harmless, which are refused, their arguments,
variable substitution (`:name`, `:'name'`, `:"name"`) and `\\i`/`\\ir` includes."""

from __future__ import annotations

from pathlib import Path

from pglast import parser

from migration_check.sql.source import OffsetMap, Source, error_offset

# psql meta-commands that only print or format output: nothing to replay.
OUTPUT_ONLY = frozenset({
    "echo", "qecho", "warn", "pset", "timing", "t", "a", "x", "H", "C", "f", "T", "o", "out",
    "conninfo", "errverbose", "restrict", "unrestrict", "encoding", "z", "l", "list", "sv", "sf",
})
REFUSED = {
    "c": "\\connect is not supported: migration-check runs every script in its own throwaway database",
    "connect": "\\connect is not supported: migration-check runs every script in its own throwaway database",
    "gexec": "\\gexec runs query results as SQL and is not supported: write the generated statements out",
    "copy": "\\copy reads a client-side file and is not supported: use COPY ... FROM stdin with the rows inline",
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


def meta_arguments(source: Source, at: int, rest: str, variables: dict[str, str]) -> list[str]:
    """The arguments of a meta-command, read with the SQL lexer: white space separates them,
    single quotes quote them ('it''s'), and `:name`, `:'name'`, `:"name"` are substituted."""
    try:
        tokens = parser.scan(rest)
    except parser.ParseError as exc:
        raise source.problem(at + error_offset(exc), exc.args[0]) from None
    items: list[tuple[int, int, str]] = []  # (start, end inclusive, value) of each lexical item
    index = 0
    while index < len(tokens):
        token = tokens[index]
        raw = rest[token.start : token.end + 1]
        if raw == "`":
            raise source.problem(at + token.start, "backquoted shell commands in meta-command arguments are not supported")
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if raw == ":" and following is not None and following.start == token.end + 1:
            value = variable_value(rest[following.start : following.end + 1], variables)
            if value is not None:
                items.append((token.start, following.end, value))
                index += 2
                continue
        if token.name == "SCONST" and raw.startswith("'"):
            raw = raw[1:-1].replace("''", "'")
        items.append((token.start, token.end, raw))
        index += 1
    words: list[str] = []
    previous_end = -2
    for start, end, value in items:
        if start == previous_end + 1 and words:
            words[-1] += value  # touching items make one word, as in psql: foo-bar, 'a'b
        else:
            words.append(value)
        previous_end = end
    return words


def variable_value(name_raw: str, variables: dict[str, str]) -> str | None:
    """The replacement psql makes for `:` followed by `name_raw`, or None when it makes none."""
    if name_raw.startswith("'") and name_raw.endswith("'") and len(name_raw) > 1:
        name = name_raw[1:-1]
        if name not in variables:
            return None
        value = variables[name]
        quoted = "'" + value.replace("'", "''") + "'"
        # psql's PQescapeLiteral: backslashes are doubled and the literal becomes E'...'
        return " E" + quoted.replace("\\", "\\\\") if "\\" in value else quoted
    if name_raw.startswith('"') and name_raw.endswith('"') and len(name_raw) > 1:
        name = name_raw[1:-1]
        if name not in variables:
            return None
        return '"' + variables[name].replace('"', '""') + '"'
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
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise source.problem(at, f"included file {path} is not valid UTF-8 (offset {exc.start})") from None
