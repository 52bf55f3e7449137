"""The naming check: every file in the migrations directory follows the convention of its format.

The convention is a regex on the file's path inside the migrations directory (its name, for flat
layouts): the layout's `naming_pattern`, or `naming-pattern` from the config. On top of the
pattern, a 14-digit version is read as a UTC timestamp and must be a real moment that is not in the
future (beyond a little clock skew): a timestamp written in local time shows up here.

When a name fails, the check tries the usual repairs (snake_case the name, widen the version to a
timestamp) and, if one makes the name match, says which and proposes the new name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from migration_check.discovery import layout_named
from migration_check.history.results import result
from migration_check.model import CheckResult, Project, Severity, StrayFile
from migration_check.settings import Settings

TIMESTAMP_DIGITS = 14
# Clocks of laptops and CI runners differ a little; more than this ahead is a wrong time zone.
CLOCK_SKEW = timedelta(minutes=10)
LEADING_VERSION = re.compile(r"^(?P<digits>\d+)(?=[_.])")
# A run of one digit then zeros, all nines, or a year of zeros (00000000000001, 00000000000002, ...):
# versions made up to sort first or last, or to number the migrations, not to tell the time.
SORT_SENTINEL = re.compile(r"\d0+|9+|0000\d+")
# Scripts, documents and configuration: what a team keeps beside its migrations that no runner
# reads as one (.sql, .py, .js, .go, .txt and the like still get a word: a misnamed migration).
PLAINLY_OTHER_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".ps1", ".bat", ".cmd", ".md", ".rst", ".yaml", ".yml",
                                    ".toml", ".ini", ".cfg", ".conf", ".env", ".lock", ".sum", ".png", ".jpg", ".svg"})


@dataclass(frozen=True)
class Convention:
    pattern: str
    hint: str
    timestamps: bool = False  # 14-digit versions must be real UTC moments, not in the future

    def matches(self, name: str) -> bool:
        return re.fullmatch(self.pattern, name) is not None


@dataclass(frozen=True)
class NamingProblem:
    """Why one file name breaks the convention, and the name that would not (when one is found)."""

    file: str
    kind: str  # "pattern" | "stray" | "ignored" | "bad-timestamp" | "future-timestamp"
    message: str
    suggestion: str | None = None


def convention_for(project: Project, settings: Settings) -> Convention:
    """The runner's own rule by default; `naming-pattern` or `naming: strict` when the team asks."""
    layout = layout_named(project.format)
    if settings.naming_pattern:
        return Convention(settings.naming_pattern, f"the naming pattern {settings.naming_pattern}",
                          timestamps=layout.timestamp_versions or settings.naming_strict)
    if settings.naming_strict and layout.strict_naming_pattern:
        return Convention(layout.strict_naming_pattern, layout.strict_naming_hint or layout.strict_naming_pattern,
                          timestamps=True)
    pattern, hint = layout.naming_for(project.directory)
    return Convention(pattern, hint, timestamps=layout.timestamp_versions or settings.naming_strict)


def parse_timestamp(version: str) -> datetime:
    """`YYYYMMDDHHMMSS` as a UTC datetime; ValueError when it is not a real moment.

    Sliced by hand: strptime accepts one-digit fields, so it would read 20251345... as a date.
    """
    if len(version) != TIMESTAMP_DIGITS or not version.isdigit():
        raise ValueError(f"{version} is not {TIMESTAMP_DIGITS} digits")
    fields = [int(version[a:b]) for a, b in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))]
    year, month, day, hour, minute, second = fields
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def naming_problems(
    name: str,
    convention: Convention,
    now: datetime,
    version: str | None = None,
    stray_reason: str | None = None,
    refused: bool = True,
    misread: bool = False,
) -> list[NamingProblem]:
    """Everything wrong with the file called `name` (its path inside the migrations directory).

    A stray file the runner ignores (`refused` False) is not judged by the convention: it is not a
    migration at all, and the check only says so (a warning)."""
    if stray_reason is not None and misread:
        return [NamingProblem(name, "misread", f"{name}: {stray_reason}.")]
    if stray_reason is not None and not refused:
        return [NamingProblem(name, "ignored", f"{name} is not a migration ({stray_reason}); if it should be one, "
                              f"name it {convention.hint}, else list it under `ignore` in the config.")]
    problems: list[NamingProblem] = []
    if not convention.matches(name):
        problems.append(_mismatch(name, convention, now, stray=stray_reason is not None))
    elif stray_reason is not None:
        problems.append(NamingProblem(name, "stray", f"{name} is in the migrations directory but is not a migration "
                                      f"({stray_reason}); rename it or list it under `ignore` in the config."))
    if convention.timestamps and version is not None and len(version) == TIMESTAMP_DIGITS and version.isdigit():
        problems += _timestamp_problems(name, version, now)
    return problems


def _mismatch(name: str, convention: Convention, now: datetime, stray: bool) -> NamingProblem:
    fixes = [(_fix_case, "its name is not lower snake_case"), (_fix_version, "")]
    # Each repair alone, then both: the first candidate that matches tells what is wrong.
    attempts = [[fixes[0]], [fixes[1]], fixes]
    for attempt in attempts:
        candidate, reasons = name, list[str]()
        for fix, reason in attempt:
            fixed, why = fix(candidate, now)
            if fixed != candidate:
                candidate, reasons = fixed, reasons + [why or reason]
        if reasons and convention.matches(candidate):
            message = _mismatch_message(name, convention, "; ".join(reasons), candidate, stray)
            return NamingProblem(name, "pattern", message, candidate)
    return NamingProblem(name, "pattern", _mismatch_message(name, convention, "", None, stray))


