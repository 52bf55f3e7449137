"""What one re-read of the DDL-logged snapshot costs when there is nothing to read.

Applies the ups of a benchmark project (projects.py) to a fresh local database, prepares the
re-read query as the snapshot session does (a generic plan), runs it with empty arrays, and prints
its time against `SELECT 1` on the same session, then what `EXPLAIN ANALYZE` says of one run
(planning, execution, the number of plan nodes). No assertions: this is for reading.

    python benchmarks/reread_cost.py [--project mixed] [--size 400] [--runs 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

from migration_check.schema.incremental import _reread_query
from migration_check.servers.local import LocalProvider

sys.path.insert(0, str(Path(__file__).resolve().parent))
from projects import PROJECTS  # noqa: E402

EMPTY = "'{}'::regclass[], '{}'::oid[], '{}'::int8[]"


def per_call_ms(conn: psycopg.Connection, query: str, runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        conn.execute(query)
    return (time.perf_counter() - started) / runs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", choices=sorted(PROJECTS), default="mixed")
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    ups = [PROJECTS[args.project](i) for i in range(args.size)]
    with LocalProvider() as database, psycopg.connect(database.conninfo, autocommit=True) as conn:
        for migration in ups:
            conn.execute(migration.up.encode())
        reread = _reread_query(conn.info.server_version, False)
        conn.execute("SET plan_cache_mode = force_generic_plan; SET jit = off; SET search_path = pg_catalog")
        conn.execute(reread.prepare())
        execute = f"EXECUTE {reread.name}({EMPTY})"
        conn.execute(execute)  # the generic plan is made here
        print(f"{args.project}, {args.size} migrations applied, PostgreSQL {conn.info.server_version}")
        print(f"empty re-read: {per_call_ms(conn, execute, args.runs):.3f} ms per call")
        print(f"SELECT 1:      {per_call_ms(conn, 'SELECT 1', args.runs):.3f} ms per call")
        plan = [row[0] for row in conn.execute(f"EXPLAIN (ANALYZE, SUMMARY, TIMING off) {execute}").fetchall()]
        nodes = sum(1 for line in plan if "(cost=" in line)
        never = sum(1 for line in plan if "never executed" in line)
        print(f"plan: {nodes} nodes, {never} never executed; " + "; ".join(line.strip() for line in plan[-2:]))


if __name__ == "__main__":
    main()
