"""postgres-migrations (ThomWright/postgres-migrations; supabase/storage's tenant migrations):
`<id>_<name>.sql` files, ids 1, 2, 3, ... with none missing, run forward only.

Rules, as its loader and runner apply them (file-name-parser.ts, files-loader.ts, validation.ts,
run-migration.ts):
- Every `.sql` and `.js` file of the directory (any case) is a migration; other files are ignored.
  Its name is an integer id (`-?\\d+`), an optional `-` or `_`, then its name: a `.sql`/`.js` file
  whose name does not start with a number stops the loader ("Invalid file name"), so every
  migration.
- Migrations run in id order after the library's own id 0 (its history table), and the ids must be
  consecutive: a gap or a repeated id stops the loader ("non-consecutive migration ID").
- Each file is sent whole, as one query, inside START TRANSACTION ... COMMIT with its history row,
  unless its text holds `-- postgres-migrations disable-transaction`: then it is sent whole without
  one (several statements of one query still run as one implicit transaction).
- There are no rollbacks; a `.js` migration's SQL is what its `generateSql()` returns (not read here).
So a name with a direction word (`0042-rollback-prefix-triggers.sql`) is a forward migration.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, files_named, read_sql
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.node_packages import asking_for
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

PACKAGE = "postgres-migrations"
FILE = re.compile(r"^(?P<id>-?\d+)[-_]?(?P<name>.*)\.(?P<type>sql|js)$", re.IGNORECASE)
NO_TRANSACTION = "-- postgres-migrations disable-transaction"
JS_SKIP = "a JavaScript migration: postgres-migrations runs the SQL its generateSql() returns, which is not read here"


class PostgresMigrationsLayout(Layout):
    name = "postgres-migrations"
    description = "<id>_<name>.sql, ids 1, 2, 3, ... with none missing, forward only (postgres-migrations)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("migrations",)
    naming_pattern = r"^-?\d+[-_]?.*\.([sS][qQ][lL]|[jJ][sS])$"
    naming_hint = "<id>_<name>.sql"
    strict_naming_pattern = r"^\d+[-_][a-z][a-z0-9]*([-_][a-z0-9]+)*\.sql$"
    strict_naming_hint = "<id>-kebab-case-name.sql"
    numeric_versions = True
    bookkeeping = bookkeeping.POSTGRES_MIGRATIONS
    sends_scripts_whole = True
    transaction_opt_out = ("send it without one, with `-- postgres-migrations disable-transaction` in the file (a file"
                           " is one query: several statements still run as one implicit transaction)")
    duplicate_refusal = "postgres-migrations refuses every migration (non-consecutive migration ID at {version})"
    edited_refusal = ("postgres-migrations hashes the file, so on databases that ran it no migration runs (\"Hashes"
                      " don't match for migrations\")")
    renamed_refusal = ("postgres-migrations hashes the file's name with its SQL, so on databases that ran it no"
                       " migration runs (\"Hashes don't match for migrations\")")

    def detect(self, directory: Path) -> Detection | None:
        files = [path for path in candidate_files(directory) if path.suffix.lower() in (".sql", ".js")]
        named = [path for path in files if FILE.match(path.name)]
        if not named or len(named) < len(files) / 2:
            return None
        manifest = asking_for(PACKAGE, directory)
        if manifest is None:
            return None
        return Detection(score=80, reason=f"{files_named(len(named), self.naming_hint)}, {PACKAGE} in a package.json")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        for path in candidate_files(directory):
            if path.suffix.lower() not in (".sql", ".js"):
                continue  # the loader reads only .sql and .js files
            match = FILE.match(path.name)
            if match is None:
                stray.append(StrayFile(path, f"not {self.naming_hint}: {PACKAGE} stops at its name (Invalid file name),"
                                       " and runs no migration", refused=True))
                continue
            version = str(int(match["id"]))
            name = match["name"] or path.name
            if match["type"].lower() == "js":
                migrations.append(Migration(version, name, (int(version), path.name), up=None, files=(path,),
                                            skip_reason=JS_SKIP, label=path.stem))
                continue
            text = read_sql(path)
            transaction = Transaction.ONE_QUERY if NO_TRANSACTION in text else Transaction.WRAPPED
            migrations.append(Migration(version, name, (int(version), path.name), files=(path,), label=path.stem,
                                        up=Script(path, text, transaction=transaction, sent_as_one_query=True)))
        migrations.sort(key=lambda m: m.sort_key)
        stray += _out_of_sequence(migrations)
        return Discovery(migrations, stray)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        """The next id, zero-padded as the newest file is."""
        ids = [(int(match["id"]), len(match["id"])) for path in candidate_files(directory)
               if (match := FILE.match(path.name))]
        newest, width = max(ids, default=(0, 4))
        return {directory / f"{newest + 1:0{width}d}-{name.replace('_', '-')}.sql": f"-- {name}\n"}


def _out_of_sequence(migrations: list[Migration]) -> list[StrayFile]:
    """Where the ids stop being 1, 2, 3, ...: the loader stops there, before any migration runs."""
    for expected, migration in enumerate(migrations, start=1):
        if int(migration.version) != expected:
            path = migration.files[0]
            return [StrayFile(path, f"its id is {migration.version} where {PACKAGE} expects {expected}: the ids must run"
                                    " 1, 2, 3, ... with none missing or repeated, or it runs no migration"
                                    " (non-consecutive migration ID)", refused=True, misread=True)]
    return []
