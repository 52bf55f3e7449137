"""Find the migrations, whatever the layout, and say which layout it is and why.

Each layout is one module, registered in `LAYOUTS` (layouts.py), whose order is the order in which conventional
directories are searched under a repository root (most specific first); among the layouts that
recognise one directory, the highest detection score wins, and a tie is an error that asks for --format.

Detection scores: a file of the layout's own or markers in its files (sqitch.plan, atlas.sum,
`-- migrate:up`, `--! Previous:`, `V1__x.sql`) 78-95; golang-migrate's `.up.sql`/`.down.sql` names 70;
the plain timestamp names 50-60, never above a layout with markers in the same names; numbered 45.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from migration_check.discovery.aside import set_aside_by_name
from migration_check.discovery.base import Detection, Discovery, Layout, sent_whole_when_wrapped
from migration_check.discovery.boundary import unreadable_entries, within_repository, without_ignored
from migration_check.discovery.databases import (
    OTHER_DATABASES,
    driven_by_another_database,
    written_for_another_database,
)
from migration_check.discovery.deploy_values import values_given
from migration_check.discovery.go_templates import templates_rendered
from migration_check.discovery.js_files import files_read_by
from migration_check.discovery.layouts import LAYOUTS, layout_named
from migration_check.discovery.listing import listings_kept
from migration_check.discovery.locate import MAX_DEPTH, configured_directories, configured_paths, searched_directories
from migration_check.discovery.path_words import POSTGRES_WORDS, path_words
from migration_check.discovery.unrendered import templates_unrendered
from migration_check.errors import InfrastructureError, MigrationCheckError, NoMigrationsFound, UsageError
from migration_check.git_command import run_git
from migration_check.model import Migration, Project


def find_repo_root(start: Path) -> Path:
    """The git work tree that holds `start`. Outside git: the current directory when it holds
    `start` (so reports name files as the user sees them), else `start` itself."""
    try:
        top = run_git(start, "rev-parse", "--show-toplevel").decode().strip()
    except InfrastructureError:  # outside a work tree, or no git
        top = ""
    if top:
        return Path(top)
    here = Path.cwd().resolve()
    return here if start.resolve().is_relative_to(here) else start


SEARCH_STEP = 3  # the index of the tree search among candidate_steps


def candidate_steps(path: Path) -> Iterator[list[tuple[Path, str]]]:
    """Where to look, step by step (see locate.py): each step a list of (directory, why)."""
    yield [(path, "")]
    yield configured_directories(path)
    yield [(directory, "") for directory in _conventional_paths(path) if directory.is_dir()]
    yield [(directory, "found by searching the tree") for directory in searched_directories(path)]


def _conventional_paths(path: Path) -> list[Path]:
    """Each layout's usual directories under `path`, once each, directories or not."""
    return list(dict.fromkeys(path / sub for layout in LAYOUTS.values() for sub in layout.conventional_dirs))


def candidate_directories(path: Path) -> list[Path]:
    """The directories of every step but the tree search, in order (for `new`)."""
    return [directory for step in itertools.islice(candidate_steps(path), SEARCH_STEP) for directory, _why in step]


