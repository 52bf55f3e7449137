"""A revision's `try`, on a connection that commits each statement on its own (env.py's
isolation_level AUTOCOMMIT): where a statement of its body fails, Alembic's migration goes on after
the `try`, and what the body ran before stays. The replay runs the body as a region a failure ends
(Script.tolerated), where what follows cannot hang on whether it failed: read here, from the
handlers' syntax alone (a handler runs only on an error the database gives, so it is never run)."""

from __future__ import annotations

import ast

from migration_check.discovery.alembic_python import LOG_LEVELS, STRING_METHODS

# What a handler may call and still do nothing to the database or to what follows: print and log
# the error, read its text.
QUIET_FUNCTIONS = frozenset({"print", "str", "repr", "len", "format", "isinstance", "any", "all"})
QUIET_METHODS = frozenset({*LOG_LEVELS, *STRING_METHODS, "format", "print_exc", "format_exc"})
REFUSED = ("a try that goes on where its statements fail, each committed on its own (env.py's isolation_level"
           " AUTOCOMMIT), {}: what runs after it depends on which failed")


def reraises(handler: ast.ExceptHandler) -> bool:
    """Whether the handler ends by raising again: a failure then stops the migration, as it would."""
    return bool(handler.body) and isinstance(handler.body[-1], ast.Raise)


def why_not_tolerated(node: ast.Try, bound: set[str]) -> tuple[int, str] | None:
    """(line, why) the try's failures cannot be replayed as a region that a failure ends, or None:
    an `else` (it runs only where the body did not fail), a handler that returns, calls anything but
    print, a log line or string methods, or sets a name the function already has (`failed = True`)."""
    if node.orelse:
        return node.orelse[0].lineno, REFUSED.format("with an else")
    for handler in node.handlers:
        for inner in (found for statement in handler.body for found in ast.walk(statement)):
            line = getattr(inner, "lineno", handler.lineno)
            if isinstance(inner, ast.Return | ast.Yield | ast.YieldFrom | ast.Await | ast.Global | ast.Nonlocal):
                return line, REFUSED.format("whose handler returns")
            if isinstance(inner, ast.Call) and not _quiet(inner.func):
                return line, REFUSED.format(f"whose handler calls {ast.unparse(inner.func)}")
            if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store | ast.Del) and inner.id in bound:
                return line, REFUSED.format(f"whose handler sets {inner.id}")
            if isinstance(inner, ast.Attribute | ast.Subscript) and isinstance(inner.ctx, ast.Store | ast.Del):
                return line, REFUSED.format(f"whose handler changes {ast.unparse(inner)}")
    return None


def _quiet(function: ast.expr) -> bool:
    if isinstance(function, ast.Name):
        return function.id in QUIET_FUNCTIONS
    return isinstance(function, ast.Attribute) and function.attr in QUIET_METHODS
