"""Catalog queries for relations and what hangs off them: tables and partitions, columns,
constraints, indexes, sequences, views, triggers, policies, rules and extended statistics."""

from __future__ import annotations

from migration_check.schema.sql_common import (
    ANCHOR_RELATION,
    Family,
    clone_or_relation_parent,
    comment_join,
    enabled_state,
    not_extension_member,
    not_internal_part,
    ownership,
    sorted_list,
    yes_no,
)


def relation_families(grants: bool) -> list[Family]:
    return [
        _tables(grants),
        _columns(grants),
        _constraints(),
        _indexes(),
        _sequences(grants),
        _views(grants),
        _triggers(),
        _policies(),
        _rules(),
        _statistics(),
    ]


def _tables(grants: bool) -> Family:
    return Family(
        anchor=(ANCHOR_RELATION, "r.oid"),
        kind="'table'",
        name="r.qname",
        fields=[
            ("kind", "CASE r.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' ELSE 'table' END"),
            ("persistence", "CASE r.relpersistence WHEN 'u' THEN 'unlogged' WHEN 't' THEN 'temporary' ELSE 'permanent' END"),
            ("row level security", "CASE WHEN r.relrowsecurity THEN 'enabled' ELSE 'disabled' END"),
            ("forced row level security", yes_no("r.relforcerowsecurity")),
            ("options", sorted_list("r.reloptions")),
            ("partition key", "CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END"),
            # regclass prints a qualified name because only pg_catalog is on the search_path.
            (
                "partition of",
                "CASE WHEN r.relispartition THEN"
                " (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = r.oid) END",
            ),
            ("partition bound", "CASE WHEN r.relispartition THEN pg_get_expr(r.relpartbound, r.oid) END"),
            (
                "inherits",
                "CASE WHEN NOT r.relispartition THEN (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)"
                " FROM pg_inherits i WHERE i.inhrelid = r.oid) END",
            ),
            ("access method", "am.amname"),
            (
                "replica identity",
                "CASE r.relreplident WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full' WHEN 'i' THEN 'index' ELSE 'default' END",
            ),
            ("foreign server", "fs.srvname"),
            ("foreign options", sorted_list("ft.ftoptions")),
            ("comment", "dsc.description"),
            *ownership(grants, "r.relowner", "r.relacl", "r"),
        ],
        source=(
            "FROM rel r\n"
            "LEFT JOIN pg_am am ON am.oid = r.relam\n"
            "LEFT JOIN pg_foreign_table ft ON ft.ftrelid = r.oid\n"
            "LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver\n"
            f"{comment_join('dsc', 'r.oid', 'pg_class')}\n"
            "WHERE r.relkind IN ('r', 'p', 'f')"
        ),
    )


def _columns(grants: bool) -> Family:
    collation = (
        "CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END"
    )
    identity_options = (
        "CASE WHEN a.attidentity <> '' THEN concat_ws(' ', 'AS ' || format_type(s.seqtypid, NULL),"
        " 'START ' || s.seqstart, 'INCREMENT ' || s.seqincrement, 'MINVALUE ' || s.seqmin,"
        " 'MAXVALUE ' || s.seqmax, 'CACHE ' || s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE' END) END"
    )
    return Family(
        anchor=(ANCHOR_RELATION, "a.attrelid"),
        kind="'column'",
        name="r.qname || '.' || quote_ident(a.attname)",
        parent_kind="'table'",
        parent_name="r.qname",
        fields=[
            ("type", "format_type(a.atttypid, a.atttypmod)"),
            ("nullability", "CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'nullable' END"),
            ("default", "CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END"),
            ("generated", "CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END"),
            ("identity", "CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END"),
            ("identity sequence", identity_options),
            ("collation", collation),
            ("storage", "CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END"),
            # Ordinal among the live columns, not attnum: a dropped column leaves a hole in attnum.
            # Ignored by the diff unless column order is strict.
            ("position", "(row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum))::text"),
            ("comment", "dsc.description"),
            *(
                [("privileges", sorted_list("a.attacl"))]
                if grants
                else []
            ),
        ],
        source=(
            "FROM pg_attribute a\n"
            "JOIN rel r ON r.oid = a.attrelid AND r.relkind IN ('r', 'p', 'f')\n"
            "JOIN pg_type t ON t.oid = a.atttypid\n"
            "LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum\n"
            "LEFT JOIN pg_depend idd ON a.attidentity <> '' AND idd.refclassid = 'pg_class'::regclass\n"
            "    AND idd.refobjid = a.attrelid AND idd.refobjsubid = a.attnum\n"
            "    AND idd.classid = 'pg_class'::regclass AND idd.deptype = 'i'\n"
            "LEFT JOIN pg_sequence s ON s.seqrelid = idd.objid\n"
            f"{comment_join('dsc', 'a.attrelid', 'pg_class', 'a.attnum')}\n"
            "WHERE a.attnum > 0 AND NOT a.attisdropped"
        ),
    )


