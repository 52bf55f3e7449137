"""yoyo's Python migrations, read without running them: the `step()` calls whose SQL is written out
in the file are the migration, as yoyo collects them when it imports the module.

    from yoyo import step
    __depends__ = {"20240101_01_abcde-create-schema"}
    steps = [
        step("CREATE TABLE t (id int)", "DROP TABLE t"),
        step(apply="CREATE INDEX i ON t (id)", rollback="DROP INDEX i"),
    ]

Rules, from yoyo's migrations.py (Migration.load, StepCollector, MigrationStep):
- yoyo imports the module with `step`, `group` and `transaction` injected; each `step()` call adds a
  step in call order, and `group()` takes its steps out and adds itself at its call. The `steps`
  list is a convention yoyo never reads.
- A step's apply is one `cursor.execute` (several statements in one string run as one query). The
  migration runs in one transaction, each step in a savepoint, unless `__transactional__ = False`.
  A rollback runs the steps' rollbacks in reverse order; a step without one does nothing.
- `__depends__` names the migrations that must run first (a set, list, tuple or one string).

What is replayed: SQL written in the file (string literals, their concatenation, an f-string
without fields, a module-level name bound once to such a string, `dedent()` or `.strip()` of
one). A step (or group) whose errors yoyo ignores (`ignore_errors`) is a region a failure ends, in
a savepoint where the migration runs in a transaction, as yoyo runs it. A step that runs a
function, computes its SQL or how it ignores errors, or steps made inside loops, conditions or
functions are Python the check cannot replay: the migration is skipped with the reason and its line.
The Python itself is parsed (`ast`), never imported: migrations are untrusted code.
"""

from __future__ import annotations

import ast
import dataclasses
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from migration_check.errors import FileError
from migration_check.model import Script, Transaction

_STEP = frozenset({"step", "yoyo.step"})
_GROUP = frozenset({"group", "transaction", "yoyo.group", "yoyo.transaction"})


@dataclass(frozen=True)
class Piece:
    """One step's SQL and the character offset in the file where it is written."""

    text: str
    offset: int


@dataclass
class PythonMigration:
    depends: list[str] = field(default_factory=list)
    depends_line: int | None = None
    transactional: bool = True
    applies: list[Piece] = field(default_factory=list)
    rollbacks: list[Piece] = field(default_factory=list)  # in the order yoyo runs them
    skip_reason: str | None = None
    # The lines of the steps (or groups) whose errors yoyo ignores when applying, when rolling back
    # (`ignore_errors`): Script.tolerated.
    tolerated_apply: list[tuple[int, int]] = field(default_factory=list)
    tolerated_rollback: list[tuple[int, int]] = field(default_factory=list)


class NotReplayable(Exception):
    """Python the check cannot replay; the message says what and where."""


@dataclass
class _Step:
    apply: Piece | None
    rollback: Piece | None
    ignored: tuple[str, tuple[int, int]] | None = None  # (ignore_errors, the step's or its group's lines)


def imports_steps(text: str) -> bool:
    """Whether a module imports yoyo's migration API (`from yoyo import step`), as migrations do;
    a script that applies them imports `read_migrations` and is none."""
    if "yoyo" not in text:
        return False
    try:
        module = ast.parse(text)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.ImportFrom) and node.module == "yoyo"
               and any(alias.name in ("step", "group", "transaction") for alias in node.names)
               for node in module.body)


def read_python_migration(path: Path, text: str) -> PythonMigration:
    """The steps of a yoyo Python migration. A file yoyo cannot import for its syntax is a FileError
    (yoyo refuses every migration then); Python the check cannot replay is a skip reason."""
    try:
        module = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise FileError(path, error.lineno, f"yoyo cannot import it: {error.msg}") from None
    reader = _Reader(text, module)
    found = PythonMigration()
    try:
        found.depends, found.depends_line = reader.depends()
        found.transactional = reader.transactional()
        steps = reader.steps()
    except NotReplayable as reason:
        found.skip_reason = f"Python migration: {reason}, which the check cannot replay"
        return found
    found.applies = [s.apply for s in steps if s.apply is not None]
    found.rollbacks = [s.rollback for s in reversed(steps) if s.rollback is not None]
    found.tolerated_apply = sorted({s.ignored[1] for s in steps if s.ignored and s.ignored[0] in ("apply", "all")})
    found.tolerated_rollback = sorted({s.ignored[1] for s in steps if s.ignored and s.ignored[0] in ("rollback", "all")})
    return found


