"""Where a repository keeps its migrations, when `check` is given the repository root.

In order, the first that holds migrations wins:
1. the directory itself;
2. the directories the runners' own configuration names (yoyo.ini `sources`, diesel.toml,
   sqitch.conf `top_dir`, Flyway `locations`, atlas.hcl `dir`, prisma/schema.prisma,
   supabase/config.toml, .db-migraterc `migrations-dir`, sql-migrate's dbconfig.yml `dir`,
   DBMATE_MIGRATIONS_DIR / GOOSE_MIGRATION_DIR in .env, alembic.ini `script_location`);
3. each layout's conventional directories;
4. a bounded search of the tree, skipping .git, dependencies and build output.
Two directories at the same step are never a guess: the user chooses with the path or `--format`.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import yaml

from migration_check.discovery.alembic_config import alembic_locations
from migration_check.discovery.base import up_to_repository_root
from migration_check.discovery.db_migrate import rc_settings
from migration_check.discovery.flyway_config import folder_values
from migration_check.discovery.hasura import CONFIG as HASURA_CONFIG
from migration_check.discovery.hasura import project_settings
from migration_check.discovery.sqitch_config import CONF, sqitch_paths
from migration_check.discovery.yoyo import ini_sources

SKIPPED_DIRS = frozenset({
    ".git", ".hg", "node_modules", "vendor", "build", "dist", "target", "out", "bin", "obj", ".venv", "venv",
    "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", ".next", ".terraform", "coverage", ".cache",
})
# A Maven or Gradle module two levels down keeps Flyway's scripts at
# <a>/<b>/src/main/resources/db/migration/<database> (eclipse-hawkbit/hawkbit): depth 8; a Java
# package's resources one more (openremote/openremote: manager/src/main/resources/org/openremote/
# manager/setup/database, depth 9). MAX_DIRECTORIES bounds the search whatever the depth.
MAX_DEPTH = 12
MAX_DIRECTORIES = 20_000
# atlas.hcl is HCL, not SQL: the `dir = "file://..."` of a migration block is all that is read.
_ATLAS_DIR = re.compile(r'\bdir\s*=\s*"file://([^"?]+)')


def configured_paths(root: Path) -> list[tuple[Path, str]]:
    """The paths the runners' configuration files in `root` name, directories or not."""
    found: list[tuple[Path, str]] = []
    readers = (alembic_locations, _yoyo, _diesel, _hasura, _sqitch, _flyway, _atlas, _prisma, _supabase, _db_migrate,
               _sql_migrate, _dotenv)
    for reader in readers:
        try:
            found += [(root / relative, why) for relative, why in reader(root)]
        except (OSError, ValueError, UnicodeDecodeError, configparser.Error, tomllib.TOMLDecodeError, yaml.YAMLError):
            continue  # a config file this tool cannot read names nothing; the other steps still run
    return found


def configured_directories(root: Path) -> list[tuple[Path, str]]:
    """Directories the runners' configuration files in `root` name, with where each was found."""
    found = configured_paths(root)
    # One entry per directory, named as the configuration names it: a link (supabase/migrations
    # to a shared package's folder) still says which runner's directory it is.
    unique: dict[Path, tuple[Path, str]] = {}
    for directory, why in found:
        if directory.is_dir():
            unique.setdefault(directory.resolve(), (Path(os.path.abspath(directory)), why))
    return list(unique.values())


def searched_directories(root: Path) -> Iterator[Path]:
    """Every directory under `root`, breadth first, to MAX_DEPTH, without the skipped ones."""
    queue = [(root, 0)]
    seen = 0
    while queue and seen < MAX_DIRECTORIES:
        directory, depth = queue.pop(0)
        seen += 1
        if directory != root:
            yield directory
        if depth >= MAX_DEPTH:
            continue
        try:
            children = sorted(p for p in directory.iterdir()
                              if p.is_dir() and not p.is_symlink() and p.name not in SKIPPED_DIRS)
        except OSError:
            continue
        queue += [(child, depth + 1) for child in children]


def _db_migrate(root: Path) -> Iterator[tuple[str, str]]:
    directory = rc_settings(root).get("migrations-dir")
    if isinstance(directory, str):
        yield directory, ".db-migraterc `migrations-dir`"


def _sql_migrate(root: Path) -> Iterator[tuple[str, str]]:
    """sql-migrate's dbconfig.yml: each environment's `dir`, of those whose `dialect` is postgres
    (the others' migrations are another database's)."""
    for environment in sql_migrate_environments(root):
        yield str(environment.get("dir") or "migrations"), "dbconfig.yml `dir` (dialect postgres)"


def sql_migrate_environments(root: Path) -> list[dict]:
    """The environments of sql-migrate's dbconfig.yml in `root` whose `dialect` is postgres."""
    path = root / "dbconfig.yml"
    if not path.is_file():
        return []
    environments = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [environment for environment in (environments.values() if isinstance(environments, dict) else ())
            if isinstance(environment, dict) and environment.get("dialect") == "postgres"]


