"""Runs of one study side by side: folds chosen, median and spread, paired differences."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["chosen_folds", "median_and_spread", "paired_differences", "spread_cell"]


def median_and_spread(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, ...]:
    """Median over runs (axis 0) and the second-lowest and second-highest value.

    kang2023's Fig. 8 shows the median confusion matrix of its 10-fold cross-test
    with the second-best and second-worst fold of every cell, which drops one
    extreme at each end. NaN entries (a class absent from a fold) are left out
    cell by cell; with fewer than three finite values the lowest and highest are
    given instead, and a cell with none is NaN.

    Parameters
    ----------
    values : array_like, shape (n_runs, ...)
        One array per run (e.g. per fold's row-normalised confusion matrix).

    Returns
    -------
    median, low, high : numpy.ndarray
        Each of shape ``values.shape[1:]``.

    Examples
    --------
    >>> median, low, high = median_and_spread([[0.9, 0.1], [0.7, 0.3], [0.8, 0.2], [0.5, 0.5]])
    >>> median.round(2).tolist(), low.round(2).tolist(), high.round(2).tolist()
    ([0.75, 0.25], [0.7, 0.2], [0.8, 0.3])
    >>> [a.tolist() for a in median_and_spread([[1.0], [np.nan], [3.0]])]
    [[2.0], [1.0], [3.0]]
    """
    v = np.asarray(values, dtype=float)
    if v.ndim < 1 or v.shape[0] == 0:
        raise ValueError("median_and_spread needs at least one run along axis 0")
    ordered = np.sort(v, axis=0)  # NaN sort last
    n = np.isfinite(v).sum(axis=0)
    low_at = np.where(n >= 3, 1, 0)
    high_at = np.where(n >= 3, n - 2, np.maximum(n - 1, 0))

    def pick(at: np.ndarray) -> np.ndarray:
        got = np.take_along_axis(ordered, np.expand_dims(at, 0), axis=0)[0]
        return np.where(n > 0, got, np.nan)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell with no finite value
        median = np.nanmedian(v, axis=0)
    return np.asarray(median, dtype=float), pick(low_at), pick(high_at)


def spread_cell(median: float, low: float, high: float, *, diagonal: bool) -> str:
    """``"median (2nd-worst–2nd-best)"``: best is high on the diagonal, low off it.

    Examples
    --------
    >>> spread_cell(0.8, 0.7, 0.9, diagonal=True), spread_cell(0.1, 0.05, 0.2, diagonal=False)
    ('0.80 (0.70–0.90)', '0.10 (0.20–0.05)')
    """
    if not np.isfinite(median):
        return "—"
    worst, best = (low, high) if diagonal else (high, low)
    return f"{median:.2f} ({worst:.2f}–{best:.2f})"


def chosen_folds(
    chosen: Sequence[int] | None, n_folds: int, *, setting: str = "folds"
) -> list[int]:
    """The folds to run (``None``: all), checked against ``n_folds``.

    Examples
    --------
    >>> chosen_folds(None, 3), chosen_folds([2, 0], 3)
    ([0, 1, 2], [0, 2])
    """
    if chosen is None:
        return list(range(n_folds))
    wanted = sorted({int(f) for f in chosen})
    if not wanted or wanted[0] < 0 or wanted[-1] >= n_folds:
        raise ValueError(f"{setting} {list(chosen)} must name folds 0..{n_folds - 1} (null: all)")
    return wanted


def paired_differences(
    first: Sequence[Mapping[str, Any]], second: Sequence[Mapping[str, Any]], metric: str
) -> list[float]:
    """``metric`` of ``first`` minus ``second``, run by run (both made on the same seeds).

    Examples
    --------
    >>> a = [{"seed": 0, "macro_f1": 0.8}, {"seed": 1, "macro_f1": 0.7}]
    >>> b = [{"seed": 0, "macro_f1": 0.6}, {"seed": 1, "macro_f1": 0.7}]
    >>> [round(d, 3) for d in paired_differences(a, b, "macro_f1")]
    [0.2, 0.0]
    """
    if [r["seed"] for r in first] != [r["seed"] for r in second]:
        raise ValueError("the two sets of runs were made on different seeds")
    return [float(r[metric] - o[metric]) for r, o in zip(first, second, strict=True)]
