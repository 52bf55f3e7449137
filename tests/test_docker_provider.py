"""The testcontainers provider (`--postgres-image`): how it decides to reach the container (pure
tests), and, on a real Docker engine, start, connect, and removal in every case, against the local
stand-in for the official image built by .ci/build-base-images.sh."""

from __future__ import annotations

import contextlib
import os
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest

from docker_support import BASE_IMAGE, STANDIN_IMAGE, docker
from migration_check.errors import InfrastructureError, Interrupted
from migration_check.servers import docker as provider_module
from migration_check.servers.docker import DockerProvider, Route, plan_route


@pytest.fixture(autouse=True)
def no_ryuk(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ryuk's image cannot be pulled here; the provider's own cleanup is what these tests check.
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")


class FakeClient:
    """Just enough of docker.DockerClient for plan_route: which containers it knows."""

    def __init__(self, known: dict[str, dict[str, Any]]) -> None:
        self.api = self
        self.known = known

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return self.known[container_id]


def me(network_mode: str, networks: list[str]) -> dict[str, Any]:
    return {"Id": "c" * 64, "HostConfig": {"NetworkMode": network_mode},
            "NetworkSettings": {"Networks": {name: {"IPAddress": "10.0.0.2"} for name in networks}}}


@pytest.fixture
def inside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provider_module, "_own_container_ids", lambda: ["c" * 64])


# --- where the database is reached (no Docker needed) ---------------------------------------------

def test_on_the_docker_host_the_port_is_published_on_loopback_only() -> None:
    assert plan_route(FakeClient({}), {}) == Route(None, "127.0.0.1", "127.0.0.1", "published on 127.0.0.1")


def test_a_sibling_container_joins_our_network_and_publishes_nothing(inside: None) -> None:
    client = FakeClient({"c" * 64: me("github_network_1234", ["github_network_1234"])})
    route = plan_route(client, {})
    assert (route.network, route.bind_ip, route.host, route.parent) == ("github_network_1234", None, None, "c" * 64)


def test_the_default_bridge_is_named_bridge(inside: None) -> None:
    assert plan_route(FakeClient({"c" * 64: me("default", ["bridge"])}), {}).network == "bridge"


def test_a_container_on_the_host_network_uses_loopback(inside: None) -> None:
    route = plan_route(FakeClient({"c" * 64: me("host", ["host"])}), {})
    assert (route.network, route.bind_ip, route.host) == (None, "127.0.0.1", "127.0.0.1")


def test_host_override_wins(inside: None) -> None:
    client = FakeClient({"c" * 64: me("bridge", ["bridge"])})
    route = plan_route(client, {"TESTCONTAINERS_HOST_OVERRIDE": "docker.internal"})
    assert (route.network, route.bind_ip, route.host) == (None, "", "docker.internal")
    assert plan_route(FakeClient({}), {"TC_HOST": "localhost"}).bind_ip == "127.0.0.1"


def test_a_remote_engine_is_reached_on_its_host() -> None:
    route = plan_route(FakeClient({}), {"DOCKER_HOST": "tcp://build-box:2375"})
    assert (route.bind_ip, route.host) == ("", "build-box")


def test_an_engine_that_does_not_know_us_is_not_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    # /.dockerenv exists in containers of other engines (and in some VMs): ask the engine instead.
    monkeypatch.setattr(provider_module, "_own_container_ids", lambda: ["d" * 64])
    assert plan_route(FakeClient({}), {}).host == "127.0.0.1"


class FakeReaper:
    deleted = False

    @classmethod
    def get_instance(cls) -> None:
        raise RuntimeError("pull access denied for testcontainers/ryuk")

    @classmethod
    def delete_instance(cls) -> None:
        cls.deleted = True


def fake_testcontainers(ryuk_disabled: bool) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(ryuk_disabled=ryuk_disabled), Reaper=FakeReaper)