def _yoyo(root: Path) -> Iterator[tuple[str, str]]:
    for source in ini_sources(root):
        yield source, "yoyo.ini `sources`"


def _diesel(root: Path) -> Iterator[tuple[str, str]]:
    path = root / "diesel.toml"
    if path.is_file():
        section = tomllib.loads(path.read_text(encoding="utf-8")).get("migrations_directory", {})
        yield section.get("dir", "migrations"), "diesel.toml `migrations_directory`"


def _hasura(root: Path) -> Iterator[tuple[str, str]]:
    """The Hasura project's migrations, its config.yaml at the root or in `hasura/` (the CLI's
    `hasura init hasura`, beside a Prisma schema in MadNovOrg/test-blacksmith)."""
    for project in ("", "hasura"):
        settings = project_settings(root / project / HASURA_CONFIG)
        if settings is None:
            continue
        migrations = str(settings.get("migrations_directory") or "migrations")
        config = f"{project}/{HASURA_CONFIG}" if project else HASURA_CONFIG
        why = f"{config} `migrations_directory`" if "migrations_directory" in settings else config
        folder = f"{project}/{migrations}" if project else migrations
        if str(settings.get("version")) == "3" and (root / folder).is_dir():  # a folder per database
            for database in sorted(p for p in (root / folder).iterdir() if p.is_dir()):
                yield f"{folder}/{database.name}", why
        else:
            yield folder, why


def _sqitch(root: Path) -> Iterator[tuple[str, str]]:
    if (root / CONF).is_file():
        top = sqitch_paths(root).top_dir
        if top != root:
            yield str(top), f"{CONF} `top_dir`"  # root / an absolute path is that path


def _flyway(root: Path) -> Iterator[tuple[str, str]]:
    for value in folder_values(root, "locations"):
        for location in value.split(","):
            location = location.strip()
            if location.startswith("filesystem:"):
                yield location[len("filesystem:"):], "Flyway `locations`"
            elif location.startswith("classpath:"):
                yield "src/main/resources/" + location[len("classpath:"):].lstrip("/"), "Flyway `locations`"


def _atlas(root: Path) -> Iterator[tuple[str, str]]:
    path = root / "atlas.hcl"
    if path.is_file():
        for match in _ATLAS_DIR.finditer(path.read_text(encoding="utf-8")):
            yield match[1], "atlas.hcl `migration.dir`"
    # Only Atlas writes an atlas.sum: the directory is one Atlas applies (hatchet's sql/migrations, run
    # by `atlas migrate apply` in its image, beside the prisma/migrations its schema.prisma names).
    for folder in ("migrations", "db/migrations", "sql/migrations"):
        if (root / folder / "atlas.sum").is_file():
            yield folder, f"{folder}/atlas.sum (Atlas)"


def _prisma(root: Path) -> Iterator[tuple[str, str]]:
    schemas = [root / "prisma" / "schema.prisma"]
    package = root / "package.json"
    if package.is_file():
        configured = json.loads(package.read_text(encoding="utf-8")).get("prisma", {})
        if isinstance(configured, dict) and isinstance(configured.get("schema"), str):
            schemas.insert(0, root / configured["schema"])
    for schema in schemas:
        if schema.is_file():
            yield os.path.relpath(schema.parent / "migrations", root), f"{os.path.relpath(schema, root)} (Prisma)"


def _supabase(root: Path) -> Iterator[tuple[str, str]]:
    if (root / "supabase" / "config.toml").is_file():
        yield "supabase/migrations", "supabase/config.toml"


def _dotenv(root: Path) -> Iterator[tuple[str, str]]:
    for key, value in dotenv(root).items():
        if key in ("DBMATE_MIGRATIONS_DIR", "GOOSE_MIGRATION_DIR"):
            yield value, f".env `{key}`"


def dotenv_tables(directory: Path, key: str) -> frozenset[str]:
    """The history table a runner's `.env` names under `key` (`[schema.]table`: dbmate's
    DBMATE_MIGRATIONS_TABLE, goose's GOOSE_TABLE), in any folder from the migrations directory up to
    the repository root."""
    return frozenset(table if "." in table else f"public.{table}" for folder in up_to_repository_root(directory.resolve())
                     if (table := dotenv(folder).get(key)))


def dotenv(root: Path) -> dict[str, str]:
    """The settings of the `.env` file in `root` (which dbmate and goose read), as KEY=VALUE lines."""
    path = root / ".env"
    if not path.is_file():
        return {}
    settings = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, equals, value = line.removeprefix("export ").partition("=")
        if equals and key.strip() and not key.lstrip().startswith("#"):
            settings[key.strip()] = value.strip().strip("'\"")
    return settings
