"""SQL of the DDL log (see logged.py): the event triggers that announce what each DDL command
created, altered or dropped, and the queries that keep the anchors of dropped objects at hand.

The event triggers send one notification per object on a channel of the run's own: notifications
are transactional (a rolled-back migration announces nothing) and reach the listening session with
the reply to the command that committed them, so reading the log costs no round trip at all. The
function lives in pg_catalog and the triggers carry the tool's prefix, so that no snapshot prints
them; they fire ALWAYS, so `session_replication_role = replica` does not silence them.
"""

from __future__ import annotations

from migration_check.schema.sql_changes import OWNING_RELATION, rel_anchor, rel_anchor_of, type_anchor
from migration_check.schema.sql_common import ANCHOR_RELATION, ANCHOR_TYPE, FIRST_NORMAL_OID, TOOL_EVENT_TRIGGER_PREFIX

CHANNEL = "migration_check_ddl"
FUNCTION = "pg_catalog.migration_check_ddl_log"
TRIGGERS = {f"{TOOL_EVENT_TRIGGER_PREFIX}end": "ddl_command_end", f"{TOOL_EVENT_TRIGGER_PREFIX}drop": "sql_drop"}

# Payloads: "c <classid> <objid> <objsubid> <command tag>" for a created or altered object (GRANT
# and REVOKE name none: classid 0), "d <classid> <objid> <objsubid> [<anchor>]" for a dropped one, with
# the anchor of the relation it is part of (a constraint, default, trigger, policy or rule: its address
# names the relation), or GONE where that relation went in the same command (its own drop is announced):
# a drop of one that no read placed (made since the last snapshot, announced as its table) then needs no
# full read. Temporary objects are left out: the tool's own sessions make them, and no snapshot prints them.
OWNED_BY_NAME = "'table constraint', 'default value', 'trigger', 'policy', 'rule'"
GONE = "gone"
FUNCTION_BODY = rf"""
DECLARE r record; owner text;
BEGIN
  IF TG_EVENT = 'sql_drop' THEN
    FOR r IN SELECT classid, objid, objsubid, object_type, address_names FROM pg_catalog.pg_event_trigger_dropped_objects()
             WHERE NOT is_temporary LOOP
      owner := NULL;
      IF r.object_type IN ({OWNED_BY_NAME}) THEN
        BEGIN
          owner := coalesce((pg_catalog.to_regclass(pg_catalog.quote_ident(r.address_names[1]) || '.'
                     || pg_catalog.quote_ident(r.address_names[2]))::oid::int8 * 4 + {ANCHOR_RELATION})::text, '{GONE}');
        EXCEPTION WHEN OTHERS THEN
          owner := NULL;  -- (never fail the migration's command: the snapshot then reads everything)
        END;
      END IF;
      PERFORM pg_catalog.pg_notify('{CHANNEL}', 'd ' || r.classid::int8 || ' ' || r.objid::int8 || ' ' || r.objsubid
                                   || coalesce(' ' || owner, ''));
    END LOOP;
  ELSE
    FOR r IN SELECT classid, objid, objsubid, command_tag FROM pg_catalog.pg_event_trigger_ddl_commands()
             WHERE schema_name IS NULL OR schema_name NOT LIKE 'pg\_temp%' LOOP
      PERFORM pg_catalog.pg_notify('{CHANNEL}', 'c ' || coalesce(r.classid::int8, 0) || ' ' || coalesce(r.objid::int8, 0)
                                   || ' ' || coalesce(r.objsubid, 0) || ' ' || r.command_tag);
    END LOOP;
  END IF;
END"""


def install_statements() -> list[str]:
    statements = [f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS event_trigger LANGUAGE plpgsql"
                  f" AS $body${FUNCTION_BODY}$body$"]
    for name, event in TRIGGERS.items():
        statements += [
            f"DROP EVENT TRIGGER IF EXISTS {name}",
            f"CREATE EVENT TRIGGER {name} ON {event} EXECUTE FUNCTION {FUNCTION}()",
            f"ALTER EVENT TRIGGER {name} ENABLE ALWAYS",
        ]
    return statements


