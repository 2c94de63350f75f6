"""Phase folding: :func:`phase_of`, :func:`fold`, and alignment on maximum light (monti2024).

A folded curve is an ordinary :class:`~skyclass.lightcurve.LightCurve` whose
``time`` is the phase in cycles of the period, ``meta["time_ref"] == "phase"``,
with ``meta["period"]``, ``meta["epoch"]`` and ``meta["folded_cycles"]`` saying
how it was folded.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve
from skyclass.preprocess._shared import check_period
from skyclass.preprocess.fourier import fit_fourier

__all__ = ["align_maximum", "epoch_of_maximum", "fold", "phase_of"]


def phase_of(time: Any, period: float, epoch: float = 0.0) -> np.ndarray:
    """Phase of each time in [0, 1): ``((time − epoch) / period) mod 1``.

    Parameters
    ----------
    time : array_like
        Times in days.
    period : float
        Period in days (positive).
    epoch : float
        Time of phase zero.

    Returns
    -------
    ndarray
        Phases; a value that rounds up to 1 is returned as 0.

    Examples
    --------
    >>> phase_of([0.0, 0.5, 2.25, -0.25], 1.0).tolist()
    [0.0, 0.5, 0.25, 0.75]
    """
    if not (np.isfinite(period) and period > 0):
        raise ValueError(f"the period must be positive and finite, got {period!r}")
    phase = np.mod((np.asarray(time, dtype=np.float64) - epoch) / period, 1.0)
    phase[phase >= 1.0] = 0.0  # mod can round a tiny negative up to exactly 1
    return phase


def _check_fold_period(lc: LightCurve, period: Any, strict_period: bool) -> float:
    value = check_period(period, lc)
    if strict_period and value > lc.span:
        raise DataError(
            f"the period {value:g} d is longer than the time span {lc.span:g} d, so no cycle "
            "is covered twice; pass strict_period=False to fold anyway",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        )
    return value


def fold(
    lc: LightCurve,
    period: float,
    *,
    epoch: float | None = None,
    cycles: int = 1,
    strict_period: bool = False,
) -> LightCurve:
    """Fold a curve on its period; the new ``time`` is the phase, in cycles of ``period``.

    Parameters
    ----------
    lc : LightCurve
        The curve (times in days, not already folded).
    period : float
        Period in days.
    epoch : float, optional
        Time of phase zero. Default: the first time of the curve. ``meta["t0"]`` is
        not used on purpose: catalogues give it in their own zero point (OGLE's is
        HJD − 2450000 while skyclass times may be shifted), so pass it explicitly
        after converting it.
    cycles : int
        Fold on ``cycles × period``: the phase runs over [0, cycles). ``cycles=2``
        folds eclipsing binaries on twice the period a search usually finds, so
        primary and secondary eclipses are told apart.
    strict_period : bool
        Refuse a period longer than the time span of the curve.

    Returns
    -------
    LightCurve
        Sorted by phase, with ``meta`` keys ``period``, ``epoch``, ``folded_cycles``,
        ``time_ref="phase"`` and ``folded_dropped``: epochs dropped because they land
        on exactly the phase of an earlier epoch of the same band (a folded curve,
        like any curve, may not repeat a time within a band).

    Raises
    ------
    DataError
        If the period is not positive and finite (or longer than the span with
        ``strict_period=True``), or the curve is already folded.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 1.2, 2.5, 3.0], mag=[1.0, 2.0, 3.0, 4.0],
    ...                 err=[0.1] * 4, band="V")
    >>> folded = fold(lc, 1.0)
    >>> folded.time.round(6).tolist(), folded.mag.tolist(), folded.meta["folded_dropped"]
    ([0.0, 0.2, 0.5], [1.0, 2.0, 3.0], 1)
    """
    where = {"source": lc.meta.get("source"), "object_id": lc.id or None}
    if lc.meta.get("time_ref") == "phase":
        raise DataError(
            "the curve is already folded (time_ref is 'phase'); fold the original", **where
        )
    if not isinstance(cycles, int | np.integer) or cycles < 1:
        raise ValueError(f"cycles must be a positive integer, got {cycles!r}")
    period = _check_fold_period(lc, period, strict_period)
    t0 = float(lc.time[0]) if epoch is None else float(epoch)
    if not np.isfinite(t0):
        raise DataError(f"the epoch must be finite, got {epoch!r}", **where)
    phase = phase_of(lc.time, cycles * period, t0) * cycles
    # stable sort by phase then band: the earliest epoch comes first among equals
    order = np.lexsort((lc.band, phase))
    phase, band = phase[order], lc.band[order]
    repeat = np.zeros(phase.size, dtype=bool)
    repeat[1:] = (phase[1:] == phase[:-1]) & (band[1:] == band[:-1])
    keep = order[~repeat]
    return lc.replace(
        time=phase[~repeat],
        mag=lc.mag[keep],
        err=lc.err[keep],
        band=lc.band[keep],
        meta={
            "period": period,
            "epoch": t0,
            "time_ref": "phase",
            "folded_cycles": int(cycles),
            "folded_dropped": int(repeat.sum()),
        },
    )


def epoch_of_maximum(
    lc: LightCurve,
    period: float,
    *,
    n_harmonics: int | Literal["auto"] = "auto",
    band: str | None = None,
) -> float:
    """Time of maximum light (minimum magnitude) from a Fourier fit of the curve.

    Parameters
    ----------
    lc : LightCurve
        The curve, in days.
    period : float
        Period in days.
    n_harmonics : int or "auto"
        Harmonics of the fit (see :func:`~skyclass.preprocess.fourier.fit_fourier`).
    band : str, optional
        Band whose maximum is wanted; required when the curve has several.

    Returns
    -------
    float
        A time within one period after the first epoch of that band.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 20, 300)
    >>> lc = LightCurve(time=t, mag=15 + 0.5 * np.cos(2 * np.pi * (t - 0.3) / 2.0 + np.pi),
    ...                 err=np.full(300, 0.01), band="G")
    >>> round(epoch_of_maximum(lc, 2.0, n_harmonics=2), 6)
    0.3
    """
    return fit_fourier(lc, period, n_harmonics=n_harmonics, band=band).epoch_of_maximum


def align_maximum(
    lc: LightCurve,
    period: float,
    *,
    n_harmonics: int | Literal["auto"] = "auto",
    band: str | None = None,
    cycles: int = 1,
    strict_period: bool = False,
) -> LightCurve:
    """Fold with the epoch at maximum light, so maximum sits at phase 0 (monti2024).

    Parameters
    ----------
    lc : LightCurve
        The curve, in days.
    period : float
        Period in days.
    n_harmonics : int or "auto"
        Harmonics of the Fourier fit that locates the maximum.
    band : str, optional
        Band whose maximum sets phase 0; required when the curve has several. All
        bands are folded with that epoch.
    cycles, strict_period
        As in :func:`fold`.

    Returns
    -------
    LightCurve
        As :func:`fold`, with ``meta["epoch_kind"] = "maximum"``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 20, 300)
    >>> lc = LightCurve(time=t, mag=15 - 0.5 * np.cos(2 * np.pi * (t - 0.7) / 2.0),
    ...                 err=np.full(300, 0.01), band="G")
    >>> folded = align_maximum(lc, 2.0, n_harmonics=2)
    >>> round(folded.meta["epoch"], 6), folded.meta["epoch_kind"]
    (0.7, 'maximum')
    """
    if band is None:
        lc.one_band(purpose="finding the maximum")
    t_max = epoch_of_maximum(lc, period, n_harmonics=n_harmonics, band=band)
    folded = fold(lc, period, epoch=t_max, cycles=cycles, strict_period=strict_period)
    return folded.replace(meta={"epoch_kind": "maximum"})
