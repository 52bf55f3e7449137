"""The user's own rows: seed files (`--seed`, config `seed`, Supabase's `supabase/seed.sql`).

A seed is written for the final schema, but its rows are most useful early: every rollback after
the point where it loads is checked against them. So each seed is loaded where it fits, before the
first migration at which every table it names exists and it runs without error; until then it is
tried again after each migration that touches one of its tables. A seed that never fits is tried
once more after the last migration, where the runner itself would load it; failing there is a
finding (the runner's `db reset` would fail too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from migration_check.data.watch import mentioned_tables
from migration_check.discovery.base import read_sql
from migration_check.discovery.baselines import statement_creating
from migration_check.errors import UsageError
from migration_check.model import CheckResult, Migration, Project, Script, Status
from migration_check.presets.platform import supabase_hint
from migration_check.replay.executor import ScriptFailed, execute_script

_EXISTING = "SELECT DISTINCT relname::text FROM pg_class WHERE relname = ANY(%s) AND relkind IN ('r', 'p', 'v', 'f')"


def _existing(conn: psycopg.Connection, names: set[str]) -> set[str]:
    return {name for (name,) in conn.execute(_EXISTING, (sorted(names),)).fetchall()}


def seed_scripts(project: Project, requested: list[str], within_repository: bool = True) -> list[Script]:
    """The seed files asked for (from the working directory or the repository root), then the
    layout's own; each once."""
    paths: list[Path] = []
    for entry in requested:
        path = Path(entry)
        candidate = next((c for c in ([path] if path.is_absolute() else [path, project.repo_root / path]) if c.is_file()), None)
        if candidate is None:
            raise UsageError(f"--seed {entry}: no such file")
        candidate = candidate.resolve()
        if within_repository and not candidate.is_relative_to(project.repo_root.resolve()):
            raise UsageError(f"seed {entry}: {candidate} is outside the repository;"
                             " seed files named by the config are read only from the repository")
        paths.append(candidate)
    paths += [seed.resolve() for seed in project.seeds]
    unique = list(dict.fromkeys(paths))
    return [Script(path, read_sql(path), root=project.repo_root.resolve()) for path in unique]


@dataclass
class _Seed:
    script: Script
    names: set[str]
    loaded_before: str | None = None  # the migration it was loaded before; "" after the last one
    failure: ScriptFailed | None = None

    @property
    def loaded(self) -> bool:
        return self.loaded_before is not None


class Seeds:
    def __init__(self, scripts: list[Script]) -> None:
        self._seeds = [_Seed(script, mentioned_tables([script])) for script in scripts]

    def __bool__(self) -> bool:
        return bool(self._seeds)

    def load(self, conn: psycopg.Connection, before: str, changed: set[str] | None) -> None:
        """Load each pending seed that fits now. `changed`: the tables the last migration named
        (None: anything may have changed, as after a rebuild)."""
        for seed in self._seeds:
            if seed.loaded or (seed.failure is not None and changed is not None and not seed.names & changed):
                continue
            if _existing(conn, seed.names) != seed.names:
                continue
            try:
                execute_script(conn, seed.script)
            except ScriptFailed as failure:
                seed.failure = failure
                continue
            seed.loaded_before = before

    def reset(self) -> None:
        """The database was rebuilt without rows: the seeds are loaded again where they fit."""
        for seed in self._seeds:
            seed.loaded_before = None

    def results(self, project: Project, conn: psycopg.Connection, supabase_preset_ran: bool = False,
                not_applied: Sequence[Migration] = ()) -> list[CheckResult]:
        """One case per seed, after the last migration. A table it names that a migration which
        did not apply here makes (chatbot-ui's first migration needs an extension this server
        lacks) is missing because of that migration: the seed is not judged."""
        self.load(conn, "", None)
        results = []
        for seed in self._seeds:
            relative = project.relative(seed.script.path) or str(seed.script.path)
            subject = f"seed {relative}"
            if seed.loaded_before:
                results.append(CheckResult("data", subject, Status.PASSED, file=relative, line=1,
                                           message=f"loaded before {seed.loaded_before}; its rows are checked"
                                                   " through every later rollback"))
            elif seed.loaded:
                results.append(CheckResult("data", subject, Status.PASSED, file=relative, line=1,
                                           message="loaded after the last migration"))
            elif seed.failure is None and (maker := _made_by_one_not_applied(
                    project, sorted(seed.names - _existing(conn, seed.names)), not_applied)):
                results.append(CheckResult("data", subject, Status.SKIPPED, file=relative, line=1,
                                           message=f"not judged: it names {maker}, a migration that did not apply here"))
            elif seed.failure is None:
                missing = sorted(seed.names - _existing(conn, seed.names))
                results.append(CheckResult("data", subject, Status.FAILED, file=relative, line=1,
                                           message=f"the seed names tables that do not exist after the last migration:"
                                                   f" {', '.join(missing)}"))
            else:
                failure = seed.failure
                where = project.relative(failure.path) or str(failure.path)
                platform = supabase_hint(failure.sqlstate, failure.message, supabase_preset_ran)
                results.append(CheckResult("data", subject, Status.FAILED, file=where, line=failure.line or 1,
                                           message=f"the seed does not load after the last migration: {failure.summary(where)}"
                                                   + (f" {platform}" if platform else ""),
                                           details=failure.body(where)))
        return results


def _made_by_one_not_applied(project: Project, missing: list[str], not_applied: Sequence[Migration]) -> str | None:
    """`workspaces, made by supabase/migrations/x.sql:12` for the first missing table that a
    migration which did not apply makes, else None."""
    for table in missing:
        for migration in not_applied:
            if migration.up is not None and (statement := statement_creating(migration.up, table)) is not None:
                return f"{table}, made by {project.relative(statement.path)}:{statement.line}"
    return None
