"""How long `take_snapshot` takes as the schema grows.

Builds schemas of N tables (each with a primary key, an index, a function and a view) in a fresh
database and prints the time per snapshot and per object. No assertions: this is for reading.

    python benchmarks/snapshot_timing.py                     # local throwaway server, 100 and 1000
    python benchmarks/snapshot_timing.py --sizes 100 1000 3000 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator

import psycopg

from migration_check.schema import diff_snapshots, take_snapshot
from migration_check.schema.snapshot import snapshot_query
from migration_check.servers.base import Database
from migration_check.servers.local import LocalProvider
from migration_check.servers.url import UrlProvider

TABLE_DDL = """
CREATE TABLE t{i} (id bigserial PRIMARY KEY, name text NOT NULL DEFAULT '', created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX t{i}_name_idx ON t{i} (name) WHERE name <> '';
CREATE FUNCTION f{i}(p_id bigint) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT name FROM t{i} WHERE id = p_id);
END;
$$;
CREATE VIEW v{i} AS SELECT id, name FROM t{i} WHERE created_at > now() - interval '1 day';
"""


@contextlib.contextmanager
def server(url: str | None) -> Iterator[Database]:
    if url:
        yield Database(conninfo=url, server_version=0, description=url)
        return
    with LocalProvider() as database:
        yield database


def build(conn: psycopg.Connection, tables: int) -> float:
    started = time.perf_counter()
    with conn.transaction():
        for start in range(0, tables, 100):
            conn.execute("".join(TABLE_DDL.format(i=i) for i in range(start, min(start + 100, tables))))
    return time.perf_counter() - started


def measure(conn: psycopg.Connection, repeat: int) -> tuple[float, float, int]:
    """(median seconds per snapshot, median seconds of the unprepared query alone, objects)"""
    take_snapshot(conn)  # warm the caches, as the second and third snapshot of a migration are
    totals, servers = [], []
    objects = 0
    query = "SET LOCAL search_path = pg_catalog; SET LOCAL jit = off; " + snapshot_query(conn.info.server_version, False)
    for _ in range(repeat):
        started = time.perf_counter()
        objects = len(take_snapshot(conn))
        totals.append(time.perf_counter() - started)
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(query, prepare=False)
            while cur.nextset():
                pass
            cur.fetchall()
        servers.append(time.perf_counter() - started)
    return statistics.median(totals), statistics.median(servers), objects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", help="an existing server; a throwaway database is made on it")
    args = parser.parse_args()

    with server(args.database_url) as cluster:
        print(f"server: {cluster.description}")
        columns = (("tables", 7), ("objects", 8), ("build s", 8), ("snapshot ms", 12), ("unprepared ms", 15),
                   ("us/object", 10), ("diff ms", 8))
        print(" ".join(f"{name:>{width}}" for name, width in columns))
        for size in args.sizes:
            with UrlProvider(cluster.conninfo) as database, contextlib.closing(
                psycopg.connect(database.conninfo, autocommit=True)
            ) as conn:
                built = build(conn, size)
                total, server_side, objects = measure(conn, args.repeat)
                first, second = take_snapshot(conn), take_snapshot(conn)
                started = time.perf_counter()
                diff_snapshots(first, second)
                diffed = time.perf_counter() - started
                print(
                    f"{size:>7} {objects:>8} {built:>8.2f} {total * 1000:>12.1f} {server_side * 1000:>15.1f}"
                    f" {total / objects * 1e6:>10.1f} {diffed * 1000:>8.2f}"
                )


if __name__ == "__main__":
    main()
