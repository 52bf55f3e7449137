"""Whether a failure is the migration's own, or may follow from an earlier migration that is not
in the database: one the check cannot replay (a goose Go migration, a Flyway Java one, a Prisma
project's data migration in code, a yoyo step that runs Python) or whose up failed or was not
judged. The later migrations run without them; a failure linked to one of them is not judged,
with the link, so that one finding does not turn into a failure of every migration after it.

Linked: the object the error says is missing is named by that migration's text (hatchet's
v1_0_100.sql alters the table its v1_0_99.go creates), or the extension it comes from is
(`geometry` and a failed `CREATE EXTENSION postgis`), or the same thing was missing there, or what
still depends on an object the statement drops is (DSpace's DROP SEQUENCE, whose column default an
unreplayed migration drops), or the failing statement works on a table that migration names (a
column whose type change failed).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from migration_check.discovery.path_words import POSTGRES_WORDS, path_words
from migration_check.families.base import MigrationContext, StepRun, Unreplayed
from migration_check.model import Migration
from migration_check.replay.executor import ScriptFailed
from migration_check.sql.dialects import (
    DEPENDENT_OBJECTS,
    FEATURE_NOT_SUPPORTED,
    SYNTAX_ERROR,
    missing_object,
)
from migration_check.sql.extensions import extension_object
from migration_check.sql.objects import touched_names

UP = "apply: needs an unreplayed migration"  # context.notes keys
ROLLBACK = "rollback: needs an unreplayed migration"


class Link(NamedTuple):
    """Why a failure is not judged, and the earlier migration it follows from."""

    message: str
    earlier: Unreplayed


def needs_unreplayed(context: MigrationContext) -> str | None:
    """Why the up cannot be judged, where its failure may follow from a migration that is not in
    the database (see `_link`); None otherwise. Asked of a finished up by the runner and by the
    verdict: the unreplayed migrations' files are read once, the answer noted."""
    link = _noted(context, UP, context.up)
    return link.message if link is not None else None


def rollback_needs_unreplayed(context: MigrationContext) -> str | None:
    """Why the rollback cannot be judged, where its failure may follow from a migration that is
    not in the database (Lemmy's rollback alters a table that an earlier up, which failed, makes)."""
    link = _noted(context, ROLLBACK, context.down)
    return link.message if link is not None else None


def own_failures(context: MigrationContext, step: StepRun) -> StepRun:
    """`step`, or, where it went on after a failure (Script.tolerated) that may follow from a
    migration not in the database, the step failed with it: then it is not judged either, instead
    of passing on a state the runner's databases never had (privacyidea's try around an index of a
    table that an unreplayed revision makes)."""
    if step.failure is None and context.skipped_before:
        linked = next((failure for failure in step.went_on if _link(context, failure) is not None), None)
        if linked is not None:
            return dataclasses.replace(step, failure=linked)
    return step


def unreplayed_up(context: MigrationContext) -> Unreplayed:
    """What the later migrations are told of this one, whose up failed: that it failed (with its
    error, to find the same thing missing again), or, where it was not judged, which failure it
    follows from (the first in the chain, so that every later message names the one to fix)."""
    failure = context.up.failure if context.up is not None else None
    link = _noted(context, UP, context.up)
    if link is None:
        return Unreplayed(context.migration, "it failed to apply",
                          (failure.sqlstate, failure.message) if failure is not None else None)
    earlier = link.earlier
    root = earlier.root or (f"{_where(context, earlier.migration)}, which failed to apply" if earlier.error
                            else f"{_where(context, earlier.migration)} ({earlier.reason})")
    return Unreplayed(context.migration, f"it was not judged: it follows from {root}", root=root)


def _noted(context: MigrationContext, key: str, step: StepRun | None) -> Link | None:
    if key not in context.notes:
        failure = step.failure if step is not None else None
        context.notes[key] = _link(context, failure) if failure is not None and context.skipped_before else None
    link = context.notes[key]
    return link if isinstance(link, Link) else None


def _where(context: MigrationContext, migration: Migration) -> str:
    return context.project.relative(migration.main_file) or migration.id


def _link(context: MigrationContext, failure: ScriptFailed) -> Link | None:
    """Why the failure may not be its own: an earlier migration that is not in the database (code
    the check cannot run, or an up that failed: hatchet's v1_0_100.sql alters the table its
    v1_0_99.go creates) names what the failing statement needs or touches, or failed the same way.
    None when nothing links them: the failure is the migration's own."""
    message = failure.message
    missing = _missing_name(failure.sqlstate, message)
    extension = extension_object(failure.sqlstate, message)
    # A syntax error or an unsupported feature is the statement's own, whatever the state.
    stateful = failure.sqlstate not in (SYNTAX_ERROR, FEATURE_NOT_SUPPORTED)
    touched = touched_names(failure.statement) if failure.statement and stateful else frozenset()
    dependents = _dependents(failure.detail) if failure.sqlstate == DEPENDENT_OBJECTS else []
    # What the failing statement needs, named by any of them, before what it merely touches: the
    # migration that makes the missing table is the one to name, not a later one that also names a
    # table the statement touches (haitaton-backend's 005 beside create-hankegeometriat-tables).
    for earlier, where, because, text, lowered in _candidates(context):
        if missing is not None and earlier.error is not None and (  # the same thing missing
                earlier.error[0] == failure.sqlstate and _missing_name(*earlier.error) == missing):
            return Link(f"not judged: it fails as {where} did ({message}), {because}: fix that one first", earlier)
        if missing is not None and _names(text, lowered, missing):
            return Link(f"not judged: it needs {missing} ({message}), which {where} names, {because}", earlier)
        if missing is not None and (named := _enum_of(missing, text)) is not None:
            return Link(f"not judged: it needs {missing} ({message}), the enum type an ORM makes for column {named},"
                        f" which {where} names, {because}", earlier)
        if extension is not None and extension.extension.lower() in text.lower():
            return Link(f"not judged: it needs {extension.name}, {extension.kind_with_article} of the"
                        f" {extension.extension} extension ({message}), which {where} names, {because}", earlier)
    for earlier, where, because, text, lowered in _candidates(context):
        if dependents and (still := sorted(name for name in dependents if _names(text, lowered, name))):
            depend = "depends" if len(still) == 1 else "depend"
            return Link(f"not judged: it fails ({message}) while {', '.join(still)} still {depend} on it, which"
                        f" {where} changes, {because}: its failure may follow from that one", earlier)
        if names := sorted(name for name in touched if _names(text, lowered, name)):
            return Link(f"not judged: it fails ({message}) on {', '.join(names)}, which {where} also names, {because}:"
                        " its failure may follow from that one", earlier)
    return None