def _mismatch_message(name: str, convention: Convention, reasons: str, suggestion: str | None, stray: bool) -> str:
    head = f"{name} is in the migrations directory but is not a migration: it" if stray else name
    text = f"{head} does not match {convention.hint}"
    text += f": {reasons}." if reasons else "."
    if suggestion:
        text += f" Rename it to {suggestion}."
    else:
        text += " Rename it to follow the convention."
    if stray:
        text += " If it is not a migration, list it under `ignore` in the config."
    return text


def _fix_case(name: str, now: datetime) -> tuple[str, str]:
    return snake_case(name), ""


def snake_case(text: str) -> str:
    """`AddUsers-Table` -> `add_users_table`; dots (extensions) are kept."""
    text = re.sub(r"[\s\-]+", "_", text)
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", text)
    return re.sub(r"_+", "_", text).lower()


def _fix_version(name: str, now: datetime) -> tuple[str, str]:
    """Widen a short timestamp with zeros (2025090612 -> 20250906120000) when that makes a real past
    moment. Never a new version from the clock: that would reorder the migration, and make the
    report differ from run to run."""
    match = LEADING_VERSION.match(name)
    if match is None or len(match["digits"]) >= TIMESTAMP_DIGITS:
        return name, ""
    digits = match["digits"]
    padded = digits.ljust(TIMESTAMP_DIGITS, "0")
    try:
        if parse_timestamp(padded) > now + CLOCK_SKEW:
            return name, ""
    except ValueError:
        return name, ""
    why = (f"its version {digits} has {len(digits)} digits, "
           f"the convention wants a {TIMESTAMP_DIGITS}-digit UTC timestamp (YYYYMMDDHHMMSS)")
    return padded + name[len(digits) :], why


def _timestamp_problems(name: str, version: str, now: datetime) -> list[NamingProblem]:
    """A 14-digit version must be a real moment, not in the future. Made-up versions that exist to
    sort first or last (00000000000000, 10000000000000, 99999999999999, 00000000000001) are
    deliberate, and a fresh timestamp is never proposed: it would move the migration elsewhere in
    the order."""
    if SORT_SENTINEL.fullmatch(version):
        return []
    try:
        moment = parse_timestamp(version)
    except ValueError:
        message = (f"{name}: its version {version} is not a real date and time (YYYYMMDDHHMMSS, UTC);"
                   f" give it the UTC time it was written (`migration-check new NAME` makes one).")
        return [NamingProblem(name, "bad-timestamp", message)]
    if moment > now + CLOCK_SKEW:
        message = (f"{name}: its version {version} is later than the current UTC time; versions are UTC"
                   " timestamps (was it written in local time?), and a future one sorts after migrations"
                   " written later. Give it the UTC time it was written (`migration-check new NAME` makes one).")
        return [NamingProblem(name, "future-timestamp", message)]
    return []


def plainly_other(path: Path) -> bool:
    """Whether a file the runner ignores is plainly no migration, and saying so would be noise:
    a dotfile, a script or a config file kept beside the migrations (measure-sh/measure keeps
    .gitignore, .sqlfluff and init-postgres.sh there)."""
    return path.name.startswith(".") or path.suffix.lower() in PLAINLY_OTHER_SUFFIXES


def check_naming(project: Project, settings: Settings, now: datetime | None = None) -> list[CheckResult]:
    """One test case per file in the migrations directory, in path order."""
    now = now or datetime.now(UTC)
    convention = convention_for(project, settings)
    files: list[tuple[Path, str | None, StrayFile | None]] = []
    for migration in project.migrations:
        files += [(path, migration.version, None) for path in migration.files]
    in_code = {path for migration in project.migrations if migration.versioned_in_code for path in migration.files}
    files += [(orphan.path, orphan.version, None) for orphan in project.orphan_rollbacks]
    files += [(stray.path, None, stray) for stray in project.stray_files if stray.refused or not plainly_other(stray.path)]
    misread = {stray.path for stray in project.stray_files if stray.misread}
    files = [item for item in files if item[2] is not None or item[0] not in misread]  # (one case per file)

    results = []
    for path, version, stray in sorted(files, key=lambda item: item[0].as_posix()):
        name = path_in_directory(project, path)
        problems = [] if path in in_code else naming_problems(
            name, convention, now, version, stray.reason if stray else None, refused=stray.refused if stray else True,
            misread=bool(stray and stray.misread))
        case = result(settings, "naming", name, project.relative(path), [p.message for p in problems], line=1)
        if problems and all(p.kind == "ignored" for p in problems):
            case.severity = Severity.WARNING  # the runner ignores the file: never a failure of its own
        results.append(case)
    return results


def path_in_directory(project: Project, path: Path) -> str:
    """The path inside the migrations directory, which naming patterns are matched against."""
    try:
        return path.relative_to(project.directory).as_posix()
    except ValueError:
        return path.name
