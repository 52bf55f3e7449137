"""Shared fixtures: one real PostgreSQL for the whole test session, started by the project's own
local provider, and a fresh throwaway database per test on it (the url provider's job)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migration_check.discovery import discover
from migration_check.model import Script
from migration_check.replay.runner import Replay
from migration_check.servers.base import Database
from migration_check.servers.local import LocalProvider
from migration_check.servers.url import UrlProvider
from migration_check.settings import Settings

# The Docker fixtures (docker_engine, action_image) for every test module that asks for them.
pytest_plugins = ["docker_support", "pytester"]

FIXTURES = Path(__file__).parent / "fixtures"


def _sigterm_is_an_interrupt(signum: int, frame: object) -> None:
    # `timeout` and CI runners send SIGTERM: unwind like Ctrl-C, so the session's server and its
    # temp dir are removed by the fixtures' teardown instead of being left behind.
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _sigterm_is_an_interrupt)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Database]:
    """A real local PostgreSQL cluster for the session; its `conninfo` can be a --database-url."""
    with LocalProvider() as database:
        yield database


@pytest.fixture
def database(pg_server: Database) -> Iterator[Database]:
    """A fresh, empty database of this test's own, dropped afterwards."""
    with UrlProvider(pg_server.conninfo) as db:
        yield db


@pytest.fixture
def conn(database: Database) -> Iterator[psycopg.Connection]:
    with contextlib.closing(psycopg.connect(database.conninfo, autocommit=True)) as connection:
        yield connection


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Create `files` (relative path -> text, dedented) under `root`; returns `root`."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def replayed(pg_server: Database, root: Path, setup: list[str], layout: str = "timestamp",
             directory: str = "migrations") -> tuple[list[tuple[str, str, str, str]], Replay]:
    """Every case (subject, check, status, message) of a replay of `root`/`directory` (in `layout`)
    after the `setup` scripts, in a database of its own; and the replay, closed (its counts)."""
    project = discover(root / directory, layout)
    with UrlProvider(pg_server.conninfo) as database, psycopg.connect(database.conninfo, autocommit=True) as conn:
        replay = Replay(project, conn, Settings())
        replay.run_setup([Script(root / name, (root / name).read_text()) for name in setup])
        cases = [(r.subject, r.check, r.status.value, r.message or "") for o in replay.outcomes() for r in o.results]
        replay.close()
    return cases, replay


@pytest.fixture
def shared_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp dir the server's unprivileged user can reach, used as the process's temp dir."""
    shared = Path(tempfile.mkdtemp(prefix="mc-test-", dir="/tmp"))
    shared.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    yield shared
    subprocess.run(["rm", "-rf", str(shared)], check=False)
