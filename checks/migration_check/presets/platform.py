"""What Supabase's platform provides that a plain PostgreSQL lacks, and what to say when a
migration or a seed misses it.

Supabase's image (supabase/postgres) has the `auth`, `storage`, `realtime`, `vault`, `graphql`, ...
schemas, the `supabase_realtime` publication and extensions of its own. The `supabase` setup preset
makes the common part on any server (the auth, storage and extensions schemas with the tables and
functions migrations use most, the API roles, the publication); the rest needs Supabase's image.
So the hint depends on whether the preset already ran: suggesting it again would be no help.
"""

from __future__ import annotations

from migration_check.model import Project
from migration_check.presets import setup_names
from migration_check.settings import Settings
from migration_check.sql.dialects import UNDEFINED_OBJECT, UNDEFINED_SCHEMA, missing_object
from migration_check.sql.objects import unquote

SUPABASE_SCHEMAS = frozenset({"auth", "storage", "extensions", "realtime", "vault", "graphql", "graphql_public",
                              "supabase_functions", "pgsodium"})
PRESET_SCHEMAS = frozenset({"auth", "storage", "extensions"})  # what presets/supabase.sql creates
PUBLICATION = "supabase_realtime"
IMAGE = "check on Supabase's image (`--postgres-image supabase/postgres`)"


def supabase_preset_ran(project: Project, settings: Settings) -> bool:
    """Whether the `supabase` preset is among the setup scripts (asked for, or the layout's own)."""
    return "supabase" in setup_names(project, settings.setup)


def supabase_hint(sqlstate: str | None, message: str, preset_ran: bool) -> str | None:
    """Where a missing-object error names something of Supabase's platform: what gives it."""
    found = _supabase_object(sqlstate, message)
    if found is None:
        return None
    what, schema = found
    if not preset_ran and (schema in PRESET_SCHEMAS or what.startswith("publication ")):
        return (f"({what} is Supabase's: the `supabase` setup preset makes the auth, storage and extensions schemas,"
                f" their common tables and functions and the {PUBLICATION} publication (`--setup supabase`);"
                f" for the rest, {IMAGE})")
    ran = "the `supabase` setup that ran here does not make it" if preset_ran else "the `supabase` setup preset does not make it"
    return f"({what} is Supabase's, and {ran}: {IMAGE})"


def _supabase_object(sqlstate: str | None, message: str) -> tuple[str, str] | None:
    """(what, its schema) for the Supabase platform schema, publication, table or function a
    missing-object error names, else None."""
    if (found := missing_object(sqlstate, message)) is None:
        return None
    kind, written = found
    if sqlstate == UNDEFINED_SCHEMA and message.startswith("schema ") and written in SUPABASE_SCHEMAS:
        return f"schema {written}", written
    if sqlstate == UNDEFINED_OBJECT and message.startswith("publication ") and written == PUBLICATION:
        return f"publication {written}", ""
    if kind in ("relation", "function") and "." in written and (
            schema := unquote(written.split(".", 1)[0])) in SUPABASE_SCHEMAS:
        return f"{'table' if kind == 'relation' else 'function'} {written}", schema
    return None