def detect(path: Path) -> tuple[Layout, Path, Detection]:
    """The layout of the migrations at or under `path`. Ambiguity is an error, never a guess (a
    directory named for PostgreSQL among others named for other databases is no ambiguity)."""
    stub: tuple[Layout, Path, Detection] | None = None
    for number, step in enumerate(candidate_steps(path)):
        if number == SEARCH_STEP and (relinked := _no_dangling_link(path)) is not None:
            best = _best_layout(*relinked)
            if best is not None:
                return best
        found = _outermost([best for directory, why in step if (best := _best_layout(directory, why)) is not None])
        if stub is None and found and all(detection.empty for _, _, detection in found):
            stub = found[0]
        found = [item for item in found if not item[2].empty]
        if len(found) == 1 and number > 0 and (other := _only_for_another_database(*found[0][:2], path)):
            # Found, not given: its name (or its module's drivers) says it holds another database's SQL.
            raise UsageError(f"{_shown(found[0][1], path)} holds migrations for {other[0]} ({other[1]}), the only"
                             " migrations found here: migration-check replays PostgreSQL migrations; give the"
                             " directory of the PostgreSQL ones as the path")
        if len(found) == 1:
            layout, directory, detection = found[0]
            if number > 0 and (whose := set_aside_by_name(_shown(directory, path), directory.name)):
                # Found alone, but its name says it is not the project's own (openmrs-core's only
                # recognised changelog is a test resource): the check goes on, saying so.
                detection = replace(detection, reason=f"{detection.reason}; the only migrations found, {whose}: where the"
                                                      " project's own are elsewhere, give their directory as the path")
            return layout, directory, detection
        if len(found) > 1:
            kept, others, tests_or_examples = _the_projects_own(found, path)
            aside = _set_aside(others, tests_or_examples, path)
            if len(kept) == 1:
                layout, directory, detection = kept[0]
                why = (f"the one named for PostgreSQL beside {', '.join(_shown(d, path) for d in others)}"
                       if not tests_or_examples and _named_for_postgresql(directory, path) else f"the only one beside {aside}")
                return layout, directory, replace(detection, reason=f"{detection.reason}; {why}")
            listed = "; ".join(f"{_shown(d, path)} ({layout.name}: {detection.reason})" for layout, d, detection in kept)
            named = [_shown(d, path) for _, d, _ in kept if _named_for_postgresql(d, path)]
            hint = f"; {named[0]} is the one named for PostgreSQL" if len(named) == 1 else ""
            hint += f" (set aside: {aside})" if aside else ""
            raise UsageError(f"{path}: several migration directories: {listed}. Choose one: give it as the path"
                             f" (or `path` in the config){hint}")
    if stub is not None:
        return stub
    raise NoMigrationsFound(
        f"{path}: no migrations found (looked for {', '.join(sorted(LAYOUTS))} layouts here, in the directories"
        " the runners' config files name, in their usual places, and in the tree below, to"
        f" {MAX_DEPTH} levels deep; where they are deeper, give their directory as the path)"
    )


def _outermost(found: list[tuple[Layout, Path, Detection]]) -> list[tuple[Layout, Path, Detection]]:
    """Without the directories that are part of another one found (db-migrate's `sqls`; the
    top_dir that a sqitch.conf beside a plan-less directory names, and its deploy/ scripts)."""
    held = {held.resolve() for layout, directory, _ in found for held in layout.held_directories(directory)
            if held.resolve() != directory.resolve()}
    return [item for item in found if item[1].resolve() not in held]


def _only_for_another_database(layout: Layout, directory: Path, root: Path) -> tuple[str, str] | None:
    """(database, why) where a directory found alone holds another database's migrations: its name
    says so, or its module requires that database's drivers only."""
    named = _named_for_another_database(directory, root)
    return (named, "its name says so") if named else driven_by_another_database(layout, directory)


def _the_projects_own(found: list[tuple[Layout, Path, Detection]], root: Path
                      ) -> tuple[list[tuple[Layout, Path, Detection]], dict[Path, str], dict[Path, str]]:
    """The directories that may be the project's PostgreSQL migrations, then those set aside where
    any other is left: the ones named for another database and not for PostgreSQL (vaultwarden's
    migrations/mysql and sqlite beside migrations/postgresql; their names say which is which, that
    is no guess), with that database, and those of a test suite (Go's `testdata`, `fixtures`) or of
    the examples, with which."""
    others = {d: other for _, d, _ in found
              if (other := _named_for_another_database(d, root)) and not _named_for_postgresql(d, root)}
    others |= {d: f"{other} SQL" for layout, d, _ in found
               if d not in others and not _named_for_postgresql(d, root) and (other := written_for_another_database(layout, d))}
    others |= {d: f"{driven[0]}, by its module's drivers" for layout, d, _ in found
               if d not in others and not _named_for_postgresql(d, root) and (driven := driven_by_another_database(layout, d))}
    aside = {d: whose for _, d, _ in sorted(found, key=lambda item: item[1])
             if d not in others and (whose := set_aside_by_name(_shown(d, root), d.name))}
    kept = [item for item in found if item[1] not in others and item[1] not in aside]
    # A directory of code migrations alone (openremote/openremote's one example Java migration
    # beside its 22 scripts) has nothing to replay: the scripts are the project's to check.
    code = {d: "holding code migrations alone, which no replay runs" for layout, d, _ in kept if _code_alone(layout, d)}
    if code and len(code) < len(kept):
        aside |= code
        kept = [item for item in kept if item[1] not in code]
    if kept:
        return kept, others, aside
    # Every one a test suite's or an example's (sqlc's examples/ondeck/{postgresql,mysql,sqlite}):
    # those of another database are still another database's.
    own = [item for item in found if item[1] not in others]
    return (own, others, {}) if own else (found, {}, {})


