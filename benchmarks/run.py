"""Speed and memory of a full check against its floor.

For synthetic projects of 100 and 1000 migrations (tables, indexes, functions, views, each with a
rollback), it measures, on one local PostgreSQL started by the project's own provider:

- the floor: the same up/down/up SQL stream executed by `psql` over one connection;
- the full check: `migration-check check` with --database-url on the same server, so neither side
  pays for starting a server (that cost is printed separately, once);
- the same check with --no-data: "data cost" is what the generated rows and the data and integrity
  families add to it.

It prints time per migration, the ratio to the floor, how flat the cost per migration stays from
the small project to the large one, and the peak memory of the check. No assertions: it measures.

    python benchmarks/run.py [--sizes 100 1000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migration_check.servers.binaries import find_binaries
from migration_check.servers.local import LocalProvider


def migration_sql(i: int) -> tuple[str, str]:
    """One realistic migration and its rollback: a table, an index, a function, a trigger, a view."""
    up = f"""
create table item_{i} (
    id bigint generated always as identity primary key,
    owner_id bigint not null,
    name text not null,
    amount numeric(12, 2) not null default 0 check (amount >= 0),
    created_at timestamptz not null default now()
);
create index item_{i}_owner_idx on item_{i} (owner_id, created_at desc);
create function item_{i}_total(p_owner bigint) returns numeric
language sql stable as $$
    select coalesce(sum(amount), 0) from item_{i} where owner_id = p_owner;
$$;
create view item_{i}_recent as
    select id, owner_id, name from item_{i} where created_at > now() - interval '7 days';
comment on table item_{i} is 'synthetic table {i}';
"""
    down = f"""
drop view item_{i}_recent;
drop function item_{i}_total(bigint);
drop table item_{i};
"""
    return up, down


def write_project(root: Path, count: int) -> Path:
    directory = root / "migrations"
    directory.mkdir(parents=True)
    for i in range(count):
        version = f"2025{(i // 86400) + 1:02d}01{(i // 3600) % 24:02d}{(i // 60) % 60:02d}{i % 60:02d}"
        up, down = migration_sql(i)
        (directory / f"{version}_create_item_{i}.sql").write_text(up)
        (directory / f"{version}_create_item_{i}_rollback.sql").write_text(down)
    return directory


def floor_seconds(conninfo: str, count: int, work: Path, psql: str) -> float:
    stream = work / "stream.sql"
    with stream.open("w") as handle:
        for i in range(count):
            up, down = migration_sql(i)
            handle.write(up + down + up)
    started = time.perf_counter()
    subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-f", str(stream)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def check_seconds(conninfo: str, project: Path, work: Path, *extra: str) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of the whole `migration-check check` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "migration_check", "check", str(project), "--database-url", conninfo,
         "--junit-xml", str(work / "report.xml"), "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the check failed on the synthetic project (exit {result.returncode}):\n{result.stdout[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(after, before) / 1024


def fresh_database(provider_conninfo: str, name: str, psql: str) -> str:
    subprocess.run([psql, "-X", "-q", "-d", provider_conninfo, "-c", "set client_min_messages = warning",
                    "-c", f"drop database if exists {name}", "-c", f"create database {name}"], check=True)
    return provider_conninfo.replace("dbname=migration_check", f"dbname={name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the best is kept")
    args = parser.parse_args()
    psql = shutil.which("psql") or str(find_binaries().bindir / "psql")

    started = time.perf_counter()
    with LocalProvider() as database, tempfile.TemporaryDirectory(prefix="migration-check-bench-") as tmp:
        print(f"server: {database.description}, started in {time.perf_counter() - started:.2f}s")
        print(f"{'migrations':>10} {'floor':>9} {'check':>9} {'floor/mig':>10} {'check/mig':>10} {'ratio':>6} {'peak RSS':>9}"
              f" {'no-data':>9} {'data cost':>9}")
        per_migration: dict[int, float] = {}
        for size in args.sizes:
            work = Path(tmp) / str(size)
            project = write_project(work, size)
            floors, checks, without_data, peak = [], [], [], 0.0
            for attempt in range(args.repeat):
                floors.append(floor_seconds(fresh_database(database.conninfo, f"floor_{size}_{attempt}", psql),
                                            size, work, psql))
                elapsed, rss = check_seconds(database.conninfo, project, work)
                checks.append(elapsed)
                peak = max(peak, rss)
                # The same check without generated rows and the data families: what they cost.
                without_data.append(check_seconds(database.conninfo, project, work, "--no-data")[0])
            floor, check, no_data = min(floors), min(checks), min(without_data)
            per_migration[size] = check / size
            print(f"{size:>10} {floor:>8.2f}s {check:>8.2f}s {floor / size * 1000:>8.1f}ms "
                  f"{check / size * 1000:>8.1f}ms {check / floor:>5.2f}x {peak:>7.0f}MiB"
                  f" {no_data:>8.2f}s {(check / no_data - 1) * 100:>+8.0f}%")
        if len(per_migration) > 1:
            small, large = min(per_migration), max(per_migration)
            print(f"flatness: cost per migration at {large} / at {small} = "
                  f"{per_migration[large] / per_migration[small]:.2f}x (1.00 is perfectly flat)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
