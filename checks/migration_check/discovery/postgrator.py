"""postgrator (rickbergfalk/postgrator, and postgrator-cli): `<version>.do.<name>.sql` up and
`<version>.undo.<name>.sql` down, by version as a number.

Rules, as postgrator reads and runs them (postgrator.js `getMigrations`, `getRunnableMigrations`,
`runMigrations`; lib/Client.js, lib/utils.js):
- A migration is a `.sql`, `.js`, `.mjs` or `.cjs` file its `migrationPattern` matches
  (postgrator-cli's default: `migrations/*`). Its name without the extension splits at dots into
  version, action and name (`001.do.create-users.sql`: 1, do, create-users; what a third dot
  starts is dropped); a version that is no number leaves the file out, and an action other than
  `do` or `undo` is never run.
- `do` files migrate up, in version order as numbers; `undo` files down, newest first, paired by
  version alone. A version without an undo file runs nothing on the way down. Two files of one
  version and action stop postgrator before any migration.
- Each file is sent whole as one query (several statements run as one implicit transaction;
  postgrator opens none of its own), then its history row in a query of its own.
- JavaScript migrations run the SQL their `generateSql()` returns, which is not read here.
- The history table is `schemaversion`, with a row for version 0. Platformatic DB runs a folder of
  these with postgrator (`migrations.dir` of platformatic.db.json), its table named `versions`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from pathlib import Path

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    FileRole,
    Layout,
    files_named,
    implicit_empty_downs,
    pair_forward_and_rollback,
    utc_timestamp,
    with_transactions,
    within_repository,
)
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.node_packages import asking_for
from migration_check.model import Migration, RollbackPolicy, Transaction

PACKAGES = ("postgrator", "postgrator-cli")
PLATFORMATIC = ("platformatic.db.json", "platformatic.json")
EXTENSIONS = (".sql", ".js", ".mjs", ".cjs")
# The parts of a name as `basenameNoExt.split(".")` gives them: version, action, name.
FILE = re.compile(r"^(?P<version>\d+)\.(?P<action>do|undo)(?:\.(?P<name>[^.]*)(?P<dropped>\..*)?)?$")
JS_SKIP = "a JavaScript migration: postgrator runs the SQL its generateSql() returns, which is not read here"


class PostgratorLayout(Layout):
    name = "postgrator"
    description = "<version>.do.<name>.sql and <version>.undo.<name>.sql, by version as a number (postgrator)"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations",)
    naming_pattern = r"^[^/]+$"  # postgrator leaves out what it cannot read rather than refusing it
    naming_hint = "<version>.do.<name>.sql (and <version>.undo.<name>.sql)"
    strict_naming_pattern = r"^\d+\.(do|undo)\.[a-z][a-z0-9]*(-[a-z0-9]+)*\.sql$"
    strict_naming_hint = "<version>.do.kebab-case-name.sql"
    numeric_versions = True
    bookkeeping = bookkeeping.POSTGRATOR
    edited_refusal = ("postgrator checksums the file, so on databases that ran it no migration runs (\"MD5 checksum"
                      " failed for migration [{version}]\")")
    sends_scripts_whole = True
    transaction_how = "sends each file as one query, with no transaction of its own"
    transaction_opt_out = ("put the statement in a migration of its own: postgrator sends a file as one query, and"
                           " PostgreSQL runs several statements of one query in one implicit transaction")
    duplicate_refusal = "postgrator runs no migration then (\"Two migrations found with version {version}\")"

    def detect(self, directory: Path) -> Detection | None:
        files = [path for path in candidate_files(directory) if path.suffix in EXTENSIONS]
        named = [path for path in files if _role(path)]
        if not named or len(named) < len(files) / 2:
            return None
        package = next((package for package in PACKAGES if asking_for(package, directory) is not None), None)
        platformatic = platformatic_config(directory)
        where = (f", run by Platformatic DB ({platformatic.name})" if platformatic
                 else f", {package} in a package.json" if package else "")
        return Detection(score=88 if package or platformatic else 78,
                         reason=files_named(len(named), "<version>.do.<name>.sql") + where)

    def history_tables(self, directory: Path) -> frozenset[str]:
        """postgrator's table, and Platformatic DB's (`migrations.table`, `versions` by default)."""
        config = platformatic_config(directory)
        if config is None:
            return frozenset({bookkeeping.POSTGRATOR.table})
        try:
            settings = json.loads(config.read_text(encoding="utf-8")).get("migrations") or {}
        except (ValueError, OSError, AttributeError):
            settings = {}
        table = settings.get("table") if isinstance(settings, dict) else None
        return frozenset({bookkeeping.POSTGRATOR.table, f"public.{table if isinstance(table, str) else 'versions'}"})

    def discover(self, directory: Path) -> Discovery:
        found = pair_forward_and_rollback(directory, _role, "postgrator never runs it: not <version>.do.<name> or"
                                          " <version>.undo.<name>", pair_key=lambda role: (int(role.version),))
        # Its pattern takes the whole folder (`migrations/*`), the script that runs it too (filecoin-station/
        # spark-api's index.js): a module whose version is no number is left out without a word.
        found.stray_files = [stray for stray in found.stray_files if stray.path.suffix == ".sql"]
        found.migrations = [_as_postgrator_runs_it(m) for m in found.migrations]
        return implicit_empty_downs(found)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        slug = name.replace("_", "-")
        written = [match["version"] for path in candidate_files(directory) if (match := FILE.match(path.stem))]
        version = (str(max(int(v) for v in written) + 1).zfill(max(len(v) for v in written)) if written
                   else utc_timestamp(now))
        return {directory / f"{version}.do.{slug}.sql": f"-- {name}\n",
                directory / f"{version}.undo.{slug}.sql": f"-- rollback of {version}.do.{slug}\n"}


def platformatic_config(directory: Path) -> Path | None:
    """The Platformatic DB configuration above the migrations (it runs them with postgrator)."""
    for folder in within_repository(directory.parent):
        for name in PLATFORMATIC:
            if (folder / name).is_file():
                return folder / name
    return None


def _role(path: Path) -> FileRole | None:
    if path.suffix not in EXTENSIONS:
        return None
    match = FILE.match(path.name.removesuffix(path.suffix))
    if match is None:
        return None
    return FileRole(str(int(match["version"])), match["name"] or "", rollback=match["action"] == "undo")


def _as_postgrator_runs_it(migration: Migration) -> Migration:
    """Each file as one query, named as the project names it; a JavaScript one skipped, saying why."""
    label = migration.up.path.name.removesuffix(migration.up.path.suffix) if migration.up else ""
    if migration.up is not None and migration.up.path.suffix != ".sql":
        return dataclasses.replace(migration, up=None, down=None, skip_reason=JS_SKIP, label=label)
    return dataclasses.replace(with_transactions(migration, lambda _script: Transaction.ONE_QUERY), label=label)
