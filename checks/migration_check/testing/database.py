"""The `migration_db` fixture's object: one fresh database of the session's disposable server, with
the project's migrations to apply and roll back, one at a time, the way the runner does.

    def test_backfill_fills_every_row(migration_db):
        migration_db.migrate(to="20250906120000")
        migration_db.execute("insert into users (email) values ('a@example.com')")
        migration_db.migrate(to="20250912080000")
        assert migration_db.execute("select count(*) from users where domain is null") == [(0,)]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from migration_check.discovery.base import read_sql
from migration_check.model import Migration, Project, Script
from migration_check.replay.executor import ScriptFailed, execute_script
from migration_check.schema.snapshot import Snapshot, take_snapshot


class MigrationError(AssertionError):
    """A migration (or a rollback) did not run: the message is the tool's file:line one."""


class MigrationDatabase:
    def __init__(self, project: Project, connection: psycopg.Connection) -> None:
        self.project = project
        self._conn = connection
        self._applied: list[Migration] = []

    @property
    def connection(self) -> psycopg.Connection:
        return self._conn

    @property
    def version(self) -> str | None:
        """The version last applied, or None."""
        return self._applied[-1].version if self._applied else None

    @property
    def applied(self) -> list[Migration]:
        return list(self._applied)

    def migrate(self, to: str | None = None) -> MigrationDatabase:
        """Apply the migrations after the current one up to and including `to` (a version or a
        migration id; all when None), each as its runner would (the layout's transaction rules). Where
        the project keeps alternative histories (Migration.history), those of one: `to`'s, else the
        one applied so far, else the last, which a run ends on."""
        pending = self._history(to)[len(self._applied):]
        target = self._index(pending, to) if to is not None else len(pending) - 1
        for migration in pending[:target + 1]:
            if migration.up is not None and not migration.skip_reason:
                self._run(migration.up, f"{migration.id} does not apply")
            self._applied.append(migration)
        return self

    def rollback(self, to: str | None = None) -> MigrationDatabase:
        """Roll back the applied migrations, newest first, down to but not including `to` (all when None)."""
        stop = self._index(self._applied, to) + 1 if to is not None else 0
        while len(self._applied) > stop:
            migration = self._applied[-1]
            if migration.down is None:
                raise MigrationError(f"{migration.id} has no rollback to run")
            self._run(migration.down, f"the rollback of {migration.id} does not run")
            self._applied.pop()
        return self

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run one statement; its rows (an empty list for a statement that returns none)."""
        with self._conn.cursor() as cursor:
            cursor.execute(sql.encode() if params is None else sql, params)
            return list(cursor.fetchall()) if cursor.description is not None else []

    def load(self, sql_or_path: str | Path) -> None:
        """Run a SQL file (seed rows, say) or SQL text, as psql would."""
        path = Path(sql_or_path) if not isinstance(sql_or_path, str) or sql_or_path.endswith(".sql") else None
        script = Script(path, read_sql(path)) if path is not None else Script(Path("<sql>"), str(sql_or_path))
        self._run(script, "the SQL does not run")

    def schema(self) -> Snapshot:
        """The schema now, as the round trip compares it: {(kind, name): definition}."""
        return take_snapshot(self._conn)

    def tables(self) -> set[str]:
        """The tables, qualified: {'public.users', ...}."""
        return {name for kind, name in self.schema().objects() if kind == "table"}

    def _run(self, script: Script, what: str) -> None:
        try:
            execute_script(self._conn, script)
        except ScriptFailed as failure:
            relative = self.project.relative(failure.path) or str(failure.path)
            raise MigrationError(f"{what}: {failure.summary(relative)}") from None

    def _history(self, to: str | None) -> list[Migration]:
        migrations = self.project.migrations
        wanted = next((m.history for m in migrations if to in (m.version, m.id)), None) if to is not None else None
        current = self._applied[-1].history if self._applied else None
        if wanted is not None and current is not None and wanted != current:
            raise MigrationError(f"{to} is in the {wanted} history; this database follows the {current} one")
        history = wanted if wanted is not None else current if current is not None else \
            (migrations[-1].history if migrations else "")
        return [migration for migration in migrations if migration.history == history]

    @staticmethod
    def _index(migrations: list[Migration], to: str) -> int:
        for index, migration in enumerate(migrations):
            if to in (migration.version, migration.id):
                return index
        known = ", ".join(m.version for m in migrations) or "none"
        raise MigrationError(f"no migration {to!r} here (versions: {known})")
