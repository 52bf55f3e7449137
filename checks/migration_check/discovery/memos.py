"""memos' runner (usememos/memos, store/migrator.go): `<version>/<NN>__<name>.sql` folders beside a
`LATEST.sql` that holds the whole schema.

Rules, as its migrator applies them:
- A new database gets `LATEST.sql` alone, in one transaction, and is then recorded at the newest
  version the folders hold: no incremental migration ever runs on it.
- A database made by an older release is upgraded by the `*/*.sql` files whose version is above its
  own and at most the newest: the file's version is its folder's, then its number plus one
  (`0.22/01__memo_tags.sql` is 0.22.2), compared as semantic versions. They run in the order of
  their paths, sorted as text, all of them in one transaction, each file sent whole.
- A file whose name does not start with a number and `__` stops the upgrade (its version cannot be
  read); files beside the folders, but LATEST.sql, are never read. There are no rollbacks.

So the replay checks what a new database gets (LATEST.sql, applied and judged as a baseline), and the
incremental migrations, which run only on databases from before their version, whose schema the
repository does not hold, are not replayed but linted: every upgrade runs them on production data.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery.base import Detection, Discovery, Layout, counted, read_sql
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile

LATEST = "LATEST.sql"
# `v<folder>.<n>` must be a semantic version for the runner's comparisons: one or two numbers.
FOLDER = re.compile(r"^\d+(\.\d+)?$")
FILE = re.compile(r"^(?P<number>\d+)__(?P<name>.*)\.sql$")
UPGRADE_ONLY = ("upgrade only: memos' migrator runs it on databases from before {version}, whose schema the repository"
                " does not hold; a new database gets LATEST.sql, replayed instead (this one is linted)")


class MemosLayout(Layout):
    name = "memos"
    description = "LATEST.sql for a new database, <version>/<NN>__<name>.sql for an upgrade (memos' migrator)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("store/migration/postgres",)
    naming_pattern = r"^(LATEST\.sql|\d+(\.\d+)?/\d+__[^/]*\.sql)$"
    naming_hint = "LATEST.sql and <version>/<number>__<name>.sql"
    strict_naming_pattern = r"^(LATEST\.sql|\d+\.\d+/\d{2}__[a-z][a-z0-9]*(_[a-z0-9]+)*\.sql)$"
    strict_naming_hint = "LATEST.sql and <major>.<minor>/<NN>__snake_case_name.sql"
    file_name_order = True  # paths sorted as text: the migrator's one order
    identity = "id"  # the migrator records a version, not the files: two files of one number both run
    sends_scripts_whole = True
    transaction_how = "runs LATEST.sql, or every pending migration of an upgrade, in one transaction"

    def detect(self, directory: Path) -> Detection | None:
        if not (directory / LATEST).is_file():
            return None
        folders = _version_folders(directory)
        if not folders:
            return None
        files = sum(1 for folder in folders for path in candidate_files(folder) if path.suffix == ".sql")
        return Detection(score=90, reason=f"{LATEST} and {counted(files, 'file')} in {counted(len(folders), 'version folder')}")

    def held_directories(self, directory: Path) -> list[Path]:
        return _version_folders(directory)

    def discover(self, directory: Path) -> Discovery:
        stray = [StrayFile(path, f"memos' migrator reads only {LATEST} and the .sql files of the folders")
                 for path in candidate_files(directory) if path.name != LATEST]
        upgrades: list[Migration] = []
        for folder in candidate_directories_in(directory):
            sql = [path for path in candidate_files(folder) if path.suffix == ".sql"]
            if not FOLDER.match(folder.name):
                stray += [StrayFile(path, "not in a version folder: its version is no semantic version, and memos'"
                                  " migrator never runs it") for path in sql]
                continue
            for path in sql:
                match = FILE.match(path.name)
                if match is None:
                    stray.append(StrayFile(path, "not <number>__<name>.sql: memos' migrator cannot read its version"
                                           " and stops the upgrade", refused=True))
                    continue
                version = f"{folder.name}.{int(match['number']) + 1}"
                upgrades.append(Migration(
                    version=version, name=match["name"], sort_key=(path.relative_to(directory).as_posix(),),
                    up=Script(path, read_sql(path)), files=(path,), label=f"{folder.name}/{path.stem}",
                    skip_reason=UPGRADE_ONLY.format(version=version), covered=True, upgrade_only=True))
        upgrades.sort(key=lambda m: m.sort_key)
        latest = directory / LATEST
        newest = max((m.version for m in upgrades), key=_semantic, default="0.0.0")
        baseline = Migration(version=newest, name="LATEST", sort_key=("",), up=Script(latest, read_sql(latest)),
                             files=(latest,), baseline=True, label=LATEST.removesuffix(".sql"))
        return Discovery([baseline, *upgrades], stray, rollback_policy=RollbackPolicy.ABSENT)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        """The next number in the newest version folder (a new release's folder is the team's to make)."""
        folders = sorted(_version_folders(directory), key=lambda folder: _semantic(folder.name))
        if not folders:
            return {directory / "0.1" / f"00__{name}.sql": f"-- {name}\n"}
        numbers = [int(match["number"]) for path in candidate_files(folders[-1]) if (match := FILE.match(path.name))]
        return {folders[-1] / f"{max(numbers, default=-1) + 1:02d}__{name}.sql": f"-- {name}\n"}


def _version_folders(directory: Path) -> list[Path]:
    return [folder for folder in candidate_directories_in(directory)
            if FOLDER.match(folder.name) and any(path.suffix == ".sql" for path in candidate_files(folder))]


def _semantic(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
