"""Compare two snapshots, and word the differences for a rollback or a re-apply.

`diff_snapshots` is symmetric in what it finds and neutral in wording: "missing" is in `expected`
but not in `actual`, "extra" is the other way round. The `describe_*` functions say what that
means for the step that produced `actual`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from migration_check.schema.snapshot import ObjectKey, Snapshot, field_rank

MISSING = "missing"
EXTRA = "extra"
CHANGED = "changed"

# Fields that are compared only on request.
POSITION_FIELD = "position"
# Fields whose values are too long or too multi-line to print: the message says "differs".
ALWAYS_ELIDED = frozenset({"body"})
MAX_VALUE_LENGTH = 160
NONE_TEXT = "(none)"

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


def diff_snapshots(expected: Snapshot, actual: Snapshot, *, strict_column_order: bool = False) -> list[Difference]:
    """Every object that is missing, extra or changed in `actual`, sorted.

    A column's position is ignored unless `strict_column_order`: a rollback that drops a column
    and adds it back legitimately moves it to the end. An object whose parent (a table, for its
    columns, indexes, triggers, ...) is missing or extra in the same way is not reported on its own.
    """
    ignored = frozenset() if strict_column_order else frozenset({POSITION_FIELD})
    before_objects, after_objects = expected.objects(), actual.objects()
    # Mostly equal, and snapshots of one session share unchanged definitions: compared in C.
    if before_objects == after_objects:
        return []
    differences: list[Difference] = []
    for key, before in before_objects.items():
        after = after_objects.get(key)
        if after is None:
            if not _parent_also(key, expected, actual):
                differences.append(Difference(key[0], key[1], MISSING))
        elif after is not before and after.text != before.text:
            fields = _changed_fields(before.fields, after.fields, ignored)
            if fields:
                differences.append(Difference(key[0], key[1], CHANGED, fields))
    for key in after_objects:
        if key not in before_objects and not _parent_also(key, actual, expected):
            differences.append(Difference(key[0], key[1], EXTRA))
    return sorted(differences, key=_order)


def describe_rollback(differences: Iterable[Difference]) -> list[str]:
    """Messages for a rollback round trip: expected = before `up`, actual = after `down`."""
    return _describe(
        differences,
        missing="dropped by rollback and not restored",
        extra="left behind by rollback",
        changed=lambda field, before, after: f"{field} {after}, was {before}",
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
    differences: Iterable[Difference], *, missing: str, extra: str, changed: Callable[[str, str, str], str]
) -> list[str]:
    messages = []
    for difference in sorted(differences, key=_order):
        subject = f"{difference.kind} {difference.name}" if difference.name else difference.kind
        if difference.change == MISSING:
            detail = missing
        elif difference.change == EXTRA:
            detail = extra
        else:
            detail = "; ".join(_field_change(field, before, after, changed) for field, before, after in difference.fields)
        messages.append(f"{subject}: {detail}")
    return messages


def _field_change(field: str, before: str, after: str, changed: Callable[[str, str, str], str]) -> str:
    if field in ALWAYS_ELIDED or not (_printable(before) and _printable(after)):
        return f"{field} differs"
    return changed(field, before or NONE_TEXT, after or NONE_TEXT)


def _printable(value: str) -> bool:
    return len(value) <= MAX_VALUE_LENGTH and "\n" not in value


def _changed_fields(
    before: Mapping[str, str], after: Mapping[str, str], ignored: frozenset[str]
) -> tuple[tuple[str, str, str], ...]:
    names = sorted((before.keys() | after.keys()) - ignored, key=lambda name: (field_rank(name), name))
    return tuple(
        (name, before.get(name, ""), after.get(name, ""))
        for name in names
        if before.get(name, "") != after.get(name, "")
    )


def _parent_also(key: ObjectKey, present: Snapshot, absent: Snapshot) -> bool:
    """Whether the object's parent is, like the object, in `present` but not in `absent`."""
    parent = present.parent(key)
    return parent is not None and parent in present and parent not in absent


def _order(difference: Difference) -> tuple[int, str, str, str]:
    return (_KIND_RANK.get(difference.kind, len(KIND_ORDER)), difference.kind, difference.name, difference.change)
