"""Snapshots taken again and again on one connection, as the round trip does (three per migration).

`SnapshotSession.take()` returns exactly what `take_snapshot` would return at that moment.
"""

from __future__ import annotations

import psycopg

from migration_check.schema.snapshot import Snapshot, take_snapshot


class SnapshotSession:
    def __init__(self, conn: psycopg.Connection, *, owners_and_grants: bool = False) -> None:
        self.conn = conn
        self.owners_and_grants = owners_and_grants

    def take(self) -> Snapshot:
        return take_snapshot(self.conn, owners_and_grants=self.owners_and_grants)
