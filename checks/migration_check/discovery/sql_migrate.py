"""sql-migrate (rubenv/sql-migrate): any `<id>.sql`, with `-- +migrate Up` and `-- +migrate Down`.

    -- +migrate Up
    -- +migrate StatementBegin
    create function touch() returns trigger language plpgsql as $$ ... $$;
    -- +migrate StatementEnd

    -- +migrate Down
    drop function touch();

Rules, as sql-migrate applies them (migrate.go, sqlparse/sqlparse.go):
- Every `*.sql` file of the directory is a migration whose id is its file name. Ids that start
  with digits run in the order of that number, before the others, which run in name order; equal
  numbers in name order (`Migration.Less`). `sql-migrate new` writes `<YYYYMMDDHHMMSS>-<name>.sql`.
- Annotations are lines that start with `-- +migrate ` exactly (case and spacing as written):
  `Up` and `Down` switch the direction (a file may switch more than once; each direction's
  statements are gathered in order), `StatementBegin`/`StatementEnd` enclose one statement sent as
  it is, and `Up notransaction` / `Down notransaction` run that direction outside a transaction.
  Lines before the first `Up` or `Down` are ignored; a file with neither is refused.
- A direction without statements runs nothing: a file without `-- +migrate Down` has an empty
  rollback, which the round trip judges (a project where no file has one is forward-only).
- The history table is `gorp_migrations` (id, applied_at), keyed by the file name, unless dbconfig.yml
  names another (`table:`, in `schema:`; command/config.go): drift leaves that one out too. Test
  cases are named by the file name without `.sql`.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    counted,
    implicit_empty_downs,
    read_head,
    read_sql,
    section,
    split_lines,
    up_to_repository_root,
    utc_timestamp,
)
from migration_check.discovery.goose import annotated_section, parsed_pieces
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.locate import sql_migrate_environments
from migration_check.discovery.refused_files import refused_file
from migration_check.errors import FileError
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

MARKER = "-- +migrate "
NUMBER = re.compile(r"^(\d+)")


class SqlMigrateLayout(Layout):
    name = "sql-migrate"
    description = "<id>.sql with -- +migrate Up / -- +migrate Down (rubenv/sql-migrate)"
    # A direction without statements runs nothing: the round trip judges the empty rollback.
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations", "db/migrations", "db/migration", "sql/migrations")
    naming_pattern = r"^[^/]+\.sql$"  # every .sql file is one (findMigrations)
    naming_hint = "<id>.sql with -- +migrate Up / -- +migrate Down"
    strict_naming_pattern = r"^\d{14}-[a-z0-9]+([_-][a-z0-9]+)*\.sql$"
    strict_naming_hint = "<YYYYMMDDHHMMSS>-<name>.sql, as `sql-migrate new` writes it"
    bookkeeping = bookkeeping.SQL_MIGRATE
    transaction_opt_out = ("run it outside one, with `-- +migrate Up notransaction` (`-- +migrate Down notransaction` in"
                           " the rollback)")
    identity = "id"  # gorp_migrations records the file name

    def history_tables(self, directory: Path) -> frozenset[str]:
        configured = {f"{environment.get('schema') or 'public'}.{environment['table']}"
                      for folder in up_to_repository_root(directory.resolve())
                      for environment in sql_migrate_environments(folder) if environment.get("table")}
        return super().history_tables(directory) | configured

    def detect(self, directory: Path) -> Detection | None:
        files = [p for p in candidate_files(directory) if p.suffix == ".sql"]
        annotated = sum(1 for p in files if any(line.startswith(MARKER + "Up") for line in read_head(p).split("\n")))
        # A directory where most .sql files lack the annotation is some other runner's.
        if not annotated or annotated * 2 < len(files):
            return None
        return Detection(score=90, reason=counted(annotated, "file") + " with -- +migrate Up annotations")

    def discover(self, directory: Path) -> Discovery:
        migrations, stray, refusals = [], [], []
        for path in candidate_files(directory):
            if path.suffix != ".sql":
                stray.append(StrayFile(path, "sql-migrate ignores it: not a .sql file"))
                continue
            number = NUMBER.match(path.name)
            key = (0, int(number[1]), path.name) if number else (1, 0, path.name)
            try:
                up, down = parse_file(path)
            except FileError as refused:
                migration, refusal = refused_file(refused, path, path.stem, "", key, "sql-migrate")
                migrations.append(migration)
                refusals.append(refusal)
                continue
            migrations.append(Migration(path.stem, "", key, up=up, down=down, files=(path,)))
        migrations.sort(key=lambda m: m.sort_key)
        return implicit_empty_downs(Discovery(migrations, stray, refusals=refusals))

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{utc_timestamp(now)}-{name}.sql": "\n-- +migrate Up\n\n-- +migrate Down\n"}


def parse_file(path: Path) -> tuple[Script, Script | None]:
    """(up, down) of one file; down is None when no `-- +migrate Down` section has statements."""
    lines = split_lines(read_sql(path))
    found: list[tuple[int, str]] = []  # (line index, command lower-cased, with its options)
    ranges: dict[str, list[tuple[int, int]]] = {"Up": [], "Down": []}
    options: dict[str, bool] = {"Up": False, "Down": False}
    current: str | None = None
    for index, line in enumerate(lines):
        if not line.startswith(MARKER):
            continue
        words = line[len(MARKER):].split()
        if not words:
            raise FileError(path, index + 1, "incomplete migration command (sql-migrate refuses the file)")
        command = words[0]
        if command in ranges:
            if current is not None:
                ranges[current][-1] = (ranges[current][-1][0], index)
            current = command
            ranges[command].append((index + 1, len(lines)))
            options[command] |= "notransaction" in words[1:]
        found.append((index, command.lower()))
    if current is None:
        raise FileError(path, 1, "no -- +migrate Up/Down annotations (sql-migrate refuses the file)")
    transactions = {d: Transaction.NONE if options[d] else Transaction.WRAPPED for d in ranges}
    up = _direction(path, lines, ranges["Up"], found, transactions["Up"])
    down = _direction(path, lines, ranges["Down"], found, transactions["Down"]) if ranges["Down"] else None
    return up or section(path, lines, 0, 0, transactions["Up"]), down


def _direction(path: Path, lines: list[str], spans: list[tuple[int, int]], found: list[tuple[int, str]],
               transaction: Transaction) -> Script | None:
    """One direction's statements, from one section or several (each switch to it adds one)."""
    if not spans:
        return None
    if len(spans) == 1:
        start, end = spans[0]
        return annotated_section(path, lines, start, end, found, transaction, marker=MARKER.strip())
    first = spans[0][0]
    offsets = [0]
    for line in lines[first:spans[-1][1]]:
        offsets.append(offsets[-1] + len(line))
    statements: list[tuple[int, str]] = []
    for start, end in spans:
        part = annotated_section(path, lines, start, end, found, transaction, marker=MARKER.strip())
        shift = offsets[start - first]
        pieces = part.statements if part.statements is not None else parsed_pieces(0, part.sql)
        statements += [(shift + at, text) for at, text in pieces if text.strip()]
    return section(path, lines, first, spans[-1][1], transaction, statements=tuple(statements))
