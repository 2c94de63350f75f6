"""The opt-in representation cache: same answers, fewer computations, nothing kept outside."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import sine_square_set
from skyclass import LightCurveSet
from skyclass.estimator import LightCurveClassifier
from skyclass.represent import FoldedGrid
from skyclass.represent.cache import (
    cached_transform_many,
    representation_cache,
    set_fingerprint,
)


def _toy() -> LightCurveSet:
    return sine_square_set(24, 0, noise=0.02)


def test_fingerprint_follows_inputs_not_labels() -> None:
    s = _toy()
    relabelled = s.with_objects(s.objects.assign(label=["x"] * len(s)))
    other_period = s.with_objects(s.objects.assign(period=1.8))
    assert set_fingerprint(relabelled) == set_fingerprint(s)
    assert set_fingerprint(other_period) != set_fingerprint(s)
    assert set_fingerprint(s[:10]) != set_fingerprint(s)


def test_cached_arrays_equal_fresh_ones_and_are_read_only() -> None:
    s = _toy()
    fresh = FoldedGrid(n=32).transform_many(s)
    with representation_cache() as cache:
        first = cached_transform_many("grid", {"n": 32}, lambda: FoldedGrid(n=32), s)
        first.pop("valid")  # a caller may pop keys: the stored entry keeps them
        again = cached_transform_many("grid", {"n": 32}, lambda: FoldedGrid(n=32), s)
        other = cached_transform_many("grid", {"n": 16}, lambda: FoldedGrid(n=16), s)
    assert (cache.hits, cache.misses) == (1, 2)
    np.testing.assert_array_equal(again["grid"], fresh["grid"])
    np.testing.assert_array_equal(again["valid"], fresh["valid"])
    assert other["grid"].shape[-1] == 16
    with pytest.raises(ValueError, match="read-only"):
        again["grid"][0, 0, 0] = 1.0
    # outside the block nothing is remembered
    assert cached_transform_many("grid", {"n": 32}, lambda: FoldedGrid(n=32), s)["grid"].flags[
        "WRITEABLE"
    ]


def test_least_recently_used_entries_leave_first() -> None:
    s = _toy()
    with representation_cache(max_bytes=1) as cache:
        for n in (8, 16, 8):
            cached_transform_many("grid", {"n": n}, lambda n=n: FoldedGrid(n=n), s)
    assert (cache.hits, cache.misses) == (0, 3)  # only the newest entry is ever kept


def test_estimators_inside_the_cache_train_exactly_as_outside() -> None:
    s = _toy()
    options = {
        "model": "akhmetali2025_cnn",
        "representations": {"grid": {"n": 32}},
        "train": {"max_epochs": 2, "batch_size": 8},
        "progress": False,
        "random_state": 0,
    }
    plain = LightCurveClassifier(**options).fit(s).predict_proba(s)
    with representation_cache() as cache:
        first = LightCurveClassifier(**options).fit(s).predict_proba(s)
        second = LightCurveClassifier(**options).fit(s).predict_proba(s)
    assert cache.hits >= 3  # train, validation and prediction sets of the second model
    np.testing.assert_allclose(first, plain, rtol=0, atol=1e-6)
    np.testing.assert_allclose(second, plain, rtol=0, atol=1e-6)
