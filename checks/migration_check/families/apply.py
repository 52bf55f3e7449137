"""apply: the migration's up runs, in order, on the state the earlier migrations left.

When it fails because something does not exist and an earlier migration could not be replayed (a
goose Go migration, a Flyway Java one, a Prisma project's data migration in code) or failed to
apply: where that migration's text names the missing object, the case is skipped with the reason
(the replay's blind spot, or the earlier failure's consequence, not this migration's fault);
otherwise the message says that one may have created it. When the missing
table is created by no earlier migration but by a SQL file elsewhere in the repository (a baseline
schema), the message names that file and how to run it first.
"""

from __future__ import annotations

from migration_check.discovery.baselines import files_creating, statement_creating
from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.model import CheckResult, Migration, Status
from migration_check.replay.executor import ScriptFailed
from migration_check.sql.dialects import (
    UNDEFINED_OBJECT,
    missing_function,
    missing_type,
    newer_postgresql,
    other_dialect,
)
from migration_check.sql.extensions import extension_object
from migration_check.sql.objects import statement_names, unquote

# undefined table, column, function, object, schema
MISSING_OBJECT_STATES = frozenset({"42P01", "42703", "42883", "42704", "3F000"})
FEATURE_NOT_SUPPORTED = "0A000"
UNDEFINED_TABLE = "42P01"
UNDEFINED_SCHEMA = "3F000"
# The schemas Supabase's platform provides (supabase/postgres), which its projects' migrations use.
SUPABASE_SCHEMAS = frozenset({"auth", "storage", "extensions", "realtime", "vault", "graphql", "graphql_public",
                              "supabase_functions", "pgsodium"})
UNREPLAYED = "apply: needs an unreplayed migration"  # context.notes key (needs_unreplayed)
ROLLBACK_UNREPLAYED = "rollback: needs an unreplayed migration"  # likewise, for the rollback


class Apply(Family):
    name = "apply"
    stage = Stage.UP_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.up is not None
        result = context.step_result(self.name, context.up)
        failure = context.up.failure
        if (creator := needs_unreplayed(context)) is not None:
            # The migration needs what code the check cannot run made: it cannot be judged.
            return context.result(self.name, Status.SKIPPED, message=creator)
        if failure is not None and (hint := _later_creator(context, failure.sqlstate, failure.message)
                                    or _baseline_hint(context, failure.sqlstate, failure.message)):
            result.message += f" {hint}"
        elif failure is not None and (platform := _supabase_object(failure.sqlstate, failure.message)):
            result.message += (f" ({platform} is Supabase's: the `supabase` setup preset makes it (`--setup supabase`),"
                               " or check on Supabase's image (`--postgres-image supabase/postgres`))")
        elif failure is not None and failure.sqlstate in MISSING_OBJECT_STATES and (code := [
                u.migration for u in context.skipped_before if u.migration.skip_reason is not None]):
            # Code may build the name at run time; a failed SQL migration's text would have named it.
            names = ", ".join(context.project.relative(m.main_file) or m.id for m in code[-3:])
            result.message += f" (not replayed before it: {names}, which may have created it)"
        elif failure is not None and (hint := other_dialect(failure.sqlstate, failure.message)
                                      or newer_postgresql(failure.sqlstate, failure.statement,
                                                          context.conn.info.server_version)):
            result.message += f" {hint}"
        elif failure is not None and failure.sqlstate == FEATURE_NOT_SUPPORTED and (
                failure.message.startswith("extension ") and failure.message.endswith(" is not available")
                or failure.message.endswith(" is not supported in this build")):
            # The server's, not the migration's: production has the extension installed.
            result.message += (" (this server does not have it: check on one that does, `--pg-bindir DIR` (another local"
                               " installation), `--postgres-image IMAGE` (Supabase's: supabase/postgres) or"
                               " `--database-url URL`)")
        elif failure is not None and (schemas := _schemas_holding(context, failure.sqlstate, failure.message)):
            # Production's search_path (set on its role or database) may well include them.
            # ALTER DATABASE, not ALTER ROLE: the setting goes with the throwaway database.
            path = ", ".join([*schemas, "public"]).replace("'", "''")
            result.message += (f" (one of that name is in schema {', '.join(schemas)}, which is not on the search_path"
                               " here: if production's includes it, give this database the same in a setup script"
                               " (`--setup FILE`): DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path ="
                               f" {path}', current_database()); END $$;)")
        elif failure is not None and (extension := extension_object(failure.sqlstate, failure.message)):
            result.message += f" {extension.hint()}"
        elif failure is not None and failure.sqlstate == UNDEFINED_OBJECT and failure.message.startswith("role "):
            # Roles are the server's, not the migrations': production has the application's role.
            result.message += (" (a role the migrations expect the server to have: create it in a setup script,"
                               " `--setup FILE` or `setup:` in the config)")
        return result


