"""yoyo-migrations: `<id>.sql` with an optional `<id>.rollback.sql`, ordered by `-- depends:` headers.

    -- create the users table
    -- depends: 20240101_01_abcde-create-schema

    create table app.users (...);

Rules, as yoyo applies them:
- A migration's id is its file name without `.sql` (`20240101_01_abcde-create-users`); its
  rollback is `<id>.rollback.sql`. The id is the `version` here, and `name` is empty. Without
  one, yoyo's rollback runs nothing: an empty rollback, which the round trip judges (a project
  where no migration has one is forward-only).
- The leading comment lines are a header: `-- depends: <id> <id>` lists migrations that must run
  first, `-- transactional: false` runs the migration (both directions) outside a transaction.
- Migrations are ordered by file name (yoyo sorts a directory's files: `0001.a-b.py` before
  `0001.a.sql`), then moved after their dependencies (a stable topological sort, as yoyo does).
  A yoyo.ini's `sources` (globs) are read as one list, each directory's files after the last's.
  An unknown dependency or a cycle makes yoyo run nothing: a history failure at the header line.
- Python migrations (`<id>.py`) are read without being run (`yoyo_python.py`): the SQL their
  `step()` calls write out is replayed; one that runs Python code is skipped with the reason.
  `post-apply` hooks are reported as stray (they are not migrations and are not replayed).
"""

from __future__ import annotations

import configparser
import glob
import heapq
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    implicit_empty_downs,
    read_head,
    read_sql,
    split_lines,
    up_to_repository_root,
    utc_timestamp,
)
from migration_check.discovery.listing import as_written_beside, candidate_files, per_discovery, the_others
from migration_check.discovery.yoyo_python import PythonMigration, imports_steps, read_python_migration, script_of
from migration_check.model import Migration, OrphanRollback, Refusal, RollbackPolicy, Script, StrayFile, Transaction

ROLLBACK = ".rollback.sql"


@dataclass
class Header:
    depends: list[str]
    depends_line: int | None
    transactional: bool


