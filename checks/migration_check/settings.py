"""Everything a run needs to know, read once: command-line flags over the config file over defaults.

The rest of the code reads `Settings`, never argv, the environment or the config file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migration_check.model import RollbackPolicy, Severity


@dataclass
class Settings:
    path: Path = Path(".")
    format: str | None = None
    junit_xml: Path | None = None
    sarif: Path | None = None
    report: Path | None = None  # the Markdown hygiene report
    json: Path | None = None
    base_ref: str | None = None
    config: Path | None = None
    # Where the disposable PostgreSQL comes from: at most one of these; neither means local binaries.
    database_url: str | None = None
    postgres_image: str | None = None
    pg_bindir: Path | None = None
    # The role migrations run as on a server the tool starts (on a given server: the URL's role).
    migration_role: str = "postgres"
    # Limits on each statement of a migration (PostgreSQL intervals), generous for real data
    # migrations, so that a `pg_sleep(100000)`, an endless loop or a lock wait cannot hang CI.
    statement_timeout: str = "10min"
    lock_timeout: str = "1min"

    def migration_session(self) -> dict[str, str]:
        return {"statement_timeout": self.statement_timeout, "lock_timeout": self.lock_timeout}
    # SQL run once before the first migration: files, or built-in presets such as "supabase".
    setup: list[str] = field(default_factory=list)
    # Whether `setup` came from the command line (the user's own choice) rather than from the
    # config file, which comes with the pull request: only the latter must stay in the repository.
    setup_from_command_line: bool = False
    # The data check: generated rows in every table (this many per table), user seed files, and the
    # data and integrity families. `data = False` (--no-data) turns all of it off.
    data: bool = True
    rows: int = 5
    seed: list[str] = field(default_factory=list)
    seed_from_command_line: bool = False  # as setup_from_command_line
    # Lint rules turned off (None) or given another severity, by name or code.
    lint: dict[str, Severity | None] = field(default_factory=dict)
    # The PostgreSQL version version-dependent lint rules assume (`lint`); `check` uses the server's.
    pg_version: int | None = None
    # Drift: the schema the migrations must build (a dump, dbmate's schema.sql), a live database to
    # compare with (read only), and object names (globs) left out of both comparisons.
    drift_schema: Path | None = None
    drift_url: str | None = None
    drift_prisma: Path | None = None  # a schema.prisma, rendered to SQL by Prisma's own engine
    drift_ignore: list[str] = field(default_factory=list)
    naming_pattern: str | None = None
    naming_strict: bool = False  # `naming: strict`: the tidier convention instead of the runner's own rule
    rollbacks: RollbackPolicy | None = None  # None: the layout's default
    ignore: list[str] = field(default_factory=list)  # glob patterns of files discovery skips
    # Values the runner's program gives the migrations it renders (pop's template `.Options`).
    vars: dict[str, str] = field(default_factory=dict)
    severity: dict[str, Severity] = field(default_factory=dict)  # per check family
    fail_on: Severity = Severity.ERROR
    strict_column_order: bool = False
    quiet: bool = False
    verbose: bool = False
    annotations: bool = True

    def severity_of(self, check: str) -> Severity:
        return self.severity.get(check, Severity.ERROR)
