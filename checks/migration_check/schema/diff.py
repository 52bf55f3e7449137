"""Compare two snapshots, and word the differences for a rollback or a re-apply.

`diff_snapshots` is symmetric in what it finds and neutral in wording: "missing" is in `expected`
but not in `actual`, "extra" is the other way round. The `describe_*` functions say what that
means for the step that produced `actual`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pglast import ast, parser

from migration_check.schema.snapshot import Definition, ObjectKey, Snapshot, field_rank
from migration_check.sql import trees
from migration_check.sql.tokens import same_but_column_order, same_but_creation_times, same_code, same_expression

MISSING = "missing"
EXTRA = "extra"
CHANGED = "changed"

# Fields that are compared only on request.
POSITION_FIELD = "position"
# Fields whose values are too long or too multi-line to print: the message says "differs", and
# the details show a unified diff.
ALWAYS_ELIDED = frozenset({"body"})
# Bodies in these languages are compared as code (token streams), not as text.
CODE_LANGUAGES = frozenset({"sql", "plpgsql"})
MAX_VALUE_LENGTH = 160
# How PostgreSQL prints a default of the transaction's start time, whichever way it was written.
SAME_AS_NOW = frozenset({"now()", "CURRENT_TIMESTAMP", "transaction_timestamp()"})
NONE_TEXT = "(none)"
# What makes a kind's printed definition a statement (an index's, a view's, a trigger's is one).
_STATEMENT_OF = {"constraint": "ALTER TABLE t ADD "}
VIEW_KINDS = frozenset({"view", "materialized view"})

# Report order: what other objects are built on comes first.
KIND_ORDER = (
    "role",
    "database settings",
    "schema",
    "extension",
    "collation",
    "shell type",
    "base type",
    "enum",
    "domain",
    "composite type",
    "range type",
    "sequence",
    "table",
    "column",
    "constraint",
    "index",
    "view",
    "materialized view",
    "function",
    "procedure",
    "aggregate",
    "trigger",
    "rule",
    "policy",
    "statistics",
    "event trigger",
    "publication",
    "foreign data wrapper",
    "foreign server",
    "default privileges",
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}


@dataclass(frozen=True)
class Difference:
    kind: str  # "table", "column", "index", "constraint", "function", ...
    name: str  # qualified, readable: "public.users.phone", "public.users_preferences_gin"
    change: str  # "missing" | "extra" | "changed"
    fields: tuple[tuple[str, str, str], ...] = ()  # (field, expected, actual) for "changed"


def on_table(difference: Difference, tables: frozenset[str]) -> bool:
    """Whether the difference is one of `tables` (qualified names) or what it holds: its columns,
    and the constraints and triggers named `... on <table>`."""
    return any(difference.name == table or difference.name.startswith(table + ".") or difference.name.endswith(" on " + table)
               for table in tables)


def diff_snapshots(expected: Snapshot, actual: Snapshot, *, strict_column_order: bool = False) -> list[Difference]:
    """Every object that is missing, extra or changed in `actual`, sorted.

    A column's position is ignored unless `strict_column_order`: a rollback that drops a column
    and adds it back legitimately moves it to the end (and a view the rollback makes again with
    `SELECT *` then lists the table's columns in their new order). An object whose parent (a table, for its
    columns, indexes, triggers, ...) is missing or extra in the same way is not reported on its own.
    """
    ignored = frozenset() if strict_column_order else frozenset({POSITION_FIELD})
    before_objects, after_objects = expected.objects(), actual.objects()
    keys = expected.changed_keys(actual)  # snapshots of one session: only what either changed can differ
    if keys is None:
        # Mostly equal, and snapshots of one session share unchanged definitions: compared in C.
        if before_objects == after_objects:
            return []
        keys = before_objects.keys() | after_objects.keys()
    differences: list[Difference] = []
    for key in keys:
        before, after = before_objects.get(key), after_objects.get(key)
        if after is None:
            if before is not None and not _parent_also(key, expected, actual):
                differences.append(Difference(key[0], key[1], MISSING))
        elif before is None:
            if not _parent_also(key, actual, expected):
                differences.append(Difference(key[0], key[1], EXTRA))
        elif after is not before and after.text != before.text:
            fields = _changed_fields(before.fields, after.fields, ignored, key[0],
                                     functools.partial(_columns_of, key, after_objects))
            if fields:
                differences.append(Difference(key[0], key[1], CHANGED, fields))
    return sorted(_without_memberships_of_roles_in(differences), key=_order)


def _without_memberships_of_roles_in(differences: list[Difference]) -> list[Difference]:
    """A role whose memberships changed only in roles that are themselves missing or extra here is
    not a difference of its own: PostgreSQL 16+ makes the creator of a role (the tool's role on a
    managed server) an ADMIN member of it, and the created role's own difference says it all."""
    roles = {d.name for d in differences if d.kind == "role" and d.change in (MISSING, EXTRA)}
    if not roles:
        return differences
    kept = []
    for difference in differences:
        if difference.kind == "role" and difference.change == CHANGED and all(
                field == "member of" and _memberships_only_of(before, after, roles)
                for field, before, after in difference.fields):
            continue
        kept.append(difference)
    return kept


