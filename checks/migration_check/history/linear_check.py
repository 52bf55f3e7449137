"""The history check: `linear.py`'s findings, gathered from git and turned into test cases.

One test case per migration of the working tree (its local and base-branch findings together),
then one per base migration the branch deleted or renamed, so a deletion names the missing file.
Without `--base-ref` the local part still runs and the base part is one SKIPPED case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from migration_check.discovery import layout_named
from migration_check.errors import MigrationCheckError
from migration_check.history import git
from migration_check.history.linear import (
    AmbiguousOrder,
    Deleted,
    DuplicateVersion,
    Edited,
    Entry,
    Finding,
    OutOfOrder,
    Relabelled,
    Renamed,
    VersionReused,
    base_findings,
    local_findings,
)
from migration_check.history.results import result, skipped
from migration_check.history.snapshots import directories_in_repo, files_snapshot, held_elsewhere, project_snapshot
from migration_check.model import CheckResult, Project, Status
from migration_check.settings import Settings

NO_BASE_REF = "no --base-ref given"
BASE_SUBJECT = "against the base branch"
NEW_HINT = "`migration-check new <name>` makes one"


def check_history(project: Project, settings: Settings) -> list[CheckResult]:
    branch = project_snapshot(project)
    layout = layout_named(project.format)
    findings = local_findings(branch, unambiguous=layout.numeric_versions or layout.file_name_order or layout.declared_order)
    base_ref = settings.base_ref
    unreachable: CheckResult | None = None
    if base_ref:
        try:
            merge_base, tip, retired = base_snapshots(project, settings, base_ref)
            findings += base_findings(branch, merge_base, tip, retired, names_checked=bool(layout.renamed_refusal))
        except git.BaseRefNotFound as error:
            # A shallow clone: this one check cannot run, and says how to fix it; the rest still runs.
            unreachable = CheckResult("history", BASE_SUBJECT, Status.FAILED, file=project.relative(project.directory),
                                      line=1, message=error.one_line(), severity=settings.severity_of("history"))
    results = findings_to_results(project, settings, branch, findings, base_ref or "the base")
    if unreachable is not None:
        results.append(unreachable)
    if not base_ref:
        results.append(skipped(settings, "history", BASE_SUBJECT, NO_BASE_REF))
    return results


# The base's trees, read once per pair of commits: the history check and the scope of the
# findings (merged.py) both need them. Keyed by the commits, not the ref, so a ref that moves
# (another run in the same process) is read again.
_read: dict[tuple, tuple[list[Entry], list[Entry], list[Entry]]] = {}


def base_snapshots(project: Project, settings: Settings, ref: str) -> tuple[list[Entry], list[Entry], list[Entry]]:
    """The base's migrations where the branch left it, at its tip, and those it deleted over time."""
    repo = project.repo_root
    tip_commit = git.resolve_base(repo, ref)
    fork_commit = git.merge_base(repo, ref, tip_commit)
    key = (repo, project.directory, project.format, tip_commit, fork_commit, tuple(settings.ignore))
    if key not in _read:
        _read[key] = _base_snapshots(project, settings, ref, tip_commit, fork_commit)
    return _read[key]