def _constraints() -> Family:
    return Family(
        anchor=(ANCHOR_RELATION, "con.conrelid"),
        kind="'constraint'",
        name="quote_ident(con.conname) || ' on ' || r.qname",
        **clone_or_relation_parent(
            "con.conparentid <> 0",
            "constraint",
            "SELECT quote_ident(pc.conname) || ' on ' || pc.conrelid::regclass::text"
            " FROM pg_constraint pc WHERE pc.oid = con.conparentid",
        ),
        fields=[
            (
                "type",
                "CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique'"
                " WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' END",
            ),
            # Includes FK actions, MATCH, DEFERRABLE, NOT VALID, NO INHERIT and index options.
            ("definition", "pg_get_constraintdef(con.oid)"),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_constraint con\n"
            "JOIN rel r ON r.oid = con.conrelid\n"
            f"{comment_join('dsc', 'con.oid', 'pg_constraint')}\n"
            # NOT NULL (PG 18) is the column's nullability; constraint triggers are triggers.
            "WHERE con.contype IN ('p', 'f', 'u', 'c', 'x')\n"
            # A foreign key that references a partitioned table gets one hidden clone per
            # referenced partition, with the same name on the same table: the parent row says it all.
            "  AND NOT (con.contype = 'f' AND con.conparentid <> 0 AND EXISTS (\n"
            "      SELECT FROM pg_constraint pc WHERE pc.oid = con.conparentid AND pc.conrelid = con.conrelid))"
        ),
    )


def _indexes() -> Family:
    return Family(
        anchor=(ANCHOR_RELATION, "i.indrelid"),
        kind="'index'",
        name="ic.qname",
        **clone_or_relation_parent(
            "ic.relispartition",
            "index",
            "SELECT ih.inhparent::regclass::text FROM pg_inherits ih WHERE ih.inhrelid = ic.oid",
            relation="t",
        ),
        fields=[
            # Uniqueness, method, columns, opclasses, INCLUDE, WITH (...) and the predicate.
            ("definition", "pg_get_indexdef(i.indexrelid)"),
            ("clustered", "CASE WHEN i.indisclustered THEN 'yes' END"),
            ("valid", "CASE WHEN NOT i.indisvalid THEN 'no' END"),
            ("replica identity", "CASE WHEN i.indisreplident THEN 'yes' END"),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_index i\n"
            "JOIN rel ic ON ic.oid = i.indexrelid\n"
            "JOIN rel t ON t.oid = i.indrelid\n"
            f"{comment_join('dsc', 'i.indexrelid', 'pg_class')}\n"
            # The index behind a primary key, unique or exclusion constraint is the constraint.
            "WHERE NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = i.indrelid\n"
            "    AND c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))"
        ),
    )


def _sequences(grants: bool) -> Family:
    owner_column = "od.refobjid::regclass::text || '.' || quote_ident(oa.attname)"
    return Family(
        anchor=(ANCHOR_RELATION, "r.oid"),
        kind="'sequence'",
        name="r.qname",
        # A serial's sequence goes with its table: a dropped table does not also report it.
        parent_kind="CASE WHEN od.refobjid IS NOT NULL THEN 'table' END",
        parent_name="od.refobjid::regclass::text",
        fields=[
            ("type", "format_type(s.seqtypid, NULL)"),
            ("start", "s.seqstart::text"),
            ("increment", "s.seqincrement::text"),
            ("minimum", "s.seqmin::text"),
            ("maximum", "s.seqmax::text"),
            ("cache", "s.seqcache::text"),
            ("cycle", yes_no("s.seqcycle")),
            ("persistence", "CASE r.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'permanent' END"),
            ("owned by", owner_column),
            ("comment", "dsc.description"),
            *ownership(grants, "r.relowner", "r.relacl", "s"),
        ],
        source=(
            "FROM rel r\n"
            "JOIN pg_sequence s ON s.seqrelid = r.oid\n"
            "LEFT JOIN pg_depend od ON od.classid = 'pg_class'::regclass AND od.objid = r.oid\n"
            "    AND od.refclassid = 'pg_class'::regclass AND od.deptype = 'a' AND od.refobjsubid > 0\n"
            "LEFT JOIN pg_attribute oa ON oa.attrelid = od.refobjid AND oa.attnum = od.refobjsubid\n"
            f"{comment_join('dsc', 'r.oid', 'pg_class')}\n"
            # Identity sequences are described by their column.
            f"WHERE r.relkind = 'S' AND {not_internal_part('pg_class', 'r.oid')}"
        ),
    )


