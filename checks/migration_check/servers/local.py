"""A throwaway PostgreSQL cluster from local server binaries: the embedded default.

Each run gets a fresh cluster (roles are cluster-wide, and migrations create them), in a temp dir,
on a free port, listening on a unix socket and 127.0.0.1, with durability off because the data is
thrown away. As root, the server runs as an unprivileged user, the way the official image uses gosu.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict

import psycopg
from psycopg.conninfo import make_conninfo

from migration_check.errors import InfrastructureError
from migration_check.servers import cluster_cache, sandbox
from migration_check.servers.base import (
    ADMIN_ROLE,
    CONNECTION_OPTIONS,
    DEFAULT_MIGRATION_ROLE,
    REPLAY_DATABASE,
    Database,
    Provider,
    first_cause,
    prepare_roles,
    process_alive,
)
from migration_check.servers.binaries import Binaries, find_binaries
from migration_check.servers.declared_postgres import declared_postgres
from migration_check.servers.private_installation import private_installation, readonly_parts
from migration_check.servers.run_directory import RAM_DIRECTORY, RAM_SETTINGS, in_ram, temp_parent, traversable_by

TEMP_PREFIX = "migration-check-"
INITDB_ARGUMENTS = ["-U", ADMIN_ROLE, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
OWNER_FILE = "owner.pid"  # the tool's marker: only directories holding it are ever reaped
SERVER_FILE = "server.pid"  # the server's process (or its sandbox) as seen from here
DATABASE = REPLAY_DATABASE
STARTUP_SECONDS = 60
SHUTDOWN_SECONDS = 10
READY_POLL_SECONDS = 0.01  # a cached cluster is ready in tens of milliseconds
# Durability is pointless for a cluster that is deleted at the end; these make DDL much cheaper.
# So is compiling plans (JIT, where the binaries have it) for a throwaway database's few rows.
SERVER_SETTINGS = {
    "jit": "off",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "listen_addresses": "127.0.0.1",
    "max_connections": "30",
    "shared_buffers": "128MB",
    "max_wal_size": "1GB",
    "log_min_messages": "warning",
    "max_locks_per_transaction": "256",
}


class LocalProvider(Provider):
    def __init__(self, bindir: Path | None = None, run_as: str | None = None,
                 migration_role: str = DEFAULT_MIGRATION_ROLE, extensions: Mapping[str, int] | None = None,
                 preferred_extensions: frozenset[str] = frozenset(), repo_root: Path | None = None) -> None:
        self._bindir = bindir
        self._repo_root = repo_root  # its compose files and CI name the PostgreSQL it runs
        self._extensions = extensions or {}  # the migrations create them (so many times): an installation with them is preferred
        self._preferred_extensions = preferred_extensions  # a setup preset would create them
        self._run_as = run_as
        self._migration_role = migration_role
        self._tempdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._sandboxed = False
        self._readonly: list[Path] = []  # what a sandboxed server sees of its installation
        self._linked: Path | None = None  # a private installation's own run directory

    def start(self) -> Database:
        declared = declared_postgres(self._repo_root) if self._repo_root is not None and self._bindir is None else None
        binaries = find_binaries(self._bindir, self._extensions, self._preferred_extensions,
                                 None if declared is None else (declared.major, declared.where(self._repo_root or Path())))
        user = self._run_as or unprivileged_user()
        parent = temp_parent(user)
        self._tempdir = new_run_directory(Path(parent or tempfile.gettempdir()))
        for parent_of_runs in {self._tempdir.parent, Path(tempfile.gettempdir()), Path(RAM_DIRECTORY)}:
            remove_stale_runs(parent_of_runs)  # runs killed before, wherever they ran
        data, sockets, log = self._tempdir / "data", self._tempdir / "sockets", self._tempdir / "server.log"
        sockets.mkdir()
        account = pwd.getpwnam(user) if user else None
        if account is not None:
            for path in (self._tempdir, sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
        why = f", {binaries.note}" if binaries.note else ""
        description = f"local PostgreSQL {binaries.version_text} ({binaries.bindir}{why})"
        installed = binaries.bindir  # (the cache's key and source, not a private copy's)
        cached = cluster_cache.entry(installed, binaries.version_text, INITDB_ARGUMENTS,
                                     account.pw_uid if account else None)
        if account is not None and not traversable_by(binaries.bindir, account):
            binaries, tree, self._linked = private_installation(binaries, self._tempdir, account, new_run_directory)
            self._readonly = [tree]
        else:
            self._readonly = readonly_parts(binaries)
        unconfined = sandbox.why_not(pwd.getpwnam(user).pw_uid if user else None)
        self._sandboxed = unconfined is None
        description += "; sandboxed: no network, no environment, no files but its own" if self._sandboxed else (
            f"; not sandboxed ({unconfined}): migrations can reach what the OS user {user or 'running it'} can")
        if in_ram(self._tempdir):
            description += f"; its files in memory ({self._tempdir.parent})"
        if cached is None or not cluster_cache.restore(cached, data, account.pw_uid if account else None,
                                                       account.pw_gid if account else None):
            self._initdb(binaries, data, user)
            if cached is not None:
                cluster_cache.store(data, cached, installed)
        port = free_port()
        self._process = self._run_postgres(binaries, data, sockets, log, port, user)
        # The bootstrap superuser is the tool's own role: `postgres` is then an ordinary superuser
        # that migrations may demote (PostgreSQL 16+ refuses that for the bootstrap superuser).
        conninfo = f"host={sockets} port={port} user={ADMIN_ROLE} dbname=postgres"
        with self._wait_until_ready(conninfo, log) as conn:
            prepare_roles(conn, self._migration_role, DATABASE)
            version = conn.info.server_version
        return Database(
            conninfo=make_conninfo(conninfo, user=self._migration_role, dbname=DATABASE),
            server_version=version,
            description=description,
            admin_conninfo=make_conninfo(conninfo, user=ADMIN_ROLE, dbname=DATABASE),
            server_log=log,
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SIGINT is Postgres' "fast shutdown"; the process group takes its children along.
            _signal_group(process, signal.SIGINT)
            try:
                process.wait(SHUTDOWN_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for directory in (self._tempdir, self._linked):
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
        self._tempdir = self._linked = None

    def _initdb(self, binaries: Binaries, data: Path, user: str | None) -> None:
        command = [binaries.program("initdb"), "-D", str(data), *INITDB_ARGUMENTS]
        result = subprocess.run(self._confined(command), capture_output=True, text=True, check=False,
                                env=sandbox.MINIMAL_ENVIRONMENT, **_as_user(user))
        if result.returncode != 0:
            detail = _cause((result.stderr or result.stdout).splitlines()) or f"exit code {result.returncode}"
            raise InfrastructureError(f"initdb failed: {detail}")

    def _run_postgres(
        self, binaries: Binaries, data: Path, sockets: Path, log: Path, port: int, user: str | None
    ) -> subprocess.Popen[bytes]:
        in_memory = RAM_SETTINGS if self._tempdir is not None and in_ram(self._tempdir) else {}
        settings = {**SERVER_SETTINGS, **in_memory, "port": str(port), "unix_socket_directories": str(sockets)}
        command = [binaries.program("postgres"), "-D", str(data)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        log_file = open(log, "wb")
        try:
            process = subprocess.Popen(
                self._confined(command),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Never the tool's environment (tokens, credentials): migrations could read it.
                env=sandbox.MINIMAL_ENVIRONMENT,
                # Its own session: a Ctrl-C in the terminal reaches us, and we shut the server down.
                start_new_session=True,
                # If the tool is killed, the server goes at once, mid-statement: a sandbox's whole
                # PID namespace with SIGKILL, an unconfined postmaster with SIGQUIT (immediate shutdown).
                preexec_fn=_die_with_parent_by(signal.SIGKILL if self._sandboxed else signal.SIGQUIT),
                **_as_user(user),
            )
        finally:
            log_file.close()
        assert self._tempdir is not None
        (self._tempdir / SERVER_FILE).write_text(str(process.pid))
        return process

    def _confined(self, command: list[str]) -> list[str]:
        if not self._sandboxed:
            return command
        assert self._tempdir is not None
        return sandbox.confined(command, self._tempdir, self._readonly)

    def _wait_until_ready(self, conninfo: str, log: Path) -> psycopg.Connection:
        """The first connection the server accepts, made as `connect` makes them."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise InfrastructureError(f"PostgreSQL did not start: {_last_line(log)}")
            try:
                return psycopg.connect(conninfo, connect_timeout=2, **CONNECTION_OPTIONS)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise InfrastructureError(
                        f"PostgreSQL did not accept connections within {STARTUP_SECONDS}s: {_last_line(log)}"
                    ) from None
                time.sleep(READY_POLL_SECONDS)


