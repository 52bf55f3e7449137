"""Alternative histories: revision trees that share no revision and cannot stand in one database.

Alembic lets a project keep several bases (`down_revision = None`), each a tree of its own, and
runs them together with `alembic upgrade heads`, or one alone with `alembic upgrade <label>@head`
(script/revision.py: a branch label names a tree's revisions). Most such trees are independent
sets of tables that live side by side. Some are *alternative* histories of the same schema:
aiidateam/aiida-core keeps a `django`, a `sqlalchemy` and a `main` tree, each creating
`db_dbuser`, and its own code upgrades a database along one of them. `alembic upgrade heads` fails
on those ("relation already exists"), and so would a replay of them in one database: that would be
a failure no run of the project's meets.

So trees that create a table of the same name are replayed each in a fresh database of its own,
as `alembic upgrade <label>@head` runs it alone. The rule is read from what the ups create, never
from names or dates: trees that create no table in common stay in one replay, as `upgrade heads`
runs them.

Pure: what is read here comes from the revision headers and the SQL already written for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pglast import ast

from migration_check.model import Migration
from migration_check.sql import SyntaxProblem, split_script, trees

# How many of the shared tables the run's header names.
SHOWN = 3


@dataclass(frozen=True)
class Revision:
    """What the trees are drawn from: a revision and the revisions it follows or depends on."""

    revision: str
    down: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Histories:
    """The migrations, grouped by history (each history's in their own order), and the run's
    header sentence; `reason` is empty where there is one history."""

    migrations: list[Migration]
    reason: str = ""


def trees_of(revisions: Sequence[Revision]) -> list[list[str]]:
    """The revisions grouped into trees (revisions joined by a down revision or a dependency), in
    the order of each tree's first revision in `revisions`."""
    known = {revision.revision for revision in revisions}
    parent = {name: name for name in known}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for revision in revisions:
        for down in revision.down:
            if down in known:
                parent[root(down)] = root(revision.revision)
    grouped: dict[str, dict[str, None]] = {}  # (a dict keeps each revision once, in order)
    for revision in revisions:
        grouped.setdefault(root(revision.revision), {})[revision.revision] = None
    return [list(tree) for tree in grouped.values()]


def shared_tables(created: Sequence[frozenset[str]]) -> list[str]:
    """The tables more than one tree creates, sorted."""
    seen: set[str] = set()
    shared: set[str] = set()
    for names in created:
        shared |= seen & names
        seen |= names
    return sorted(shared)


def alternative_histories(migrations: list[Migration], revisions: Sequence[Revision]) -> Histories:
    """`migrations` (in Alembic's order, their versions the revisions') with each one's history
    named where trees create tables of the same name, grouped history by history."""
    tree_list = trees_of(revisions)
    if len(tree_list) < 2:
        return Histories(migrations)
    by_version = {migration.version: migration for migration in migrations}
    created = [frozenset().union(*(_created_tables(by_version[name]) for name in tree if name in by_version))
               for tree in tree_list]
    shared = shared_tables(created)
    if not shared:
        return Histories(migrations)
    labels = {revision.revision: revision.labels for revision in revisions}
    names = _history_names(tree_list, labels)
    history_of = {revision: name for tree, name in zip(tree_list, names, strict=True) for revision in tree}
    ordered = [replace(migration, history=history_of.get(migration.version, names[-1]))
               for name in names for migration in migrations if history_of.get(migration.version, names[-1]) == name]
    counts = ", ".join(f"{name} ({sum(m.history == name for m in ordered)})" for name in names)
    tables = ", ".join(shared[:SHOWN]) + (f" and {len(shared) - SHOWN} more" if len(shared) > SHOWN else "")
    reason = (f"{len(names)} revision trees share no revision and create the same tables ({tables}): alternative histories,"
              f" which `alembic upgrade heads` cannot put in one database; each is replayed in a fresh database,"
              f" as `alembic upgrade {names[0]}@head` runs one alone: {counts}")
    return Histories(ordered, reason)


def _history_names(tree_list: list[list[str]], labels: dict[str, tuple[str, ...]]) -> list[str]:
    """Each tree's name: its first branch label (as `<label>@head` names it), else its base's revision."""
    names = []
    for tree in tree_list:
        label = next((label for revision in tree for label in labels.get(revision, ())), None)
        names.append(label or tree[0])
    return names


def _created_tables(migration: Migration) -> frozenset[str]:
    """The tables the migration's up creates unconditionally (no IF NOT EXISTS), qualified but in public."""
    if migration.up is None:
        return frozenset()
    try:
        statements = split_script(migration.up)
    except SyntaxProblem:
        return frozenset()
    return frozenset(_created(trees.statements(statement.sql) for statement in statements))


def _created(parsed: Iterable[tuple[ast.RawStmt, ...]]) -> Iterable[str]:
    for raws in parsed:
        for raw in raws:
            node = raw.stmt
            if isinstance(node, ast.CreateStmt) and not node.if_not_exists and node.relation is not None \
                    and node.relation.relname:
                # Qualified where the schema is named (an unqualified name is taken for public's, as
                # the default search_path makes it): two schemas' tables of one name stand together.
                schema = node.relation.schemaname
                yield f"{schema}.{node.relation.relname}" if schema and schema != "public" else node.relation.relname
