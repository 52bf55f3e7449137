"""Reading a Liquibase changelog tree: the master changelog, its includes, and each changeset's SQL.

Structured changelogs (YAML, JSON, XML) are read into one shape, a list of entries each
`{kind: attributes}` (`include`, `includeAll`, `changeSet`), so that one walk serves them all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from migration_check.discovery.base import read_sql
from migration_check.discovery.flyway_config import CONFIG_LEVELS, application_entries, read_properties
from migration_check.discovery.liquibase_changes import change_sql, inverse_sql
from migration_check.discovery.liquibase_checksums import edits_allowed, formatted_text, structured_text
from migration_check.discovery.liquibase_entries import INCLUDED, entries_of, is_false
from migration_check.discovery.liquibase_formatted import (
    FormattedChangeSet,
    dbms_includes_postgresql,
    is_formatted_sql,
    parse_formatted_sql,
)
from migration_check.discovery.liquibase_includes import (
    found_include,
    included_all,
    included_name,
    missing_allowed,
    resolve_include,
)
from migration_check.discovery.liquibase_load_data import load_data_sql
from migration_check.discovery.liquibase_modify import modified
from migration_check.discovery.liquibase_parameters import application_parameters, expand, with_parameters
from migration_check.discovery.liquibase_preconditions import DECIDING, Ran, condition
from migration_check.discovery.listing import written_stamps
from migration_check.errors import FileError, read_utf8
from migration_check.sql.lexing import joined_scripts

MASTER_STEMS = ("db.changelog-master", "changelog-master", "master", "changelog")
EXTENSIONS = (".yaml", ".yml", ".json", ".xml", ".sql")
# Change types that change nothing in the database: a changeset of these and SQL is still SQL.
NO_OPS = frozenset({"tagDatabase", "empty", "output", "stop"})


@dataclass(frozen=True)
class ChangeSet:
    path: Path  # the changelog file that holds it
    id: str
    author: str
    sql: str
    first_line: int
    rollback: str | None
    rollback_line: int
    rollback_path: Path | None
    run_in_transaction: bool
    skip_reason: str | None = None
    rollback_skip_reason: str | None = None
    sql_path: Path | None = None  # the file the SQL is in, where that is not the changelog (a sqlFile)
    precondition: str | None = None  # see liquibase_preconditions.py
    precondition_reason: str = ""
    contexts: tuple[str, ...] = ()  # context expressions that must all hold (see liquibase_contexts.py)
    labels: frozenset[str] = frozenset()  # its own and its includes'
    # What Liquibase says where it cannot read this changeset, or the include in its place (a file
    # that is not there): the changeset is refused at `first_line` of `path`, the others still judged.
    refused: str | None = None
    # What Liquibase checksums of it, the line of `path` it is written at, and whether Liquibase
    # takes an edit of it (liquibase_checksums.py): the history check's unit, not the file.
    own_text: str = ""
    own_line: int = 1
    edits_allowed: bool = False


# The keys of liquibase.properties that name the changelog (ORCID's `changeLogFile=db-master.xml`).
CHANGELOG_KEYS = frozenset({"changeLogFile", "changelog-file", "liquibase.command.changelogFile"})


def master_changelog(directory: Path) -> Path | None:
    """The directory's master changelog, when it has one that reads as a Liquibase changelog: the
    one Spring Boot's `spring.liquibase.change-log` or liquibase.properties' `changeLogFile` names
    (in a folder above, the classpath root), else one of the usual names."""
    if not any(path.suffix in EXTENSIONS for path in directory.iterdir() if path.is_file()):
        return None
    for folder in [directory, *directory.parents][:CONFIG_LEVELS]:
        entries = application_entries(folder)
        properties = read_properties(folder / "liquibase.properties")
        named = (entries.get("spring.liquibase.change-log") or entries.get("spring.liquibase.changeLog")
                 or next((value for key, value in properties if key in CHANGELOG_KEYS), None))
        if named:
            path = folder / named.removeprefix("classpath:").lstrip("/")
            if path.parent.resolve() == directory.resolve() and path.is_file() and _is_changelog(path):
                return path
    for stem in MASTER_STEMS:
        for extension in EXTENSIONS:
            path = directory / f"{stem}{extension}"
            if path.is_file() and _is_changelog(path):
                return path
    # A name of the project's own, which its code gives Liquibase (DIGI-UW/OpenELIS-Global-2's
    # `liquibase.setChangeLog("classpath:liquibase/base-changelog.xml")`): the one changelog of the
    # directory whose name says it is one.
    so_named = [path for path in sorted(directory.iterdir()) if path.suffix in EXTENSIONS and path.is_file()
                and "changelog" in path.stem.lower() and _is_changelog(path)]
    if len(so_named) == 1:
        return so_named[0]
    # Or the one changelog of Spring Boot's db/changelog directory, whatever its name (tolgee's
    # schema.xml, which another module's `spring.liquibase.change-log` names on the classpath).
    if not so_named and directory.name.lower() == "changelog":
        changelogs = [path for path in sorted(directory.iterdir()) if path.suffix in EXTENSIONS and path.is_file()
                      and _is_changelog(path)]
        return changelogs[0] if len(changelogs) == 1 else None
    return None


def changesets_of(master: Path, search_path: list[Path]) -> tuple[ChangeSet, ...]:
    """Every changeset the master changelog runs, in order (each file read once), with the
    changelog's properties (`<property name="uuid_function" value="gen_random_uuid()"/>`) put in
    for `${name}` as Liquibase puts them in: the first definition for PostgreSQL wins."""
    return _read(master, tuple(search_path), written_stamps(master.parent, EXTENSIONS))[0]


def changelogs_of(master: Path, search_path: list[Path]) -> tuple[Path, ...]:
    """Every changelog file the master reads, those that only include others among them."""
    return _read(master, tuple(search_path), written_stamps(master.parent, EXTENSIONS))[1]


# Detection, the held directories and discovery each ask for the same tree: it is read (every
# changelog, every CSV of a loadData) once per run.
@functools.lru_cache(maxsize=16)
def _read(master: Path, search_path: tuple[Path, ...],
          written: tuple[tuple[str, int, int], ...]) -> tuple[tuple[ChangeSet, ...], tuple[Path, ...]]:
    found: list[ChangeSet] = []
    seen: set[Path] = set()
    # The application's parameters first: Liquibase is given them before it reads the changelog,
    # and the first definition of a name wins.
    properties: dict[str, str] = application_parameters(master.parent)
    _walk(master, list(search_path), found, seen, properties)
    return tuple(_expanded(change, properties) for change in found), tuple(sorted(seen))


def _expanded(change: ChangeSet, properties: dict[str, str]) -> ChangeSet:
    """The changeset with its parameters put in. One nothing here defines stays as written, as
    Liquibase leaves it: fineract keeps `${officeId}` in the text of the reports it inserts."""
    rollback = None if change.rollback is None else expand(change.rollback, properties)
    return replace(change, sql=expand(change.sql, properties), rollback=rollback)


def _is_changelog(path: Path) -> bool:
    try:
        text = read_utf8(path)
    except (FileError, OSError):
        return False
    if path.suffix == ".sql":
        return is_formatted_sql(text)
    return "databaseChangeLog" in text


def _walk(path: Path, search_path: list[Path], found: list[ChangeSet], seen: set[Path],
          properties: dict[str, str], inherited: tuple[str, ...] = (), labelled: frozenset[str] = frozenset()) -> None:
    if path.resolve() in seen:
        return
    seen.add(path.resolve())
    if path.suffix == ".sql":
        text = read_sql(path)
        if is_formatted_sql(text):
            found.extend(replace(_formatted(path, change, _ran(found)), contexts=inherited + _context_of(change.context),
                                 labels=labelled | _labels_of(change.labels))
                         for change in parse_formatted_sql(path, text) if change.for_postgresql)
        elif text.strip():
            # Liquibase's SqlChangeLogParser: a plain SQL file is one changeset, `raw` by `includeAll`.
            found.append(ChangeSet(path=path, id="raw", author="includeAll", sql=text, first_line=1, rollback=None,
                                   rollback_line=1, rollback_path=None, run_in_transaction=True, contexts=inherited,
                                   labels=labelled))
        return
    entries, quoting, context = entries_of(path)
    inherited += _context_of(context)
    for kind, attributes, line in entries:
        own = inherited + _context_of(attributes.get("contextFilter") or attributes.get("context"))
        labels = labelled | _labels_of(attributes.get("labels"))
        if kind in ("include", "includeAll") and missing_allowed(kind, attributes) \
                and found_include(path, attributes, INCLUDED[kind], search_path) is None:
            continue  # Liquibase goes on without it (errorIfMissing, errorIfMissingOrEmpty false)
        if kind == "property" and dbms_includes_postgresql(str(attributes.get("dbms", ""))) and "value" in attributes:
            properties.setdefault(str(attributes.get("name", "")), str(attributes["value"]))
        try:
            if kind == "include":
                _walk_included(resolve_include(path, attributes, "file", search_path, line), search_path, found, seen,
                               properties, own, labels)
            elif kind == "includeAll":
                resolve_include(path, attributes, "path", search_path, line)  # (one is there, or Liquibase stops)
                for child in included_all(path, attributes, search_path, EXTENSIONS):
                    _walk_included(child, search_path, found, seen, properties, own, labels)
            elif kind == "changeSet" and dbms_includes_postgresql(str(attributes.get("dbms", ""))):
                # Liquibase puts the parameters in as it parses, before a change type writes its SQL:
                # JHipster's `type="${datetimeType}"` is `datetime` there, which it writes as a timestamp.
                written = with_parameters(attributes, properties)
                # Its own text as written, `${name}` and all: the parameters are the deployment's.
                found.append(replace(_structured(path, written, line, search_path, quoting, _ran(found)),
                                     contexts=own, labels=labels, own_text=structured_text(attributes)))
        except FileError as error:
            named = str(attributes.get("id", "")) if kind == "changeSet" else included_name(attributes, INCLUDED[kind])
            found.append(_refused(error, named, str(attributes.get("author", ""))))


def _walk_included(path: Path, search_path: list[Path], found: list[ChangeSet], seen: set[Path],
                   properties: dict[str, str], inherited: tuple[str, ...], labelled: frozenset[str]) -> None:
    """An included changelog, walked; one that does not read (malformed YAML or XML, not UTF-8) is
    refused at its own line, and the changelogs around it are still read. Only the master's own
    errors stop the run: without it there is no list of changesets to judge."""
    try:
        _walk(path, search_path, found, seen, properties, inherited, labelled)
    except FileError as error:
        if Path(error.path).resolve() != path.resolve():
            raise
        found.append(_refused(error, path.name, ""))


def _refused(error: FileError, changeset_id: str, author: str) -> ChangeSet:
    """The changeset (or the include in its place) Liquibase cannot read, refused where `error` says."""
    return ChangeSet(path=Path(error.path), id=changeset_id, author=author, sql="", first_line=error.line or 1, rollback=None,
                     rollback_line=error.line or 1, rollback_path=None, run_in_transaction=True,
                     refused=error.message)


def _labels_of(labels: object) -> frozenset[str]:
    return frozenset(label.strip().lower() for label in str(labels or "").strip('"').split(",") if label.strip())


def _context_of(expression: object) -> tuple[str, ...]:
    return (str(expression),) if expression and str(expression).strip() else ()


def _ran(earlier: list[ChangeSet]) -> Ran:
    """Whether a changeset (its changelog file, id, author) has run on the database the replay
    builds: on a new database, exactly those that come before in the changelog (Liquibase records
    one that MARK_RAN skipped as ran too). The file is matched by its path or its name, with or
    without the extension, as a changelog's logicalFilePath often gives it (traccar's
    `changelog-3.3`)."""
    def ran(changelog: str, changeset_id: str, author: str) -> bool:
        wanted = Path(changelog)
        return any(change.id == changeset_id and change.author == author and (
            change.path.name == wanted.name or change.path.stem == wanted.name
            or change.path.as_posix().endswith(changelog)) for change in earlier)
    return ran


def _formatted(path: Path, change: FormattedChangeSet, ran: Ran) -> ChangeSet:
    return ChangeSet(
        path=path, id=change.id, author=change.author, sql="\n".join(change.body), first_line=change.line + 1,
        rollback=None if change.no_rollback or not change.rollback else "\n".join(change.rollback),
        rollback_line=change.rollback_line or change.line, rollback_path=path,
        run_in_transaction=change.run_in_transaction, own_text=formatted_text(change.sql_lines), own_line=change.line,
        edits_allowed=edits_allowed({"runOnChange": change.run_on_change, "runAlways": change.run_always,
                                     "validCheckSum": change.valid_checksums}),
        **_precondition_fields(*_conditional(change.on_fail, change.preconditions, ran)))


def _precondition_fields(skip: str | None, sql: str | None, reason: str) -> dict[str, Any]:
    return {"skip_reason": skip, "precondition": sql, "precondition_reason": reason}


def _conditional(on_fail: str, preconditions: list[Any], ran: Ran) -> tuple[str | None, str | None, str]:
    """(skip reason, condition, reason when it does not hold) of a changeset's preconditions: with
    onFail MARK_RAN or CONTINUE, Liquibase runs it only where they hold, which the replay checks
    on the database just before it (057-drop-tormays_trams_polys drops a table only where it
    exists); a precondition this check cannot evaluate skips it instead."""
    on_fail = on_fail.upper()
    if on_fail not in DECIDING:
        return None, None, ""
    if any(entry is None for entry in preconditions) or (sql := condition(preconditions, ran)) is None:
        return (f"it runs only where its preconditions hold (onFail: {on_fail}), and one of them is of a kind this"
                " check does not evaluate: not replayed"), None, ""
    effect = "marks it ran without running it" if on_fail == "MARK_RAN" else "leaves it for a later update"
    return None, sql, f"its preconditions do not hold here: Liquibase {effect} (onFail: {on_fail})"


def _on_fail(preconditions: object) -> str:
    entries = preconditions if isinstance(preconditions, list) else [preconditions]
    return next((str(entry["onFail"]) for entry in entries if isinstance(entry, dict) and "onFail" in entry), "")


def _structured(path: Path, changeset: dict[str, Any], line: int, search_path: list[Path], quoting: str,
                ran: Ran) -> ChangeSet:
    changes = changeset.get("changes") or []
    quoting = str(changeset.get("objectQuotingStrategy") or quoting)
    sql, sql_path, unsupported = _sql_of(path, changes, search_path, line, quoting)
    rollback_entries = changeset.get("rollback")
    rollback: str | None = None
    rollback_path: Path | None = None
    rollback_skip: str | None = None
    if rollback_entries is None:
        rollback = _derived_rollback(changes, quoting)
    elif isinstance(rollback_entries, str):
        rollback = rollback_entries
    elif rollback_entries:
        entries = rollback_entries if isinstance(rollback_entries, list) else [rollback_entries]
        rollback, rollback_path, rollback_types = _sql_of(path, entries, search_path, line, quoting)
        if rollback_types:
            rollback, rollback_skip = None, (f"its rollback is Liquibase change types this check does not write as"
                                            f" SQL ({', '.join(rollback_types)})")
    sql, rollback, unsupported = modified(changeset.get("modifySql"), sql, rollback, unsupported)
    conditions = changeset.get("preConditions")
    listed = conditions if isinstance(conditions, list) else [conditions]
    gate_skip, gate, gate_reason = _conditional(_on_fail(conditions), listed, ran)
    skip = gate_skip or (
        f"Liquibase change types this check does not write as SQL ({', '.join(unsupported)}): not replayed"
        if unsupported else None)
    return ChangeSet(
        path=path, id=str(changeset.get("id", "")), author=str(changeset.get("author", "")), sql=sql,
        first_line=1 if sql_path is not None else line, rollback=rollback, rollback_line=1 if rollback_path else line,
        rollback_path=rollback_path or path, run_in_transaction=not is_false(changeset.get("runInTransaction")),
        skip_reason=skip, rollback_skip_reason=rollback_skip, sql_path=sql_path, precondition=gate,
        precondition_reason=gate_reason, own_line=line,
        edits_allowed=edits_allowed(changeset))


def _derived_rollback(changes: list[Any], quoting: str) -> str | None:
    """The rollback Liquibase derives for a changeset without one: each change's inverse, last change
    first; None where some change has none (SQL has none: Liquibase then refuses to roll back)."""
    inverses = []
    for change in reversed(changes):
        if not isinstance(change, dict) or len(change) != 1:
            continue
        [(kind, attributes)] = change.items()
        if kind in NO_OPS:
            continue
        inverse = inverse_sql(kind, attributes, quoting)
        if inverse is None:
            return None
        inverses.append(inverse)
    return "\n".join(inverses) if inverses else None


def _sql_of(path: Path, changes: list[Any], search_path: list[Path], line: int,
            quoting: str) -> tuple[str, Path | None, list[str]]:
    """The SQL of `sql` and `sqlFile` changes (the file, when it is one sqlFile), and the other
    change types met."""
    texts: list[str] = []
    files: list[Path] = []
    unsupported: list[str] = []
    for change in changes:
        if not isinstance(change, dict) or len(change) != 1:
            continue
        [(kind, attributes)] = change.items()
        if isinstance(attributes, dict) and not dbms_includes_postgresql(str(attributes.get("dbms", ""))):
            continue
        if kind == "sql":
            texts.append(str(attributes.get("sql", "") if isinstance(attributes, dict) else attributes))
        elif kind == "loadData" and isinstance(attributes, dict):
            data = read_utf8(resolve_include(path, attributes, "file", search_path, line))
            texts.append(load_data_sql(attributes, data, quoting))
        elif kind == "sqlFile" and isinstance(attributes, dict):
            target = resolve_include(path, attributes, "path", search_path, line)
            files.append(target)
            texts.append(read_sql(target))
        elif kind not in NO_OPS:
            written = change_sql(kind, attributes, quoting)
            if written is None:
                unsupported.append(kind)
            else:
                texts.append(written)
    if len(texts) == 1 and len(files) == 1:
        return texts[0], files[0], unsupported
    texts = [text.strip() for text in texts if text.strip()]
    if len(texts) == 1:
        return texts[0], None, unsupported
    return joined_scripts(texts), None, unsupported

