"""Snapshots that follow the DDL log instead of probing the catalogs: the cost of a snapshot follows
what the last step did, not the size of the schema.

Where the session may create event triggers (a superuser, as the migration role is by default),
`LoggedSnapshotSession` listens to them (see sql_ddl_log.py): each DDL command announces the
objects it created, altered or dropped, cascades included, with the reply to the command that
committed it. A snapshot then re-reads only the anchors of those objects and of the objects that
print them (the same re-read query as the probe's, incremental.py). The families read whole
(schemas, roles, extensions, ...) are read again when the log names one of their catalogs, when a
fingerprint of what they depend on that fires no event trigger (roles, memberships, role and
database settings, event triggers) changes, or every time while a publication or a foreign-data
wrapper exists (they print other objects' names). Dropped objects are gone from the catalogs when the
log names them: the anchor of every object that a drop may name is kept from the previous reads.
A session on a copy of a database (a rebuild from the checkpoint: `CREATE DATABASE ... TEMPLATE` keeps
every oid) starts from what the copied database's session knew (`SessionState`) instead of reading
it whole.

What event triggers do not see is covered otherwise:
- renamed roles (printed in policies): the roles are compared on every snapshot;
- GRANT and REVOKE name no object: only snapshots with grants read everything again;
- rows written straight into the catalogs, and CLUSTER: the runner says so
  (`note_untracked_changes`, from the statements) and the next snapshot reads everything;
- a migration that drops, disables or replaces the log, or stops the listening: checked on every
  snapshot, then everything is read again and the log reinstalled;
- extensions, collations, operators, languages, ..., a renamed schema, a changed built-in object,
  a snapshot inside an open transaction: everything is read again.
Where the event triggers cannot be created, `start_session` returns the probing session.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import psycopg
from psycopg import pq

from migration_check.schema.incremental import GLOBAL, FullRefresh, SnapshotSession, _array
from migration_check.schema.layered import Layers
from migration_check.schema.snapshot import Definition, ObjectKey, Snapshot, _families
from migration_check.schema.sql_changes import RELATIONS, RESTRICTION, reread_query
from migration_check.schema.sql_common import ANCHOR_RELATION, ANCHOR_ROUTINE, ANCHOR_TYPE, FIRST_NORMAL_OID
from migration_check.schema.sql_ddl_log import (
    CATALOG_OIDS_QUERY,
    CHANNEL,
    GONE,
    INTACT_QUERY,
    TRIGGERS,
    anchors_query,
    install_statements,
    reread_rows,
)
from migration_check.sql.prepared import Call, Prepared

# Catalogs of the objects whose rows are anchored (re-read by anchor); a dropped one of the first
# three is its own anchor when no read placed it.
ANCHORED = frozenset({"pg_class", "pg_type", "pg_proc", "pg_constraint", "pg_trigger", "pg_policy", "pg_rewrite",
                      "pg_attrdef", "pg_statistic_ext"})
OWN_ANCHOR = {"pg_class": ANCHOR_RELATION, "pg_type": ANCHOR_TYPE, "pg_proc": ANCHOR_ROUTINE}
# Catalogs whose objects only the families read whole print.
READ_WHOLE = frozenset({"pg_default_acl", "pg_publication", "pg_publication_rel", "pg_publication_namespace",
                        "pg_event_trigger"})
# A schema created or commented on changes no other object; renamed or given away, it prints
# differently in every object inside.
SCHEMA_TAGS = frozenset({"CREATE SCHEMA", "COMMENT"})

Event = tuple[str, int, int, int, str]  # (c|d, classid, objid, objsubid, command tag)


@dataclass(frozen=True)
class SessionState:
    """What a logged session knew of its database after a snapshot: enough to start a session on a
    byte-for-byte copy of that database (`CREATE DATABASE ... TEMPLATE`: the same oids) without
    reading it whole. Never changed once made: each session started from it copies it."""

    objects: dict[ObjectKey, Definition]
    parents: dict[ObjectKey, ObjectKey]
    keys_by_anchor: dict[int | None, tuple[ObjectKey, ...]]
    placed: dict[tuple[int, int], int]
    children: dict[int, frozenset[int]]
    roles: dict[int, str]
    owners_and_grants: bool


def start_session(conn: psycopg.Connection, *, owners_and_grants: bool = False,
                  copy_of: SessionState | None = None) -> SnapshotSession:
    """A snapshot session on `conn`: the DDL log's where it can be installed, else the probe's.
    `copy_of`: the state of a session on the database `conn`'s is a copy of, as it was copied."""
    session = LoggedSnapshotSession(conn, owners_and_grants=owners_and_grants)
    if session.install():
        if copy_of is not None and copy_of.owners_and_grants == owners_and_grants:
            session.start_from(copy_of)
        return session
    session.close()
    return SnapshotSession(conn, owners_and_grants=owners_and_grants)


