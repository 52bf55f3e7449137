"""data: the rows that existed before a migration's up are all still there, unchanged, after its
rollback (in the columns that existed before the up).

A rollback that re-adds a dropped column gives back the column but not its values; one that
deletes rows, narrows a type or re-creates a table loses data the schema check cannot see. Before
each up, every table holds rows (data/fill.py generates them from the catalog; seed files add the
user's own), and the tables the migration can change are copied (data/changes.py). After the
rollback, their rows must match the copies. After the up, what it did to those rows (rows deleted
or changed, columns dropped with their values) is noted as facts for reviewers.

A loss the author accepts is confirmed in the migration file:

    -- migration-check: allow data-loss "backfilled copy kept in users_phone_archive"

The case then passes, with the reason; a confirmation of a loss that does not happen is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg

from migration_check.data.changes import Copy, RowChanges, all_changes, drop_copies, take_copies
from migration_check.data.fill import RowFiller
from migration_check.data.later_keys import later_keys
from migration_check.data.later_types import later_casts
from migration_check.data.removal import only_generated_rows, remove_generated_rows
from migration_check.data.seed import Seeds, seed_scripts
from migration_check.data.stamped import stamped_columns, writer
from migration_check.data.watch import named_tables
from migration_check.families.base import Family, MigrationContext, Stage
from migration_check.families.comparison import MAX_LISTED_DIFFERENCES, MESSAGE_DIFFERENCES, listed
from migration_check.model import CheckResult, Migration, Project, Script, Severity, Status
from migration_check.presets.platform import supabase_preset_ran
from migration_check.settings import Settings
from migration_check.sql.confirmations import DATA_LOSS, confirmed

ALLOWS = DATA_LOSS
# What the runner notes when a step failed on the generated rows and was run again without them.
FAILED_WITH_ROWS = "data: failed with rows"


@dataclass
class _Rows:
    """What the family noted of one migration's rows."""

    copies: list[Copy] = field(default_factory=list)  # the watched tables' rows before the up
    facts: list[str] = field(default_factory=list)  # what the up did to them, for reviewers
    lost: list[RowChanges] = field(default_factory=list)  # how the rows after the rollback differ from the copies

    def facts_text(self) -> str:
        if not self.facts:
            return ""
        return "\nwhat the up did to existing rows:\n" + "\n".join(f"  {fact}" for fact in self.facts)