def _candidates(context: MigrationContext) -> Iterator[tuple[Unreplayed, str, str, str, str]]:
    """The migrations not in the database, nearest first, each read as it is asked for: where it
    is, why it is not replayed (for the message), and its text as written and lowered."""
    for earlier in reversed(context.skipped_before):
        text = _text_of(earlier.migration)
        yield earlier, _where(context, earlier.migration), f"and that migration is not replayed ({earlier.reason})", \
            text, text.lower()


# What a "cannot drop X because other objects depend on it" error's detail says depends on X:
# "default value for column id of table epersongroup2workspaceitem depends on sequence ...",
# "view needs_notification_sent depends on view active_contact_methods" (the server's words).
_DEPENDENT = re.compile(r'\b(?:table|view|function|type|domain|sequence)\s+("[^"]+"|[\w.$]+)')


def _dependents(detail: str | None) -> list[str]:
    """The relations, routines and types a dependency error's detail says still depend on what
    the statement drops (the part of each line before "depends on"), unqualified."""
    found = []
    for line in (detail or "").splitlines():
        dependent = line.split(" depends on ", 1)[0]
        found += [name.strip('"').rsplit(".", 1)[-1] for name in _DEPENDENT.findall(dependent)]
    return list(dict.fromkeys(found))


def _names(text: str, lowered: str, name: str) -> bool:
    """Whether the text names the object: a name PostgreSQL folds to lower case is written in any
    case (openremote's `create table TENANT_RULESET`, later `relation "tenant_ruleset" does not
    exist`); one with capitals was quoted, and is written as it is."""
    return name in text or (name == name.lower() and name in lowered)


def _enum_of(missing: str, text: str) -> str | None:
    """`table.column` where `missing` is the name an ORM gives that column's enum type, both named
    in `text`: Sequelize's `enum_<table>_<column>`, TypeORM's `<table>_<column>_enum` (the migration
    that made it wrote the table and the column, never the type's name)."""
    body = missing[len("enum_"):] if missing.startswith("enum_") else missing[:-len("_enum")] if missing.endswith("_enum") \
        else None
    if not body:
        return None
    for at in (i for i, character in enumerate(body) if character == "_"):
        table, column = body[:at], body[at + 1:]
        if table and column and re.search(rf"\b{re.escape(table)}\b", text) and re.search(rf"\b{re.escape(column)}\b", text):
            return f"{table}.{column}"
    return None


def _missing_name(sqlstate: str | None, message: str) -> str | None:
    """The object a missing-object error names, unqualified: `relation "x.y" does not exist` is y,
    `function f(uuid) does not exist` is f, `type geometry does not exist` is geometry."""
    found = missing_object(sqlstate, message)
    return found[1].rsplit(".", 1)[-1] if found is not None else None


def _text_of(migration: Migration) -> str:
    """The migration's text; for a Java, Kotlin or Scala migration, with that of the SQL resources
    it names, which it runs (dhis2's V2_30_0__Populate_dhis2_schema_if_empty_database.java loads
    /org/hisp/dhis/db/base/dhis2_base_schema.sql: the later scripts need its tables)."""
    text = _read(migration.main_file)
    if migration.up is None and migration.main_file is not None and migration.main_file.suffix in CODE_SUFFIXES:
        text += "".join(_read(resource) for resource in _resources_named(migration.main_file, text))
    return text


CODE_SUFFIXES = frozenset({".java", ".kt", ".scala"})
# A string literal in JVM code that names a SQL resource: "/org/x/schema.sql" or "db/base.sql".
SQL_RESOURCE = re.compile(r'"/?([\w./-]+\.sql)"')


@functools.lru_cache(maxsize=64)
def _resources_named(source: Path, text: str) -> tuple[Path, ...]:
    """The SQL resources of the source's module that its string literals name. A name the code
    joins to a folder it computes (DSpace's `packagePath + "/" + dbFileLocation +
    "/v6.0__DS-2701_xml_workflow_migration.sql"`, one file per database) is each file of that name
    in the resources, PostgreSQL's where their folders name databases."""
    parts = source.parts
    if "src" not in parts:
        return ()
    module = Path(*parts[:len(parts) - 1 - parts[::-1].index("src")])
    resources = module / "src" / "main" / "resources"
    found: list[Path] = []
    for name in dict.fromkeys(SQL_RESOURCE.findall(text)):
        if (path := resources / name.lstrip("/")).is_file():
            found.append(path)
            continue
        candidates = sorted(resources.rglob(Path(name).name)) if resources.is_dir() else []
        postgresql = [c for c in candidates if POSTGRES_WORDS & set(path_words(str(c.relative_to(resources))))]
        found += postgresql or candidates
    return tuple(found)


def _read(path: Path | None) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path is not None else ""
    except OSError:
        return ""
