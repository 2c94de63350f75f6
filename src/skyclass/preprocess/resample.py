"""Folded light curves to fixed-length arrays: values on a phase grid plus a mask.

The grid has ``n`` bins of width 1/n over one cycle, sampled at the bin centres
``(i + 0.5) / n``. Methods (:data:`METHODS`):

- ``"linear"`` — periodic linear interpolation (akhmetali2025's 512 points);
- ``"spline"`` — a smoothing spline with its smoothing chosen by generalised
  cross-validation, made periodic by wrapping points from each end of the cycle
  onto the other (monti2024); when cross-validation finds no optimum (a wild
  outlier, typically), a fixed smoothing ``lam=1e-4`` of the standardised
  magnitudes is used instead;
- ``"bin"`` — mean magnitude per phase bin; empty bins are filled by periodic
  linear interpolation of the filled ones.

Every method returns finite float32 values everywhere and a boolean mask that is
True where the value rests on data: for ``linear`` and ``spline``, where an
observed phase lies within ``max_gap`` of the grid point; for ``bin``, where the
bin holds at least one epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve

__all__ = ["METHODS", "resample", "resample_bands", "resample_many"]

#: Share of a cycle copied from each end to the other before a spline fit.
_SPLINE_MARGIN = 0.25
#: Fewest points scipy's smoothing spline accepts.
_SPLINE_MIN_POINTS = 5

_Method = Callable[[np.ndarray, np.ndarray, np.ndarray, int, float], tuple[np.ndarray, np.ndarray]]


def _grid(n: int) -> np.ndarray:
    return (np.arange(n) + 0.5) / n


def _near_data(phase: np.ndarray, grid: np.ndarray, max_gap: float) -> np.ndarray:
    """True where the nearest observed phase (around the circle) is within ``max_gap``."""
    ext = np.concatenate(([phase[-1] - 1.0], phase, [phase[0] + 1.0]))
    right = np.searchsorted(ext, grid)
    dist = np.minimum(grid - ext[right - 1], ext[right] - grid)
    return dist <= max_gap


def _linear(phase, mag, err, n, max_gap):
    grid = _grid(n)
    values = np.interp(grid, phase, mag, period=1.0)
    return values, _near_data(phase, grid, max_gap)


#: Smoothing parameter used when generalised cross-validation finds no optimum.
_SPLINE_FALLBACK_LAM = 1e-4


def _spline(phase, mag, err, n, max_gap):
    from scipy.interpolate import make_smoothing_spline

    if phase.size < _SPLINE_MIN_POINTS:
        raise ValueError(
            f"a smoothing spline needs at least {_SPLINE_MIN_POINTS} points, got {phase.size}; "
            "use method='linear' or 'bin'"
        )
    weights = 1.0 / err**2 if np.all(np.isfinite(err)) else np.ones(phase.size)
    head = phase < _SPLINE_MARGIN
    tail = phase >= 1.0 - _SPLINE_MARGIN
    x = np.concatenate((phase[tail] - 1.0, phase, phase[head] + 1.0))
    y = np.concatenate((mag[tail], mag, mag[head]))
    w = np.concatenate((weights[tail], weights, weights[head]))
    w = w / w.mean()
    # scipy's GCV choice of smoothing fails (a near-flat spline) when the values sit on a
    # large offset such as a mean magnitude of 15: fit standardised values
    centre = np.average(y, weights=w)
    scale = float(np.std(y)) or 1.0
    grid = _grid(n)
    z = (y - centre) / scale
    try:
        spline = make_smoothing_spline(x, z, w=w)
    except ValueError:
        # GCV finds no optimum (typically a wild outlier): fall back to a fixed, moderate
        # smoothing of the standardised values rather than failing the object
        spline = make_smoothing_spline(x, z, w=w, lam=_SPLINE_FALLBACK_LAM)
    values = centre + scale * spline(grid)
    return values, _near_data(phase, grid, max_gap)


def _bin(phase, mag, err, n, max_gap):
    index = np.minimum((phase * n).astype(np.int64), n - 1)
    counts = np.bincount(index, minlength=n)
    sums = np.bincount(index, weights=mag, minlength=n)
    filled = counts > 0
    grid = _grid(n)
    values = np.empty(n)
    values[filled] = sums[filled] / counts[filled]
    values[~filled] = np.interp(grid[~filled], grid[filled], values[filled], period=1.0)
    return values, filled


#: Resampling methods by name: ``f(phase, mag, err, n, max_gap) -> (values, mask)``.
METHODS: dict[str, _Method] = {"linear": _linear, "spline": _spline, "bin": _bin}


def _folded_phase(lc: LightCurve) -> np.ndarray:
    if lc.meta.get("time_ref") != "phase":
        raise DataError(
            "the curve is not folded (meta['time_ref'] is not 'phase'); fold it first with "
            "skyclass.preprocess.fold(lc, period) or align_maximum(lc, period)",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        )
    cycles = float(lc.meta.get("folded_cycles", 1))
    return lc.time / cycles


def _check_args(n: int, method: str, max_gap: float | None) -> float:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {sorted(METHODS)}")
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if max_gap is None:
        return max(2.0 / n, 0.02)
    if not max_gap > 0:
        raise ValueError(f"max_gap must be positive (a share of a cycle), got {max_gap!r}")
    return float(max_gap)


def _resample_one(lc: LightCurve, n: int, method: str, gap: float) -> tuple[np.ndarray, np.ndarray]:
    phase = _folded_phase(lc)
    try:
        values, mask = METHODS[method](phase, lc.mag, lc.err, n, gap)
    except ValueError as exc:
        raise DataError(str(exc), source=lc.meta.get("source"), object_id=lc.id or None) from exc
    return values.astype(np.float32), mask.astype(bool)


def resample(
    folded_lc: LightCurve,
    n: int = 512,
    *,
    method: str = "linear",
    band: str | None = None,
    max_gap: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Resample one folded curve to ``n`` phase points.

    Parameters
    ----------
    folded_lc : LightCurve
        Output of :func:`~skyclass.preprocess.fold.fold` (``time`` is phase); a curve
        folded on several cycles is resampled over all of them.
    n : int
        Number of grid points (bin centres ``(i + 0.5) / n`` of the folded range).
    method : {"linear", "spline", "bin"}
        See :data:`METHODS` and the module docstring.
    band : str, optional
        Band to resample; required when the curve has several.
    max_gap : float, optional
        For ``linear`` and ``spline``: mask grid points whose nearest observed phase
        is further than this (a share of the folded range). Default: two bin widths
        or 0.02, whichever is larger.

    Returns
    -------
    values : ndarray of float32, shape (n,)
        Magnitudes, finite everywhere.
    mask : ndarray of bool, shape (n,)
        True where the value rests on nearby data.

    Raises
    ------
    DataError
        If the curve is not folded, has several bands and no ``band`` is given, or
        has too few points for the method.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 0.25, 0.5, 0.75], mag=[1.0, 2.0, 3.0, 2.0],
    ...                 err=[0.1] * 4, band="V", meta={"time_ref": "phase"})
    >>> values, mask = resample(lc, 4)
    >>> values.tolist(), mask.tolist()
    ([1.5, 2.5, 2.5, 1.5], [True, True, True, True])
    """
    gap = _check_args(n, method, max_gap)
    return _resample_one(folded_lc.one_band(band, purpose="resampling"), int(n), method, gap)


