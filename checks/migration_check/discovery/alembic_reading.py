"""An Alembic revision file, read without running it: its identifiers, and what its `upgrade()`
and `downgrade()` send, evaluated from the values the file writes out.

    import sqlalchemy as sa
    from alembic import op

    revision = "1a2b3c4d5e6f"
    down_revision = "0f9e8d7c6b5a"

    def upgrade():
        op.add_column("account", sa.Column("plan", sa.String(20), server_default="free", nullable=False))

    def downgrade():
        op.drop_column("account", "plan")

The module is parsed (`ast`), never imported: migrations are untrusted code. A function's
statements are evaluated one by one, with literals, names bound to them, SQLAlchemy's types and
constructs and Alembic's operations (alembic_sql.py writes their SQL). Conditions the file can
answer alone (`if op.get_bind().dialect.name == "postgresql":`) are followed. Anything else (a loop,
a query's result, the project's own code or models, a name this cannot read) makes the function
one the replay cannot run: the migration is skipped with what it does and its line.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.operations.batch import BatchOperationsImpl
from sqlalchemy import exc as sqlalchemy_errors

from migration_check.discovery.alembic_arguments import passed_arguments
from migration_check.discovery.alembic_batches import batch_loop
from migration_check.discovery.alembic_config import NO_ENV, EnvPy
from migration_check.discovery.alembic_project import ProjectFunction
from migration_check.discovery.alembic_python import MOST_ITEMS, Items, NotReplayable, directives, unpacked
from migration_check.discovery.alembic_sql import Result, SentSql, Unreachable
from migration_check.discovery.alembic_try import REFUSED, reraises, why_not_tolerated
from migration_check.discovery.alembic_values import WHAT, ImportedName, ModuleNames, Values, imported
from migration_check.discovery.js_reading import Export, Piece
from migration_check.errors import FileError

MOST_DEPTH = 20  # calls of the file's functions within each other
MOST_STEPS = 100_000  # statements one function runs: loops over a migration's own lists end long before
DEEP = "code nested deeper than this check reads"
HEADER = ("revision", "down_revision", "branch_labels", "depends_on")


@dataclass
class RevisionFile:
    path: Path
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)  # header name -> (value, line)
    functions: dict[str, Export] = field(default_factory=dict)  # "upgrade", "downgrade"
    message: str = ""  # the docstring's first line, as `alembic history` shows it
    problem: tuple[int, str] | None = None  # (line, why) a header value cannot be read

    @property
    def revision(self) -> str | None:
        value = self.values.get("revision", (None, 0))[0]
        return value if isinstance(value, str) else None

    def names(self, key: str) -> tuple[str, ...]:
        """A header value as Alembic reads it: None, one string, or a tuple or list of them."""
        value = self.values.get(key, (None, 0))[0]
        return () if value is None else (value,) if isinstance(value, str) else tuple(value)

    def line_of(self, key: str) -> int:
        return self.values.get(key, (None, 1))[1]


def read_revision(path: Path, text: str, module: ast.Module | None = None, roots: tuple[Path, ...] = (),
                  functions: bool = True, env: EnvPy = NO_ENV) -> RevisionFile:
    """The revision file `path` (`module`: its text parsed already), with what its functions send
    unless `functions` is false, as the project's env.py runs them (`env`). One Alembic cannot
    import (its syntax) is a FileError: Alembic then refuses every command."""
    if module is None:
        try:
            module = ast.parse(text, filename=str(path))
        except SyntaxError as error:
            raise FileError(path, error.lineno, f"Alembic cannot import it: {error.msg}") from None
        except (RecursionError, MemoryError):  # untrusted text: nesting deeper than Python's own stack
            return RevisionFile(path, problem=(1, DEEP))
    found = RevisionFile(path, message=(ast.get_docstring(module) or "").strip().split("\n")[0])
    evaluator = Evaluator(module, text, roots, env)
    for key in HEADER:
        node = evaluator.names.values.get(key)
        if node is None:
            continue
        try:
            value = _literal(node)
        except ValueError:
            found.problem = (node.lineno, f"its {key} (line {node.lineno}) is computed")
            continue
        found.values[key] = (value, node.lineno)
    for function in module.body if functions else ():
        if isinstance(function, ast.FunctionDef) and function.name in ("upgrade", "downgrade"):
            found.functions[function.name] = evaluator.run(function)
    return found


def _literal(node: ast.expr) -> Any:
    value = ast.literal_eval(node)
    if value is None or isinstance(value, str) or (
            isinstance(value, tuple | list | set) and all(isinstance(v, str) for v in value)):
        return tuple(sorted(value)) if isinstance(value, set) else value
    raise ValueError(node)


class Evaluator:
    """A module's names, and its functions run on them: a revision file's, or a project module's
    whose function or type a revision uses (`roots`: where the project's modules are)."""

    def __init__(self, module: ast.Module, text: str, roots: tuple[Path, ...] = (), env: EnvPy = NO_ENV) -> None:
        self.lines = text.split("\n")
        self.names = ModuleNames(roots=roots)
        self.env = env
        bound: dict[str, int] = {}
        for node in module.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                self.names.imports.update(imported(node))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.names.functions[node.name] = node if isinstance(node, ast.FunctionDef) else None
            elif isinstance(node, ast.Assign) and (alias := self.alias(node)) is not None:
                self.names.aliases[alias[0]] = alias[1]
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        bound[target.id] = bound.get(target.id, 0) + 1
                        self.names.values[target.id] = node.value
        # A name bound more than once at the top holds what the last binding says when the
        # functions run; only names bound once are read, to keep that question out.
        self.names.values = {name: value for name, value in self.names.values.items() if bound[name] == 1}
        # `# migration-check: allow ...` confirms the statement it stands before, as `--` does in SQL.
        self.directives = [Piece(line, column, f"-- {body}") for line, column, body in directives(text)]

    def alias(self, node: ast.Assign) -> tuple[str, str] | None:
        """(`module.name`, the path it names) for `module.name = imported`, both imported above."""
        [target] = node.targets if len(node.targets) == 1 else [None]
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                and isinstance(node.value, ast.Name)):
            return None
        module, value = self.names.imports.get(target.value.id), self.names.imports.get(node.value.id)
        return (f"{module}.{target.attr}", value) if module is not None and value is not None else None

    def run(self, function: ast.FunctionDef) -> Export:
        run = FunctionRun(self, SentSql(self.env))
        try:
            with warnings.catch_warnings():  # Alembic's and SQLAlchemy's notes to a developer, not findings
                warnings.simplefilter("ignore")
                run.block(function.body, passed_arguments(function, self.env))
        except _Return:
            pass
        except NotReplayable as reason:
            return Export(function.lineno, code=(reason.line, reason.what))
        except RecursionError:
            return Export(function.lineno, code=(function.lineno, DEEP))
        directives = [piece for piece in self.directives if function.lineno <= piece.line <= (function.end_lineno or 0)]
        return Export(function.lineno, pieces=tuple(sorted([*run.pieces, *directives], key=lambda p: p.line)),
                      tolerated=tuple(run.tolerated))


