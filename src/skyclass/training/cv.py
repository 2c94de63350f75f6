"""Cross-validation splits by object: stratified k-fold, repeated k-fold, validation.

Every function here returns **positions** (int64 arrays, sorted) into the
array of labels it was given — one entry per object — and never looks at any
input but the labels (and optional group keys). Folds are made before any
augmentation, normalisation fit or model selection, as ``DESIGN.md`` asks:
fit scalers, GP augmentation and bagging plans on ``train_idx`` only.

The rules match :meth:`skyclass.lightcurve.LightCurveSet.split`:

- a *unit* is one object, or one group of objects (``groups``: e.g. one star
  seen by two surveys) that must stay on one side of every split;
- a unit is stratified by its first object's label;
- within each stratum the units are shuffled by ``np.random.default_rng(seed)``.

k-fold deals the shuffled units of each stratum round-robin over the folds,
carrying on from where the previous stratum stopped, so each class's count per
fold and the total per fold differ by at most one unit (kang2023's 10-fold
cross-test, carraro2025's 5-fold CV). :func:`repeated_stratified_kfold` repeats
this with independent seeds (monti2024); for a continuous target stratify on
:func:`stratify_bins` of it. :func:`train_val_split` carves the validation set
of one fold out of that fold's training objects only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "repeated_stratified_kfold",
    "stratified_kfold",
    "stratify_bins",
    "train_val_split",
]

SeedLike = int | np.random.SeedSequence
Fold = tuple[np.ndarray, np.ndarray]


# ----------------------------------------------------------------- helpers
def _labels_1d(labels: Any) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D (one per object), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("labels is empty: there are no objects to split")
    # Strings, like LightCurveSet.split: labels of mixed types compare consistently.
    return arr.astype(str)


def _units(labels: np.ndarray, groups: Any | None) -> tuple[np.ndarray, np.ndarray]:
    """Unit of each object and stratum (first object's label) of each unit."""
    n = labels.size
    if groups is None:
        return np.arange(n), labels
    keys = np.asarray(groups)
    if keys.shape != (n,):
        raise ValueError(f"groups must hold one key per object ({n}), got shape {keys.shape}")
    _, unit_of = np.unique(keys.astype(str), return_inverse=True)
    first = np.full(unit_of.max() + 1, -1)
    first[unit_of[::-1]] = np.arange(n)[::-1]  # reversed write: the first object wins
    return unit_of, labels[first]


def _check_index(idx: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-D array of integer positions")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} holds positions outside [0, {n}) (positions into labels)")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} repeats positions; give each object once")
    return arr


# ------------------------------------------------------------------ k-fold
def stratified_kfold(
    labels: Sequence[Any] | np.ndarray,
    n_splits: int = 5,
    *,
    seed: SeedLike,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> list[Fold]:
    """Stratified k-fold by object: every object in exactly one test fold.

    Parameters
    ----------
    labels : array_like, shape (n_objects,)
        Class of each object (for a regression target pass
        ``stratify_bins(target, n_bins)``).
    n_splits : int
        Number of folds, at least 2 and at most the number of units.
    seed : int or numpy.random.SeedSequence
        Seed of the shuffle; the same seed gives the same folds.
    groups : array_like, shape (n_objects,), optional
        Key of each object; objects with equal keys always share a fold, and
        the group is stratified by its first object's label.

    Returns
    -------
    list of (train_idx, test_idx)
        ``n_splits`` pairs of sorted int64 position arrays. The test folds are
        disjoint and cover every object; ``train_idx`` is the complement.

    Warns
    -----
    UserWarning
        When a class has fewer units than ``n_splits`` (some test folds lack it).

    Examples
    --------
    >>> labels = ["a"] * 5 + ["b"] * 5
    >>> folds = stratified_kfold(labels, n_splits=5, seed=0)
    >>> [sorted(np.asarray(labels)[test].tolist()) for _, test in folds]
    [['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b']]
    >>> sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(10))
    True
    """
    lab = _labels_1d(labels)
    n_splits = int(n_splits)
    unit_of, strata = _units(lab, groups)
    n_units = strata.size
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    if n_splits > n_units:
        raise ValueError(
            f"n_splits={n_splits} exceeds the number of objects (or groups), {n_units}; "
            "use fewer folds"
        )
    rng = np.random.default_rng(seed)
    fold_of_unit = np.empty(n_units, dtype=np.int64)
    start = 0
    small = []
    for stratum in np.unique(strata):
        members = rng.permutation(np.flatnonzero(strata == stratum))
        if members.size < n_splits:
            small.append(str(stratum))
        # Carry the offset over strata so the leftovers of each class land in
        # different folds and fold sizes stay within one unit of each other.
        fold_of_unit[members] = (start + np.arange(members.size)) % n_splits
        start = (start + members.size) % n_splits
    if small:
        warnings.warn(
            f"classes {small} have fewer objects (or groups) than n_splits={n_splits}; "
            "some test folds will not contain them",
            UserWarning,
            stacklevel=2,
        )
    fold_of = fold_of_unit[unit_of]
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(n_splits)]


