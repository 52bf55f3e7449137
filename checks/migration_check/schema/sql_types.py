"""Catalog queries for user-defined types (enums, domains, composite, range, base and shell
types) and collations."""

from __future__ import annotations

from migration_check.schema.sql_common import (
    ANCHOR_TYPE,
    Family,
    comment_join,
    not_extension_member,
    ownership,
    yes_no,
)


def type_families(grants: bool, server_version: int) -> list[Family]:
    return [_types(grants, server_version), _collations()]


def _types(grants: bool, server_version: int) -> Family:
    labels = (
        "CASE WHEN t.typtype = 'e' THEN '(' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', '"
        " ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')' END"
    )
    domain_constraints = (
        "CASE WHEN t.typtype = 'd' THEN (SELECT string_agg(quote_ident(c.conname) || ' '"
        " || pg_get_constraintdef(c.oid), '; ' ORDER BY c.conname)"
        # NOT NULL is typnotnull; from PostgreSQL 17 it is also a constraint row.
        " FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype <> 'n') END"
    )
    # Attribute order is part of a composite type (row constructors are positional), so keep it.
    attributes = (
        "CASE WHEN t.typtype = 'c' THEN (SELECT string_agg(quote_ident(a.attname) || ' '"
        " || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attcollation <> at.typcollation"
        " THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END, ', ' ORDER BY a.attnum)"
        " FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid"
        " WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END"
    )
    multirange = "rg.rngmultitypid::regtype::text" if server_version >= 140000 else "NULL"
    return Family(
        anchor=(ANCHOR_TYPE, "t.oid"),
        kind=(
            "CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite type'"
            " WHEN 'r' THEN 'range type' WHEN 'p' THEN 'shell type' ELSE 'base type' END"
        ),
        name="n.q || '.' || quote_ident(t.typname)",
        fields=[
            ("labels", labels),
            ("attributes", attributes),
            ("base type", "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END"),
            ("nullability", "CASE WHEN t.typtype = 'd' THEN CASE WHEN t.typnotnull THEN 'NOT NULL' ELSE 'nullable' END END"),
            ("default", "t.typdefault"),
            ("constraints", domain_constraints),
            (
                "collation",
                "CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation"
                " THEN t.typcollation::regcollation::text END",
            ),
            ("subtype", "format_type(rg.rngsubtype, NULL)"),
            ("subtype operator class", "quote_ident(opc.opcname)"),
            ("subtype collation", "CASE WHEN rg.rngcollation <> 0 THEN rg.rngcollation::regcollation::text END"),
            ("canonical", "CASE WHEN rg.rngcanonical <> 0 THEN rg.rngcanonical::regproc::text END"),
            ("subtype diff", "CASE WHEN rg.rngsubdiff <> 0 THEN rg.rngsubdiff::regproc::text END"),
            ("multirange", multirange),
            (
                "functions",
                "CASE WHEN t.typtype = 'b' THEN concat_ws(', ', 'INPUT = ' || t.typinput::regproc::text,"
                " 'OUTPUT = ' || t.typoutput::regproc::text, 'RECEIVE = ' || t.typreceive::regproc::text,"
                " 'SEND = ' || t.typsend::regproc::text) END",
            ),
            (
                "storage",
                "CASE WHEN t.typtype = 'b' THEN concat_ws(', ', 'INTERNALLENGTH = ' || t.typlen,"
                " 'ALIGNMENT = ' || t.typalign::text, 'STORAGE = ' || t.typstorage::text, 'CATEGORY = ' || t.typcategory::text,"
                " 'PASSEDBYVALUE = ' || " + yes_no("t.typbyval") + ") END",
            ),
            ("comment", "dsc.description"),
            *ownership(grants, "t.typowner", "t.typacl", "T"),
        ],
        source=(
            "FROM pg_type t\n"
            # (Not an index condition on pg_type: read by anchor, the types come by oid, and a
            # generic plan made while pg_type was small would scan a whole schema's types.)
            "JOIN nsp n ON n.oid::int8 = t.typnamespace::int8\n"
            "LEFT JOIN pg_class tc ON tc.oid = t.typrelid\n"
            "LEFT JOIN pg_type bt ON bt.oid = t.typbasetype\n"
            "LEFT JOIN pg_range rg ON rg.rngtypid = t.oid\n"
            "LEFT JOIN pg_opclass opc ON opc.oid = rg.rngsubopc\n"
            f"{comment_join('dsc', 't.oid', 'pg_type')}\n"
            # Multiranges come with their range; a table's row type is the table.
            "WHERE t.typtype IN ('b', 'c', 'd', 'e', 'p', 'r')\n"
            "  AND (t.typtype <> 'c' OR tc.relkind = 'c')\n"
            # The array type made automatically for every type.
            # (OFFSET 0: looked up type by type, never a hash of every type, whatever the plan.)
            "  AND NOT (t.typelem <> 0 AND EXISTS (SELECT FROM pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid"
            " OFFSET 0))\n"
            f"  AND {not_extension_member('pg_type', 't.oid')}"
        ),
    )


def _collations() -> Family:
    return Family(
        kind="'collation'",
        name="n.q || '.' || quote_ident(co.collname)",
        fields=[
            ("provider", "CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' ELSE co.collprovider::text END"),
            ("deterministic", yes_no("co.collisdeterministic")),
            # The locale columns differ between server versions (colliculocale, colllocale); the
            # JSON of the row, minus what legitimately changes, covers them all.
            (
                "locale",
                "(to_jsonb(co) - 'oid' - 'collname' - 'collnamespace' - 'collowner' - 'collversion'"
                " - 'collprovider' - 'collisdeterministic')::text",
            ),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_collation co\n"
            "JOIN nsp n ON n.oid = co.collnamespace\n"
            f"{comment_join('dsc', 'co.oid', 'pg_collation')}\n"
            f"WHERE co.oid >= 16384 AND {not_extension_member('pg_collation', 'co.oid')}"
        ),
    )
