"""A realistic value for row `i` of a column, from its type alone: the text of a literal the
server casts to the column's type. Deterministic (the same column and row always get the same
value) and distinct from row to row, so that unique keys hold.

A column whose type is not known here (a type from an extension without a text form we can
guess) gets no value: the filler then leaves it to its default, or NULL, or reports the table as
not covered.
"""

from __future__ import annotations

import re

from migration_check.data import checked
from migration_check.data.catalog import Column, TypeInfo
from migration_check.data.later_types import JSON_ARRAY

_INTEGERS = {"int2", "int4", "int8", "oid", "xid", "cid"}
_FLOATS = {"float4", "float8"}
# Text that reads like the column it is in.
_BY_NAME = (
    ("email", lambda k: f"user{k}@example.com"),
    ("phone", lambda k: f"555-01{k:02d}"),
    ("url", lambda k: f"https://example.com/{k}"),
    ("website", lambda k: f"https://example.com/{k}"),
    ("slug", lambda k: f"item-{k}"),
)
_SIMPLE: dict[str, object] = {
    "bool": lambda k: "true" if k % 2 else "false",
    "uuid": lambda k: f"00000000-0000-4000-8000-{k:012x}",
    "date": lambda k: _date(k),
    "timestamp": lambda k: f"{_date(k)} 10:{k % 60:02d}:00",
    "timestamptz": lambda k: _timestamp(k),
    "time": lambda k: f"10:{k % 60:02d}:00",
    "timetz": lambda k: f"10:{k % 60:02d}:00+00",
    "interval": lambda k: f"{k} days",
    "json": lambda k: f'{{"id": {k}, "name": "item {k}"}}',
    "jsonb": lambda k: f'{{"id": {k}, "name": "item {k}"}}',
    "bytea": lambda k: f"\\x{k:04x}",
    "inet": lambda k: f"10.0.{k // 250}.{k % 250 + 1}",
    "cidr": lambda k: f"10.{k // 250}.{k % 250}.0/24",
    "macaddr": lambda k: f"08:00:2b:00:{k // 256:02x}:{k % 256:02x}",
    "macaddr8": lambda k: f"08:00:2b:ff:fe:00:{k // 256:02x}:{k % 256:02x}",
    "money": lambda k: f"{k}.50",
    "point": lambda k: f"({k},{k})",
    "box": lambda k: f"(0,0),({k},{k})",
    "circle": lambda k: f"<({k},{k}),1>",
    "lseg": lambda k: f"[(0,0),({k},{k})]",
    "path": lambda k: f"[(0,0),({k},{k})]",
    "polygon": lambda k: f"((0,0),({k},0),({k},{k}))",
    "line": lambda k: f"{{1,-1,{k}}}",
    "tsvector": lambda k: f"word{k} item",
    "tsquery": lambda k: f"word{k}",
    "xml": lambda k: f"<item>{k}</item>",
    "pg_lsn": lambda k: f"0/{k:X}",
    "varbit": lambda k: format(k, "b"),
    "citext": lambda k: f"item {k}",
    # Common extensions' types, by their text forms.
    "ltree": lambda k: f"top.item{k}",
    "hstore": lambda k: f'"key"=>"{k}"',
    "cube": lambda k: f"({k}, {k})",
    "geometry": lambda k: f"POINT({k} {k % 90})",
    "geography": lambda k: f"POINT({k} {k % 90})",
}
# pgvector's types: as many components as the column's dimensions (its typmod).
_VECTORS = {"vector", "halfvec"}


def _timestamp(k: int) -> str:
    return f"{_date(k)} 10:{k % 60:02d}:00+00"


def _date(k: int) -> str:
    return f"2024-{(k // 28) % 12 + 1:02d}-{k % 28 + 1:02d}"


def value(column: Column, types: dict[int, TypeInfo], i: int, versions: bool = False) -> str | None:
    """The literal text for row `i` (0-based) of `column`, or None when no value is known.
    `versions`: text that reads as a version number (`1.3.0`), for the rows a trigger or check
    refuses with text that reads like the column's name (crates.io computes a sort key from
    `versions.num` in a trigger, and a NOT NULL column gets NULL from anything else)."""
    if column.checks:
        allowed = checked.value(column.checks, column.name, i, _is_bytea(column.type_oid, types))
        if allowed is not None:
            return allowed
    if column.later_type == JSON_ARRAY and (info := types.get(column.type_oid)) is not None \
            and (info.name in ("json", "jsonb") or info.category == "S"):
        array = f"[{_SIMPLE['jsonb'](i + 1)}]"  # type: ignore[operator]
        if column.typmod < 4 or len(array) <= column.typmod - 4:
            return array
    if column.later_type is not None and (info := types.get(column.type_oid)) is not None and info.category == "S":
        later = _of_type_named(column.later_type, column.later_labels, i)
        if later is not None and (column.typmod < 4 or len(later) <= column.typmod - 4):
            return later
    return _value(column.type_oid, column.typmod, None if versions else column.name, types, i)