class YoyoLayout(Layout):
    name = "yoyo"
    description = "<id>.sql with <id>.rollback.sql and -- depends: headers"
    # A migration without a rollback is one yoyo rolls back by running nothing (its steps' rollbacks
    # are None): an empty rollback the round trip judges, as for goose and golang-migrate.
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations", "db/migrations")
    # yoyo reads every *.sql file as a migration whose id is the file name without .sql; `yoyo new`
    # writes <YYYYMMDD>_<NN>_<xxxxx>[-<message>].sql, and without -m there is no message.
    naming_pattern = r"^[^/]+\.(sql|py)$"  # yoyo reads Python migrations too (skipped here, not misnamed)
    naming_hint = "<id>.sql (and <id>.rollback.sql), or <id>.py"
    strict_naming_pattern = r"^\d{8}_\d{2}_[A-Za-z0-9]{5}(-[a-z0-9-]+)?((\.rollback)?\.sql|\.py)$"
    strict_naming_hint = "<YYYYMMDD>_<NN>_<xxxxx>-<message>.sql with .rollback.sql (or .py), as `yoyo new` writes them"
    bookkeeping = bookkeeping.YOYO
    transaction_opt_out = ("run it outside one, with `-- transactional: false` in the file's leading comments"
                           " (in a Python migration, `__transactional__ = False`)")

    identity = "id"  # _yoyo_migration records the id, the whole file name

    def detect(self, directory: Path) -> Detection | None:
        candidates = candidate_files(directory)
        files = [p for p in candidates if p.name.endswith(".sql")]
        rollbacks = sum(1 for p in files if p.name.endswith(ROLLBACK))
        headed = sum(1 for p in files if not p.name.endswith(ROLLBACK) and read_header(p, read_head(p)).depends_line)
        # A project of Python migrations only is yoyo's too (medwig's tutorial, gpu-mode/kernelbot).
        python = sum(1 for p in candidates if p.suffix == ".py" and imports_steps(read_head(p)))
        # Plain `.sql` files are yoyo's too where a yoyo.ini names their directory (its `sources`).
        named = not rollbacks and not headed and not python and bool(files) and bool(_naming_sources(directory))
        if not rollbacks and not headed and not python and not named:
            return None
        counted = ((rollbacks, "<id>.rollback.sql files"), (headed, "-- depends: headers"),
                   (python, "Python migrations (from yoyo import step)"), (len(files) if named else 0, ".sql files"))
        parts = [f"{count} {what}" for count, what in counted if count]
        sources = len(_naming_sources(directory))
        return Detection(score=85, reason=", ".join(parts) + (f" across {sources} sources" if sources > 1 else ""))

    def other_locations(self, directory: Path) -> list[Path]:
        return the_others(_naming_sources(directory), directory)

    def discover(self, directory: Path) -> Discovery:
        forward: dict[str, Path] = {}
        backward: dict[str, Path] = {}
        python: dict[str, Path] = {}
        stray: list[StrayFile] = []
        sources = as_written_beside(directory, _naming_sources(directory)) or (directory,)
        # yoyo sorts each source's files and reads the sources one after the other.
        files = {path: (rank, path.name) for rank, source in enumerate(sources) for path in candidate_files(source)}
        for path in files:
            if path.name.startswith("post-apply"):
                stray.append(StrayFile(path, "yoyo post-apply hook: not replayed"))
            elif path.name.endswith(ROLLBACK):
                backward[path.name[: -len(ROLLBACK)]] = path
            elif path.suffix == ".sql":
                forward[path.stem] = path
            elif path.suffix == ".py" and not path.name.startswith("__"):
                python[path.stem] = path
            else:
                stray.append(StrayFile(path, "yoyo ignores it: not a .sql or .py migration"))
        headers = {id_: read_header(path, read_sql(path)) for id_, path in forward.items()}
        texts = {id_: read_sql(path) for id_, path in python.items()}
        pythons = {id_: read_python_migration(python[id_], text) for id_, text in texts.items()}
        headers |= {id_: Header(p.depends, p.depends_line, p.transactional) for id_, p in pythons.items()}
        names = {id_: files[path] for id_, path in (*forward.items(), *python.items())}
        refusals: list[Refusal] = []
        order = _ordered(sorted(names, key=names.__getitem__), headers, {**forward, **python}, refusals)
        migrations = []
        for position, id_ in enumerate(order):
            transaction = Transaction.WRAPPED if headers[id_].transactional else Transaction.NONE
            if id_ in python:
                migrations.append(_python_migration(id_, position, python[id_], texts[id_], pythons[id_], transaction))
                continue
            up_path, down_path = forward[id_], backward.pop(id_, None)
            migrations.append(Migration(
                version=id_,
                name="",
                sort_key=(position,),
                up=Script(up_path, read_sql(up_path), transaction=transaction),
                down=Script(down_path, read_sql(down_path), transaction=transaction) if down_path else None,
                files=(up_path,) + ((down_path,) if down_path else ()),
            ))
        orphans = [OrphanRollback(path, id_, "") for id_, path in sorted(backward.items())]
        stray += _misnamed_rollbacks(order, forward)
        return implicit_empty_downs(Discovery(migrations, stray, orphans, refusals=refusals))

    def missing_rollback_hint(self, migration: Migration) -> str | None:
        if migration.main_file is not None and migration.main_file.suffix == ".py":
            return "a rollback to its steps (`step(\"<apply>\", \"<rollback>\")`)"
        return None

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        stem = f"{utc_timestamp(now)}_{name.replace('_', '-')}"
        return {
            directory / f"{stem}.sql": f"-- {name}\n-- depends:\n\n",
            directory / f"{stem}{ROLLBACK}": f"-- rollback of {stem}\n",
        }


def _python_migration(id_: str, position: int, path: Path, text: str, found: PythonMigration,
                      transaction: Transaction) -> Migration:
    if found.skip_reason is not None:
        return Migration(id_, "", (position,), up=None, files=(path,), skip_reason=found.skip_reason)
    # Steps without any rollback are undone by nothing, as a .sql file without its .rollback.sql.
    down = script_of(path, text, found.rollbacks, transaction, found.tolerated_rollback) \
        if found.rollbacks or not found.applies else None
    return Migration(id_, "", (position,), up=script_of(path, text, found.applies, transaction, found.tolerated_apply),
                     down=down, files=(path,))


