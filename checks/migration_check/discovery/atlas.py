"""Atlas (ariga/atlas): a versioned migration directory of `*.sql` files with its `atlas.sum`.

Rules, as `atlas migrate apply` reads and runs the directory (sql/migrate/dir.go, migrate.go, lex.go;
cmd/atlas/internal/cmdapi/migrate.go):
- Every `*.sql` file of the directory (not below it) is a migration, in file-name order. Its
  version is the name up to the first `_` (or the whole stem), its description the rest; versions
  are compared as text. There are no down files: `atlas migrate down` plans its own against a dev
  database, so the project is forward-only.
- File directives are the comment lines (`--` or `#`) that start the file, when a blank line
  follows them: `-- atlas:txmode none` runs the file outside a transaction (by default each file
  runs in its own), `-- atlas:checkpoint` marks a checkpoint. Without that blank line they are the
  first statement's comments and Atlas reads no directive.
- `-- atlas:delimiter <d>` as the first line separates the statements by `<d>` (`\\n` for a new
  line) instead of `;`; each statement is sent on its own.
- A new database starts from the last checkpoint file (the files before it are not run there);
  a database that has applied migrations skips every checkpoint file.
- `atlas.sum` must match the files, or Atlas refuses the whole directory (atlas_sum.py).
- The history table is `atlas_schema_revisions`, in a schema of that name.

Directories in another runner's format (`format = golang-migrate`, goose, Flyway, dbmate,
Liquibase in atlas.hcl) keep an `atlas.sum` too: they are that runner's, whose layout reads them.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

from pglast import parser

from migration_check.discovery import atlas_sum, bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    counted,
    read_head,
    read_sql,
    utc_timestamp,
    within_repository,
)
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, Transaction

# Files another runner's format names or marks (Atlas writes these formats when atlas.hcl asks).
OTHER_FORMATS = re.compile(r"^(.*\.(up|down)\.sql|[VUBR]\d*__.*\.sql)$")
OTHER_MARKERS = ("-- +goose", "-- migrate:up", "--liquibase formatted sql", "-- +migrate")
# Tokens a custom delimiter inside them does not end a statement in (atlas's scanner skips them).
QUOTED = frozenset({"SCONST", "USCONST", "BCONST", "XCONST", "IDENT", "UIDENT", "SQL_COMMENT", "C_COMMENT"})
TX_MODES = {"none": Transaction.NONE, "file": Transaction.WRAPPED}
EXEC_ORDER = re.compile(r'\bexec_order\s*=\s*"?([A-Za-z_-]+)"?')
REVISIONS_SCHEMA = re.compile(r'\brevisions_schema\s*=\s*"([^"]+)"')


class AtlasLayout(Layout):
    name = "atlas"
    description = "<version>[_<description>].sql with atlas.sum, forward only, in file-name order (Atlas)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("migrations", "db/migrations", "sql/migrations")
    naming_pattern = r"^[^/]+\.sql$"
    naming_hint = "<version>_<description>.sql"
    strict_naming_pattern = r"^\d{14}_[a-z][a-z0-9]*(_[a-z0-9]+)*\.sql$"
    strict_naming_hint = "YYYYMMDDHHMMSS_snake_case_description.sql"
    file_name_order = True
    identity = "text"
    bookkeeping = bookkeeping.ATLAS
    transaction_how = "runs each file in a transaction of its own (`--tx-mode file`)"
    transaction_opt_out = ("run it outside one, with `-- atlas:txmode none` as the file's first line and a blank"
                           " line after it (without the blank line Atlas reads it as the statement's comment)")

    def detect(self, directory: Path) -> Detection | None:
        if not (directory / atlas_sum.SUM_FILE).is_file():
            return None
        files = atlas_sum.sql_files(directory)
        if not files or any(OTHER_FORMATS.match(path.name) for path in files):
            return None
        if any(marker in read_head(path, 4096) for path in files for marker in OTHER_MARKERS):
            return None
        return Detection(score=88, reason=f"{counted(len(files), 'file')} named <version>_<description>.sql beside"
                                          f" {atlas_sum.SUM_FILE}")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        refusals = atlas_sum.refusals(directory)
        for path in atlas_sum.sql_files(directory):
            text = read_sql(path)
            directives = file_directives(text)
            transaction, refused = _transaction(path, text, directives.get("txmode", []))
            refusals += refused
            version, _, description = path.stem.partition("_")
            script = Script(path, text, transaction=transaction, statements=delimited(text))
            migrations.append(Migration(version, description, (path.name,), up=script, files=(path,),
                                        baseline="checkpoint" in directives, label=path.stem))
        return Discovery(_from_the_last_checkpoint(migrations), integrity_file=directory / atlas_sum.SUM_FILE,
                         refusals=sorted(refusals, key=lambda r: (r.path.name != atlas_sum.SUM_FILE, r.path, r.line)))

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return {directory / f"{utc_timestamp(now)}_{name}.sql": f"-- {name}\n"}

    def after_new(self, directory: Path, held: bool) -> list[Path]:
        """`atlas migrate new` hashes the directory again: so does `new`, where the sum matched before
        (a sum that did not is left for the history check to report, not hidden)."""
        if not held:
            return []
        path = directory / atlas_sum.SUM_FILE
        path.write_text(atlas_sum.rendered(atlas_sum.computed(atlas_sum.sql_files(directory))), encoding="utf-8")
        return [path]

    def history_tables(self, directory: Path) -> frozenset[str]:
        """The revisions table, and where atlas.hcl's `revisions_schema` keeps it instead."""
        schema = _hcl_value(directory, REVISIONS_SCHEMA)
        named = {f"{schema}.atlas_schema_revisions"} if schema else set()
        return frozenset({bookkeeping.ATLAS.table, *named})

    def out_of_order_effect(self, directory: Path) -> str:
        """As `Executor.Pending` treats a file older than the last applied one, by the project's `exec_order`."""
        order = exec_order(directory)
        if order == "LINEAR_SKIP":
            return "`atlas migrate apply` skips it without a word (exec_order = LINEAR_SKIP in atlas.hcl): it never runs there"
        if order == "NON_LINEAR":
            return "`atlas migrate apply` runs it after newer ones (exec_order = NON_LINEAR in atlas.hcl)"
        return ('`atlas migrate apply` stops with "migration file {name} was added out of order" and runs no pending'
                " migration (its default --exec-order is linear)")

    def integrity_holds(self, directory: Path) -> bool:
        # A directory with no migration yet needs no sum (Atlas's Validate): `new` writes the first.
        return not atlas_sum.refusals(directory)


