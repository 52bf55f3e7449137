"""The pytest plugin (entry point `pytest11`): the team's own tests of what its migrations do.

    def test_tables_after_the_baseline(migration_db):
        migration_db.migrate(to="20250901090000")
        assert "public.users" in migration_db.tables()

Configured by `--migrations DIR`, or `migrations = DIR` in the ini options, or the `path` of
`[tool.migration-check]` (the config file is read as the CLI reads it: setup scripts, server
options). One disposable server per session (local binaries by default, or the config's
`postgres-image` / `--migration-check-database-url`); one database per test, copied from a template
that already has the setup scripts, and dropped after it, with the roles the test's migrations made.
`--migration-check-builtin` adds the tool's own checks as test items, one per migration and check.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from migration_check.config import resolve_settings
from migration_check.discovery import discover
from migration_check.model import Project
from migration_check.presets import setup_scripts, wanted_extensions
from migration_check.replay.executor import execute_script
from migration_check.replay.restore import FreshDatabases
from migration_check.servers import make_provider
from migration_check.servers.base import Database, connect, connect_like, create_database, drop_database
from migration_check.settings import Settings
from migration_check.testing.builtin import add_builtin_items
from migration_check.testing.database import MigrationDatabase

_names = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migration-check", "migration-check: tests of migration behaviour")
    group.addoption("--migrations", metavar="DIR", help="the migrations directory or repository root")
    group.addoption("--migration-check-database-url", metavar="URL",
                    help="use throwaway databases on this server instead of local PostgreSQL binaries")
    group.addoption("--migration-check-builtin", action="store_true",
                    help="also run migration-check's own checks, one test per migration and check")
    parser.addini("migrations", "the migrations directory or repository root, for the migration_db fixture")


def plugin_settings(config: pytest.Config) -> Settings:
    """The CLI's settings, for the directory the options name (relative to pytest's rootdir)."""
    given = config.getoption("--migrations") or config.getini("migrations") or None
    values: dict[str, Any] = {"quiet": True}
    if given:
        path = Path(given)
        values["path"] = path if path.is_absolute() else Path(config.rootpath) / path
    else:
        values["path"] = Path(config.rootpath)
    if config.getoption("--migration-check-database-url"):
        values["database_url"] = config.getoption("--migration-check-database-url")
    return resolve_settings(values)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--migration-check-builtin"):
        add_builtin_items(session, plugin_settings(config), items)


@pytest.fixture(scope="session")
def migration_settings(pytestconfig: pytest.Config) -> Settings:
    return plugin_settings(pytestconfig)


@pytest.fixture(scope="session")
def migrations(migration_settings: Settings) -> Project:
    """The discovered project: its migrations, in order, for parametrising tests."""
    return discover(migration_settings.path, migration_settings.format, ignore=migration_settings.ignore,
                    values=migration_settings.vars)


@pytest.fixture(scope="session")
def migration_server(migration_settings: Settings, migrations: Project) -> Iterator[Database]:
    """The session's disposable PostgreSQL (removed at the end of the session): as for `check`,
    the local installation as new as the one the project runs, that has the extensions the
    migrations create."""
    setup = setup_scripts(migrations, migration_settings.setup,
                          within_repository=not migration_settings.setup_from_command_line)
    with make_provider(migration_settings, *wanted_extensions(migrations, setup), repo_root=migrations.repo_root) as database:
        yield database


@pytest.fixture(scope="session")
def _migration_template(migration_server: Database, migrations: Project, migration_settings: Settings) -> Iterator[_Template]:
    template = _Template(migration_server, migrations, migration_settings)
    try:
        yield template
    finally:
        template.close()


@pytest.fixture
def migration_db(_migration_template: _Template) -> Iterator[MigrationDatabase]:
    """A fresh database with the setup scripts and no migration applied yet."""
    with _migration_template.database() as database:
        yield database


class _Template:
    """A database with the setup scripts run, copied for each test (CREATE DATABASE ... TEMPLATE)."""

    def __init__(self, server: Database, project: Project, settings: Settings) -> None:
        self.project = project
        self.admin = connect(server.admin)
        self.owner = connect(server.conninfo)
        self.roles = FreshDatabases(self.admin)  # the roles that existed: the others a test made go
        self.name = f"{self.admin.info.dbname}_template"
        self._create(setup_scripts(project, settings.setup, within_repository=not settings.setup_from_command_line))

    def _create(self, setup: list[Any]) -> None:
        drop_database(self.admin, self.name)
        create_database(self.admin, self.name, self.owner.info.user)
        with contextlib.closing(connect_like(self.owner, dbname=self.name)) as conn:
            for script in setup:
                execute_script(conn, script)

    @contextlib.contextmanager
    def database(self) -> Iterator[MigrationDatabase]:
        name = f"{self.admin.info.dbname}_test{next(_names)}"
        create_database(self.admin, name, self.owner.info.user, template=self.name)
        try:
            with contextlib.closing(connect_like(self.owner, dbname=name)) as conn:
                yield MigrationDatabase(self.project, conn)
        finally:
            drop_database(self.admin, name)
            with contextlib.suppress(psycopg.Error):
                self.roles.drop_run_roles(self.admin)

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            drop_database(self.admin, self.name)
        self.owner.close()
        self.admin.close()
