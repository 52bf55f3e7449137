"""Catalog queries for schemas, extensions, roles (cluster-wide), database settings,
publications, foreign data wrappers and servers, and default privileges."""

from __future__ import annotations

from migration_check.schema.sql_common import (
    Family,
    comment_join,
    not_extension_member,
    ownership,
    sorted_list,
    yes_no,
)

CURRENT_DATABASE = "(SELECT oid FROM pg_database WHERE datname = current_database())"


def cluster_families(grants: bool, server_version: int) -> list[Family]:
    families = [
        _schemas(grants),
        _extensions(),
        _roles(server_version),
        _database_settings(),
        _publications(server_version),
        _foreign_data_wrappers(grants),
        _foreign_servers(grants),
    ]
    if grants:
        families.append(_default_privileges())
    return families


def _schemas(grants: bool) -> Family:
    return Family(
        kind="'schema'",
        name="n.q",
        fields=[("comment", "dsc.description"), *ownership(grants, "n.nspowner", "n.nspacl", "n")],
        source=f"FROM nsp n\n{comment_join('dsc', 'n.oid', 'pg_namespace')}",
    )


def _extensions() -> Family:
    return Family(
        kind="'extension'",
        name="quote_ident(x.extname)",
        fields=[
            ("version", "x.extversion"),
            ("schema", "quote_ident(xn.nspname)"),
            ("comment", "dsc.description"),
        ],
        source=(
            "FROM pg_extension x\n"
            "JOIN pg_namespace xn ON xn.oid = x.extnamespace\n"
            f"{comment_join('dsc', 'x.oid', 'pg_extension')}"
        ),
    )


def _roles(server_version: int) -> Family:
    attributes = (
        "concat_ws(' ', CASE WHEN ro.rolsuper THEN 'SUPERUSER' END, CASE WHEN ro.rolcreatedb THEN 'CREATEDB' END,"
        " CASE WHEN ro.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN NOT ro.rolinherit THEN 'NOINHERIT' END,"
        " CASE WHEN ro.rolcanlogin THEN 'LOGIN' END, CASE WHEN ro.rolreplication THEN 'REPLICATION' END,"
        " CASE WHEN ro.rolbypassrls THEN 'BYPASSRLS' END,"
        " CASE WHEN ro.rolconnlimit <> -1 THEN 'CONNECTION LIMIT ' || ro.rolconnlimit END,"
        " CASE WHEN ro.rolvaliduntil IS NOT NULL THEN 'VALID UNTIL ' || quote_literal(ro.rolvaliduntil::text) END)"
    )
    options = "CASE WHEN m.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END"
    if server_version >= 160000:
        options += (
            " || CASE WHEN NOT m.inherit_option THEN ' INHERIT FALSE' ELSE '' END"
            " || CASE WHEN NOT m.set_option THEN ' SET FALSE' ELSE '' END"
        )
    # DISTINCT: from PostgreSQL 16 the same membership can be granted by several grantors.
    member_of = (
        "(SELECT string_agg(grant_text, ', ' ORDER BY grant_text) FROM (SELECT DISTINCT quote_ident(g.rolname) || "
        + options
        + " AS grant_text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = ro.oid) gr)"
    )
    database_config = (
        "(SELECT " + sorted_list("s.setconfig") + " FROM pg_db_role_setting s"
        f" WHERE s.setrole = ro.oid AND s.setdatabase = {CURRENT_DATABASE})"
    )
    return Family(
        kind="'role'",
        name="quote_ident(ro.rolname)",
        fields=[
            ("attributes", attributes),
            ("member of", member_of),
            ("configuration", sorted_list("ro.rolconfig")),
            ("configuration in this database", database_config),
            ("comment", "sd.description"),
        ],
        source=(
            "FROM pg_roles ro\n"
            "LEFT JOIN pg_shdescription sd ON sd.objoid = ro.oid AND sd.classoid = 'pg_authid'::regclass\n"
            # Predefined roles come with the server.
            r"WHERE ro.rolname NOT LIKE 'pg\_%'"
        ),
    )


def _database_settings() -> Family:
    return Family(
        kind="'database settings'",
        name="''",
        fields=[("configuration", sorted_list("s.setconfig"))],
        source=f"FROM pg_db_role_setting s WHERE s.setrole = 0 AND s.setdatabase = {CURRENT_DATABASE}",
    )


def _publications(server_version: int) -> Family:
    operations = (
        "concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,"
        " CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END)"
    )
    fields = [
        ("all tables", yes_no("p.puballtables")),
        ("operations", operations),
        ("via partition root", yes_no("p.pubviaroot")),
        (
            "tables",
            "(SELECT string_agg(pr.prrelid::regclass::text, ', ' ORDER BY pr.prrelid::regclass::text)"
            " FROM pg_publication_rel pr WHERE pr.prpubid = p.oid)",
        ),
    ]
    if server_version >= 150000:
        fields.append((
            "schemas",
            "(SELECT string_agg(pn.pnnspid::regnamespace::text, ', ' ORDER BY pn.pnnspid::regnamespace::text)"
            " FROM pg_publication_namespace pn WHERE pn.pnpubid = p.oid)",
        ))
    fields.append(("comment", "dsc.description"))
    return Family(
        kind="'publication'",
        name="quote_ident(p.pubname)",
        fields=fields,
        source=f"FROM pg_publication p\n{comment_join('dsc', 'p.oid', 'pg_publication')}",
    )


def _foreign_data_wrappers(grants: bool) -> Family:
    return Family(
        kind="'foreign data wrapper'",
        name="quote_ident(w.fdwname)",
        fields=[
            ("handler", "CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::regproc::text END"),
            ("validator", "CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::regproc::text END"),
            ("options", sorted_list("w.fdwoptions")),
            ("comment", "dsc.description"),
            *ownership(grants, "w.fdwowner", "w.fdwacl", "F"),
        ],
        source=(
            "FROM pg_foreign_data_wrapper w\n"
            f"{comment_join('dsc', 'w.oid', 'pg_foreign_data_wrapper')}\n"
            f"WHERE {not_extension_member('pg_foreign_data_wrapper', 'w.oid')}"
        ),
    )


def _foreign_servers(grants: bool) -> Family:
    return Family(
        kind="'foreign server'",
        name="quote_ident(s.srvname)",
        fields=[
            ("wrapper", "quote_ident(w.fdwname)"),
            ("type", "s.srvtype"),
            ("version", "s.srvversion"),
            ("options", sorted_list("s.srvoptions")),
            ("comment", "dsc.description"),
            *ownership(grants, "s.srvowner", "s.srvacl", "S"),
        ],
        source=(
            "FROM pg_foreign_server s\n"
            "JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw\n"
            f"{comment_join('dsc', 's.oid', 'pg_foreign_server')}"
        ),
    )


def _default_privileges() -> Family:
    return Family(
        kind="'default privileges'",
        name=(
            "'for role ' || quote_ident(pg_get_userbyid(d.defaclrole))"
            " || coalesce(' in schema ' || quote_ident(dn.nspname), '') || ' on ' ||"
            " CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'"
            " WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END"
        ),
        fields=[("privileges", sorted_list("d.defaclacl"))],
        source="FROM pg_default_acl d\nLEFT JOIN pg_namespace dn ON dn.oid = d.defaclnamespace",
    )
