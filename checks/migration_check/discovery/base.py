"""What every layout module provides, and the helpers they share.

A layout is one module under `discovery/`: it says whether a directory looks like its own
(`detect`), turns the directory into ordered migrations (`discover`), and knows how to name a new
migration (`new_files`). Layouts never run SQL and never judge names: naming, pairing and history
are separate checks that read what discovery found, so discovery stays lenient and reports every
file it could not place as a `StrayFile` rather than dropping it.
"""

from __future__ import annotations

import abc
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from migration_check.discovery.bookkeeping import Bookkeeping
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.listing import repository_root as repository_root
from migration_check.discovery.listing import up_to_repository_root as up_to_repository_root
from migration_check.discovery.listing import within_repository as within_repository
from migration_check.errors import FileError, read_utf8
from migration_check.model import Migration, OrphanRollback, Refusal, RollbackPolicy, Script, StrayFile, Transaction


@dataclass(frozen=True)
class Detection:
    """How sure a layout is that a directory is its own, and why (shown to the user)."""

    score: int
    reason: str
    # The runner's own file is there but names no migration yet (an empty sqitch.plan): chosen only
    # when no later step of the search finds migrations (a repository may keep a stub at its root).
    empty: bool = False


@dataclass
class Discovery:
    migrations: list[Migration]
    stray_files: list[StrayFile] = field(default_factory=list)
    orphan_rollbacks: list[OrphanRollback] = field(default_factory=list)
    rollback_policy: RollbackPolicy | None = None  # None: the layout's default
    seeds: list[Path] = field(default_factory=list)  # the runner's own seed files (supabase/seed.sql)
    declared_schema: Path | None = None  # the runner's own schema dump (dbmate's db/schema.sql)
    pending_in_one_transaction: bool = False  # every pending one in one transaction (drizzle; Flyway's `group`)
    # What the runner itself does to a database before the first migration (Flyway creates the
    # schemas it manages and puts the default one first on the search_path).
    setup: list[Script] = field(default_factory=list)
    setup_reason: str = ""  # what that setup is, in a sentence, for the run's header
    setup_extensions: frozenset[str] = frozenset()  # extensions it installs where the server has them
    integrity_file: Path | None = None  # the runner's own integrity file, checked (atlas.sum)
    refusals: list[Refusal] = field(default_factory=list)  # what the runner refuses in the files
    histories_reason: str = ""  # why the migrations are several alternative histories (Migration.history)


