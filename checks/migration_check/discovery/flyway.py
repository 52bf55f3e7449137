"""Flyway: `V<version>__<description>.sql`, with `U<version>__...` undo and `R__...` repeatable scripts.

Rules, as Flyway applies them:
- Versioned scripts `V1__init.sql`, `V1.2__x.sql`, `V1_2__x.sql` (an `_` in a version is a `.`):
  applied in numeric version order, so 1.2 < 1.10 < 2. Leading zeros do not count (V01 = V1).
- Undo scripts `U<version>__...` (Flyway Teams) undo the versioned script of the same version: they
  are the rollbacks here. A project with no undo script is forward-only (RollbackPolicy.ABSENT);
  as soon as one exists, every versioned script needs one (REQUIRED).
- Repeatable scripts `R__<description>.sql` run after all versioned ones, ordered by description.
  They have no rollback.
- Baseline migrations `B<version>__<description>.sql` (Flyway 10): a new database starts from the
  latest one, and the versioned scripts up to its version are not run there (they ran on the
  databases that existed before it; eclipse-hawkbit/hawkbit starts from B1_20_0). So the replay runs
  the latest baseline in their place, the covered ones and older baselines are skipped with that
  reason, and none of them counts as a migration the later ones may need. No rollback.
- Java/Kotlin/Scala migrations (`V3__x.java`) are reported as skipped: not SQL. They take their
  place in version order, read as flyway_java.py says (where the classes are, and the version a
  class gives itself).
- `group = true` (flyway.conf, flyway.toml, Spring Boot's `spring.flyway.group`) runs every pending
  migration in one transaction, which the apply check then tries too (replay/rebuild.py).
- A per-script config file `<script>.conf` with `executeInTransaction=false` runs that script
  outside a transaction. Otherwise Flyway runs each script in one transaction, except scripts
  whose statements its parser takes for ones PostgreSQL refuses in one (`runs_outside`: CREATE
  INDEX CONCURRENTLY, ...), which run outside one; a script that mixes both kinds is refused
  (Transaction.UNMIXED), unless the project sets `mixed`. What the parser does not recognise (a DO
  block that commits, REINDEX INDEX CONCURRENTLY) runs in the transaction, where PostgreSQL refuses it.
- The prefixes are upper case and the separator is two underscores, as in Flyway's defaults.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

from pglast import ast
from pglast.enums.parsenodes import ObjectType

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import Detection, Discovery, Layout, counted, files_named, read_sql
from migration_check.discovery.databases import names_a_database
from migration_check.discovery.flyway_config import (
    default_schema,
    flyway_setting,
    flyway_settings,
    managed_schemas,
    script_setting,
)
from migration_check.discovery.flyway_java import JAVA_SKIP, code_directories, code_migration, module_migrations
from migration_check.discovery.flyway_naming import naming_of, sort_key
from migration_check.discovery.flyway_placeholders import DEFAULT_TABLE, Placeholders, placeholders_of
from migration_check.discovery.listing import candidate_directories_in, candidate_files
from migration_check.model import Migration, OrphanRollback, RollbackPolicy, Script, StrayFile, Transaction
from migration_check.sql import Statement, trees
from migration_check.sql.lexing import spaced_between_statements
from migration_check.sql.prepared import quote_identifier, quote_literal
from migration_check.sql.statement import ENUM_ADD_VALUE_IN_TRANSACTION, REINDEX_MANY

CALLBACKS = re.compile(r"^(before|after)[A-Z]\w*\.sql$")
RELEASE = re.compile(r"[vV]?\d+([._-]\d+)*")


class FlywayLayout(Layout):
    name = "flyway"
    description = "V<version>__<description>.sql, U<version>__ undo, R__ repeatable, B<version>__ baseline"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs = ("src/main/resources/db/migration", "db/migration", "flyway/sql", "sql", "migrations", "db/migrations")
    # Flyway's defaults: prefix V/U/R, separator __, any description; versions compare as numbers.
    # A location's sub-folders are Flyway's to scan, whatever their names: only the file's name counts.
    naming_pattern = r"^(.+/)?([VUB]\d+([._]\d+)*|R)__[^/]+\.(sql|java|kt|scala)$"
    naming_hint = "V<version>__<description>.sql (U<version>__ to undo, R__<description>.sql repeatable)"
    strict_naming_pattern = r"^(.+/)?([VUB]\d+([._]\d+)*|R)__[A-Za-z0-9][A-Za-z0-9_]*\.(sql|java|kt|scala)$"
    strict_naming_hint = "V<version>__<Description_in_words>.sql (U<version>__ to undo, R__ repeatable)"
    numeric_versions = True
    bookkeeping = bookkeeping.FLYWAY
    transaction_how = ("runs each migration in a transaction unless its parser recognises a statement that cannot"
                       " run in one (CREATE INDEX CONCURRENTLY, VACUUM, ...), and it does not recognise this one")
    transaction_opt_out = "run the script outside one, with `executeInTransaction=false` in its .conf file"
    # Flyway's validation refuses to migrate while two versioned migrations share a version.
    duplicate_refusal = 'Flyway migrates none of them then ("Found more than one migration with version {version}")'
    unchecksummed = (".java", ".kt")  # a JavaMigration's checksum is its getChecksum(), null unless overridden
    edited_refusal = ("on databases that ran it, Flyway's validation fails and it migrates nothing (\"Migration"
                      " checksum mismatch for migration version {version}\")")
    renamed_refusal = ("on databases that ran it, Flyway's validation fails and it migrates nothing (\"Migration"
                       " description mismatch for migration version {version}\")")

    def checksummed(self, content: bytes) -> bytes:
        # Flyway's ChecksumCalculator feeds CRC32 each line without its line break, the BOM filtered
        # out: line endings, a newline at the end and blank lines leave its checksum as it was
        # (MarquezProject/marquez gave 28 merged scripts their final newline).
        return b"".join(content.removeprefix(b"\xef\xbb\xbf").splitlines())

    def detect(self, directory: Path) -> Detection | None:
        naming = naming_of(directory)
        if not any(naming.match(p.name) for p in candidate_files(directory)) and len(_release_folders(directory)) < 2:
            return None
        roles = [m for p in location_files(directory) if (m := naming.match(p.name))]
        if not roles:
            return None
        scripts = [m for m in roles if m["ext"] == "sql"]
        counts = {prefix: sum(1 for m in scripts if m["prefix"] == prefix) for prefix in "VURB"}
        why = files_named(counts["V"], f"{naming.prefixes['V']}<version>{naming.separator}<description>{naming.suffixes[0]}")
        if len(scripts) < len(roles):  # Java/Kotlin classes: counted apart, not as scripts
            why += f", {counted(len(roles) - len(scripts), 'Java/Kotlin migration')}"
        if counts["U"]:
            why += f", {counts['U']} U__ undo"
        if counts["R"]:
            why += f", {counts['R']} R__ repeatable"
        if counts["B"]:
            why += f", {counts['B']} B__ baseline"
        return Detection(score=90, reason=why)

    def discover(self, directory: Path) -> Discovery:
        versioned: list[Migration] = []
        repeatable: list[Migration] = []
        undo: list[Undo] = []
        baselines: list[Migration] = []
        stray: list[StrayFile] = []
        placeholders = placeholders_of(directory, datetime.now(UTC))
        files = location_files(directory)
        naming = naming_of(directory)
        configs = {p for p in files if p.name.endswith(".sql.conf")}
        for path in files:
            if path in configs and path.with_suffix("").exists():
                continue  # read with its script
            match = naming.match(path.name)
            if match is None:
                reason = ("Flyway callback: not replayed" if CALLBACKS.match(path.name)
                          else f"Flyway ignores it: not {self.naming_hint}")
                stray.append(StrayFile(path, reason))
                continue
            prefix, description = match["prefix"], match["description"]
            version = (match["version"] or "").replace("_", ".")
            script, refused = _script(path, placeholders) if match["ext"] == "sql" else (None, JAVA_SKIP)
            if prefix == "R":
                # each repeatable is its own "version", so that history sees no duplicates
                repeatable.append(Migration(f"R__{description}", "", (1, description), up=script, files=(path,),
                                            repeatable=True, skip_reason=refused))
            elif prefix == "U":
                if script is not None:  # a Java undo migration has nothing to replay
                    undo.append((version, description, path, script, refused))
            elif prefix == "B":
                # "B" before the version: its id differs from a V script's of the same version.
                baselines.append(Migration(f"B{version}", description, sort_key(version, f"~{description}"), up=script,
                                           files=(path,), baseline=True, skip_reason=refused))
            elif script is None and (code := code_migration(path, match)) is not None:
                versioned.append(code)
            elif prefix == "V":
                versioned.append(Migration(version, description, sort_key(version, description), up=script, files=(path,),
                                           skip_reason=refused))
        versioned += [code for path in dict.fromkeys([*_classpath_code(directory), *module_migrations(directory)])
                      if ((match := naming.match(path.name)) is None or match["prefix"] == "V")
                      and (code := code_migration(path, match)) is not None]
        versioned, orphans = _pair_undo(versioned, undo)
        versioned = _from_the_latest_baseline(versioned + baselines)
        versioned.sort(key=lambda m: m.sort_key)
        repeatable.sort(key=lambda m: m.sort_key)
        policy = RollbackPolicy.REQUIRED if undo else RollbackPolicy.ABSENT
        setup, setup_reason = runner_setup(directory)
        return Discovery(versioned + repeatable, stray, orphans, rollback_policy=policy,
                         pending_in_one_transaction=flyway_setting(directory, "group"),
                         setup=setup, setup_reason=setup_reason)

    def naming_for(self, directory: Path) -> tuple[str, str]:
        naming = naming_of(directory)
        return (self.naming_pattern, self.naming_hint) if naming.default else (naming.pattern(), naming.hint())

    def held_directories(self, directory: Path) -> list[Path]:
        code = code_directories(directory)
        return [*super().held_directories(directory), *code, *(sub for c in code for sub in _location_folders(c)),
                *_location_folders(directory), *dict.fromkeys(path.parent for path in module_migrations(directory))]

    def history_tables(self, directory: Path) -> frozenset[str]:
        settings = flyway_settings(directory)
        schema = default_schema(settings) or "public"
        return super().history_tables(directory) | {f"{schema}.{settings.get('table') or DEFAULT_TABLE}"}

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        # the next major version after the highest one (Flyway versions are not timestamps by default)
        found = self.discover(directory).migrations if directory.is_dir() else []
        majors = [int(m.version.split(".")[0]) for m in found if m.version.split(".")[0].isdigit()]
        return {directory / f"V{max(majors, default=0) + 1}__{name}.sql": f"-- {name}\n"}


def location_files(directory: Path) -> list[Path]:
    """The files of a Flyway location, as Flyway scans one: recursively, down non-hidden folders;
    but a folder named for a database is another location (Flyway's `db/migration/{vendor}`:
    hawkbit's POSTGRESQL beside H2 and MYSQL), not part of this one."""
    return [*candidate_files(directory), *(path for sub in _location_folders(directory) for path in candidate_files(sub))]


def _location_folders(directory: Path) -> list[Path]:
    """The folders under a location that are part of it, at any depth (a link is not followed: it
    may lead back up, and the repository's boundary refuses what it reaches anyway)."""
    found = []
    for sub in candidate_directories_in(directory):
        if not names_a_database(sub.name.lower()) and not sub.is_symlink():
            found += [sub, *_location_folders(sub)]
    return found


def _release_folders(directory: Path) -> list[Path]:
    """The sub-folders named as releases (`2.31`, `v3`, `1_0`) that hold Flyway scripts of their own:
    two or more, in a folder that holds none itself, are the releases of one location (dhis2's
    `org/hisp/dhis/db/migration/2.31`, `2.32`, ...), which Flyway scans as one. Folders named
    otherwise may be locations of their own that the code adds one by one (conductor's
    `db/migration_postgres` and the optional `db/migration_postgres_data`)."""
    return [sub for sub in candidate_directories_in(directory)
            if RELEASE.fullmatch(sub.name) and any(naming_of(directory).match(p.name) for p in candidate_files(sub))]


def runner_setup(directory: Path) -> tuple[list[Script], str]:
    """What Flyway does before the first migration where the project names the schemas it manages
    (`schemas`, `defaultSchema`), and that in a sentence: it creates them (unless
    `createSchemas=false`) and puts the default one first on the connection's search_path
    (PostgreSQLConnection.changeCurrentSchemaTo), so that the scripts' unqualified names land there
    and `${flyway:defaultSchema}` is there."""
    settings = flyway_settings(directory)
    if not (schemas := managed_schemas(settings)):
        return [], ""
    creates = settings.get("createschemas", "").lower() != "false"
    created = "".join(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)};\n" for schema in schemas) if creates else ""
    # A new session of this database starts with it; the replay opens one after the setup.
    path = (f"DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = %s', current_database(),"
            f" {quote_literal(quote_identifier(schemas[0]))} || ', ' || current_setting('search_path')); END $$;\n")
    said = f"creates {', '.join(schemas)} and " if creates else ""
    return ([Script(directory / "flyway.conf", created + path)],
            f"as Flyway does with the schemas it manages, {said}puts {schemas[0]} first on the search_path")


