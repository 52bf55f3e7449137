"""An existing server, given by URL: the tool works only in a throwaway database of its own.

It creates `migration_check_<random>` with the URL's credentials, runs everything there, and drops
it at the end (forcing out its own leftover sessions). Nothing else on the server is touched,
except cluster-wide objects such as roles that the migrations themselves create.
"""

from __future__ import annotations

import re
import secrets
import socket
import time
import urllib.parse

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from migration_check.errors import UsageError
from migration_check.replay.restore import REBUILD_SUFFIX
from migration_check.servers.base import (
    LABEL,
    Database,
    Provider,
    connect,
    create_database,
    drop_database,
    label_database,
    process_alive,
)

DATABASE_PREFIX = "migration_check_"
ORPHAN_AGE_SECONDS = 24 * 3600


class UrlProvider(Provider):
    def __init__(self, url: str) -> None:
        try:
            self._params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise UsageError(f"--database-url is not a valid PostgreSQL URL: {without_url(str(exc), url)}") from None
        self._url = url
        self._database: str | None = None

    def start(self) -> Database:
        name = DATABASE_PREFIX + secrets.token_hex(6)
        with connect(self._url) as admin:
            reap_orphaned_databases(admin)
            create_database(admin, name)
            self._database = name
            label_database(admin, name)
            version = admin.info.server_version
            host = admin.info.host
            superuser = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        description = f"database {name} on {host} (PostgreSQL {version // 10000}.{version % 10000})"
        if superuser and superuser[0]:
            # Migrations are untrusted code: as a superuser they could run programs on that server.
            description += ("; WARNING: the URL's role is a superuser, so migrations run as one on a server"
                            " the tool does not confine: give a role with only CREATEDB (and CREATEROLE)")
        return Database(conninfo=make_conninfo(self._url, dbname=name), server_version=version, description=description)

    def stop(self) -> None:
        name, self._database = self._database, None
        if name is None:
            return
        with connect(self._url) as admin:
            # The run's database, and those that replaced it when the replay rebuilt a state
            # (replay/restore.py names them <name>_r<n>).
            names = [row[0] for row in admin.execute(
                "SELECT datname FROM pg_database WHERE datname = %s OR starts_with(datname, %s)",
                (name, name + REBUILD_SUFFIX)).fetchall()]
            for database in names:
                drop_database(admin, database)


def reap_orphaned_databases(admin: psycopg.Connection) -> list[str]:
    """Drop the throwaway databases of runs that died without cleaning up: labelled by this tool,
    and either made on this host by a process that is gone, or older than a day. Databases this
    role may not drop, or without the label, are left alone."""
    rows = admin.execute(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE starts_with(datname, %s)",
        (DATABASE_PREFIX,)).fetchall()
    reaped = []
    for name, label in rows:
        fields = dict(part.split("=", 1) for part in (label or "").split()[1:] if "=" in part)
        if not (label or "").startswith(LABEL) or not fields.get("pid", "").isdigit():
            continue
        mine = fields.get("host") == socket.gethostname()
        dead = mine and not process_alive(int(fields["pid"]))
        old = time.time() - int(fields.get("started", "0") or 0) > ORPHAN_AGE_SECONDS
        if dead or old:
            try:
                drop_database(admin, name)
                reaped.append(name)
            except psycopg.Error:
                continue
    return reaped


def url_secrets(url: str) -> list[str]:
    """The password of a URL or conninfo string, as written and decoded; for a string no parser
    accepts, what stands between the user's `:` and the last `@`. Never raises."""
    found: set[str] = set()
    try:
        password = conninfo_to_dict(url).get("password")
        if password:
            found.add(str(password))
    except psycopg.ProgrammingError:
        pass
    _, _, rest = url.partition("://")
    userinfo = rest.rpartition("@")[0] if "@" in rest else ""
    if ":" in userinfo:
        found.add(userinfo.split(":", 1)[1])
    decoded = {urllib.parse.unquote(value) for value in found}
    encoded = {urllib.parse.quote(value, safe="") for value in decoded}
    return sorted(value for value in found | decoded | encoded if value.strip())


def without_url(message: str, url: str) -> str:
    """A parser's message about `url` with neither the URL, nor its password, nor any quoted piece of
    it: libpq quotes the offending fragment, which may be the password itself."""
    text = " ".join(message.split()).replace(url, "<the URL>")
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return re.sub(r'"[^"]*"', '"..."', text)


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<invalid url>"
    params.pop("password", None)
    return make_conninfo("", **params)
