"""OS confinement of the local server: migrations are untrusted code, and a superuser can make
PostgreSQL run programs (`COPY ... FROM PROGRAM`), read files (`pg_read_file`) and open connections.

Where bubblewrap (`bwrap`) is installed and user namespaces work, initdb and the server run inside
a sandbox that has:
- no network (its own network namespace: the tool talks to it over the unix socket only);
- no environment (cleared: no GITHUB_TOKEN, no cloud credentials);
- the system's programs and libraries read-only, the server's own run directory writable, and no
  other file: not the repository, not the home directories, not the other runs' directories;
- its own PID namespace, torn down when the tool dies, so a killed run cannot leave a server.
Superuser-only migrations still work inside it. Without bubblewrap the server runs unconfined,
as an unprivileged OS user with a minimal environment, and the run says so.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

# What a PostgreSQL server needs to read from the system, besides /usr. Debian's alternatives
# are links that files under /usr point through (PostGIS's extension control files: without them
# the server lists the extension and cannot open it, and pg_available_extensions fails whole).
SYSTEM_FILES = ("/etc/passwd", "/etc/group", "/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf",
                "/etc/alternatives")
# Top-level directories that are /usr's on merged-/usr systems, or real directories elsewhere.
USR_ALIASES = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
MINIMAL_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C"}


def bwrap() -> str | None:
    return shutil.which("bwrap")


def confined(command: list[str], run_directory: Path, installation: Sequence[Path]) -> list[str]:
    """`command` wrapped in the sandbox: `run_directory` writable, `installation` (the server's
    binaries and what they load, where not under /usr) read-only."""
    program = bwrap()
    assert program is not None
    arguments = [
        program, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--ro-bind", "/usr", "/usr",
    ]
    for name in USR_ALIASES:
        path = Path("/") / name
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            arguments += ["--ro-bind", str(path), str(path)]
    for file in SYSTEM_FILES:
        arguments += ["--ro-bind-try", file, file]
    arguments += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    arguments += ["--bind", str(run_directory), str(run_directory), "--chdir", str(run_directory), "--clearenv"]
    for part in installation:  # after the run directory: a private copy inside it stays read-only too
        if not part.resolve().is_relative_to("/usr"):
            arguments += ["--ro-bind", str(part), str(part)]
    for key, value in MINIMAL_ENVIRONMENT.items():
        arguments += ["--setenv", key, value]
    return [*arguments, "--", *command]


@functools.cache
def why_not(user_id: int | None) -> str | None:
    """None when the sandbox works here for that OS user; else why not (said in the run's header)."""
    if bwrap() is None:
        return "bubblewrap is not installed"
    probe = confined(["/usr/bin/true"], Path("/tmp"), [])
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False,
                                env=MINIMAL_ENVIRONMENT, user=user_id)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap cannot run: {exc}"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return f"bubblewrap cannot run here: {detail[-1] if detail else 'exit code ' + str(result.returncode)}"
    return None