def resample_many(
    lcs: Iterable[LightCurve],
    n: int = 512,
    *,
    method: str = "linear",
    band: str | None = None,
    max_gap: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`resample` for many folded curves: arrays of shape (N, n).

    Row i equals ``resample(lcs[i], ...)``; a curve that cannot be resampled raises
    its :class:`~skyclass.exceptions.DataError` (with its object id).

    Examples
    --------
    >>> lcs = [LightCurve(time=[0.0, 0.5], mag=[1.0, 2.0], err=[0.1, 0.1], band="V",
    ...                   id=str(i), meta={"time_ref": "phase"}) for i in range(3)]
    >>> values, mask = resample_many(lcs, 8)
    >>> values.shape, mask.shape
    ((3, 8), (3, 8))
    """
    gap = _check_args(n, method, max_gap)
    rows = [
        _resample_one(lc.one_band(band, purpose="resampling"), int(n), method, gap) for lc in lcs
    ]
    if not rows:
        return np.empty((0, int(n)), np.float32), np.empty((0, int(n)), bool)
    values, masks = zip(*rows, strict=True)
    return np.stack(values), np.stack(masks)


def resample_bands(
    folded_lc: LightCurve,
    bands: Sequence[str],
    n: int = 512,
    *,
    method: str = "linear",
    max_gap: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Resample every band of a folded curve: one row per requested band.

    Parameters
    ----------
    folded_lc : LightCurve
        A folded curve with one or more bands.
    bands : sequence of str
        Bands, in the row order wanted.
    n, method, max_gap
        As in :func:`resample`.

    Returns
    -------
    values : ndarray of float32, shape (len(bands), n)
        A band the curve lacks gets a row of zeros ...
    mask : ndarray of bool, shape (len(bands), n)
        ... and an all-False mask row.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 0.1, 0.5], mag=[1.0, 5.0, 2.0], err=[0.1] * 3,
    ...                 band=["g", "r", "g"], meta={"time_ref": "phase"})
    >>> values, mask = resample_bands(lc, ["g", "r", "i"], 4)
    >>> values.shape, mask.any(axis=1).tolist()
    ((3, 4), [True, True, False])
    """
    gap = _check_args(n, method, max_gap)
    values = np.zeros((len(bands), int(n)), np.float32)
    mask = np.zeros((len(bands), int(n)), bool)
    present = set(folded_lc.bands)
    for row, name in enumerate(bands):
        if name in present:
            values[row], mask[row] = _resample_one(folded_lc.select_band(name), int(n), method, gap)
    return values, mask
