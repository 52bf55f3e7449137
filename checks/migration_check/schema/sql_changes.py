"""Catalog queries that find what changed since a previous snapshot (see incremental.py).

The probe reads, for every catalog whose rows the snapshot prints, only a few cheap columns:

- the rows written since the previous probe (`age(xmin)` no older than the previous probe's
  snapshot xmin): their key, owner (whose deletion takes the row with it) and anchor (what to
  re-read: a relation, a type or a routine, as `oid * 4 + kind`);
- how many rows there are, with the sum of their keys, per bucket of 1024 oids: comparing these
  with what the previous probe saw finds the rows deleted since (DROP leaves no row behind);
- for catalogs whose changes are rare but can change how any object prints (schemas and roles,
  when renamed; operators, operator classes, languages, collations, extensions, ...), the count
  and whether any row is new: any change there re-reads everything.

Keys are int8: the row's oid, or its identifying columns packed into one number.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from migration_check.schema.sql_common import (
    ANCHOR_RELATION,
    ANCHOR_ROUTINE,
    ANCHOR_TYPE,
    PRELUDE,
    Family,
    Restriction,
    union,
)

# Rows at least this old are not new: the argument of every probe is the previous probe's
# snapshot xmin (every transaction before it had ended when that probe read the catalogs).
NEW = "($1 IS NULL OR age(x.xmin) <= (SELECT a FROM w))"
BUCKET_BITS = 10
# Bucket sums are taken modulo this prime (int4 sums are cheap; a key's residue still names it).
SUM_MODULUS = 2147483647
FIRST_NORMAL_OID = 16384


def rel_anchor(alias: str) -> str:
    """The anchor of a pg_class row: an index goes with its table, a composite type is a type."""
    return (
        f"CASE WHEN {alias}.relkind IN ('i', 'I') THEN (SELECT ix.indrelid::int8 * 4 + {ANCHOR_RELATION}"
        f" FROM pg_index ix WHERE ix.indexrelid = {alias}.oid)"
        f" WHEN {alias}.relkind = 'c' THEN {alias}.reltype::int8 * 4 + {ANCHOR_TYPE}"
        f" ELSE {alias}.oid::int8 * 4 + {ANCHOR_RELATION} END"
    )


def rel_anchor_of(oid_expr: str) -> str:
    return f"(SELECT {rel_anchor('c')} FROM pg_class c WHERE c.oid = {oid_expr})"


def type_anchor(alias: str) -> str:
    """The anchor of a pg_type row: a multirange goes with its range, a row type with its relation."""
    return (
        f"CASE WHEN {alias}.typtype = 'm' THEN (SELECT rg.rngtypid::int8 * 4 + {ANCHOR_TYPE}"
        f" FROM pg_range rg WHERE rg.rngmultitypid = {alias}.oid)"
        f" WHEN {alias}.typrelid <> 0 THEN {rel_anchor_of(f'{alias}.typrelid')}"
        f" ELSE {alias}.oid::int8 * 4 + {ANCHOR_TYPE} END"
    )


# Catalogs of objects that belong to one relation, and the column that names it: such an object is
# re-read with its relation.
OWNING_RELATION = {"pg_trigger": "tgrelid", "pg_policy": "polrelid", "pg_rewrite": "ev_class",
                   "pg_attrdef": "adrelid", "pg_statistic_ext": "stxrelid"}


def anchor_of(classid: str, objid: str) -> str:
    """The anchor of any object that the snapshot prints as part of an anchored family, else NULL."""
    owned = "".join(
        f" WHEN '{catalog}'::regclass THEN (SELECT own.{column}::int8 * 4 + {ANCHOR_RELATION} FROM {catalog} own"
        f" WHERE own.oid = {objid})"
        for catalog, column in OWNING_RELATION.items()
    )
    return (
        f"CASE {classid}"
        f" WHEN 'pg_class'::regclass THEN {rel_anchor_of(objid)}"
        f" WHEN 'pg_type'::regclass THEN (SELECT {type_anchor('t')} FROM pg_type t WHERE t.oid = {objid})"
        f" WHEN 'pg_proc'::regclass THEN {objid}::int8 * 4 + {ANCHOR_ROUTINE}"
        f" WHEN 'pg_constraint'::regclass THEN (SELECT CASE WHEN k.conrelid <> 0 THEN {rel_anchor_of('k.conrelid')}"
        f" ELSE k.contypid::int8 * 4 + {ANCHOR_TYPE} END FROM pg_constraint k WHERE k.oid = {objid})"
        f"{owned} END"
    )


@dataclass(frozen=True)
class Tracked:
    """A catalog whose rows are tracked one by one."""

    catalog: str
    key: str  # int8 expression, unique per row; key >> shift is the bucket
    shift: int  # bucket = key >> shift = range_column >> BUCKET_BITS
    range_column: str  # the indexed column the key starts with, to fetch one bucket's keys
    owner: str  # oid expression: the object whose deletion deletes this row
    anchor: str  # int8 expression, or NULL: what to re-read when the row changes
    # The class of the object a change of this row may rename or retype, for the objects that
    # print it (found through pg_depend); None when no other object prints what the row holds.
    object_class: str | None = None
    object_is_owner: bool = False  # that object is the owner, else the row itself (key = oid)
    where: str = ""
    # Deletions are found through buckets; without them (pg_attribute: large, and its rows
    # only go with their relation), through the owners' deletions and the total.
    bucketed: bool = True
    # Read the user rows through the index on the range column (where most rows are built-in).
    index_range: bool = False


TRACKED = (
    Tracked("pg_class", "x.oid::int8", 0, "x.oid", "x.oid", rel_anchor("x"), "pg_class"),
    Tracked(
        "pg_attribute", "(x.attrelid::int8 << 12) | (x.attnum + 16)", 12, "x.attrelid", "x.attrelid",
        rel_anchor_of("x.attrelid"), "pg_class", object_is_owner=True, bucketed=False,
    ),
    Tracked("pg_attrdef", "x.oid::int8", 0, "x.oid", "x.adrelid", f"x.adrelid::int8 * 4 + {ANCHOR_RELATION}"),
    Tracked(
        "pg_constraint", "x.oid::int8", 0, "x.oid", "CASE WHEN x.conrelid <> 0 THEN x.conrelid ELSE x.contypid END",
        f"CASE WHEN x.conrelid <> 0 THEN {rel_anchor_of('x.conrelid')} ELSE x.contypid::int8 * 4 + {ANCHOR_TYPE} END",
        "pg_constraint",
    ),
    Tracked("pg_index", "x.indexrelid::int8", 0, "x.indexrelid", "x.indexrelid", f"x.indrelid::int8 * 4 + {ANCHOR_RELATION}"),
    Tracked("pg_trigger", "x.oid::int8", 0, "x.oid", "x.tgrelid", f"x.tgrelid::int8 * 4 + {ANCHOR_RELATION}", "pg_trigger"),
    Tracked("pg_policy", "x.oid::int8", 0, "x.oid", "x.polrelid", f"x.polrelid::int8 * 4 + {ANCHOR_RELATION}"),
    Tracked("pg_rewrite", "x.oid::int8", 0, "x.oid", "x.ev_class", f"x.ev_class::int8 * 4 + {ANCHOR_RELATION}",
            index_range=True),
    Tracked("pg_statistic_ext", "x.oid::int8", 0, "x.oid", "x.stxrelid", f"x.stxrelid::int8 * 4 + {ANCHOR_RELATION}"),
    Tracked(
        "pg_inherits", "(x.inhrelid::int8 << 16) | x.inhseqno", 16, "x.inhrelid", "x.inhrelid",
        rel_anchor_of("x.inhrelid"),
    ),
    Tracked("pg_sequence", "x.seqrelid::int8", 0, "x.seqrelid", "x.seqrelid",
            f"x.seqrelid::int8 * 4 + {ANCHOR_RELATION}", "pg_class"),
    Tracked("pg_foreign_table", "x.ftrelid::int8", 0, "x.ftrelid", "x.ftrelid", f"x.ftrelid::int8 * 4 + {ANCHOR_RELATION}"),
    Tracked("pg_type", "x.oid::int8", 0, "x.oid", "x.oid", type_anchor("x"), "pg_type"),
    # A renamed label prints differently in defaults, views, checks, ... of the enum.
    Tracked("pg_enum", "x.oid::int8", 0, "x.oid", "x.enumtypid", f"x.enumtypid::int8 * 4 + {ANCHOR_TYPE}", "pg_type",
            object_is_owner=True),
    Tracked("pg_range", "x.rngtypid::int8", 0, "x.rngtypid", "x.rngtypid", f"x.rngtypid::int8 * 4 + {ANCHOR_TYPE}"),
    Tracked("pg_proc", "x.oid::int8", 0, "x.oid", "x.oid", f"x.oid::int8 * 4 + {ANCHOR_ROUTINE}", "pg_proc", index_range=True),
    Tracked("pg_aggregate", "x.aggfnoid::int8", 0, "x.aggfnoid", "x.aggfnoid", f"x.aggfnoid::int8 * 4 + {ANCHOR_ROUTINE}"),
    # Comments: (object, catalog, column) packed; comments on built-in objects are not printed
    # except the public schema's, whose family is read whole anyway.
    Tracked(
        "pg_description", "(x.objoid::int8 << 25) | ((x.classoid::int8 & 16383) << 11) | x.objsubid", 25,
        "x.objoid", "x.objoid", anchor_of("x.classoid", "x.objoid"), index_range=True,
    ),
    # Extension membership (ALTER EXTENSION ADD/DROP changes nothing else); the index on the
    # referenced side makes this read only the members' rows.
    Tracked(
        "pg_depend", "(x.objid::int8 << 20) | (x.classid::int8 & 1048575)", 20, "x.objid", "x.objid",
        anchor_of("x.classid", "x.objid"), where="x.refclassid = 'pg_extension'::regclass AND x.deptype = 'e'",
    ),
)
TRACKED_BY_NAME = {tracked.catalog: tracked for tracked in TRACKED}

# Renaming one of these changes how other objects print; other changes concern only their own
# families, which are read whole every time. Few rows: all of them are listed every time.
NAMED = (("pg_namespace", "nspname"), ("pg_roles", "rolname"))

# Any change here re-reads everything: rare in migrations, and printed by many objects (operator
# and operator class names in indexes and views, languages in routines, collations, ...).
RARE = (
    "pg_extension", "pg_collation", "pg_operator", "pg_opclass", "pg_opfamily", "pg_language", "pg_am",
    "pg_cast", "pg_foreign_data_wrapper", "pg_foreign_server", "pg_ts_config", "pg_ts_dict", "pg_ts_parser",
    "pg_ts_template", "pg_conversion", "pg_transform",
)
# The same for the built-in types and functions (renamed by a superuser, they print differently
# everywhere); user rows of these catalogs are tracked one by one.
BUILTIN = ("pg_type", "pg_proc")

def _tracked_sql(tracked: Tracked) -> str:
    """Rows (catalog, bucket, rows, sum of keys modulo SUM_MODULUS, new keys, their owners, their
    anchors, NULL): one per bucket, or one in all (bucket NULL, no sum) for an unbucketed catalog."""
    # Objects made by initdb are not printed (pg_catalog, information_schema): only user rows, read
    # through the index where built-in rows are most of the catalog (the guard sees their changes).
    column = tracked.range_column if tracked.index_range else f"{tracked.range_column}::int8"
    where = f" WHERE {column} >= {FIRST_NORMAL_OID}" + (f" AND {tracked.where}" if tracked.where else "")
    # Owner and anchor (which may look up other catalogs) are computed for the new rows only.
    new = (
        f"array_agg({tracked.key}) FILTER (WHERE {NEW}), array_agg({tracked.owner}::int8) FILTER (WHERE {NEW}),"
        f" array_agg({tracked.anchor}) FILTER (WHERE {NEW}), NULL::text[]"
    )
    source = f"FROM {tracked.catalog} x{where}"
    if not tracked.bucketed:
        return f"(SELECT {literal_text(tracked.catalog)}, NULL::int8, count(*), NULL::int8,\n    {new}\n{source})"
    return (
        f"(SELECT {literal_text(tracked.catalog)}, ({tracked.key}) >> {tracked.shift + BUCKET_BITS}, count(*),"
        f" sum((({tracked.key}) % {SUM_MODULUS})::int4),\n    {new}\n{source} GROUP BY 2)"
    )


def literal_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'::text"


@functools.lru_cache(maxsize=1)
def probe_query() -> str:
    """Rows (catalog, bucket, count, sum, keys, owners, anchors, names): those of the tracked
    catalogs (see _tracked_sql); for the named ones, every oid and name; for the guarded ones,
    the count and the new oids; then ('', NULL, age of $1, NULL, ..., {snapshot xmin}) to give the
    next probe.

    $1 (xid): the previous probe's snapshot xmin; NULL reads every row as new.
    """
    parts = [_tracked_sql(tracked) for tracked in TRACKED]
    for catalog, column in NAMED:
        parts.append(
            f"(SELECT {literal_text(catalog)}, NULL::int8, count(*), NULL::int8, array_agg(x.oid::int8), NULL::int8[],"
            f" NULL::int8[], array_agg(x.{column}::text) FROM {catalog} x)"
        )
    guarded = [(catalog, catalog, "") for catalog in RARE]
    guarded += [(f"{catalog} built-in", catalog, f" WHERE x.oid < {FIRST_NORMAL_OID}") for catalog in BUILTIN]
    for label, catalog, where in guarded:
        parts.append(
            f"(SELECT {literal_text(label)}, NULL::int8, count(*), NULL::int8, array_agg(x.oid::int8) FILTER (WHERE {NEW}),"
            f" NULL::int8[], NULL::int8[], NULL::text[] FROM {catalog} x{where})"
        )
    parts.append(
        "(SELECT ''::text, NULL::int8, (SELECT a FROM w)::int8, NULL::int8, NULL::int8[], NULL::int8[], NULL::int8[],"
        " ARRAY[pg_snapshot_xmin(pg_current_snapshot())::text])"
    )
    return "WITH w AS MATERIALIZED (SELECT age($1) AS a)\n" + "\nUNION ALL\n".join(parts)


def fetch_query(ranges: dict[str, list[tuple[int, int]]]) -> str:
    """The keys of the given catalogs in the given ranges of their range column (None: all)."""
    parts = []
    for catalog, spans in sorted(ranges.items()):
        tracked = TRACKED_BY_NAME[catalog]
        conditions = [tracked.where] if tracked.where else []
        if spans:
            conditions.append(
                "(" + " OR ".join(f"{tracked.range_column} BETWEEN {low} AND {high}" for low, high in spans) + ")"
            )
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        parts.append(
            f"SELECT {literal_text(catalog)}, array_agg({tracked.key}), array_agg({tracked.owner}::int8),"
            f" array_agg({tracked.anchor}) FROM {tracked.catalog} x{where}"
        )
    return "\nUNION ALL\n".join(parts)


# The objects that print a changed object (one step through pg_depend), and, for objects that are
# an internal or automatic part of another (an identity sequence of its column, a multirange of its
# range), that other object.
EXPANSION = f"""WITH
chg AS MATERIALIZED (SELECT * FROM unnest($1::oid[], $2::oid[]) AS c(classid, objid)),
dep AS MATERIALIZED (
    SELECT d.classid, d.objid FROM chg JOIN pg_depend d ON d.refclassid = chg.classid AND d.refobjid = chg.objid
    UNION
    SELECT d.refclassid, d.refobjid FROM chg JOIN pg_depend d ON d.classid = chg.classid AND d.objid = chg.objid
    WHERE d.deptype IN ('i', 'a')
),
anchors AS MATERIALIZED (
    SELECT unnest($3::int8[]) AS a
    UNION
    SELECT {anchor_of('chg.classid', 'chg.objid')} FROM chg
    UNION
    SELECT {anchor_of('dep.classid', 'dep.objid')} FROM dep
),
arel AS MATERIALIZED (SELECT coalesce(array_agg((a >> 2)::oid), '{{}}') AS oids FROM anchors WHERE a & 3 = {ANCHOR_RELATION}),
atyp AS MATERIALIZED (SELECT coalesce(array_agg((a >> 2)::oid), '{{}}') AS oids FROM anchors WHERE a & 3 = {ANCHOR_TYPE}),
afn AS MATERIALIZED (SELECT coalesce(array_agg((a >> 2)::oid), '{{}}') AS oids FROM anchors WHERE a & 3 = {ANCHOR_ROUTINE}),
-- The anchored relations and their indexes.
arelx AS MATERIALIZED (SELECT ARRAY(SELECT unnest(oids) FROM arel UNION ALL
    SELECT ix.indexrelid FROM pg_index ix WHERE ix.indrelid = ANY((SELECT oids FROM arel)::oid[])) AS oids),
