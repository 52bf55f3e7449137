"""A dict kept as a frozen base plus the changes made since, for the snapshot session: each snapshot
it hands out shares the base and copies only the changes, and two snapshots on the same base are
compared by their changes alone. So a snapshot costs what the step changed, not what the schema
holds (three snapshots per migration; 5,000 migrations make schemas of 60,000 objects and more).

The base is rebuilt (one copy of everything) when the changes outgrow about 8 * sqrt(size): with
the delta copied per view, that keeps the cost of a view near sqrt(size), not size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_GONE: object = object()  # in a delta: the base's entry was removed
_ABSENT: object = object()
MIN_DELTA = 512


class Frozen(Mapping[K, V], Generic[K, V]):
    """A read-only view of a base and a delta; neither is ever changed once a view holds them."""

    __slots__ = ("base", "delta", "size")

    def __init__(self, base: dict[K, V], delta: dict[K, object], size: int) -> None:
        self.base, self.delta, self.size = base, delta, size

    def __getitem__(self, key: K) -> V:
        value = self.delta.get(key, _ABSENT)
        if value is _ABSENT:
            return self.base[key]
        if value is _GONE:
            raise KeyError(key)
        return value  # type: ignore[return-value]

    def __contains__(self, key: object) -> bool:
        value = self.delta.get(key, _ABSENT)  # type: ignore[arg-type]
        return key in self.base if value is _ABSENT else value is not _GONE

    def __iter__(self) -> Iterator[K]:
        delta = self.delta
        for key in self.base:
            if key not in delta:
                yield key
        for key, value in delta.items():
            if value is not _GONE:
                yield key

    def __len__(self) -> int:
        return self.size

    def changed_keys(self, other: Frozen[K, V]) -> set[K] | None:
        """The keys whose value may differ between the two views; None when their bases differ.
        (Both deltas hold everything changed since the base; an entry that is the same object in
        both did not change between the two views.)"""
        if self.base is not other.base:
            return None
        mine, theirs = self.delta, other.delta
        keys = {key for key, value in mine.items() if theirs.get(key, _ABSENT) is not value}
        keys.update(key for key, value in theirs.items() if mine.get(key, _ABSENT) is not value)
        return keys


class Layers(Generic[K, V]):
    """The session's own mutable side: changes go to the delta."""

    __slots__ = ("base", "delta", "size")

    def __init__(self, base: dict[K, V] | None = None) -> None:
        """Empty, or holding `base` (the caller's to give away: it becomes the frozen base)."""
        self.base: dict[K, V] = base if base is not None else {}
        self.delta: dict[K, object] = {}
        self.size = len(self.base)

    def __contains__(self, key: K) -> bool:
        value = self.delta.get(key, _ABSENT)
        return key in self.base if value is _ABSENT else value is not _GONE

    def get(self, key: K) -> V | None:
        value = self.delta.get(key, _ABSENT)
        if value is _ABSENT:
            return self.base.get(key)
        return None if value is _GONE else value  # type: ignore[return-value]

    def __setitem__(self, key: K, value: V) -> None:
        if key not in self:
            self.size += 1
        self.delta[key] = value

    def pop(self, key: K) -> V | None:
        """Remove `key`; its value, or None when it was not there."""
        value = self.get(key)
        if key not in self:
            return None
        self.size -= 1
        if key in self.base:
            self.delta[key] = _GONE
        else:
            del self.delta[key]
        return value

    def freeze(self) -> Frozen[K, V]:
        """The current state, as a view that later changes do not reach. Each view copies the
        delta, each rebuild the base: a delta of about 8 * sqrt(size) keeps both small per view."""
        if len(self.delta) > max(MIN_DELTA, 8 * int(len(self.base) ** 0.5)):
            merged = {key: value for key, value in self.base.items() if key not in self.delta}
            merged.update((key, value) for key, value in self.delta.items() if value is not _GONE)  # type: ignore[misc]
            self.base, self.delta = merged, {}
        return Frozen(self.base, dict(self.delta), self.size)