# Whether the log still works (a migration may drop or disable the triggers, replace the function,
# or UNLISTEN), and the roles by oid (a renamed role prints differently in policies; roles fire no
# event trigger). Then what the families read whole depend on that fires no event trigger (roles,
# their memberships, settings and comments, event triggers and their comments), as one fingerprint; and whether some
# of them print other objects' names (a publication its tables, a foreign-data wrapper its
# functions), which change without touching them: then they are read every time.
INTACT_QUERY = f"""SELECT
    (SELECT count(*) FROM pg_event_trigger e WHERE e.evtname IN ({", ".join(f"'{name}'" for name in TRIGGERS)})
       AND e.evtenabled = 'A' AND e.evtfoid = to_regproc('{FUNCTION}'))::int8,
    EXISTS (SELECT FROM pg_listening_channels() c WHERE c = '{CHANNEL}'),
    (SELECT md5(p.prosrc) FROM pg_proc p WHERE p.oid = to_regproc('{FUNCTION}')),
    (SELECT array_agg(r.oid::int8 ORDER BY r.oid) FROM pg_roles r),
    (SELECT array_agg(r.rolname::text ORDER BY r.oid) FROM pg_roles r),
    md5(concat_ws('|',
        (SELECT string_agg(r::text, ',' ORDER BY r.oid) FROM pg_roles r),
        (SELECT string_agg(m.roleid || ' ' || m.member || ' ' || m.admin_option, ',' ORDER BY m.roleid, m.member)
           FROM pg_auth_members m),
        (SELECT string_agg(s::text, ',' ORDER BY s.setdatabase, s.setrole) FROM pg_db_role_setting s),
        (SELECT string_agg(d::text, ',' ORDER BY d.objoid) FROM pg_shdescription d
           WHERE d.classoid = 'pg_authid'::regclass),
        (SELECT string_agg(e::text, ',' ORDER BY e.oid) FROM pg_event_trigger e),
        (SELECT string_agg(d::text, ',' ORDER BY d.objoid) FROM pg_description d
           WHERE d.objoid = ANY (ARRAY(SELECT e.oid FROM pg_event_trigger e))
             AND d.classoid = 'pg_event_trigger'::regclass))),
    EXISTS (SELECT FROM pg_publication) OR EXISTS (SELECT FROM pg_foreign_data_wrapper)
      OR EXISTS (SELECT FROM pg_foreign_server)"""

CATALOG_OIDS_QUERY = ("SELECT c.oid::int8, c.relname::text FROM pg_class c"
                      " WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r'")


