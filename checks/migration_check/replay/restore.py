"""Put the database back in the state the ups produce, after a round trip that left it elsewhere.

A rollback that forgets an index, an enum value that cannot be removed, an up that does not apply
again: each is a finding for that migration, but the later migrations must still be judged, and on
the state a real deployment would have. That state is rebuilt, never guessed: a fresh database on
the same server, the setup scripts, then every up that has run so far, in order, without round
trips. Roles are cluster-wide, so the roles this run created are dropped first and the ups create
them again. The cost is one replay of the ups for each imperfect round trip.
"""

from __future__ import annotations

import contextlib

import psycopg
from psycopg import sql

from migration_check.servers.base import connect_like

# Databases made by a rebuild are named after the run's own, so the provider that made it finds
# and drops them too (servers/url.py).
REBUILD_SUFFIX = "_r"


class FreshDatabases:
    """Swaps the run's database for a fresh, empty one on the same server, leaving nothing behind."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._base = conn.info.dbname
        self._count = 0
        # Roles that existed before the run (and its setup): never dropped.
        self._roles_before = _roles(conn)

    def replace(self, conn: psycopg.Connection) -> psycopg.Connection:
        """A connection to a new empty database; `conn`'s database and the run's roles are gone.
        Raises psycopg.Error when the server refuses (the caller reports it)."""
        self._count += 1
        name = f"{self._base}{REBUILD_SUFFIX}{self._count}"
        old = conn.info.dbname
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        fresh = connect_like(conn, dbname=name)
        try:
            conn.close()
            fresh.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(old)))
            self.drop_run_roles(fresh)
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                fresh.close()
            raise
        return fresh


    def drop_run_roles(self, conn: psycopg.Connection) -> None:
        """Drop the roles this run created (what they own in `conn`'s database goes with them), so
        that no role outlives the run on a shared server."""
        for role in sorted(_roles(conn) - self._roles_before):
            name = sql.Identifier(role)
            conn.execute(sql.SQL("DROP OWNED BY {}").format(name))
            conn.execute(sql.SQL("DROP ROLE {}").format(name))


def _roles(conn: psycopg.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