def unprivileged_user() -> str | None:
    """None when not root; else the account the server runs as (Postgres refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise InfrastructureError("running as root and no unprivileged account (postgres, nobody) to run PostgreSQL as")


def new_run_directory(parent: Path) -> Path:
    """A new directory of the tool's own in `parent`, marked with the running process."""
    directory = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent))
    (directory / OWNER_FILE).write_text(str(os.getpid()))
    return directory


def remove_stale_runs(parent: Path) -> None:
    """Remove the run directories of runs killed outright (SIGKILL, OOM), which no handler can
    clean up: those that carry the tool's marker and whose owning process is gone. A server such a
    run left (normally taken down with it, see _die_with_parent_by) is stopped first. Directories
    without the marker are never touched: the prefix alone proves nothing."""
    for directory in parent.glob(TEMP_PREFIX + "*"):
        if directory.is_dir() and _is_stale(directory):
            _stop_orphaned_server(directory)
            shutil.rmtree(directory, ignore_errors=True)


def _is_stale(directory: Path) -> bool:
    try:
        owner = int((directory / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return False
    return not process_alive(owner)


def _stop_orphaned_server(directory: Path) -> None:
    try:
        pid = int((directory / SERVER_FILE).read_text())
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if str(directory).encode() in command_line:  # that process is this run's server, not a reused pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Account(TypedDict, total=False):
    """subprocess keyword arguments that run a program as another OS user."""

    user: int
    group: int
    extra_groups: list[int]
    cwd: str


def _as_user(user: str | None) -> _Account:
    if not user:
        return {}
    account = pwd.getpwnam(user)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [], "cwd": "/"}


def _die_with_parent_by(signum: int) -> Callable[[], None]:
    """A preexec function: if this process is killed with SIGKILL, the child gets `signum` (Linux)."""
    def die_with_parent() -> None:
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signum)
        except OSError:
            pass
    return die_with_parent


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def _last_line(log: Path) -> str:
    """What went wrong, from the server log: its first FATAL or PANIC line (the cause; the last
    line is only "database system is shut down"), else its last line."""
    try:
        return _cause(log.read_text(errors="replace").splitlines()) or "the server log is empty"
    except OSError:
        return "no server log"


def _cause(lines: list[str]) -> str:
    """The first line that says what failed (FATAL, PANIC, error:), else the last line."""
    lines = [line.strip() for line in lines if line.strip()]
    return first_cause(lines, ("FATAL:", "PANIC:", "error:", "ERROR:")) or (lines[-1] if lines else "")
