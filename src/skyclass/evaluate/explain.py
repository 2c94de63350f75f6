"""Which phases of a folded light curve drove a prediction: occlusion over phase.

For each object, the epochs that fall in one phase bin (all bands at once)
are removed, the curve goes again through the model's own representations
and network, and the drop in the predicted class's probability is that bin's
attribution. It works for every model and representation, because it only
edits the light curve; the period is held fixed at the one used for the
original prediction, so a missing bin cannot change the fold.

Examples
--------
>>> import numpy as np
>>> from skyclass import LightCurve, LightCurveSet
>>> from skyclass.estimator import LightCurveClassifier
>>> rng = np.random.default_rng(0)
>>> curves, labels = [], []
>>> for i in range(30):
...     t = np.sort(rng.uniform(0, 50, 80))
...     dip = (np.mod(t / 1.3, 1) < 0.1) * (i % 2)        # class "dip": an eclipse at phase 0
...     curves.append(LightCurve(time=t, mag=15 + dip + rng.normal(0, 0.02, 80),
...                              err=np.full(80, 0.02), band="V", id=str(i)))
...     labels.append("dip" if i % 2 else "flat")
>>> s = LightCurveSet.from_lightcurves(curves, labels=labels)
>>> s = s.with_objects(s.objects.assign(period=1.3))
>>> clf = LightCurveClassifier(model="mlp_features", validation_fraction=0, progress=False,
...                            train={"max_epochs": 30, "batch_size": 8}).fit(s)
>>> out = phase_occlusion(clf, s.select([1]), n_bins=10)
>>> out["attribution"].shape, int(np.nanargmax(out["attribution"][0]))
((1, 10), 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess.fold import phase_of
from skyclass.preprocess.period import fill_periods

__all__ = ["phase_occlusion", "point_attribution"]


def phase_occlusion(
    estimator: Any,
    lcs: LightCurveSet,
    *,
    n_bins: int = 20,
    target: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Occlusion attribution over phase for each object of ``lcs``.

    Parameters
    ----------
    estimator : LightCurveClassifier or LightCurveRegressor
        A fitted estimator (or any object with its ``predict_raw``, ``period`` and
        ``period_options``).
    lcs : LightCurveSet
        The objects to explain (a few: the cost is ``n_bins + 1`` predictions each).
    n_bins : int
        Equal phase bins.
    target : array of int, optional
        Output column to explain per object; default the predicted class
        (column 0 for a regressor).

    Returns
    -------
    dict
        ``attribution`` (N, n_bins): the output with all epochs minus the output
        without the bin's epochs (positive: the bin supported the prediction; NaN
        where a bin held no epoch or the occluded curve could not be represented);
        ``bin_edges`` (n_bins + 1,); ``period`` (N,); ``target`` (N,); ``base`` (N,).
    """
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    lcs = fill_periods(lcs, period=estimator.period, options=estimator.period_options)
    base = estimator.predict_raw(lcs).outputs
    n = len(lcs)
    if target is None:
        target = np.zeros(n, int)
        ok = np.isfinite(base).all(axis=1)
        target[ok] = np.argmax(base[ok], axis=1) if base.shape[1] > 1 else 0
    target = np.asarray(target, int)
    periods = lcs.objects["period"].to_numpy(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    curves: list[LightCurve] = []
    rows: list[int] = []
    slots: list[tuple[int, int]] = []
    for i, lc in enumerate(lcs):
        if not np.isfinite(periods[i]) or periods[i] <= 0:
            continue
        which = np.minimum((phase_of(lc.time, periods[i]) * n_bins).astype(int), n_bins - 1)
        for k in range(n_bins):
            keep = which != k
            if keep.all() or not keep.any():
                continue
            curves.append(
                LightCurve(
                    time=lc.time[keep],
                    mag=lc.mag[keep],
                    err=lc.err[keep],
                    band=lc.band[keep],
                    id=f"{lc.id}#{k}",
                    meta=lc.meta,
                )
            )
            rows.append(i)
            slots.append((i, k))
    attribution = np.full((n, n_bins), np.nan)
    base_target = base[np.arange(n), target]
    if curves:
        objects = lcs.objects.iloc[rows].reset_index(drop=True).drop(columns=["id"])
        occluded = LightCurveSet.from_lightcurves(curves, objects=objects, meta=lcs.meta)
        out = estimator.predict_raw(occluded).outputs
        for j, (i, k) in enumerate(slots):
            attribution[i, k] = base_target[i] - out[j, target[i]]
    return {
        "attribution": attribution,
        "bin_edges": edges,
        "period": periods,
        "target": target,
        "base": base_target,
    }


def point_attribution(phase: np.ndarray, attribution: np.ndarray) -> np.ndarray:
    """Spread one object's bin attributions onto its epochs (by the bin each phase is in).

    Examples
    --------
    >>> point_attribution(np.array([0.05, 0.6, 0.95]), np.array([1.0, 2.0])).tolist()
    [1.0, 2.0, 2.0]
    """
    n_bins = len(attribution)
    which = np.minimum((np.asarray(phase) * n_bins).astype(int), n_bins - 1)
    return np.asarray(attribution, float)[which]
