"""The `drift` family: one case per object that differs between the schema the migrations build and
the declared (or live) one, named by the object, saying which side has what:

    column public.users.last_login: declared (timestamp with time zone) but no migration creates it
    index public.appointments_status_idx: created by 20250912080000_add_status but not in the declared schema

Left out: roles (cluster-wide: another server has other roles), what the setup scripts provide
(Supabase's `auth`, `storage`, ...), the runner's history table, and objects matching `drift-ignore`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping

from migration_check.model import CheckResult, Migration, Project, Script, Status
from migration_check.schema.diff import CHANGED, MISSING, Difference, diff_snapshots, on_table
from migration_check.schema.snapshot import Snapshot
from migration_check.sql import Statement, readable_statements
from migration_check.sql.objects import CREATED, find_statement
from migration_check.sql.splitter import readable_parts

# What a difference's definition is summed up by, per kind of object.
_SUMMARY_FIELDS = ("type", "definition", "kind")


def drift_results(project: Project, migrated: Snapshot, declared: Snapshot, source: str, *, file: str | None,
                  ignored: Mapping[tuple[str, str], str], ignore: list[str], runner_tables: frozenset[str],
                  declared_script: Script | None = None, kinds_not_declared: frozenset[str] = frozenset(),
                  fields_not_declared: frozenset[str] = frozenset()) -> list[CheckResult]:
    """The drift cases: `source` says what the declared side is ("the declared schema db/schema.sql",
    "the live database"); a case about what it declares points at `declared_script`'s statement.
    Objects of `kinds_not_declared`, and fields of `fields_not_declared`, are left out (what a Prisma
    schema cannot express)."""
    differences = [_without_fields(d, fields_not_declared) for d in diff_snapshots(declared, migrated)
                   if _kept(d, ignored, ignore, runner_tables) and d.kind not in kinds_not_declared]
    differences = [d for d in differences if d.change != CHANGED or d.fields]
    if not differences:
        return [CheckResult("drift", source, Status.PASSED, file=file, line=1,
                            message=f"the migrations build exactly {source}")]
    statements = readable_statements(declared_script)
    return [_case(project, difference, declared, migrated, source, file, statements) for difference in differences]


def _without_fields(difference: Difference, fields: frozenset[str]) -> Difference:
    if not fields or difference.change != CHANGED:
        return difference
    return dataclasses.replace(difference, fields=tuple(f for f in difference.fields if f[0] not in fields))


def _kept(difference: Difference, ignored: Mapping[tuple[str, str], str], ignore: list[str],
          runner_tables: frozenset[str]) -> bool:
    if difference.kind == "role" or (difference.kind, difference.name) in ignored:
        return False
    # What the setup provides (Supabase's auth.users, the auth schema) is the platform's, with all it holds.
    if any(kind in ("schema", "table") and difference.name.startswith(name + ".") for kind, name in ignored):
        return False
    if on_table(difference, runner_tables):
        return False
    # A runner that keeps its table in a schema of its own (drizzle.__drizzle_migrations) made that schema.
    if difference.kind == "schema" and difference.name in {table.split(".", 1)[0] for table in runner_tables} - {"public"}:
        return False
    return not any(fnmatch.fnmatchcase(difference.name, pattern) for pattern in ignore)


def _case(project: Project, difference: Difference, declared: Snapshot, migrated: Snapshot, source: str,
          file: str | None, declared_statements: list[Statement]) -> CheckResult:
    key = (difference.kind, difference.name)
    subject = f"{difference.kind} {difference.name}"
    declaring = _creating(declared_statements, difference)
    line = declaring.line if declaring is not None else 1
    if difference.change == MISSING:
        message = f"{subject}: {source} has it{_summary(declared.get(key))} but no migration creates it"
        return CheckResult("drift", subject, Status.FAILED, file=file, line=line, message=message)
    if difference.change == CHANGED:
        parts = "; ".join(f"{field}: {expected or '(none)'} in {_short(source)}, {actual or '(none)'} after the migrations"
                          for field, expected, actual in difference.fields)
        return CheckResult("drift", subject, Status.FAILED, file=file, line=line, message=f"{subject}: {parts}")
    migration, line = _creator(project, difference)
    by = f"created by {migration.id}" if migration else "created by the migrations"
    where = project.relative(migration.up.path) if migration and migration.up else file
    return CheckResult("drift", subject, Status.FAILED, file=where, line=line,
                       message=f"{subject}{_summary(migrated.get(key))}: {by} but not in {_short(source)}")


def _summary(definition: object) -> str:
    fields = getattr(definition, "fields", {})
    value = next((fields[name] for name in _SUMMARY_FIELDS if fields.get(name)), "")
    return f" ({value})" if value and len(value) <= 80 else ""


def _short(source: str) -> str:
    return source.split(" (", 1)[0]


def _creator(project: Project, difference: Difference) -> tuple[Migration | None, int]:
    """The last migration whose up creates the object, and the line where it does."""
    found: tuple[Migration | None, int] = (None, 1)
    for migration in project.migrations:
        statement = _creating(readable_parts(migration.up), difference)
        if statement is not None:
            found = (migration, statement.line)
    return found


def _creating(statements: list[Statement], difference: Difference) -> Statement | None:
    statement = find_statement(statements, difference.kind, difference.name, (CREATED,))
    if statement is None and difference.kind == "column":  # a column made with its table
        statement = find_statement(statements, "table", difference.name.rsplit(".", 1)[0], (CREATED,))
    return statement