def anchors_query(relations: str | None = None, types: str | None = None) -> str:
    """Rows (kind, a, b, anchor): ('map', classid, objid, anchor) for every user object that a
    drop may name without naming its anchor, ('inherits', parent, child, NULL) per inheritance
    link. With `relations` and `types` (oid[] expressions), only those of these anchors."""
    rel = ANCHOR_RELATION
    if relations is None or types is None:
        user = f">= {FIRST_NORMAL_OID}"
        where = {
            "class": f"c.oid {user}", "index": "false", "composite": "false",
            "constraint": f"k.oid {user}", "type": f"t.oid {user}",
            "rowtype": "false", "multirange": "false", "inherits": "true", "keys": "false", "key triggers": "true",
            **{catalog: f"x.oid {user}" for catalog in OWNING_RELATION},
        }
    else:
        where = {
            "class": f"c.oid = ANY({relations})", "index": f"ix.indrelid = ANY({relations})",
            "composite": f"t.oid = ANY({types}) AND t.typrelid <> 0",
            "constraint": f"k.conrelid = ANY({relations}) OR (k.conrelid = 0 AND k.contypid = ANY({types}))",
            "type": f"t.oid = ANY({types})",
            "rowtype": f"c.oid = ANY({relations})", "multirange": f"rg.rngtypid = ANY({types})",
            "inherits": f"i.inhparent = ANY({relations})",
            **{catalog: f"x.{column} = ANY({relations})" for catalog, column in OWNING_RELATION.items()},
        }
        # With the foreign keys' triggers on the tables they reference (gone with the key): from the
        # keys to their triggers through pg_depend's index, not an OR that scans every trigger.
        where["keys"] = f"k.conrelid = ANY({relations})"
        where["key triggers"] = f"NOT x.tgrelid = ANY({relations})"
    # Each part is driven by the anchors it is given, the other catalog looked up row by row
    # (LATERAL ... OFFSET 0): the statement is prepared once, and a generic plan made while the
    # catalogs were small would otherwise merge-join them whole once they grow.
    parts = [
        f"SELECT 'pg_class'::regclass::int8, c.oid::int8, {rel_anchor('c')} FROM pg_class c WHERE {where['class']}",
        f"SELECT 'pg_class'::regclass::int8, ix.indexrelid::int8, ix.indrelid::int8 * 4 + {rel} FROM pg_index ix"
        f" WHERE {where['index']}",
        f"SELECT 'pg_class'::regclass::int8, c.oid::int8, {rel_anchor('c')} FROM pg_type t"
        f" CROSS JOIN LATERAL (SELECT * FROM pg_class WHERE oid = t.typrelid OFFSET 0) c WHERE {where['composite']}",
        f"SELECT 'pg_constraint'::regclass::int8, k.oid::int8, CASE WHEN k.conrelid <> 0 THEN {rel_anchor_of('k.conrelid')}"
        f" ELSE k.contypid::int8 * 4 + {ANCHOR_TYPE} END FROM pg_constraint k WHERE {where['constraint']}",
        *(f"SELECT '{catalog}'::regclass::int8, x.oid::int8, x.{column}::int8 * 4 + {rel} FROM {catalog} x"
          f" WHERE {where[catalog]}" for catalog, column in OWNING_RELATION.items()),
        # The keys first, then each one's triggers (LATERAL ... OFFSET 0 fixes that order: a generic
        # plan made while the catalogs were small would read every key's triggers instead).
        f"SELECT 'pg_trigger'::regclass::int8, x.oid::int8, x.tgrelid::int8 * 4 + {rel} FROM pg_constraint k"
        f" CROSS JOIN LATERAL (SELECT d.objid FROM pg_depend d WHERE d.refclassid = 'pg_constraint'::regclass"
        f" AND d.refobjid = k.oid AND d.classid = 'pg_trigger'::regclass OFFSET 0) d"
        f" JOIN pg_trigger x ON x.oid = d.objid WHERE {where['keys']} AND {where['key triggers']}",
        f"SELECT 'pg_type'::regclass::int8, t.oid::int8, {type_anchor('t')} FROM pg_type t WHERE {where['type']}",
        f"SELECT 'pg_type'::regclass::int8, t.oid::int8, {type_anchor('t')} FROM pg_class c"
        f" CROSS JOIN LATERAL (SELECT * FROM pg_type WHERE oid = c.reltype OFFSET 0) t WHERE {where['rowtype']}",
        f"SELECT 'pg_type'::regclass::int8, t.oid::int8, {type_anchor('t')} FROM pg_range rg"
        f" CROSS JOIN LATERAL (SELECT * FROM pg_type WHERE oid = rg.rngmultitypid OFFSET 0) t WHERE {where['multirange']}",
    ]
    mapped = "\nUNION ALL\n".join(f"SELECT 'map'::text AS kind, m.* FROM ({part}) m" for part in parts)
    return (f"{mapped}\nUNION ALL\nSELECT 'inherits'::text, i.inhparent::int8, i.inhrelid::int8, NULL::int8"
            f" FROM pg_inherits i WHERE {where['inherits']}")


def reread_rows(relations: str, types: str) -> str:
    """The anchors query shaped as rows of the re-read query: ('', kind, a, b, NULL, anchor)."""
    return (f"SELECT ''::text, q.kind, q.a::text, q.b::text, NULL::text, q.anchor"
            f" FROM (\n{anchors_query(relations, types)}\n) q(kind, a, b, anchor)")
