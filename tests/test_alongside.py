"""Snapshots taken while the families observe (replay/alongside.py): both calls run at once, errors
reach the caller, and an interrupted run cancels the worker's query and waits for it before the
cleanup goes on. With real PostgreSQL sessions where a query is involved."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from migration_check.replay.alongside import alongside
from migration_check.servers.base import Database


def test_both_calls_run_at_the_same_time() -> None:
    started = threading.Event()

    def background() -> str:
        assert started.wait(10), "the foreground never ran while the background did"
        return "snapshot"

    # The background waits for the foreground: run one after the other, this would never end.
    assert alongside(background, started.set, cancel=lambda: None) == "snapshot"


def test_an_error_of_either_side_reaches_the_caller() -> None:
    def failing() -> None:
        raise ValueError("background failed")

    with pytest.raises(ValueError, match="background failed"):
        alongside(failing, lambda: None, cancel=lambda: None)

    def foreground() -> None:
        raise KeyError("foreground failed")

    with pytest.raises(KeyError, match="foreground failed"):
        alongside(failing, foreground, cancel=lambda: None)


def test_an_interruption_cancels_the_query_and_waits_for_the_worker(pg_server: Database) -> None:
    with psycopg.connect(pg_server.conninfo, autocommit=True) as conn, \
            psycopg.connect(pg_server.conninfo, autocommit=True) as watcher:
        ended = threading.Event()
        pid = conn.info.backend_pid

        def slow_snapshot() -> None:
            try:
                conn.execute("SELECT pg_sleep(60)")
            finally:
                ended.set()

        def interrupted() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not watcher.execute(
                    "SELECT FROM pg_stat_activity WHERE pid = %s AND query LIKE '%%pg_sleep%%'", (pid,)).fetchall():
                time.sleep(0.01)
            raise KeyboardInterrupt

        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            alongside(slow_snapshot, interrupted, cancel=conn.cancel)
        # The worker's query was cancelled and had ended before the interruption went on.
        assert ended.is_set()
        assert time.monotonic() - started < 30
        assert conn.execute("SELECT 1").fetchone() == (1,)
