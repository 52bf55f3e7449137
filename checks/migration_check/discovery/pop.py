"""gobuffalo/pop and Ory's fork (ory/pop with ory/x's popx, which Hydra, Kratos and Keto run):
`<version>_<name>[.<dialect>][.autocommit].up.sql` and `.down.sql`.

Rules, as popx applies them (ory/x popx: match.go, migration_info.go sortAndFilter, migrator.go):
- A file is `^(\\d+)_([^.]+)(\\.[a-z0-9]+)?(\\.autocommit)?\\.(up|down)\\.sql$`; the middle part names
  the database it is for (`postgres`, or its synonyms `postgresql`, `pg`, `pgx`), none means every
  database, `autocommit` runs it outside a transaction. Files for other databases (`mysql`,
  `sqlite3`, `cockroach`) are theirs, not strays; a dialect pop does not know is ignored.
- For each version and direction, the file for PostgreSQL wins over the one for every database.
- Versions are compared as text, ascending for the ups.
- Each migration runs in a transaction (unless autocommit) as one `Exec` of the whole file, after
  pop renders it as a Go template (go_templates.py: rendered with the option values given, `--var`,
  or not replayed).
- A file that holds nothing but comments and blank lines is a no-op.
- popx refuses an up without its down; gobuffalo/pop runs nothing for the missing down.
- Ory's tooling splits a migration by statement into parts whose versions add 6 digits to the
  original's 14 (popx's legacy version), ups and downs numbered apart: such parts (the same first
  14 digits and name) are replayed as one migration, ups in order, downs newest first as popx runs
  them.

Without a dialect part in any name, a directory is pop's only where the module requires pop (else it
is golang-migrate's, whose names are the same).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    files_named,
    implicit_empty_downs,
    read_sql,
    utc_timestamp,
)
from migration_check.discovery.fizz import FizzRefuses, translate
from migration_check.discovery.fizz_plush import Unreadable
from migration_check.discovery.go_templates import requires_pop
from migration_check.discovery.golang_migrate import up_and_down_files
from migration_check.discovery.listing import candidate_files
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, StrayFile, Transaction

FILE = re.compile(r"^(?P<version>\d+)_(?P<name>[^.]+)(?P<dialect>\.[a-z0-9]+)?(?P<autocommit>\.autocommit)?"
                  r"\.(?P<direction>up|down)\.(?P<kind>sql|fizz)$")
# popx's legacy version: the first 14 digits of a longer one, the migration its parts were split from.
LEGACY_DIGITS = 14
# pop's dialects and the synonyms each registers (dialect_*.go init): a file for one of the others
# is for another database.
POSTGRES = frozenset({"postgres", "postgresql", "pg", "pgx"})
OTHER_DIALECTS = frozenset({"mysql", "cockroach", "cockroachdb", "crdb", "sqlite3", "sqlite"})


@dataclasses.dataclass(frozen=True)
class PopFile:
    version: str
    name: str
    dialect: str  # "all", "postgres" or another database's
    autocommit: bool
    rollback: bool
    fizz: bool = False  # fizz's DSL, which pop writes as SQL (fizz.py)


def parse(name: str) -> PopFile | None:
    match = FILE.match(name)
    if match is None:
        return None
    dialect, autocommit = (match["dialect"] or "")[1:], bool(match["autocommit"])
    if dialect == "autocommit":  # `x.autocommit.up.sql`: the flag, for every database
        dialect, autocommit = "", True
    dialect = "postgres" if dialect in POSTGRES else dialect or "all"
    return PopFile(match["version"], match["name"], dialect, autocommit, match["direction"] == "down", match["kind"] == "fizz")


class PopLayout(Layout):
    name = "pop"
    renders_go_templates = True
    description = "<version>_<name>[.<dialect>].up.sql / .down.sql (gobuffalo/pop, Ory's popx)"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations", "persistence/sql/migrations")
    naming_pattern = r"^\d+_[^./]+(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.(sql|fizz)$"
    naming_hint = "<version>_<name>[.<dialect>][.autocommit].up.sql / .down.sql (or .fizz)"
    strict_naming_pattern = r"^\d+_[a-z][a-z0-9]*(_[a-z0-9]+)*(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.(sql|fizz)$"
    strict_naming_hint = "<version>_snake_case_name[.postgres].up.sql / .down.sql"
    file_name_order = True  # versions compare as text (strings.Compare)
    identity = "text"  # schema_migration.version is the text of the version
    bookkeeping = bookkeeping.POP
    sends_scripts_whole = True  # the file is one Exec in the migration's transaction
    transaction_opt_out = "run it outside one: name the file <version>_<name>.postgres.autocommit.up.sql"

    def detect(self, directory: Path) -> Detection | None:
        found = [parsed for path in candidate_files(directory) if (parsed := parse(path.name))]
        if not found:
            return None
        # Only a database pop knows is evidence: golang-migrate's names may hold dots too (`1_init.v2.up.sql`).
        dialects = sorted({f.dialect for f in found} & ({"postgres"} | OTHER_DIALECTS))
        if any(f.fizz for f in found):  # no other runner reads fizz
            return Detection(score=80, reason=files_named(len(found), self.naming_hint) + ", some of them fizz")
        if dialects:
            return Detection(score=80, reason=files_named(len(found), self.naming_hint) + ", for " + ", ".join(dialects))
        if requires_pop(directory):
            return Detection(score=75, reason=files_named(len(found), self.naming_hint) + ", the module requires pop")
        return None

    def discover(self, directory: Path) -> Discovery:
        chosen: dict[tuple[str, bool], tuple[PopFile, Path]] = {}
        stray = []
        for path in candidate_files(directory):
            parsed = parse(path.name)
            if parsed is None:
                stray.append(StrayFile(path, f"pop refuses it: not {self.naming_hint}", refused=path.suffix == ".sql"))
                continue
            if parsed.dialect not in ("all", "postgres"):
                if parsed.dialect not in OTHER_DIALECTS:
                    stray.append(StrayFile(path, f"pop ignores it: {parsed.dialect} is no database it knows"))
                continue  # another database's
            key = (parsed.version, parsed.rollback)
            if key not in chosen or parsed.dialect == "postgres":
                chosen[key] = (parsed, path)
        ups = sorted((version, found) for (version, rollback), found in chosen.items() if not rollback)
        refusals: list[Refusal] = []
        migrations = [_migration(group, chosen, refusals) for group in _split_groups(ups)]
        return implicit_empty_downs(Discovery(migrations, stray, refusals=refusals))

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        return up_and_down_files(directory, f"{utc_timestamp(now)}_{name}", name)


def _migration(group: list[tuple[str, tuple[PopFile, Path]]], chosen: dict[tuple[str, bool], tuple[PopFile, Path]],
               refusals: list[Refusal]) -> Migration:
    downs = [chosen[(version, True)] for version, _ in reversed(group) if (version, True) in chosen]
    files = tuple(path for _, (_, path) in group) + tuple(path for _, path in downs)
    if len(group) == 1:
        [(version, (up, up_path))] = group
        down = downs[0] if downs else None
        up_script, up_skip = _script(up, up_path, refusals)
        down_script, down_skip = _script(*down, refusals) if down else (None, None)
        return Migration(version=version, name=up.name, sort_key=(version,), up=up_script, down=down_script,
                         files=files, skip_reason=up_skip, down_skip_reason=down_skip,
                         refused=any(refusal.path == up_path for refusal in refusals))
    # The parts of one migration popx's tooling split by statement (ory/kratos: ups and downs
    # numbered apart, so the down of one part undoes another part's up): replayed as one,
    # the ups in order and the downs in popx's down order, each part from its own file.
    version, (first, first_path) = group[0]
    parts = [parsed for _, (parsed, _) in group] + [parsed for parsed, _ in downs]
    transaction = Transaction.NONE if any(part.autocommit for part in parts) else Transaction.WRAPPED
    return Migration(
        version=version[:LEGACY_DIGITS], name=first.name, sort_key=(version,),
        up=_included(first_path, [path for _, (_, path) in group], transaction),
        down=_included(downs[0][1], [path for _, path in downs], transaction) if downs else None,
        files=files)


def _split_groups(ups: list[tuple[str, tuple[PopFile, Path]]]) -> list[list[tuple[str, tuple[PopFile, Path]]]]:
    """The ups in groups: the parts of one split migration together (versions longer than popx's
    legacy 14 digits that share those digits and the name), every other up alone."""
    groups: list[list[tuple[str, tuple[PopFile, Path]]]] = []
    for version, found in ups:
        previous = groups[-1][-1] if groups else None
        if (previous is not None and len(version) > LEGACY_DIGITS and previous[0][:LEGACY_DIGITS] == version[:LEGACY_DIGITS]
                and previous[1][0].name == found[0].name):
            groups[-1].append((version, found))
        else:
            groups.append([(version, found)])
    return groups


def _included(path: Path, parts: list[Path], transaction: Transaction) -> Script:
    """One script of several files, each included as psql includes a file, so that every
    statement keeps its own file and line."""
    return Script(path, "".join(f"\\ir {part.name}\n" for part in parts), transaction=transaction, parts=tuple(parts))


def _script(parsed: PopFile, path: Path, refusals: list[Refusal]) -> tuple[Script | None, str | None]:
    """The file's script, or None and why the replay cannot run it (a fizz file with code, or one
    fizz refuses: a refusal at its line too, and the other migrations still judged)."""
    # autocommit: one Exec outside a transaction, which PostgreSQL runs as one when it holds several statements.
    transaction = Transaction.ONE_QUERY if parsed.autocommit else Transaction.WRAPPED
    if not parsed.fizz:
        return Script(path, read_sql(path), transaction=transaction), None
    text = read_sql(path)
    if "{{" in text:  # pop renders the file as a Go template before fizz reads it
        return None, "a fizz migration with Go template actions, which pop renders before fizz reads it: not replayed"
    try:
        return translate(text).script(path, transaction), None
    except Unreadable as unreadable:
        return None, (f"a fizz migration the replay cannot run: it runs code, not fizz's calls alone"
                      f" ({unreadable.what}, line {unreadable.line})")
    except FizzRefuses as refused:
        refusals.append(Refusal(path, refused.line, f"fizz refuses it: {refused.message}"))
        return None, f"fizz refuses the file (line {refused.line}): {refused.message}"