def _memberships_only_of(before: str, after: str, roles: set[str]) -> bool:
    entries_before, entries_after = set(_entries(before)), set(_entries(after))
    changed = entries_before ^ entries_after
    return bool(changed) and all(entry.split(" ", 1)[0] in roles for entry in changed)


def _entries(members: str) -> list[str]:
    return [entry.strip() for entry in members.split(", ") if entry.strip()]


def describe_rollback(differences: Iterable[Difference],
                      attribute: Callable[[Difference], str | None] | None = None) -> list[str]:
    """Messages for a rollback round trip: expected = before `up`, actual = after `down`.
    `attribute` may say who did it ("dropped by the up (line 12) and not restored by rollback"),
    which then replaces the neutral words (and follows a changed field's)."""
    return _describe(
        differences,
        missing="not restored by rollback",
        extra="left behind by rollback",
        changed=lambda field, before, after: f"{field} {after}, was {before}",
        attribute=attribute,
    )


def describe_reapply(differences: Iterable[Difference]) -> list[str]:
    """Messages for a re-apply: expected = after the first `up`, actual = after the second."""
    return _describe(
        differences,
        missing="created by the first up but not when up is applied again",
        extra="created only when up is applied again",
        changed=lambda field, before, after: f"{field} {after} when applied again, {before} the first time",
    )


def _describe(
    differences: Iterable[Difference], *, missing: str, extra: str, changed: Callable[[str, str, str], str],
    attribute: Callable[[Difference], str | None] | None = None,
) -> list[str]:
    messages = []
    for difference in sorted(differences, key=_order):
        subject = f"{difference.kind} {difference.name}" if difference.name else difference.kind
        who = attribute(difference) if attribute else None
        if difference.change == MISSING:
            detail = who or missing
        elif difference.change == EXTRA:
            detail = who or extra
        else:
            detail = "; ".join(_field_change(field, before, after, changed) for field, before, after in difference.fields)
            detail += f" — {who}" if who else ""
        messages.append(f"{subject}: {detail}")
    return messages


def _field_change(field: str, before: str, after: str, changed: Callable[[str, str, str], str]) -> str:
    if field == "labels" and not (_printable(before) and _printable(after)):
        before, after = _labels_apart(before, after)
    if field in ALWAYS_ELIDED or not (_printable(before) and _printable(after)):
        return f"{field} differs"
    return changed(field, before or NONE_TEXT, after or NONE_TEXT)


def _labels_apart(before: str, after: str) -> tuple[str, str]:
    """Two enums' label lists, `('a', 'b', ...)`, with the labels they share at the start and at the
    end elided (`…`): a long enum's added or moved label, where the whole lists are too long to print."""
    first, second = _labels(before), _labels(after)
    if first is None or second is None:
        return before, after
    start = 0
    while start < min(len(first), len(second)) and first[start] == second[start]:
        start += 1
    end = 0
    while end < min(len(first), len(second)) - start and first[-1 - end] == second[-1 - end]:
        end += 1

    def shown(labels: list[str]) -> str:
        middle = labels[start:len(labels) - end]
        if not middle:
            return "(…)" if start or end else "()"
        return "(" + ", ".join(["…"] * bool(start) + middle + ["…"] * bool(end)) + ")"
    return shown(first), shown(second)