def test_ryuk_is_turned_off_where_its_image_cannot_be_had() -> None:
    tc = fake_testcontainers(ryuk_disabled=False)
    provider_module._start_ryuk(tc, Route(None, "127.0.0.1", "127.0.0.1", "published"))
    assert tc.config.ryuk_disabled and FakeReaper.deleted


def test_ryuk_is_off_for_a_sibling_container() -> None:
    tc = fake_testcontainers(ryuk_disabled=False)
    provider_module._start_ryuk(tc, Route("github_network_1", None, None, "sibling"))
    assert tc.config.ryuk_disabled


def test_no_docker_engine_is_a_one_line_infrastructure_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    provider = DockerProvider("postgres:16")
    with pytest.raises(InfrastructureError) as caught, provider:
        pass
    message = caught.value.one_line()
    assert message.startswith("--postgres-image needs a Docker engine") and "\n" not in str(caught.value)


# --- on a real engine ------------------------------------------------------------------------------

def test_a_postgres_container_is_started_reached_and_removed(docker_engine: None) -> None:
    provider = DockerProvider(STANDIN_IMAGE)
    with provider as database:
        name = provider._name
        assert database.major_version == 15
        assert STANDIN_IMAGE in database.description
        ports = docker("port", name, "5432").stdout
        assert ports.startswith("127.0.0.1:")  # never on every interface of the host
        labels = docker("inspect", "-f", "{{json .Config.Labels}}", name).stdout
        assert f"{os.getpid()}" in labels
        with psycopg.connect(database.conninfo) as conn:
            assert conn.execute("select current_database()").fetchone() == ("migration_check",)
            assert conn.execute("show fsync").fetchone() == ("off",)
    assert docker("ps", "-aq", "--filter", f"name={name}").stdout.strip() == ""
    provider.stop()  # twice is fine


def test_a_container_that_dies_during_start_fails_fast_and_is_removed(docker_engine: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    check_running = DockerProvider._check_running

    def recording(self: DockerProvider, wrapped: Any) -> None:
        names.append(self._name or "")
        check_running(self, wrapped)

    monkeypatch.setattr(DockerProvider, "_check_running", recording)
    provider = DockerProvider(BASE_IMAGE, startup_seconds=60)  # no server in it: bash exits at once
    with pytest.raises(InfrastructureError, match="exited during start-up"), provider:
        pass
    assert names and docker("ps", "-aq", "--filter", f"name={names[0]}").stdout == ""


def test_an_interrupted_start_still_removes_the_container(docker_engine: None, monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []

    def interrupted(self: DockerProvider, conninfo: str) -> None:
        names.append(self._name or "")
        raise Interrupted("SIGTERM")

    monkeypatch.setattr(DockerProvider, "_wait_until_ready", interrupted)
    with pytest.raises(Interrupted), DockerProvider(STANDIN_IMAGE):
        pass
    assert names and docker("ps", "-aq", "--filter", f"name={names[0]}").stdout == ""


def test_an_image_that_cannot_be_had_is_one_line(docker_engine: None) -> None:
    with pytest.raises(InfrastructureError, match="cannot pull image migration-check-no-such-image:0"), \
            DockerProvider("migration-check-no-such-image:0"):
        pass


def test_the_stand_in_behaves_like_the_official_image_for_testcontainers(docker_engine: None) -> None:
    """Plain testcontainers, its own wait strategy and defaults: the stand-in is a faithful double."""
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(STANDIN_IMAGE, username="app", password="p'w%d", dbname="appdb", driver=None)
    container.ports = {"5432": ("127.0.0.1", None)}  # only on loopback (docker-py's binding form)
    with container:
        url = container.get_connection_url(host="127.0.0.1")
        with contextlib.closing(psycopg.connect(url)) as conn:
            assert conn.execute("select current_user, current_database()").fetchone() == ("app", "appdb")
        logs = container.get_wrapped_container().logs().decode()
        assert "database system is ready to accept connections" in logs
