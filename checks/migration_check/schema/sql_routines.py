"""Catalog queries for functions, procedures, aggregates and event triggers."""

from __future__ import annotations

from migration_check.schema.sql_common import (
    ANCHOR_ROUTINE,
    TOOL_EVENT_TRIGGER_PREFIX,
    Family,
    comment_join,
    enabled_state,
    not_extension_member,
    not_internal_part,
    ownership,
    sorted_list,
    yes_no,
)


def routine_families(grants: bool, server_version: int) -> list[Family]:
    return [_routines(grants, server_version), _event_triggers(grants)]


def _routines(grants: bool, server_version: int) -> Family:
    # SQL-standard bodies (BEGIN ATOMIC, RETURN expr; PostgreSQL 14+) live in prosqlbody.
    body = "p.prosrc"
    if server_version >= 140000:
        body = "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
    aggregate = (
        "CASE WHEN p.prokind = 'a' THEN concat_ws(', ',"
        " 'SFUNC = ' || ag.aggtransfn::regprocedure::text,"
        " 'STYPE = ' || format_type(ag.aggtranstype, NULL),"
        " CASE WHEN ag.aggfinalfn <> 0 THEN 'FINALFUNC = ' || ag.aggfinalfn::regprocedure::text END,"
        " CASE WHEN ag.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || ag.aggcombinefn::regprocedure::text END,"
        " 'INITCOND = ' || quote_literal(ag.agginitval),"
        " CASE WHEN ag.aggsortop <> 0 THEN 'SORTOP = ' || ag.aggsortop::regoperator::text END) END"
    )
    return Family(
        anchor=(ANCHOR_ROUTINE, "p.oid"),
        kind="CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END",
        # regprocedure: qualified name and argument types only, the identity of a routine.
        name="p.oid::regprocedure",
        fields=[
            ("arguments", "pg_get_function_arguments(p.oid)"),
            ("returns", "pg_get_function_result(p.oid)"),
            ("language", "quote_ident(l.lanname)"),
            ("body", body),
            ("library", "p.probin"),
            ("window", "CASE WHEN p.prokind = 'w' THEN 'yes' END"),
            ("volatility", "CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END"),
            ("null input", "CASE WHEN p.proisstrict THEN 'STRICT' ELSE 'CALLED ON NULL INPUT' END"),
            ("security", "CASE WHEN p.prosecdef THEN 'DEFINER' ELSE 'INVOKER' END"),
            ("leakproof", yes_no("p.proleakproof")),
            ("parallel", "CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' ELSE 'UNSAFE' END"),
            ("cost", "p.procost::text"),
            ("rows", "CASE WHEN p.proretset THEN p.prorows::text END"),
            ("support", "CASE WHEN p.prosupport <> 0 THEN p.prosupport::regproc::text END"),
            ("configuration", sorted_list("p.proconfig")),
            ("aggregate", aggregate),
            ("comment", "dsc.description"),
            *ownership(grants, "p.proowner", "p.proacl", "f"),
        ],
        source=(
            "FROM pg_proc p\n"
            "JOIN nsp n ON n.oid = p.pronamespace\n"
            "JOIN pg_language l ON l.oid = p.prolang\n"
            "LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid\n"
            f"{comment_join('dsc', 'p.oid', 'pg_proc')}\n"
            # A range type's constructor functions go with the type.
            f"WHERE {not_extension_member('pg_proc', 'p.oid')} AND {not_internal_part('pg_proc', 'p.oid')}"
        ),
    )


def _event_triggers(grants: bool) -> Family:
    return Family(
        kind="'event trigger'",
        name="quote_ident(e.evtname)",
        fields=[
            ("event", "e.evtevent::text"),
            ("tags", sorted_list("e.evttags")),
            ("function", "e.evtfoid::regprocedure::text"),
            ("state", enabled_state("e.evtenabled")),
            ("comment", "dsc.description"),
            *ownership(grants, "e.evtowner", None, None),
        ],
        source=(
            "FROM pg_event_trigger e\n"
            f"{comment_join('dsc', 'e.oid', 'pg_event_trigger')}\n"
            f"WHERE {not_extension_member('pg_event_trigger', 'e.oid')}"
            # The tool's own (the DDL log's, see logged.py) are not the project's.
            f" AND e.evtname NOT LIKE '{TOOL_EVENT_TRIGGER_PREFIX.replace('_', chr(92) + '_')}%'"
        ),
    )
