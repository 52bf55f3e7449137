"""liquibase: a changelog (`db.changelog-master.yaml`, `.xml`, `.json` or `.sql`) and the changesets
it includes, in the order Liquibase runs them.

Rules, as Liquibase reads a changelog:
- The master changelog is the directory's `db.changelog-master.*` (Spring Boot's default),
  `changelog-master.*`, `master.*` or `changelog.*`. Its entries run in order: `include` (a file,
  relative to the changelog with `relativeToChangelogFile`, else found on the search path, which
  here is the changelog's folder and each folder above it up to the repository: Spring Boot's
  `src/main/resources`), `includeAll` (every changelog file of a folder and its sub-folders, in
  path order) and `changeSet`.
- A formatted SQL changelog's changesets are liquibase_formatted.py's. A structured changeset
  (YAML, JSON, XML) whose changes are `sql` and `sqlFile` is SQL the replay runs; one with
  Liquibase's own change types (`createTable`, `addColumn`, ...) is SQL Liquibase writes itself:
  it is not replayed, and says so (what later changesets need from it is then "not judged", with
  the reason). A `dbms` other than PostgreSQL leaves a changeset out.
- Each changeset runs in its own transaction unless it says `runInTransaction: false`.
- A changeset's rollback is its `--rollback` SQL or its `rollback` element; without one, Liquibase
  cannot roll back SQL (it refuses: "No inverse"), so rollbacks are optional.
- A changeset is known by `<file>::<id>::<author>`, as DATABASECHANGELOG records it.
- What Liquibase cannot read (an include, a `sqlFile` or a `loadData` file that is not there, an
  included changelog that does not parse) is a refusal at its line, its changeset skipped with the
  same words. Liquibase reads the whole tree first and so runs nothing; every changeset it can read
  is judged all the same, as it runs once the tree is mended. Only a master changelog that does not
  read stops the run: it leaves nothing to judge.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from migration_check.discovery.base import (
    Detection,
    Discovery,
    FailedAt,
    Layout,
    counted,
    repository_root,
    within_repository,
)
from migration_check.discovery.liquibase_changelog import ChangeSet, changelogs_of, changesets_of, master_changelog
from migration_check.discovery.liquibase_contexts import (
    configured_contexts,
    configured_labels,
    for_another_database,
    runs,
)
from migration_check.discovery.liquibase_parameters import unresolved_parameters
from migration_check.discovery.refused_files import refused
from migration_check.discovery.spring_database import spring_database
from migration_check.errors import FileError
from migration_check.model import Migration, OwnText, Refusal, RollbackPolicy, Script, Transaction

# Where the modules of a Maven or Gradle build keep the resources their jar puts on the classpath.
MODULE_RESOURCES = ("src/main/resources", "*/src/main/resources", "*/*/src/main/resources")


class LiquibaseLayout(Layout):
    name = "liquibase"
    description = "a Liquibase changelog (db.changelog-master.yaml, .xml, .json, .sql) and what it includes"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("src/main/resources/db/changelog", "db/changelog", "changelog", "liquibase")
    naming_pattern = r"^.+$"  # the changelog names its files, whatever they are called
    naming_hint = "any name the changelog includes"
    identity = "id"
    declared_order = True
    transaction_how = "runs each changeset in a transaction"
    transaction_opt_out = "run it outside one, with `runInTransaction:false` on the changeset"
    edited_refusal = ("on databases that ran it, Liquibase's validation fails and it updates nothing (\"Validation"
                      " Failed: 1 changesets check sum\"); a changeset that may change says runOnChange")

    def detect(self, directory: Path) -> Detection | None:
        master = master_changelog(directory)
        if master is None:
            return None
        try:
            found = changesets_of(master, _search_path(directory))
        except FileError:  # discover says where, if this directory is the one checked
            return Detection(score=96, reason=master.name)
        return Detection(score=96, reason=f"{master.name} and {counted(len(found), 'changeset')}", empty=not found)

    def held_directories(self, directory: Path) -> list[Path]:
        master = master_changelog(directory)
        if master is None:
            return []
        try:
            # (A changelog that only includes others is read from the base too: fineract's module masters.)
            search_path = _search_path(directory)
            return sorted({change.path.parent for change in changesets_of(master, search_path)}
                          | {changelog.parent for changelog in changelogs_of(master, search_path)})
        except FileError:
            return []

    def history_tables(self, directory: Path) -> frozenset[str]:
        return frozenset({"public.databasechangelog", "public.databasechangeloglock"})

    def out_of_order_effect(self, directory: Path) -> str:
        return "Liquibase runs {name} after the changesets that follow it in the changelog, which they already ran"

    def failure_hint(self, failed: FailedAt) -> str | None:
        unresolved = unresolved_parameters(failed.statement or "")
        if not unresolved:
            return None
        names = ", ".join(unresolved)
        return (f"(the statement keeps {names} as written, as Liquibase does where it is given no value: if the"
                " project's code gives it one, give it here as `spring.liquibase.parameters.<name>` in an"
                " application file)")

    def discover(self, directory: Path) -> Discovery:
        master = master_changelog(directory)
        if master is None:
            return Discovery([])
        if (elsewhere := spring_database(directory, "spring.liquibase.url")) is not None:
            path, line, database = elsewhere
            raise FileError(path, line, f"the project runs its Liquibase changelog on {database}: these changes are for"
                                        " another database; migration-check replays PostgreSQL migrations")
        migrations = []
        seen_files: set[Path] = set()
        configured = configured_contexts(directory)
        label_filter = configured_labels(directory)
        refusals: list[Refusal] = []
        for index, change in enumerate(changesets_of(master, _search_path(directory))):
            files = () if change.path in seen_files else (change.path,)
            seen_files.add(change.path)
            migration = _migration(index, change, directory, files)
            if change.refused is not None:
                # Liquibase reads the whole tree before it runs a changeset, and stops at this one:
                # the others are judged as they run once it is mended.
                refusal, because = refused(change.path, change.first_line, change.refused, "Liquibase",
                                           "cannot read it")
                refusals.append(refusal)
                migrations.append(replace(migration, refused=True, skip_reason=because, down=None,
                                          label=_refused_label(change, directory)))
                continue
            reason = _left_out(change, configured, label_filter)
            if reason is not None:
                migration = replace(migration, filtered=True, skip_reason=reason)
            migrations.append(migration)
        return Discovery(migrations, refusals=refusals)


def _left_out(change: ChangeSet, configured: tuple[frozenset[str], str] | None,
              label_filter: tuple[str, str] | None) -> str | None:
    """Why Liquibase, run as the project runs it, leaves the changeset out (its contexts, its
    labels), or None."""
    contexts = " and ".join(dict.fromkeys(change.contexts))
    if configured is not None and not all(runs(expression, configured[0]) for expression in change.contexts):
        return (f"Liquibase does not run it here: its context ({contexts}) is not among the project's"
                f" ({configured[1]}: {', '.join(sorted(configured[0]))})")
    other = next((database for expression in change.contexts if (database := for_another_database(expression))), None)
    if configured is None and other is not None:
        return (f"Liquibase does not run it on PostgreSQL: its context ({contexts}) is {other}'s, and a changelog"
                " written for several databases runs with its database's name among the contexts")
    if label_filter is not None and change.labels and not runs(label_filter[0], change.labels):
        return (f"Liquibase does not run it here: its labels ({', '.join(sorted(change.labels))}) do not pass the"
                f" project's filter ({label_filter[1]}: {label_filter[0]})")
    return None


def _migration(index: int, change: ChangeSet, directory: Path, files: tuple[Path, ...]) -> Migration:
    transaction = Transaction.WRAPPED if change.run_in_transaction else Transaction.NONE
    up = Script(change.sql_path or change.path, change.sql, first_line=change.first_line,
                transaction=transaction) if change.sql else None
    down = (Script(change.rollback_path or change.path, change.rollback, first_line=change.rollback_line,
                   transaction=transaction) if change.rollback is not None else None)
    relative = _relative(change.path, directory)
    return Migration(
        version=change.id,
        name="",
        sort_key=(index,),
        up=up,
        down=down,
        files=files,
        skip_reason=change.skip_reason or (None if up is not None else "its changeset holds no SQL"),
        down_skip_reason=change.rollback_skip_reason,
        label=f"{relative}::{change.id}::{change.author}",
        precondition=change.precondition,
        precondition_reason=change.precondition_reason,
        own_text=OwnText(change.path, change.own_line, change.own_text, change.edits_allowed),
    )


def _refused_label(change: ChangeSet, directory: Path) -> str:
    """A refused changeset's name as its changeset's is written (file::id::author); an include or a
    changelog that is not there or does not read is named by its file."""
    relative = _relative(change.path, directory)
    if change.author:
        return f"{relative}::{change.id}::{change.author}"
    return relative if change.id == change.path.name else f"{relative}:{change.first_line} include {change.id}"


def _relative(path: Path, directory: Path) -> str:
    return path.relative_to(directory).as_posix() if path.is_relative_to(directory) else path.name


def _search_path(directory: Path) -> list[Path]:
    """Where an include that is not relative to its changelog is looked for: the changelog's
    folder and each one above it, to the repository's root (Spring Boot resolves
    `db/changelog/changes/x.sql` from src/main/resources), then the resources of the repository's
    other modules, which a multi-module build puts on the same classpath (apache/fineract's master
    changelog in fineract-provider includes `db/changelog/tenant/module/loan/...` from
    fineract-loan)."""
    own = within_repository(directory)
    root = repository_root(directory)
    if root is None:
        return own
    modules = sorted(folder for pattern in MODULE_RESOURCES for folder in root.glob(pattern) if folder.is_dir())
    return [*own, *(folder for folder in modules if folder not in own)]
