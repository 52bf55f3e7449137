"""How much of the project the replay ran: a run whose migrations are mostly code the replay
cannot run (wiki.js's knex modules) passes on naming, history and lint alone, and says so."""

from __future__ import annotations

from dataclasses import dataclass

from migration_check.model import RunReport, Status


@dataclass(frozen=True)
class ReplayCoverage:
    total: int  # migrations with an apply case
    replayed: int  # applied, or failed to apply
    code: int  # skipped: code, or a file, the replay cannot run (not one its runner refuses or leaves out)

    @property
    def skipped(self) -> int:
        return self.total - self.replayed

    def sentence(self) -> str:
        """What the console and the report say, where the replay left some out."""
        if self.replayed == 0:
            head = f"no migration was replayed ({self.total} skipped"
        else:
            head = f"the replay ran {self.replayed} of {self.total} migrations ({self.skipped} skipped"
        why = f", {self.code} of them code or values the replay does not have" if self.code else ""
        tail = ": the verdict rests on the static checks alone" if self.replayed == 0 else ""
        return f"{head}{why}; each skipped case says why){tail}"


def replay_coverage(report: RunReport) -> ReplayCoverage | None:
    """The replay's reach, or None where it ran every migration (or the run ended first)."""
    if report.project is None:
        return None
    applies = {case.subject: case.status for case in report.results if case.check == "apply"}
    skipped = {subject for subject, status in applies.items() if status is Status.SKIPPED}
    if not skipped:
        return None
    # A file the runner refuses to read is no code the replay lacks: its history case says why. Nor
    # is one the runner leaves out where the project runs it (a Liquibase context).
    code = sum(1 for m in report.project.migrations
               if m.id in skipped and m.skip_reason and not (m.upgrade_only or m.refused or m.filtered))
    return ReplayCoverage(len(applies), len(applies) - len(skipped), code)
