"""db-migrate (Node.js): `<YYYYMMDDHHMMSS>-<name>.js` modules, each loading its SQL from
`sqls/<YYYYMMDDHHMMSS>-<name>-up.sql` and `-down.sql` (`db-migrate create NAME --sql-file`).

Rules, as db-migrate (lib/file.js, lib/walker.js, lib/executors/versioned/v1.js) and its
PostgreSQL driver (db-migrate-pg) read and run them:
- A migration is a `.js` file of the migrations directory (`./migrations`, or `migrations-dir` in
  `.db-migraterc`); they run sorted by file name, as text. db-migrate reads the name as
  `\\d{14}-[^.]+` and fails on a `.js` file without it; other files are not its business.
- The module is code: what it runs is what its `exports.up` and `exports.down` do. The generated
  module reads one SQL file each and runs it (`db.runSql`): the SQL files are read here from the
  names the module's text gives. A module that names no `-up.sql` is a migration written against
  db-migrate's JavaScript API: reported as skipped. An up in SQL with a down in JavaScript has a
  rollback the replay cannot run: its round trip is skipped, not failed.
- Each migration runs in a transaction (`BEGIN` ... the history row ... `COMMIT`), unless
  `non-transactional` is set in `.db-migraterc`.
- The history table is `migrations`, a row per migration named `/<name>`.
- The database is chosen in `database.json` (its `driver`, or the scheme of its URL, per
  environment): a project none of whose environments is PostgreSQL is refused with its line.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, read_head, read_sql, utc_timestamp
from migration_check.discovery.db_migrate_js import read_module
from migration_check.discovery.js_modules import parsed
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.refused_files import refused, refused_file
from migration_check.errors import FileError
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, StrayFile, Transaction

MODULE = re.compile(r"^(?P<version>\d{14})-(?P<name>[^.]+)\.js$")
SQL_DIR = "sqls"
RC_FILE = ".db-migraterc"
PROJECT_LEVELS = 4
POSTGRES_DRIVERS = frozenset({"pg", "postgres", "postgresql"})
JS_UP = "a JavaScript migration the replay cannot run"
JS_DOWN = "a JavaScript rollback the replay cannot run"


class DbMigrateLayout(Layout):
    name = "db-migrate"
    description = "db-migrate: YYYYMMDDHHMMSS-name.js with sqls/YYYYMMDDHHMMSS-name-up.sql and -down.sql"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs: ClassVar[tuple[str, ...]] = ("migrations",)
    naming_pattern = r"^\d{14}-[^.]+\.js$|^sqls/.+-(up|down)\.sql$"
    naming_hint = "YYYYMMDDHHMMSS-name.js (db-migrate create NAME --sql-file)"
    file_name_order = True
    timestamp_versions = True
    identity = "id"  # the history table records the whole name
    bookkeeping = bookkeeping.DB_MIGRATE
    sends_scripts_whole = True  # the file is one query in the runner's transaction
    transaction_opt_out = ('run it outside one, with `"non-transactional": true` in .db-migraterc'
                           " (or `db-migrate up --non-transactional`)")
    holds_subdirectories = (SQL_DIR,)

    def held_directories(self, directory: Path) -> list[Path]:
        """`sqls`, and the scopes: a sub-folder of modules runs only when named (`db-migrate
        up:<folder>`), never as a project of its own (Unleash's src/migrations/migrations)."""
        try:
            scopes = [sub for sub in directory.iterdir() if sub.is_dir() and not sub.is_symlink()
                      and any(MODULE.match(p.name) for p in candidate_files(sub))]
        except OSError:
            scopes = []
        return [*super().held_directories(directory), *scopes]

    def detect(self, directory: Path) -> Detection | None:
        modules = [p for p in candidate_files(directory) if MODULE.match(p.name)]
        marked = [p for p in modules if "exports.up" in read_head(p) or "dbmigrate" in read_head(p)]
        if not marked:
            return None
        return Detection(score=90, reason=f"{len(marked)} db-migrate modules (exports.up)")

    def discover(self, directory: Path) -> Discovery:
        where = _where_it_runs(directory)
        refuse_other_databases(where)
        transaction = Transaction.NONE if rc_settings(where).get("non-transactional") is True else Transaction.WRAPPED
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        refusals: list[Refusal] = []
        used: set[Path] = set()
        for path in candidate_files(directory):
            match = MODULE.match(path.name)
            if match is None:
                # db-migrate requires every .js file of the directory and reads a name from it.
                stray.append(StrayFile(path, "db-migrate reads no migration name from it", refused=path.suffix == ".js"))
                continue
            try:
                migration = _migration(path, match["version"], match["name"], transaction, refusals)
            except FileError as error:
                migration, refusal = refused_file(error, path, match["version"], match["name"], (path.name,), "db-migrate")
                refusals.append(refusal)
            used.update(migration.files[1:])
            migrations.append(migration)
        sqls = directory / SQL_DIR
        if sqls.is_dir():
            stray += [StrayFile(p, "no migration module loads it") for p in candidate_files(sqls) if p not in used]
        return Discovery(migrations, stray, refusals=refusals)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        stem = f"{utc_timestamp(now)}-{name.replace('_', '-')}"
        return {
            directory / f"{stem}.js": _loader(stem),
            directory / SQL_DIR / f"{stem}-up.sql": "/* Replace with your SQL commands */\n",
            directory / SQL_DIR / f"{stem}-down.sql": "/* Replace with your SQL commands */\n",
        }


def _migration(module: Path, version: str, name: str, transaction: Transaction, refusals: list[Refusal]) -> Migration:
    """The module's migration; a SQL file it reads that does not exist is a refusal at its line,
    and the direction that reads it is not replayed (db-migrate fails when it runs that direction)."""
    reading = read_module(*parsed(module), module)
    scripts: dict[str, Script] = {}
    missing: dict[str, str] = {}
    for direction, (file, line) in reading.sql_files.items():
        path = module.parent / SQL_DIR / file
        if not path.is_file():
            refusal, missing[direction] = refused(module, line, f"reads {SQL_DIR}/{file}, which does not exist"
                                                  " (db-migrate fails there too)", "db-migrate", "fails at it")
            refusals.append(refusal)
            continue
        scripts[direction] = Script(path, read_sql(path), transaction=transaction)
    code: dict[str, tuple[int, str]] = {}
    for direction, export in reading.exports.items():
        if direction in scripts or direction in missing:
            continue
        if export.code is not None:
            code[direction] = export.code
        else:  # its SQL in the module itself, at its own lines from the export's
            scripts[direction] = export.script(module, transaction)
    up, down = scripts.get("up"), scripts.get("down")
    files = (module, *dict.fromkeys(s.path for s in (up, down) if s is not None and s.path != module))
    return Migration(
        version=version,
        name=name,
        sort_key=(module.name,),
        up=up,
        down=down,
        files=files,
        skip_reason=None if up is not None else missing.get("up") or _javascript("up", code.get("up")),
        down_skip_reason=missing.get("down") or (_javascript("down", code["down"]) if up is not None and "down" in code
                                                 else None),
        refused="up" in missing,
    )


def _javascript(direction: str, code: tuple[int, str] | None) -> str:
    """Why an export is not SQL the replay can run: the first thing it does besides `db.runSql`."""
    if code is None:
        return f"{JS_UP}: no exports.up function found in it"
    line, what = code
    return f"{JS_UP if direction == 'up' else JS_DOWN}: its exports.{direction} runs code, not SQL alone ({what}, line {line})"


def refuse_other_databases(where: Path) -> None:
    """A FileError at the line of database.json's driver when none of its environments is
    PostgreSQL (a MySQL project's migrations are not PostgreSQL's)."""
    config = where / str(rc_settings(where).get("config") or "database.json")
    try:
        text = config.read_text(encoding="utf-8")
        environments = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError):
        return  # no config here, or one db-migrate itself would refuse: nothing to say about the database
    if not isinstance(environments, dict):
        return
    drivers = [driver for value in environments.values() if (driver := _driver(value)) is not None]
    if drivers and not POSTGRES_DRIVERS & set(drivers):
        at = text.find('"driver"')
        line = text.count("\n", 0, at) + 1 if at != -1 else 1
        raise FileError(config, line, f'driver "{drivers[0]}": these are migrations for another database;'
                        ' migration-check replays PostgreSQL migrations (driver "pg")')