def _code_alone(layout: Layout, directory: Path) -> bool:
    try:
        migrations = layout.discover(directory).migrations
    except MigrationCheckError:
        return False
    return bool(migrations) and all(migration.up is None for migration in migrations)


def _set_aside(others: dict[Path, str], aside: dict[Path, str], root: Path) -> str:
    # (named for it, written in its SQL, or run by a module that requires its driver)
    words = [f"{', '.join(f'{_shown(d, root)} ({other})' for d, other in others.items())}, for another"
             " database"] if others else []
    for whose in dict.fromkeys(aside.values()):
        words.append(f"{', '.join(_shown(d, root) for d, w in aside.items() if w == whose)}, {whose}")
    return "; ".join(words)


def _named_for_another_database(directory: Path, root: Path) -> str | None:
    """The database a word of the directory's path under `root` names, when it is not PostgreSQL
    (`internal/migrations/clickhouse`, `migrations/mysql`)."""
    return next((database for word in _path_words(directory, root) if (database := _database_named(word))), None)


def _database_named(word: str) -> str | None:
    """The database a word names: the whole word, or a long name it starts or ends with (river's
    driver directories `riversqlite` beside `riverpgxv5`). Short names (h2, db2) only whole: they
    end too many words."""
    if word in OTHER_DATABASES:
        return OTHER_DATABASES[word]
    return next((database for name, database in OTHER_DATABASES.items()
                 if len(name) >= 5 and (word.startswith(name) or word.endswith(name))), None)


def _named_for_postgresql(directory: Path, root: Path) -> bool:
    """Whether a word of the directory's path under `root` names PostgreSQL (`migration_postgres`,
    `server-postgres/migrations`, `db/migrations/pg`)."""
    return bool(POSTGRES_WORDS & set(_path_words(directory, root)))


def _path_words(directory: Path, root: Path) -> list[str]:
    """The words of the directory's path under `root`, lower case."""
    return path_words(_shown(directory, root))


def _no_dangling_link(path: Path) -> tuple[Path, str] | None:
    """Where the runners' own place for the migrations is a link to nothing (a path on its author's
    machine), say so: a search of the tree would find some other folder (a backup) instead. Unless
    that path ends with a directory of this repository (`/Users/me/app/packages/db/migrations` and
    this clone's `packages/db/migrations`: the same directory, cloned elsewhere): then (it, why)."""
    for candidate in [*(p for p, _why in configured_paths(path)), *_conventional_paths(path)]:
        if candidate.is_symlink() and not candidate.exists():
            target = os.readlink(candidate)
            here = _same_place_here(Path(target), path)
            if here is not None:
                return here, (f"the link {_shown(candidate, path)} (to {target} on its author's machine: the same"
                              " directory in this clone)")
            raise UsageError(f"{_shown(candidate, path)} is a symbolic link to {target}, which does not"
                             " exist here: commit the migrations themselves, or give their directory as the path")
    return None


def _same_place_here(target: Path, root: Path) -> Path | None:
    """The longest tail of `target`, two parts or more, that is a real directory under `root`."""
    parts = target.parts
    for start in range(1, len(parts) - 1):
        here = root.joinpath(*parts[start:])
        if here.is_dir() and not here.is_symlink() and here.resolve().is_relative_to(root.resolve()):
            return here
    return None


