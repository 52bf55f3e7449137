"""The snapshot session's layered dict (schema/layered.py): views never see later changes, removal
and re-adding across the base, compaction, and the keys two views may differ in."""

from __future__ import annotations

import random

import pytest

from migration_check.schema import layered
from migration_check.schema.layered import Layers


def test_views_keep_their_state_whatever_follows() -> None:
    layers: Layers[str, int] = Layers()
    layers["a"], layers["b"] = 1, 2
    first = layers.freeze()
    layers.pop("a")
    layers["b"], layers["c"] = 20, 3
    second = layers.freeze()
    assert dict(first) == {"a": 1, "b": 2} and len(first) == 2
    assert dict(second) == {"b": 20, "c": 3} and len(second) == 2
    assert "a" not in second and "a" in first
    assert first.changed_keys(second) == {"a", "b", "c"}


def test_a_random_walk_matches_a_plain_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layered, "MIN_DELTA", 8)  # compact often

    rng = random.Random(7)
    layers: Layers[int, int] = Layers()
    plain: dict[int, int] = {}
    views = []
    for step in range(3000):
        key = rng.randrange(200)
        if rng.random() < 0.4:
            assert layers.pop(key) == plain.pop(key, None)
        else:
            layers[key] = plain[key] = step
        assert (key in layers) == (key in plain) and layers.size == len(plain)
        if step % 50 == 0:
            views.append((layers.freeze(), dict(plain)))
    for view, expected in views:
        assert dict(view) == expected and len(view) == len(expected)
    # Two views on one base differ only where their deltas say so.
    for (a, expected_a), (b, expected_b) in zip(views, views[1:], strict=False):
        keys = a.changed_keys(b)
        if keys is not None:
            assert {k for k in expected_a.keys() | expected_b.keys() if expected_a.get(k) != expected_b.get(k)} <= keys