def _of_type_named(name: str, labels: tuple[str, ...], i: int) -> str | None:
    """Row `i`'s text for a type known by its name alone (a later cast's target), or an enum's label."""
    k = i + 1
    if labels:
        return labels[i % len(labels)]
    if name in _INTEGERS or name == "numeric":
        return str(k)
    if name in _FLOATS:
        return f"{k}.5"
    simple = _SIMPLE.get(name)
    return str(simple(k)) if callable(simple) else None


def _value(type_oid: int, typmod: int, name: str | None, types: dict[int, TypeInfo], i: int) -> str | None:
    """`name`: the column's, which text values read like; None: text that reads as a version number."""
    info = types.get(type_oid)
    if info is None:
        return None
    k = i + 1
    if info.kind == "d":
        # A domain's CHECK names the value VALUE: `CHECK (VALUE IN ('YES', 'NO'))`.
        allowed = checked.value(info.checks, "value", i, _is_bytea(info.base, types)) if info.checks else None
        return allowed if allowed is not None else _value(info.base, info.base_typmod, name, types, i)
    if info.kind == "e":
        return info.labels[i % len(info.labels)] if info.labels else None
    if info.kind == "r" and info.subtype:
        low, high = _value(info.subtype, -1, name, types, 2 * i), _value(info.subtype, -1, name, types, 2 * i + 1)
        return None if low is None or high is None else f'["{low}","{high}")'
    if info.kind == "m" and info.subtype:
        inner = _value(info.subtype, -1, name, types, i)
        return None if inner is None else f"{{{inner}}}"
    if info.category == "A" and info.element:
        element = _value(info.element, typmod, name, types, i)
        return None if element is None else "{" + _array_element(element) + "}"
    if info.kind == "c" and info.fields:
        # A record literal: each field quoted as an array's element is, a field of no known value NULL.
        values = [_value(field_type, field_typmod, field, types, i) for field, field_type, field_typmod in info.fields]
        if all(value is None for value in values):
            return None
        return "(" + ",".join("" if value is None else _array_element(value) for value in values) + ")"
    if info.name in _INTEGERS:
        return str(k)
    if info.name in _FLOATS:
        return f"{k}.5"
    if info.name == "numeric":
        return _numeric(k, typmod)
    if info.name == "bit":
        return _bits(k, typmod)
    if info.name in _VECTORS:
        return "[" + ",".join([str(k)] * (typmod if typmod > 0 else 3)) + "]"
    if info.category == "S" and info.name != "citext":
        return _text(name, k, typmod - 4 if typmod >= 4 else None)
    simple = _SIMPLE.get(info.name)
    return str(simple(k)) if callable(simple) else None


def _is_bytea(type_oid: int, types: dict[int, TypeInfo]) -> bool:
    info = types.get(type_oid)
    return info is not None and info.name == "bytea"


def _numeric(k: int, typmod: int) -> str:
    """A number that fits numeric(precision, scale)."""
    if typmod < 4:
        return f"{k}.25"
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    whole = precision - scale
    if whole >= len(str(k)):
        return f"{k}.{'5' * min(scale, 1)}" if scale else str(k)
    digits = str(k).zfill(scale)[-scale:] if scale else ""
    return f"0.{digits}" if digits else "0"


def _bits(k: int, length: int) -> str:
    if length <= 0:
        return format(k, "b")
    return format(k % (2 ** min(length, 62)), "b").zfill(length)[-length:]


def _text(name: str | None, k: int, length: int | None) -> str:
    if name is None:
        text = f"1.{k}.0"
    elif (when := _when(name, k)) is not None and (length is None or len(when) <= length):
        text = when
    else:
        lowered = name.lower()
        text = next((make(k) for word, make in _BY_NAME if word in lowered), f"{name} {k}")
    if length is not None and len(text) > length:
        # Too long for the column: keep the row number, which keeps rows distinct.
        suffix = str(k)
        text = text[:length - len(suffix)] + suffix if length > len(suffix) else suffix[-length:]
    return text


def _when(name: str, k: int) -> str | None:
    """A moment as text for a text column named like one (`createdAt`, `updated_at`, `birth_date`):
    what the application writes there, which a migration may cast (Dokploy's 0121 casts
    `environment.createdAt` to timestamptz; `createdAt 1` failed it)."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).lower())
    if words[-1:] in (["timestamp"], ["datetime"]) or (len(words) > 1 and words[-1] == "at"):
        return _timestamp(k)
    return _date(k) if words[-1:] == ["date"] else None  # (a column too short for it: as any text)


def _array_element(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