def _base_snapshots(project: Project, settings: Settings, ref: str, tip_commit: str,
                    fork_commit: str) -> tuple[list[Entry], list[Entry], list[Entry]]:
    repo = project.repo_root
    elsewhere = held_elsewhere(project)
    directories = directories_in_repo(project, elsewhere)

    def files_at(commit: str) -> dict[str, bytes]:
        return {path: data for directory in directories for path, data in git.tree_files(repo, commit, directory).items()}

    # The files outside the migrations whose text they run (Migration.read_files), by migration.
    reads = {m.id: [name for path in m.read_files if (name := project.relative(path))]
             for m in project.migrations if m.read_files}

    def read_at(commit: str) -> dict[str, dict[str, bytes]]:
        names = sorted({name for named in reads.values() for name in named})
        contents = dict(zip(names, git.read_objects(repo, [f"{commit}:{name}" for name in names]), strict=True))
        return {mid: {name: data for name in named if (data := contents.get(name)) is not None}
                for mid, named in reads.items()}

    tip_files = files_at(tip_commit)
    fork_files = tip_files if fork_commit == tip_commit else files_at(fork_commit)
    gone = {p: data for directory in directories for p, data in git.deleted_files(repo, tip_commit, directory).items()
            if p not in tip_files}
    tip = files_snapshot(project, tip_files, settings.ignore, ref, elsewhere, read_at(tip_commit))
    fork = tip if fork_files is tip_files else files_snapshot(project, fork_files, settings.ignore,
                                                              f"merge-base of {ref}", elsewhere, read_at(fork_commit))
    try:
        retired = files_snapshot(project, gone, settings.ignore, f"{ref} history", elsewhere)
    except (MigrationCheckError, OSError):
        # Best effort: long-deleted files read as one directory need not make a valid project
        # (a sqitch script without its plan, a folder the layout needs gone); a broken past is not
        # this branch's failure.
        retired = []
    return fork, tip, retired


def findings_to_results(
    project: Project, settings: Settings, branch: list[Entry], findings: list[Finding], ref: str
) -> list[CheckResult]:
    layout = layout_named(project.format)
    said = Said(layout.duplicate_refusal, layout.out_of_order_effect(project.directory), layout.renamed_refusal,
                layout.edited_refusal, layout.declared_order, layout.unchecksummed)
    by_migration: dict[str, list[Finding]] = {}
    for finding in findings:
        by_migration.setdefault(finding.migration, []).append(finding)

    results = []
    present = {entry.id for entry in branch}
    for migration in project.migrations:  # discovery's order, as every family reports
        own = by_migration.get(migration.id, [])
        results.append(_result(settings, migration.id, project.relative(migration.main_file), own, ref, said))
    for migration_id in sorted(set(by_migration) - present):
        own = by_migration[migration_id]
        results.append(_result(settings, migration_id, own[0].path, own, ref, said))
    return results


@dataclass(frozen=True)
class Said:
    """What the layout says its runner does, for the messages (Layout's attributes of those names):
    where it refuses every migration over a duplicate version, what it does with a migration that
    sorts before those applied, with one renamed under its version, and with one edited."""

    duplicate_refusal: str = ""
    out_of_order_effect: str = ""
    renamed_refusal: str = ""
    edited_refusal: str = ""
    declared_order: bool = False  # the order is where it is written (a changelog, a plan), not the name
    unchecksummed: tuple[str, ...] = ()  # files the edited refusal is not said of (Flyway's Java classes)


def _result(settings: Settings, subject: str, file: str | None, findings: list[Finding], ref: str,
            said: Said) -> CheckResult:
    # The first finding points the test case at its file (and line, for an edit).
    first = findings[0] if findings else None
    if first is not None:
        file = first.path
    line = first.line if isinstance(first, Edited) else None
    return result(settings, "history", subject, file, [message(f, ref, said) for f in findings], line)


def _printed(version: str) -> str:
    """A version as runners print it: numbers without their leading zeros."""
    return str(int(version)) if version.isdigit() else version


# Files every migration of a per-directory layout has (diesel, Prisma, sqitch's deploy scripts
# aside): the directory tells them apart.
_SAME_IN_EVERY_DIRECTORY = frozenset({"up.sql", "down.sql", "migration.sql"})


def _shown(path: str) -> str:
    """A file as a message names it: its name, with its directory where every migration's file
    has that name (`2024-01-01-000000_users/up.sql`)."""
    posix = PurePosixPath(path)
    in_version_folder = bool(re.fullmatch(r"\d+(\.\d+)+", posix.parent.name))  # memos' `0.30/02__x.sql`
    return f"{posix.parent.name}/{posix.name}" if posix.name in _SAME_IN_EVERY_DIRECTORY or in_version_folder \
        else posix.name


