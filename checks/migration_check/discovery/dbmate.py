"""dbmate: one file per migration, `db/migrations/<version>_<name>.sql`, holding both directions.

    -- migrate:up
    create table users (...);

    -- migrate:down
    drop table users;

Rules, as dbmate applies them:
- The version is the leading digits of the file name (dbmate's own pattern is `^(\\d+).*\\.sql$`,
  so `_` and `-` separators both work); files are applied in version order.
- The markers are comment lines starting with `--` followed by `migrate:up` / `migrate:down` and
  then the end of the line or white space (dbmate's `(?m)^--\\s*migrate:down(\\s*$|\\s+\\S+)`).
  dbmate finds them line by line, so this module does the same: a marker is a marker wherever it
  appears, exactly as for dbmate. An indented one is a comment to dbmate (the `^`): the section
  before it runs on through the statements after it, which `misread_marker` explains.
- Each section runs in its own transaction unless its marker carries `transaction:false`
  (`-- migrate:up transaction:false`), which becomes `Transaction.NONE` for that section only.
- `-- migrate:up` must come first; only comments may precede it. dbmate refuses other files, so
  they are a FileError here too. A file without a `-- migrate:down` section has no rollback (dbmate
  2.0 and later refuses it, its ErrParseMissingDown).
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
    counted,
    read_head,
    read_sql,
    section,
    split_lines,
    utc_timestamp,
)
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.locate import dotenv_tables
from migration_check.discovery.refused_files import refused_file
from migration_check.errors import FileError
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

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
    # db.go reads the applied versions once, then inserts each migration's version (no ON
    # CONFLICT): on a new database the later file fails; where the other already ran, it is skipped.
    duplicate_refusal = ("dbmate fails the later one on a new database (its version is already in schema_migrations)"
                         " and skips it where the other already ran")
    sends_scripts_whole = True  # the file is one query in the runner's transaction
    transaction_opt_out = "run it outside one, with `-- migrate:up transaction:false` (and `-- migrate:down transaction:false`)"

    identity = "text"  # schema_migrations holds the version as text: 001 and 1 differ
    file_name_order = True

    def history_tables(self, directory: Path) -> frozenset[str]:
        # `--migrations-table`, or DBMATE_MIGRATIONS_TABLE in the .env dbmate reads.
        return super().history_tables(directory) | dotenv_tables(directory, "DBMATE_MIGRATIONS_TABLE")

    def detect(self, directory: Path) -> Detection | None:
        files = _sql_files(directory)
        marked = [p for p in files if any(_marker(line) for line in read_head(p).split("\n"))]
        # dbmate refuses a file without `-- migrate:up`: where most lack it, the directory is another runner's.
        if not marked or len(marked) * 2 < len(files):
            return None
        return Detection(score=90, reason=counted(len(marked), "file") + " with -- migrate:up markers")

    def discover(self, directory: Path) -> Discovery:
        migrations, stray, refusals = [], [], []
        for path in candidate_files(directory):
            match = FILE.match(path.name)
            if not match:
                stray.append(StrayFile(path, f"dbmate ignores it: not {self.naming_hint}"))
                continue
            try:
                migration = parse_file(path, match["version"], match["name"])
            except FileError as refused:
                migration, refusal = refused_file(refused, path, match["version"], match["name"], (path.name,), "dbmate")
                refusals.append(refusal)
            if migration is None:
                stray.append(StrayFile(path, "no -- migrate:up marker (dbmate refuses such a file)", refused=True))
            else:
                migrations.append(migration)
        migrations.sort(key=lambda m: m.sort_key)
        # `dbmate dump` writes the schema the migrations build to db/schema.sql (--schema-file),
        # beside db/migrations: the runner's own declared schema, checked for drift.
        schema = directory.parent / "schema.sql"
        return Discovery(migrations, stray, declared_schema=schema if schema.is_file() else None, refusals=refusals)

    def missing_rollback_hint(self, migration: Migration) -> str | None:
        return "a `-- migrate:down` section (dbmate 2.0 and later refuses a file without one)"

    def misread_marker(self, migration: Migration) -> tuple[int, str] | None:
        path = migration.main_file
        if path is None or not path.is_file():
            return None
        for number, line in enumerate(split_lines(read_sql(path)), start=1):
            if _marker(line) is None and (found := _marker(line.lstrip())) is not None:
                return number, (f"line {number}'s `-- {found[0]}` is indented, and dbmate reads a marker only at the"
                                " start of a line: there it is a comment, and the section before it runs on through"
                                " the statements after it; start the line with it")
        return None

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{utc_timestamp(now)}_{name}.sql": "-- migrate:up\n\n\n-- migrate:down\n\n"}


def parse_file(path: Path, version: str, name: str) -> Migration | None:
    """The migration in one dbmate file, or None when it has no `-- migrate:up` marker.

    Like dbmate, a file may hold several sections, each an `-- migrate:up` with at most one
    `-- migrate:down` after it; dbmate runs the sections' ups in order, and their downs in the
    same order (pkg/dbmate/db.go)."""
    lines = split_lines(read_sql(path))
    markers = [(index, *found) for index, line in enumerate(lines) if (found := _marker(line))]
    ups = [m for m in markers if m[1] == UP]
    if not ups:
        return None
    if markers[0][1] == DOWN:
        raise FileError(path, markers[0][0] + 1, "-- migrate:down comes before -- migrate:up (dbmate refuses this)")
    if _has_statements("".join(lines[: ups[0][0]])):
        raise FileError(path, 1, "statements before -- migrate:up (dbmate runs only the up and down sections)")
    sections = []  # (up marker, down marker or None, end of the section)
    for number, up_marker in enumerate(ups):
        end = ups[number + 1][0] if number + 1 < len(ups) else len(lines)
        downs = [m for m in markers if m[1] == DOWN and up_marker[0] < m[0] < end]
        if len(downs) > 1:
            raise FileError(path, downs[1][0] + 1, "a second -- migrate:down in one section (dbmate allows one)")
        sections.append((up_marker, downs[0] if downs else None, end))
    ups_scripts = [section(path, lines, up[0] + 1, down[0] if down else end, _transaction(up[2]))
                   for up, down, end in sections]
    downs_scripts = [section(path, lines, down[0] + 1, end, _transaction(down[2])) for _, down, end in sections if down]
    return Migration(
        version=version,
        name=name,
        sort_key=(path.name,),  # dbmate sorts file names as text
        up=_joined(path, lines, ups_scripts),
        down=_joined(path, lines, downs_scripts) if len(downs_scripts) == len(sections) else None,
        files=(path,),
    )


def _joined(path: Path, lines: list[str], scripts: list[Script]) -> Script:
    """One script for a file's sections: itself when there is one; else the file's text with each
    section as an explicit piece (its lines kept), outside one transaction when any section opts out."""
    if len(scripts) == 1:
        return scripts[0]
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    pieces = tuple((starts[s.first_line - 1], s.sql) for s in scripts if s.sql.strip())
    transaction = Transaction.NONE if any(s.transaction is Transaction.NONE for s in scripts) else Transaction.WRAPPED
    return Script(path, "".join(lines), first_line=1, transaction=transaction, statements=pieces)


def _marker(line: str) -> tuple[str, str] | None:
    """(`migrate:up`|`migrate:down`, options) when `line` is a dbmate marker."""
    if not line.startswith("--"):
        return None
    body = line[2:].strip()
    for kind in (UP, DOWN):
        # `-- migrate:downgrade` is a comment: the marker ends at white space or the line's end.
        if body.startswith(kind) and body[len(kind):len(kind) + 1] in ("", " ", "\t", "\r", "\n"):
            return kind, body[len(kind):]
    return None


def _transaction(options: str) -> Transaction:
    return Transaction.NONE if "transaction:false" in options.split() else Transaction.WRAPPED


def _has_statements(text: str) -> bool:
    """Whether `text` holds anything but comments and white space (asked of the SQL lexer)."""
    try:
        return any(t.name not in ("SQL_COMMENT", "C_COMMENT") for t in parser.scan(text))
    except parser.ParseError:
        return True


def _sql_files(directory: Path) -> list[Path]:
    return [p for p in candidate_files(directory) if p.suffix.lower() == ".sql" and FILE.match(p.name)]
