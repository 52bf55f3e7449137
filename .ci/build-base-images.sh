#!/usr/bin/env bash
# Build, once, the local images the Docker end-to-end tests need, without any container registry:
#
#   migration-check-base:bookworm  a debootstrapped Debian bookworm with PostgreSQL 15, Python and git;
#                                  the BASE_IMAGE the tests pass to the repository's Dockerfile
#   postgres:15-local              a stand-in for the official postgres image (same env variables,
#                                  same entry point behaviour) for --postgres-image tests
#
# Idempotent and fast when cached: the root file system is kept as a tarball under
# $MIGRATION_CHECK_CACHE (default ~/.cache/migration-check); images are rebuilt only when missing or
# when their recipe (this script, this machine's extra CAs) changed. Needs a running Docker engine,
# and debootstrap on a cold cache.
set -euo pipefail

CACHE="${MIGRATION_CHECK_CACHE:-$HOME/.cache/migration-check}"
BASE_IMAGE="${MIGRATION_CHECK_BASE_IMAGE:-migration-check-base:bookworm}"
STANDIN_IMAGE="${MIGRATION_CHECK_STANDIN_IMAGE:-postgres:15-local}"
PACKAGES="postgresql-15,python3,python3-venv,python3-pip,git,ca-certificates,bubblewrap"
SUITE=bookworm
# An intercepting proxy's CA must be trusted inside the images too, or pip in `docker build`
# cannot reach PyPI.
EXTRA_CAS=/usr/local/share/ca-certificates

log() { echo "build-base-images: $*" >&2; }

extra_cas() { find "$EXTRA_CAS" -name '*.crt' 2>/dev/null | sort; }

recipe_hash() { cat "$0" $(extra_cas) | sha256sum | cut -c1-16; }

image_recipe() { docker image inspect -f '{{ index .Config.Labels "org.migration-check.recipe" }}' "$1" 2>/dev/null || true; }

# `docker build` of a local context that needs no network; its output only when it fails. The
# image it replaces is removed, so rebuilds leave no dangling images behind.
quiet_build() {
    local out old
    old=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)
    out=$(docker build --force-rm --network none -t "$1" "$2" 2>&1) || { echo "$out" >&2; exit 1; }
    if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$1")" ]; then
        docker rmi "$old" >/dev/null 2>&1 || true
    fi
}

# The mirror apt already uses here: CI and developers reach Debian's packages only through it.
debian_mirror() {
    local uri
    uri=$(grep -hE '^\s*(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
            /etc/apt/sources.list 2>/dev/null \
          | grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

build_rootfs_tarball() {
    local tarball=$1 root mirror
    command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
    root=$(mktemp -d /tmp/migration-check-rootfs.XXXXXX)
    # Expanded now (double quotes): the trap may run after this function's locals are gone.
    trap "umount -l '$root/proc' '$root/sys' 2>/dev/null || true; rm -rf '$root'" EXIT
    mirror=$(debian_mirror)
    log "debootstrap $SUITE from $mirror (cold cache, about a minute)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
        || { tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
    # Smaller, and no cluster baked in: every consumer makes its own (initdb per run / entry point).
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
           "$root"/var/lib/postgresql/15/main "$root"/etc/postgresql/15/main "$root"/var/log/*.log
    tar -C "$root" --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$root"
    trap - EXIT
}

ensure_base_image() {
    local tarball rootfs="migration-check-rootfs:$SUITE" dir
    tarball="$CACHE/$SUITE-minbase-$(echo "$PACKAGES" | sha256sum | cut -c1-12).tar"
    if [ "$(image_recipe "$BASE_IMAGE")" = "$(recipe_hash)" ]; then
        log "$BASE_IMAGE: cached"
        return
    fi
    [ -s "$tarball" ] || build_rootfs_tarball "$tarball"
    docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' "$tarball" "$rootfs" >/dev/null
    # Test-only layer: this machine's extra CAs, and pip told to use the system store (the bundle
    # pip carries would not have them). Images built FROM the base inherit both.
    dir=$(mktemp -d /tmp/migration-check-base.XXXXXX)
    mkdir "$dir/certs"
    for ca in $(extra_cas); do cp "$ca" "$dir/certs/"; done
    {
        echo "FROM $rootfs"
        echo "COPY certs/ /usr/local/share/ca-certificates/"
        echo "RUN update-ca-certificates >/dev/null 2>&1"
        echo "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"
        echo "LABEL org.migration-check.recipe=$(recipe_hash)"
    } >"$dir/Dockerfile"
    quiet_build "$BASE_IMAGE" "$dir"
    rm -rf "$dir"
    docker rmi "$rootfs" >/dev/null
    log "$BASE_IMAGE: built from $tarball"
}

# The official image's contract, as far as testcontainers and users rely on it: POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB; a first start initialises $PGDATA without listening on TCP, then
# the server runs as the postgres user on 0.0.0.0:5432 with password auth from the network and
# "database system is ready to accept connections" in the log. testcontainers 4.15 waits by running
# `psql --host 127.0.0.1` inside the container (ExecWaitStrategy), so psql must be on PATH.
write_standin_context() {
    local dir=$1
    cat >"$dir/Dockerfile" <<EOF
FROM $BASE_IMAGE
LABEL org.migration-check.recipe=$(recipe_hash)
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
    cat >"$dir/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -eu
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
[ $# -gt 0 ] && shift
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo "Error: Database is uninitialized and superuser password is not specified." >&2
    echo "       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser." >&2
    exit 1
fi
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp); printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"; chown postgres "$pwfile"
    as_postgres initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host="$auth" >/dev/null
    rm -f "$pwfile"
    echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
    # A temporary server on the unix socket only, as the official image does: nobody on the
    # network sees a half-initialised database.
    as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$db" != postgres ]; then as_postgres psql -q -U "$user" -d postgres -c "CREATE DATABASE \"$db\""; fi
    as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL init process complete; ready for start up."
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*' "$@"
EOF
    chmod +x "$dir/docker-entrypoint.sh"
}

ensure_standin_image() {
    local dir
    if [ "$(image_recipe "$STANDIN_IMAGE")" = "$(recipe_hash)" ]; then
        log "$STANDIN_IMAGE: cached"
        return
    fi
    dir=$(mktemp -d /tmp/migration-check-standin.XXXXXX)
    write_standin_context "$dir"
    quiet_build "$STANDIN_IMAGE" "$dir"
    rm -rf "$dir"
    log "$STANDIN_IMAGE: built"
}

mkdir -p "$CACHE"
docker info >/dev/null 2>&1 || { log "no Docker engine answers (start dockerd first: .ci/docker-setup.sh)"; exit 1; }
ensure_base_image
ensure_standin_image
