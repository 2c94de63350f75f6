"""Epoch cleaning: drop bad epochs of a light curve, one documented step at a time.

Every step is a pure function ``step(lc, ...) -> (new_curve, removed_mask)``:
``removed_mask`` is a boolean array over the *input* epochs, and the new curve's
``meta["cleaning"]`` has one more entry, ``{"step": name, "removed": n, **params}``.
The input curve is never changed. Steps work band by band.

=================  =====================================================  ==============
step name          what it removes                                        from
=================  =====================================================  ==============
``errors``         epochs whose error exceeds ``factor`` × the band's     kang2023
                   mean error
``supersmoother``  epochs more than ``nsigma`` σ from a SuperSmoother     kang2023
                   fit of the folded curve (needs the period)
``outliers``       single epochs more than ``nsigma`` robust σ from the   akhmetali2025
                   band's median
``min_epochs``     nothing; raises :class:`DataError` when a band has     akhmetali2025,
                   fewer than ``min_per_band`` epochs                     carraro2025
=================  =====================================================  ==============

:class:`Cleaner` chains steps from a typed :class:`CleanConfig`, for one curve
(:meth:`Cleaner.transform`) or a whole set (:meth:`Cleaner.transform_many`, which
skips and lists the objects a step rejects).

Examples
--------
>>> from skyclass import LightCurve
>>> lc = LightCurve(time=[0, 1, 2, 3, 4], mag=[10, 10.1, 9.9, 13, 10],
...                 err=[0.1, 0.1, 0.1, 0.1, 0.5], band="V", id="s")
>>> new, removed = clip_errors(lc, factor=2.0)
>>> removed.tolist(), len(new), new.meta["cleaning"][-1]["removed"]
([False, False, False, False, True], 4, 1)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from skyclass.config import Config
from skyclass.exceptions import DataError, MissingDependencyError
from skyclass.lightcurve import LightCurve, LightCurveSet

__all__ = [
    "STEPS",
    "CleanConfig",
    "Cleaner",
    "clip_errors",
    "clip_outliers",
    "clip_supersmoother",
    "require_epochs",
    "robust_sigma",
]

#: 1 / Φ⁻¹(3/4): turns a median absolute deviation into a Gaussian σ.
_MAD_TO_SIGMA = 1.4826
#: sqrt(π / 2): turns a mean absolute deviation into a Gaussian σ.
_MEAN_AD_TO_SIGMA = 1.2533


def robust_sigma(values: np.ndarray) -> float:
    """A Gaussian-consistent scatter that one wild value cannot inflate.

    ``1.4826 × MAD`` (median absolute deviation from the median). When more than
    half the values are equal the MAD is zero, and ``1.2533 ×`` the *mean* absolute
    deviation is used instead, so a single deviant among identical values still
    counts as an outlier rather than every differing value being infinitely far.

    Examples
    --------
    >>> robust_sigma(np.array([10.0, 10.1, 9.9, 10.0, 12.0, 10.05, 9.95]))  # doctest: +ELLIPSIS
    0.0741...
    >>> round(robust_sigma(np.array([10.0, 10.0, 10.0, 10.0, 15.0])), 4)
    1.2533
    """
    values = np.asarray(values, dtype=np.float64)
    deviation = np.abs(values - np.median(values))
    mad = float(np.median(deviation))
    if mad > 0:
        return _MAD_TO_SIGMA * mad
    return _MEAN_AD_TO_SIGMA * float(np.mean(deviation))


def _finish(
    lc: LightCurve, removed: np.ndarray, step: str, params: Mapping[str, Any]
) -> tuple[LightCurve, np.ndarray]:
    """The curve without the ``removed`` epochs, with the step logged in ``meta["cleaning"]``."""
    n = int(removed.sum())
    if n == len(lc):
        raise DataError(
            f"cleaning step {step!r} ({dict(params)}) would remove all {n} epochs; "
            "loosen its parameters or exclude the object",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        )
    log = [*lc.meta.get("cleaning", ()), {"step": step, "removed": n, **params}]
    keep = ~removed
    new = lc.replace(
        time=lc.time[keep],
        mag=lc.mag[keep],
        err=lc.err[keep],
        band=lc.band[keep],
        meta={"cleaning": log},
    )
    removed = removed.copy()
    removed.setflags(write=False)
    return new, removed


def _band_positions(lc: LightCurve) -> list[tuple[str, np.ndarray]]:
    return [(b, np.flatnonzero(lc.band == b)) for b in lc.bands]


def clip_errors(lc: LightCurve, *, factor: float = 2.0) -> tuple[LightCurve, np.ndarray]:
    """Drop epochs whose error exceeds ``factor`` times the mean error of their band.

    kang2023: "drop points whose error exceeds twice the mean error". Nothing is
    removed when the survey gives no errors (``err`` all NaN).

    Parameters
    ----------
    lc : LightCurve
    factor : float
        Multiple of the band's mean error above which an epoch is dropped.

    Returns
    -------
    new : LightCurve
        The kept epochs; ``meta["cleaning"][-1] == {"step": "errors", "removed": n,
        "factor": factor}``.
    removed : ndarray of bool
        Over the input epochs.

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> lc = LightCurve(time=[0, 1, 2, 3], mag=[1, 1, 1, 1], err=[.1, .1, .1, .9], band="g")
    >>> clip_errors(lc)[1].tolist()  # mean error 0.3; 0.9 > 0.6
    [False, False, False, True]
    """
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor}")
    removed = np.zeros(len(lc), dtype=bool)
    if lc.has_errors:
        for _, pos in _band_positions(lc):
            err = lc.err[pos]
            removed[pos] = err > factor * err.mean()
    return _finish(lc, removed, "errors", {"factor": float(factor)})


def clip_supersmoother(
    lc: LightCurve,
    period: float,
    *,
    nsigma: float = 3.0,
    max_iter: int = 5,
    min_points: int = 20,
) -> tuple[LightCurve, np.ndarray]:
    """Drop epochs more than ``nsigma`` σ from a SuperSmoother fit of the folded curve.

    kang2023's cleaning. Each band is folded on ``period`` and fitted with
    Friedman's SuperSmoother in its periodic form (``SuperSmoother(period=1)`` on
    the phase, so the smooth wraps round from phase 1 to 0), weighted by the
    errors when the survey gives them. σ is each epoch's own error when given,
    otherwise the robust scatter (:func:`robust_sigma`) of the kept epochs'
    residuals.

    An outlier drags the smooth towards itself, which pushes its neighbours
    away; so after flagging, the smooth is refitted on the unflagged epochs and
    every epoch is judged again against the refit, until the flags stop changing
    or ``max_iter`` fits have been made (``max_iter=1`` is the paper's single pass).

    Parameters
    ----------
    lc : LightCurve
    period : float
        Period in days, positive.
    nsigma : float
        Distance from the smooth, in σ, beyond which an epoch is dropped.
    max_iter : int
        Most fits per band.
    min_points : int
        Bands with fewer epochs are left as they are (a smooth of a handful of
        points is meaningless); they are listed under ``"skipped_bands"`` in the log.
        A band whose epochs fold onto fewer distinct phases is an error.

    Returns
    -------
    new : LightCurve
    removed : ndarray of bool
        Over the input epochs.

    Raises
    ------
    DataError
        If ``period`` is missing, not finite or not positive, or the folded epochs
        of a band fall on fewer than ``min_points`` distinct phases.

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> t = np.arange(60.0)
    >>> mag = 12 + 0.3 * np.sin(2 * np.pi * t / 7.3)
    >>> mag[17] += 1.0
    >>> lc = LightCurve(time=t, mag=mag, err=np.full(60, 0.01), band="V")
    >>> np.flatnonzero(clip_supersmoother(lc, 7.3)[1]).tolist()
    [17]
    """
    try:
        from supersmoother import SuperSmoother
    except ImportError as exc:  # pragma: no cover - installed with skyclass
        raise MissingDependencyError(
            "supersmoother", purpose="the supersmoother cleaning step"
        ) from exc

    period = _check_period(lc, period)
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    removed = np.zeros(len(lc), dtype=bool)
    skipped: list[str] = []
    with_errors = lc.has_errors
    for band, pos in _band_positions(lc):
        if pos.size < min_points:
            skipped.append(band)
            continue
        phase = np.mod(lc.time[pos] / period, 1.0)
        n_phases = np.unique(np.round(phase, 9) % 1.0).size
        if n_phases < min_points:
            raise DataError(
                f"band {band!r}: folded on {period:g} d, its {pos.size} epochs fall on only "
                f"{n_phases} distinct phases (at least {min_points} needed): the period is "
                "commensurate with the sampling; check the period, or lower min_points",
                source=lc.meta.get("source"),
                object_id=lc.id or None,
            )
        mag = lc.mag[pos]
        dy = lc.err[pos] if with_errors else np.ones(pos.size)
        flags = np.zeros(pos.size, dtype=bool)
        for _ in range(max_iter):
            keep = ~flags
            resid = mag - _smooth(SuperSmoother, phase, mag, dy, keep, lc)
            sigma = dy if with_errors else robust_sigma(resid[keep])
            new_flags = np.abs(resid) > nsigma * sigma
            if np.array_equal(new_flags, flags) or new_flags.all():
                flags = new_flags
                break
            flags = new_flags
        removed[pos] = flags
    params: dict[str, Any] = {"period": period, "nsigma": float(nsigma), "max_iter": max_iter}
    if skipped:
        params["skipped_bands"] = skipped
    return _finish(lc, removed, "supersmoother", params)


def _smooth(
    smoother: Any,
    phase: np.ndarray,
    mag: np.ndarray,
    dy: np.ndarray,
    keep: np.ndarray,
    lc: LightCurve,
) -> np.ndarray:
    """The periodic SuperSmoother of the ``keep`` epochs, evaluated at every phase.

    Epochs at one phase (a period commensurate with the cadence folds whole nights
    onto each other) are merged into their weighted mean first: the smoother's local
    linear fits divide by zero on a window of identical phases.
    """
    rounded = np.round(phase, 9) % 1.0  # 1e-9 of a period: the same phase
    uniq, inverse = np.unique(rounded[keep], return_inverse=True)
    w = 1.0 / dy[keep] ** 2
    wsum = np.bincount(inverse, weights=w)
    mean = np.bincount(inverse, weights=w * mag[keep]) / wsum
    try:
        model = smoother(period=1.0).fit(uniq, mean, 1.0 / np.sqrt(wsum), presorted=True)
        return model.predict(rounded)
    except ValueError as exc:
        raise DataError(
            f"SuperSmoother could not fit the folded curve ({exc}); {uniq.size} distinct "
            "phases; check the period, or drop the supersmoother step",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        ) from exc


def _check_period(lc: LightCurve, period: Any) -> float:
    try:
        value = float(period)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise DataError(
            f"the supersmoother cleaning step needs a positive period, got {period!r}; "
            "pass period= (Cleaner.transform_many: periods= an array or an objects column "
            "such as 'period'), or drop the step",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        )
    return value


def clip_outliers(lc: LightCurve, *, nsigma: float = 3.0) -> tuple[LightCurve, np.ndarray]:
    """Drop single epochs more than ``nsigma`` robust σ from their band's median.

    akhmetali2025's "3σ single-point outliers"; σ is :func:`robust_sigma` of the
    band's magnitudes, so the outliers themselves do not widen the cut. Ignores
    the period: use it on curves whose amplitude is small against the outliers,
    and :func:`clip_supersmoother` otherwise.

    Parameters
    ----------
    lc : LightCurve
    nsigma : float
        Distance from the median, in robust σ, beyond which an epoch is dropped.

    Returns
    -------
    new : LightCurve
    removed : ndarray of bool
        Over the input epochs.

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> lc = LightCurve(time=np.arange(7.0), mag=[10, 10.1, 9.9, 10, 12, 10.05, 9.95],
    ...                 err=np.full(7, 0.05), band="g")
    >>> clip_outliers(lc)[1].tolist()  # median 10, robust σ 0.074
    [False, False, False, False, True, False, False]
    """
    removed = np.zeros(len(lc), dtype=bool)
    for _, pos in _band_positions(lc):
        mag = lc.mag[pos]
        removed[pos] = np.abs(mag - np.median(mag)) > nsigma * robust_sigma(mag)
    return _finish(lc, removed, "outliers", {"nsigma": float(nsigma)})


def require_epochs(
    lc: LightCurve, *, min_per_band: int = 50, bands: Sequence[str] | None = None
) -> tuple[LightCurve, np.ndarray]:
    """Check every band has at least ``min_per_band`` epochs; remove nothing.

    Parameters
    ----------
    lc : LightCurve
    min_per_band : int
        Fewest epochs a band may have.
    bands : sequence of str, optional
        Bands that must each have enough epochs (a band the curve lacks has 0);
        by default every band the curve has.

    Returns
    -------
    lc : LightCurve
        The same epochs, with the check logged in ``meta["cleaning"]``.
    removed : ndarray of bool
        All False.

    Raises
    ------
    DataError
        Naming the object, the epochs per band and the fix, when a band has too few.

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> lc = LightCurve(time=[0, 1, 2], mag=[1, 2, 1], err=[.1, .1, .1], band="g", id="s")
    >>> require_epochs(lc, min_per_band=3)[1].tolist()
    [False, False, False]
    >>> require_epochs(lc, min_per_band=4)
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: [s]: too few epochs: {'g': 3} (at least 4 per band ...
    """
    wanted = list(lc.bands) if bands is None else [str(b) for b in bands]
    counts = {b: int(np.count_nonzero(lc.band == b)) for b in wanted}
    short = {b: n for b, n in counts.items() if n < min_per_band}
    if short:
        raise DataError(
            f"too few epochs: {counts} (at least {min_per_band} per band needed, short in "
            f"{sorted(short)}); lower min_per_band or exclude the object",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        )
    params: dict[str, Any] = {"min_per_band": int(min_per_band)}
    if bands is not None:
        params["bands"] = wanted
    return _finish(lc, np.zeros(len(lc), dtype=bool), "min_epochs", params)


#: Cleaning steps by name: what :class:`CleanConfig` may list.
STEPS: dict[str, Callable[..., tuple[LightCurve, np.ndarray]]] = {
    "errors": clip_errors,
    "supersmoother": clip_supersmoother,
    "outliers": clip_outliers,
    "min_epochs": require_epochs,
}


def _needs_period(step: str) -> bool:
    return "period" in inspect.signature(STEPS[step]).parameters


def _step_options(step: str) -> list[str]:
    params = inspect.signature(STEPS[step]).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


class CleanConfig(Config):
    """Which cleaning steps to run, in order, with their parameters.

    Attributes
    ----------
    steps : list of dict
        Each ``{"step": NAME, **params}``, ``NAME`` a key of :data:`STEPS` and
        ``params`` keyword arguments of that function. The default is kang2023's
        cleaning followed by akhmetali2025's (it needs the period).

    Examples
    --------
    >>> cfg = CleanConfig(steps=[{"step": "outliers", "nsigma": 4}])
    >>> cfg.steps
    [{'step': 'outliers', 'nsigma': 4}]
    >>> CleanConfig(steps=[{"step": "sigma"}])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for CleanConfig
    ...unknown cleaning step 'sigma'; valid steps: errors, supersmoother, outliers, min_epochs...
    """

    steps: list[dict[str, Any]] = Field(
        default_factory=lambda: [
            {"step": "errors", "factor": 2.0},
            {"step": "supersmoother", "nsigma": 3.0},
            {"step": "outliers", "nsigma": 3.0},
            {"step": "min_epochs", "min_per_band": 50},
        ]
    )

    @field_validator("steps")
    @classmethod
    def _known_steps(cls, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, spec in enumerate(steps):
            name = spec.get("step")
            if name not in STEPS:
                raise ValueError(
                    f"steps[{i}]: unknown cleaning step {name!r}; valid steps: "
                    f"{', '.join(STEPS)} (each entry is {{'step': NAME, **params}})"
                )
            allowed = _step_options(name)
            unknown = sorted(set(spec) - {"step", *allowed})
            if unknown:
                raise ValueError(
                    f"steps[{i}] ({name}): unknown parameter(s) {unknown}; "
                    f"valid parameters: {allowed}"
                )
        return steps


class Cleaner:
    """Runs the cleaning steps of a :class:`CleanConfig` on one curve or a whole set.

    Parameters
    ----------
    config : CleanConfig, optional
        The steps; the default :class:`CleanConfig` when omitted.

    Examples
    --------
    >>> from skyclass import LightCurve, LightCurveSet
    >>> cfg = CleanConfig(steps=[{"step": "outliers", "nsigma": 3},
    ...                          {"step": "min_epochs", "min_per_band": 6}])
    >>> good = LightCurve(time=np.arange(7.0), mag=[10, 10.1, 9.9, 10, 12, 10.05, 9.95],
    ...                   err=np.full(7, 0.05), band="g", id="good")
    >>> short = LightCurve(time=np.arange(4.0), mag=[10, 10.1, 9.9, 10],
    ...                    err=np.full(4, 0.05), band="g", id="short")
    >>> cleaned = Cleaner(cfg).transform_many(LightCurveSet.from_lightcurves([good, short]))
    >>> cleaned.ids.tolist(), cleaned.objects["n_removed"].tolist(), cleaned.skipped[0]["id"]
    (['good'], [1], 'short')
    """

    def __init__(self, config: CleanConfig | None = None):
        self.config = config if config is not None else CleanConfig()

    def __repr__(self) -> str:
        return f"Cleaner(steps={[s['step'] for s in self.config.steps]})"

    @property
    def needs_period(self) -> bool:
        """Whether some step folds the curve and so needs each object's period."""
        return any(_needs_period(s["step"]) for s in self.config.steps)

    def transform_with_mask(
        self, lc: LightCurve, period: float | None = None
    ) -> tuple[LightCurve, np.ndarray]:
        """Run every step; return the cleaned curve and the removed mask over ``lc``'s epochs.

        Raises
        ------
        DataError
            When a step rejects the curve (too few epochs, no period...), naming the step.
        """
        removed = np.zeros(len(lc), dtype=bool)
        alive = np.arange(len(lc))  # input positions of the current curve's epochs
        current = lc
        for spec in self.config.steps:
            name = spec["step"]
            params = {k: v for k, v in spec.items() if k != "step"}
            try:
                if _needs_period(name):
                    current, gone = STEPS[name](current, period, **params)
                else:
                    current, gone = STEPS[name](current, **params)
            except DataError as exc:
                raise DataError(
                    f"cleaning step {name!r}: {exc.reason}",
                    source=exc.source,
                    object_id=exc.object_id or lc.id or None,
                ) from exc
            removed[alive[gone]] = True
            alive = alive[~gone]
        return current, removed

    def transform(self, lc: LightCurve, period: float | None = None) -> LightCurve:
        """Run every step on one curve.

        Parameters
        ----------
        lc : LightCurve
        period : float, optional
            The object's period in days; needed by ``supersmoother``.

        Returns
        -------
        LightCurve
            With one ``meta["cleaning"]`` entry per step.

        Raises
        ------
        DataError
            When a step rejects the curve, naming the step and the fix.
        """
        return self.transform_with_mask(lc, period)[0]

    def transform_many(
        self, lcs: LightCurveSet, periods: Sequence[float] | np.ndarray | str | None = None
    ) -> LightCurveSet:
        """Run every step on every object; an object a step rejects is skipped and listed.

        Parameters
        ----------
        lcs : LightCurveSet
        periods : array_like or str, optional
            One period per object, or the name of an ``objects`` column holding them
            (e.g. ``"period"``); needed when a step folds the curve.

        Returns
        -------
        LightCurveSet
            The kept objects, their ``objects`` rows plus ``n_removed`` (epochs this
            cleaning removed; an earlier value is replaced); rejected objects are
            appended to ``meta["skipped"]`` with the reason, and the steps are recorded
            in ``meta["cleaning_steps"]``. Equal, object by object, to :meth:`transform`.

        Raises
        ------
        DataError
            If a step needs periods and none are given, ``periods`` has the wrong
            length or names a missing column, or every object is rejected.
        """
        per = self._periods(lcs, periods)
        curves: list[LightCurve] = []
        rows: list[int] = []
        n_removed: list[int] = []
        skipped = list(lcs.skipped)
        for i, lc in enumerate(lcs):
            try:
                new, removed = self.transform_with_mask(lc, None if per is None else per[i])
            except DataError as exc:
                skipped.append(
                    {
                        "id": lc.id,
                        "source": exc.source or lcs.meta.get("source"),
                        "reason": exc.reason,
                    }
                )
                continue
            curves.append(new)
            rows.append(i)
            n_removed.append(int(removed.sum()))
        if not curves:
            reasons = "; ".join(f"{s['id']}: {s['reason']}" for s in skipped[-3:])
            raise DataError(
                f"cleaning rejected all {len(lcs)} objects (last reasons: {reasons}); "
                "loosen the cleaning steps"
            )
        objects = lcs.objects.iloc[rows].reset_index(drop=True)
        objects["n_removed"] = np.asarray(n_removed, dtype=np.int64)
        # not "cleaning": a set's meta is copied into each curve's, where that key is the log
        steps = [dict(s) for s in self.config.steps]
        meta = {**lcs.meta, "skipped": skipped, "cleaning_steps": steps}
        return LightCurveSet.from_lightcurves(curves, objects=objects, meta=meta)

    def _periods(
        self, lcs: LightCurveSet, periods: Sequence[float] | np.ndarray | str | None
    ) -> np.ndarray | None:
        if periods is None:
            if self.needs_period:
                steps = [s["step"] for s in self.config.steps if _needs_period(s["step"])]
                raise DataError(
                    f"cleaning steps {steps} need each object's period; pass periods= an "
                    "array or the name of an objects column such as 'period'"
                )
            return None
        if isinstance(periods, str):
            if periods not in lcs.objects.columns:
                raise DataError(
                    f"no objects column {periods!r} to take periods from; columns: "
                    f"{list(lcs.objects.columns)}"
                )
            return pd.to_numeric(lcs.objects[periods], errors="coerce").to_numpy(np.float64)
        arr = np.asarray(periods, dtype=np.float64)
        if arr.shape != (len(lcs),):
            raise DataError(f"{arr.size} periods for {len(lcs)} objects; give one per object")
        return arr
