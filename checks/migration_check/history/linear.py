"""Linear history as pure functions over snapshots of migrations: no git, no disk.

Like alembic's revision logic, everything here takes plain lists and returns typed records, so each
rule is tested with in-memory data. `git.py` and `snapshots.py` build the snapshots; `checks.py`
turns the records into test cases.

Three snapshots describe a branch against its base:

- `branch`: the working tree (what the pull request would merge);
- `merge_base`: the base as it was when the branch started (`git merge-base HEAD BASE`);
- `tip`: the base as it is now.

Which one each rule compares against is deliberate:

- *added* means on the branch but neither at the merge base nor at the tip. A migration the base
  deleted after the branch started is still present on an old branch, but the branch did not add it.
- *out of order* compares an added migration with the newest migration **at the tip**: a migration
  that another branch merged after this one started is exactly what the added one must sort after.
  Numeric versions (timestamps, sequence numbers, Flyway's 1.2) compare across snapshots; where
  versions are names ordered by position (a sqitch plan), only the branch's own order can say that
  an added change went in before a change of the base.
- *edited* and *deleted* compare with the **merge base**: the branch is responsible for what changed
  since it started, not for what the base did since (an unrebased branch simply lacks newer files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MigrationFile:
    """One file of a migration: its repository-relative path and its exact bytes. `part`: which
    part of a file several migrations share this is (a Liquibase changeset's id: its content the
    changeset's own text, `line` where that starts in the file)."""

    path: str
    content: bytes
    part: str = ""
    line: int | None = None
    compared: bytes | None = None  # what the runner's checksum reads of it, where that is less than all

    @property
    def key(self) -> tuple[str, str]:
        return self.path, self.part

    @property
    def checked(self) -> bytes:
        """What an edit is judged on: what the runner checksums, else every byte."""
        return self.content if self.compared is None else self.compared


@dataclass(frozen=True)
class Entry:
    """One migration in one snapshot. `sort_key` comes from the layout that discovered it."""

    id: str
    version: str
    sort_key: tuple
    files: tuple[MigrationFile, ...]
    # Flyway R__ scripts: rerun whenever they change, so editing them is their normal life.
    repeatable: bool = False
    # Flyway B__ baselines: a new database starts from the latest; an existing one never runs them.
    # Neither kind takes a place in the versions' order.
    baseline: bool = False
    # What the runner records the migration as applied by (the layout's rule); None: the version
    # with numeric parts as numbers.
    identity_key: tuple | None = None
    # The runner runs it where it is written (a Liquibase changelog, a sqitch plan): its version, a
    # changeset's id `3` or a change's name, orders nothing.
    by_position: bool = False

    @property
    def versioned(self) -> bool:
        return not (self.repeatable or self.baseline)

    @property
    def path(self) -> str:
        """The main file (the forward script), which findings point at."""
        return self.files[0].path if self.files else self.id

    @property
    def identity(self) -> tuple:
        """Two entries with one identity are one migration to the runner (by default the version,
        numeric parts as numbers, so V1 and V01 are one version)."""
        if self.identity_key is not None:
            return self.identity_key
        return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[._]", self.version))

    @property
    def shown(self) -> str:
        """What names it: its main file, or its part of a file it shares (a Liquibase changeset's label)."""
        return self.files[0].part if self.files and self.files[0].part else self.path

    @property
    def order(self) -> tuple | None:
        """A key that orders entries of different snapshots, or None when only positions order them."""
        return self.identity if self.version[:1].isdigit() and not self.by_position else None


Snapshot = Sequence[Entry]


# --- findings: each names the migration whose test case it fails, and the file to point at ----


@dataclass(frozen=True)
class DuplicateVersion:
    """Two migrations share a version: runners record versions, so one of them would never run."""

    migration: str
    path: str
    version: str
    others: tuple[str, ...]


@dataclass(frozen=True)
class AmbiguousOrder:
    """Numeric and textual order disagree (`9_a` vs `10_b`): runners that sort names as text differ."""

    migration: str
    path: str
    version: str
    previous: str
    previous_version: str


@dataclass(frozen=True)
class _AddedByBranch:
    """A finding about a migration the branch adds: it points at the added file."""

    migration: str
    added: str

    @property
    def path(self) -> str:
        return self.added


@dataclass(frozen=True)
class OutOfOrder(_AddedByBranch):
    """A migration the branch adds sorts before migrations the base already has."""

    predates: str  # the first base migration it sorts before
    newest: str  # the newest base migration, which a fresh version must sort after
    shown: str = ""  # its name, where its file's does not say it (Entry.shown)


@dataclass(frozen=True)
class VersionReused(_AddedByBranch):
    """A migration the branch adds takes a version the base uses, or used before deleting it."""

    version: str
    previous: str
    deleted: bool  # True: `previous` is no longer on the base


@dataclass(frozen=True)
class Edited:
    """A migration file that is on the base and that the branch changed."""

    migration: str
    path: str
    line: int  # first changed line of the branch's version (of the part, where `part` says which)
    was: str | None = None  # the base's name for it, where the branch renamed it under the same version
    part: str = ""  # MigrationFile.part: which part of a shared file
    version: str = ""


@dataclass(frozen=True)
class Deleted:
    """A migration file that is on the base and that the branch removed (`part`: the part of a
    shared file, where the branch removed that)."""

    migration: str
    path: str
    part: str = ""


@dataclass(frozen=True)
class Renamed:
    """A base migration file the branch moved to another name, byte for byte (or a part of a
    shared file that the branch gave another name: `old_part`, `new_part`)."""

    migration: str
    old: str
    new: str
    old_part: str = ""
    new_part: str = ""

    @property
    def path(self) -> str:
        return self.new


@dataclass(frozen=True)
class Relabelled:
    """A base migration the branch renames under the same version: one migration to a runner that
    records the version, refused only by a runner that checks the name too (Flyway's description)."""

    migration: str
    old: str
    new: str
    version: str

    @property
    def path(self) -> str:
        return self.new


Finding = DuplicateVersion | AmbiguousOrder | OutOfOrder | VersionReused | Edited | Deleted | Renamed | Relabelled


# --- the local part: needs only the branch ----------------------------------------------------


def local_findings(branch: Snapshot, unambiguous: bool = False) -> list[Finding]:
    """Versions unique and in one unambiguous order, in migration order. Where the runner has one
    order of its own (`unambiguous`: it compares versions as numbers, or applies file names as
    text), the other order is nobody's business."""
    findings: list[Finding] = []
    versioned = [e for e in branch if e.versioned]
    by_version: dict[tuple, list[Entry]] = {}
    for entry in versioned:
        by_version.setdefault(entry.identity, []).append(entry)
    ordered = sorted(versioned, key=lambda e: e.sort_key)
    for previous, entry in zip([None, *ordered], ordered, strict=False):
        same = by_version[entry.identity]
        if len(same) > 1:
            others = tuple(e.path for e in same if e is not entry)
            findings.append(DuplicateVersion(entry.id, entry.path, entry.version, others))
        elif not unambiguous and previous is not None and _text_order_differs(previous.version, entry.version):
            findings.append(AmbiguousOrder(entry.id, entry.path, entry.version, previous.path, previous.version))
    return findings


def _text_order_differs(earlier: str, later: str) -> bool:
    # Only plain numbers: dotted versions (Flyway 1.10) are numeric by every runner's definition.
    return earlier.isdigit() and later.isdigit() and earlier > later


# --- the base part: needs git's view of the base ----------------------------------------------


def base_findings(
    branch: Snapshot,
    merge_base: Snapshot,
    tip: Snapshot,
    retired: Iterable[Entry] = (),
    names_checked: bool = False,
) -> list[Finding]:
    """What the branch does to the base's history. `retired`: migrations the base once deleted;
    `names_checked`: the runner refuses an applied migration whose name changed under its version."""
    moved = moved_entries(branch, merge_base, tip)
    findings: list[Finding] = []
    findings += _added_findings(branch, merge_base, tip, retired, {new.id for new in moved.values()})
    findings += _changed_findings(branch, merge_base, tip, moved, names_checked)
    return findings


def moved_entries(branch: Snapshot, merge_base: Snapshot, tip: Snapshot) -> dict[str, Entry]:
    """Base migrations the branch renames under the same identity (golang-migrate's `000002_b` as
    `000002_create_b`), by the base's id: the same migration to the runner, which records what the
    identity is made of, not the rest of the name."""
    kept = {e.id for e in branch}
    on_tip = {e.id for e in tip}
    added = {e.identity: e for e in added_entries(branch, merge_base, tip)}
    # Another migration of the branch with that identity would make it a reuse, not a rename.
    held = {e.identity for e in branch if e.id in on_tip}
    return {old.id: added[old.identity] for old in merge_base
            if old.versioned and old.id not in kept and old.id in on_tip and old.identity in added
            and old.identity not in held}


def added_entries(branch: Snapshot, merge_base: Snapshot, tip: Snapshot) -> list[Entry]:
    """Migrations the branch adds: known neither at the merge base nor at the tip."""
    known = {e.id for e in merge_base} | {e.id for e in tip}
    return [e for e in branch if e.id not in known and e.versioned]


def _added_findings(branch: Snapshot, merge_base: Snapshot, tip: Snapshot, retired: Iterable[Entry],
                    renamed: set[str]) -> list[Finding]:
    tip_versioned = [e for e in tip if e.versioned]
    # A version is "taken" by the first place that uses it: the tip, the merge base, then history.
    taken: dict[tuple, tuple[Entry, bool]] = {}
    for entries, gone in ((tip_versioned, False), (merge_base, True), (retired, True)):
        for entry in entries:
            if entry.versioned:
                taken.setdefault(entry.identity, (entry, gone))

    findings: list[Finding] = []
    for entry in added_entries(branch, merge_base, tip):
        if entry.id in renamed:  # a base migration under another name: _changed_findings says what changed
            continue
        if entry.identity in taken:
            previous, gone = taken[entry.identity]
            findings.append(VersionReused(entry.id, entry.path, entry.version, previous.path, gone))
            continue
        later = _base_entries_after(entry, branch, tip_versioned)
        if later:
            findings.append(OutOfOrder(entry.id, entry.path, predates=later[0].shown, newest=later[-1].shown,
                                       shown=entry.shown if entry.shown != entry.path else ""))
    return findings


def _base_entries_after(added: Entry, branch: Snapshot, tip: list[Entry]) -> list[Entry]:
    """Tip migrations that sort after `added`, in order: by version, else by position on the branch."""
    if added.order is not None:
        after = [(e.order, e) for e in tip if e.order is not None and e.order > added.order]
        return [e for _, e in sorted(after, key=lambda pair: pair[0])]
    position = {e.id: e.sort_key for e in branch}
    later = [e for e in tip if e.id in position and position[e.id] > added.sort_key]
    return sorted(later, key=lambda e: position[e.id])


def _changed_findings(branch: Snapshot, merge_base: Snapshot, tip: Snapshot, moved: dict[str, Entry],
                      names_checked: bool) -> list[Finding]:
    branch_files = _files(branch)
    tip_files = _files(tip)
    base_keys = set(_files(merge_base))
    # Files new on the branch, by content: a deleted base file that reappears here was renamed.
    new_by_content = {f.content: f for key, f in branch_files.items() if key not in base_keys}

    # An edit the branch's own version takes (a Liquibase changeset that now lists its valid checksums).
    rerun = {e.id for e in branch if e.repeatable}
    kept = {e.id: e for e in branch}
    findings: list[Finding] = []
    for entry in merge_base:
        if entry.repeatable or entry.id in rerun:
            continue
        if entry.id in moved:
            findings += _moved_findings(entry, moved[entry.id], names_checked)
            continue
        if entry.id in kept and any(old.key not in branch_files and old.key in tip_files for old in entry.files):
            # The same migration, its files at other paths (bun's `x.up.sql` as `x.tx.up.sql`): the
            # runner knows it by its id, which a path does not change.
            findings += _moved_findings(entry, kept[entry.id], names_checked=False)
            continue
        for old in entry.files:
            if old.key in branch_files:
                new = branch_files[old.key].checked
                tip_file = tip_files.get(old.key)
                # Equal to the tip: the branch took the base's own later change, not an edit of its own.
                if new != old.checked and (tip_file is None or new != tip_file.checked):
                    findings.append(Edited(entry.id, old.path, _changed_at(old, branch_files[old.key]), part=old.part,
                                           version=entry.version))
            elif old.key in tip_files:  # deleted by the branch (a base deletion is not the branch's)
                if (moved_to := new_by_content.get(old.content)) is not None:
                    findings.append(Renamed(entry.id, old.path, moved_to.path, old.part, moved_to.part))
                else:
                    findings.append(Deleted(entry.id, old.path, old.part))
    return findings


def _moved_findings(old: Entry, new: Entry, names_checked: bool) -> list[Finding]:
    """A base migration renamed under its identity, or whose files moved: its files compared with
    the branch's in turn (the forward script first), and the rename itself only where the runner
    checks names."""
    findings: list[Finding] = [Relabelled(new.id, old.path, new.path, new.version)] if names_checked else []
    for before, after in zip(old.files, new.files, strict=False):
        if before.checked != after.checked:
            findings.append(Edited(new.id, after.path, _changed_at(before, after), part=after.part, version=new.version,
                                   was=before.path if before.path != after.path else None))
    findings += [Deleted(new.id, gone.path) for gone in old.files[len(new.files):]]
    return findings


def _changed_at(before: MigrationFile, after: MigrationFile) -> int:
    """Where the branch's version of a file first differs; for a part of a shared file, where the
    part is written (its text, a Liquibase changeset's changes, has no lines of the file's)."""
    return after.line if after.line is not None else first_changed_line(before.content, after.content)


def _files(snapshot: Snapshot) -> dict[tuple[str, str], MigrationFile]:
    return {f.key: f for entry in snapshot for f in entry.files}


def first_changed_line(old: bytes, new: bytes) -> int:
    """The 1-based line of `new` where it first differs from `old` (line endings count)."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return number
    # One is a prefix of the other: the change starts just after the shorter one.
    return max(1, min(len(old_lines), len(new_lines)) + (1 if len(new_lines) > len(old_lines) else 0))
