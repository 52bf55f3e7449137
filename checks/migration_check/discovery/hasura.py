"""hasura: the Hasura CLI's migrations, one directory per migration, `<version>_<name>/up.sql` and
`down.sql` (config v2), in a folder per database (config v3: `migrations/default/`), or the files
`<version>_<name>.up.sql` and `.down.sql` of config v1.

Rules, as the Hasura CLI reads them (cli/migrate/source/file/file.go and source/parse.go):
- An entry of the migrations directory is a directory whose files, named after it
  (`<directory>.<file>`), read as `<version>_<name>.(up|down).(sql|yaml)`, or such a file itself.
  The version is the digits (an unsigned 64-bit number); migrations run in version order.
  Whatever does not read so is skipped by the CLI, and is a stray file here.
- An empty file (no byte at all) is no script. A migration without a down has no rollback: the
  CLI applies it, and refuses to go down past it ("down migration not found"), so rollbacks are
  optional, and a missing one is absent, not empty.
- From config v2 on, only `.sql` files are migrations (Parsev2); a YAML file is skipped. Under
  config v1, YAML files hold metadata actions for the Hasura server: the SQL of their `run_sql`
  actions (inside a `bulk` too) runs after the migration's SQL file, and the rest (tracking
  tables, permissions) is the server's metadata, not the database's. A YAML file that is an empty
  list is no script, as for the CLI.
- The CLI sends a script to the server as `run_sql`, which runs it in a transaction: each script
  is sent whole, in one transaction (the Hasura CLI has no way to opt out: CONCURRENTLY fails
  there, as it fails here).
- The project's `config.yaml` (`hasura init`) says where the migrations are
  (`migrations_directory`, `migrations` unless set); it is how the layout is recognised (or the
  template of it a repository commits instead, `config.sample.yaml`, or the exported
  `metadata/version.yaml`).
- Before any migration, the Hasura server has put pgcrypto in schema public (its setup here).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    counted,
    read_sql,
    repository_root,
    up_to_repository_root,
)
from migration_check.discovery.listing import candidate_directories_in, candidate_files, per_discovery
from migration_check.discovery.refused_files import refused
from migration_check.errors import FileError, read_yaml
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, StrayFile
from migration_check.sql.lexing import joined_scripts

_PGCRYPTO = ("DO $$ BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pgcrypto') THEN"
             " CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public; END IF; END $$;\n")
# source.Regex, on `<directory>.<file>` or a file's own name.
ENTRY = re.compile(r"^(?P<version>[0-9]+)_(?P<name>.*)\.(?P<direction>up|down)\.(?P<kind>.*)$")
CONFIG = "config.yaml"
# What the Hasura console writes as down.sql where it cannot write the rollback itself.
CONSOLE_PLACEHOLDER = "Could not auto-generate a down migration"
# A Hasura project's config.yaml (`hasura init` writes it) has its server's `endpoint` and one of
# these; `endpoint` or `version` alone is any application's config.
HASURA_KEYS = frozenset({"metadata_directory", "migrations_directory", "admin_secret", "access_key"})


class HasuraLayout(Layout):
    name = "hasura"
    description = "<version>_<name>/up.sql and down.sql beside the Hasura project's config.yaml"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("hasura/migrations/default", "hasura/migrations", "migrations/default")
    naming_pattern = r"^\d+_[^/]*/(up|down)\.(sql|yaml)$|^\d+_[^/]*\.(up|down)\.(sql|yaml)$"
    naming_hint = "<version>_<name>/up.sql and down.sql"
    strict_naming_pattern = r"^\d{13}_[a-z][a-z0-9]*(_[a-z0-9]+)*/(up|down)\.sql$"
    strict_naming_hint = "<milliseconds>_snake_case_name/up.sql and down.sql"
    numeric_versions = True
    sends_scripts_whole = True  # run_sql: the file is one query in the server's transaction
    transaction_how = "sends each migration to the Hasura server as run_sql, which runs it in a transaction"
    transaction_opt_out = "run the statement outside the migrations (the Hasura CLI cannot run one without a transaction)"
    migrations_are_directories = True

    def detect(self, directory: Path) -> Detection | None:
        found = project_config(directory)
        if found is None:
            return None
        entries = len(_entries(directory))
        root = repository_root(directory) or found[2]
        shown = found[0].relative_to(root) if found[0].is_relative_to(root) else found[0]
        return Detection(score=90, reason=f"{counted(entries, 'migration')} of the Hasura project of {shown.as_posix()}",
                         empty=entries == 0)

    def discover(self, directory: Path) -> Discovery:
        found = project_config(directory)
        settings = found[1] if found else {}
        yaml_read = str(settings.get("version", "1")) == "1"
        scripts: dict[tuple[int, str], dict[str, list[Path]]] = {}
        stray = []
        entries = [(path, path.name) for path in candidate_files(directory)]
        for folder, named in _folders(directory):
            if not any(ENTRY.match(name) for _, name in named):
                stray.append(StrayFile(folder, f"not a migration directory ({self.naming_hint})"))
                continue
            entries += named
        for path, name in entries:
            match = ENTRY.match(name)
            if match is None or match["kind"] not in (("sql", "yaml") if yaml_read else ("sql",)):
                why = "from config v2 on, the Hasura CLI reads only .sql migrations" if match else self.naming_hint
                stray.append(StrayFile(path, f"the Hasura CLI skips it ({why})"))
                continue
            scripts.setdefault((int(match["version"]), match["name"]), {}).setdefault(match["direction"], []).append(path)
        migrations: list[Migration] = []
        refusals: list[Refusal] = []
        for (version, name), directions in sorted(scripts.items()):
            up, up_files, up_refused = _readable(directions.get("up", []), refusals)
            down, down_files, down_refused = _readable(directions.get("down", []), refusals)
            files = up_files + down_files
            if not files:
                continue  # only empty files: the CLI lists nothing to run
            folder = files[0].parent
            migrations.append(Migration(
                version=str(version),
                name=name,
                sort_key=(version, name),
                up=up,
                down=down,
                files=tuple(files),
                label=folder.name if folder != directory else f"{version}_{name}",
                skip_reason=up_refused or (None if up is not None else "its up holds nothing the database runs (metadata only)"),
                down_skip_reason=down_refused, refused=up_refused is not None,
            ))
        # What the Hasura server does to a database before any migration (Migrate.hs; graphql-engine
        # issue 3657): pgcrypto in public, whose `public.gen_random_uuid()` the migrations that
        # `hasura migrate create --from-server` dumps name (iGnosis/sh-graphql's init).
        # Where the server has no pgcrypto, Hasura would not start: the migrations then run without it.
        server = Script(found[0] if found else directory, _PGCRYPTO)
        return Discovery(migrations, stray, refusals=refusals, setup=[server], setup_extensions=frozenset({"pgcrypto"}),
                         setup_reason="as the Hasura server does before any migration, pgcrypto in schema public"
                                      " (where the server has it)")

    def empty_rollback_note(self, down: Script) -> str | None:
        if CONSOLE_PLACEHOLDER not in down.sql:
            return None
        return (f"holds only the Hasura console's \"{CONSOLE_PLACEHOLDER}\" comments: `hasura migrate apply --down` runs"
                " nothing and records the migration as rolled back; write the rollback, or delete the file, and the"
                " CLI refuses to go down past the migration")

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        folder = directory / f"{int(now.timestamp() * 1000)}_{name}"
        return {folder / "up.sql": f"-- {name}\n", folder / "down.sql": f"-- rollback of {name}\n"}


def project_config(directory: Path) -> tuple[Path, dict[str, Any], Path] | None:
    """The file that makes a folder above `directory` the Hasura project whose migrations it holds
    (its `migrations_directory`, config v1 and v2, or a database's folder of it, config v3), the
    settings read from it, and that folder."""
    for project in up_to_repository_root(directory)[1:]:
        found = project_file(project)
        if found is None:
            continue
        config, settings, certain = found
        migrations = (project / str(settings.get("migrations_directory") or "migrations")).resolve()
        here = directory.resolve()
        if migrations != here and not (str(settings.get("version")) == "3" and migrations == here.parent):
            continue
        # A config.yaml with only an `endpoint` is Hasura's v1 one where its YAML migrations say so.
        if certain or any(ENTRY.match(name) and name.endswith(".yaml") for _, name in _named(directory)):
            return config, settings, project
    return None


@per_discovery
def project_file(project: Path) -> tuple[Path, dict[str, Any], bool] | None:
    """The Hasura project file of the folder, read, and whether only Hasura writes such a file: its
    config.yaml, else the template of one a repository keeps instead (config.yaml holds the admin
    secret: iGnosis/sh-graphql commits config.sample.yaml, whitebrick/whitebrick-cloud
    config-example.yaml), else the `version` of the metadata the CLI exports (version.yaml beside
    tables.yaml, v2, or databases/, v3)."""
    for config in [project / CONFIG, *sorted(project.glob("config[._-]*.y*ml"))]:
        if (read := _config(config)) is not None:
            return config, *read
    metadata = project / "metadata"
    version = metadata / "version.yaml"
    if version.is_file() and ((metadata / "tables.yaml").is_file() or (metadata / "databases").is_dir()):
        exported = _yaml_or_none(version)
        if isinstance(exported, dict) and "version" in exported:
            return version, {"version": exported["version"]}, True
    return None


def project_settings(config: Path) -> dict[str, Any] | None:
    """The settings of a config file only Hasura writes; None for any other file of that name."""
    read = _config(config)
    return read[0] if read is not None and read[1] else None


def _config(config: Path) -> tuple[dict[str, Any], bool] | None:
    """A config file with a Hasura server's `endpoint`, and whether its other keys are Hasura's
    alone (`endpoint` is any application's setting too)."""
    settings = _yaml_or_none(config) if config.is_file() else None
    if not isinstance(settings, dict) or "endpoint" not in settings:
        return None
    actions = settings.get("actions")
    certain = bool(HASURA_KEYS & set(settings)) or (isinstance(actions, dict) and "handler_webhook_baseurl" in actions)
    return settings, certain


def _yaml_or_none(path: Path) -> object:
    """A YAML file's content; None for one that does not read (it is then no Hasura project's)."""
    try:
        return read_yaml(path, "")
    except FileError:
        return None


def _folders(directory: Path) -> list[tuple[Path, list[tuple[Path, str]]]]:
    """Each directory of the migrations directory with its files, named as the CLI parses them:
    `<directory>.<file>`."""
    return [(folder, [(path, f"{folder.name}.{path.name}") for path in sorted(folder.iterdir()) if path.is_file()])
            for folder in candidate_directories_in(directory)]


def _named(directory: Path) -> list[tuple[Path, str]]:
    """Every file of the migrations directory, with the name the CLI parses."""
    return [(path, path.name) for path in candidate_files(directory)] + [
        item for _, named in _folders(directory) for item in named]


def _entries(directory: Path) -> list[Path]:
    """The files and directories the CLI reads as migrations."""
    return [path for path in candidate_files(directory) if ENTRY.match(path.name)] + [
        folder for folder, named in _folders(directory) if any(ENTRY.match(name) for _, name in named)]


def _readable(paths: list[Path], refusals: list[Refusal]) -> tuple[Script | None, list[Path], str | None]:
    """`_script`, or, where the CLI refuses a file of it (YAML it cannot read), no script, the
    files, and why (a refusal at its line too): the other direction and migrations are still judged."""
    try:
        return (*_script(paths), None)
    except FileError as error:
        refusal, reason = refused(Path(error.path), error.line or 1, error.message, "the Hasura CLI")
        refusals.append(refusal)
        return None, sorted(paths), reason


def _script(paths: list[Path]) -> tuple[Script | None, list[Path]]:
    """One direction's script: the SQL file, then the SQL of the YAML file's run_sql actions, as
    the CLI sends them (a failure is placed in the first of them); the files that hold something
    (an empty one is no script)."""
    texts, used = [], []
    for path in sorted(paths, key=lambda p: p.name.endswith(".yaml")):
        if path.name.endswith(".sql"):
            text = read_sql(path)
            if text:
                texts.append((path, text))
                used.append(path)
        elif path.name.endswith(".yaml"):
            sql = _run_sql(path)
            if sql is not None:
                used.append(path)
                if sql:
                    texts.append((path, sql))
    if not texts:
        return None, used
    path, text = texts[0]
    if len(texts) > 1:
        text = joined_scripts([t for _, t in texts])
    return Script(path, text), used


def _run_sql(path: Path) -> str | None:
    """The SQL of a YAML migration's run_sql actions ('' when it has only other actions); None for
    an empty list, which the CLI skips."""
    actions = read_yaml(path, "invalid YAML (the Hasura CLI refuses it too)")
    if not actions:
        return None
    if not isinstance(actions, list):
        raise FileError(path, 1, "a Hasura YAML migration is a list of metadata actions")
    return "".join(f"{sql.rstrip()}\n" for sql in _sql_of(actions))


def _sql_of(actions: list[Any]) -> list[str]:
    found = []
    for action in actions:
        if not isinstance(action, dict):
            continue
        args = action.get("args")
        if action.get("type") == "run_sql" and isinstance(args, dict) and isinstance(args.get("sql"), str):
            found.append(args["sql"])
        elif action.get("type") == "bulk" and isinstance(args, list):
            found += _sql_of(args)
    return found
