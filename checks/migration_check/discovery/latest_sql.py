"""A LATEST.sql that holds the whole schema, for a new database, beside version folders of the
migrations that upgrade an older one: the own migrators of usememos/memos (store/migrator.go) and
bytebase/bytebase (backend/migrator/migrator.go).

Rules, as each migrator applies them:
- A new database gets `LATEST.sql` alone, in one transaction, and is recorded at the newest version
  the folders hold: no upgrade migration ever runs on it.
- A database made by an older release runs the upgrade migrations above its version, each file's
  version read from its folder and its number, compared as semantic versions:
  - memos: `<version>/<NN>__<name>.sql`, version `<folder>.<NN + 1>` (`0.22/01__memo_tags.sql` is
    0.22.2); in the order of the paths, sorted as text; every pending file in one transaction. Files
    beside the folders, but LATEST.sql, are not read; a name without its number stops the upgrade.
  - bytebase: `<version>/<NNNN>##<name>.sql`, version `<folder>.<NNNN>`; in version order; each file in
    a transaction of its own with its history row. Any other file stops the migrator.
- There are no rollbacks.

So the replay checks what a new database gets (LATEST.sql, applied and judged as a baseline), and the
upgrade migrations, which run only on databases from before their version, whose schema the
repository does not hold, are not replayed but linted: every upgrade runs them on production data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from migration_check.discovery.base import Detection, Discovery, Layout, counted, read_sql, version_sort_key
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile

LATEST = "LATEST.sql"
# `<folder>.<n>` must be a semantic version for the migrators' comparisons: one or two numbers.
FOLDER = re.compile(r"^\d+(\.\d+)?$")
FILE = re.compile(r"^(?P<number>\d+)(?P<separator>__|##)(?P<name>.*)\.sql$")
UPGRADE_ONLY = ("upgrade only: {runner} runs it on databases from before {version}, whose schema the repository"
                " does not hold; a new database gets LATEST.sql, replayed instead (this one is linted)")


@dataclass(frozen=True)
class Migrator:
    """What sets one project's migrator apart."""

    runner: str  # as messages name it
    separator: str  # between a file's number and its name
    increment: int  # added to the number for the version's last part
    path_order: bool  # the paths sorted as text, else the versions compared
    width: int  # digits of a new file's number
    strays_stop_it: bool  # a file it cannot read stops it (bytebase), or is left alone (memos)


MIGRATORS = {"__": Migrator("memos' migrator", "__", 1, True, 2, False),
             "##": Migrator("bytebase's migrator", "##", 0, False, 4, True)}


class LatestSqlLayout(Layout):
    name = "latest-sql"
    description = ("LATEST.sql for a new database, <version>/<NN>__<name>.sql or <NNNN>##<name>.sql for an upgrade"
                   " (memos', bytebase's migrators)")
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("store/migration/postgres", "backend/migrator/migration")
    naming_pattern = r"^(LATEST\.sql|\d+(\.\d+)?/\d+(__|##)[^/]*\.sql)$"
    naming_hint = "LATEST.sql and <version>/<number>__<name>.sql (or ##)"
    strict_naming_pattern = r"^(LATEST\.sql|\d+\.\d+/\d+(__|##)[a-z][a-z0-9]*(_[a-z0-9]+)*\.sql)$"
    strict_naming_hint = "LATEST.sql and <major>.<minor>/<number>__snake_case_name.sql"
    file_name_order = True  # each migrator's one order: no other for the history check to ask
    identity = "id"
    sends_scripts_whole = True
    transaction_how = "runs LATEST.sql, or an upgrade's migrations, in a transaction"

    def detect(self, directory: Path) -> Detection | None:
        if not (directory / LATEST).is_file():
            return None
        folders = _version_folders(directory)
        if not folders:
            return None
        files = sum(1 for folder in folders for path in candidate_files(folder) if path.suffix == ".sql")
        migrator = _migrator(directory)
        return Detection(score=90, reason=f"{LATEST} and {counted(files, 'file')} in {counted(len(folders), 'version folder')}"
                                          f" ({migrator.runner})")

    def held_directories(self, directory: Path) -> list[Path]:
        return _version_folders(directory)

    def discover(self, directory: Path) -> Discovery:
        migrator = _migrator(directory)
        read_only = f"{migrator.runner} reads only {LATEST} and the .sql files of the version folders"
        stray = [StrayFile(path, read_only, refused=migrator.strays_stop_it)
                 for path in candidate_files(directory) if path.name != LATEST]
        upgrades: list[Migration] = []
        for folder in candidate_directories_in(directory):
            sql = [path for path in candidate_files(folder) if path.suffix == ".sql"]
            if not FOLDER.match(folder.name):
                stray += [StrayFile(path, f"not in a version folder: {migrator.runner} cannot read its version",
                                    refused=migrator.strays_stop_it) for path in sql]
                continue
            for path in sql:
                match = FILE.match(path.name)
                if match is None or match["separator"] != migrator.separator:
                    stray.append(StrayFile(path, f"not <number>{migrator.separator}<name>.sql: {migrator.runner} cannot"
                                                 " read its version and stops", refused=True))
                    continue
                version = f"{folder.name}{'.0' if '.' not in folder.name else ''}.{int(match['number']) + migrator.increment}"
                key = (path.relative_to(directory).as_posix(),) if migrator.path_order else version_sort_key(version)
                upgrades.append(Migration(
                    version=version, name=match["name"], sort_key=key, up=Script(path, read_sql(path)), files=(path,),
                    label=f"{folder.name}/{path.stem}", covered=True, upgrade_only=True,
                    skip_reason=UPGRADE_ONLY.format(runner=migrator.runner, version=version)))
        upgrades.sort(key=lambda m: m.sort_key)
        latest = directory / LATEST
        if not latest.is_file():  # (a base branch's deleted files, read for the history check)
            return Discovery(upgrades, stray, rollback_policy=RollbackPolicy.ABSENT)
        newest = max((m.version for m in upgrades), key=version_sort_key, default="0.0.0")
        first: tuple = ("",) if migrator.path_order else ((), "")  # (before every upgrade's key, of the same kind)
        baseline = Migration(version=newest, name="LATEST", sort_key=first, up=Script(latest, read_sql(latest)),
                             files=(latest,), baseline=True, label=LATEST.removesuffix(".sql"))
        return Discovery([baseline, *upgrades], stray, rollback_policy=RollbackPolicy.ABSENT)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        """The next number in the newest version folder (a new release's folder is the team's to make)."""
        migrator = _migrator(directory)
        folders = sorted(_version_folders(directory), key=lambda folder: version_sort_key(folder.name))
        newest = folders[-1] if folders else directory / "0.1"
        numbers = [int(match["number"]) for path in candidate_files(newest) if (match := FILE.match(path.name))]
        number = max(numbers, default=-1) + 1
        return {newest / f"{number:0{migrator.width}d}{migrator.separator}{name}.sql": f"-- {name}\n"}


def _version_folders(directory: Path) -> list[Path]:
    return [folder for folder in candidate_directories_in(directory)
            if FOLDER.match(folder.name) and any(path.suffix == ".sql" for path in candidate_files(folder))]


def _migrator(directory: Path) -> Migrator:
    """Whose migrator it is, by the separator most of its files' names use."""
    separators = [match["separator"] for folder in _version_folders(directory) for path in candidate_files(folder)
                  if (match := FILE.match(path.name))]
    return MIGRATORS["##" if separators.count("##") > separators.count("__") else "__"]
