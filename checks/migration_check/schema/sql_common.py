"""Building blocks shared by the per-family catalog queries.

Every family contributes one SELECT with the same five columns:

    kind, name, parent_kind, parent_name, definition

`definition` is a `jsonb` object of human-named fields, all text, cast to text on the server.
jsonb stores keys in a canonical order, so two definitions are equal exactly when their texts are:
the client compares strings and parses JSON only for the few objects that differ.

The queries run with `search_path = pg_catalog`, so every name that the server's deparsers print
(`pg_get_indexdef`, `regclass`, `format_type`, ...) comes out schema-qualified and stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# OIDs below this belong to objects made by initdb (pg_catalog, information_schema, ...).
# Comparing against it is a cheap pre-filter; user and extension objects are always above it.
FIRST_NORMAL_OID = 16384
# The tool's own event triggers (the DDL log, see logged.py): never part of a snapshot.
TOOL_EVENT_TRIGGER_PREFIX = "migration_check_ddl_"

# Common table expressions every family may use. MATERIALIZED because each is read many times.
PRELUDE = r"""
WITH
ext AS MATERIALIZED (
    -- Objects that belong to an extension are represented by the extension's own row. (Such a
    -- dependency always references the extension: the condition lets an index find them.)
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e' AND refclassid = 'pg_extension'::regclass
),
nsp AS MATERIALIZED (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl, quote_ident(n.nspname) AS q
    FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
      AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_namespace'::regclass AND ext.objid = n.oid)
),
descr AS MATERIALIZED (
    SELECT objoid, classoid, objsubid, description
    FROM pg_description
    WHERE objoid >= 16384 OR classoid = 'pg_namespace'::regclass
),
rel AS MATERIALIZED (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
           c.reloptions, c.relispartition, c.relpartbound, c.relam, c.relreplident, c.relowner,
           c.relacl, c.relispopulated,
           n.q || '.' || quote_ident(c.relname) AS qname,
           CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                          WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'
                          WHEN 'c' THEN 'composite type' ELSE 'table' END AS kind
    FROM pg_class c
    JOIN nsp n ON n.oid = c.relnamespace
    WHERE c.relkind <> 't'
      AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
)
"""


# What an object's rows are re-read with when it changes (see incremental.py): relations (with
# their columns, constraints, indexes, triggers, ...), types, routines. An anchor is one int8,
# oid * 4 + kind, so that a set of anchors is one array.
ANCHOR_RELATION = 1
ANCHOR_TYPE = 2
ANCHOR_ROUTINE = 3


@dataclass(frozen=True)
class Restriction:
    """Array expressions (int8[] of oids) that a restricted query limits each anchored family to."""

    relations: str
    types: str
    routines: str


@dataclass(frozen=True)
class Family:
    """One SELECT of the snapshot query: the objects of one kind (or a few closely related ones)."""

    kind: str  # SQL expression for the kind column (often a literal)
    name: str  # SQL expression: the readable, qualified, unique name
    fields: Sequence[tuple[str, str]]  # (field label, SQL text expression), in display order
    source: str  # FROM ... [WHERE ...]
    parent_kind: str = "NULL"
    parent_name: str = "NULL"
    # The anchor: (ANCHOR_* kind, SQL oid expression of the anchoring object), or None for the
    # families that are read whole every time (schemas, roles, extensions, ...: few rows).
    anchor: tuple[int, str] | None = None

    def sql(self, *, anchored: bool = False, restriction: Restriction | None = None) -> str:
        pairs = ",\n        ".join(f"{literal(label)}, {expr}" for label, expr in self.fields)
        select = (
            f"SELECT {self.kind}::text AS kind, {self.name}::text AS name,\n"
            f"    {self.parent_kind}::text AS parent_kind, {self.parent_name}::text AS parent_name,\n"
            f"    jsonb_strip_nulls(jsonb_build_object(\n        {pairs}\n    ))::text AS definition"
        )
        if not anchored:
            return f"{select}\n{self.source}"
        anchor = "NULL::int8" if self.anchor is None else f"{self.anchor[1]}::int8 * 4 + {self.anchor[0]}"
        source = self.source
        if restriction is not None and self.anchor is not None:
            arrays = {ANCHOR_RELATION: restriction.relations, ANCHOR_TYPE: restriction.types,
                      ANCHOR_ROUTINE: restriction.routines}
            condition = f"{self.anchor[1]} = ANY({arrays[self.anchor[0]]})"
            # Every family's own WHERE starts a line; those of subqueries never do.
            source += ("\n  AND " if "\nWHERE " in source else "\nWHERE ") + condition
        return f"{select},\n    {anchor} AS anchor\n{source}"


def literal(text: str) -> str:
    """A SQL string literal for text we wrote ourselves (labels, kinds)."""
    return "'" + text.replace("'", "''") + "'"


def yes_no(expr: str) -> str:
    return f"CASE WHEN {expr} THEN 'yes' ELSE 'no' END"


def enabled_state(column: str) -> str:
    """Triggers, rules and event triggers share the session_replication_role states."""
    return (
        f"CASE {column} WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'enabled on replica only'"
        " WHEN 'A' THEN 'enabled always' ELSE 'enabled' END"
    )


def sorted_list(array_expr: str, separator: str = ", ") -> str:
    """The elements of a text array, sorted and joined; NULL when there are none.

    Arrays such as reloptions or proconfig keep the order in which options were set, which a
    faithful rollback need not reproduce.
    """
    return f"NULLIF(array_to_string(ARRAY(SELECT x::text FROM unnest({array_expr}) x ORDER BY 1), {literal(separator)}), '')"


def comment_join(alias: str, oid_expr: str, catalog: str, subid: str = "0") -> str:
    """LEFT JOIN the comment of an object; read it as `{alias}.description`."""
    return (
        f"LEFT JOIN descr {alias} ON {alias}.objoid = {oid_expr}"
        f" AND {alias}.classoid = {literal(catalog)}::regclass AND {alias}.objsubid = {subid}"
    )


def not_extension_member(catalog: str, oid_expr: str) -> str:
    return f"NOT EXISTS (SELECT FROM ext WHERE ext.classid = {literal(catalog)}::regclass AND ext.objid = {oid_expr})"


def not_internal_part(catalog: str, oid_expr: str) -> str:
    """Excludes objects made as an internal part of another one (identity sequences, range
    constructors): the owning object describes them."""
    return (
        f"NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = {literal(catalog)}::regclass"
        f" AND d.objid = {oid_expr} AND d.deptype = 'i')"
    )


def clone_or_relation_parent(is_clone: str, clone_kind: str, clone_name: str, relation: str = "r") -> dict[str, str]:
    """Family parent arguments: what a partition's clone was made from, else its relation.

    Indexes, constraints and triggers of a partitioned table are cloned onto every partition;
    reporting the partitioned table's object alone says it all.
    """
    return {
        "parent_kind": f"CASE WHEN {is_clone} THEN {literal(clone_kind)} ELSE {relation}.kind END",
        "parent_name": f"CASE WHEN {is_clone} THEN ({clone_name}) ELSE {relation}.qname END",
    }


def privileges(acl_expr: str, owner_expr: str, object_type: str | None) -> str:
    """The ACL as sorted text. A NULL ACL means "the defaults", so make those explicit: a GRANT
    followed by the matching REVOKE leaves an explicit ACL that equals the default one."""
    if object_type is None:
        return sorted_list(acl_expr)
    return sorted_list(f"coalesce({acl_expr}, acldefault({literal(object_type)}, {owner_expr}))")


def ownership(grants: bool, owner_expr: str, acl_expr: str | None, object_type: str | None) -> list[tuple[str, str]]:
    """The owner and privileges fields, present only when owners and grants are compared."""
    if not grants:
        return []
    fields = [("owner", f"quote_ident(pg_get_userbyid({owner_expr}))")]
    if acl_expr is not None:
        fields.append(("privileges", privileges(acl_expr, owner_expr, object_type)))
    return fields


def union(
    families: Sequence[Family], *, anchored: bool = False, restriction: Restriction | None = None, prelude: str = PRELUDE
) -> str:
    """The snapshot query. `anchored` adds each row's anchor; a `restriction` reads only the rows of
    the given anchors (and every row of the unanchored families)."""
    return prelude + "\nUNION ALL\n".join(family.sql(anchored=anchored, restriction=restriction) for family in families)