def _labels(text: str) -> list[str] | None:
    """The quoted labels of `('a', 'b')` as written (quote_literal's), or None where it is not that."""
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return None
    if not tokens or text[tokens[0].start] != "(" or text[tokens[-1].start] != ")":
        return None
    inner = tokens[1:-1]
    if any((token.name != "SCONST") if index % 2 == 0 else text[token.start] != "," for index, token in enumerate(inner)):
        return None
    return [text[token.start:token.end + 1] for token in inner[::2]]


def _printable(value: str) -> bool:
    return len(value) <= MAX_VALUE_LENGTH and "\n" not in value


def _columns_of(key: ObjectKey, objects: Mapping[ObjectKey, Definition]) -> tuple[tuple[str, str], ...]:
    """(column, type) of the table an index or a constraint is on, as `objects` has them."""
    kind, name = key
    table = None
    if kind == "constraint" and " on " in name:
        table = name.rsplit(" on ", 1)[1]
    elif kind == "index" and (definition := objects[key].fields.get("definition")):
        node = trees.statement(definition)
        if isinstance(node, ast.IndexStmt) and node.relation is not None:
            table = ".".join(part for part in (node.relation.schemaname, node.relation.relname) if part)
    if table is None:
        return ()
    prefix = table + "."
    return tuple(sorted((column[len(prefix):].strip('"'), definition.fields.get("type", ""))
                        for (object_kind, column), definition in objects.items()
                        if object_kind == "column" and column.startswith(prefix)))


def _changed_fields(
    before: Mapping[str, str], after: Mapping[str, str], ignored: frozenset[str], kind: str,
    columns: Callable[[], tuple[tuple[str, str], ...]] = tuple,
) -> tuple[tuple[str, str, str], ...]:
    names = sorted((before.keys() | after.keys()) - ignored, key=lambda name: (field_rank(name), name))
    return tuple(
        (name, before.get(name, ""), after.get(name, ""))
        for name in names
        if before.get(name, "") != after.get(name, "") and not _same_body(name, before, after)
        and not _same_default(name, before, after)
        and not same_but_creation_times(before.get(name, ""), after.get(name, ""))
        and not (POSITION_FIELD in ignored and kind in VIEW_KINDS and name == "definition"
                 and same_but_column_order(before[name], after[name]))
        and not (name == "definition" and same_expression(before.get(name, ""), after.get(name, ""),
                                                          _STATEMENT_OF.get(kind, ""), columns()))
    )


def _same_default(name: str, before: Mapping[str, str], after: Mapping[str, str]) -> bool:
    """Defaults that are one function under two spellings (`CURRENT_TIMESTAMP` is `now()`: a
    rollback that writes the other restores what the column does)."""
    if name != "default":
        return False
    spelled = (before.get(name, ""), after.get(name, ""))
    return spelled[0] != spelled[1] and all(value in SAME_AS_NOW for value in spelled)


def _same_body(name: str, before: Mapping[str, str], after: Mapping[str, str]) -> bool:
    """A routine body that differs only in comments, white space or letter case is the same body."""
    if name != "body" or before.get("language") not in CODE_LANGUAGES or after.get("language") != before.get("language"):
        return False
    return same_code(before.get("body", ""), after.get("body", ""))


def unified_diffs(differences: Iterable[Difference], expected_label: str, actual_label: str) -> str:
    """A unified diff for each changed field too long or too multi-line for a message (a view's
    definition, a function's body), so the reader sees what differs, not just that it does."""
    blocks = []
    for difference in differences:
        for field, before, after in difference.fields:
            if field not in ALWAYS_ELIDED and _printable(before) and _printable(after):
                continue
            subject = f"{difference.kind} {difference.name} {field}"
            lines = difflib.unified_diff(before.splitlines(), after.splitlines(), f"{subject} ({expected_label})",
                                         f"{subject} ({actual_label})", lineterm="")
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _parent_also(key: ObjectKey, present: Snapshot, absent: Snapshot) -> bool:
    """Whether the object's parent is, like the object, in `present` but not in `absent`."""
    parent = present.parent(key)
    return parent is not None and parent in present and parent not in absent


def _order(difference: Difference) -> tuple[int, str, str, str]:
    return (_KIND_RANK.get(difference.kind, len(KIND_ORDER)), difference.kind, difference.name, difference.change)
