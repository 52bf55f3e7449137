"""Put the database back in the state the ups produce, after a round trip that left it elsewhere.

A rollback that forgets an index, an enum value that cannot be removed, an up that does not apply
again: each is a finding for that migration, but the later migrations must still be judged, and on
the state a real deployment would have. That state is rebuilt, never guessed: a fresh database on
the same server, the setup scripts, then every up that has run so far, in order, without round
trips. Roles are cluster-wide, so the roles this run created are dropped first (the ups create them
again), and roles that existed before the run get back the attributes they had (a migration may
have run `ALTER ROLE postgres NOSUPERUSER`). The cost is one replay of the ups for each imperfect
round trip. All of it runs through the tool's admin connection, which migrations never use.
"""

from __future__ import annotations

import contextlib

import psycopg
from psycopg import sql

from migration_check.servers.base import connect_like, create_database, drop_database

# Databases made by a rebuild are named after the run's own, so the provider that made it finds
# and drops them too (servers/url.py).
REBUILD_SUFFIX = "_r"
# Role attributes a migration can change and a rebuild restores (pg_roles column, keyword).
_ATTRIBUTES = (("rolsuper", "SUPERUSER"), ("rolinherit", "INHERIT"), ("rolcreaterole", "CREATEROLE"),
               ("rolcreatedb", "CREATEDB"), ("rolcanlogin", "LOGIN"), ("rolreplication", "REPLICATION"),
               ("rolbypassrls", "BYPASSRLS"))


class FreshDatabases:
    """Swaps the run's database for a fresh, empty one on the same server, leaving nothing behind."""

    def __init__(self, admin: psycopg.Connection) -> None:
        self._base = admin.info.dbname
        self._count = 0
        # Roles that existed before the run (and its setup), with their attributes: never dropped.
        self._roles_before = _roles(admin)

    def replace(self, conn: psycopg.Connection, admin: psycopg.Connection) -> tuple[psycopg.Connection, psycopg.Connection]:
        """New (migration, admin) connections to a new empty database, owned by the migration role;
        the old database and the run's roles are gone. Raises psycopg.Error when the server refuses."""
        self._count += 1
        name = f"{self._base}{REBUILD_SUFFIX}{self._count}"
        old, owner = conn.info.dbname, conn.info.user
        create_database(admin, name, owner, run_of=old)  # the run's label goes with its state
        new_admin = connect_like(admin, dbname=name)
        try:
            fresh = connect_like(conn, dbname=name)
        except BaseException:
            new_admin.close()
            raise
        conn.close()
        admin.close()
        try:
            drop_database(new_admin, old)
            self.drop_run_roles(new_admin)
            self._restore_roles(new_admin)
        except BaseException:
            for connection in (fresh, new_admin):
                with contextlib.suppress(psycopg.Error):
                    connection.close()
            raise
        return fresh, new_admin

    def drop_run_roles(self, admin: psycopg.Connection) -> None:
        """Drop the roles this run created (what they own in `admin`'s database goes with them), so
        that no role outlives the run on a shared server."""
        for role in sorted(_roles(admin).keys() - self._roles_before.keys()):
            name = sql.Identifier(role)
            try:
                _drop_role(admin, name)
            except psycopg.errors.InsufficientPrivilege:
                # PostgreSQL 16+: a CREATEROLE role (a managed server's) holds only ADMIN on the
                # roles it made; taking on the role's privileges lets it drop what the role owns.
                admin.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(name))
                _drop_role(admin, name)

    def _restore_roles(self, admin: psycopg.Connection) -> None:
        now = _roles(admin)
        for role, attributes in sorted(self._roles_before.items()):
            if role in now and now[role] != attributes:
                options = sql.SQL(" ").join(sql.SQL(keyword if value else f"NO{keyword}")
                                            for (_, keyword), value in zip(_ATTRIBUTES, attributes, strict=True))
                admin.execute(sql.SQL("ALTER ROLE {} WITH {}").format(sql.Identifier(role), options))


def _drop_role(admin: psycopg.Connection, name: sql.Identifier) -> None:
    admin.execute(sql.SQL("DROP OWNED BY {}").format(name))
    admin.execute(sql.SQL("DROP ROLE {}").format(name))


def _roles(conn: psycopg.Connection) -> dict[str, tuple[bool, ...]]:
    columns = sql.SQL(", ").join(sql.Identifier(column) for column, _ in _ATTRIBUTES)
    query = sql.SQL("SELECT rolname, {} FROM pg_roles").format(columns)
    return {row[0]: tuple(row[1:]) for row in conn.execute(query).fetchall()}
