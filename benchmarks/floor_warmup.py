"""How the floor's cost per migration moves as one run goes on.

Runs a project's up/down/up stream through psql on one fresh database, a chunk of migrations at a
time, and prints each chunk's time per migration. On the machine of BENCHMARKS.md the synthetic
floor falls from about 8 ms per migration in the first hundred to about 4.4 ms from the six
hundredth on, while the check's own cost stays flat: why the check's ratio to the floor grows with
the size of the project. No assertions: this is for reading.

    python benchmarks/floor_warmup.py [--project synthetic] [--size 1000] [--chunk 100]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migration_check.servers.binaries import find_binaries
from migration_check.servers.local import LocalProvider

sys.path.insert(0, str(Path(__file__).resolve().parent))
from projects import PROJECTS, floor_stream  # noqa: E402
from run import fresh_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", choices=sorted(PROJECTS), default="synthetic")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=100)
    args = parser.parse_args()
    psql = shutil.which("psql") or str(find_binaries().bindir / "psql")
    migrations = [PROJECTS[args.project](i) for i in range(args.size)]
    with LocalProvider() as database, tempfile.TemporaryDirectory(prefix="migration-check-floor-") as work:
        conninfo = fresh_database(database.conninfo, "bench_floor_warmup", psql)
        stream = Path(work) / "chunk.sql"
        costs = []
        for start in range(0, args.size, args.chunk):
            chunk = migrations[start:start + args.chunk]
            stream.write_text(floor_stream(chunk))
            began = time.perf_counter()
            subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-f", str(stream)],
                           check=True, stdout=subprocess.DEVNULL)
            costs.append((time.perf_counter() - began) / len(chunk) * 1000)
    print(f"{args.project}: the floor per migration, {args.chunk} migrations at a time (ms):")
    print(" ".join(f"{cost:.1f}" for cost in costs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
