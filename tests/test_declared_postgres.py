"""The PostgreSQL a project runs, read from its compose files, CI and Dockerfiles: an installation
older than that says so (LemmyNet/lemmy runs 18 and writes `ADD CONSTRAINT ... NOT NULL col`,
which 15 cannot read)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.servers.binaries import Binaries, candidate_bindirs, find_binaries, missing_extensions, server_version
from migration_check.servers.declared_postgres import declared_postgres, postgres_major


@pytest.mark.parametrize(("image", "major"), [
    ("postgres:16", 16), ("postgres:16.2-alpine", 16), ("docker.io/library/postgres:15@sha256:abc", 15),
    ("pgautoupgrade/pgautoupgrade:18-alpine", 18), ("pgvector/pgvector:pg17", 17), ("pgvector/pgvector:0.7.0-pg16", 16),
    ("timescale/timescaledb:latest-pg17", 17), ("postgis/postgis:15-3.4", 15), ("supabase/postgres:15.1.0.117", 15),
    ("cimg/postgres:16.4", 16), ("bitnami/postgresql:14", 14), ("postgres:${PG_VERSION:-13}-alpine", 13),
    ("postgres:9.6", 9), ("postgres", None), ("postgres:latest", None), ("postgres:alpine", None),
    ("redis:7", None), ("node:18-alpine", None), ("ghcr.io/example/postgres-exporter:16", None),
    ("registry.example.com:5000/postgres:16", 16), ("registry.example.com:5000/postgres", None),
])
def test_the_major_of_an_image(image: str, major: int | None) -> None:
    assert postgres_major(image) == major


def test_the_newest_postgresql_the_repository_runs_and_where(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "docker/docker-compose.yml": "services:\n  db:\n    image: postgres:14\n  cache:\n    image: redis:7\n",
        ".github/workflows/test.yml": ("jobs:\n  test:\n    runs-on: ubuntu-latest\n    services:\n      postgres:\n"
                                       "        image: postgres:16-alpine\n    steps:\n      - name: postgres:99\n"),
        ".gitlab-ci.yml": "test:\n  image: python:3.11\n  services:\n    - name: postgres:12\n",
        "db/Dockerfile": "FROM --platform=linux/amd64 postgis/postgis:15-3.4 AS base\nRUN true\n",
        "notes/compose.yml": "not: [valid\n",  # not YAML: passed over
        "untracked/docker-compose.yml": "services:\n  db:\n    image: postgres:17\n",
    })
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "docker", ".github", ".gitlab-ci.yml", "db", "notes"], check=True)
    declared = declared_postgres(tmp_path)
    assert declared is not None and (declared.major, declared.image) == (16, "postgres:16-alpine")
    assert declared.where(tmp_path) == ".github/workflows/test.yml:6"
    assert declared_postgres(Path("/")) is None


def test_an_installation_older_than_the_project_runs_says_so() -> None:
    installed = [Binaries(d, v) for d in candidate_bindirs() if (v := server_version(d)) is not None]
    newest = max(installed, key=lambda b: b.version)
    oldest = min(installed, key=lambda b: b.version)
    newer = newest.version[0] + 1
    assert find_binaries(wanted={}, declared=(newer, "compose.yml:7")).note == (
        f"older than the PostgreSQL {newer} the project runs (compose.yml:7): check on that one with"
        " `--postgres-image` or `--pg-bindir`")
    assert find_binaries(wanted={}, declared=(oldest.version[0], "compose.yml:7")).note == ""
    # It does not choose: the extensions do (an older one that has them says both).
    wanted = {"pgcrypto": 1}
    chosen = find_binaries(wanted=wanted, declared=(newest.version[0], "compose.yml:7"))
    assert chosen.bindir == find_binaries(wanted=wanted).bindir
    if chosen.version[0] < newest.version[0]:
        assert chosen.note.endswith(f"; older than the PostgreSQL {newest.version[0]} the project runs (compose.yml:7):"
                                    " check on that one with `--postgres-image` or `--pg-bindir`")
        assert missing_extensions(newest, frozenset(wanted))
