"""The PostgreSQL the project itself runs, as its compose files, CI workflows and Dockerfiles name
it: `image: postgres:16-alpine`, `pgautoupgrade/pgautoupgrade:18-alpine`, `pgvector/pgvector:pg17`,
`FROM postgis/postgis:15-3.4`, a workflow's `services: postgres: image: postgres:${PG:-16}`.

A local installation older than that says so on the server line, with the place the project names
its version: migrations written for a PostgreSQL fail on an older one for their syntax (LemmyNet/
lemmy's `ADD CONSTRAINT ... NOT NULL local_user_id` of PostgreSQL 18, read on 15). It does not
choose the installation: one that lacks an extension the first migration creates fails every
migration after it (hifiwi-fi/breadcrum.net runs 17 and needs uuid-ossp, which only 15 has here:
30 of 30 migrations replayed on 15, 2 on 18). The newest named wins: a project whose CI runs 16
and whose compose file still says 14 needs 16.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from migration_check.errors import InfrastructureError, read_utf8
from migration_check.git_command import run_git

GIT_TIMEOUT = 30
# Where projects name the server they run (git pathspecs, as `git ls-files` reads them).
PLACES = ("*compose*.yml", "*compose*.yaml", ".github/workflows/*.yml", ".github/workflows/*.yaml",
          ".gitlab-ci.yml", ".woodpecker.yml", ".woodpecker.yaml", ".woodpecker/*.yml", ".circleci/config.yml",
          "*Dockerfile*", "*Containerfile*")
# The last part of an image's name, for the images that are PostgreSQL with or without extensions
# (supabase/postgres, cimg/postgres, bitnami/postgresql, timescale/timescaledb-ha, ...).
POSTGRES_IMAGES = frozenset({"postgres", "postgresql", "postgis", "pgvector", "pgautoupgrade", "timescaledb",
                             "timescaledb-ha", "paradedb", "postgres-alpine", "pgvecto-rs"})
MAX_FILES = 200  # a monorepo's hundreds of Dockerfiles: the first ones in path order tell it
# In an image's tag: `pg17` (pgvector's, timescaledb's), else the version it starts with.
PG_TAG, LEADING_NUMBER = re.compile(r"pg(\d+)"), re.compile(r"^(\d+)")
OLDEST, NEWEST = 9, 40  # what a major version can be; a tag like `20240101` is none
# libyaml's loader where PyYAML has it: the same nodes and marks, at a fraction of the pure-Python cost.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class DeclaredServer:
    major: int
    image: str
    path: Path
    line: int

    def where(self, root: Path) -> str:
        shown = self.path.relative_to(root).as_posix() if self.path.is_relative_to(root) else str(self.path)
        return f"{shown}:{self.line}"


@functools.lru_cache(maxsize=4)
def declared_postgres(repo_root: Path) -> DeclaredServer | None:
    """The newest PostgreSQL the repository's compose files, CI and Dockerfiles run, or None (read
    once per run: the server line and each failure that names it ask)."""
    try:
        listed = run_git(repo_root, "ls-files", "-z", "--", *PLACES, timeout=GIT_TIMEOUT)
    except InfrastructureError:  # not a repository, or no git
        return None
    names = sorted(name for name in listed.decode("utf-8", errors="replace").split("\0") if name)[:MAX_FILES]
    found: list[DeclaredServer] = []
    for name in names:
        path = repo_root / name
        try:
            text = read_utf8(path)
        except (OSError, ValueError):
            continue
        lowered = text.lower()
        if not any(image in lowered for image in POSTGRES_IMAGES):
            # No PostgreSQL image named in it: not parsed (a monorepo's many workflows, in pure-Python
            # YAML, took onyx's run 0.6 s before its server started).
            continue
        images = _from_lines(text) if _is_dockerfile(path) else _yaml_images(text)
        found.extend(DeclaredServer(major, image, path, line) for image, line in images
                     if (major := postgres_major(image)) is not None)
    return max(found, key=lambda declared: declared.major, default=None)


def postgres_major(image: str) -> int | None:
    """The PostgreSQL major of an image reference (`postgres:16.2-alpine` is 16), or None where it
    is no PostgreSQL image or its tag names no version (`postgres`, `postgres:latest`)."""
    image = _defaults_put_in(image.strip())
    reference = image.split("@", 1)[0]
    name, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (reference, "", "")
    if name.rsplit("/", 1)[-1].lower() not in POSTGRES_IMAGES or not tag:
        return None
    match = PG_TAG.search(tag.lower()) or LEADING_NUMBER.match(tag)
    if match is None:
        return None
    major = int(match[1])
    return major if OLDEST <= major <= NEWEST else None


def _defaults_put_in(image: str) -> str:
    """`postgres:${PG_VERSION:-16}` as compose reads it where the variable is not set."""
    return re.sub(r"\$\{[^}:]*:?-([^}]*)\}", r"\1", image)


def _is_dockerfile(path: Path) -> bool:
    return "dockerfile" in path.name.lower() or "containerfile" in path.name.lower()


def _from_lines(text: str) -> list[tuple[str, int]]:
    """The images a Dockerfile's FROM lines build on, with their lines."""
    images = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            image = next((word for word in words[1:] if not word.startswith("--")), "")
            images.append((image, number))
    return images


def _yaml_images(text: str) -> list[tuple[str, int]]:
    """Every `image:` of a YAML file that is a string (compose's, a workflow's service's and
    container's, GitLab's and CircleCI's `image: {name: ...}`), with its line."""
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return []
    images: list[tuple[str, int]] = []
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == "image" and isinstance(value, yaml.MappingNode):
                    value = next((named for label, named in value.value if label.value == "name"), value)
                if isinstance(key, yaml.ScalarNode) and key.value == "image" and isinstance(value, yaml.ScalarNode):
                    images.append((str(value.value), value.start_mark.line + 1))
                else:
                    pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return sorted(images, key=lambda found: found[1])
