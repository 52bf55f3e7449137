"""A snapshot of everything a migration can change in a database, read from the catalogs.

One round trip: a single UNION ALL query (see the `sql_*` modules) returns one row per object,
`(kind, name, parent, definition)`, with all formatting done by the server. Definitions are kept
as canonical JSON text, so comparing two snapshots is mostly string comparison.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

import psycopg

from migration_check.schema.layered import Frozen
from migration_check.schema.sql_cluster import cluster_families
from migration_check.schema.sql_common import Family, union
from migration_check.schema.sql_relations import relation_families
from migration_check.schema.sql_routines import routine_families
from migration_check.schema.sql_types import type_families
from migration_check.sql import prepared
from migration_check.sql.prepared import Prepared

ObjectKey = tuple[str, str]  # (kind, qualified readable name)

# Any version with every optional field, for the order of fields in messages.
LATEST_VERSION = 999999
TRAILING_FIELDS = ("position", "comment", "owner", "privileges")


class Definition:
    """What an object looks like: canonical JSON text of {field: text}, parsed only on demand."""

    __slots__ = ("text", "_fields")

    def __init__(self, text: str) -> None:
        self.text = text
        self._fields: Mapping[str, str] | None = None

    @property
    def fields(self) -> Mapping[str, str]:
        if self._fields is None:
            parsed = json.loads(self.text)
            self._fields = MappingProxyType({key: _as_text(value) for key, value in parsed.items()})
        return self._fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Definition) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Definition({self.text})"


class Snapshot(Mapping[ObjectKey, Definition]):
    """An immutable mapping ObjectKey -> Definition, plus each object's parent.

    The parent (a column's table, an index's table, a serial's table) lets the diff report a
    dropped table once instead of once per column, index and trigger.
    """

    __slots__ = ("_objects", "_parents")
    _objects: Mapping[ObjectKey, Definition]
    _parents: Mapping[ObjectKey, ObjectKey]

    def __init__(self, objects: Mapping[ObjectKey, Definition], parents: Mapping[ObjectKey, ObjectKey] | None = None) -> None:
        self._objects = dict(objects)
        self._parents = dict(parents or {})

    @classmethod
    def _adopt(cls, objects: Mapping[ObjectKey, Definition], parents: Mapping[ObjectKey, ObjectKey]) -> Snapshot:
        """A snapshot that takes ownership of the given mappings (no copy): the caller's to give
        away (dicts, or the layered views of a snapshot session, see layered.py)."""
        snapshot = cls.__new__(cls)
        snapshot._objects = objects
        snapshot._parents = parents
        return snapshot

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str | None, str | None, str]]) -> Snapshot:
        objects: dict[ObjectKey, Definition] = {}
        parents: dict[ObjectKey, ObjectKey] = {}
        repeated: dict[ObjectKey, list[str]] = {}
        for kind, name, parent_kind, parent_name, text in rows:
            key = (kind, name)
            if key in objects:
                repeated.setdefault(key, [objects[key].text]).append(text)
            objects[key] = Definition(text)
            if parent_kind is not None and parent_name is not None:
                parents[key] = (parent_kind, parent_name)
        # Names are chosen to be unique; should the catalogs ever disagree, keep every object,
        # numbered in a stable order, rather than silently comparing only one of them.
        for (kind, name), texts in repeated.items():
            for number, text in enumerate(sorted(texts), start=1):
                key = (kind, name if number == 1 else f"{name} #{number}")
                objects[key] = Definition(text)
                if (kind, name) in parents:
                    parents[key] = parents[(kind, name)]
        return cls(objects, parents)

    def objects(self) -> Mapping[ObjectKey, Definition]:
        """The objects, unsorted (iterating the snapshot itself sorts them): for fast comparisons."""
        return MappingProxyType(self._objects)

    def parent(self, key: ObjectKey) -> ObjectKey | None:
        return self._parents.get(key)

    def changed_keys(self, other: Snapshot) -> set[ObjectKey] | None:
        """The objects that may differ from `other`'s, when both come from the same session's
        layers (see layered.py); None when only comparing everything can tell."""
        if isinstance(self._objects, Frozen) and isinstance(other._objects, Frozen):
            return self._objects.changed_keys(other._objects)
        return None

    def __getitem__(self, key: ObjectKey) -> Definition:
        return self._objects[key]

    def __iter__(self) -> Iterator[ObjectKey]:
        return iter(sorted(self._objects))

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, key: object) -> bool:
        return key in self._objects

    def __repr__(self) -> str:
        return f"<Snapshot of {len(self)} objects>"


def take_snapshot(conn: psycopg.Connection, *, owners_and_grants: bool = False) -> Snapshot:
    """Read the schema of the connected database (and the cluster's roles), in one round trip.

    The query is large enough that planning it costs more than running it on a small schema, so
    it is a prepared statement of the session (made on first use, and again after a DISCARD ALL).
    The session's settings are left as they were: search_path, standard_conforming_strings and jit
    change only for the implicit transaction of the message (or inside a savepoint, if a
    transaction is open).
    """
    [rows] = prepared.run(conn, [(Prepared(snapshot_query(conn.info.server_version, owners_and_grants)), [])])
    return Snapshot.from_rows(rows)


@functools.cache
def snapshot_query(server_version: int, owners_and_grants: bool) -> str:
    """The one query that reads every object family (depends on the server version)."""
    return union(_families(server_version, owners_and_grants))


def field_rank(field: str) -> int:
    """Where a field comes in messages: the order in which the families declare them."""
    return _field_ranks().get(field, len(_field_ranks()))


@functools.lru_cache(maxsize=1)
def _field_ranks() -> dict[str, int]:
    labels = [label for family in _families(LATEST_VERSION, True) for label, _ in family.fields]
    # What describes an object comes before what merely annotates it.
    labels = [label for label in labels if label not in TRAILING_FIELDS] + list(TRAILING_FIELDS)
    ranks: dict[str, int] = {}
    for label in labels:
        ranks.setdefault(label, len(ranks))
    return ranks


def _families(server_version: int, owners_and_grants: bool) -> list[Family]:
    return [
        *cluster_families(owners_and_grants, server_version),
        *type_families(owners_and_grants, server_version),
        *relation_families(owners_and_grants),
        *routine_families(owners_and_grants, server_version),
    ]


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
