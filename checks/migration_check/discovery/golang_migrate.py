"""golang-migrate: `<version>_<name>.up.sql` and `<version>_<name>.down.sql`.

gobuffalo/pop names its SQL migrations the same way, and renders them as Go templates first: a
file with a template action is rendered with the values given (`--var`), or not replayed
(go_templates.py)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    FileRole,
    Layout,
    files_named,
    implicit_empty_downs,
    pair_forward_and_rollback,
    utc_timestamp,
    with_transactions,
)
from migration_check.discovery.drivers import module_requirements
from migration_check.discovery.listing import candidate_files
from migration_check.errors import InfrastructureError
from migration_check.git_command import git_process, git_succeeds
from migration_check.model import RollbackPolicy, Transaction

# database/postgres reads the option with strconv.ParseBool.
MULTI_STATEMENT = r"x-multi-statement=(1|t|T|true|TRUE|True)\b|MultiStatementEnabled:[[:space:]]*true"
# database/postgres's option naming its history table (unquoted: a plain name in the search path's schema).
MIGRATIONS_TABLE = r"x-migrations-table=[A-Za-z_][A-Za-z0-9_]*"
FILE = re.compile(r"^(?P<version>\d+)_(?P<name>.+)\.(?P<direction>up|down)\.sql$", re.IGNORECASE)
GO_MIGRATION = re.compile(r"^\d+_.+\.(up|down)\.go$", re.IGNORECASE)
PLAIN_NUMBERED = re.compile(r"^\d+_.+\.sql$", re.IGNORECASE)
# How a repository that runs golang-migrate names it: the module, its CLI's flags, its image.
NAMED = r"golang-migrate|migrate/migrate|migrate -path|migrate -source|migrate -database"
GOLANG_MIGRATE_MODULE = "github.com/golang-migrate/migrate"


class GolangMigrateLayout(Layout):
    name = "golang-migrate"
    renders_go_templates = True  # where the module requires pop, which runs these files (go_templates.py)
    description = "<version>_<name>.up.sql / .down.sql"
    # golang-migrate runs an "empty" migration where a down file is missing (migrate.go
    # newMigration): the round trip judges that no-op rollback, unless no migration has a down
    # file (a forward-only project); `rollbacks: required` asks for files.
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations", "db/migrations", "database/migrations")
    # golang-migrate's source.Regex: `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, the version a uint64.
    naming_pattern = r"^\d+_.*\.(up|down)\.sql$"
    naming_hint = "<version>_<name>.up.sql / .down.sql"
    strict_naming_pattern = r"^\d+_[a-z][a-z0-9]*(_[a-z0-9]+)*\.(up|down)\.sql$"
    strict_naming_hint = "<version>_snake_case_name.up.sql / .down.sql"
    numeric_versions = True
    bookkeeping = bookkeeping.GOLANG_MIGRATE
    # database/postgres Run: the file is one ExecContext, a simple query (without x-multi-statement).
    transaction_how = "sends each file as one query, which PostgreSQL runs as one transaction when it holds several statements"
    transaction_opt_out = "put the statement in a migration of its own (or add x-multi-statement=true to the database URL)"
    # source/file (iofs) refuses the directory when it opens it: source.ErrDuplicateMigration.
    duplicate_refusal = 'golang-migrate runs none of the migrations then ("duplicate migration file")'

    def history_tables(self, directory: Path) -> frozenset[str]:
        return super().history_tables(directory) | migrations_tables(directory)

    def detect(self, directory: Path) -> Detection | None:
        files = candidate_files(directory)
        matched = [p for p in files if classify(p)]
        if not matched:
            return None
        if any(GO_MIGRATION.match(p.name) or _plain_numbered(p) for p in files) and not (
                _requires_golang_migrate(directory) or _named_in_repository(directory)):
            # Migrations golang-migrate would not run beside the ones it would, in a project that
            # neither requires golang-migrate nor names it anywhere: the project's own runner runs
            # them all (concourse's Go migrations; getfider/fider's dbx runs `<version>_<name>.sql`
            # and `.up.sql` alike, and reads no `.down.sql`), and the numbered layout, which asks
            # no runner's rules, takes the directory.
            return None
        return Detection(score=70, reason=files_named(len(matched), "<version>_<name>.up.sql/.down.sql"))

    def discover(self, directory: Path) -> Discovery:
        # golang-migrate keys both directions by the version number alone (N_x.up.sql with N_y.down.sql).
        found = pair_forward_and_rollback(directory, classify, f"golang-migrate ignores it: not {self.naming_hint}",
                                          pair_key=lambda role: (int(role.version),))
        sent_whole = not multi_statement(directory)
        found.migrations = [with_transactions(m, lambda _script: Transaction.ONE_QUERY) if sent_whole else m
                            for m in found.migrations]
        return implicit_empty_downs(found)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return up_and_down_files(directory, f"{utc_timestamp(now)}_{name}", name)


def up_and_down_files(directory: Path, stem: str, name: str) -> dict[Path, str]:
    """A new migration's `<stem>.up.sql` and `<stem>.down.sql`, each saying what it is."""
    return {
        directory / f"{stem}.up.sql": f"-- {name}\n",
        directory / f"{stem}.down.sql": f"-- rollback of {stem}.up.sql\n",
    }


def migrations_tables(directory: Path) -> frozenset[str]:
    """The history tables the project names with `x-migrations-table=` in a database URL (a Makefile,
    an .env, Go code) in the files git tracks in the directory's repository; none outside git."""
    try:
        found = git_process(directory, "grep", "-h", "-o", "-I", "-E", MIGRATIONS_TABLE, "--", ":/", timeout=30)
    except InfrastructureError:
        return frozenset()
    names = (line.partition("=")[2] for line in found.stdout.decode("utf-8", "replace").splitlines())
    return frozenset(f"public.{name}" for name in names if name)


def multi_statement(directory: Path) -> bool:
    """Whether the project turns on golang-migrate's multi-statement mode (`x-multi-statement=true`
    in its database URL, or `MultiStatementEnabled: true` in Go): each statement then runs on its
    own, not the file as one query. Asked of the files git tracks in the directory's repository
    (a Makefile, an .env, the Go code that opens the database); none outside git."""
    return git_succeeds(directory, "grep", "-q", "-I", "-E", MULTI_STATEMENT, "--", ":/", timeout=30)


def _plain_numbered(path: Path) -> bool:
    """A numbered SQL file without a direction, which golang-migrate ignores."""
    return path.suffix == ".sql" and PLAIN_NUMBERED.match(path.name) is not None and FILE.match(path.name) is None


def _named_in_repository(directory: Path) -> bool:
    """Whether a file git tracks in the directory's repository names golang-migrate (a Makefile's
    `migrate -path`, a compose file's migrate/migrate image, a README)."""
    return git_succeeds(directory, "grep", "-q", "-I", "-E", NAMED, "--", ":/", timeout=30)


def _requires_golang_migrate(directory: Path) -> bool:
    required = module_requirements(directory, direct=True) or []
    return any(module == GOLANG_MIGRATE_MODULE or module.startswith(GOLANG_MIGRATE_MODULE + "/") for module in required)


def classify(path: Path) -> FileRole | None:
    match = FILE.match(path.name)
    if not match:
        return None
    return FileRole(match["version"], match["name"], rollback=match["direction"].lower() == "down")