def read_header(path: Path, text: str) -> Header:
    """The `-- key: value` lines of the leading comment block (yoyo reads them line by line)."""
    header = Header(depends=[], depends_line=None, transactional=True)
    for number, line in enumerate(split_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        key, colon, value = stripped[2:].partition(":")
        if not colon:
            continue
        key = key.strip().lower()
        if key == "depends":
            header.depends += value.split()
            header.depends_line = number
        elif key == "transactional":
            header.transactional = value.strip().lower() not in ("false", "no", "0", "off")
    return header


def _ordered(ids: list[str], headers: dict[str, Header], paths: dict[str, Path],
             refusals: list[Refusal]) -> list[str]:
    """`ids` in the order given (file names), each moved after its dependencies: Kahn's algorithm
    taking the first ready one each time, as yoyo's topologicalsort does. yoyo runs nothing where a
    dependency is unknown or they form a cycle: a refusal at the header's line, and the migrations
    still ordered (without that dependency; the cycle's in the order given), each judged."""
    known = set(ids)
    waiting_on: dict[str, set[str]] = {}
    dependents: dict[str, list[str]] = {id_: [] for id_ in ids}
    for id_ in ids:
        header = headers.get(id_)
        needs = set(header.depends) if header else set()
        for dependency in sorted(needs):
            if dependency not in known:
                line = header.depends_line if header and header.depends_line else 1
                refusals.append(Refusal(paths[id_], line, f"depends on {dependency}, which is not a migration here:"
                                        " yoyo runs no migration then"))
                needs.discard(dependency)
                continue
            dependents[dependency].append(id_)
        waiting_on[id_] = needs
    rank = {id_: index for index, id_ in enumerate(ids)}
    ready = [(rank[id_], id_) for id_ in ids if not waiting_on[id_]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, id_ = heapq.heappop(ready)
        order.append(id_)
        for dependent in dependents[id_]:
            waiting_on[dependent].discard(id_)
            if not waiting_on[dependent]:
                heapq.heappush(ready, (rank[dependent], dependent))
    if len(order) < len(ids):
        stuck = [id_ for id_ in ids if id_ not in set(order)]
        refusals.append(Refusal(paths[stuck[0]], headers[stuck[0]].depends_line or 1,
                                f"dependency cycle among {', '.join(sorted(stuck))}: yoyo runs no migration then"))
        order += stuck
    return order


def ini_sources(root: Path) -> list[str]:
    """The migration directories a yoyo.ini in `root` names (`sources`, relative to it, each a glob
    as yoyo expands it), in its order."""
    parser = _ini(root)
    sources = parser.get("DEFAULT", "sources", fallback="").split() if parser is not None else []
    found: list[str] = []
    for source in sources:
        if not glob.has_magic(source):
            found.append(source)
        elif not Path(source).is_absolute():
            found += sorted(path.relative_to(root).as_posix() for path in root.glob(source) if path.is_dir())
    return found


def _naming_sources(directory: Path) -> tuple[Path, ...]:
    """Every source directory of the yoyo.ini (from `directory` up to the repository's root) that
    names `directory` among its `sources`: yoyo reads them all as one list of migrations, each
    directory's files in order, one directory after the other. Empty where no yoyo.ini names it."""
    naming = _naming_ini(directory)
    return naming[1] if naming is not None else ()


@per_discovery
def _naming_ini(directory: Path) -> tuple[Path, tuple[Path, ...]] | None:
    """(the folder of the yoyo.ini that names `directory` among its `sources`, every source
    directory it names); None where none does."""
    here = directory.resolve()
    for folder in up_to_repository_root(here):
        try:
            sources = [(folder / source).resolve() for source in ini_sources(folder)]
        except (OSError, UnicodeDecodeError, configparser.Error):
            continue
        if here in sources:
            return folder, tuple(dict.fromkeys(source for source in sources if source.is_dir()))
    return None


@per_discovery
def _ini(root: Path) -> configparser.ConfigParser | None:
    """The yoyo.ini in `root`, read; None where there is none."""
    path = root / "yoyo.ini"
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def ini_database(directory: Path) -> tuple[Path, str] | None:
    """(yoyo.ini, the scheme of its `database` URL) for the yoyo.ini that names `directory` as a
    source; None where none does, or its URL is left to the environment (`%(DATABASE_URL)s`)."""
    naming = _naming_ini(directory)
    try:
        parser = _ini(naming[0]) if naming is not None else None
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    if naming is None or parser is None:
        return None
    url = parser.get("DEFAULT", "database", fallback="").strip()
    scheme = url.partition("://")[0].partition("+")[0].lower() if "://" in url else ""
    return (naming[0] / "yoyo.ini", scheme) if scheme and not scheme.startswith("%") else None


def _misnamed_rollbacks(order: list[str], forward: dict[str, Path]) -> list[StrayFile]:
    """Migrations named as the rollback of another but not as yoyo names one (StreetOfCode/discord-bot's
    `0006.social-media-survey.rollback..sql`): yoyo runs each forward, as a migration of its own."""
    found = []
    for id_ in order:
        trimmed = id_.rstrip("._- ")
        for marker in (".rollback", "_rollback", "-rollback", ".down"):
            base = trimmed[: -len(marker)] if trimmed.lower().endswith(marker) else None
            if base and base in forward and base != id_ and id_ in forward:
                place = "before" if order.index(id_) < order.index(base) else "after"
                found.append(StrayFile(forward[id_], f"named as the rollback of {base}, but yoyo runs it forward, as a"
                                       f" migration of its own, {place} {base}: name it {base}{ROLLBACK}",
                                       misread=True))
                break
    return found