class Layout(abc.ABC):
    """One migration layout (golang-migrate, dbmate, Flyway, ...)."""

    name: ClassVar[str]
    description: ClassVar[str]
    default_rollbacks: ClassVar[RollbackPolicy]
    # Where the layout keeps migrations, relative to a repository root, most specific first.
    conventional_dirs: ClassVar[tuple[str, ...]] = ("migrations", "db/migrations")
    # File names, for the naming check: a regex on the path inside the migrations directory (not
    # on SQL). `naming_pattern` is what the layout's own runner accepts, read from its source; the
    # strict one is the tidier convention a team can opt into (`naming: strict`).
    naming_pattern: ClassVar[str] = r".*"
    naming_hint: ClassVar[str] = ""
    strict_naming_pattern: ClassVar[str | None] = None  # None: the same as naming_pattern
    strict_naming_hint: ClassVar[str | None] = None
    # Whether the runner compares versions as numbers (9 before 10), not file names as text.
    numeric_versions: ClassVar[bool] = False
    # Whether the runner applies its files in file-name order, as text (`10_b` before `9_a`), or
    # compares its versions as text (diesel): the layout's sort keys are then the names (or the
    # versions), and no other order is anybody's business.
    file_name_order: ClassVar[bool] = False
    # Whether the runner's own plan or changelog orders the migrations (sqitch.plan, a Liquibase
    # changelog): no order for file names or versions to disagree on.
    declared_order: ClassVar[bool] = False
    # Whether 14-digit versions are UTC timestamps by the layout's own convention (they must then
    # be real moments, not in the future). Under `naming: strict` they are for every layout.
    timestamp_versions: ClassVar[bool] = False
    # The runner's own history table (bookkeeping.py), kept by the replay as the runner keeps it.
    bookkeeping: ClassVar[Bookkeeping | None] = None
    # How the runner puts a migration in a transaction (Transaction.WRAPPED, ONE_QUERY), and how
    # a migration opts out: said when PostgreSQL refuses a statement in that transaction.
    transaction_how: ClassVar[str] = "runs each migration in a transaction"
    transaction_each_how: ClassVar[str] = ""  # how, where the project turned an all-in-one transaction off
    transaction_opt_out: ClassVar[str] = ""
    # The runner sends each script it wraps as one query (Script.sent_as_one_query).
    sends_scripts_whole: ClassVar[bool] = False
    # What the runner does when two migrations share a version, where it refuses them all (`{version}` as it prints it).
    duplicate_refusal: ClassVar[str] = ""
    # What the runner does on a database that ran a migration the branch renames under the same
    # version, where it checks the name too (`{version}`); empty where it records the version alone.
    renamed_refusal: ClassVar[str] = ""
    # What the runner does on a database that ran a migration the branch edits, where it keeps a
    # checksum of it (`{version}`); empty where it only never runs it again.
    edited_refusal: ClassVar[str] = ""
    unchecksummed: ClassVar[tuple[str, ...]] = ()  # suffixes of the files it keeps no checksum of
    # Sub-directories that hold part of the layout's migrations (db-migrate's `sqls`): the tree
    # search does not offer them as migration directories of their own.
    holds_subdirectories: ClassVar[tuple[str, ...]] = ()
    # One directory per migration (Prisma's, Diesel's), named as its author likes: a directory
    # named like a file (`…_backfill.sql/`) is a migration there, not a mistake.
    migrations_are_directories: ClassVar[bool] = False
    # The runner renders each file as a Go template before it runs it (gobuffalo/pop; go_templates.py).
    renders_go_templates: ClassVar[bool] = False

    # What the runner records a migration as applied by (two migrations with one identity are the
    # same migration to it): "number" (the version, numeric parts as numbers: V1 and V01 are
    # one), "text" (the version as written: 001 and 1 differ) or "id" (the whole migration id).
    identity: ClassVar[str] = "number"

    def checksummed(self, content: bytes) -> bytes:
        """What of a merged file an edit is judged on: all of it, unless the runner's checksum reads less."""
        return content

    def version_identity(self, version: str, migration_id: str) -> tuple:
        return (version,) if self.identity == "text" else (migration_id,) if self.identity == "id" \
            else numeric_identity(version)

    @abc.abstractmethod
    def detect(self, directory: Path) -> Detection | None:
        """A Detection when `directory` looks like this layout, else None."""

    @abc.abstractmethod
    def discover(self, directory: Path) -> Discovery:
        """The migrations in `directory`, ordered as the layout's own runner orders them."""

    def held_directories(self, directory: Path) -> list[Path]:
        """Directories that are part of the migrations in `directory` (db-migrate's `sqls`, a sqitch
        project's top_dir and script directories): the tree search offers none of them on its own."""
        return [directory / sub for sub in self.holds_subdirectories] + self.other_locations(directory)

    def other_locations(self, directory: Path) -> list[Path]:
        """Directories read with `directory` as one list (Alembic's version_locations, yoyo's sources)."""
        return []

    def history_tables(self, directory: Path) -> frozenset[str]:
        """The names the runner's history table has, here and in production (Flyway keeps it in the
        schema it manages, under the name `table` says): drift leaves them out."""
        return frozenset({self.bookkeeping.table}) if self.bookkeeping is not None else frozenset()

    def missing_rollback_hint(self, migration: Migration) -> str | None:
        """What to add where a migration of this layout keeps its rollback inside its own file
        (a yoyo Python migration's steps); None: the pairing check names the layout's file."""
        return None

    def misread_marker(self, migration: Migration) -> tuple[int, str] | None:
        """(line, why) of a line in the migration's file that reads as a section marker but is not
        one to the runner (dbmate's indented `-- migrate:down`): why it has no rollback, or why its
        up runs statements meant for the rollback. None where there is none."""
        return None

    def empty_rollback_note(self, down: Script) -> str | None:
        """What a rollback that holds no statement is, where the runner's own tools write it so
        (Hasura's console: "Could not auto-generate a down migration"); None: just empty."""
        return None

    def unsent_note(self, down: Script) -> str | None:
        """What the rollback's code builds and never sends (a Kysely query without `.execute()`)."""
        return None

    def no_rollback_reason(self, migration: Migration) -> str | None:
        """What the runner does to roll back a migration that has no rollback, where it allows that."""
        return None

    def naming_for(self, directory: Path) -> tuple[str, str]:
        """The naming check's rule for the migrations in `directory` and how to say it: the layout's
        own, unless the project configures its runner's names (Flyway's `sqlMigrationPrefix`)."""
        return self.naming_pattern, self.naming_hint or self.naming_pattern

    def failure_hint(self, failed: FailedAt) -> str | None:
        """What the runner made of the text that failed (a Liquibase parameter the project's code
        gives it; goose's ENVSUB turning `$$` into `$`), in parentheses; None: nothing."""
        return None

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        """Files (path -> initial content) for a new migration called `name`."""
        raise NotImplementedError(f"`migration-check new` is not supported for the {self.name} layout")

    def out_of_order_effect(self, directory: Path) -> str:
        """What the runner does, on a database that ran the base's migrations, with a new one that sorts
        before them (`{name}`: its file), where it is known; "": it may skip it or run it late."""
        return ""

    def integrity_holds(self, directory: Path) -> bool:
        """Whether the runner's integrity file (atlas.sum) matches the directory; True without one."""
        return True

    def after_new(self, directory: Path, held: bool) -> list[Path]:
        """Files `new` brings up to date, as the runner's own `new` does (atlas.sum, where it `held`)."""
        return []


