"""dbmate: one file per migration, `db/migrations/<version>_<name>.sql`, holding both directions.

    -- migrate:up
    create table users (...);

    -- migrate:down
    drop table users;

Rules, as dbmate applies them:
- The version is the leading digits of the file name (dbmate's own pattern is `^(\\d+).*\\.sql$`,
  so `_` and `-` separators both work); files are applied in version order.
- The markers are comment lines starting with `--` followed by `migrate:up` / `migrate:down`. dbmate
  finds them line by line (a regex per line), so this module does the same: a marker is a marker
  wherever it appears, exactly as for dbmate.
- Each section runs in its own transaction unless its marker carries `transaction:false`
  (`-- migrate:up transaction:false`), which becomes `Transaction.NONE` for that section only.
- `-- migrate:up` must come first; only comments may precede it. dbmate refuses other files, so
  they are a FileError here too. A file without a `-- migrate:down` section has no rollback.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from pglast import parser

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    candidate_files,
    read_head,
    read_sql,
    section,
    split_lines,
    utc_timestamp,
)
from migration_check.errors import FileError
from migration_check.model import Migration, RollbackPolicy, StrayFile, Transaction

FILE = re.compile(r"^(?P<version>\d+)[_-]?(?P<name>.*)\.sql$", re.IGNORECASE)
UP, DOWN = "migrate:up", "migrate:down"


class DbmateLayout(Layout):
    name = "dbmate"
    description = "<version>_<name>.sql with -- migrate:up / -- migrate:down sections"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs = ("db/migrations", "migrations")
    # dbmate's migrationFileRegexp: `^(\d+).*\.sql$`; other files are ignored; sorted by file name.
    naming_pattern = r"^\d+.*\.sql$"
    naming_hint = "<version><anything>.sql with -- migrate:up / -- migrate:down"
    strict_naming_pattern = r"^\d{14}_[a-z][a-z0-9]*(_[a-z0-9]+)*\.sql$"
    strict_naming_hint = "YYYYMMDDHHMMSS_snake_case_name.sql with -- migrate:up / -- migrate:down"
    bookkeeping = bookkeeping.DBMATE

    def version_identity(self, version: str, migration_id: str) -> tuple:
        return (version,)  # schema_migrations holds the version as text: 001 and 1 differ

    def detect(self, directory: Path) -> Detection | None:
        marked = [p for p in _sql_files(directory) if any(_marker(line) for line in read_head(p).split("\n"))]
        if not marked:
            return None
        return Detection(score=90, reason=f"{len(marked)} files with -- migrate:up markers")

    def discover(self, directory: Path) -> Discovery:
        migrations, stray = [], []
        for path in candidate_files(directory):
            match = FILE.match(path.name)
            if not match:
                stray.append(StrayFile(path, f"dbmate ignores it: not {self.naming_hint}"))
                continue
            migration = parse_file(path, match["version"], match["name"])
            if migration is None:
                stray.append(StrayFile(path, "no -- migrate:up marker (dbmate refuses such a file)", refused=True))
            else:
                migrations.append(migration)
        migrations.sort(key=lambda m: m.sort_key)
        return Discovery(migrations, stray)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{utc_timestamp(now)}_{name}.sql": "-- migrate:up\n\n\n-- migrate:down\n\n"}


def parse_file(path: Path, version: str, name: str) -> Migration | None:
    """The migration in one dbmate file, or None when it has no `-- migrate:up` marker."""
    lines = split_lines(read_sql(path))
    markers = [(index, *found) for index, line in enumerate(lines) if (found := _marker(line))]
    ups = [m for m in markers if m[1] == UP]
    downs = [m for m in markers if m[1] == DOWN]
    if not ups:
        return None
    for kind, same_kind in ((UP, ups), (DOWN, downs)):
        if len(same_kind) > 1:
            raise FileError(path, same_kind[1][0] + 1, f"a second -- {kind} marker (dbmate allows one)")
    up_at, _, up_options = ups[0]
    if downs and downs[0][0] < up_at:
        raise FileError(path, downs[0][0] + 1, "-- migrate:down comes before -- migrate:up (dbmate refuses this)")
    if _has_statements("".join(lines[:up_at])):
        raise FileError(path, 1, "statements before -- migrate:up (dbmate runs only the up and down sections)")
    down_at = downs[0][0] if downs else len(lines)
    up = section(path, lines, up_at + 1, down_at, _transaction(up_options))
    down = section(path, lines, down_at + 1, len(lines), _transaction(downs[0][2])) if downs else None
    return Migration(
        version=version,
        name=name,
        sort_key=(path.name,),  # dbmate sorts file names as text
        up=up,
        down=down,
        files=(path,),
    )


def _marker(line: str) -> tuple[str, str] | None:
    """(`migrate:up`|`migrate:down`, options) when `line` is a dbmate marker."""
    if not line.startswith("--"):
        return None
    body = line[2:].strip()
    for kind in (UP, DOWN):
        if body.startswith(kind):
            return kind, body[len(kind):]
    return None


def _transaction(options: str) -> Transaction:
    return Transaction.NONE if "transaction:false" in options.split() else Transaction.AUTO


def _has_statements(text: str) -> bool:
    """Whether `text` holds anything but comments and white space (asked of the SQL lexer)."""
    try:
        return any(t.name not in ("SQL_COMMENT", "C_COMMENT") for t in parser.scan(text))
    except parser.ParseError:
        return True


def _sql_files(directory: Path) -> list[Path]:
    return [p for p in candidate_files(directory) if p.suffix.lower() == ".sql" and FILE.match(p.name)]
