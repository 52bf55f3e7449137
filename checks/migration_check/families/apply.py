"""apply: the migration's up runs, in order, on the state the earlier migrations left.

When it fails because something does not exist and an earlier migration could not be replayed (a
goose Go migration, a Flyway Java one), the message says that one may have created it: the
failure is then the replay's blind spot, not necessarily the migration's fault.
"""

from __future__ import annotations

from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.model import CheckResult
from migration_check.sql.dialects import UNDEFINED_OBJECT, missing_type, newer_postgresql, other_dialect

# undefined table, column, function, object, schema
MISSING_OBJECT_STATES = frozenset({"42P01", "42703", "42883", "42704", "3F000"})
FEATURE_NOT_SUPPORTED = "0A000"
# Types that come with an extension, which production databases often have installed by hand.
EXTENSION_TYPES = {"vector": "vector", "halfvec": "vector", "sparsevec": "vector", "geometry": "postgis",
                   "geography": "postgis", "citext": "citext", "hstore": "hstore", "ltree": "ltree", "cube": "cube"}


class Apply(Family):
    name = "apply"
    stage = Stage.UP_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.up is not None
        result = context.step_result(self.name, context.up)
        failure = context.up.failure
        if failure is not None and failure.sqlstate in MISSING_OBJECT_STATES and context.skipped_before:
            names = ", ".join(context.project.relative(m.main_file) or m.id for m in context.skipped_before[-3:])
            result.message += f" (not replayed before it: {names}, which may have created it)"
        elif failure is not None and (hint := other_dialect(failure.sqlstate, failure.message)
                                      or newer_postgresql(failure.sqlstate, failure.statement,
                                                          context.conn.info.server_version)):
            result.message += f" {hint}"
        elif failure is not None and (extension := _extension_of_missing_type(failure.sqlstate, failure.message)):
            result.message += (f" ({extension[0]} is a type of the {extension[1]} extension: CREATE EXTENSION {extension[1]}"
                               " first, in a migration or a setup script (`--setup FILE`), on a server that has it)")
        elif failure is not None and failure.sqlstate == FEATURE_NOT_SUPPORTED and failure.message.startswith("extension ") \
                and failure.message.endswith(" is not available"):
            # The server's, not the migration's: production has the extension installed.
            result.message += (" (this server does not have it: check on one that does, `--postgres-image IMAGE`"
                               " (Supabase's: supabase/postgres) or `--database-url URL`)")
        elif failure is not None and failure.sqlstate == UNDEFINED_OBJECT and failure.message.startswith("role "):
            # Roles are the server's, not the migrations': production has the application's role.
            result.message += (" (a role the migrations expect the server to have: create it in a setup script,"
                               " `--setup FILE` or `setup:` in the config)")
        return result


def _extension_of_missing_type(sqlstate: str | None, message: str) -> tuple[str, str] | None:
    """(type, extension) when the missing type is a well-known extension's."""
    written = missing_type(sqlstate, message)
    if written is None:
        return None
    name = written.rsplit(".", 1)[-1]  # extensions.vector is vector
    extension = EXTENSION_TYPES.get(name)
    return (name, extension) if extension else None