@dataclass(frozen=True)
class FailedAt:
    """Where a replayed script failed, as a layout's failure_hint reads it."""

    path: Path
    line: int | None  # 1-based, in the file
    sqlstate: str | None
    statement: str | None  # the text the replay ran, as the runner gives it


def counted(count: int, noun: str) -> str:
    """`1 file`, `3 files`: how a detection counts what it saw."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def files_named(count: int, pattern: str) -> str:
    """`3 files named <version>_<name>.sql`, `1 file named ...`."""
    return f"{counted(count, 'file')} named {pattern}"


def read_sql(path: Path) -> str:
    """The text of a migration file. Not UTF-8 is a FileError at the line of the first bad byte."""
    text = read_utf8(path)
    refuse_nul(path, text)
    return text.removeprefix("\ufeff")


def refuse_nul(path: Path, text: str) -> None:
    """PostgreSQL reads a query up to its first NUL byte: whatever follows would silently never
    run. A FileError at the NUL's line (a UTF-16 file without a BOM is full of them)."""
    at = text.find("\x00")
    if at != -1:
        hint = " (is it UTF-16? save it as UTF-8)" if text.count("\x00") > len(text) // 4 else ""
        raise FileError(path, text.count("\n", 0, at) + 1, f"holds a NUL byte, which would end the SQL there{hint}")


