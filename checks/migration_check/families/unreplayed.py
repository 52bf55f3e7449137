"""Whether a failure is the migration's own, or may follow from an earlier migration that is not
in the database: one the check cannot replay (a goose Go migration, a Flyway Java one, a Prisma
project's data migration in code, a yoyo step that runs Python) or whose up failed or was not
judged. The later migrations run without them; a failure linked to one of them is not judged,
with the link, so that one finding does not turn into a failure of every migration after it.

Linked: the object the error says is missing is named by that migration's text (hatchet's
v1_0_100.sql alters the table its v1_0_99.go creates), or the extension it comes from is
(`geometry` and a failed `CREATE EXTENSION postgis`), or the same thing was missing there, or the
failing statement works on a table that migration names (a column whose type change failed).
"""

from __future__ import annotations

from migration_check.families.base import MigrationContext
from migration_check.model import Migration
from migration_check.replay.executor import ScriptFailed
from migration_check.sql.dialects import (
    FEATURE_NOT_SUPPORTED,
    MISSING_OBJECT_STATES,
    SYNTAX_ERROR,
    missing_function,
    missing_type,
)
from migration_check.sql.extensions import extension_object
from migration_check.sql.objects import statement_names

UP = "apply: needs an unreplayed migration"  # context.notes keys
ROLLBACK = "rollback: needs an unreplayed migration"


def needs_unreplayed(context: MigrationContext) -> str | None:
    """Why the up cannot be judged, where its failure may follow from a migration that is not in
    the database (see `_unreplayed_cause`); None otherwise. Asked of a finished up by the runner
    and by the verdict: the unreplayed migrations' files are read once, the answer noted."""
    if UP not in context.notes:
        failure = context.up.failure if context.up is not None else None
        context.notes[UP] = _unreplayed_cause(context, failure) if failure and context.skipped_before else None
    answer = context.notes[UP]
    return answer if isinstance(answer, str) else None


def rollback_needs_unreplayed(context: MigrationContext) -> str | None:
    """Why the rollback cannot be judged, where its failure may follow from a migration that is
    not in the database (Lemmy's rollback alters a table that an earlier up, which failed, makes)."""
    if ROLLBACK not in context.notes:
        failure = context.down.failure if context.down is not None else None
        context.notes[ROLLBACK] = (_unreplayed_cause(context, failure)
                                              if failure and context.skipped_before else None)
    answer = context.notes[ROLLBACK]
    return answer if isinstance(answer, str) else None


def _unreplayed_cause(context: MigrationContext, failure: ScriptFailed) -> str | None:
    """Why the up's failure may not be its own: an earlier migration that is not in the database
    (code the check cannot run, or an up that failed: hatchet's v1_0_100.sql alters the table its
    v1_0_99.go creates) names what the failing statement needs or touches, or failed the same way.
    None when nothing links them: the failure is the migration's own."""
    message = failure.message
    missing = _missing_name(failure.sqlstate, message)
    extension = extension_object(failure.sqlstate, message)
    # A syntax error or an unsupported feature is the statement's own, whatever the state.
    stateful = failure.sqlstate not in (SYNTAX_ERROR, FEATURE_NOT_SUPPORTED)
    touched = statement_names(failure.statement) if failure.statement and stateful else frozenset()
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
            return (f"not judged: it needs {extension.name}, {extension.kind_with_article} of the {extension.extension}"
                    f" extension ({message}), which {where} names, {because}")
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
