"""The data that flows between discovery, replay, history and reports.

Everything here is plain, immutable data: discovery produces a `Project`, every check produces
`CheckResult`s, and the reports only read them.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from pathlib import Path


class RollbackPolicy(str, enum.Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    ABSENT = "absent"


class Transaction(str, enum.Enum):
    """How a script is wrapped. AUTO lets the executor decide from the statements it contains."""

    AUTO = "auto"
    # Each statement on its own: the runner's own opt-out (dbmate `transaction:false`, goose `NO
    # TRANSACTION`), or a runner that splits every migration (Prisma 7.5 and later).
    NONE = "none"
    # The runner runs the script in a transaction of its own (dbmate, goose, sqlx, diesel, yoyo,
    # db-migrate by default): a statement PostgreSQL refuses in a transaction block (CREATE INDEX
    # CONCURRENTLY) fails here as it fails there.
    WRAPPED = "wrapped"
    # The runner sends the whole file as one query (golang-migrate): PostgreSQL runs several
    # statements of one query as one implicit transaction, a single statement as itself.
    ONE_QUERY = "one-query"
    # The runner runs the script in a transaction, or outside one when every statement needs it,
    # and refuses a script that mixes both kinds (Flyway without `mixed=true`).
    UNMIXED = "unmixed"


@dataclass(frozen=True)
class Script:
    """One runnable piece of SQL: a whole file, or a section of one (dbmate, goose).

    `first_line` is the 1-based line of the file where `sql` starts, so that an error position
    inside `sql` maps back to the file.
    """

    path: Path
    sql: str
    first_line: int = 1
    transaction: Transaction = Transaction.AUTO
    # goose StatementBegin/End and similar: the layout already knows the statement boundaries.
    # Each entry is (offset into sql, statement text). None means "split with the SQL parser".
    statements: tuple[tuple[int, str], ...] | None = None
    # The directory a script may include files from (`\i`): the repository. None: no limit (the
    # tool's own presets). Migrations are untrusted; nothing outside the repository is read for them.
    root: Path | None = None
    # psql variables set before the script runs, as `psql --set name=value` sets them (sqitch
    # passes its configured variables so): `:name`, `:'name'` and `:"name"` in the script use them.
    variables: tuple[tuple[str, str], ...] = ()
    # The runner sends the script as one query in its transaction (dbmate, sqlx, diesel,
    # db-migrate, maragu): PostgreSQL runs all of it in a transaction block, the script's own
    # COMMIT notwithstanding (runners that send statements one by one: goose, sql-migrate, yoyo).
    sent_as_one_query: bool = False
    # The files a script made of several includes (the parts of a split pop migration), said
    # when they hold no statement at all.
    parts: tuple[Path, ...] = ()
    # Lines of the file (first, last) where a failed statement ends only its region, and the script
    # goes on after it, as the runner does: an Alembic `try` whose handler goes on, on an AUTOCOMMIT
    # connection. Only in a script run statement by statement (each committed on its own).
    tolerated: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class OwnText:
    """What the runner checksums of a migration that shares its file with others (a Liquibase
    changeset: its changes, not the changesets written around it), and the line it starts at. The
    history check compares it instead of the file. `edits_allowed`: the runner takes an edit (it runs
    the changeset again, `runOnChange`, or it lists the checksums it accepts, `validCheckSum`)."""

    path: Path
    line: int
    text: str
    edits_allowed: bool = False


@dataclass(frozen=True)
class Migration:
    """One versioned step, with its forward script and (where the layout has one) its rollback."""

    version: str
    name: str
    sort_key: tuple
    up: Script | None
    down: Script | None = None
    # Extra script that proves a deploy worked (sqitch verify). Runs after each `up`, or with
    # `verify_at_end` once every migration is applied (sqitch without `deploy.verify`: a verify
    # script may then read what later changes create).
    verify: Script | None = None
    verify_at_end: bool = False
    # Files that make up this migration, for reports and history. The first is the "main" file.
    files: tuple[Path, ...] = ()
    # Files of the repository, no migration's own, whose text it runs (a JavaScript module's
    # `fs.readFileSync`, a Liquibase `sqlFile`): part of it for the history check, where an edit of
    # one after the merge is an edit of the migration, but not its own files to name.
    read_files: tuple[Path, ...] = ()
    own_text: OwnText | None = None
    # Not runnable here (goose Go, Flyway Java): reported as skipped with this reason.
    skip_reason: str | None = None
    # Skipped because its runner refuses to read the file (a refusal of the discovery says where):
    # not code the replay lacks.
    refused: bool = False
    # Left out by the runner where the project runs it (Liquibase's contexts and labels): it is
    # neither run nor recorded there, so its version is no other migration's concern.
    filtered: bool = False
    # The rollback exists but is not SQL (db-migrate's JavaScript `exports.down`): not a missing
    # rollback, but not one the replay can run; its round trip is skipped with this reason.
    down_skip_reason: str | None = None
    # A condition (SQL) the runner checks on the database just before the up, which skips the
    # migration where it does not hold (Liquibase's preconditions with onFail MARK_RAN or
    # CONTINUE), and what is said then.
    precondition: str | None = None
    precondition_reason: str = ""
    # Flyway R__ scripts: applied after the versioned ones.
    repeatable: bool = False
    # Flyway B__ baseline migration: a new database starts from the latest one, and the versioned
    # migrations up to its version (`covered`) are not run there (they ran on the old databases).
    baseline: bool = False
    covered: bool = False
    # Run only when a database made by an older release is upgraded (memos' incremental migrations,
    # beside the LATEST.sql a new database gets): not replayed, but linted, as every upgrade runs it.
    upgrade_only: bool = False
    # Its code declares its version (a Flyway JavaMigration's getVersion()): the runner reads no
    # name rule off its file, so the naming check has none to hold it to.
    versioned_in_code: bool = False
    # `down` is empty because the file (or section) is missing and the runner then runs nothing
    # (golang-migrate, goose): the round trip judges it; `rollbacks: required` still asks for one.
    implicit_down: bool = False
    # What the project calls it where that is not `<version>_<name>` (a diesel directory keeps the
    # dashes its version drops: `2024-01-01-000000_create_users`).
    label: str = ""
    # The alternative history it belongs to, where a project keeps several that one database cannot
    # hold together (Alembic trees that each create the same tables): each is replayed in a fresh
    # database of its own. "" where there is one history.
    history: str = ""

    @property
    def id(self) -> str:
        """A stable, human name: `20250906120000_add_user_preferences`."""
        if self.label:
            return self.label
        return f"{self.version}_{self.name}" if self.name else self.version

    @property
    def linted(self) -> bool:
        """Whether its up is linted: it is replayed, or runs only where the replay cannot go."""
        return self.up is not None and (not self.skip_reason or self.upgrade_only)

    @property
    def main_file(self) -> Path | None:
        if self.up is not None:
            return self.up.path
        return self.files[0] if self.files else None


@dataclass(frozen=True)
class StrayFile:
    """A file in the migrations directory that matches no pattern of the layout."""

    path: Path
    reason: str
    # The layout's runner fails on this file (goose: a .sql file it cannot parse a version from).
    # Otherwise the runner ignores it, and so does the naming check's verdict (a warning).
    refused: bool = False
    # A migration whose name the runner reads otherwise than meant (yoyo's `x.rollback..sql`, run
    # forward; postgres-migrations' id after a gap, which stops it): a failure of the naming check,
    # `reason` saying what the runner does.
    misread: bool = False


@dataclass(frozen=True)
class Refusal:
    """What the runner refuses to run, seen in the files alone (an `atlas.sum` that no longer
    matches the directory, a directive it rejects): a history finding at that file and line."""

    path: Path
    line: int
    message: str


@dataclass(frozen=True)
class OrphanRollback:
    """A rollback script whose forward migration does not exist."""

    path: Path
    version: str
    name: str


@dataclass
class Project:
    """What discovery found: the layout, why it was chosen, and the migrations in order."""

    format: str
    reason: str
    directory: Path
    repo_root: Path
    migrations: list[Migration]
    rollback_policy: RollbackPolicy
    stray_files: list[StrayFile] = field(default_factory=list)
    orphan_rollbacks: list[OrphanRollback] = field(default_factory=list)
    # What the runner itself does to a database before the first migration (Flyway's schemas),
    # run after the setup scripts asked for.
    setup: list[Script] = field(default_factory=list)
    setup_reason: str = ""  # that setup in a sentence ("sqitch project oss_chef (...) deployed first")
    # Extensions that setup installs where the server has them (the Hasura server's pgcrypto): a
    # local installation with them is preferred.
    setup_extensions: frozenset[str] = frozenset()
    # Data files the runner loads after the migrations (supabase/seed.sql): checked through the rollbacks.
    seeds: list[Path] = field(default_factory=list)
    # The schema the runner itself says the migrations build (dbmate's db/schema.sql), for drift.
    declared_schema: Path | None = None
    # The runner applies every pending migration in one transaction (drizzle; Flyway's `group`): a
    # new database gets them all at once, which the replay, one migration at a time, does not try.
    pending_in_one_transaction: bool = False
    # The runner's own integrity file, checked (atlas.sum), and what the runner refuses in the files.
    integrity_file: Path | None = None
    refusals: list[Refusal] = field(default_factory=list)
    # Where the migrations are several alternative histories (Migration.history), why, in a sentence.
    histories_reason: str = ""

    def relative(self, path: Path | None) -> str | None:
        """A path relative to the repository root, as JUnit `file` and annotations want it."""
        if path is None:
            return None
        return _relative(path, self.repo_root)


@functools.lru_cache(maxsize=4096)
def _relative(path: Path, root: Path) -> str:
    # Reports ask for every test case's file: resolve() costs syscalls, so the answer is kept, and
    # the path as discovery handed it out (absolute, under a resolved root) is tried first.
    for candidate in (path, path.resolve()):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.as_posix()


class Status(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


# The families, in report order. Each check on each migration is one test case.
CHECK_FAMILIES: tuple[str, ...] = (
    "naming",
    "pairing",
    "history",
    "apply",
    "verify",
    "locks",
    "rollback",
    "roundtrip",
    "data",
    "integrity",
    "reapply",
    "lint",
    "drift",
)


@dataclass(slots=True)  # a 5,000-migration run holds 60,000 of them
class CheckResult:
    """One test case: one check on one migration (or one file, for naming and history)."""

    check: str
    subject: str
    status: Status
    file: str | None = None
    line: int | None = None
    message: str = ""
    details: str = ""
    seconds: float = 0.0
    severity: Severity = Severity.ERROR
    column: int | None = None  # where a statement-level finding starts (lint)

    def __post_init__(self) -> None:
        # GitHub places a finding on the diff only with a line: a whole-file finding is at line 1.
        if self.file and not self.line:
            self.line = 1

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def details_beyond_message(self) -> str:
        """The details, without the lines the message already says (an error's summary line, the
        first differences), so reports that show both never say a thing twice."""
        lines = [line for line in self.details.strip().splitlines() if not (line.strip() and line in self.message)]
        return "\n".join(lines).strip("\n")

    def counts_as_failure(self, fail_on: Severity = Severity.ERROR) -> bool:
        if self.status is not Status.FAILED:
            return False
        return self.severity is Severity.ERROR or fail_on is Severity.WARNING


@dataclass
class RunReport:
    """Everything the reports need about one run, including one that ended early."""

    project: Project | None
    results: list[CheckResult]
    server: str = ""
    seconds: float = 0.0
    # A usage or infrastructure error (exit 2), or an interruption, that ended the run early.
    error: str | None = None

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    def failures(self, fail_on: Severity = Severity.ERROR) -> list[CheckResult]:
        return [r for r in self.results if r.counts_as_failure(fail_on)]

    def exit_code(self, fail_on: Severity = Severity.ERROR) -> int:
        if self.error is not None:
            return 2
        return 1 if self.failures(fail_on) else 0