def _from_the_latest_baseline(versioned: list[Migration]) -> list[Migration]:
    """The versioned migrations as a new database gets them: from the latest baseline migration
    on; those it covers (its version and below) and the older baselines skipped with the reason."""
    baselines = sorted((m for m in versioned if m.baseline), key=lambda m: m.sort_key)
    if not baselines:
        return versioned
    latest = baselines[-1]
    reason = (f"covered by the baseline migration {latest.main_file.name if latest.main_file else latest.id}:"
              " Flyway starts a new database from it and does not run this one there")
    return [m if m is latest or m.sort_key[1] > latest.sort_key[1]
            else dataclasses.replace(m, skip_reason=reason, covered=True) for m in versioned]


def _classpath_code(directory: Path) -> list[Path]:
    """The migration classes' sources in the same package as a `classpath:` location's resources, and
    its sub-packages, which Flyway scans too: `<module>/src/main/resources/db/migration` ->
    `<module>/src/main/java/db/migration` (dhis2's `.../db/migration/v34/V2_34_5__...java`), ..."""
    return [path for code in code_directories(directory) for path in location_files(code) if path.suffix != ".sql"]


# What PostgreSQLParser.detectCanExecuteInTransaction recognises, by node (its regexes read the
# statement's first words): CREATE/DROP DATABASE, TABLESPACE, SUBSCRIPTION; ALTER SYSTEM; CREATE
# or DROP [UNIQUE] INDEX CONCURRENTLY; REINDEX SCHEMA, DATABASE, SYSTEM; VACUUM; DISCARD ALL; and
# ALTER TYPE ... ADD VALUE where the server is older than 12 (where PostgreSQL refuses it).
_OUTSIDE_ALWAYS = frozenset({"CreatedbStmt", "DropdbStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
                             "CreateSubscriptionStmt", "DropSubscriptionStmt", "AlterSystemStmt"})