def exec_order(directory: Path) -> str:
    """The `exec_order` an atlas.hcl of the project sets (LINEAR, LINEAR_SKIP, NON_LINEAR), else LINEAR."""
    order = _hcl_value(directory, EXEC_ORDER)
    return order.upper().replace("-", "_") if order else "LINEAR"


def _hcl_value(directory: Path, attribute: re.Pattern[str]) -> str | None:
    """The value of an attribute of the first atlas.hcl of the project that sets it. HCL, not SQL:
    the attribute's value is all that is read."""
    for folder in within_repository(directory):
        config = folder / "atlas.hcl"
        if config.is_file() and (match := attribute.search(config.read_text(encoding="utf-8", errors="replace"))):
            return match[1]
    return None


def file_directives(text: str) -> dict[str, list[str]]:
    """`atlas:<name> <argument>` of the comment lines that start the file (`LocalFile.comments`):
    read only when a blank line (or the end of the file) follows them."""
    comments: list[str] = []
    rest = text
    while rest.startswith(("#", "--")):
        end = rest.find("\n")
        if end == -1:
            comments.append(rest)
            rest = ""
            break
        comments.append(rest[:end].strip())
        rest = rest[end + 1:]
    if rest and not rest.lstrip(" \t").startswith("\n"):
        return {}
    found: dict[str, list[str]] = {}
    for comment in comments:
        match = atlas_sum.DIRECTIVE.match(comment)
        if match is not None:
            found.setdefault(match[2], []).append(match[3] or "")
    return found


def delimited(text: str) -> tuple[tuple[int, str], ...] | None:
    """The statements of a file whose first line is `-- atlas:delimiter <d>`, split at `<d>` where
    it is not inside a string, a quoted name or a comment; None (the parser splits) without one."""
    match = atlas_sum.DIRECTIVE.match(text)
    if match is None or match[1] != "-- " or match[2] != "delimiter" or not match[3]:
        return None
    delimiter = match[3].replace(r"\n", "\n").replace(r"\r", "\r").replace(r"\t", "\t")
    start = text.find("\n") + 1 if "\n" in text else len(text)
    body = text[start:]
    try:
        spans = [(t.start, t.end + 1) for t in parser.scan(body) if t.name in QUOTED]
    except parser.ParseError:
        spans = []
    statements: list[tuple[int, str]] = []
    piece, at = 0, body.find(delimiter)
    while True:
        inside = at != -1 and any(a <= at and at + len(delimiter) <= b and (a, b) != (at, at + len(delimiter))
                                  for a, b in spans)
        if inside:
            at = body.find(delimiter, at + 1)
            continue
        end = len(body) if at == -1 else at
        chunk = body[piece:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            statements.append((start + piece + lead, chunk.strip()))
        if at == -1:
            return tuple(statements)
        piece = at + len(delimiter)
        at = body.find(delimiter, piece)


def _transaction(path: Path, text: str, modes: list[str]) -> tuple[Transaction, list[Refusal]]:
    """The file's transaction as `txmodeFor` reads its directive, and Atlas's refusal of a bad one."""
    if not modes:
        return Transaction.WRAPPED, []
    line = next((number for number, line in enumerate(text.splitlines(), start=1) if "atlas:txmode" in line), 1)
    if len(modes) > 1:
        why = f"it sets txmode {len(modes)} times"
    elif modes[0] == "all":
        why = "txmode all is not allowed in a file directive (Atlas: use file)"
    elif modes[0] not in TX_MODES:
        why = f"txmode {modes[0]!r} is unknown (none or file)"
    else:
        return TX_MODES[modes[0]], []
    return Transaction.WRAPPED, [Refusal(path, line, f"{path.name}: {why}: `atlas migrate apply` stops at this file.")]


def _from_the_last_checkpoint(migrations: list[Migration]) -> list[Migration]:
    """The files as a new database gets them (`FilesFromLastCheckpoint`): from the last checkpoint on;
    the files before it, older checkpoints among them, skipped with the reason."""
    checkpoints = [index for index, migration in enumerate(migrations) if migration.baseline]
    if not checkpoints:
        return migrations
    last = checkpoints[-1]
    name = migrations[last].files[0].name
    reason = f"before the checkpoint {name}: Atlas starts a new database from it and does not run this file there"
    return [migration if index >= last else _covered(migration, reason) for index, migration in enumerate(migrations)]


def _covered(migration: Migration, reason: str) -> Migration:
    return dataclasses.replace(migration, skip_reason=reason, covered=True)
