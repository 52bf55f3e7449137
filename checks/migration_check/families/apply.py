"""apply: the migration's up runs, in order, on the state the earlier migrations left.

When its failure may follow from an earlier migration that is not in the database, the case is
skipped with the link (unreplayed.py). A missing table that a later migration creates is named
with its line (the runner applies them in the wrong order); after a code migration the check could
not run, the message says that one may have created it. When the missing
table is created by no earlier migration but by a SQL file elsewhere in the repository (a baseline
schema), the message names that file and how to run it first.
"""

from __future__ import annotations

from pathlib import Path

from migration_check.discovery import layout_named
from migration_check.discovery.baselines import (
    files_creating,
    files_creating_named,
    schema_from_models,
    statement_creating,
)
from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.unreplayed import needs_unreplayed
from migration_check.model import CheckResult, Project, Status
from migration_check.presets.platform import supabase_hint, supabase_preset_ran
from migration_check.sql.dialects import (
    MISSING_OBJECT_STATES,
    UNDEFINED_OBJECT,
    UNDEFINED_SCHEMA,
    first_quoted,
    missing_function,
    missing_object,
    missing_relation,
    other_dialect,
)
from migration_check.sql.extensions import extension_object, unavailable_here
from migration_check.sql.keywords import newer_keyword_hint
from migration_check.sql.objects import unquote


class Apply(Family):
    name = "apply"
    stage = Stage.UP_RAN

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.up is not None
        result = context.step_result(self.name, context.up)
        failure = context.up.failure
        if (creator := needs_unreplayed(context)) is not None:
            # Its failure may follow from an earlier migration that is not in the database.
            return context.result(self.name, Status.SKIPPED, message=creator)
        if failure is not None and (misread := _misread_marker_before(context, failure.path, failure.line)):
            result.message += f" ({misread})"
        elif failure is not None and (kept := context.runner_hint(failure)):
            result.message += f" {kept}"
        elif failure is not None and (schemas := _schemas_holding(context, failure.sqlstate, failure.message)):
            # Production's search_path (set on its role or database) may well include them: where one
            # of that name exists, that says more than a file elsewhere creating one.
            # ALTER DATABASE, not ALTER ROLE: the setting goes with the throwaway database.
            path = ", ".join([*schemas, "public"]).replace("'", "''")
            result.message += (f" (one of that name is in schema {', '.join(schemas)}, which is not on the search_path"
                               " here: if production's includes it, give this database the same in a setup script"
                               " (`--setup FILE`): DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path ="
                               f" {path}', current_database()); END $$;)")
        elif failure is not None and (hint := _later_creator(context, failure.sqlstate, failure.message)
                                      or _baseline_hint(context, failure.sqlstate, failure.message)):
            result.message += f" {hint}"
        elif failure is not None and (platform := supabase_hint(failure.sqlstate, failure.message,
                                                                supabase_preset_ran(context.project, context.settings))):
            result.message += f" {platform}"
        elif failure is not None and failure.sqlstate in MISSING_OBJECT_STATES and (code := [
                u.migration for u in context.skipped_before if u.migration.skip_reason is not None]):
            # Code may build the name at run time; a failed SQL migration's text would have named it.
            names = ", ".join(context.project.relative(m.main_file) or m.id for m in code[-3:])
            result.message += f" (not replayed before it: {names}, which may have created it)"
        elif failure is not None and (hint := other_dialect(failure.sqlstate, failure.message)
                                      or context.newer_postgresql(failure)
                                      or newer_keyword_hint(failure.sqlstate, failure.statement, failure.near,
                                                            context.conn.info.server_version)):
            result.message += f" {hint}"
        elif failure is not None and (elsewhere := unavailable_here(failure.sqlstate, failure.message)):
            result.message += f" {elsewhere}"
        elif failure is not None and (extension := extension_object(failure.sqlstate, failure.message)):
            made_in = files_creating_named(context.project.repo_root, "extension", extension.extension,
                                           context.project.directory)
            result.message += f" {extension.hint(_places(context.project, made_in))}"
        elif failure is not None and failure.sqlstate == UNDEFINED_OBJECT and failure.message.startswith("role "):
            # Roles are the server's, not the migrations': production has the application's role.
            result.message += (" (a role the migrations expect the server to have: create it in a setup script,"
                               " `--setup FILE` or `setup:` in the config)")
        elif failure is not None and (outside := _made_by_no_migration(context, failure.sqlstate, failure.message)):
            result.message += f" {_outside_hint(context.project, outside)}"
        return result


def _misread_marker_before(context: MigrationContext, path: Path, line: int | None) -> str | None:
    """Why the failing line runs in the up at all, when a line before it reads as the rollback's
    marker but is not one to the runner."""
    misread = layout_named(context.project.format).misread_marker(context.migration)
    if misread is None or line is None or path != context.migration.main_file or line <= misread[0]:
        return None
    return misread[1]


# The kinds of object a missing relation, type or function could be (as objects.touches names them).
CREATABLE = {"relation": ("table", "view", "materialized view", "sequence"), "type": ("type", "domain"),
             "function": ("function", "procedure")}


def _missing_object(sqlstate: str | None, message: str) -> tuple[str, tuple[str, ...]] | None:
    """The missing table, type or function an error names (unqualified, unquoted), and the kinds
    of object that would be it."""
    found = missing_object(sqlstate, message)
    if found is None or found[0] not in CREATABLE:
        return None
    kind, written = found
    return unquote(written.rsplit(".", 1)[-1]), CREATABLE[kind]


