"""refinery (rust-db/refinery; PeerDB's nexus/catalog/migrations): `V<version>__<name>.sql`, forward
only, in version order. Flyway's names, not Flyway's rules.

Rules, as refinery_core reads and runs them (util.rs, runner.rs, drivers/tokio_postgres.rs):
- A migration is a file in the directory or any directory below it (walked recursively) named
  `[U|V]<version>__<name>.sql` (`.rs`: Rust code, not read here). The version must parse as an
  integer (`V1.2__x.sql` stops the run: InvalidVersion); the name is word characters only. Any
  other file is skipped, with a warning.
- `V` is versioned, `U` unversioned: both run in version order (a `U` may be added below the newest
  applied version); neither is Flyway's undo. There are no rollbacks, placeholders, repeatable or
  baseline migrations.
- Each migration is sent whole in a transaction of its own with its history row (`set_grouped`:
  all of them in one).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, files_named, read_sql, repository_root
from migration_check.discovery.drivers import crate_naming, crate_requiring
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

CRATE = "refinery"
# refinery_core's STEM_RE with its extensions (`[U|V]`: the `|` is a character of the class too).
FILE = re.compile(r"^(?P<kind>[U|V])(?P<version>\d+(?:\.\d+)?)__(?P<name>\w+)\.(?P<extension>sql|rs)$")
RUST_SKIP = "a Rust migration: refinery runs the SQL its `migration()` returns, which is not read here"


class RefineryLayout(Layout):
    name = "refinery"
    description = "V<version>__<name>.sql, forward only, in version order (refinery)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("migrations",)
    naming_pattern = r"^([^/]+/)*[U|V]\d+__\w+\.(sql|rs)$"
    naming_hint = "V<integer>__<word characters>.sql"
    strict_naming_pattern = r"^([^/]+/)*V\d+__[a-z][a-z0-9]*(_[a-z0-9]+)*\.sql$"
    strict_naming_hint = "V<integer>__snake_case_name.sql"
    numeric_versions = True
    bookkeeping = bookkeeping.REFINERY
    sends_scripts_whole = True
    duplicate_refusal = "refinery refuses to run any migration (a version twice: {version})"
    edited_refusal = ("refinery's checksum covers the SQL, so on databases that ran it no migration runs (\"applied"
                      " migration V{version}__... is different than filesystem one\")")
    renamed_refusal = ("refinery's checksum covers the name, so on databases that ran it no migration runs (\"applied"
                       " migration V{version}__... is different than filesystem one\")")

    def detect(self, directory: Path) -> Detection | None:
        files = [path for path in _files(directory) if path.suffix in (".sql", ".rs")]
        named = [path for path in files if FILE.match(path.name)]
        # The directory refinery is pointed at holds them itself (a crate's folder above it holds them too).
        here = any(FILE.match(path.name) for path in candidate_files(directory)) or directory.name == "migrations"
        if not here or not named or len(named) < len(files) / 2:
            return None
        if crate_requiring(CRATE, directory) is not None:
            return Detection(score=92, reason=f"{files_named(len(named), self.naming_hint)}, {CRATE} in a Cargo.toml")
        runner = crate_naming(CRATE, directory)
        if runner is None:
            return None
        where = runner.relative_to(repository_root(directory) or runner.parent.parent).as_posix()
        return Detection(score=92, reason=f"{files_named(len(named), self.naming_hint)}, run by {CRATE} from {where}")

    def held_directories(self, directory: Path) -> list[Path]:
        return sorted({path.parent for path in _files(directory)} - {directory})

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        for path in _files(directory):
            match = FILE.match(path.name)
            if match is None:
                if path.suffix in (".sql", ".rs"):
                    stray.append(StrayFile(path, f"not {self.naming_hint}: refinery skips it, with a warning"))
                continue
            if not match["version"].isdigit():
                stray.append(StrayFile(path, f"its version {match['version']} is no integer: refinery stops before any"
                                       " migration (InvalidVersion)", refused=True))
                continue
            version, label = str(int(match["version"])), path.stem
            key = (int(version), path.name)
            if match["extension"] == "rs":
                migrations.append(Migration(version, match["name"], key, up=None, files=(path,), skip_reason=RUST_SKIP,
                                            label=label))
                continue
            script = Script(path, read_sql(path), transaction=Transaction.WRAPPED, sent_as_one_query=True)
            migrations.append(Migration(version, match["name"], key, up=script, files=(path,), label=label))
        migrations.sort(key=lambda m: m.sort_key)
        return Discovery(migrations, stray)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        versions = [int(match["version"]) for path in _files(directory)
                    if (match := FILE.match(path.name)) and match["version"].isdigit()]
        return {directory / f"V{max(versions, default=0) + 1}__{name}.sql": f"-- {name}\n"}


def _files(directory: Path) -> list[Path]:
    """The files of the directory and of every directory below it, as refinery walks them (WalkDir,
    which follows no link to a folder: one back up would walk without end)."""
    found = list(candidate_files(directory))
    for folder in candidate_directories_in(directory):
        if not folder.is_symlink():
            found += _files(folder)
    return found
