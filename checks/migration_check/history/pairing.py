"""The pairing check: every forward migration has its rollback, and no rollback is an orphan.

Whether rollbacks are wanted is a policy: `rollbacks` in the settings, else the layout's default
(required where the layout has rollback files, absent for forward-only layouts). An orphan rollback
is a finding under every policy: it is a file that nothing will ever run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from migration_check.discovery import layout_named
from migration_check.discovery.base import utc_timestamp
from migration_check.history.naming import path_in_directory
from migration_check.history.results import result, skipped
from migration_check.model import CheckResult, Migration, OrphanRollback, Project, RollbackPolicy
from migration_check.settings import Settings


def policy_of(project: Project, settings: Settings) -> RollbackPolicy:
    return settings.rollbacks or project.rollback_policy


def check_pairing(project: Project, settings: Settings) -> list[CheckResult]:
    """One test case per migration (none when rollbacks are absent), then one per orphan rollback."""
    policy = policy_of(project, settings)
    results: list[CheckResult] = []
    if policy is RollbackPolicy.ABSENT:
        results.append(skipped(settings, "pairing", "rollbacks", f"rollbacks are absent for this project ({project.format})"))
    else:
        for migration in project.migrations:
            problems = [] if policy is RollbackPolicy.OPTIONAL else missing_rollback(project, migration)
            results.append(result(settings, "pairing", migration.id, project.relative(migration.main_file), problems))
    for orphan in sorted(project.orphan_rollbacks, key=lambda o: o.path.as_posix()):
        message = orphan_message(project, orphan)
        results.append(result(settings, "pairing", orphan.path.name, project.relative(orphan.path), [message]))
    return results


def missing_rollback(project: Project, migration: Migration) -> list[str]:
    """The problem of a forward migration without rollback, or nothing."""
    # Repeatable migrations (Flyway R__) are re-applied when they change, and a baseline (B__) is
    # where a new database starts: neither ever has a rollback.
    if (migration.up is None or migration.skip_reason or migration.down_skip_reason or migration.repeatable
            or migration.baseline):
        return []
    if migration.down is not None and not migration.implicit_down:
        return []
    expected = expected_files(project, migration.version, migration.name)
    # Trust the layout's names only when they reproduce the forward file that exists; single-file
    # layouts (dbmate, goose) want a section, not a file.
    trusted = len(expected) > 1 and migration.main_file and expected[0] == path_in_directory(project, migration.main_file)
    layout = layout_named(project.format)
    name = migration.main_file.name if migration.main_file else migration.id
    if (misread := layout.misread_marker(migration)) is not None:
        problem = misread[1]
    else:
        what = layout.missing_rollback_hint(migration) or (expected[1] if trusted else f"a rollback ({layout.naming_hint})")
        problem = f"add {what} that undoes it"
    return [f"{name} has no rollback: {problem} (rollbacks are required; set `rollbacks: optional` in the config to"
            " allow none)."]


def orphan_message(project: Project, orphan: OrphanRollback) -> str:
    expected = expected_files(project, orphan.version, orphan.name)
    trusted = len(expected) > 1 and expected[1] == path_in_directory(project, orphan.path)
    forward = f" {expected[0]}" if trusted else ""
    return (
        f"{orphan.path.name} is a rollback without its forward migration{forward}:"
        " restore the forward migration, fix the rollback's name to match it, or delete the rollback."
    )


def expected_files(project: Project, version: str, name: str) -> list[str]:
    """The file names (inside the migrations directory) the layout gives migration `version`/`name`.

    Asked of the layout's own `new_files`, with this version in place of the fresh timestamp it
    would use, so the names are the layout's and not a guess here. Empty when the layout cannot say:
    no `new`, or names without the timestamp. Callers check the names against the files that
    exist, since some layouts' names are not a function of version and name (yoyo adds a hash).
    """
    now = datetime(2000, 1, 1, tzinfo=UTC)
    stamp = utc_timestamp(now)
    try:
        # The project's own directory: a layout may name files after those already there (sqlx:
        # .up.sql/.down.sql in a reversible project).
        files = layout_named(project.format).new_files(project.directory, name, now)
    except NotImplementedError:
        return []
    names = [path.relative_to(project.directory).as_posix() for path in files]
    if not names or not all(stamp in n for n in names):
        return []
    return [n.replace(stamp, version, 1) for n in names]
