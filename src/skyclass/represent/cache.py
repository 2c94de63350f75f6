"""An opt-in memory of representations already computed, for many models on one data set.

A representation is a pure function of one curve and its options, so when many
models are trained on the same objects (a leaderboard, a search, a reproduction
with several networks) the same arrays need not be computed again: monti2024's
smoothing splines cost about 0.45 s per OGLE-IV curve, and nine networks share
them. Inside ``with representation_cache():`` the estimators look the arrays up
by the representation's name and options and by a fingerprint of the set's
photometry, periods and other per-object columns (labels excluded: no
representation reads them); outside it nothing is kept.

Cached arrays are returned read-only, so a caller that tried to change them in
place would fail loudly instead of changing what the next model sees.

Examples
--------
>>> from skyclass.datasets import load_macho
>>> from skyclass.represent import FoldedGrid
>>> lcs = load_macho()[:2]
>>> lcs = lcs.with_objects(lcs.objects.assign(period=[1.5, 2.5]))
>>> with representation_cache() as cache:
...     first = cached_transform_many("grid", {"n": 32}, lambda: FoldedGrid(n=32), lcs)
...     again = cached_transform_many("grid", {"n": 32}, lambda: FoldedGrid(n=32), lcs)
>>> cache.hits, cache.misses, bool((first["grid"] == again["grid"]).all())
(1, 1, True)
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from skyclass.lightcurve import LightCurveSet

__all__ = ["RepresentationCache", "cached_transform_many", "representation_cache"]


def set_fingerprint(lcs: LightCurveSet) -> str:
    """SHA-1 of what a representation of the set's curves can depend on.

    The flat photometry, the offsets, the band names, the per-object columns other
    than ``label`` (ids, periods, ...) and the set's metadata (time frame...).

    Examples
    --------
    >>> from skyclass.datasets import load_macho
    >>> lcs = load_macho()
    >>> set_fingerprint(lcs) == set_fingerprint(lcs[:])
    True
    >>> set_fingerprint(lcs) == set_fingerprint(lcs[:5])
    False
    """
    digest = hashlib.sha1()
    for array in (lcs.time, lcs.mag, lcs.err, lcs.band, lcs.offsets):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps(lcs.bands).encode())
    objects = lcs.objects.drop(columns=["label"], errors="ignore")
    digest.update(json.dumps(list(map(str, objects.columns))).encode())
    if len(objects.columns):
        hashed = pd.util.hash_pandas_object(objects.astype(object).astype(str), index=False)
        digest.update(hashed.to_numpy().tobytes())
    meta = {k: v for k, v in lcs.meta.items() if k != "skipped"}
    digest.update(json.dumps(meta, sort_keys=True, default=str).encode())
    return digest.hexdigest()


class RepresentationCache:
    """Representations by (name, options, set fingerprint), least recently used out first.

    Parameters
    ----------
    max_bytes : int
        Arrays kept at most; the least recently used entries go first.
    """

    def __init__(self, *, max_bytes: int = 4 * 2**30):
        self.max_bytes = int(max_bytes)
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._sizes: dict[str, int] = {}

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays held now."""
        return sum(self._sizes.values())

    def get_or_compute(self, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The stored result for ``key`` (a fresh dict of read-only arrays), computed once."""
        if key in self._entries:
            self.hits += 1
            self._entries.move_to_end(key)
        else:
            self.misses += 1
            result = compute()
            for value in result.values():
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False
            size = sum(v.nbytes for v in result.values() if isinstance(v, np.ndarray))
            self._entries[key] = result
            self._sizes[key] = size
            while self.nbytes > self.max_bytes and len(self._entries) > 1:
                old, _ = self._entries.popitem(last=False)
                del self._sizes[old]
        stored = self._entries[key]
        return {k: dict(v) if isinstance(v, dict) else v for k, v in stored.items()}


_ACTIVE: list[RepresentationCache] = []


@contextmanager
def representation_cache(*, max_bytes: int = 4 * 2**30) -> Iterator[RepresentationCache]:
    """Remember representations computed inside the block (see the module docstring)."""
    cache = RepresentationCache(max_bytes=max_bytes)
    _ACTIVE.append(cache)
    try:
        yield cache
    finally:
        _ACTIVE.remove(cache)


def cached_transform_many(
    name: str, options: Mapping[str, Any], build: Callable[[], Any], lcs: LightCurveSet
) -> dict[str, Any]:
    """``build().transform_many(lcs)``, through the active cache if there is one.

    ``name`` and ``options`` (JSON-able) must identify the representation that
    ``build`` makes: they are the cache key with the set's fingerprint.
    """
    if not _ACTIVE:
        return build().transform_many(lcs)
    key = json.dumps([name, dict(options), set_fingerprint(lcs)], sort_keys=True, default=str)
    return _ACTIVE[-1].get_or_compute(key, lambda: build().transform_many(lcs))
