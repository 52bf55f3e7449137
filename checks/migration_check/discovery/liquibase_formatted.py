"""Liquibase's formatted SQL changelogs, read as its FormattedSqlChangeLogParser reads them.

    --liquibase formatted sql
    --changeset alice:1 runInTransaction:false
    CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
    --rollback DROP INDEX CONCURRENTLY orders_user_idx;

- The file is one when its first non-blank line is `--liquibase formatted sql` (any case, any
  spacing).
- Each `--changeset <author>:<id>` line starts a changeset (the author runs to the first `:`, as
  Liquibase's pattern has it); its SQL runs to the next one. Attributes are read from that line as
  Liquibase reads them: `runInTransaction:false`, `dbms:postgresql` (a changeset for other
  databases only is not PostgreSQL's: it is left out), `splitStatements`, `endDelimiter`.
- Its rollback is the text of its `--rollback ...` lines, or of a `/* liquibase rollback ... */`
  block; `--rollback not required` and `--rollback empty` say there is none on purpose.

These directives are comments to PostgreSQL, so each changeset's script is its lines as they are,
line numbers unchanged. Reading them is reading Liquibase's comment syntax, not SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migration_check.errors import FileError

FIRST_LINE = re.compile(r"^\s*--\s*liquibase\s*formatted.*", re.IGNORECASE)
CHANGE_SET = re.compile(r'\s*--[\s]*changeset\s+("[^"]+"|[^:]+):\s*("[^"]+"|\S+).*', re.IGNORECASE)
CHANGE_SET_ANY = re.compile(r"\s*--[\s]*changeset[\s]*.*$", re.IGNORECASE)
ROLLBACK = re.compile(r"\s*--[\s]*rollback (.*)", re.IGNORECASE)
ROLLBACK_BLOCK_START = re.compile(r"\s*/\*\s*liquibase\s*rollback\s*$", re.IGNORECASE)
ROLLBACK_BLOCK_END = re.compile(r".*\s*\*/\s*$")
RUN_IN_TRANSACTION = re.compile(r".*runInTransaction:(\w+).*", re.IGNORECASE)
DBMS = re.compile(r".*dbms:([^,][\w!,]+).*", re.IGNORECASE)
CONTEXT = re.compile(r'.*context(?:Filter)?:(".*?"|\S*).*', re.IGNORECASE)
LABELS = re.compile(r'.*labels:(".*?"|\S*).*', re.IGNORECASE)
NO_ROLLBACK = frozenset({"not required", "empty"})
VALID_CHECKSUM = re.compile(r"\s*--[\s]*validCheckSum:? (.*)", re.IGNORECASE)
COMMENT = re.compile(r"\s*--[\s]*comment:? (.*)", re.IGNORECASE)
PRECONDITIONS = re.compile(r"\s*--[\s]*preconditions(.*)", re.IGNORECASE)
PRECONDITION = re.compile(r"\s*--[\s]*precondition\-([a-zA-Z0-9-]+) (.*)", re.IGNORECASE)
EXPECTED_RESULT = re.compile(r"^(?:expectedResult:)?(?:(\w+)|'([^']+)'|\"([^\"]+)\") (.*)", re.IGNORECASE)
WORD = re.compile(r".*\b{}:(\w+).*", re.IGNORECASE)
ON_FAIL = re.compile(r".*onFail:(\w+).*", re.IGNORECASE)


@dataclass
class FormattedChangeSet:
    author: str
    id: str
    line: int  # of the --changeset line
    body: list[str] = field(default_factory=list)  # the lines after it, as they are
    sql_lines: list[str] = field(default_factory=list)  # those Liquibase's parser keeps as the SQL
    rollback: list[str] = field(default_factory=list)
    rollback_line: int | None = None
    no_rollback: bool = False  # `--rollback not required` / `--rollback empty`
    run_in_transaction: bool = True
    dbms: str = ""
    context: str = ""
    labels: str = ""
    on_fail: str = ""  # of its `--preconditions` (HALT unless said)
    run_on_change: str = ""  # its runOnChange, runAlways and validCheckSum, as written
    run_always: str = ""
    valid_checksums: list[str] = field(default_factory=list)
    # Its `--precondition-...` lines, in the shape of a YAML changelog's preConditions list (an
    # entry None: one Liquibase's formatted SQL has that this check does not evaluate).
    preconditions: list[dict[str, Any] | None] = field(default_factory=list)

    @property
    def for_postgresql(self) -> bool:
        return dbms_includes_postgresql(self.dbms)


def dbms_includes_postgresql(dbms: str) -> bool:
    """Liquibase's `dbms` filter: a list of names, `all`, `none`, or `!name` to leave one out."""
    names = [name.strip().lower() for name in dbms.split(",") if name.strip()]
    if not names or "all" in names:
        return True
    if "none" in names or "!postgresql" in names:
        return False
    positive = [name for name in names if not name.startswith("!")]
    return not positive or "postgresql" in positive


