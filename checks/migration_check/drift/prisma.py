"""A Prisma schema as the SQL Prisma would create it, through Prisma's own engine, never through a
parser of the Prisma language of our own: `prisma_render.mjs` runs the WebAssembly build of
Prisma's schema engine (`@prisma/schema-engine-wasm`, with `@prisma/driver-adapter-utils`) under
Node.js, offline. The SQL then goes through the same loader as any declared schema.

Needs Node.js 18+ and the two packages, found in `MIGRATION_CHECK_NODE_MODULES`, else in npm's
global root: `npm install -g @prisma/schema-engine-wasm @prisma/driver-adapter-utils`.

Prisma's schema language cannot express views, materialized views, triggers, policies, routines,
row-level security, comments or (without a preview feature) extensions, so what the migrations
make of those is not drift here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from migration_check.errors import UsageError

RENDERER = "prisma_render.mjs"
PACKAGES = ("@prisma/schema-engine-wasm", "@prisma/driver-adapter-utils")
# What a Prisma schema cannot declare: the migrations' own, never drift against it.
NOT_EXPRESSIBLE = frozenset({"view", "materialized view", "trigger", "policy", "function", "procedure",
                             "aggregate", "event trigger", "row security", "extension"})
NOT_EXPRESSIBLE_FIELDS = frozenset({"comment"})


def render(schema: Path, server_version: int) -> str:
    """The SQL that creates `schema` (a .prisma file, or a folder of them) from an empty database."""
    node = shutil.which("node")
    if node is None:
        raise UsageError("--drift-prisma needs Node.js (18 or later) on PATH")
    modules = _node_modules()
    files = sorted(schema.rglob("*.prisma")) if schema.is_dir() else [schema]
    if not files:
        raise UsageError(f"--drift-prisma {schema}: no .prisma file")
    with resources.as_file(resources.files(__package__).joinpath(RENDERER)) as renderer:
        done = subprocess.run([node, str(renderer), str(modules), str(server_version), *map(str, files)],
                              capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise UsageError(f"--drift-prisma {schema}: Prisma's schema engine says: {done.stderr.strip()}")
    return done.stdout


def _node_modules() -> Path:
    candidates = [Path(os.environ["MIGRATION_CHECK_NODE_MODULES"])] if os.environ.get("MIGRATION_CHECK_NODE_MODULES") else []
    npm = shutil.which("npm")
    if npm is not None:
        root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=60).stdout.strip()
        if root:
            candidates.append(Path(root))
    for candidate in candidates:
        if all((candidate / package / "package.json").is_file() for package in PACKAGES):
            return candidate
    raise UsageError("--drift-prisma needs Prisma's schema engine for Node.js: npm install -g "
                     + " ".join(PACKAGES) + " (or set MIGRATION_CHECK_NODE_MODULES to their node_modules)")