def script_of(path: Path, text: str, pieces: list[Piece], transaction: Transaction,
              tolerated: list[tuple[int, int]] | None = None) -> Script:
    """A Script whose statements are the pieces, each at its own line and column of the Python
    file: the SQL text keeps every piece where the file has it and blanks out the Python between,
    so that errors and findings point into the .py file."""
    placed: dict[int, int] = {}
    sql = ""
    for index, piece in sorted(enumerate(pieces), key=lambda item: item[1].offset):
        if piece.offset >= len(sql):
            gap = text[len(sql):piece.offset]
            sql += "".join(c if c == "\n" else " " for c in gap)
        else:  # written over the same lines as the piece before it (an escaped newline): after it
            sql += "\n"
        placed[index] = len(sql)
        sql += piece.text
    statements = tuple((placed[index], piece.text) for index, piece in enumerate(pieces))
    return Script(path, sql, transaction=transaction, statements=statements, tolerated=tuple(tolerated or ()))


def _ignored(value: ast.expr | None, call: ast.Call, what: str) -> tuple[str, tuple[int, int]] | None:
    """A step's or group's `ignore_errors` ("apply", "rollback", "all") with its lines, or None."""
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return None
    if not (isinstance(value, ast.Constant) and value.value in ("apply", "rollback", "all")):
        raise NotReplayable(f"the {what} at line {call.lineno} ignores its errors as Python computes"
                            f" ({ast.unparse(value)})")
    return str(value.value), (call.lineno, call.end_lineno or call.lineno)


