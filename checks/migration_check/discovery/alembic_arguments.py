"""What Alembic passes a revision's upgrade() and downgrade(): the keywords of env.py's
`context.run_migrations(**kw)` (alembic/runtime/migration.py calls `migration_fn(**kw)`). quay/quay
passes `op=alembic_op, tables=tables, tester=get_tester()` to `def upgrade(op, tables, tester)`."""

from __future__ import annotations

import ast
from typing import Any

from migration_check.discovery.alembic_config import EnvPy
from migration_check.discovery.alembic_python import NotReplayable
from migration_check.discovery.alembic_values import OP, ImportedName


def passed_arguments(function: ast.FunctionDef, env: EnvPy) -> dict[str, Any]:
    """The function's parameters bound to what env.py passes: an imported value (Alembic's op) is
    that; a value of env.py's own stays unread, named as its. One it does not pass fails Alembic."""
    given = dict(env.arguments)
    names = [argument.arg for argument in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
    missing = [name for name in names[:len(names) - len(function.args.defaults)] if name not in given]
    if missing and not function.args.kwarg:
        raise NotReplayable(function.lineno, f"{function.name}() takes {missing[0]}, which env.py's"
                                             " context.run_migrations() does not pass: Alembic fails on it")
    return {name: OP if given[name] == "alembic.op" else ImportedName(given[name] or f"env.py's {name}")
            for name in names if name in given}
