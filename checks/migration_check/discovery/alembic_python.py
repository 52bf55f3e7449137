"""Python's own pieces an Alembic migration uses on the values it writes out, as the check gives them:
pure builtins, `str.format` with plain fields, logging that writes nothing, and the reason the replay
stops where the file holds more than this."""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import string
import textwrap
import tokenize
from typing import Any

from migration_check.sql.confirmations import PREFIX

MOST_ITEMS = 10_000  # a loop over more is not a migration's own list
STRING_METHODS = frozenset({"strip", "lstrip", "rstrip", "replace", "upper", "lower", "join", "split",
                            "startswith", "endswith"})


class NotReplayable(Exception):
    def __init__(self, line: int, what: str) -> None:
        super().__init__(what)
        self.line, self.what = line, what


def _bounded(*arguments: int) -> list[int]:
    numbers = range(*arguments)
    if len(numbers) > MOST_ITEMS:
        raise ValueError(f"a range of {len(numbers)} numbers")
    return list(numbers)


# Python's own functions a migration uses on the values it writes out: pure, each on values this
# evaluates. print() writes nothing here.
BUILTINS: dict[str, Any] = {
    "str": str, "int": int, "float": float, "bool": bool, "len": len, "list": list, "tuple": tuple, "dict": dict,
    "set": set, "sorted": sorted, "min": min, "max": max, "any": any, "all": all, "range": _bounded,
    "enumerate": lambda *a, **k: list(enumerate(*a, **k)), "zip": lambda *a: list(zip(*a, strict=False)),
    "reversed": lambda a: list(reversed(a)), "print": lambda *a, **k: None,
    "__name__": "alembic_migration",  # what a revision module's name is read for: a logger's
    # Warning categories, as a warnings filter names them (the classes only: raising is not read).
    **{name: getattr(builtins, name)
       for name in ("Warning", "UserWarning", "DeprecationWarning", "FutureWarning", "RuntimeWarning")},
}


def formatter(template: str, line: int) -> Any:
    """`template.format`, where each field names an argument and no more: `{0.__class__}` would read
    the attributes of what it is given (a module's globals, the environment) into the SQL."""
    for _, field_name, _, _ in string.Formatter().parse(template):
        if field_name and not (field_name.isidentifier() or field_name.isdigit()):
            raise NotReplayable(line, f"a format field that reads more than its argument ({{{field_name}}})")
    return template.format


def nothing(*_arguments: Any, **_keywords: Any) -> None:
    """What a log line or print() does to the database: nothing."""


class Logger:
    """`logging.getLogger(__name__)`, loguru's `logger`: its lines are the runner's output, not the
    migration's SQL."""


LOG_LEVELS = frozenset({"trace", "debug", "info", "success", "warning", "warn", "error", "exception", "critical", "log"})
# Functions of Python's library (and loguru's logger) a migration calls, by the path it imports
# them by: logging and warnings, which send nothing to the database, and textwrap's, pure.
LIBRARY: dict[str, Any] = {"logging.getLogger": lambda *_a: Logger(), "loguru.logger": Logger(),
                           **{f"{logger}.{level}": nothing for level in LOG_LEVELS
                              for logger in ("logging", "loguru.logger")},
                           # Python's warnings to a developer (advanced-alchemy's revision template
                           # silences SQLAlchemy's around its operations): nothing to the database.
                           "warnings.catch_warnings": lambda *_a, **_k: contextlib.nullcontext(),
                           **{f"warnings.{name}": nothing for name in ("filterwarnings", "simplefilter", "warn")},
                           "textwrap.dedent": textwrap.dedent, "textwrap.indent": textwrap.indent}


def library_function(path: str) -> Any:
    """What the function `path` names is (LIBRARY's), or None: also a project's own logger's lines
    (`app.logger.logger.info`, `app.log.debug`), which send nothing."""
    if path in LIBRARY:
        return LIBRARY[path]
    owner, _, level = path.rpartition(".")
    return nothing if level in LOG_LEVELS and owner.rpartition(".")[2] in ("logger", "log", "LOGGER", "LOG") else None


def unpacked(target: ast.expr, item: Any, line: int, refused: str) -> dict[str, Any]:
    """The names `target` binds (`a`, `a, b`, `(a, b), c`) to `item`, as Python unpacks it; where it
    does not unpack, NotReplayable with the `refused` reason."""
    if isinstance(target, ast.Name):
        return {target.id: item}
    if isinstance(target, ast.Tuple | ast.List) and isinstance(item, list | tuple) and len(item) == len(target.elts):
        bound: dict[str, Any] = {}
        for inner, part in zip(target.elts, item, strict=True):
            bound.update(unpacked(inner, part, line, refused))
        return bound
    raise NotReplayable(line, refused)


class Items(list):
    """A dict's items(), keys() or values(), as a list a loop goes over."""


def directives(text: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of each comment that is a migration-check directive."""
    found: list[tuple[int, int, str]] = []
    if PREFIX not in text:  # (most files hold none: tokenizing them was a tenth of reading a project)
        return found
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            body = token.string[1:].strip()
            if token.type == tokenize.COMMENT and body.startswith(PREFIX):
                found.append((token.start[0], token.start[1] + 1, body))
    except (tokenize.TokenError, SyntaxError):
        pass
    return found