class _Reader:
    def __init__(self, text: str, module: ast.Module) -> None:
        self.text = text
        self.module = module
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.aliases = {name: name for name in (*_STEP, *_GROUP)}
        self.strings: dict[str, ast.expr] = {}
        self.functions: set[str] = set()
        bound: dict[str, int] = {}
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and node.module == "yoyo":
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.add(node.name)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                bound[node.targets[0].id] = bound.get(node.targets[0].id, 0) + 1
                self.strings[node.targets[0].id] = node.value
        # Only names bound once, at the top, hold one known string.
        self.strings = {name: value for name, value in self.strings.items() if bound[name] == 1}

    def depends(self) -> tuple[list[str], int | None]:
        value = self.strings.get("__depends__")
        if value is None:
            return [], None
        names = [value] if isinstance(value, ast.Constant) else getattr(value, "elts", getattr(value, "keys", None))
        if names is None or not all(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in names):
            raise NotReplayable(f"its __depends__ (line {value.lineno}) is computed")
        return [str(n.value) for n in names if isinstance(n, ast.Constant)], value.lineno

    def transactional(self) -> bool:
        value = self.strings.get("__transactional__")
        if value is None:
            return True
        if not isinstance(value, ast.Constant):
            raise NotReplayable(f"its __transactional__ (line {value.lineno}) is computed")
        return bool(value.value)

    def steps(self) -> list[_Step]:
        collected: list[tuple[ast.Call, list[_Step]]] = []  # as yoyo's collector holds them
        reached: set[ast.Call] = set()
        for statement in self.module.body:
            if isinstance(statement, ast.Assign | ast.Expr | ast.AnnAssign) and statement.value is not None:
                for call in _calls(statement.value):
                    kind = self._kind(call)
                    if kind is None:
                        continue
                    reached.add(call)
                    if kind == "step":
                        collected.append((call, [self._step(call)]))
                    else:
                        collected = self._group(call, collected)
        for call in (node for node in ast.walk(self.module) if isinstance(node, ast.Call)):
            if self._kind(call) is not None and call not in reached:
                raise NotReplayable(f"the step at line {call.lineno} is made by Python code (in a function,"
                                    " loop or condition)")
        return [step for _, steps in collected for step in steps]

    def _kind(self, call: ast.Call) -> str | None:
        original = self.aliases.get(ast.unparse(call.func))
        if original in _STEP:
            return "step"
        return "group" if original in _GROUP else None

    def _step(self, call: ast.Call) -> _Step:
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            raise NotReplayable(f"the step at line {call.lineno} takes its arguments from Python code")
        given = dict(zip(("apply", "rollback", "ignore_errors"), call.args, strict=False))
        given.update({k.arg: k.value for k in call.keywords if k.arg is not None})
        ignored = _ignored(given.get("ignore_errors"), call, "step")
        return _Step(self._piece(given.get("apply"), call), self._piece(given.get("rollback"), call), ignored)

    def _group(self, call: ast.Call, collected: list[tuple[ast.Call, list[_Step]]]) -> list[tuple[ast.Call, list[_Step]]]:
        if any(k.arg not in ("steps", "ignore_errors") for k in call.keywords):
            raise NotReplayable(f"the group at line {call.lineno} takes its arguments from Python code")
        ignored = _ignored(next((k.value for k in call.keywords if k.arg == "ignore_errors"), None), call, "group")
        members = [*call.args, *(k.value for k in call.keywords if k.arg == "steps")]
        inner: list[ast.expr] = []
        for member in members:
            inner += member.elts if isinstance(member, ast.List | ast.Tuple) else [member]
        by_call = dict(collected)
        if not all(isinstance(m, ast.Call) and m in by_call for m in inner):
            raise NotReplayable(f"the group at line {call.lineno} gathers steps made elsewhere")
        taken = [m for m in inner if isinstance(m, ast.Call)]
        remaining = [(c, s) for c, s in collected if c not in taken]
        steps = [step for member in taken for step in by_call[member]]
        if ignored is not None:  # (yoyo runs the group in one savepoint: a failure ends all of it)
            steps = [dataclasses.replace(step, ignored=ignored) for step in steps]
        return [*remaining, (call, steps)]

    def _piece(self, node: ast.expr | None, call: ast.Call) -> Piece | None:
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return None
        value = self._string(node)
        if value is None:
            what = f"runs the function {node.id}" if isinstance(node, ast.Name) and node.id in self.functions \
                else "runs Python code" if isinstance(node, ast.Lambda | ast.Name | ast.Attribute) \
                else "computes its SQL"
            raise NotReplayable(f"the step at line {call.lineno} {what}")
        offset = self._offset(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "strip":
            written = self._string(node.func.value) or ""
            offset += len(written) - len(written.lstrip())  # where the stripped text starts in the file
        return Piece(value, offset)

    def _string(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            return "".join(parts) if len(parts) == len(node.values) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._string(node.left), self._string(node.right)
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.Name) and node.id in self.strings and node.id not in ("__depends__", "__transactional__"):
            return self._string(self.strings[node.id])
        if isinstance(node, ast.Call) and not node.keywords and len(node.args) <= 1:
            callee = ast.unparse(node.func)
            if callee in ("dedent", "textwrap.dedent") and len(node.args) == 1:
                inner = self._string(node.args[0])
                return textwrap.dedent(inner) if inner is not None else None
            if isinstance(node.func, ast.Attribute) and node.func.attr == "strip" and not node.args:
                inner = self._string(node.func.value)
                return inner.strip() if inner is not None else None
        return None

    def _offset(self, node: ast.expr) -> int:
        """Where the string's text starts in the file: after the opening quote of its (first)
        literal. Positions inside it are exact where its text is its value (no escapes, one literal)."""
        if isinstance(node, ast.Name) and node.id in self.strings:
            return self._offset(self.strings[node.id])
        if isinstance(node, ast.BinOp):
            return self._offset(node.left)
        if isinstance(node, ast.Call):  # dedent("..."), "...".strip()
            inner = node.args[0] if node.args else getattr(node.func, "value", None)
            if inner is not None:
                return self._offset(inner)
        line = self.lines[node.lineno - 1]
        start = self.starts[node.lineno - 1] + len(line.encode()[:node.col_offset].decode(errors="ignore"))
        source = self.text[start:start + 8]
        opening = len(source) - len(source.lstrip("rRuUbBfF"))
        quote = source[opening:opening + 3] if source[opening:opening + 3] in ('"""', "'''") else source[opening:opening + 1]
        return start + opening + len(quote) if quote in ('"""', "'''", '"', "'") else start


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    """The calls inside `node` in the order Python makes them: arguments before the call."""
    for child in ast.iter_child_nodes(node):
        yield from _calls(child)
    if isinstance(node, ast.Call):
        yield node
