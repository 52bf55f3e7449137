"""The project's own code a migration runs, read from its source and evaluated as a migration is
(alembic_reading.py), never imported: its column types (SQLAlchemy's TypeDecorator recipe) and
its functions (a helper that returns a policy's SQL, or sends it through `op`).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Any

from sqlalchemy.types import TypeEngine

from migration_check.discovery.alembic_project import ProjectClass, ProjectFunction
from migration_check.discovery.alembic_python import NotReplayable
from migration_check.discovery.alembic_reading import Evaluator, FunctionRun
from migration_check.discovery.alembic_sql import SentSql, Unreachable


@functools.lru_cache(maxsize=256)
def project_function(found: ProjectClass, roots: tuple[Path, ...]) -> ProjectFunction:
    """The project's function `found`, with the names of its own module."""
    assert isinstance(found.node, ast.FunctionDef)
    return ProjectFunction(found.node, Evaluator(found.module, found.text, roots), found.path.name)


def decorated_type(found: ProjectClass, roots: tuple[Path, ...]) -> type | None:
    """The project's TypeDecorator as a type a migration can name and call: what its
    `load_dialect_impl` gives for PostgreSQL, or its `impl`; None where its class is more than that
    recipe (an `__init__` its `impl` would depend on, no `impl`)."""
    assert isinstance(found.node, ast.ClassDef)
    body = {node.name: node for node in found.node.body if isinstance(node, ast.FunctionDef)}
    impl = next((node.value for node in found.node.body if isinstance(node, ast.Assign | ast.AnnAssign)
                 and any(isinstance(t, ast.Name) and t.id == "impl"
                         for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))), None)
    method = body.get("load_dialect_impl")
    if method is None and (impl is None or "__init__" in body):
        return None
    evaluator = Evaluator(found.module, found.text, roots)
    where = f"{found.node.name} ({found.path.name})"

    def made(arguments: tuple[Any, ...], keywords: dict[str, Any]) -> Any:
        run = FunctionRun(evaluator, SentSql())
        try:
            if method is not None:  # `self` is a value it may not read
                made = run.helper(method, [_Self(), run.sent.context.dialect], {}, method)
            elif impl is not None:
                base = run.used(run.value(impl, {}), impl)
                made = base(*arguments, **keywords) if isinstance(base, type) else base
        except NotReplayable as reason:
            raise Unreachable(f"{where}, whose type for PostgreSQL is code ({reason.what}, line {reason.line})") from None
        made = made() if isinstance(made, type) else made
        if not isinstance(made, TypeEngine):
            raise Unreachable(f"{where}, whose type for PostgreSQL is not a SQLAlchemy type")
        return made

    class ProjectType(TypeEngine):  # a type class SQLAlchemy takes where a type goes
        def __new__(cls, *arguments: Any, **keywords: Any) -> Any:
            return made(arguments, keywords)

    ProjectType.__name__ = found.node.name
    return ProjectType


class _Self:
    """`self` in a project type's method: what it holds comes from code this does not run."""