class Data(Family):
    name = "data"
    stage = Stage.DOWN_DONE
    fills_tables = True

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._filler: RowFiller | None = None
        self.seeds = Seeds([])
        self._changed_last: set[str] | None = None  # tables the previous migration named
        # Copies in the tool's session not dropped yet, whichever migration took them, by number:
        # each is dropped once (drop_copies counts the rows it deletes, and empties the table past a limit).
        self._undropped: dict[int, Copy] = {}

    def before_up(self, context: MigrationContext) -> None:
        session = context.tool_session
        self._drop(session, list(self._undropped.values()))  # the earlier migrations' rows are compared by now
        rows = self.state(context, _Rows, new=True)
        if self._filler is None:
            self._filler = RowFiller(self.settings.rows, set(context.runner_tables), self.settings.statement_timeout,
                                     later=later_keys(context.project.migrations),
                                     casts=later_casts(context.project.migrations))
            self.seeds = Seeds(seed_scripts(context.project, self.settings.seed,
                                            within_repository=not self.settings.seed_from_command_line))
        if self._filler.filled and session.info.dbname != self._filler.database:
            self.seeds.reset()  # a rebuilt database: no rows yet
            self._changed_last = None
        self.seeds.load(context.conn, context.migration.id, self._changed_last)
        self._filler.fill(session)
        migration = context.migration
        self._changed_last = named_tables([migration.up, migration.down])[0]
        rows.copies = take_copies(session, context.changeable_tables(), set(context.runner_tables))
        self._undropped.update((copy.number, copy) for copy in rows.copies)

    def rows_removed_in_place(self, context: MigrationContext, scripts: list[Script]) -> bool:
        # A seed's rows are the user's: a rebuild loads them again where they fit (data/seed.py).
        if self.seeds or not only_generated_rows(scripts, context.runner_tables) \
                or not remove_generated_rows(context.tool_session, context.runner_tables):
            return False
        if self._filler is not None:
            self._filler.forget()
        self._changed_last = None
        return True

    def _drop(self, session: psycopg.Connection, copies: list[Copy]) -> None:
        dropping = [copy for copy in copies if copy.number in self._undropped]
        for copy in dropping:
            del self._undropped[copy.number]
        drop_copies(session, dropping)

    def before_up_ahead(self) -> bool:
        return not self.seeds  # seed files load through the migration's connection, in before_up

    def after_up(self, context: MigrationContext) -> None:
        rows = self.state(context, _Rows)
        if FAILED_WITH_ROWS in context.notes:  # the up ran again in a fresh database: the copies are gone
            rows.copies = []
            return
        rows.facts += [found.describe() for found in all_changes(context.tool_session, rows.copies) if found]

    def after_down(self, context: MigrationContext) -> None:
        rows = self.state(context, _Rows)
        rows.lost = [] if FAILED_WITH_ROWS in context.notes else \
            [found for found in all_changes(context.tool_session, rows.copies) if found]
        if any(found.changed_columns for found in rows.lost):
            rows.lost = self._without_stamps(context, rows)
        self._drop(context.tool_session, rows.copies)

    def _without_stamps(self, context: MigrationContext, rows: _Rows) -> list[RowChanges]:
        """The changes but those of columns only trigger code wrote (data/stamped.py), which are
        told as facts instead."""
        stamps = stamped_columns(context.tool_session, context.changeable_tables())
        kept = []
        for found in rows.lost:
            writers = {column: writer(stamps, found.copy.table, column) for column in found.changed_columns}
            if found.only_changed and all(writers.values()):
                rows.facts.append(found.describe_stamped({column: str(trigger) for column, trigger in writers.items()}))
            else:
                kept.append(found)
        return kept

    def verdict(self, context: MigrationContext) -> CheckResult:
        migration = context.migration
        failed_with_rows = context.notes.get(FAILED_WITH_ROWS)
        if failed_with_rows:
            return self._failed_with_rows(context, str(failed_with_rows))
        rows = self.state(context, _Rows)
        lost, copies = rows.lost, rows.copies
        confirmations = confirmed([migration.up, migration.down], ALLOWS)
        facts = rows.facts_text()
        if lost:
            described = [found.describe() for found in lost]
            summary = listed(described, MESSAGE_DIFFERENCES, "; ")
            details = listed(described, MAX_LISTED_DIFFERENCES, "\n") + facts
            valid = [(script, c) for script, c in confirmations if c.problem is None]
            if valid:
                script, confirmation = valid[0]
                return context.result(self.name, Status.PASSED, script=script, line=confirmation.line,
                                      message=f"data loss confirmed: {confirmation.reason} ({summary})", details=details)
            problem = next((c.problem for _, c in confirmations if c.problem), "")
            confirm = f'confirm it in the migration: -- migration-check: allow {ALLOWS} "<why>".'
            if all(found.only_added for found in lost):
                # Nothing was lost: the rollback keeps what the up inserted, and the up run again adds it twice.
                headline = "the rollback leaves the rows the up added"
                hint = f" ({problem})" if problem else f" Delete them in the rollback; if they may stay, {confirm}"
            else:
                headline = "the rollback does not give back the rows the up found"
                hint = f" ({problem})" if problem else f" If the loss is intended, {confirm}"
            return context.result(self.name, Status.FAILED, script=migration.down,
                                  message=f"{headline}: {summary}.{hint}", details=details)
        if confirmations:
            script, confirmation = confirmations[0]
            return context.unused_confirmation(self.name, script, confirmation.line, ALLOWS, "loses no data")
        uncovered = self._uncovered(copies)
        if uncovered and all(copy.rows == 0 for copy in copies):
            return context.result(self.name, Status.SKIPPED, script=migration.down,
                                  message=f"not covered: no rows in {'; '.join(uncovered)}")
        coverage = f"not covered (no rows): {'; '.join(uncovered)}\n" if uncovered else ""
        return context.result(self.name, Status.PASSED, script=migration.down, message=(coverage + facts).strip())

    def unreached(self, context: MigrationContext, reason: str) -> CheckResult | None:
        rows = self.state(context, _Rows)
        self._drop(context.tool_session, rows.copies)
        failed_with_rows = context.notes.get(FAILED_WITH_ROWS)
        if failed_with_rows:
            return self._failed_with_rows(context, str(failed_with_rows))
        if rows.facts:
            return context.result(self.name, Status.SKIPPED, message=f"{reason}.{rows.facts_text()}")
        return None

    def after_all(self, project: Project, conn: psycopg.Connection, applied: Sequence[Migration]) -> list[CheckResult]:
        not_applied = [migration for migration in project.migrations if migration not in applied]
        return self.seeds.results(project, conn, supabase_preset_ran(project, self.settings), not_applied)

    def _failed_with_rows(self, context: MigrationContext, failure: str) -> CheckResult:
        """A step that fails while the tables hold rows, and runs on empty ones: the other checks
        judged it without rows; this case warns that it fails on data (the generated rows may not
        be like production's, so it does not fail the run unless --fail-on warning)."""
        case = context.result(self.name, Status.FAILED, message=f"{failure}; it runs on empty tables, so the other"
                                                                 " checks judged it without rows")
        case.severity = Severity.WARNING
        return case

    def _uncovered(self, copies: list[Copy]) -> list[str]:
        """The compared tables that hold no rows because none could be generated, with why."""
        filler = self._filler
        return [f"{copy.table} ({filler.not_covered[copy.table]})" for copy in copies
                if filler is not None and copy.table in filler.not_covered and copy.rows == 0]