def needs_unreplayed(context: MigrationContext) -> str | None:
    """Why the up cannot be judged, where its failure may follow from a migration that is not in
    the database (see `_unreplayed_cause`); None otherwise. Asked of a finished up by the runner
    and by the verdict: the unreplayed migrations' files are read once, the answer noted."""
    if UNREPLAYED not in context.notes:
        failure = context.up.failure if context.up is not None else None
        context.notes[UNREPLAYED] = _unreplayed_cause(context, failure) if failure and context.skipped_before else None
    answer = context.notes[UNREPLAYED]
    return answer if isinstance(answer, str) else None


def rollback_needs_unreplayed(context: MigrationContext) -> str | None:
    """Why the rollback cannot be judged, where its failure may follow from a migration that is
    not in the database (Lemmy's rollback alters a table that an earlier up, which failed, makes)."""
    if ROLLBACK_UNREPLAYED not in context.notes:
        failure = context.down.failure if context.down is not None else None
        context.notes[ROLLBACK_UNREPLAYED] = (_unreplayed_cause(context, failure)
                                              if failure and context.skipped_before else None)
    answer = context.notes[ROLLBACK_UNREPLAYED]
    return answer if isinstance(answer, str) else None


def _unreplayed_cause(context: MigrationContext, failure: ScriptFailed) -> str | None:
    """Why the up's failure may not be its own: an earlier migration that is not in the database
    (code the check cannot run, or an up that failed: hatchet's v1_0_100.sql alters the table its
    v1_0_99.go creates) names what the failing statement needs or touches, or failed the same way.
    None when nothing links them: the failure is the migration's own."""
    message = failure.message
    missing = _missing_name(failure.sqlstate, message)
    extension = extension_object(failure.sqlstate, message)
    touched = statement_names(failure.statement) if failure.statement else frozenset()
    for earlier in reversed(context.skipped_before):
        where = context.project.relative(earlier.migration.main_file) or earlier.migration.id
        because = f"and that migration is not replayed ({earlier.reason})"
        if missing is not None and earlier.error is not None and (  # the same thing missing
                earlier.error[0] == failure.sqlstate and _missing_name(*earlier.error) == missing):
            return f"not judged: it fails as {where} did ({message}), {because}: fix that one first"
        text = _text_of(earlier.migration)
        if missing is not None and missing in text:
            return f"not judged: it needs {missing} ({message}), which {where} names, {because}"
        if extension is not None and extension.extension.lower() in text.lower():
            article = "an" if extension.kind[0] in "aeiou" else "a"
            return (f"not judged: it needs {extension.name}, {article} {extension.kind} of the {extension.extension} extension"
                    f" ({message}), which {where} names, {because}")
        if names := sorted(name for name in touched if name in text):
            return (f"not judged: it fails ({message}) on {', '.join(names)}, which {where} also names, {because}:"
                    " its failure may follow from that one")
    return None


def _missing_name(sqlstate: str | None, message: str) -> str | None:
    """The object a missing-object error names, unqualified: `relation "x.y" does not exist` is y,
    `function f(uuid) does not exist` is f, `type geometry does not exist` is geometry."""
    if sqlstate not in MISSING_OBJECT_STATES:
        return None
    quoted = message.split('"')
    written = missing_function(sqlstate, message) or missing_type(sqlstate, message) or (
        quoted[1] if len(quoted) >= 3 else None)
    return written.rsplit(".", 1)[-1] if written else None


