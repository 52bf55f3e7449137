# The GitHub container action (action.yml: `runs: using: docker, image: Dockerfile`).
#
# The runner builds this with a plain `docker build` and no build arguments, so the defaults are for
# real users. The image carries a PostgreSQL server: the default run needs no Docker socket and pulls
# nothing at run time. Tests pass a locally built BASE_IMAGE that already has the Debian packages.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LANG=C.UTF-8

# PostgreSQL 15 (the local provider runs it in here, as the postgres user), Python, and git for the
# history checks. No cluster: each run makes its own. The runner mounts the workspace owned by
# another uid, hence safe.directory.
RUN set -eux; \
    packages="postgresql-15 python3 python3-venv git ca-certificates bubblewrap"; \
    mkdir -p /etc/postgresql-common/createcluster.d; \
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/migration-check.conf; \
    if ! dpkg -s $packages >/dev/null 2>&1; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    git config --system --add safe.directory '*'

# Dependencies first, from pyproject.toml alone: this layer survives changes to the source.
COPY pyproject.toml /src/pyproject.toml
RUN set -eux; \
    python3 -m venv /opt/migration-check; \
    /opt/migration-check/bin/python -c "import tomllib; p = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['docker']))" > /tmp/requirements.txt; \
    /opt/migration-check/bin/pip install -r /tmp/requirements.txt setuptools wheel; \
    rm /tmp/requirements.txt

COPY README.md /src/README.md
COPY checks /src/checks
RUN /opt/migration-check/bin/pip install --no-deps --no-build-isolation /src && rm -rf /src

# Exec form: Python is PID 1 and receives the runner's SIGINT/SIGTERM itself (the CLI turns them
# into a clean shutdown that still writes the JUnit file and removes the server).
ENTRYPOINT ["/opt/migration-check/bin/python", "-m", "migration_check.action"]
