"""A live database (staging, a read-only replica of production), read and never written.

The connection asks for read-only transactions (`default_transaction_read_only`), and the only
statements sent are the snapshot's: a prepared SELECT of the catalogs, in the session. No
database, role, table or temporary object is created there, and the password never appears in
a message (errors are reported without the URL's secrets).
"""

from __future__ import annotations

import contextlib

import psycopg

from migration_check.errors import InfrastructureError
from migration_check.schema.snapshot import Snapshot, take_snapshot
from migration_check.servers.url import without_url


def live_snapshot(url: str) -> Snapshot:
    try:
        with contextlib.closing(psycopg.connect(url, autocommit=True, connect_timeout=10,
                                                options="-c default_transaction_read_only=on")) as conn:
            return take_snapshot(conn)
    except psycopg.Error as error:
        raise InfrastructureError(f"--drift-url: {without_url(str(error), url)}") from None