def message(finding: Finding, ref: str, said: Said = Said()) -> str:
    """What is wrong and what to do, in one or two sentences, with what the runner does (`said`)."""
    name = _shown(finding.path)
    refusal, late = said.duplicate_refusal, said.out_of_order_effect
    if isinstance(finding, DuplicateVersion):
        others = ", ".join(_shown(p) for p in finding.others)
        printed = _printed(finding.version)
        why = (refusal.format(version=printed) if refusal
               else "a runner records versions, so one of them would never run")
        return (
            f"{name} uses version {finding.version}, and so does {others}: {why}."
            f" Give the one that is not merged yet a fresh version ({NEW_HINT})."
        )
    if isinstance(finding, AmbiguousOrder):
        return (
            f"{name} (version {finding.version}) runs after {_shown(finding.previous)} as a number"
            f" but sorts before it as text, so tools that sort file names disagree on the order."
            " Pad versions with zeros to one width."
        )
    if isinstance(finding, OutOfOrder):
        name = finding.shown or name
        predates, newest = _shown(finding.predates), _shown(finding.newest)
        also = f" (the newest there is {newest})" if newest != predates else ""
        return (
            f"{name} is new on this branch but sorts before {predates}, which is already on {ref}{also}"
            + (f". On databases that ran {ref}'s migrations, {late.format(name=name)}." if late
               else f": databases that ran {ref}'s migrations would skip it or run it out of order.")
            + (f" Move it after {newest}, so that it runs last." if said.declared_order
               else f" Rename it with a fresh timestamp that sorts after {newest} ({NEW_HINT}) and move its SQL there."
               if re.match(r"\d{12}", PurePosixPath(finding.newest).name)
               else f" Give it a name that sorts after {newest} ({NEW_HINT}) and move its SQL there.")
        )
    if isinstance(finding, VersionReused):
        previous = _shown(finding.previous)
        where = (f"was used by {previous}, which {ref} has since deleted" if finding.deleted
                 else f"is already used by {previous} on {ref}")
        return (
            f"{name} is new on this branch, but its version {finding.version} {where}: databases record it as"
            f" applied and would never run this migration. Give it a fresh version ({NEW_HINT})."
        )
    if isinstance(finding, Edited):
        was = f" as {_shown(finding.was)}" if finding.was is not None else ""
        what = f"{finding.part}, written at line {finding.line}" if finding.part \
            else f"it (first change at line {finding.line})"
        checked = said.edited_refusal and not finding.path.endswith(said.unchecksummed)
        effect = said.edited_refusal.format(version=_printed(finding.version)) if checked \
            else "databases that ran it will not run it again"
        return (
            f"{name} is already on {ref}{was}, and this branch changes {what}: {effect}. Undo the change and put it"
            f" in a new migration ({NEW_HINT})."
        )
    if isinstance(finding, Deleted):
        return (
            f"{finding.part or name} is on {ref}, and this branch deletes it: databases that ran it keep its changes and"
            f" fresh ones would lack them. Restore {'it' if finding.part else 'the file'}; undo its effects with a new"
            " migration instead."
        )
    if isinstance(finding, Renamed):
        old, new = finding.old_part or _shown(finding.old), finding.new_part or name
        return (
            f"{old} is on {ref}, and this branch renames it to {new}: databases"
            " that ran it would run it again under the new name. Restore the old name."
        )
    if isinstance(finding, Relabelled):
        return (
            f"{_shown(finding.old)} is on {ref}, and this branch renames it to {name} under the same version"
            f" {finding.version}: {said.renamed_refusal.format(version=_printed(finding.version))}. Restore the old name."
        )
    raise TypeError(f"unknown history finding {finding!r}")