def numeric_identity(version: str) -> tuple:
    """Versions as numbers where they are numeric, so V1 and V01 are one version, 1.2 < 1.10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[._]", version))


def version_sort_key(version: str) -> tuple:
    """Numeric where the version is numeric, so 2 < 10 and 1.2.3 < 1.10; text breaks ties."""
    parts = re.split(r"[._]", version)
    key: list[tuple[int, int | str]] = []
    for part in parts:
        key.append((0, int(part)) if part.isdigit() else (1, part))
    return (tuple(key), version)


def utc_timestamp(now: datetime) -> str:
    return now.strftime("%Y%m%d%H%M%S")


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its "\\n" (only "\\n" ends a line, as for the runners)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def section(path: Path, lines: list[str], start: int, end: int, transaction: Transaction = Transaction.AUTO,
            statements: tuple[tuple[int, str], ...] | None = None) -> Script:
    """A Script made of lines[start:end] (0-based) of a file, with first_line pointing at them."""
    return Script(path, "".join(lines[start:end]), first_line=start + 1, transaction=transaction, statements=statements)



def implicit_empty_downs(found: Discovery) -> Discovery:
    """For runners that run nothing where a migration has no rollback (golang-migrate, goose,
    sql-migrate, yoyo): each missing rollback is that empty one, which the round trip judges. Where no migration has
    one, the project is forward-only (it never rolls back, as goharbor/harbor's 39 ups): its
    rollbacks are absent, not 39 empty ones that undo nothing."""
    if any(m.down is not None for m in found.migrations) or found.orphan_rollbacks:
        found.migrations = [implicit_empty_down(m) for m in found.migrations]
    else:
        found.rollback_policy = RollbackPolicy.ABSENT
    return found


def implicit_empty_down(migration: Migration) -> Migration:
    """`migration` with an empty rollback where it has none, for runners that run nothing then."""
    if migration.down is not None or migration.up is None or migration.down_skip_reason:
        return migration
    empty = Script(migration.up.path, "", first_line=1, transaction=migration.up.transaction)
    return dataclasses.replace(migration, down=empty, implicit_down=True)


def sent_whole_when_wrapped(migration: Migration) -> Migration:
    """`migration` with the scripts its runner wraps marked as sent as one query."""
    scripts = {field: dataclasses.replace(script, sent_as_one_query=True) for field in ("up", "down")
               if (script := getattr(migration, field)) is not None and script.transaction is Transaction.WRAPPED}
    return dataclasses.replace(migration, **scripts) if scripts else migration


def with_transactions(migration: Migration, transaction_of: Callable[[Script], Transaction]) -> Migration:
    """`migration` with each of its scripts run as `transaction_of` says the runner runs it."""
    scripts = {field: dataclasses.replace(script, transaction=transaction_of(script))
               for field in ("up", "down") if (script := getattr(migration, field)) is not None}
    return dataclasses.replace(migration, **scripts)


def setting_line(path: Path, key: str) -> int:
    """The line of a `key = value` config file (sqitch.conf, migration_lock.toml) that sets `key`,
    the first one; 1 when none does or the file cannot be read. For messages at file:line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((number for number, line in enumerate(lines, 1)
                 if line.strip().split("=", 1)[0].strip().lower() == key), 1)


def read_head(path: Path, limit: int = 1 << 16) -> str:
    """The start of a file, enough for detection to find leading markers without reading it all."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        return handle.read(limit)


@dataclass(frozen=True)
class FileRole:
    """What a file name says about a file of a two-file layout (forward script + rollback script)."""

    version: str
    name: str
    rollback: bool


def pair_forward_and_rollback(
    directory: Path,
    classify: Callable[[Path], FileRole | None],
    stray_reason: str,
    *,
    pair_key: Callable[[FileRole], tuple] = lambda role: (role.version, role.name),
    refuse_stray_sql: bool = False,
) -> Discovery:
    """Discovery for every layout that keeps a forward and a rollback file per version.

    `classify` reads one file name; files it returns None for are stray (refused, as a naming
    failure, where `refuse_stray_sql` and they end in .sql). A forward and a rollback file pair up
    when their `pair_key` is the same, as the layout's runner pairs them. A rollback without its
    forward file is an orphan, a forward file without its rollback has `down=None`.
    """
    forward: dict[tuple, list[tuple[FileRole, Path]]] = {}
    backward: dict[tuple, list[tuple[FileRole, Path]]] = {}
    stray: list[StrayFile] = []
    for path in candidate_files(directory):
        role = classify(path)
        if role is None:
            stray.append(StrayFile(path, stray_reason, refused=refuse_stray_sql and path.suffix.lower() == ".sql"))
            continue
        (backward if role.rollback else forward).setdefault(pair_key(role), []).append((role, path))

    migrations = []
    for key, ups in forward.items():
        downs = backward.get(key, [])
        for role, up_path in ups:
            down_path = _rollback_of(role, ups, downs)
            migrations.append(
                Migration(
                    version=role.version,
                    name=role.name,
                    sort_key=version_sort_key(role.version) + (role.name,),
                    up=Script(up_path, read_sql(up_path)),
                    down=Script(down_path, read_sql(down_path)) if down_path else None,
                    files=(up_path,) + ((down_path,) if down_path else ()),
                )
            )
    migrations.sort(key=lambda m: m.sort_key)
    orphans = [OrphanRollback(path, role.version, role.name)
               for _, downs in sorted(backward.items()) for role, path in downs]
    return Discovery(migrations, stray, orphans)


def _rollback_of(role: FileRole, ups: list[tuple[FileRole, Path]], downs: list[tuple[FileRole, Path]]) -> Path | None:
    """The rollback file of one forward file among those of its pair key, taken out of `downs`:
    the only one when the key has one of each; else the one of the same name. Two forward files
    of one key (golang-migrate's `25_a.up.sql` and `25_b.up.sql`) both stay migrations, so the
    history check fails the duplicate version instead of one file vanishing."""
    if len(ups) == 1 and len(downs) == 1:
        return downs.pop()[1]
    same = next((d for d in downs if d[0].name == role.name), None)
    if same is None:
        return None
    downs.remove(same)
    return same[1]
