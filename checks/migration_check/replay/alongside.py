"""Two sessions, two cores: one call on a worker thread while another runs on the calling thread.

The replay takes each snapshot on the migration's session while the families observe on the tool's
own (the rows' copies and fingerprints, the constraints, the lock files). The server runs each
session on its own backend, and psycopg releases the GIL while it waits for the server, so the two
sets of queries run at the same time instead of in turn. Each connection stays with one thread: the
worker touches only what its call touches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

# How long an interrupted run waits for the worker's call to end once its query is cancelled.
CANCEL_WAIT = 10.0


class Worker(threading.Thread, Generic[T]):
    """`call()` on a thread of its own, its result or its error kept for the caller."""

    def __init__(self, call: Callable[[], T]) -> None:
        # A daemon: a worker stuck on a dead server never holds the process (the caller has
        # already cancelled it and given up on it).
        super().__init__(name="migration-check-alongside", daemon=True)
        self._call = call
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._call()
        except BaseException as error:  # handed to the caller, which raises it
            self.error = error


def alongside(background: Callable[[], T], foreground: Callable[[], None], *, cancel: Callable[[], None]) -> T:
    """Run `background()` on a worker thread while `foreground()` runs here; the background's result.

    An error of the foreground is raised first (the background's own, if any, is dropped: the run
    stops either way); then an error of the background. When the foreground is interrupted
    (Ctrl-C, SIGTERM), `cancel()` stops the background's query and the worker is waited for before
    the interruption goes on, so that the cleanup never closes a connection under it.
    """
    worker: Worker[T] = Worker(background)
    worker.start()
    try:
        foreground()
        worker.join()
    except BaseException:
        if worker.is_alive():
            try:
                cancel()
            finally:
                worker.join(CANCEL_WAIT)
        raise
    if worker.error is not None:
        raise worker.error
    return worker.result  # type: ignore[return-value]