def _best_layout(directory: Path, why: str) -> tuple[Layout, Path, Detection] | None:
    found = [(layout, directory, d) for layout in LAYOUTS.values() if (d := layout.detect(directory))]
    if not found:
        return None
    found.sort(key=lambda item: -item[2].score)
    best = found[0]
    ties = [item for item in found[1:] if item[2].score == best[2].score]
    if ties:
        names = ", ".join(item[0].name for item in [best, *ties])
        raise UsageError(f"{directory}: the layout is ambiguous ({names}); choose one with --format")
    layout, _, detection = best
    reason = f"{detection.reason}; directory from {why}" if why and not why.startswith("found") else (
        f"{detection.reason}; {why}" if why else detection.reason)
    return layout, directory, Detection(detection.score, reason, detection.empty)


def _shown(directory: Path, root: Path) -> str:
    return directory.relative_to(root).as_posix() if directory.is_relative_to(root) else str(directory)


def discover(
    path: Path, format_name: str | None = None, repo_root: Path | None = None, ignore: list[str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Project:
    """Everything the checks need to know about the migrations at or under `path`.

    `ignore` holds glob patterns (matched against file names and repository-relative paths) of
    files that are not migrations and must not be reported as stray. `values` are what the
    runner's program gives the migrations it renders (pop's template options).
    """
    with listings_kept():
        return _discover(path, format_name, repo_root, ignore, values or {})


def _discover(path: Path, format_name: str | None, repo_root: Path | None, ignore: list[str] | None,
              values: Mapping[str, str]) -> Project:
    path = path.resolve()
    if not path.exists():
        raise UsageError(f"{path}: no such directory")
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    if format_name:
        layout = layout_named(format_name)
        directory = _directory_for(layout, path)
        detection = layout.detect(directory) or Detection(0, "")
        reason = f"chosen with --format ({detection.reason})" if detection.reason else "chosen with --format"
    else:
        layout, directory, detection = detect(path)
        reason = detection.reason
    unreadable_entries(directory, layout.migrations_are_directories)
    with values_given(values):
        found: Discovery = layout.discover(directory)
    if layout.renders_go_templates:
        found = replace(found, migrations=[templates_rendered(m, directory, values) for m in found.migrations])
    found = replace(found, migrations=[templates_unrendered(m, values) for m in found.migrations])
    if layout.sends_scripts_whole:
        found = replace(found, migrations=[sent_whole_when_wrapped(m) for m in found.migrations])
    root = (repo_root or find_repo_root(path)).resolve()
    own = {file for m in found.migrations for file in m.files}
    found = replace(found, migrations=[_with_files_read(m, own, root) for m in found.migrations])
    if ignore:
        found = without_ignored(found, root, ignore)
    found = within_repository(found, root)
    return Project(
        format=layout.name,
        reason=reason,
        directory=directory,
        repo_root=root,
        migrations=found.migrations,
        rollback_policy=found.rollback_policy or layout.default_rollbacks,
        stray_files=found.stray_files,
        orphan_rollbacks=found.orphan_rollbacks,
        seeds=found.seeds,
        declared_schema=found.declared_schema,
        pending_in_one_transaction=found.pending_in_one_transaction,
        setup=found.setup,
        setup_reason=found.setup_reason,
        setup_extensions=found.setup_extensions,
        integrity_file=found.integrity_file,
        refusals=found.refusals,
        histories_reason=found.histories_reason,
    )


def _with_files_read(migration: Migration, own: set[Path], root: Path) -> Migration:
    """The migration, knowing the files of the repository outside every migration's own whose text
    it runs: those its module read (js_files.py), and the file a script of it is (a Liquibase
    `sqlFile`, whose edit changes the changeset's checksum: Liquibase then refuses to run)."""
    scripts = {script.path for script in (migration.up, migration.down, migration.verify) if script is not None}
    read = sorted({path for path in (*files_read_by(migration.files), *scripts) if path not in own
                   and path.is_file() and path.resolve().is_relative_to(root)})
    return replace(migration, read_files=tuple(read)) if read else migration


def _directory_for(layout: Layout, path: Path) -> Path:
    """Where a layout chosen with --format keeps its migrations: the first directory it recognises,
    else its first conventional directory that exists, else `path` itself."""
    found = next((d for step in candidate_steps(path) for d, _why in step if layout.detect(d)), None)
    if found is not None:
        return found
    return next((path / sub for sub in layout.conventional_dirs if (path / sub).is_dir()), path)
