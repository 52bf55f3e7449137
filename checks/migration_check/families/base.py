"""What a replay check family is, and what it sees of a migration's round trip.

The replay runs each migration as

    before_up -> up (in_up_transaction, then commit) -> after_up -> down -> after_down
              -> up again -> after_reapply (and the next migration's before_up)

and calls every family at each of those points. A family is one module with one `Family`
subclass: it observes where it needs to (a fingerprint before the up, the locks inside the up's
transaction, ...) and gives exactly one verdict per migration, at its `stage`. When the replay
never reaches that stage (the up failed, there is no rollback, the rollback failed), the runner
records the family's case as skipped with the reason, so a family never has to.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple, TypeVar

import psycopg
from pglast import ast

from migration_check.data.watch import Watched, watched_tables
from migration_check.discovery import layout_named
from migration_check.discovery.base import FailedAt
from migration_check.families.case_location import default_location
from migration_check.model import CheckResult, Migration, Project, Script, Severity, Status, Transaction
from migration_check.replay.executor import CommitRead, ScriptFailed
from migration_check.schema.diff import Difference
from migration_check.schema.snapshot import Snapshot
from migration_check.servers.declared_postgres import declared_postgres
from migration_check.settings import Settings
from migration_check.sql import Statement, SyntaxProblem, split_script, trees
from migration_check.sql.cluster_wide import superuser_given
from migration_check.sql.dialects import INSUFFICIENT_PRIVILEGE, newer_postgresql

RUNNER_TRANSACTIONS = frozenset({Transaction.WRAPPED, Transaction.ONE_QUERY, Transaction.UNMIXED})
# "cannot run inside a transaction block" (CONCURRENTLY, VACUUM) and "invalid transaction
# termination" (a DO block or procedure that commits).
OUTSIDE_TRANSACTIONS_ONLY = frozenset({"25001", "2D000"})
S = TypeVar("S")


class Stage(enum.IntEnum):
    """How far a migration's round trip got, in order. A family's verdict is due at its stage."""

    UP_RAN = 1  # the up was tried (it may have failed)
    UP_DONE = 2  # the up committed
    DOWN_RAN = 3  # the rollback was tried
    DOWN_DONE = 4  # the rollback committed
    REAPPLY_RAN = 5  # the up was tried again


@dataclass(frozen=True)
class StepRun:
    """One script run by the replay: the up, the rollback, the up again, a verify script."""

    script: Script
    failure: ScriptFailed | None
    seconds: float
    went_on: tuple[ScriptFailed, ...] = ()  # failures the script went on after, as its runner does

    @property
    def failed(self) -> bool:
        return self.failure is not None


class Unreplayed(NamedTuple):
    """An earlier migration whose up is not in the database, and why (its skip reason, or that it
    failed to apply)."""

    migration: Migration
    reason: str
    error: tuple[str | None, str] | None = None  # (SQLSTATE, message) of its up, where that failed on its own
    root: str | None = None  # where it was not judged: the failure (or code migration) it follows from


@dataclass
class MigrationContext:
    """Everything a family may look at for one migration. Snapshots and steps are filled in as the
    round trip reaches them; a family reads only those of stages up to its own."""

    project: Project
    settings: Settings
    migration: Migration
    conn: psycopg.Connection
    before: Snapshot
    differences: Callable[[Snapshot, Snapshot], list[Difference]]
    run_script: Callable[[Script], StepRun]
    up: StepRun | None = None
    after_up: Snapshot | None = None
    down: StepRun | None = None
    after_down: Snapshot | None = None
    reapply: StepRun | None = None
    after_reapply: Snapshot | None = None
    # What families noted for each other (e.g. rows counted before the up), by family name.
    notes: dict[str, object] = field(default_factory=dict)
    # Objects the setup scripts provided: (kind, name) -> "the supabase setup".
    setup_objects: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # Earlier migrations the replay could not run (goose Go, Flyway Java, yoyo Python code) or whose
    # up failed or was not judged, each with the reason: the state they would make is missing.
    skipped_before: tuple[Unreplayed, ...] = ()
    # The tool's own session on the same database (migrations never use it): what a family keeps
    # between stages (copies of rows) lives there. None: the migration's connection stands in.
    admin: psycopg.Connection | None = None
    # Tables that are the runner's, not the project's (its history table): never filled or compared.
    runner_tables: frozenset[str] = frozenset()
    # In `in_up_transaction`, for a script that runs statement by statement: the statement just run
    # (in a transaction of its own). None: the whole script ran in one transaction.
    current_statement: Statement | None = None
    # Each family's own record of this migration (the rows it copied, the locks it saw), by family
    # name (Family.state): the next migration's before_up may run before this one's verdicts.
    family_states: dict[str, object] = field(default_factory=dict)
    # The watched tables, as read on this tool session (see `watched_tables`).
    _watched: tuple[psycopg.Connection, Watched] | None = field(default=None, repr=False)

    @property
    def tool_session(self) -> psycopg.Connection:
        return self.admin if self.admin is not None else self.conn

    def watched_tables(self) -> list[int]:
        """The oids of the tables the up or the rollback reaches (data/watch.py): what they name,
        the tables that reference those, the tables their triggers write."""
        return self._watched_read().reached

    def changeable_tables(self) -> list[int]:
        """The watched tables whose rows the up or the rollback may change."""
        return self._watched_read().changeable

    def _watched_read(self) -> Watched:
        """Read once per migration (and tool session) for every family that needs it."""
        session = self.tool_session
        if self._watched is None or self._watched[0] is not session:
            self._watched = (session, watched_tables(session, [self.migration.up, self.migration.down]))
        return self._watched[1]

    def result(
        self,
        check: str,
        status: Status,
        *,
        script: Script | None = None,
        file: str | None = None,
        line: int | None = None,
        message: str = "",
        details: str = "",
        seconds: float = 0.0,
    ) -> CheckResult:
        """One test case of this migration. Without `file`, it points at `script` (or the file the
        check is about), at the line where that script starts."""
        if file is None:
            file, default_line = default_location(self.project, self.migration, check, script)
            line = line or default_line
        return CheckResult(check=check, subject=self.migration.id, status=status, file=file, line=line,
                           message=message, details=details, seconds=seconds)

    def unused_confirmation(self, check: str, script: Script, line: int, allows: str, why_nothing: str) -> CheckResult:
        """A warning at a confirmation nothing needed (`why_nothing`: "loses no data"), so that stale
        ones do not pile up."""
        relative = self.project.relative(script.path)
        case = self.result(check, Status.FAILED, file=relative, line=line,
                           message=f"{relative}:{line}: unused confirmation: this migration's rollback {why_nothing},"
                                   f" so `allow {allows}` confirms nothing; remove it")
        case.severity = Severity.WARNING
        return case

    def _wrapped(self, step: StepRun) -> str:
        """Why a statement PostgreSQL refuses in a transaction block failed in a script the runner
        wraps in one, and the runner's own way out; "" for other failures."""
        if step.failure is None or step.script.transaction not in RUNNER_TRANSACTIONS or (
                step.failure.sqlstate not in OUTSIDE_TRANSACTIONS_ONLY):
            return ""
        layout = layout_named(self.project.format)
        how = layout.transaction_each_how if layout.transaction_each_how and not self.project.pending_in_one_transaction \
            else layout.transaction_how
        return f" ({layout.name} {how}, where PostgreSQL refuses this statement: {layout.transaction_opt_out})"

    def _demoted(self, step: StepRun) -> str:
        """Why a statement was refused its privileges, where the role the migrations run as here is
        no longer a superuser: the migration (this or an earlier one) that took it away. The
        project's runner runs them as another role (Supabase's own migrations demote `postgres` and
        run as `supabase_admin`); "" otherwise."""
        if step.failure is None or step.failure.sqlstate != INSUFFICIENT_PRIVILEGE:
            return ""
        role = self.conn.info.user
        row = self.tool_session.execute("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)).fetchone()
        if row is None or row[0]:
            return ""
        for migration in reversed(self.project.migrations[:self.project.migrations.index(self.migration) + 1]):
            try:
                statements = split_script(migration.up) if migration.up is not None else []
            except SyntaxProblem:
                continue
            for statement in reversed(statements):
                if (given := superuser_given(statement, role)) is not None:
                    where = f"{self.project.relative(statement.path)}:{statement.line}"
                    return "" if given else (
                        f" ({where} took SUPERUSER from {role}, the role the migrations run as here: if the runner"
                        " runs them as another role, run them as that one, `migration-role:` in the config)")
        return ""

    def empty_rollback(self) -> str:
        """Why the rollback undoes nothing, where that is why: it is missing (the runner then runs
        nothing), holds no statement (vaultwarden keeps an empty down.sql for most column
        additions) or only a placeholder (goose's template: `SELECT 'down SQL query';`); ""
        otherwise."""
        down = self.migration.down
        if down is None:
            return ""
        if self.migration.implicit_down:
            return f" ({self.project.format} runs nothing for it: the migration has no rollback)"
        try:
            statements = split_script(down)
        except SyntaxProblem:
            return ""
        layout = layout_named(self.project.format)
        unsent = layout.unsent_note(down)
        if statements and not (len(statements) == 1 and placeholder(statements[0])):
            return f" ({self.project.relative(down.path)}: {unsent})" if unsent else ""
        holds = f"holds only `{statements[0].sql.strip().rstrip(';')}`, a placeholder" if statements else (
            layout.empty_rollback_note(down) or ("holds no statement" + (f": {unsent}" if unsent else "")))
        file = self.project.relative(down.path)
        if len(down.parts) > 1 and not statements:  # a split pop migration's downs, all empty
            first, last = (self.project.relative(part) for part in (down.parts[0], down.parts[-1]))
            return f" (the {len(down.parts)} files of its rollback, {first} to {last}, hold no statement)"
        up = self.migration.up
        if up is not None and up.path == down.path:  # a section of the file (goose, dbmate)
            return f" (the rollback section of {file}, from line {down.first_line}, {holds})"
        return f" ({file} {holds})"

    def newer_postgresql(self, failure: ScriptFailed) -> str | None:
        """`(PostgreSQL 18 reads this statement; ...)` where this server's grammar is too old for
        it, naming the PostgreSQL the project runs where it names one."""
        declared = declared_postgres(self.project.repo_root)
        return newer_postgresql(failure.sqlstate, failure.statement, self.conn.info.server_version,
                                None if declared is None else (declared.major, declared.where(self.project.repo_root)))

    def runner_hint(self, failure: ScriptFailed) -> str | None:
        """What the project's runner made of the text that failed (its layout's failure_hint)."""
        return layout_named(self.project.format).failure_hint(
            FailedAt(failure.path, failure.line, failure.sqlstate, failure.statement))

    def step_result(self, check: str, step: StepRun, failure_prefix: str = "") -> CheckResult:
        """A passing case for a step that ran, or a failing one at the failing statement's file:line."""
        if step.failure is None:
            passed = self.result(check, Status.PASSED, script=step.script, seconds=step.seconds)
            for failure in step.went_on:
                relative = self.project.relative(failure.path) or str(failure.path)
                passed.message = (f"{passed.message}; " if passed.message else "") + (
                    f"{failure.summary(relative)}, and the runner goes on after it, as the file asks"
                    " (its `try`, its ignore_errors)")
            return passed
        relative = self.project.relative(step.failure.path) or str(step.failure.path)
        return self.result(check, Status.FAILED, file=relative, line=step.failure.line or 1,
                           message=failure_prefix + step.failure.summary(relative) + self._wrapped(step)
                           + self._demoted(step),
                           details=step.failure.body(relative), seconds=step.seconds)


def placeholder(statement: Statement) -> bool:
    """Whether the statement only selects constants (`SELECT 'down SQL query'`): it does nothing."""
    if statement.node != "SelectStmt":
        return False
    node = trees.statement(statement.sql)
    return (isinstance(node, ast.SelectStmt) and not node.fromClause and node.targetList is not None
            and not node.whereClause and all(isinstance(t.val, ast.A_Const) for t in node.targetList))


class Family:
    """A check family of the replay: one JUnit test case per migration, classname
    `migration_check.<name>`. Subclasses set `name` and `stage` and implement `verdict`; the
    observation hooks are optional."""

    name: ClassVar[str]
    stage: ClassVar[Stage]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, migration: Migration) -> bool:
        """Whether this migration gets a case of this family at all (verify: only with a verify script)."""
        return True

    def state(self, context: MigrationContext, kind: type[S], new: bool = False) -> S:
        """This family's record of `context`'s migration, a `kind()` made at first use (or now,
        `new`). What a family notes of one migration lives there, not on the family: the next
        migration's before_up runs ahead of time, before this migration's last verdicts."""
        state = context.family_states.get(self.name)
        if new or not isinstance(state, kind):
            state = context.family_states[self.name] = kind()
        return state

    def before_up(self, context: MigrationContext) -> None:
        """Before the up runs, on the state the previous migrations left. Usually ahead of time, on
        the tool's own session, alongside the previous migration's last snapshot (and before that
        migration's last verdicts: REAPPLY_RAN's, or, where no rollback runs, UP_DONE's and the
        unreached cases): `context.before` is not known yet then; and when the verdicts rebuild the
        database, it is called again for the new one."""

    def before_up_ahead(self) -> bool:
        """Whether `before_up` may run ahead of time (it does not use the migration's connection)."""
        return True

    def up_again_on_fresh_state(self, context: MigrationContext) -> None:
        """The up failed on the generated rows and runs again without them, on a rebuilt database (or
        on this one, its rows removed in place): what `before_up` noted of the old database (its
        relations' storage) no longer applies. Not called with the rows filled: that would defeat it."""

    def rows_removed_in_place(self, context: MigrationContext, scripts: list[Script]) -> bool:
        """A step failed on the generated rows: remove the rows this family made, in place, where
        that gives the state a rebuild without them would (`scripts`: what the rebuild would run,
        the setup, the runner's bookkeeping and the ups); False, with nothing removed, where it does
        not (the database is rebuilt instead). A family that makes no rows has none to remove."""
        return True

    def in_up_transaction(self, context: MigrationContext, conn: psycopg.Connection) -> None:
        """Inside the up's transaction, after its last statement and before the commit; for a script
        that runs statement by statement, after each statement that can run in a transaction
        (`context.current_statement`). Overriding it costs the up more round trips."""

    def up_transaction_read(self, context: MigrationContext) -> CommitRead | None:
        """What `in_up_transaction` reads, for an up that runs in one transaction: a query and what
        takes its rows, sent with the up and its COMMIT (no round trip of its own). None: the up
        runs as for `in_up_transaction` alone."""
        return None

    # The after_* hooks run on the tool's own session while the snapshot of that point is taken on
    # the migration's (replay/alongside.py): they read neither that snapshot (the verdicts do) nor
    # the migration's connection.

    def after_up(self, context: MigrationContext) -> None:
        """After the up committed, on `context.tool_session`."""

    def after_down(self, context: MigrationContext) -> None:
        """After the rollback committed, on `context.tool_session`."""

    def after_reapply(self, context: MigrationContext) -> None:
        """After the up ran again, on `context.tool_session`."""

    def verdict(self, context: MigrationContext) -> CheckResult:
        """This family's case for the migration, once the round trip reached `stage`."""
        raise NotImplementedError

    def unreached(self, context: MigrationContext, reason: str) -> CheckResult | None:
        """The case when the round trip stopped before `stage` (because of `reason`); None: the
        runner's skipped case. A family that learned something before stopping says it here."""
        return None

    def after_all(self, project: Project, conn: psycopg.Connection, applied: Sequence[Migration]) -> list[CheckResult]:
        """Cases of the whole run, after the last migration (a seed file's), on the database the
        `applied` migrations built."""
        return []

    # Its whole-run cases may fail on the generated rows: judged again without them (again_without_rows).
    rows_may_fail_at_end: ClassVar[bool] = False
    # Its before_up fills the tables with rows: it runs before the other families' (Trip.observe).
    fills_tables: ClassVar[bool] = False

    def again_without_rows(self, project: Project, conn: psycopg.Connection, applied: Sequence[Migration],
                           results: list[CheckResult]) -> list[CheckResult]:
        """`results` (from after_all) judged again on the `applied` migrations without generated rows."""
        return results

    @classmethod
    def observes_up_transaction(cls) -> bool:
        return cls.in_up_transaction is not Family.in_up_transaction


@dataclass
class Trip:
    """One migration's round trip in progress: the families that judge it and their verdicts."""

    families: list[Family]
    context: MigrationContext
    verdicts: dict[str, CheckResult] = field(default_factory=dict)
    before_up_observed: bool = False  # ahead of time, alongside the previous migration's last snapshot

    def observe(self, hook: str) -> None:
        # The rows go in before any other family notes the state the up starts from: a trigger they
        # fire may change it (aredl's REFRESH MATERIALIZED VIEW in an insert trigger gives the view
        # a new file, which the lock family would tell as the up's rewrite).
        families = sorted(self.families, key=lambda family: not family.fills_tables) if hook == "before_up" else self.families
        for family in families:
            getattr(family, hook)(self.context)

    def reached(self, stage: Stage) -> None:
        for family in self.families:
            if family.stage is stage:
                self.verdicts[family.name] = family.verdict(self.context)