def _driver(environment: Any) -> str | None:
    """The driver an environment of database.json names, where it is written out (not read from
    the environment's variables): `"driver": "pg"`, or a URL's scheme."""
    if isinstance(environment, str):
        scheme, colon, _ = environment.partition(":")
        return scheme.lower() if colon else None
    if not isinstance(environment, dict):
        return None
    driver = environment.get("driver")
    if isinstance(driver, str):
        return driver.lower()
    url = environment.get("url")
    return _driver(url) if isinstance(url, str) else None


def _where_it_runs(directory: Path) -> Path:
    """The directory db-migrate runs in (its config files are relative to it): the nearest one
    above the migrations that holds .db-migraterc, database.json or package.json."""
    for folder in [directory.parent, *directory.parent.parents][:PROJECT_LEVELS]:
        if any((folder / name).is_file() for name in (RC_FILE, "database.json", "package.json")):
            return folder
    return directory.parent


def rc_settings(where: Path) -> dict[str, Any]:
    """`.db-migraterc` in `where` (a directory db-migrate runs in), as JSON (its usual form); {}
    otherwise."""
    try:
        settings = json.loads((where / RC_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


def _loader(stem: str) -> str:
    """A module that runs its SQL files, as `db-migrate create --sql-file` writes one."""
    return "\n".join([
        "'use strict';",
        "",
        "const fs = require('fs');",
        "const path = require('path');",
        "",
        "function run(db, file) {",
        "  return db.runSql(fs.readFileSync(path.join(__dirname, 'sqls', file), { encoding: 'utf-8' }));",
        "}",
        "",
        f"exports.up = (db) => run(db, '{stem}-up.sql');",
        f"exports.down = (db) => run(db, '{stem}-down.sql');",
        "exports._meta = { version: 1 };",
        "",
    ])
