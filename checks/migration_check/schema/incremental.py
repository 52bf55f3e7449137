"""Snapshots taken again and again on one connection, as the round trip does (three per migration).

`SnapshotSession.take()` returns exactly what `take_snapshot` would return at that moment, but
re-reads only what may have changed since the previous `take()`:

1. The probe (one round trip, with the unanchored families: schemas, roles, extensions, ...
   which are read whole every time) lists the catalog rows written since the previous probe
   (their `xmin` is no older than that probe's snapshot xmin) and, per bucket of 1024 oids, how
   many rows each catalog holds and the sum of their keys (see sql_changes.py).
2. Rows that vanished are found by comparing those buckets with the keys seen so far: a bucket
   short of one row names it by the sums; a bucket short of more is listed (one more round trip).
   pg_attribute rows go with their relation; any other shortfall lists the whole catalog.
3. Each changed row names its anchor (the relation, type or routine whose snapshot rows it
   feeds). The anchors, plus those of the objects that print a changed object (through
   pg_depend: a view of a renamed column, a trigger of a renamed function), are read again by the
   same family queries restricted to them (one round trip).

A change that can alter how any object prints re-reads everything: a renamed schema or role, any
change to collations, extensions, operators, operator classes, languages, access methods, ...; a
changed row of a built-in object; a probe that is too far (in transaction ids) from the previous
one; or anything that does not add up (a bucket with more rows than expected).

Costs: the probe reads the user rows of every tracked catalog (a few cheap columns each), so it
still grows with the schema, but far more slowly than the full query (no deparsing); the re-read
is proportional to what changed. Assumptions, each checked by the differential tests
(tests/test_schema_incremental.py): every change that matters writes a catalog row (DDL does; a
sequence's OWNED BY rewrites its pg_sequence row); objects' names are printed only by objects
that depend on them in pg_depend, or by the families read whole.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from sys import intern

import psycopg

from migration_check.schema.layered import Layers
from migration_check.schema.snapshot import (
    Definition,
    ObjectKey,
    Snapshot,
    _families,
    take_snapshot,
)
from migration_check.schema.sql_changes import (
    BUCKET_BITS,
    BUILTIN,
    NAMED,
    RARE,
    SUM_MODULUS,
    TRACKED,
    TRACKED_BY_NAME,
    fetch_query,
    global_query,
    probe_query,
    reread_query,
)
from migration_check.schema.sql_common import union
from migration_check.sql import prepared
from migration_check.sql.prepared import Call, Prepared

GUARDED = {*RARE, *(f"{catalog} built-in" for catalog in BUILTIN)}
# Further than this (in transaction ids) from the previous probe, xmin comparisons are not trusted.
MAX_AGE = 1 << 30
GLOBAL = None  # the anchor of the unanchored families' rows


class FullRefresh(Exception):
    """Something changed that the incremental path does not follow: read everything again."""


@dataclass
class CatalogState:
    """What the previous probe saw of one tracked catalog."""

    shift: int
    rows: dict[int, tuple[int, int | None]] = field(default_factory=dict)  # key -> (owner, anchor)
    buckets: dict[int, set[int]] = field(default_factory=dict)
    bucket_sums: dict[int, int] = field(default_factory=dict)
    by_owner: dict[int, set[int]] | None = None

    def bucket(self, key: int) -> int:
        return key >> (self.shift + BUCKET_BITS)

    def add(self, key: int, owner: int, anchor: int | None) -> tuple[int, int | None] | None:
        old = self.rows.get(key)
        self.rows[key] = (owner, anchor)
        if old is None:
            bucket = self.bucket(key)
            self.buckets.setdefault(bucket, set()).add(key)
            self.bucket_sums[bucket] = (self.bucket_sums.get(bucket, 0) + key) % SUM_MODULUS
        if self.by_owner is not None:
            if old is not None and old[0] != owner:
                self.by_owner[old[0]].discard(key)  # (an emptied set is harmless)
            self.by_owner.setdefault(owner, set()).add(key)
        return old

    def remove(self, key: int) -> tuple[int, int | None]:
        owner, anchor = self.rows.pop(key)
        bucket = self.bucket(key)
        self.buckets[bucket].discard(key)
        if not self.buckets[bucket]:
            del self.buckets[bucket]
        self.bucket_sums[bucket] = (self.bucket_sums[bucket] - key) % SUM_MODULUS
        if self.by_owner is not None:
            keys = self.by_owner[owner]
            keys.discard(key)
            if not keys:
                del self.by_owner[owner]
        return owner, anchor


class SnapshotSession:
    def __init__(self, conn: psycopg.Connection, *, owners_and_grants: bool = False) -> None:
        self.conn = conn
        self.owners_and_grants = owners_and_grants
        self._xmin: int | None = None  # the previous probe's snapshot xmin (32 bits)
        self._catalogs: dict[str, CatalogState] = {}
        self._names: dict[str, dict[int, str]] = {}
        self._rare: dict[str, int] = {}
        self._attribute_count = 0
        # The snapshot as of the previous take, with each row's anchor.
        self._objects: Layers[ObjectKey, Definition] = Layers()
        self._parents: Layers[ObjectKey, ObjectKey] = Layers()
        self._keys_by_anchor: dict[int | None, list[ObjectKey]] = {}
        self._duplicates = False
        # Statistics, for tests and benchmarks.
        self.full_refreshes = 0
        self.anchors_read = 0

    def _forget(self) -> None:
        """Drop the snapshot held, before reading everything again."""
        self._objects, self._parents, self._keys_by_anchor = Layers(), Layers(), {}

    def note_untracked_changes(self) -> None:
        """The last step may have changed catalogs without DDL (the probe sees every catalog write)."""

    def take(self) -> Snapshot:
        try:
            if self._xmin is None:
                raise FullRefresh
            return self._incremental()
        except FullRefresh:
            return self._full()

    # -- the two paths -----------------------------------------------------------------------

    def _full(self) -> Snapshot:
        self.full_refreshes += 1
        self._xmin = None
        self._catalogs = {
            t.catalog: CatalogState(t.shift, by_owner={} if not t.bucketed else None) for t in TRACKED
        }
        self._names = {catalog: {} for catalog, _ in NAMED}
        self._forget()
        probe, rows = self._run([(_probe_query(), ["NULL"]), (self._full_query(), [])])
        self._read_probe(probe, first=True)
        self._replace(rows, anchors=None)
        return self._snapshot()

    def _incremental(self) -> Snapshot:
        probe, global_rows = self._run([(_probe_query(), [f"'{self._xmin}'"]), (self._global_query(), [])])
        changed_anchors, changed_objects, server_buckets = self._read_probe(probe, first=False)
        deleted = self._find_deletions(server_buckets)
        changed_anchors |= deleted
        self._replace(global_rows, anchors={GLOBAL})
        if changed_anchors or changed_objects:
            classes = [cls for cls, _ in sorted(changed_objects)]
            oids = [oid for _, oid in sorted(changed_objects)]
            anchors = sorted(a for a in changed_anchors if a is not None)
            [rows] = self._run([
                (self._reread_query(), [_array(classes, "regclass[]"), _array(oids, "oid[]"), _array(anchors, "int8[]")]),
            ])
            [listed] = [row[4] for row in rows if row[0] == "" and row[1] == ""]
            read: set[int | None] = {int(a) for a in listed.strip("{}").split(",") if a}
            self.anchors_read += len(read)
            self._replace((row for row in rows if row[0] != ""), anchors=read)
        return self._snapshot()

    # -- the probe ---------------------------------------------------------------------------

    def _read_probe(self, probe: list[tuple], *, first: bool) -> tuple[set[int | None], set[tuple[str, int]], dict]:
        """Apply the new rows; returns (anchors to re-read, changed objects whose printers to look
        for, {catalog: {bucket: (rows, sum)}} as the server counts them)."""
        anchors: set[int | None] = set()
        objects: set[tuple[str, int]] = set()
        buckets: dict[str, dict[int, tuple[int, int]]] = {tracked.catalog: {} for tracked in TRACKED if tracked.bucketed}
        next_xmin = None
        for catalog, bucket, count, total, keys, owners, row_anchors, names in probe:
            tracked = TRACKED_BY_NAME.get(catalog)
            if tracked is not None:
                state = self._catalogs[catalog]
                for key, owner, anchor in zip(keys or (), owners or (), row_anchors or (), strict=True):
                    old = state.add(key, owner, anchor)
                    anchors.add(anchor)
                    if old is not None:
                        anchors.add(old[1])
                        if tracked.object_class is not None:
                            objects.add((tracked.object_class, owner if tracked.object_is_owner else key))
                if tracked.bucketed:
                    buckets[catalog][bucket] = (count, total)
                else:
                    self._attribute_count = count
            elif catalog == "":
                if count is not None and count > MAX_AGE:
                    raise FullRefresh
                next_xmin = int(names[0]) % (1 << 32)
            elif catalog in self._names:
                # All of them every time (few rows; pg_authid itself is for superusers only).
                known = self._names[catalog]
                for oid, name in zip(keys or (), names or (), strict=True):
                    if not first and oid in known and known[oid] != name:
                        raise FullRefresh
                    known[oid] = name
            elif catalog in GUARDED:
                if not first and (keys or self._rare.get(catalog) != count):
                    raise FullRefresh
                self._rare[catalog] = count
        assert next_xmin is not None
        self._xmin = max(next_xmin, 3)
        return anchors, objects, buckets

    def _find_deletions(self, server_buckets: dict[str, dict[int, tuple[int, int]]]) -> set[int | None]:
        """Rows seen before and gone now: their anchors (and the rows forgotten)."""
        anchors: set[int | None] = set()
        deleted_relations: set[int] = set()
        ranges: dict[str, list[tuple[int, int]]] = {}
        for catalog, server in server_buckets.items():
            state = self._catalogs[catalog]
            for bucket in set(server) | set(state.buckets):
                have = len(state.buckets.get(bucket, ()))
                count, total = server.get(bucket, (0, 0))
                residue = (state.bucket_sums.get(bucket, 0) - total) % SUM_MODULUS
                if count > have or (count == have and residue):
                    raise FullRefresh  # rows the previous probes did not see
                if count == have:
                    continue
                candidates = [key for key in state.buckets[bucket] if key % SUM_MODULUS == residue]
                if have - count == 1 and len(candidates) == 1:
                    owner, anchor = state.remove(candidates[0])
                    anchors.add(anchor)
                    if catalog == "pg_class":
                        deleted_relations.add(owner)
                else:
                    low = (bucket << (state.shift + BUCKET_BITS)) >> state.shift
                    ranges.setdefault(catalog, []).append((low, low + (1 << BUCKET_BITS) - 1))
        if ranges:
            anchors |= self._fetch(ranges, deleted_relations)
        # Attributes go with their relation; anything else missing there lists them all.
        attributes = self._catalogs["pg_attribute"]
        assert attributes.by_owner is not None
        for relation in deleted_relations:
            for key in list(attributes.by_owner.get(relation, ())):
                anchors.add(attributes.remove(key)[1])
        if len(attributes.rows) > self._attribute_count:
            anchors |= self._fetch({"pg_attribute": []}, deleted_relations)
        elif len(attributes.rows) < self._attribute_count:
            raise FullRefresh
        return anchors

    def _fetch(self, ranges: dict[str, list[tuple[int, int]]], deleted_relations: set[int]) -> set[int | None]:
        """List the keys in the given ranges of range column values (empty: all); forget those that
        are gone. Returns their anchors."""
        [rows] = self._run([(fetch_query(ranges), [])])
        anchors: set[int | None] = set()
        for catalog, keys, _owners, _row_anchors in rows:
            state = self._catalogs[catalog]
            present = set(keys or ())
            shift = TRACKED_BY_NAME[catalog].shift
            spans = ranges[catalog]
            for key in list(state.rows):
                column = key >> shift
                if key in present or (spans and not any(low <= column <= high for low, high in spans)):
                    continue
                owner, anchor = state.remove(key)
                anchors.add(anchor)
                if catalog == "pg_class":
                    deleted_relations.add(owner)
            if not present <= state.rows.keys():
                raise FullRefresh
        return anchors

    # -- the snapshot --------------------------------------------------------------------------

    def _replace(self, rows: Iterable[tuple], anchors: set[int | None] | None) -> None:
        """Replace the rows of `anchors` (None: all) by `rows` (kind, name, parent kind, parent
        name, definition, anchor)."""
        previous: dict[ObjectKey, Definition] = {}
        for anchor in anchors if anchors is not None else ():
            for key in self._keys_by_anchor.pop(anchor, ()):
                old = self._objects.pop(key)
                assert old is not None
                previous[key] = old
                self._parents.pop(key)
        for kind, name, parent_kind, parent_name, text, anchor in rows:
            # One string per kind and per name: a 5,000-migration schema holds 75,000 objects, each
            # named again by its children as their parent.
            key = (intern(kind), intern(name))
            if key in self._objects:
                self._duplicates = True
            old = previous.get(key)
            self._objects[key] = old if old is not None and old.text == text else Definition(text)
            if parent_kind is not None and parent_name is not None:
                self._parents[key] = (intern(parent_kind), intern(parent_name))
            self._keys_by_anchor.setdefault(anchor, []).append(key)

    def _snapshot(self) -> Snapshot:
        if self._duplicates:
            # Names are meant to be unique; when they are not, the full snapshot numbers them.
            self._xmin = None
            self._duplicates = False
            return take_snapshot(self.conn, owners_and_grants=self.owners_and_grants)
        return Snapshot._adopt(self._objects.freeze(), self._parents.freeze())

    # -- queries -----------------------------------------------------------------------------

    def _full_query(self) -> Prepared:
        return _full_query(self.conn.info.server_version, self.owners_and_grants)

    def _global_query(self) -> Prepared:
        return _global_query(self.conn.info.server_version, self.owners_and_grants)

    def _reread_query(self) -> Prepared:
        return _reread_query(self.conn.info.server_version, self.owners_and_grants)

    def _run(self, calls: Sequence[Call], *, indexed: bool = False) -> list[list[tuple]]:
        """Run the calls in one message (see sql/prepared.py); the rows of each. `indexed`: queries
        that read a few objects, planned with index scans only."""
        return prepared.run(self.conn, calls, indexed=indexed)


@functools.cache
def _probe_query() -> Prepared:
    return Prepared(probe_query(), "xid")


@functools.cache
def _full_query(server_version: int, grants: bool) -> Prepared:
    return Prepared(union(_families(server_version, grants), anchored=True))


@functools.cache
def _global_query(server_version: int, grants: bool) -> Prepared:
    return Prepared(global_query(_families(server_version, grants)))


@functools.cache
def _reread_query(server_version: int, grants: bool) -> Prepared:
    return Prepared(reread_query([family for family in _families(server_version, grants) if family.anchor is not None]),
                    "regclass[], oid[], int8[]")


def _array(values: Sequence[object], cast: str) -> str:
    return "'{" + ",".join(str(value) for value in values) + "}'::" + cast


def _int(value: Decimal | int | None) -> int:
    return int(value) if value is not None else 0
