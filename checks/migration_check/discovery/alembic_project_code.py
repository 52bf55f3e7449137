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

from migration_check.discovery.alembic_project import ProjectClass, ProjectFunction, class_of
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
    `load_dialect_impl` gives for PostgreSQL, or its `impl` (another of the module's types, or the
    type its `__init__` takes in place of it: prefect's `Pydantic(Model, sa_column_type=None)`);
    None where its class is more than that recipe (an `__init__` that sets `impl` otherwise, no `impl`)."""
    assert isinstance(found.node, ast.ClassDef)
    body = {node.name: node for node in found.node.body if isinstance(node, ast.FunctionDef)}
    impl = next((node.value for node in found.node.body if isinstance(node, ast.Assign | ast.AnnAssign)
                 and any(isinstance(t, ast.Name) and t.id == "impl"
                         for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))), None)
    method = body.get("load_dialect_impl")
    given = _impl_parameter(body["__init__"]) if "__init__" in body else ("", -1)
    if method is None and (impl is None or given is None):
        return None
    evaluator = Evaluator(found.module, found.text, roots)
    where = f"{found.node.name} ({found.path.name})"

    def made(arguments: tuple[Any, ...], keywords: dict[str, Any]) -> Any:
        run = FunctionRun(evaluator, SentSql())
        try:
            if method is not None:  # `self` is a value it may not read
                made = run.helper(method, [_Self(), run.sent.context.dialect], {}, method)
            elif impl is not None and given is not None:
                made = _passed_impl(given, arguments, keywords)
                if made is None:
                    made = _sibling_type(found, impl, roots) or run.used(run.value(impl, {}), impl)
                    if isinstance(made, type) and "__init__" not in body:  # its arguments are its impl's
                        made = made(*arguments, **keywords)
        except NotReplayable as reason:
            raise Unreachable(f"{where}, whose type for PostgreSQL is code ({reason.what}, line {reason.line})") from None
        made = made() if isinstance(made, type) else made
        if not isinstance(made, TypeEngine):
            raise Unreachable(f"{where}, whose type for PostgreSQL is not a SQLAlchemy type")
        return made

    class ProjectType(TypeEngine):  # a type class SQLAlchemy takes where a type goes
        # Its own __init__ takes the arguments (impl only from the one it sets it to), or its
        # load_dialect_impl decides: the others are never read for its SQL.
        reads_no_arguments = method is not None or "__init__" in body

        def __new__(cls, *arguments: Any, **keywords: Any) -> Any:
            return made(arguments, keywords)

    ProjectType.__name__ = found.node.name
    return ProjectType


def _impl_parameter(init: ast.FunctionDef) -> tuple[str, int] | None:
    """(parameter, its index after self) where `__init__` sets `self.impl` to a parameter of its own
    only (None where it sets it to anything else); ("", -1) where it leaves `impl` alone."""
    names = [argument.arg for argument in init.args.args][1:]
    set_to = [node.value for node in ast.walk(init) if isinstance(node, ast.Assign | ast.AnnAssign)
              for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
              if isinstance(target, ast.Attribute) and target.attr == "impl"]
    if not set_to:
        return "", -1
    if len(set_to) == 1 and isinstance(set_to[0], ast.Name) and set_to[0].id in names:
        return set_to[0].id, names.index(set_to[0].id)
    return None


def _passed_impl(given: tuple[str, int], arguments: tuple[Any, ...], keywords: dict[str, Any]) -> Any:
    """The type a call passes in place of `impl` (`Pydantic(Model, sa.Text())`), or None."""
    name, index = given
    if not name:
        return None
    passed = keywords.get(name)
    return passed if passed is not None else arguments[index] if 0 <= index < len(arguments) else None


def _sibling_type(found: ProjectClass, impl: ast.expr, roots: tuple[Path, ...]) -> Any:
    """The type `impl` names where it is another class of the same module (prefect's `impl = JSON`)."""
    sibling = next((node for node in found.module.body if isinstance(node, ast.ClassDef) and isinstance(impl, ast.Name)
                    and node.name == impl.id and node is not found.node), None)
    return class_of(ProjectClass(found.path, found.text, found.module, sibling), roots) if sibling else None


class _Self:
    """`self` in a project type's method: what it holds comes from code this does not run."""
