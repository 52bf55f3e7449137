"""A throwaway PostgreSQL from a Docker image, through testcontainers: any image that behaves like
the official one (`postgres:13`..`18`, `postgis/postgis`, `supabase/postgres`), for version
matrices and extensions. testcontainers is an optional extra, imported only here.

How the container is reached depends on where this process runs (see `plan_route`):
- on the Docker host (a laptop, a CI job): port 5432 is published on 127.0.0.1 only;
- in a container of the same engine (the GitHub container action, with the socket mounted): the
  database joins our network and is reached at its own address, with no port published;
- `TESTCONTAINERS_HOST_OVERRIDE` (or `TC_HOST`) names the host where published ports are
  reachable (a remote engine): then we publish there and connect there, as testcontainers does.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import time
import types
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from migration_check.errors import InfrastructureError, MigrationCheckError
from migration_check.servers.base import (
    ADMIN_ROLE,
    DEFAULT_MIGRATION_ROLE,
    REPLAY_DATABASE,
    Database,
    Provider,
    connect,
    prepare_roles,
)

SUPERUSER = "postgres"  # every postgres-like image accepts it; some (supabase) need it
DATABASE = REPLAY_DATABASE
PORT = 5432
STARTUP_SECONDS = 120
NAME_PREFIX = "migration-check-"
# On every container we start: its name, and who started it (our own container id when we are a
# sibling, else host:pid), so that leftovers of a given run can be found.
LABEL = "org.migration-check.run"
PARENT_LABEL = "org.migration-check.parent"
# Durability is pointless for a database that is thrown away, and so is compiling plans (JIT) for
# its few rows; these are reloadable, so they work whatever command line the image's entry point uses.
FAST_SETTINGS = {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off", "jit": "off"}
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Route:
    """How to reach the database container from this process."""

    network: str | None  # join this Docker network (ours), or None for the engine's default
    bind_ip: str | None  # publish 5432 on this host address ("" = all), or None: publish nothing
    host: str | None  # connect here; None = the container's own address on `network`
    why: str
    parent: str = ""  # our own container's id, when we run in one


PORT_SETTLE_SECONDS = 3


class DockerProvider(Provider):
    def __init__(self, image: str, startup_seconds: float = STARTUP_SECONDS,
                 migration_role: str = DEFAULT_MIGRATION_ROLE) -> None:
        self.image = image
        self._startup_seconds = startup_seconds
        self._migration_role = migration_role
        self._client: Any = None  # docker.DockerClient
        self._name: str | None = None
        self._container: Any = None  # testcontainers PostgresContainer

    def start(self) -> Database:
        tc = _testcontainers()
        self._client = docker_client()
        route = plan_route(self._client, os.environ)
        _ensure_image(self._client, self.image)
        _start_ryuk(tc, route)
        password = secrets.token_hex(16)
        # Named before it exists: if we are interrupted between "created" and "remembered", stop()
        # still finds it by name.
        self._name = NAME_PREFIX + secrets.token_hex(6)
        self._container = _postgres_container(tc, self.image, self._name, password, route)
        try:
            self._container.start()
        except MigrationCheckError:
            raise  # Interrupted by SIGTERM/SIGINT: stop() cleans up
        except Exception as exc:  # docker.errors.APIError and testcontainers' own: one line for the user
            raise InfrastructureError(f"cannot start a container from {self.image}: {_one_line(exc)}") from None
        host, port = self._address(route)
        conninfo = make_conninfo(host=host, port=port, user=SUPERUSER, password=password, dbname="postgres",
                                 connect_timeout=5)
        self._wait_until_ready(conninfo)
        with contextlib.closing(connect(conninfo)) as conn:
            _tune(conn)
            prepare_roles(conn, self._migration_role, DATABASE, password)
            version = conn.info.server_version
        return Database(
            conninfo=make_conninfo(conninfo, user=self._migration_role, dbname=DATABASE),
            admin_conninfo=make_conninfo(conninfo, user=ADMIN_ROLE, dbname=DATABASE),
            server_version=version,
            description=f"{self.image} in Docker (PostgreSQL {version // 10000}.{version % 10000}, {route.why})",
        )

    def stop(self) -> None:
        name, self._name = self._name, None
        container, self._container = self._container, None
        client, self._client = self._client, None
        if container is not None:
            with contextlib.suppress(Exception):  # testcontainers' own client; ours removes the container
                container.get_docker_client().client.close()
        if client is None:
            return
        try:
            if name is not None:
                _remove(client, name)
        finally:
            with contextlib.suppress(Exception):
                client.close()

    def _address(self, route: Route) -> tuple[str, int]:
        wrapped = self._container.get_wrapped_container()
        self._check_running(wrapped)  # an exited container has neither an address nor a port
        if route.bind_ip is None:
            networks: dict[str, dict[str, str]] = wrapped.attrs["NetworkSettings"]["Networks"]
            address = (networks.get(route.network or "bridge") or next(iter(networks.values()), {})).get("IPAddress")
            if not address:
                raise InfrastructureError(f"container {self._name} has no address on network {route.network}")
            return address, PORT
        # A container that exits just after the check above loses its port: look again for a
        # moment, so that an exit is reported as one (with its log line), not as a missing port.
        deadline = time.monotonic() + PORT_SETTLE_SECONDS
        while not (bindings := self._client.api.port(wrapped.id, PORT) or []):
            self._check_running(wrapped)
            if time.monotonic() > deadline:
                raise InfrastructureError(f"container {self._name}: port {PORT} was not published")
            time.sleep(0.1)
        return route.host or "127.0.0.1", int(bindings[0]["HostPort"])

    def _wait_until_ready(self, conninfo: str) -> None:
        """Until a connection from here succeeds. The official image first runs a temporary server on
        its unix socket only, so a TCP connection means the real one is up. A container that exits
        fails at once, with its last log line, instead of after the timeout."""
        wrapped = self._container.get_wrapped_container()
        deadline = time.monotonic() + self._startup_seconds
        while True:
            self._check_running(wrapped)
            try:
                psycopg.connect(conninfo, connect_timeout=2).close()
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise InfrastructureError(
                        f"{self.image}: PostgreSQL did not accept connections within {self._startup_seconds:.0f}s:"
                        f" {_one_line(exc)}"
                    ) from None
                time.sleep(0.25)

    def _check_running(self, wrapped: Any) -> None:
        wrapped.reload()
        if wrapped.status in ("exited", "dead"):
            raise InfrastructureError(f"{self.image} exited during start-up: {_last_log_line(wrapped)}")


def _postgres_container(tc: Any, image: str, name: str, password: str, route: Route) -> Any:
    container = tc.PostgresContainer(image, username=SUPERUSER, password=password, dbname="postgres", driver=None)
    container.with_name(name)
    # Readiness is judged from where we connect (see _wait_until_ready), not by `psql` inside the
    # container, which not every postgres-like image has on its PATH.
    container._connect = lambda: None
    container.ports = {} if route.bind_ip is None else {f"{PORT}/tcp": (route.bind_ip, None)}
    parent = route.parent or f"{socket.gethostname()}:{os.getpid()}"
    kwargs: dict[str, Any] = {"labels": {LABEL: name, PARENT_LABEL: parent}}
    if route.network:
        kwargs["network"] = route.network
    return container.with_kwargs(**kwargs)


# --- where we are and how to reach what we start ---------------------------------------------------

def plan_route(client: Any, env: Mapping[str, str]) -> Route:
    override = env.get("TC_HOST") or env.get("TESTCONTAINERS_HOST_OVERRIDE")
    if override:
        bind = "127.0.0.1" if override in LOOPBACK else ""
        return Route(None, bind, override, f"published on {override}")
    me = own_container(client)
    if me is not None:
        mode = me["HostConfig"].get("NetworkMode") or "default"
        if mode == "host":
            return Route(None, "127.0.0.1", "127.0.0.1", "host network", me["Id"])
        networks = list(me["NetworkSettings"].get("Networks") or {})
        network = mode if mode in networks else ("bridge" if mode == "default" and "bridge" in networks else None)
        network = network or (networks[0] if networks else None)
        if network:
            return Route(network, None, None, f"sibling container on network {network}", me["Id"])
    remote = _remote_docker_host(env)
    if remote:
        return Route(None, "", remote, f"published on {remote}")
    return Route(None, "127.0.0.1", "127.0.0.1", "published on 127.0.0.1")


def own_container(client: Any) -> dict[str, Any] | None:
    """Our own container's inspect data, when this process runs in a container of `client`'s engine.
    `/.dockerenv` is not enough: it also exists in containers of other engines and some VMs."""
    for candidate in _own_container_ids():
        with contextlib.suppress(Exception):
            return client.api.inspect_container(candidate)
    return None


def _own_container_ids() -> list[str]:
    ids: list[str] = []
    # Docker bind-mounts /etc/hostname etc. from /var/lib/docker/containers/<id>/ (cgroup v1 and v2).
    with contextlib.suppress(OSError):
        ids += re.findall(r"/containers/([0-9a-f]{64})/", Path("/proc/self/mountinfo").read_text())
    with contextlib.suppress(OSError):
        ids += re.findall(r"/docker[/-]([0-9a-f]{64})", Path("/proc/self/cgroup").read_text())
    # The default hostname is the short id.
    hostname = os.uname().nodename
    if re.fullmatch(r"[0-9a-f]{12,64}", hostname):
        ids.append(hostname)
    return list(dict.fromkeys(ids))


def _remote_docker_host(env: Mapping[str, str]) -> str | None:
    url = urllib.parse.urlsplit(env.get("DOCKER_HOST", ""))
    if url.scheme in ("tcp", "http", "https", "ssh") and url.hostname and url.hostname not in LOOPBACK:
        return url.hostname
    return None


# --- the engine ------------------------------------------------------------------------------------

def _testcontainers() -> Any:
    """The testcontainers pieces we use, with one message when the extra is not installed."""
    try:
        try:
            from testcontainers.community.postgres import PostgresContainer  # testcontainers >= 4.14
        except ImportError:
            from testcontainers.postgres import PostgresContainer
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import Reaper
    except ImportError:
        raise InfrastructureError(
            "--postgres-image needs testcontainers: pip install 'migration-check[docker]'"
        ) from None
    return types.SimpleNamespace(PostgresContainer=PostgresContainer, config=testcontainers_config, Reaper=Reaper)


def docker_client() -> Any:
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise InfrastructureError(
            f"--postgres-image needs a Docker engine, and none answers ({_one_line(exc)});"
            " start Docker, set DOCKER_HOST, or use local binaries / --database-url"
        ) from None
    return client


def _ensure_image(client: Any, image: str) -> None:
    import docker

    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.DockerException as exc:
        raise InfrastructureError(f"cannot inspect image {image}: {_one_line(exc)}") from None
    try:
        client.images.pull(image)
    except docker.errors.DockerException as exc:
        raise InfrastructureError(f"cannot pull image {image}: {_one_line(exc)}") from None


def _start_ryuk(tc: Any, route: Route) -> None:
    """Ryuk removes our containers if this process dies without cleaning up (SIGKILL); `stop`, which
    SIGINT and SIGTERM reach, does it otherwise. It is turned off only where it cannot work: in a
    sibling container (its control port would have to be reached from in here, which testcontainers
    cannot do reliably) and where its image cannot be had (no registry). TESTCONTAINERS_RYUK_DISABLED
    is respected everywhere."""
    if route.network is not None:
        tc.config.ryuk_disabled = True
    if tc.config.ryuk_disabled:
        return
    try:
        tc.Reaper.get_instance()
    except MigrationCheckError:
        raise
    except Exception:
        tc.config.ryuk_disabled = True
        with contextlib.suppress(Exception):
            tc.Reaper.delete_instance()


def _remove(client: Any, container: Any) -> None:
    import docker

    try:
        target = client.containers.get(container) if isinstance(container, str) else container
        target.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.DockerException as exc:
        name = container if isinstance(container, str) else getattr(container, "name", "?")
        raise InfrastructureError(f"could not remove container {name} (docker rm -f it): {_one_line(exc)}") from None


def _tune(conn: psycopg.Connection) -> None:
    for key, value in FAST_SETTINGS.items():
        with contextlib.suppress(psycopg.Error):  # an image whose superuser may not: slower, not wrong
            conn.execute(f"ALTER SYSTEM SET {key} = '{value}'")
    with contextlib.suppress(psycopg.Error):
        conn.execute("SELECT pg_reload_conf()")


def _last_log_line(container: Any) -> str:
    with contextlib.suppress(Exception):
        lines = [line for line in container.logs(tail=20).decode(errors="replace").splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()
    return "no log output"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