"""
RELATIONS = "(SELECT oids FROM arel)::oid[]"
RESTRICTION = Restriction(relations=RELATIONS, types="(SELECT oids FROM atyp)::oid[]", routines="(SELECT oids FROM afn)::oid[]")
# `rel` holds only the anchored relations and their indexes: the families join it as a small table.
RESTRICTED_REL = "c.oid = ANY((SELECT oids FROM arelx)::oid[]) AND c.relkind <> 't'"


def reread_query(families: list[Family], extra: str = "") -> str:
    """The rows of the given changed objects, the given anchors and the objects that print the
    changed objects (of the anchored `families`); first a row ('', '', NULL, NULL, the anchors read
    as text, NULL), then those of `extra` (a SELECT of such rows, which may use the CTEs).

    $1 (regclass[]), $2 (oid[]): the changed objects' classes and oids; $3 (int8[]): anchors.
    """
    assert PRELUDE.count("WHERE c.relkind <> 't'") == 1
    # Comments are looked up through their index rather than read whole.
    prelude = EXPANSION + PRELUDE.removeprefix("\nWITH\n").replace("WHERE c.relkind <> 't'", "WHERE " + RESTRICTED_REL).replace(
        "descr AS MATERIALIZED", "descr AS NOT MATERIALIZED"
    )
    first = "SELECT '', '', NULL, NULL, (SELECT coalesce(array_agg(a), '{}') FROM anchors WHERE a IS NOT NULL)::text, NULL::int8"
    if extra:
        first += f"\nUNION ALL\n{extra}"
    return union(families, anchored=True, restriction=RESTRICTION, prelude=f"{prelude}{first}\nUNION ALL\n")


def global_query(families: list[Family]) -> str:
    """Every row of the unanchored families (read whole every time)."""
    return union([family for family in families if family.anchor is None], anchored=True)