def _text_of(migration: Migration) -> str:
    try:
        return migration.main_file.read_text(encoding="utf-8", errors="replace") if migration.main_file else ""
    except OSError:
        return ""


def _supabase_object(sqlstate: str | None, message: str) -> str | None:
    """The Supabase platform schema or publication a missing-object error names, else None."""
    quoted = message.split('"')
    name = quoted[1] if len(quoted) >= 3 else ""
    if sqlstate == UNDEFINED_SCHEMA and message.startswith("schema ") and name in SUPABASE_SCHEMAS:
        return f"schema {name}"
    if sqlstate == UNDEFINED_OBJECT and message.startswith("publication ") and name == "supabase_realtime":
        return f"publication {name}"
    written = _missing_relation(sqlstate, message) or missing_function(sqlstate, message)
    if written is not None and "." in written and unquote(written.split(".", 1)[0]) in SUPABASE_SCHEMAS:
        return f"{'table' if sqlstate == UNDEFINED_TABLE else 'function'} {written}"
    return None


def _later_creator(context: MigrationContext, sqlstate: str | None, message: str) -> str | None:
    """When a later migration creates the missing table: the runner applies this one first."""
    table = _missing_relation(sqlstate, message)
    if table is None:
        return None
    table = unquote(table.rsplit(".", 1)[-1])
    project = context.project
    for later in project.migrations[project.migrations.index(context.migration) + 1:]:
        if later.up is not None and (statement := statement_creating(later.up, table)) is not None:
            where = f"{project.relative(statement.path)}:{statement.line}"
            return (f"({where}, a later migration, creates {table}: the runner applies this one first; order them, or"
                    " move the statement)")
    return None


def _baseline_hint(context: MigrationContext, sqlstate: str | None, message: str) -> str | None:
    """When no earlier migration creates the missing table and a SQL file of the repository does
    (a baseline schema the migrations start from), that file, to run first as a setup script."""
    table = _missing_relation(sqlstate, message)
    if table is None:
        return None
    table = unquote(table.rsplit(".", 1)[-1])
    project = context.project
    earlier = project.migrations[:project.migrations.index(context.migration)]
    if any(migration.up and statement_creating(migration.up, table) for migration in earlier):
        return None
    found = files_creating(project.repo_root, table, project.directory)
    if not found:
        return None
    files = " and ".join(f"{project.relative(path)}:{line}" for path, line in found)
    first = project.relative(found[0][0])
    return (f"(no earlier migration creates {table}; {files} does: if the migrations start from that schema, run it"
            f" first as a setup script, `--setup {first}` or `setup:` in the config)")


def _missing_relation(sqlstate: str | None, message: str) -> str | None:
    """The name in `relation "x" does not exist`, as the error prints it."""
    if sqlstate == UNDEFINED_TABLE and message.startswith('relation "') and message.endswith('" does not exist'):
        return message.removeprefix('relation "').removesuffix('" does not exist')
    return None


def _schemas_holding(context: MigrationContext, sqlstate: str | None, message: str) -> list[str]:
    """The schemas that hold a function or relation of the unqualified name the error did not find
    (`function f() does not exist`, `relation "t" does not exist`)."""
    function = missing_function(sqlstate, message)
    if function is not None:
        name, catalog = function, "pg_proc"
        column, namespace = "proname", "pronamespace"
    elif (relation := _missing_relation(sqlstate, message)) is not None:
        name, catalog = relation, "pg_class"
        column, namespace = "relname", "relnamespace"
    else:
        return []
    if "." in name or '"' in name:
        return []  # qualified, or quoted: not a matter of the search_path
    rows = context.tool_session.execute(
        f"SELECT DISTINCT quote_ident(n.nspname) FROM pg_catalog.{catalog} o"  # noqa: S608 - names chosen above
        f" JOIN pg_catalog.pg_namespace n ON n.oid = o.{namespace} WHERE o.{column} = %s ORDER BY 1", (name,)).fetchall()
    return [str(row[0]) for row in rows]