def _views(grants: bool) -> Family:
    return Family(
        anchor=(ANCHOR_RELATION, "r.oid"),
        kind="r.kind",
        name="r.qname",
        fields=[
            ("definition", "pg_get_viewdef(r.oid)"),
            ("options", sorted_list("r.reloptions")),
            ("populated", "CASE WHEN r.relkind = 'm' THEN " + yes_no("r.relispopulated") + " END"),
            ("comment", "dsc.description"),
            *ownership(grants, "r.relowner", "r.relacl", "r"),
        ],
        source=f"FROM rel r\n{comment_join('dsc', 'r.oid', 'pg_class')}\nWHERE r.relkind IN ('v', 'm')",
    )


def _triggers() -> Family:
    return Family(
        anchor=(ANCHOR_RELATION, "tg.tgrelid"),
        kind="'trigger'",
        name="quote_ident(tg.tgname) || ' on ' || r.qname",
        **clone_or_relation_parent(
            "tg.tgparentid <> 0",
            "trigger",
            "SELECT quote_ident(pt.tgname) || ' on ' || pt.tgrelid::regclass::text"
            " FROM pg_trigger pt WHERE pt.oid = tg.tgparentid",
        ),
        fields=[
            ("definition", "pg_get_triggerdef(tg.oid)"),
            ("state", enabled_state("tg.tgenabled")),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_trigger tg\n"
            "JOIN rel r ON r.oid = tg.tgrelid\n"
            f"{comment_join('dsc', 'tg.oid', 'pg_trigger')}\n"
            # Internal triggers implement foreign keys, which the constraint rows describe.
            "WHERE NOT tg.tgisinternal"
        ),
    )


def _policies() -> Family:
    roles = (
        "array_to_string(ARRAY(SELECT CASE WHEN ro = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(ro)) END"
        " FROM unnest(p.polroles) ro ORDER BY 1), ', ')"
    )
    return Family(
        anchor=(ANCHOR_RELATION, "p.polrelid"),
        kind="'policy'",
        name="quote_ident(p.polname) || ' on ' || r.qname",
        parent_kind="r.kind",
        parent_name="r.qname",
        fields=[
            (
                "command",
                "CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'"
                " WHEN 'd' THEN 'DELETE' ELSE 'ALL' END",
            ),
            ("type", "CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END"),
            ("roles", roles),
            ("using", "pg_get_expr(p.polqual, p.polrelid)"),
            ("with check", "pg_get_expr(p.polwithcheck, p.polrelid)"),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_policy p\n"
            "JOIN rel r ON r.oid = p.polrelid\n"
            f"{comment_join('dsc', 'p.oid', 'pg_policy')}"
        ),
    )


def _rules() -> Family:
    return Family(
        anchor=(ANCHOR_RELATION, "rw.ev_class"),
        kind="'rule'",
        name="quote_ident(rw.rulename) || ' on ' || r.qname",
        parent_kind="r.kind",
        parent_name="r.qname",
        fields=[
            ("definition", "pg_get_ruledef(rw.oid)"),
            ("state", enabled_state("rw.ev_enabled")),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_rewrite rw\n"
            "JOIN rel r ON r.oid = rw.ev_class\n"
            f"{comment_join('dsc', 'rw.oid', 'pg_rewrite')}\n"
            # _RETURN is the body of a view, which the view row describes.
            "WHERE rw.rulename <> '_RETURN'"
        ),
    )


def _statistics() -> Family:
    return Family(
        anchor=(ANCHOR_RELATION, "st.stxrelid"),
        kind="'statistics'",
        name="n.q || '.' || quote_ident(st.stxname)",
        parent_kind="r.kind",
        parent_name="r.qname",
        fields=[
            ("definition", "pg_get_statisticsobjdef(st.oid)"),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_statistic_ext st\n"
            "JOIN nsp n ON n.oid = st.stxnamespace\n"
            "JOIN rel r ON r.oid = st.stxrelid\n"
            f"{comment_join('dsc', 'st.oid', 'pg_statistic_ext')}\n"
            f"WHERE {not_extension_member('pg_statistic_ext', 'st.oid')}"
        ),
    )