def is_formatted_sql(text: str) -> bool:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return bool(FIRST_LINE.match(first))


def parse_formatted_sql(path: Path, text: str) -> list[FormattedChangeSet]:
    """The changesets of a formatted SQL changelog, in order. A `--changeset` line Liquibase cannot
    read (no `author:id`) is a FileError at its line, as Liquibase refuses the file."""
    changesets: list[FormattedChangeSet] = []
    in_block = False
    for number, line in enumerate(text.split("\n"), start=1):
        matched = CHANGE_SET.fullmatch(line)
        if matched:
            changesets.append(FormattedChangeSet(
                author=matched[1].strip().strip('"'), id=matched[2].strip('"'), line=number,
                run_in_transaction=not ((m := RUN_IN_TRANSACTION.fullmatch(line)) and m[1].lower() == "false"),
                dbms=(m[1] if (m := DBMS.fullmatch(line)) else ""),
                context=(m[1].strip('"') if (m := CONTEXT.fullmatch(line)) else ""),
                labels=(m[1].strip('"') if (m := LABELS.fullmatch(line)) else ""),
                run_on_change=_attribute("runOnChange", line), run_always=_attribute("runAlways", line)))
            in_block = False
            continue
        if CHANGE_SET_ANY.fullmatch(line):
            raise FileError(path, number, "a --changeset line without <author>:<id> (Liquibase refuses the file)")
        if not changesets:
            continue
        current = changesets[-1]
        current.body.append(line)
        if in_block:
            if ROLLBACK_BLOCK_END.fullmatch(line):
                in_block = False
                line = line[: line.rstrip().rfind("*/")]
            current.rollback.append(line)
            continue
        if ROLLBACK_BLOCK_START.fullmatch(line):
            in_block = True
            current.rollback_line = current.rollback_line or number + 1
            continue
        preconditions = PRECONDITIONS.fullmatch(line)
        if preconditions and (on_fail := ON_FAIL.fullmatch(preconditions[1])):
            current.on_fail = on_fail[1].upper()
        if precondition := PRECONDITION.fullmatch(line):
            current.preconditions.append(_precondition(precondition[1].lower(), precondition[2].strip()))
        if valid := VALID_CHECKSUM.fullmatch(line):
            current.valid_checksums.append(valid[1].strip())
        rollback = ROLLBACK.fullmatch(line)
        if not (rollback or preconditions or precondition or valid or COMMENT.fullmatch(line)):
            current.sql_lines.append(line)
        if rollback:
            sql = rollback[1]
            if sql.strip().lower().rstrip(";") in NO_ROLLBACK:
                current.no_rollback = True
                continue
            current.rollback_line = current.rollback_line or number
            current.rollback.append(sql)
    return changesets


def _attribute(key: str, line: str) -> str:
    """A `key:value` attribute of a --changeset line, as written; "" where it has none."""
    matched = re.fullmatch(WORD.pattern.format(key), line, re.IGNORECASE)
    return matched[1] if matched else ""


def _precondition(kind: str, body: str) -> dict[str, Any] | None:
    """A `--precondition-<kind> <body>` line as Liquibase's FormattedSqlChangeLogParser reads it."""
    if kind == "sql-check":
        matched = EXPECTED_RESULT.match(body)
        if matched is None:
            return None
        expected = next(group for group in matched.groups()[:3] if group is not None)
        return {"sqlCheck": {"expectedResult": expected, "sql": matched[4]}}
    if kind in ("table-exists", "view-exists"):
        key = "table" if kind == "table-exists" else "view"
        name = WORD.pattern.format(key)
        found = re.fullmatch(name, body, re.IGNORECASE)
        schema = re.fullmatch(WORD.pattern.format("schema"), body, re.IGNORECASE)
        if found is None:
            return None
        attributes = {f"{key}Name": found[1], **({"schemaName": schema[1]} if schema else {})}
        return {"tableExists" if key == "table" else "viewExists": attributes}
    return None