def repeated_stratified_kfold(
    labels: Sequence[Any] | np.ndarray,
    n_splits: int = 5,
    n_repeats: int = 10,
    *,
    seed: SeedLike,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> list[Fold]:
    """Stratified k-fold repeated with independent shuffles (monti2024).

    Parameters
    ----------
    labels, n_splits, groups
        As in :func:`stratified_kfold`.
    n_repeats : int
        Number of repetitions, each a full partition of the objects.
    seed : int or numpy.random.SeedSequence
        Root seed; repeat ``r`` uses ``SeedSequence(seed).spawn(n_repeats)[r]``.

    Returns
    -------
    list of (train_idx, test_idx)
        ``n_splits * n_repeats`` pairs; pair ``r * n_splits + k`` is fold ``k``
        of repeat ``r``.

    Examples
    --------
    >>> folds = repeated_stratified_kfold([0] * 6 + [1] * 6, n_splits=3, n_repeats=2, seed=1)
    >>> len(folds)
    6
    >>> [len(test) for _, test in folds]
    [4, 4, 4, 4, 4, 4]
    """
    n_repeats = int(n_repeats)
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be at least 1, got {n_repeats}")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    out: list[Fold] = []
    for child in root.spawn(n_repeats):
        out.extend(stratified_kfold(labels, n_splits, seed=child, groups=groups))
    return out


def stratify_bins(values: Sequence[float] | np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Quantile bin of each value: strata for splitting a continuous target.

    Bin edges are the ``n_bins``-quantiles of ``values``; tied edges merge, so
    heavily repeated values can give fewer bins. Non-empty bins are numbered
    0, 1, ... in increasing order of value.

    Parameters
    ----------
    values : array_like of float, shape (n_objects,)
        The regression target (e.g. [Fe/H]); must be finite.
    n_bins : int
        Number of quantile bins, at least 1.

    Returns
    -------
    ndarray of int64, shape (n_objects,)

    Examples
    --------
    >>> stratify_bins([0.1, 0.4, 0.2, 0.3, 0.9, 0.8], n_bins=3).tolist()
    [0, 1, 0, 1, 2, 2]
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values hold NaN or infinite entries; drop those objects first")
    n_bins = int(n_bins)
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    inner = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    # side="right": a value equal to an edge goes to the upper bin, as np.digitize;
    # then renumber, since a heavily tied value can leave a bin empty.
    raw = np.searchsorted(inner, x, side="right")
    return np.unique(raw, return_inverse=True)[1].astype(np.int64)


# -------------------------------------------------------------- validation
def train_val_split(
    train_idx: Sequence[int] | np.ndarray,
    labels: Sequence[Any] | np.ndarray,
    val_fraction: float = 0.1,
    *,
    seed: SeedLike,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a stratified validation set out of one fold's training objects.

    Only positions in ``train_idx`` are ever returned, so no test object of the
    fold can reach validation (early stopping, model selection).

    Parameters
    ----------
    train_idx : array_like of int
        Positions (into ``labels``) of the fold's training objects.
    labels : array_like, shape (n_objects,)
        Labels of **all** objects, as given to :func:`stratified_kfold`.
    val_fraction : float
        Share of the training units (per class, rounded to nearest) moved to
        validation, in [0, 1).
    seed : int or numpy.random.SeedSequence
        Seed of the shuffle.
    groups : array_like, shape (n_objects,), optional
        Group key of every object; a group goes wholly to one side.

    Returns
    -------
    (fit_idx, val_idx) : tuple of ndarray of int64
        Sorted, disjoint, and together equal to ``train_idx``.

    Examples
    --------
    >>> labels = ["a"] * 10 + ["b"] * 10
    >>> train, test = stratified_kfold(labels, n_splits=5, seed=0)[0]
    >>> fit, val = train_val_split(train, labels, 0.25, seed=0)
    >>> len(fit), len(val), sorted(np.asarray(labels)[val].tolist())
    (12, 4, ['a', 'a', 'b', 'b'])
    >>> bool(np.intersect1d(val, test).size == 0)
    True
    """
    lab = _labels_1d(labels)
    idx = _check_index(train_idx, lab.size, "train_idx")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must lie in [0, 1), got {val_fraction}")
    sub_groups = None if groups is None else np.asarray(groups)
    if sub_groups is not None and sub_groups.shape != lab.shape:
        raise ValueError(
            f"groups must hold one key per object ({lab.size}), got shape {sub_groups.shape}"
        )
    unit_of, strata = _units(lab[idx], None if sub_groups is None else sub_groups[idx])
    rng = np.random.default_rng(seed)
    is_val = np.zeros(strata.size, dtype=bool)
    for stratum in np.unique(strata):
        members = rng.permutation(np.flatnonzero(strata == stratum))
        n_val = int(np.floor(float(val_fraction) * members.size + 0.5))
        is_val[members[:n_val]] = True
    val_mask = is_val[unit_of]
    return np.sort(idx[~val_mask]), np.sort(idx[val_mask])
