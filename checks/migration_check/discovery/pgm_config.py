"""node-pg-migrate's settings as the project gives them: the package.json whose scripts run it on a
directory (`-m`, `--migrations-dir`), and the schema it runs the migrations in (`-s`/`--schema`,
`--create-schema`, or `db.schema` in the `config` package's config/default.json, which
node-pg-migrate's resolveConfig puts over the flags).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

from migration_check.discovery.base import up_to_repository_root
from migration_check.discovery.node_packages import package_manifest
from migration_check.model import Script
from migration_check.sql.prepared import quote_identifier, quote_literal

RUNNER = "node-pg-migrate"
SECTIONS = ("dependencies", "devDependencies")
PACKAGE_LEVELS = 3


def package_running_it(directory: Path) -> str | None:
    """The package.json that runs node-pg-migrate on `directory`: the nearest one above it (up to
    three levels) requires node-pg-migrate, and the directory is its `migrations` or the one a
    script gives it (`-m`, `--migrations-dir`)."""
    for folder in up_to_repository_root(directory)[1:PACKAGE_LEVELS + 1]:
        manifest = folder / "package.json"
        if not manifest.is_file():
            continue
        package = package_manifest(folder)
        if package is None or not any(
                isinstance(package.get(section), dict) and RUNNER in package[section] for section in SECTIONS):
            return None
        scripts = package.get("scripts")
        given = scripts.values() if isinstance(scripts, dict) else []
        named = {"migrations", *(d for script in given if isinstance(script, str) for d in _dirs(script))}
        relative = directory.relative_to(folder).as_posix()
        return manifest.relative_to(folder.parent).as_posix() if relative in named else None
    return None


def _dirs(script: str) -> list[str]:
    """The migrations directories a package script gives node-pg-migrate."""
    return [str(PurePosixPath(d)) for d in _option(_words(script) if RUNNER in script else [], "-m", "--migrations-dir")]


def _option(words: list[str], short: str, long: str) -> list[str]:
    """The values a command line gives an option (`-s x`, `--schema x`, `--schema=x`), in order."""
    return [words[at + 1] if "=" not in word else word.split("=", 1)[1] for at, word in enumerate(words)
            if (word in (short, long) and at + 1 < len(words)) or word.startswith(f"{long}=")]


def schema_setting(directory: Path) -> tuple[list[str], bool, str] | None:
    """node-pg-migrate's `schema` and `create-schema` where the project sets them, and where: the
    `config` package's config/default.json (its `db` section), which wins over the flags
    (resolveConfig), else a package script's `-s`/`--schema` and `--create-schema`; None: public."""
    for folder in up_to_repository_root(directory)[1:PACKAGE_LEVELS + 1]:
        package = package_manifest(folder) if (folder / "package.json").is_file() else None
        if package is None:
            continue
        scripts = package.get("scripts")
        schemas: list[str] = []
        create, where = False, "package.json"
        for name, script in (scripts.items() if isinstance(scripts, dict) else []):
            words = _words(script) if isinstance(script, str) and RUNNER in script else []
            given = _option(words, "-s", "--schema")
            create = create or "--create-schema" in words
            if given and not schemas:
                schemas, where = given, f"package.json's {name} script"
        config = _config_db(folder)  # (read through the `config` package, which node-pg-migrate loads where installed)
        if isinstance(config.get("schema"), (str, list)) and config["schema"]:
            schemas, where = ([config["schema"]] if isinstance(config["schema"], str) else
                              [str(schema) for schema in config["schema"]]), "config/default.json"
        if isinstance(config.get("create-schema"), bool):
            create = config["create-schema"]
        return (schemas, create, where) if schemas else None
    return None


def _words(script: str) -> list[str]:
    try:
        return shlex.split(script)
    except ValueError:
        return []


def _config_db(folder: Path) -> dict[str, Any]:
    """The `db` section of the `config` package's config/default.json, which node-pg-migrate reads."""
    try:
        found = json.loads((folder / "config" / "default.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found["db"] if isinstance(found, dict) and isinstance(found.get("db"), dict) else {}


def runner_setup(directory: Path) -> tuple[list[Script], str]:
    """What node-pg-migrate does before the migrations where the project sets its schema: creates it
    (`--create-schema`), and sets the session's search_path to it alone (runner.ts), so that the
    migrations' unqualified names, its history table's too, land there."""
    found = schema_setting(directory)
    if found is None:
        return [], ""
    schemas, create, where = found
    created = "".join(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)};\n" for schema in schemas) if create else ""
    # A new session of this database starts with it; the replay opens one after the setup.
    path = ", ".join(quote_identifier(schema) for schema in schemas)
    setting = (f"DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = %s', current_database(),"
               f" {quote_literal(path)}); END $$;\n")
    said = f"creates {', '.join(schemas)} and " if create else ""
    return ([Script(directory / "package.json", created + setting)],
            f"as node-pg-migrate does with the schema {where} gives, {said}sets the search_path to {', '.join(schemas)}")
