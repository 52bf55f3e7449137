#!/usr/bin/env bash
# Make a Docker engine and the local test images available for the Docker end-to-end tests.
# Idempotent: installs docker.io and debootstrap with apt-get where missing (as root), starts dockerd
# when no engine answers, then builds the cached base images (.ci/build-base-images.sh).
#
# Exit 0 when there is no way to get an engine here (not root, no dockerd, it will not start): the
# tests then skip themselves with the reason. Exit non-zero only when an engine runs but the images
# cannot be built, which is a real failure.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DOCKERD_LOG="${MIGRATION_CHECK_DOCKERD_LOG:-/tmp/dockerd.log}"

say() { echo "docker-setup: $*" >&2; }
engine_up() { docker info >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }

missing=()
if ! engine_up; then
    command -v docker >/dev/null || missing+=(docker.io)
    command -v dockerd >/dev/null || missing+=(docker.io)
fi
command -v debootstrap >/dev/null || missing+=(debootstrap)
# Outside Debian (Ubuntu runners), debootstrap needs Debian's keys to verify bookworm.
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if [ ${#missing[@]} -gt 0 ]; then
    if is_root && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            $(printf '%s\n' "${missing[@]}" | sort -u) ; } >/tmp/docker-setup-apt.log 2>&1 \
            || say "apt-get failed (see /tmp/docker-setup-apt.log)"
    else
        say "missing ${missing[*]} and cannot install them (not root or no apt-get)"
    fi
fi

if ! engine_up; then
    if is_root && command -v dockerd >/dev/null; then
        say "starting dockerd (log: $DOCKERD_LOG)"
        # Its own session, so that it outlives this script and the shell that ran it.
        setsid dockerd >"$DOCKERD_LOG" 2>&1 < /dev/null &
        for _ in $(seq 1 60); do engine_up && break; sleep 0.5; done
    fi
fi

if ! engine_up; then
    say "no Docker engine could be started here; the Docker tests will be skipped"
    [ -f "$DOCKERD_LOG" ] && tail -n 5 "$DOCKERD_LOG" >&2
    exit 0
fi

say "Docker engine $(docker version -f '{{.Server.Version}}' 2>/dev/null) is up"
exec bash "$HERE/build-base-images.sh"
