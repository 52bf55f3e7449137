# The image of the GitHub container action. The release workflow (.github/workflows/release.yml)
# builds it on each version tag and pushes it to ghcr.io; action.yml runs that prebuilt image, so a
# job pulls it instead of building it. The repository's own CI builds this file and runs it as the
# runner would (tests/test_docker_action.py).
#
# The image carries a PostgreSQL server: the default run needs no Docker socket. What it installs is
# pinned: Debian's PostgreSQL version below, and the Python packages by hash (requirements.lock).
# Tests pass a locally built BASE_IMAGE that already has the Debian packages.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG POSTGRESQL_VERSION=15.20-0+deb12u1

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LANG=C.UTF-8

# PostgreSQL 15 (the local provider runs it in here, as the postgres user), Python, and git for the
# history checks. No cluster: each run makes its own. The runner mounts the workspace owned by
# another uid, hence safe.directory.
#
# Then what a checker does not need goes, in the same layer so the image is smaller: LLVM (and z3)
# serve only PostgreSQL's JIT, which the tool turns off; perl serves only the postgresql-common
# wrappers (pg_ctlcluster ...), while the tool runs initdb and postgres itself. ICU stays: the
# server is linked against it.
RUN set -eux; \
    packages="postgresql-15 python3 python3-venv git ca-certificates bubblewrap"; \
    mkdir -p /etc/postgresql-common/createcluster.d; \
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/migration-check.conf; \
    if ! dpkg -s $packages >/dev/null 2>&1; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            $(echo $packages | sed "s/postgresql-15/postgresql-15=${POSTGRESQL_VERSION} postgresql-client-15=${POSTGRESQL_VERSION}/"); \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    rm -rf /usr/lib/postgresql/15/lib/llvmjit* /usr/lib/postgresql/15/lib/bitcode; \
    for package in libllvm14 libz3-4 perl perl-modules-5.36 libperl5.36; do \
        if dpkg -s "$package" >/dev/null 2>&1; then dpkg --purge --force-depends "$package"; fi; \
    done; \
    rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/locale/*; \
    /usr/lib/postgresql/15/bin/postgres --version; \
    git config --system --add safe.directory '*'

# Dependencies first, pinned by hash (requirements.lock): this layer survives changes to the source.
COPY requirements.lock /src/requirements.lock
RUN set -eux; \
    python3 -m venv /opt/migration-check; \
    /opt/migration-check/bin/pip install --require-hashes --no-deps -r /src/requirements.lock; \
    /opt/migration-check/bin/pip install setuptools==80.9.0 wheel==0.45.1  # the build backend, pinned

COPY pyproject.toml README.md /src/
COPY checks /src/checks
RUN /opt/migration-check/bin/pip install --no-deps --no-build-isolation /src && rm -rf /src

# Exec form: Python is PID 1 and receives the runner's SIGINT/SIGTERM itself (the CLI turns them
# into a clean shutdown that still writes the JUnit file and removes the server).
ENTRYPOINT ["/opt/migration-check/bin/python", "-m", "migration_check.action"]
