"""Where a local server's run directory (its cluster, sockets and log) goes: in memory where there
is room, else the usual temp dir.

A cluster is thrown away at the end, and fsync is off, but the kernel still writes its files back to
disk, and on a slow disk it makes the server wait: a database copied for each rebuild, the WAL, every
new table's files. In a tmpfs (`/dev/shm`) nothing goes to disk: triggerdotdev/trigger.dev's 821
migrations took 28 s instead of 39.5 s, apache/fineract's 1,521 changesets 55.5 s instead of 66.9 s,
and a server is ready in 0.3 s instead of 0.7 s (the cached cluster's copy). The memory is there only
while the run lasts, and only when the machine has room to spare: a chosen temp dir (TMPDIR), a
small `/dev/shm` (a container's 64 MB) or a machine short of memory keep the cluster on disk.
"""

from __future__ import annotations

import os
import pwd
import tempfile
from pathlib import Path

from migration_check.errors import InfrastructureError

# A unix socket's path has room for 107 bytes: the parent, "/migration-check-xxxxxxxx", and
# "/sockets/.s.PGSQL.65535" must fit.
MAX_PARENT_LENGTH = 107 - len("/migration-check-xxxxxxxx") - len("/sockets/.s.PGSQL.65535")
RAM_DIRECTORY = "/dev/shm"
# What a run may hold there at most, free in that file system and in the machine's memory alike: a
# project of 5,000 migrations, each a table with its index, function and view, held 1 GB with the
# WAL kept under 256 MB.
RAM_NEEDED = 2 * 1024**3
# In memory, the WAL is memory too: checkpoints come sooner (they cost a copy in memory, not a write).
RAM_SETTINGS = {"max_wal_size": "256MB", "min_wal_size": "32MB"}
_ENVIRONMENT = ("TMPDIR", "TEMP", "TMP")


def temp_parent(user: str | None) -> str | None:
    """Where the cluster's temp dir goes: in memory where there is room (`in_memory_parent`), else
    the usual temp dir, unless the server's unprivileged user cannot reach it (root's private
    TMPDIR) or its path is too long for the server's unix socket (107 bytes in all), then the
    system's shared /tmp."""
    account = pwd.getpwnam(user) if user else None
    in_memory = in_memory_parent(account)
    if in_memory is not None:
        return in_memory
    default = tempfile.gettempdir()
    short_enough = len(default) <= MAX_PARENT_LENGTH
    if short_enough and (account is None or traversable_by(Path(default), account)):
        return None
    for shared in ("/tmp", "/var/tmp"):
        if account is None or traversable_by(Path(shared), account):
            return shared
    raise InfrastructureError(
        f"the temp dir {default} is not reachable by the user {user} that PostgreSQL runs as; set TMPDIR"
    )


def in_memory_parent(account: pwd.struct_passwd | None) -> str | None:
    """RAM_DIRECTORY when the run may go there: no temp dir was chosen (TMPDIR, or Python's own
    setting), it is a tmpfs the server's user can reach, and it and the machine's memory have
    RAM_NEEDED to spare."""
    if any(os.environ.get(name) for name in _ENVIRONMENT) or tempfile.gettempdir() != "/tmp":
        return None
    if not _is_tmpfs(RAM_DIRECTORY):
        return None
    try:
        room = os.statvfs(RAM_DIRECTORY)
    except OSError:
        return None
    if room.f_bavail * room.f_frsize < RAM_NEEDED or _memory_available() < RAM_NEEDED:
        return None
    if account is not None and not traversable_by(Path(RAM_DIRECTORY), account):
        return None
    return RAM_DIRECTORY


def in_ram(directory: Path) -> bool:
    return directory.parent == Path(RAM_DIRECTORY)


def _is_tmpfs(mount_point: str) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text()
    except OSError:
        return False
    return any(fields[1:3] == [mount_point, "tmpfs"] for fields in (line.split() for line in mounts.splitlines()))


def _memory_available() -> int:
    """MemAvailable of /proc/meminfo, in bytes (0 where unknown: not Linux)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def traversable_by(path: Path, account: pwd.struct_passwd) -> bool:
    for directory in [path.resolve(), *path.resolve().parents]:
        mode = directory.stat()
        if mode.st_uid == account.pw_uid:
            bit = 0o100
        elif mode.st_gid == account.pw_gid:
            bit = 0o010
        else:
            bit = 0o001
        if not mode.st_mode & bit:
            return False
    return True