def _missing_or_schema(sqlstate: str | None, message: str) -> tuple[str, tuple[str, ...]] | None:
    """`_missing_object`, or the missing schema ("schema auth does not exist")."""
    if sqlstate == UNDEFINED_SCHEMA and (written := first_quoted(message)) is not None:
        return unquote(written), ("schema",)
    return _missing_object(sqlstate, message)


def _made_by_no_migration(context: MigrationContext, sqlstate: str | None, message: str) -> str | None:
    """The missing schema, table, type or function ("schema durable"), when no migration of the
    project creates it: tensorzero's migrations call functions of a schema another migrator,
    run by the application first, makes."""
    if (missing := _missing_or_schema(sqlstate, message)) is None:
        return None
    name, kinds = missing
    if any(m.up is not None and statement_creating(m.up, name, kinds) for m in context.project.migrations):
        return None
    return f"{kinds[0]} {name}"


def _outside_hint(project: Project, outside: str) -> str:
    """What to do about an object no migration creates (`outside`: "schema measure"), naming the
    files of the repository that make a missing schema outside the migrations, if any."""
    kind, _, name = outside.partition(" ")
    made_in = files_creating_named(project.repo_root, kind, name, project.directory) if kind == "schema" else []
    models, stamp = schema_from_models(project.repo_root) if project.format == "alembic" else ([], None)
    if models and stamp:
        return (f"(no migration here creates {outside}: the application makes its schema from its models"
                f" ({' and '.join(_places(project, models))}, `create_all`) and stamps Alembic's revision"
                f" ({_places(project, [stamp])[0]}), so these migrations start from a schema no migration makes: give"
                " the check that schema as it was before the first migration (`pg_dump --schema-only` of such a"
                " database) as a setup script, `--setup FILE` or `setup:` in the config)")
    if made_in:
        return (f"(no migration here creates {outside}; {_files_that(project, made_in)}, outside the"
                " migrations: give this database the same before them, in a setup script, `--setup FILE` or `setup:`"
                " in the config)")
    return (f"(no migration here creates {outside}: if something else makes it before these migrations run (another"
            " migrator, the application, the platform), make it in a setup script, `--setup FILE` or `setup:` in the"
            " config)")


def _later_creator(context: MigrationContext, sqlstate: str | None, message: str) -> str | None:
    """When a later migration creates the missing table, type or function: the runner applies this
    one first."""
    if (missing := _missing_object(sqlstate, message)) is None:
        return None
    name, kinds = missing
    project = context.project
    for later in project.migrations[project.migrations.index(context.migration) + 1:]:
        if later.up is not None and (statement := statement_creating(later.up, name, kinds)) is not None:
            where = f"{project.relative(statement.path)}:{statement.line}"
            return (f"({where}, a later migration, creates {name}: the runner applies this one first; order them, or"
                    " move the statement)")
    return None


def _baseline_hint(context: MigrationContext, sqlstate: str | None, message: str) -> str | None:
    """When no earlier migration creates the missing table (type, function) and a SQL file of the
    repository does (a baseline schema the migrations start from), that file, to run first as a
    setup script. supabase/auth's migrations write into schema auth, which its hack/init_postgres.sql makes."""
    if (missing := _missing_or_schema(sqlstate, message)) is None:
        return None
    name, kinds = missing
    project = context.project
    earlier = project.migrations[:project.migrations.index(context.migration)]
    if any(migration.up and statement_creating(migration.up, name, kinds) for migration in earlier):
        return None
    found = files_creating(project.repo_root, name, project.directory, kinds)
    if not found:
        return None
    first = project.relative(found[0][0])
    return (f"(no earlier migration creates {name}; {_files_that(project, found)}: if the migrations start from that"
            f" schema, run it first as a setup script, `--setup {first}` or `setup:` in the config)")


def _schemas_holding(context: MigrationContext, sqlstate: str | None, message: str) -> list[str]:
    """The schemas that hold a function or relation of the unqualified name the error did not find
    (`function f() does not exist`, `relation "t" does not exist`)."""
    function = missing_function(sqlstate, message)
    if function is not None:
        name, catalog = function, "pg_proc"
        column, namespace = "proname", "pronamespace"
    elif (relation := missing_relation(sqlstate, message)) is not None:
        name, catalog = relation, "pg_class"
        column, namespace = "relname", "relnamespace"
    else:
        return []
    if "." in name or '"' in name:
        return []  # qualified, or quoted: not a matter of the search_path
    rows = context.tool_session.execute(
        f"SELECT DISTINCT quote_ident(n.nspname) FROM pg_catalog.{catalog} o"  # noqa: S608 - names chosen above
        f" JOIN pg_catalog.pg_namespace n ON n.oid = o.{namespace} WHERE o.{column} = %s"
        # The server's own views (information_schema.domains, .tables): no search_path names them.
        "  AND n.nspname <> 'information_schema' ORDER BY 1", (name,)).fetchall()
    return [str(row[0]) for row in rows]


def _files_that(project: Project, found: list[tuple[Path, int]]) -> str:
    """"a.sql:1 does", "a.sql:1 and b.sh:4 do"."""
    return f"{' and '.join(_places(project, found))} {'do' if len(found) > 1 else 'does'}"


def _places(project: Project, found: list[tuple[Path, int]]) -> list[str]:
    """`file:line` of each place, relative to the repository."""
    return [f"{project.relative(path)}:{line}" for path, line in found]
