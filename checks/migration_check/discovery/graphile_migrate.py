"""Graphile Migrate: `migrations/committed/<number>[-<message>].sql`, each with the hash of its body
and of the migration before it, forward only.

Rules, as `graphile-migrate migrate` reads and runs them (graphile/migrate src/migration.ts,
migrationFilename.ts, hash.ts, header.ts, commands/migrate.ts):
- A committed migration is a file of `committed/` named `^[0-9]+(-[-_a-zA-Z0-9]*)?\\.sql$`; others
  are ignored. They run in the order of `<number>.sql` as text (numbers are padded: 000001).
- Each starts with headers, `--! Key: value` lines (`Previous`, `Hash`, `Message`,
  `AllowInvalidHash`), then a blank line, then its body. `Previous` is `-` for the first and the
  previous migration's `Hash` for every other; `Hash` is `sha1:` and the SHA-1 of the previous hash,
  a new line and the trimmed body. A header twice, a missing `Previous` or `Hash`, no blank line
  after the headers (or a CRLF one) or a broken chain stops graphile-migrate before any migration;
  a body whose hash differs (the file edited after `graphile-migrate commit`), unless
  `AllowInvalidHash` says so, stops it at that migration.
- The body is sent as one query, in a transaction with its history row, unless its first line is
  `--! no-transaction`; its placeholders are replaced first (graphile_settings.py).
- `current.sql` (or `current/`), the migration being written, is run only by `watch`: it is not a
  committed migration, and not replayed. The history table is `graphile_migrate.migrations`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, counted, read_head, read_sql
from migration_check.discovery.graphile_settings import GraphileSettings, Missing, settings_for
from migration_check.discovery.listing import candidate_files
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, StrayFile, Transaction

FILE = re.compile(r"^([0-9]+)(-[-_a-zA-Z0-9]*)?\.sql$")
# JavaScript's `.` stops at every line terminator, so a CRLF line is no header.
HEADER = re.compile(r"^--! ([A-Z][a-zA-Z0-9_]*)(?::([^\r\n\u2028\u2029]*))?$")
NO_TRANSACTION = re.compile(r"^--!\s*no-transaction\b")


class GraphileMigrateLayout(Layout):
    name = "graphile-migrate"
    description = "committed/<number>[-<message>].sql with --! Previous and Hash headers (Graphile Migrate)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("migrations/committed",)
    naming_pattern = r"^[0-9]+(-[-_a-zA-Z0-9]*)?\.sql$"
    naming_hint = "<number>[-<message>].sql"
    file_name_order = True
    identity = "text"
    bookkeeping = bookkeeping.GRAPHILE_MIGRATE
    sends_scripts_whole = True
    transaction_how = "runs each committed migration's body as one query in a transaction with its history row"
    transaction_opt_out = ("run it outside one, with `--! no-transaction` as the first line of its body (after the"
                           " headers and their blank line; the body is still one query: one statement alone)")

    def detect(self, directory: Path) -> Detection | None:
        named = [path for path in candidate_files(directory) if FILE.match(path.name)]
        marked = [path for path in named if (head := read_head(path, 512)).startswith("--! ") and "\n--! Hash:" in head]
        if directory.name != "committed" or not marked or len(marked) < len(named) / 2:
            return None
        return Detection(score=93, reason=f"{counted(len(marked), 'committed migration')} with --! Previous and Hash"
                                          " headers")

    def discover(self, directory: Path) -> Discovery:
        settings = settings_for(directory)
        migrations: list[Migration] = []
        refusals: list[Refusal] = []
        stray: list[StrayFile] = []
        previous: str | None = None
        for path in sorted((p for p in candidate_files(directory) if FILE.match(p.name)),
                           key=lambda p: _filename(p)):
            migration, refused, previous = _committed(path, settings, previous)
            migrations.append(migration)
            refusals += refused
        for path in candidate_files(directory):
            if not FILE.match(path.name):
                stray.append(StrayFile(path, f"not {self.naming_hint}: graphile-migrate ignores it"))
        setup, left_out = settings.setup()
        reason = _setup_reason(settings, setup, left_out)
        return Discovery(migrations, stray, refusals=refusals, setup=setup, setup_reason=reason)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        raise NotImplementedError("a Graphile Migrate migration is written in migrations/current.sql and committed with"
                                  " `graphile-migrate commit`, which hashes it into the chain: `migration-check new`"
                                  " does not write one")

    def held_directories(self, directory: Path) -> list[Path]:
        """`current/`, beside `committed/`: the migration being written, in files of its own."""
        return [directory.parent / "current"]

    def history_tables(self, directory: Path) -> frozenset[str]:
        return frozenset({"graphile_migrate.migrations", "graphile_migrate.current"})


def _filename(path: Path) -> str:
    """What graphile-migrate orders and records a migration by: its number, as written, and `.sql`."""
    match = FILE.match(path.name)
    return f"{match[1] if match else path.stem}.sql"


def _committed(path: Path, settings: GraphileSettings,
               previous: str | None) -> tuple[Migration, list[Refusal], str | None]:
    """The migration, what graphile-migrate refuses in it, and its hash (the next one's `Previous`)."""
    lines = read_sql(path).split("\n")
    headers, problem = _headers(path, lines)
    migration = _migration(path, lines, len(headers), settings)
    value = {key: text for key, (_line, text) in headers.items()}
    stated_previous, stated_hash = value.get("Previous"), value.get("Hash")
    if problem is not None:  # graphile-migrate stops reading the directory there (the next is judged on its own)
        return migration, [problem], stated_hash
    for key, given in (("Previous", stated_previous), ("Hash", stated_hash)):
        if not given:
            return migration, [_refusal(path, 1, f"it has no `--! {key}:` header")], stated_hash
    chained = None if stated_previous == "-" else stated_previous
    if chained != previous:
        expected = previous or "- (it is the first migration)"
        return migration, [_refusal(path, headers["Previous"][0], f"its Previous is {stated_previous}, not the"
                                    f" hash of the migration before it, {expected}: the chain is broken (a migration"
                                    " inserted, removed or renumbered)")], stated_hash
    body = "\n".join(lines[len(headers):]).strip() + "\n"
    actual, allowed = calculate_hash(body, chained), "AllowInvalidHash" in headers
    refusals = []
    if actual != stated_hash and not allowed:
        refusals.append(_refusal(path, headers["Hash"][0], f"its body's hash is {actual}, not {stated_hash}: the"
                                 " file was edited after `graphile-migrate commit`, and graphile-migrate stops there"
                                 " (\"has the file been tampered with?\"); make the change in a new migration, or,"
                                 " if it has run nowhere, uncommit it and commit it again"))
    if allowed and actual == stated_hash:
        refusals.append(_refusal(path, headers["AllowInvalidHash"][0], "it says AllowInvalidHash but its hash"
                                 " matches: graphile-migrate stops there; remove the header"))
    return migration, refusals, stated_hash


def _headers(path: Path, lines: list[str]) -> tuple[dict[str, tuple[int, str | None]], Refusal | None]:
    """The header lines that start the file (`parseMigrationText`): each key's line and value, and
    why graphile-migrate refuses them, if it does: a header twice, or no blank line after them."""
    headers: dict[str, tuple[int, str | None]] = {}
    for number, line in enumerate(lines, start=1):
        match = HEADER.match(line)
        if match is None:
            break
        if match[1] in headers:
            return headers, _refusal(path, number, f"the header {match[1]} is given twice")
        headers[match[1]] = (number, (match[2] or "").strip() or None)
    count = len(headers)
    if count < len(lines) and lines[count] != "":
        crlf = lines[count] == "\r" or (count == 0 and lines[0].endswith("\r") and HEADER.match(lines[0][:-1]))
        why = ("its line endings are CRLF (git may have converted them: `*.sql -text` in .gitattributes keeps them"
               " as committed)" if crlf else "no blank line follows its headers")
        return headers, _refusal(path, count + 1, why)
    return headers, None


def _migration(path: Path, lines: list[str], count: int, settings: GraphileSettings) -> Migration:
    """The committed migration's body as graphile-migrate sends it, its placeholders replaced."""
    start = count + 1 if count < len(lines) and lines[count].strip() == "" else count
    raw = "\n".join(lines[start:])
    sql, missing = settings.substituted(raw)
    first = next((line for line in raw.strip().split("\n")), "")
    transaction = Transaction.ONE_QUERY if NO_TRANSACTION.match(first) else Transaction.WRAPPED
    script = Script(path, sql, first_line=start + 1, transaction=transaction,
                    sent_as_one_query=transaction is Transaction.WRAPPED)
    skip = _unvalued(missing, lambda offset: start + 1 + raw.count("\n", 0, offset)) if missing else None
    match = FILE.match(path.name)
    version, message = (match[1], (match[2] or "").removeprefix("-")) if match else (path.stem, "")
    return Migration(version, message, (_filename(path), path.name), up=script, files=(path,), skip_reason=skip,
                     label=path.stem)


def _unvalued(missing: list[Missing], line_of: Callable[[int], int]) -> str:
    """Why a migration is not replayed: the placeholders it uses that have no value here, all of them."""
    keys = " ".join(f"--var {m.key.removeprefix(':')}=VALUE" for m in missing)
    if len(missing) == 1:
        [m] = missing
        return (f"line {line_of(m.offset)} uses the placeholder {m.key}, which has no value here: graphile-migrate takes"
                f" it from {m.unknown.source}; give it with {keys}")
    used = ", ".join(f"{m.key} (line {line_of(m.offset)})" for m in missing)
    return (f"it uses placeholders that have no value here, {used}: graphile-migrate takes them from"
            f" {'; '.join(m.unknown.source for m in missing)}; give them with {keys}")


def calculate_hash(body: str, previous: str | None) -> str:
    """`calculateHash`: sha1 of the previous hash, a new line and the trimmed body, trimmed, then a new line."""
    text = ((previous or "") + "\n" + body.strip()).strip() + "\n"
    return "sha1:" + hashlib.sha1(text.encode()).hexdigest()


def _refusal(path: Path, line: int, why: str) -> Refusal:
    return Refusal(path, line, f"{path.name}: {why}.")


def _setup_reason(settings: GraphileSettings, setup: list[Script], left_out: list[str]) -> str:
    if settings.config is not None and settings.config.name != ".gmrc":
        left_out = [f"{settings.config.name} (code: its settings are not read, the defaults are used)", *left_out]
    if not setup and not left_out:
        return ""
    made = ", ".join(script.path.name for script in setup if script.path != settings.config)
    said = f"Graphile Migrate's actions for a new database run first ({made})" if made else ""
    if any(script.path == settings.config for script in setup):
        said += ("; " if said else "") + "the pgSettings of .gmrc start every session"
    if left_out:
        said += ("; " if said else "") + "not run: " + ", ".join(left_out)
    return said
