"""Inverse-density weights of a continuous target (monti2024).

Training weights its loss by them (:mod:`skyclass.augment.balance` hands
:func:`density_weights` on) and the weighted regression metrics weight test
objects by them (:func:`skyclass.evaluate.metrics.regression_summary`), so they
live below both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import gaussian_kde

from skyclass.exceptions import DataError

__all__ = ["density_weights"]


def _norm_mean1(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return w / ref.mean()


def _norm_max1(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return w / ref.max()


def _norm_minmax(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    lo, hi = ref.min(), ref.max()
    if hi == lo:
        return np.ones_like(w)
    return 0.01 + 0.99 * (w - lo) / (hi - lo)


def _norm_none(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return w


_NORMALIZATIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mean1": _norm_mean1,
    "max1": _norm_max1,
    "minmax": _norm_minmax,
    "none": _norm_none,
}


def density_weights(
    values: Sequence[float] | np.ndarray,
    *,
    bandwidth: str | float = "scott",
    normalize: str = "mean1",
    min_density: float | None = None,
    at: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """monti2024's sample weights for a continuous target: weight ∝ 1 / KDE density.

    A Gaussian kernel density estimate (:class:`scipy.stats.gaussian_kde`) of
    ``values`` (e.g. training [Fe/H]) is evaluated at each value; its inverse
    is the weight, so objects in sparse tails count more than those at the peak.

    The paper says only that the weight is "inversely proportional to the
    estimated normalized density" and plots normalised weights; its code
    (LorenzoMonti/metallicity_rrls) multiplies them by 1/σ² of [Fe/H] and
    min-max scales the product to [0.01, 1]. Here ``normalize="mean1"``
    (default) scales the weights to mean 1 over ``values``, which keeps a
    weighted loss on the scale of the unweighted one; ``"minmax"`` reproduces
    the code's scaling (without the 1/σ² factor, which the caller can apply).

    Parameters
    ----------
    values : array_like of float
        Target values the density is estimated from (training objects only).
    bandwidth : "scott", "silverman" or float
        Kernel width: a rule of :class:`~scipy.stats.gaussian_kde`, or a width
        in the units of ``values`` (e.g. 0.2 dex). Note a float here is the
        absolute width, not scipy's factor on the standard deviation.
    normalize : {"mean1", "max1", "minmax", "none"}
        Scaling of the weights, computed on ``values``: mean 1; maximum 1;
        linear map of [min, max] to [0.01, 1]; raw 1 / density.
    min_density : float, optional
        Floor on the density (per unit of ``values``) so isolated outliers do
        not get huge weights; the code above caps tails the same way.
    at : array_like of float, optional
        Evaluate the weights here instead (e.g. validation objects, for a
        weighted metric), with the density and scaling fitted on ``values``.

    Returns
    -------
    ndarray of float
        One weight per value of ``values`` (or of ``at``).

    Raises
    ------
    DataError
        If fewer than two finite values are given or they are all equal.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> feh = rng.normal(-1.5, 0.4, 500)
    >>> w = density_weights(feh)
    >>> round(float(w.mean()), 6), bool(w[np.argmin(abs(feh + 1.5))] < w[np.argmax(feh)])
    (1.0, True)
    """
    x = np.asarray(values, dtype=float).reshape(-1)
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise DataError(
            "density weights need at least two values, all finite; drop objects without a "
            "target first"
        )
    if np.ptp(x) == 0:
        raise DataError("all values are equal: their density is undefined; use equal weights")
    try:
        norm = _NORMALIZATIONS[normalize]
    except KeyError:
        raise ValueError(
            f"unknown normalize={normalize!r}; choose one of {list(_NORMALIZATIONS)}"
        ) from None
    if isinstance(bandwidth, str):
        if bandwidth not in ("scott", "silverman"):
            raise ValueError(
                f"unknown bandwidth={bandwidth!r}; use 'scott', 'silverman' or a float"
            )
        bw_method: str | float = bandwidth
    else:
        if not bandwidth > 0:
            raise ValueError(f"bandwidth must be positive, got {bandwidth}")
        bw_method = float(bandwidth) / float(np.std(x, ddof=1))
    kde = gaussian_kde(x, bw_method=bw_method)

    def weight(v: np.ndarray) -> np.ndarray:
        density = kde(v)
        if min_density is not None:
            density = np.maximum(density, min_density)
        return 1.0 / density

    ref = weight(x)
    if at is None:
        return norm(ref, ref)
    return norm(weight(np.asarray(at, dtype=float).reshape(-1)), ref)