class LoggedSnapshotSession(SnapshotSession):
    def __init__(self, conn: psycopg.Connection, *, owners_and_grants: bool = False) -> None:
        super().__init__(conn, owners_and_grants=owners_and_grants)
        self._events: list[Event] = []
        self._placed: dict[tuple[int, int], int] = {}  # (classid, objid) -> anchor, from the reads
        self._children: dict[int, set[int]] = {}  # inheritance, from the reads
        self._roles: dict[int, str] = {}
        self._catalog_names: dict[int, str] = {}  # oid -> name of pg_catalog's tables
        self._source_md5: str | None = None
        self._ready = False  # whether the next snapshot may follow the log
        # The families read whole: whether the log says they changed, their fingerprint (what
        # they depend on that fires no event trigger), and whether they must be read every time.
        self._global_stale = False
        self._global_fingerprint: str | None = None
        self._global_always = True
        self._degraded = False  # the log cannot be installed again: the probe's way from now on
        conn.add_notify_handler(self._notified)

    def close(self) -> None:
        self.conn.remove_notify_handler(self._notified)

    def install(self) -> bool:
        """Create (again) the event triggers and listen. False where this session may not."""
        if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        try:
            with self.conn.transaction():
                for statement in install_statements():
                    self.conn.execute(statement, prepare=False)
                self.conn.execute(f"LISTEN {CHANNEL}", prepare=False)
                self._catalog_names = {oid: name for oid, name in self.conn.execute(CATALOG_OIDS_QUERY, prepare=False)}
                row = self.conn.execute(INTACT_QUERY, prepare=False).fetchone()
        except psycopg.Error:
            return False
        assert row is not None
        self._source_md5 = row[2]
        return True

    def note_untracked_changes(self) -> None:
        self._ready = False

    def state(self) -> SessionState | None:
        """A snapshot now, and what the session knows after it; None where the next snapshot would
        read everything anyway (the log is not followed, or cannot be)."""
        self.take()
        if not self._ready or self._degraded or self._events:
            return None
        return SessionState(dict(self._objects.freeze()), dict(self._parents.freeze()),
                            {anchor: tuple(keys) for anchor, keys in self._keys_by_anchor.items()},
                            dict(self._placed), {parent: frozenset(children) for parent, children in self._children.items()},
                            dict(self._roles), self.owners_and_grants)

    def start_from(self, state: SessionState) -> None:
        """Know what `state` knew, on a copy of its database made as it was taken: the next snapshot
        follows the log from there. The families read whole are read again (the database's own
        settings do not go with a copy), and so is everything if a role was renamed meanwhile."""
        self._objects, self._parents = Layers(dict(state.objects)), Layers(dict(state.parents))
        self._keys_by_anchor = {anchor: list(keys) for anchor, keys in state.keys_by_anchor.items()}
        self._placed = dict(state.placed)
        self._children = {parent: set(children) for parent, children in state.children.items()}
        self._roles = dict(state.roles)
        self._events.clear()  # (install's own: the log's function, which no snapshot prints)
        self._global_stale = True
        self._ready = self.conn.info.transaction_status == pq.TransactionStatus.IDLE

    def take(self) -> Snapshot:
        if self._degraded:
            return super().take()
        try:
            if not self._ready or self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
                raise FullRefresh
            return self._from_log()
        except FullRefresh:
            return self._read_all()

    # -- the two paths -----------------------------------------------------------------------

    def _read_all(self) -> Snapshot:
        self.full_refreshes += 1
        self._events.clear()
        self._global_stale = False
        self._forget()
        rows, placed, [intact] = self._run([(self._full_query(), []), (_ANCHORS, []), (_INTACT, [])])
        self._replace(rows, anchors=None)
        self._placed, self._children = {}, {}
        self._place(placed, set())
        self._ready = self.conn.info.transaction_status == pq.TransactionStatus.IDLE
        try:
            self._check(intact, first=True)
        except FullRefresh:
            if not self.install():
                self._degraded = True  # (what was just read stands; the next snapshots probe)
            self._ready = False
        return self._snapshot()

    def _from_log(self) -> Snapshot:
        events, self._events = self._events, []
        reread = self._reread(events)
        # The families read whole, only when the log or the fingerprint says they changed.
        read_global = self._global_stale or self._global_always
        self._global_stale = False
        calls: list[Call] = [(_INTACT, [])]
        if read_global:
            calls.append((self._global_query(), []))
        if reread is not None:
            calls.append(reread)
        results = self._run(calls, indexed=True)
        self._check(results[0][0], first=False)
        if read_global:
            self._replace(results[1], anchors={GLOBAL})
        if reread is not None:
            self._apply(results[-1])
        # What other sessions committed meanwhile arrived with these replies: read it too.
        while self._events:
            events, self._events = self._events, []
            reread = self._reread(events)
            if reread is not None:
                [rows] = self._run([reread], indexed=True)
                self._apply(rows)
        if self._global_stale:
            self._global_stale = False
            [rows] = self._run([(self._global_query(), [])])
            self._replace(rows, anchors={GLOBAL})
        return self._snapshot()

    def _snapshot(self) -> Snapshot:
        if self._duplicates:
            self._ready = False  # the full snapshot numbers them; read everything next time
        return super()._snapshot()

    # -- the log -------------------------------------------------------------------------------

    def _notified(self, notify: psycopg.Notify) -> None:
        if notify.channel != CHANNEL:
            return
        try:
            kind, classid, objid, objsubid, *tag = notify.payload.split(" ", 4)
            self._events.append((kind, int(classid), int(objid), int(objsubid), tag[0] if tag else ""))
        except ValueError:  # not the log's (a migration may notify on any channel): trust nothing
            self._ready = False

    def _reread(self, events: list[Event]) -> Call | None:
        """The re-read query for what `events` changed, or None when nothing is left to read."""
        changed, anchors, dropped = self._changes(events)
        if not changed and anchors <= dropped:
            # Only dropped objects (a rollback's DROP TABLE, DROP VIEW, DROP FUNCTION): every row
            # they anchor went with them, and nothing else prints them (what did went in the same
            # cascade, or was altered and announced). Nothing to read.
            self._replace([], anchors=set(anchors))
            for anchor in anchors:
                if anchor & 3 == ANCHOR_RELATION:
                    self._children.pop(anchor >> 2, None)
            return None
        classes, oids = [c for c, _ in sorted(changed)], [o for _, o in sorted(changed)]
        return (_logged_reread_query(self.conn.info.server_version, self.owners_and_grants),
                [_array(classes, "oid[]"), _array(oids, "oid[]"), _array(sorted(anchors), "int8[]")])

    def _changes(self, events: list[Event]) -> tuple[set[tuple[int, int]], set[int], set[int]]:
        """What `events` changed: the (classid, oid) of objects created or altered, the anchors to
        read again, and the anchors of relations, types and routines dropped whole."""
        changed: set[tuple[int, int]] = set()
        anchors: set[int] = set()
        dropped: set[int] = set()
        for kind, classid, objid, objsubid, tag in events:
            catalog = self._catalog_names.get(classid)
            if kind == "c" and classid == 0:  # GRANT or REVOKE
                if self.owners_and_grants:
                    raise FullRefresh
                self._global_stale = True  # (on a schema, say)
            elif catalog in ANCHORED:
                if kind == "d" and not objsubid and catalog in OWN_ANCHOR:
                    dropped.add(objid * 4 + OWN_ANCHOR[catalog])
                if kind == "c":
                    if objid < FIRST_NORMAL_OID:
                        raise FullRefresh  # a built-in object changed: it may print differently anywhere
                    changed.add((classid, objid))
                elif catalog == "pg_class" and objsubid:  # a column
                    anchors.add(self._placed.get((classid, objid), objid * 4 + ANCHOR_RELATION))
                else:
                    anchor = self._placed.pop((classid, objid), None)
                    if anchor is None and catalog not in OWN_ANCHOR and (classid, objid) in changed:
                        # Made and dropped since the last read, and announced itself when made (a
                        # trigger, a policy, a statistics object, whose drop names no relation): no
                        # row of it was read, and nothing else prints it.
                        changed.discard((classid, objid))
                        continue
                    if anchor is None and tag == GONE:
                        continue  # its relation went with it: that drop is announced, and read
                    if anchor is None and tag.isdigit():
                        anchor = int(tag)  # the relation it was part of, named by the drop itself
                    if anchor is None:
                        if catalog not in OWN_ANCHOR:
                            raise FullRefresh  # no read placed it, and the drop names no relation
                        anchor = objid * 4 + OWN_ANCHOR[catalog]
                    anchors.add(anchor)
                if catalog == "pg_class":
                    # Partitions and inheritance children change with their parent.
                    anchors |= {child * 4 + ANCHOR_RELATION for child in self._descendants(objid)}
            elif catalog == "pg_namespace":
                if kind == "c" and tag not in SCHEMA_TAGS:
                    raise FullRefresh
                self._global_stale = True
            elif catalog in READ_WHOLE:
                self._global_stale = True
            else:
                raise FullRefresh
        return changed, anchors, dropped

    def _descendants(self, relation: int) -> set[int]:
        found: set[int] = set()
        pending = [relation]
        while pending:
            for child in self._children.get(pending.pop(), ()):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found

    def _apply(self, rows: list[tuple]) -> None:
        [listed] = [row[4] for row in rows if row[0] == "" and row[1] == ""]
        read: set[int | None] = {int(a) for a in listed.strip("{}").split(",") if a}
        self.anchors_read += len(read)
        self._replace((row for row in rows if row[0] != ""), anchors=read)
        relations = {anchor >> 2 for anchor in read if anchor is not None and anchor & 3 == ANCHOR_RELATION}
        self._place([(row[1], int(row[2]), int(row[3]), row[5]) for row in rows if row[0] == "" and row[1] != ""],
                    relations)

    def _place(self, rows: list[tuple], parents: set[int]) -> None:
        """Keep the anchors and inheritance links read (those of `parents` are replaced)."""
        for parent in parents:
            self._children.pop(parent, None)
        for kind, a, b, anchor in rows:
            if kind == "map":
                self._placed[(a, b)] = anchor
            else:
                self._children.setdefault(a, set()).add(b)

    def _check(self, intact: tuple, *, first: bool) -> None:
        triggers, listening, source_md5, role_oids, role_names, fingerprint, always = intact
        if triggers != len(TRIGGERS) or not listening or source_md5 != self._source_md5:
            raise FullRefresh
        self._global_stale |= not first and fingerprint != self._global_fingerprint
        self._global_fingerprint, self._global_always = fingerprint, always
        roles = dict(zip(role_oids or (), role_names or (), strict=True))
        if not first and any(self._roles.get(oid, name) != name for oid, name in roles.items()):
            self._roles = roles
            raise FullRefresh  # a renamed role prints differently in policies
        self._roles = roles


@functools.cache
def _logged_reread_query(server_version: int, grants: bool) -> Prepared:
    families = [family for family in _families(server_version, grants) if family.anchor is not None]
    return Prepared(reread_query(families, extra=reread_rows(RELATIONS, RESTRICTION.types)), "oid[], oid[], int8[]")


_ANCHORS = Prepared(anchors_query())
_INTACT = Prepared(INTACT_QUERY)
