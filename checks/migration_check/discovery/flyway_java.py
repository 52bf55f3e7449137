"""Flyway's Java, Kotlin and Scala migrations: where their classes are, and the version and
description Flyway reads off each.

A `classpath:` location holds the classes compiled from the same package as well as the
resources: beside `src/main/resources/db/migration` they are `src/main/java/db/migration` (and
kotlin, scala), Spring Boot's default. A module's code may add more packages as locations, so a
class named `V<version>__...` that extends or implements Flyway's migration types anywhere in the
module is one too. None of them is replayed (JAVA_SKIP); knowing them in version order tells the
later failures that follow from one.

Flyway takes a BaseJavaMigration's version and description from its class name, but a class
that implements JavaMigration itself (or overrides getVersion) gives its own: MarquezProject/
marquez's `V57_1__BackfillFacets` returns `MigrationVersion.fromVersion("57.2")` (57.1 is a SQL
script's), and its `V44_3_BackfillJobsWithParents`, which no naming rule reads, is migration 44.3.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from migration_check.discovery.databases import names_a_database
from migration_check.discovery.flyway_naming import CLASS, sort_key
from migration_check.discovery.path_words import path_words
from migration_check.model import Migration

JAVA_SKIP = "Java/Kotlin migration: Flyway runs it through its Java API, it is not SQL that can be replayed"
RESOURCES = ("src", "main", "resources")
CODE_ROOTS = ("java", "kotlin", "scala")
_SOURCES = (".java", ".kt", ".scala")
# `MigrationVersion.fromVersion("57.2")`: the version a class gives Flyway through getVersion().
_DECLARED_VERSION = re.compile(r'\bMigrationVersion\s*\.\s*fromVersion\s*\(\s*"([^"]+)"\s*\)')
# `getDescription() { return "BackFillFacets"; }` (Java), `= "..."` (Kotlin).
_DECLARED_DESCRIPTION = re.compile(r'\bgetDescription\s*\(\s*\)[^{="]*(?:\{\s*return\s*|=\s*)"((?:[^"\\]|\\.)*)"')


def code_migration(path: Path, match: dict[str, str] | None) -> Migration | None:
    """The migration a class is, with the version and description Flyway reads off it: those its
    source declares, else those of its name (`match`); None where neither gives a version."""
    source = _source(path)
    declared = set(_DECLARED_VERSION.findall(source)) if "getVersion" in source else set()
    in_code = len(declared) == 1
    version = next(iter(declared)) if in_code else (match["version"] or "").replace("_", ".") if match else ""
    if not version:
        return None
    named = _DECLARED_DESCRIPTION.search(source)
    description = named.group(1) if named else match["description"] if match else path.stem
    return Migration(version, description, sort_key(version, description), up=None, files=(path,),
                     skip_reason=JAVA_SKIP, versioned_in_code=in_code)


def code_directories(directory: Path) -> list[Path]:
    """The source directories of the same package as a `classpath:` location's resources: one
    location to Flyway, which merges the classpath (openremote/openremote keeps Java migrations in
    src/main/java/org/openremote/manager/setup/database beside the scripts in src/main/resources/...)."""
    found = _module_and_package(directory)
    if found is None:
        return []
    module, package = found
    return [code for root in CODE_ROOTS if (code := module.joinpath("src", "main", root, *package)).is_dir()]


def _module_and_package(directory: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The module whose `src/main/resources` holds the directory, and the directory's package."""
    parts = directory.parts
    for start in range(len(parts) - len(RESOURCES), -1, -1):
        if parts[start:start + len(RESOURCES)] == RESOURCES:
            return Path(*parts[:start]), parts[start + len(RESOURCES):]
    return None


# What a Flyway Java migration extends or implements, whatever its package.
JAVA_MIGRATION = re.compile(r"\b(BaseJavaMigration|JavaMigration|JdbcMigration|SpringJdbcMigration)\b")


# The tree search's held directories and discovery both ask: the module is walked once per run.
@functools.lru_cache(maxsize=64)
def module_migrations(directory: Path) -> tuple[Path, ...]:
    """The Flyway Java migrations anywhere in the module of a `classpath:` location: a class named
    `V<version>__...` that extends Flyway's BaseJavaMigration is a migration of one of the module's
    locations, which its code configures (DSpace adds `org/dspace/storage/rdbms/migration` beside
    its scripts' `sqlmigration/postgres`: its V6_0_2015_03_06 drops the primary keys the next script
    adds again). None of them is replayed; knowing them in version order tells the later failures
    that follow from one."""
    found = _module_and_package(directory)
    if found is None:
        return ()
    module = found[0]
    location = _database_words(found[1])
    texts: dict[Path, str] = {}  # each class's source, read once
    for root in CODE_ROOTS:
        sources = module / "src" / "main" / root
        for folder, subfolders, files in os.walk(sources):  # links not followed
            subfolders.sort()
            if _database_words(Path(folder).relative_to(sources).parts) - location:
                continue  # (cloudfoundry/uaa's db/mysql and db/hsqldb beside the db/postgresql it runs)
            names = sorted(files)
            if not any(CLASS.match(name) for name in names):
                continue
            # Beside them, in their package: a class that gives its own version, whatever its name.
            for name in names:
                if CLASS.match(name) or name.endswith(_SOURCES):
                    text = _source(Path(folder) / name)
                    if CLASS.match(name) or _DECLARED_VERSION.search(text):
                        texts[Path(folder) / name] = text
    # A class another one extends is a base (uaa's db/V2_7_3__StoreSubDomainAsLowerCase, which each
    # database's V2_7_3__..._Migrate_Zone_Subdomain_To_Lowercase extends): Flyway, which would refuse
    # two migrations of one version, does not scan its package.
    extended = {name for text in texts.values() for name in EXTENDS.findall(text)}
    return tuple(path for path, text in texts.items() if path.stem not in extended and JAVA_MIGRATION.search(text))


# `class V2__x extends V1__base`: the class a Java or Kotlin migration extends.
EXTENDS = re.compile(r"\bclass\s+\w+\s*(?:extends\s+|\([^)]*\)\s*:\s*|:\s*)(\w+)")


def _database_words(parts: tuple[str, ...]) -> set[str]:
    """The databases a package's or folder's path names (`db/postgresql`: postgresql)."""
    return {word for word in path_words("/".join(parts)) if names_a_database(word)}


def _source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