class _Return(Exception):
    def __init__(self, value: Any = None) -> None:
        super().__init__()
        self.value = value


class FunctionRun(Values):
    """One function's evaluation: its statements in order, each one's SQL a piece at its line."""

    def __init__(self, evaluator: Evaluator, sent: SentSql) -> None:
        super().__init__(evaluator.names, sent)
        self.evaluator = evaluator
        self.pieces: list[Piece] = []
        self.depth = 0  # inside the file's own functions: their statements belong to the call's line
        self.steps = 0
        self.tolerated: list[tuple[int, int]] = []  # Script.tolerated

    def helper(self, definition: ast.FunctionDef, arguments: list[Any], keywords: dict[str, Any], node: ast.AST) -> Any:
        line = getattr(node, "lineno", definition.lineno)
        parameters = definition.args
        if definition.decorator_list or parameters.vararg or parameters.kwarg or parameters.posonlyargs \
                or parameters.kwonlyargs or self.depth >= MOST_DEPTH:
            raise NotReplayable(line, f"{definition.name}, a function of the file this check does not run")
        names = [argument.arg for argument in parameters.args]
        defaults = dict(zip(names[len(names) - len(parameters.defaults):], parameters.defaults, strict=True))
        if len(arguments) > len(names) or set(keywords) - set(names):
            raise NotReplayable(line, f"{definition.name}() called with arguments it does not take")
        scope = dict(zip(names, arguments, strict=False)) | keywords
        for name in names:
            if name not in scope:
                if name not in defaults:
                    raise NotReplayable(line, f"{definition.name}() called without its {name}")
                scope[name] = self.value(defaults[name], {})
        self.depth += 1
        try:
            self.block(definition.body, scope)
        except _Return as returned:
            return returned.value
        finally:
            self.depth -= 1
        return None

    def project_call(self, function: ProjectFunction, arguments: list[Any], keywords: dict[str, Any],
                     node: ast.AST) -> Any:
        """A call of a function of the project's own modules: run as the file's own helpers are, by
        the evaluator of its module, its SQL the calling statement's."""
        inner = FunctionRun(function.evaluator, self.sent)
        inner.depth, inner.steps = self.depth, self.steps
        try:
            return inner.helper(function.definition, arguments, keywords, node)
        except NotReplayable as reason:
            raise NotReplayable(getattr(node, "lineno", 0), f"{reason.what}, in {function.definition.name}"
                                                            f" ({function.where}, line {reason.line})") from None
        finally:
            self.steps = inner.steps

    def block(self, statements: list[ast.stmt], scope: dict[str, Any]) -> None:
        for statement in statements:
            self.statement(statement, scope)

    def statement(self, node: ast.stmt, scope: dict[str, Any]) -> None:
        self.steps += 1
        if self.steps > MOST_STEPS:
            raise NotReplayable(node.lineno, f"Python that runs more than {MOST_STEPS:,} statements")
        if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            return
        if isinstance(node, ast.Return):
            raise _Return(self.collected(node, lambda: self.value(node.value, scope)) if node.value else None)
        if isinstance(node, ast.If):
            self.block(node.body if self.truth(node.test, scope) else node.orelse, scope)
            return
        if isinstance(node, ast.With):
            self.with_block(node, scope)
            return
        if isinstance(node, ast.For) and not node.orelse:
            self.loop(node, scope)
            return
        if isinstance(node, ast.While):
            batch_loop(node, scope, self.sent, self.value, lambda at, send: self.collected(at, send, placed=False))
            self.collected(node, lambda: None)  # (the DO block, at the loop's line)
            return
        if isinstance(node, ast.Try):
            # Its handlers run where a statement fails; on PostgreSQL a failed statement aborts the
            # transaction, which no Python handler resumes: what the replay sends is the body. On an
            # AUTOCOMMIT connection the migration goes on: the body is a region a failure ends.
            if self.evaluator.env.autocommit and not all(reraises(handler) for handler in node.handlers):
                self.tolerated_try(node, scope)
                return
            self.block([*node.body, *node.orelse, *node.finalbody], scope)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            scope.update({name: ImportedName(path) for name, path in imported(node).items()})
            return
        if isinstance(node, ast.Expr):
            self.collected(node, lambda: self.value(node.value, scope))
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple | ast.List):
            self.unpacked(node, node.targets[0], scope)
            return
        if isinstance(node, ast.Assert):  # what the file checks of its own values holds, or it stops here
            if not self.truth(node.test, scope):
                raise NotReplayable(node.lineno, "an assert that fails")
            return
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(isinstance(target, ast.Name) for target in targets):
                raise NotReplayable(node.lineno, "an assignment to something but a name")
            value = node.value
            result = self.collected(node, lambda: self.value(value, scope))
            scope.update({target.id: result for target in targets if isinstance(target, ast.Name)})
            return
        raise NotReplayable(node.lineno, WHAT.get(type(node), f"Python the check does not read ({type(node).__name__})"))

    def tolerated_try(self, node: ast.Try, scope: dict[str, Any]) -> None:
        """A try whose handler goes on, each statement committed on its own (AUTOCOMMIT): its body
        runs until a statement fails, then the function goes on after it, as under the runner
        (alembic_try.py). Only in the function's own body: a helper's statements stand at the call's
        line, not at the try's."""
        refused = (node.lineno, REFUSED.format("in a function the migration calls")) if self.depth \
            else why_not_tolerated(node, set(scope))
        if refused is not None:
            raise NotReplayable(*refused)
        placed = len(self.pieces)
        self.block(node.body, scope)
        if len(self.pieces) > placed:
            self.tolerated.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
        self.block(node.finalbody, scope)

    def unpacked(self, node: ast.Assign, target: ast.Tuple | ast.List, scope: dict[str, Any]) -> None:
        """`a, b = ...`: names bound to the items of a sequence the file can say."""
        items = self.used(self.collected(node, lambda: self.value(node.value, scope)), node)
        refused = "an assignment that does not unpack into its names"
        if not all(isinstance(name, ast.Name) for name in target.elts):
            raise NotReplayable(node.lineno, refused)
        scope.update(unpacked(target, items, node.lineno, refused))

    def collected(self, node: ast.stmt, evaluate: Any, at: tuple[int, int] | None = None, placed: bool = True) -> Any:
        """What `evaluate` gives, with the statements it sent as one piece at the node's place (or `at`),
        unless not `placed` (they stay to be taken)."""
        try:
            result = evaluate()
        except (Unreachable, sqlalchemy_errors.SQLAlchemyError, TypeError, ValueError, LookupError, AttributeError,
                ArithmeticError, AssertionError, NotImplementedError) as error:  # (`alembic upgrade` raises them too)
            what = f"uses {error}" if isinstance(error, Unreachable) else \
                "reads the database's schema as it is (reflection)" \
                if isinstance(error, sqlalchemy_errors.NoInspectionAvailable) else \
                f"Alembic or SQLAlchemy raised {type(error).__name__} here: {' '.join(str(error).split())[:200]}"
            raise NotReplayable(node.lineno, what) from None
        if not self.depth and placed:
            self.place(node, self.sent.taken(), at)
        return result

    def place(self, node: ast.stmt, statements: list[str], at: tuple[int, int] | None) -> None:
        if not statements:
            return
        line, column = at or self.position(node, statements[0])
        # All at the operation's line (a `--` comment would swallow what follows on its line).
        sql = "".join(statement if index == len(statements) - 1 else
                      statement.rstrip().rstrip(";") + (";\n" if "--" in statement else "; ")
                      for index, statement in enumerate(statements))
        self.pieces.append(Piece(line, column, sql))

    def position(self, node: ast.stmt, first: str) -> tuple[int, int]:
        """Where SQL the migration wrote out (`first`, the first statement sent) starts in the file,
        inside its string's quotes; else the statement that sends it."""
        written = next((inner for inner in ast.walk(node)
                        if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and inner.value == first), None)
        if written is None:
            return node.lineno, node.col_offset + 1
        line = self.evaluator.lines[written.lineno - 1]
        start = len(line.encode()[:written.col_offset].decode(errors="ignore"))
        rest = line[start:]
        opening = len(rest) - len(rest.lstrip("rRuUbBfF"))
        quote = 3 if rest[opening:opening + 3] in ('"""', "'''") else 1
        return written.lineno, start + opening + quote + 1

    def loop(self, node: ast.For, scope: dict[str, Any]) -> None:
        """A `for` over values the file writes out (`for name in INDEXES:`), its body once per item."""
        items = self.used(self.value(node.iter, scope), node)
        if isinstance(items, Result):
            raise NotReplayable(node.lineno, "a loop over a query's result, which only the database can say")
        if not isinstance(items, list | tuple | dict | str | Items) or len(items) > MOST_ITEMS:
            raise NotReplayable(node.lineno, "a loop over what the file cannot say alone")
        names = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
        if not all(isinstance(name, ast.Name) for name in names):
            raise NotReplayable(node.lineno, "a loop that binds something but names")
        leaves_early = any(isinstance(inner, ast.Break | ast.Continue) for inner in node.body)
        for item in items:
            scope.update(unpacked(node.target, item, node.lineno, "a loop whose items do not unpack into its names"))
            if leaves_early:
                raise NotReplayable(node.lineno, "a loop with break or continue")
            self.block(node.body, scope)

    def with_block(self, node: ast.With, scope: dict[str, Any]) -> None:
        if len(node.items) != 1:
            raise NotReplayable(node.lineno, "a with of several contexts")
        item = node.items[0]
        manager = self.collected(node, lambda: self.value(item.context_expr, scope))
        if not (hasattr(manager, "__enter__") and hasattr(manager, "__exit__")) or isinstance(manager, str | ImportedName):
            raise NotReplayable(node.lineno, "a with of something but Alembic's batch_alter_table or autocommit_block")
        entered = self.collected(node, manager.__enter__)
        if item.optional_vars is not None:
            if not isinstance(item.optional_vars, ast.Name):
                raise NotReplayable(node.lineno, "a with that unpacks its context")
            scope[item.optional_vars.id] = entered
        body_pieces = len(self.pieces)
        flush = _batch_flush(entered)
        if flush is None:
            self.block(node.body, scope)
        else:
            for statement in node.body:
                self.block([statement], scope)
                self.collected(statement, flush)
        # What the block sends as it ends: a batch's statements (at the `with`, where the body sent
        # nothing), an autocommit_block's BEGIN (after its body).
        last = node.body[-1]
        after = None if len(self.pieces) == body_pieces else ((last.end_lineno or last.lineno) + 1, 1)
        self.collected(node, lambda: manager.__exit__(None, None, None), after)


def _batch_flush(entered: Any) -> Callable[[], None] | None:
    """A batch that alters its table in place (PostgreSQL's, unless told to copy it) runs its queued
    operations in order as the block ends: run them as each statement queues them instead (the same
    SQL), so that they sit at their own lines. None for anything else."""
    impl = getattr(entered, "impl", None)
    if not isinstance(impl, BatchOperationsImpl) or impl._should_recreate():
        return None

    def flush() -> None:
        impl.flush()
        impl.batch.clear()
    return flush
