"""SIGINT and SIGTERM end a run through normal unwinding, so every server, container and temp dir
is removed by the code that made it. Cleanup itself must not be cut short by a second signal."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from migration_check.errors import Interrupted

HANDLED = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def raise_interrupted() -> Iterator[None]:
    """Within the block, the first SIGINT/SIGTERM raises `Interrupted`; later ones are ignored."""
    received: list[str] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if received:
            return
        received.append(signal.Signals(signum).name)
        raise Interrupted(received[0])

    with _handlers(handler):
        yield


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block signals are held back; the first one is re-raised as `Interrupted` after it.

    For cleanup: stopping a server must finish even when SIGTERM arrives in the middle of it.
    """
    received: list[str] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)

    with _handlers(handler):
        yield
    if received:
        raise Interrupted(received[0])


@contextlib.contextmanager
def ignored() -> Iterator[None]:
    with _handlers(signal.SIG_IGN):
        yield


@contextlib.contextmanager
def _handlers(handler: object) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; it is the one that gets signals anyway
        return
    previous = {sig: signal.signal(sig, handler) for sig in HANDLED}  # type: ignore[arg-type]
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
