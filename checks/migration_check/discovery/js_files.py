"""A migration module that reads its SQL from a file of the repository, as Node.js would:
`fs.readFileSync(path.join(__dirname, 'sql', '002_orders.sql'), 'utf8')`, `readFileSync(...)`
imported from `fs`, the path made with `path.join` or `path.resolve` from `__dirname` (the module's
folder). The file's text is then a value like a string written in the module, and the SQL a runner
sends with it is replayed instead of skipped as code.

Only a file inside the repository is read (through links too: resolved first), never one outside
it, and only as text (an encoding given, as the module gives one; a Buffer is code here).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tree_sitter import Node

from migration_check.discovery.base import repository_root
from migration_check.discovery.js_values import Unwritable, text_of
from migration_check.errors import FileError, read_utf8

MOST_BYTES = 4 << 20
TEXT_ENCODINGS = ("utf8", "utf-8")
BUILTINS = {"fs": "fs", "node:fs": "fs", "path": "path", "node:path": "path"}


# The files each module read (its path -> theirs, as the module names them), as discovery met
# them: discovery gives a migration the files its module read (Migration.read_files).
_READ_BY: dict[Path, set[Path]] = {}


def files_read_by(modules: tuple[Path, ...]) -> tuple[Path, ...]:
    """The repository's files that the modules read as text, in path order."""
    return tuple(sorted({read for module in modules for read in _READ_BY.get(module, ())}))


class FileText(str):
    """A file's text as a value, knowing the file (the script it makes is placed there)."""

    path: Path

    def __new__(cls, text: str, path: Path) -> FileText:
        made = super().__new__(cls, text)
        made.path = path
        return made


def file_calls(module: Path) -> dict[str, Callable[[list[Any]], object]]:
    """The calls that read a file or make its path, by the callee's text, for the module at `module`."""
    read = _reader(module)
    return {"path.join": _join, "path.resolve": _resolve, "fs.readFileSync": read}


def builtin_callee(callee: Node, imports: dict[str, tuple[str, str]]) -> str | None:
    """`path.join` for a callee that names it through the module's imports (`import { join } from
    'path'`, `const { readFileSync } = require('node:fs')`, `import * as nodePath from 'node:path'`);
    None for anything else."""
    if callee.type == "identifier":  # a function imported by name
        module, name = imports.get(text_of(callee), ("", "*"))
    elif callee.type == "member_expression" and (owner := callee.child_by_field_name("object")) is not None \
            and (member := callee.child_by_field_name("property")) is not None and owner.type == "identifier" \
            and imports.get(text_of(owner), ("", ""))[1] == "*":  # a function of an imported namespace
        module, name = imports[text_of(owner)][0], text_of(member)
    else:
        return None
    return f"{BUILTINS[module]}.{name}" if module in BUILTINS and name != "*" else None


def _join(given: list[Any]) -> str:
    """Node's `path.join`: the segments joined with `/`, then normalized (`..` and `.` resolved)."""
    return posixpath.normpath("/".join(part for part in _segments(given, "path.join") if part))


def _resolve(given: list[Any]) -> str:
    """Node's `path.resolve`, where the segments give an absolute path (from `__dirname`): the process's
    working directory, which a relative result would stand on, is not known here."""
    segments = _segments(given, "path.resolve")
    start = max((index for index, part in enumerate(segments) if part.startswith("/")), default=None)
    if start is None:
        raise Unwritable("path.resolve from the process's working directory")
    return _join(segments[start:])


def _segments(given: list[Any], call: str) -> list[str]:
    if not given or not all(isinstance(part, str) for part in given):
        raise Unwritable(f"{call} of something other than strings")
    return given


def _reader(module: Path) -> Callable[[list[Any]], object]:
    root = repository_root(module.parent) or module.parent

    def read(given: list[Any]) -> str:
        if len(given) != 2 or not isinstance(given[0], str) or _encoding(given[1]) not in TEXT_ENCODINGS:
            raise Unwritable("readFileSync without a path and a text encoding")
        if not given[0].startswith("/"):
            raise Unwritable("readFileSync of a path relative to the process's working directory")
        path = Path(given[0])
        resolved = path.resolve()
        if not resolved.is_relative_to(root.resolve()) or not resolved.is_file() or resolved.stat().st_size > MOST_BYTES:
            raise Unwritable(f"readFileSync of {given[0]}, not a file of the repository")
        try:
            text = FileText(read_utf8(resolved), path)
        except (FileError, OSError):
            raise Unwritable(f"readFileSync of {given[0]}, which is not UTF-8 text") from None
        _READ_BY.setdefault(module, set()).add(path)
        return text

    return read


def _encoding(option: Any) -> str | None:
    if isinstance(option, dict):
        option = option.get("encoding")
    return option.lower() if isinstance(option, str) else None
