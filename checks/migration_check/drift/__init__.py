"""Drift: the schema the migrations build against the schema a team declares (a dumped
`schema.sql`, dbmate's `db/schema.sql`, the SQL an ORM renders) or a live database."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from migration_check.discovery import layout_named
from migration_check.discovery.base import read_sql
from migration_check.drift import prisma
from migration_check.drift.compare import drift_results
from migration_check.drift.declared import declared_snapshot
from migration_check.drift.live import live_snapshot
from migration_check.model import CheckResult, Project, Script
from migration_check.settings import Settings

if TYPE_CHECKING:
    from migration_check.replay.runner import Replay


def drift_cases(project: Project, settings: Settings, replay: Replay) -> list[CheckResult]:
    """The drift cases after the last migration: against the declared schema (`--drift-schema`, or
    the runner's own, dbmate's db/schema.sql) and against a live database (`--drift-url`)."""
    declared = settings.drift_schema or project.declared_schema
    if declared is None and not settings.drift_url and settings.drift_prisma is None:
        return []
    migrated = replay.snapshots.take()
    compare = functools.partial(drift_results, project, migrated, ignored=replay.setup_objects,
                                ignore=settings.drift_ignore,
                                runner_tables=layout_named(project.format).history_tables(project.directory))
    results = []
    if declared is not None:
        relative = project.relative(declared) or str(declared)
        snapshot = declared_snapshot(replay.admin, replay.conn, replay.setup_scripts, declared, project.repo_root)
        script = Script(declared, read_sql(declared), root=project.repo_root)
        results += compare(snapshot, f"the declared schema {relative}", file=relative, declared_script=script)
    if settings.drift_prisma is not None:
        results += _prisma_cases(project, replay, settings.drift_prisma, compare)
    if settings.drift_url:
        results += compare(live_snapshot(settings.drift_url), "the live database", file=None)
    if missing := replay.unreplayed:
        # The migrated schema lacks what they make: a difference may be theirs, not drift.
        names = ", ".join(u.migration.id for u in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        for result in results:
            if result.failed:
                result.message += (f" (the migrated schema lacks {len(missing)} migration(s) not replayed: {names};"
                                   " a difference may be theirs)")
    return results


def _prisma_cases(project: Project, replay: Replay, schema: Path,
                  compare: Callable[..., list[CheckResult]]) -> list[CheckResult]:
    """The Prisma schema, rendered by Prisma's engine, loaded and compared as a declared schema."""
    rendered = prisma.render(schema, replay.conn.info.server_version)
    relative = project.relative(schema.resolve()) or str(schema)
    with tempfile.TemporaryDirectory(prefix="migration-check-prisma-") as folder:
        sql_file = Path(folder) / "prisma.sql"
        sql_file.write_text(rendered)
        snapshot = declared_snapshot(replay.admin, replay.conn, replay.setup_scripts, sql_file, Path(folder))
    return compare(snapshot, f"the Prisma schema {relative}", file=relative, kinds_not_declared=prisma.NOT_EXPRESSIBLE,
                   fields_not_declared=prisma.NOT_EXPRESSIBLE_FIELDS)