_OUTSIDE_BY_OPTIONS = frozenset({"IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "DiscardStmt"})


def runs_outside(statement: Statement, server_version: int) -> bool:
    """Whether Flyway's parser takes `statement` for one that cannot run in a transaction."""
    if statement.node in _OUTSIDE_ALWAYS:
        return True
    if statement.node not in _OUTSIDE_BY_OPTIONS and statement.node != "AlterEnumStmt":
        return False
    node = trees.statement(statement.sql)
    if isinstance(node, ast.AlterEnumStmt):  # ADD VALUE, not RENAME VALUE
        return node.oldVal is None and server_version < ENUM_ADD_VALUE_IN_TRANSACTION
    if isinstance(node, ast.DropStmt):  # DROP INDEX CONCURRENTLY, not other drops
        return statement.needs_autocommit and node.removeType == ObjectType.OBJECT_INDEX
    if isinstance(node, ast.ReindexStmt):  # REINDEX SCHEMA, DATABASE, SYSTEM; not REINDEX INDEX CONCURRENTLY
        return node.kind in REINDEX_MANY
    return statement.needs_autocommit


def _script(path: Path, placeholders: Placeholders) -> tuple[Script, str | None]:
    """The script as Flyway runs it (its placeholders replaced), and why Flyway refuses it, if it does."""
    text, refused = placeholders.substituted(path, read_sql(path))
    return Script(path, spaced_between_statements(text), transaction=_transaction(path)), refused


def _transaction(path: Path) -> Transaction:
    """`executeInTransaction=false` in the script's `.conf` file (Flyway's per-script config);
    otherwise Flyway refuses a script that mixes statements PostgreSQL runs only outside a
    transaction with others, unless the project sets `mixed`."""
    if (script_setting(path, "executeInTransaction") or "").lower() == "false":
        return Transaction.NONE
    return Transaction.AUTO if flyway_setting(path.parent, "mixed") else Transaction.UNMIXED


# An undo script: version, description, path, the script, why Flyway refuses it (or None).
Undo = tuple[str, str, Path, Script, str | None]


def _pair_undo(versioned: list[Migration], undo: list[Undo]) -> tuple[list[Migration], list[OrphanRollback]]:
    """Attach each U script to the V script of the same version (the same description first,
    when a version is duplicated). A U script with no V script is an orphan."""
    by_version: dict[tuple, list[int]] = {}
    for index, migration in enumerate(versioned):
        by_version.setdefault(sort_key(migration.version, "")[1], []).append(index)
    result = list(versioned)
    orphans = []
    for version, description, path, script, refused in sorted(undo, key=lambda u: (sort_key(u[0], u[1]), u[2])):
        candidates = [i for i in by_version.get(sort_key(version, "")[1], []) if result[i].down is None and result[i].up]
        chosen = next((i for i in candidates if result[i].name == description), candidates[0] if candidates else None)
        if chosen is None:
            orphans.append(OrphanRollback(path, version, description))
            continue
        migration = result[chosen]
        result[chosen] = dataclasses.replace(migration, down=script, files=migration.files + (path,),
                                             down_skip_reason=refused)
    return result, orphans
