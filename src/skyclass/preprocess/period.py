"""Period search: Lomb–Scargle (nifty-ls, astropy as reference), multi-band, refined.

The search runs in three stages:

1. **Periodogram** on a uniform frequency grid, one band at a time with the chosen
   back end (``METHODS``: ``"nifty"`` — nifty-ls, the default — or ``"astropy"``,
   the reference). Bands share one frequency: their powers are combined weighted
   by each band's variance, i.e. the total fraction of χ² explained, as in a
   multi-band model with a free mean and amplitude per band. Very large grids
   are computed in chunks, keeping only the peaks, so memory stays bounded.
2. **Candidates**: the ``top_k`` highest local maxima, each with its alias flags
   relative to the best (``half``: P/2, ``double``: 2P, ``1day`` / ``2day``: one or two
   cycles per solar or sidereal day away, within 1.5 grid steps).
3. **Refinement**: each candidate, and twice its period, is refined on a fine grid
   with a multi-harmonic model (``n_harmonics`` per band, shared frequency) and
   then to machine precision by parabolic steps; the candidate with the least
   multi-harmonic χ² wins, where twice the period has to beat the period itself
   by a clear margin (eclipsing binaries, whose Lomb–Scargle peak sits at P/2).

``search="exact"`` runs these stages as written, the reference. ``search="fast"``,
the default, finds the same candidates without the whole fine grid: the periodogram on a coarse
grid (about two points per peak width), then the fine grid, evaluated directly, only
within one coarse step of the highest coarse maxima, round after round until no
coarse maximum left could hide a higher peak (the coarse transforms by FINUFFT, with
plans kept from one curve to the next); its refinement evaluates the same models from
weighted trigonometric sums instead of design matrices, and its polishing shrinks the
spacing faster where a parabola's vertex wins, to the same tolerance. Both return
the same period to far better than 1e-4 relative on the simulated set of
``tests/test_period.py``.

Examples
--------
>>> import numpy as np
>>> from skyclass import LightCurve
>>> rng = np.random.default_rng(1)
>>> t = np.sort(rng.uniform(0, 300, 200))
>>> lc = LightCurve(time=t, mag=15 + 0.3 * np.sin(2 * np.pi * t / 0.61) + rng.normal(0, .02, 200),
...                 err=np.full(200, 0.02), band="V")
>>> round(find_period(lc).period, 4)
0.61
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pandas as pd

from skyclass.config import Config
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet

__all__ = [
    "METHODS",
    "SEARCHES",
    "FrequencyGrid",
    "PeriodConfig",
    "PeriodResult",
    "PeriodSearch",
    "fill_periods",
    "find_period",
    "frequency_grid",
    "harmonic_chi2",
    "log10_fap_baluev",
    "period_table",
    "periodogram",
]

_DAY_ALIAS = 1.0027379  # d^-1: one cycle per sidereal day, the sampling alias of the ground
#: d^-1: one cycle per sidereal day (a field observed at the same hour angle night after
#: night) and per solar day (observed at the same clock time): the two one-day aliases.
_DAY_ALIASES = (_DAY_ALIAS, 1.0)
#: Frequencies of a regular grid whose phasors follow by recurrence from one exact
#: start (:func:`harmonic_chi2`): rounding does not build up over a long grid.
_RESTART = 64
#: FINUFFT plans of the coarse periodogram, per thread (:func:`_type1_plan`).
_PLANS = threading.local()


# ----------------------------------------------------------------- back ends
def _power_nifty(t, y, dy, fmin, df, n, nterms, eps=1e-9):
    import nifty_ls

    backend = "finufft" if nterms == 1 else "finufft_chi2"
    # nifty-ls's grid runs fmin + k*df, k < Nf, like ours.
    res = nifty_ls.lombscargle(
        t,
        y,
        dy,
        fmin=fmin,
        fmax=fmin + df * (n - 1),
        Nf=n,
        nterms=nterms,
        backend=backend,
        finufft_kwargs={"eps": eps},
    )
    return np.asarray(res.power, dtype=np.float64)


def _power_astropy(t, y, dy, fmin, df, n, nterms, eps=None):
    from astropy.timeseries import LombScargle

    freq = fmin + df * np.arange(n)
    ls = LombScargle(t, y, dy, nterms=nterms)
    method = "fast" if nterms == 1 else "fastchi2"
    return np.asarray(ls.power(freq, method=method, assume_regular_frequency=True), np.float64)


#: Periodogram back ends: ``power(t, y, dy, fmin, df, n, nterms, eps)``, standard
#: normalisation; ``eps``, the relative precision asked of nifty-ls, is ignored by astropy.
METHODS: dict[str, Callable[..., np.ndarray]] = {"nifty": _power_nifty, "astropy": _power_astropy}

#: Period searches (:func:`find_period`'s ``search``): what each computes on the grid.
SEARCHES: dict[str, str] = {
    "exact": "the periodogram on the whole grid, the refinement by design matrices",
    "fast": "a coarse periodogram, the fine grid near its highest peaks, trigonometric sums",
}


def _method(name: str) -> Callable[..., np.ndarray]:
    if name == "auto":
        try:
            import nifty_ls  # noqa: F401
        except ImportError:
            return METHODS["astropy"]
        return METHODS["nifty"]
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose one of {[*METHODS, 'auto']}") from None


# ----------------------------------------------------------- frequency grid
@dataclass(frozen=True)
class FrequencyGrid:
    """A uniform frequency grid ``fmin + k * df`` for ``k < n`` (frequencies in d⁻¹)."""

    fmin: float
    df: float
    n: int

    @property
    def fmax(self) -> float:
        return self.fmin + self.df * (self.n - 1)

    def frequencies(self) -> np.ndarray:
        return self.fmin + self.df * np.arange(self.n)


def frequency_grid(
    lc: LightCurve,
    *,
    fmin: float | None = None,
    fmax: float = 10.0,
    oversampling: float = 5.0,
) -> FrequencyGrid:
    """The default grid: from ``1/span`` to ``fmax`` with ``oversampling`` points per peak width.

    Parameters
    ----------
    lc : LightCurve
    fmin : float, optional
        Lowest frequency [d⁻¹]; default one cycle over the baseline.
    fmax : float
        Highest frequency [d⁻¹]; 10 d⁻¹ (periods down to 0.1 d) by default.
    oversampling : float
        Grid points per peak width ``1/span``.

    Examples
    --------
    >>> lc = LightCurve(time=[0, 50, 100], mag=[1, 2, 1], err=[.1, .1, .1], band="V")
    >>> g = frequency_grid(lc, fmax=1.0)
    >>> g.fmin, g.df, g.n
    (0.01, 0.002, 496)
    """
    span = lc.span
    if span <= 0:
        raise DataError("all epochs share one time: no period can be searched", object_id=lc.id)
    lo = 1.0 / span if fmin is None else float(fmin)
    df = 1.0 / (oversampling * span)
    if not (0 < lo < fmax):
        raise DataError(
            f"empty frequency range [{lo:g}, {fmax:g}] d^-1; fmax must exceed fmin and both be "
            "positive",
            object_id=lc.id,
        )
    return FrequencyGrid(fmin=lo, df=df, n=int(np.floor((fmax - lo) / df)) + 1)


# -------------------------------------------------------------- periodogram
def _bands(lc: LightCurve) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Per band: time, centred magnitude and errors (None when missing)."""
    names = lc.bands
    err = lc.err if lc.has_errors else None
    if len(names) == 1:
        return [(lc.time, lc.mag, err)]
    out = []
    for band in names:
        keep = lc.band == band
        out.append((lc.time[keep], lc.mag[keep], None if err is None else err[keep]))
    return out


def _chi2_0(y: np.ndarray, dy: np.ndarray | None) -> float:
    w = np.ones_like(y) if dy is None else 1.0 / dy**2
    mean = np.sum(w * y) / np.sum(w)
    return float(np.sum(w * (y - mean) ** 2))


def periodogram(
    lc: LightCurve,
    grid: FrequencyGrid | None = None,
    *,
    method: str = "auto",
    nterms: int = 1,
    min_per_band: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """Lomb–Scargle power on a grid, all bands combined at one shared frequency.

    The combined power is ``Σ_b χ²₀,b P_b(f) / Σ_b χ²₀,b``: the fraction of the
    total χ² about the band means that a per-band sinusoid explains.

    Parameters
    ----------
    lc : LightCurve
    grid : FrequencyGrid, optional
        Default :func:`frequency_grid`.
    method : str
        Key of ``METHODS`` or ``"auto"`` (nifty-ls when installed).
    nterms : int
        Harmonics in the model (1: classical Lomb–Scargle).
    min_per_band : int
        Bands with fewer epochs are left out.

    Returns
    -------
    frequency, power : ndarray

    Examples
    --------
    >>> t = np.linspace(0, 30, 90)
    >>> lc = LightCurve(time=t, mag=np.sin(2 * np.pi * t / 3), err=np.full(90, .1), band="g")
    >>> f, p = periodogram(lc, frequency_grid(lc, fmax=1.0))
    >>> round(float(f[np.argmax(p)]), 2)
    0.33
    """
    grid = frequency_grid(lc) if grid is None else grid
    power_fn = _method(method)
    total = np.zeros(grid.n)
    weight = 0.0
    for t, y, dy in _bands(lc):
        if t.size < max(min_per_band, 2 * nterms + 2):
            continue
        chi0 = _chi2_0(y, dy)
        if chi0 <= 0:
            continue
        total += chi0 * power_fn(t, y, dy, grid.fmin, grid.df, grid.n, nterms)
        weight += chi0
    if weight == 0:
        raise DataError(
            f"no band has {max(min_per_band, 2 * nterms + 2)} epochs with varying magnitudes; "
            "the curve is too short or constant for a period search",
            object_id=lc.id or None,
        )
    return grid.frequencies(), total / weight


# ------------------------------------------------- multi-harmonic refinement
def _harmonic_chi2(
    bands: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None]],
    freqs: np.ndarray,
    n_harmonics: int,
    trend: int = 0,
) -> np.ndarray:
    """χ² of per-band K-harmonic models sharing each frequency, for many frequencies.

    ``trend`` adds a polynomial of that degree in time per band (slow drifts).
    """
    chi2 = np.zeros(freqs.size)
    k = np.arange(1, n_harmonics + 1)
    for t, y, dy in bands:
        w = np.ones_like(y) if dy is None else 1.0 / dy**2
        arg = 2 * np.pi * freqs[:, None, None] * t[None, :, None] * k[None, None, :]
        u = (t - t.mean()) / max(np.ptp(t), 1e-12)
        poly = np.stack([u**d for d in range(trend + 1)], axis=1)
        base = np.broadcast_to(poly, (freqs.size, *poly.shape))
        x = np.concatenate([base, np.cos(arg), np.sin(arg)], axis=2)
        xw_t = (x * w[None, :, None]).transpose(0, 2, 1)
        a = xw_t @ x
        b = xw_t @ y
        a += np.eye(a.shape[-1]) * 1e-12 * np.trace(a, axis1=1, axis2=2)[:, None, None]
        beta = np.linalg.solve(a, b[..., None])[..., 0]
        chi2 += np.sum(w * y * y) - np.sum(b * beta, axis=1)
    return chi2


@lru_cache(maxsize=32)
def _normal_equations(n_harmonics: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The K-harmonic normal equations as linear maps of the trigonometric sums.

    Over the basis 1, cos kωt, sin kωt (k ≤ K), with C + iS = Σ w e^{imωt}, entry (a, b)
    of the normal matrix is ``½(C_|ja-jb| ± C_(ja+jb))`` between two cosines or two
    sines and ``½(±S_|ja-jb| + S_(ja+jb))`` between a cosine and a sine; the right-hand
    side holds ``Σ w y`` and the parts of ``Σ w y e^{ikωt}``. Returns the map of the
    sums at one frequency, ``[Re, Im of Σ w e^{imωt}, Re, Im of Σ w y e^{imωt}]`` for
    m = 1 … 2K, to the flattened matrix (with its ``1e-12`` trace on the diagonal) and
    right-hand side, and the parts of that vector proportional to ``Σ w`` and ``Σ w y``.
    """
    k, size = n_harmonics, 2 * n_harmonics + 1
    order = np.r_[0, np.arange(1, k + 1), np.arange(1, k + 1)]
    is_sin = np.r_[False, np.zeros(k, bool), np.ones(k, bool)]
    proj = np.zeros((8 * k, size * size + size))
    per_w = np.zeros(size * size + size)
    per_wy = np.zeros(size * size + size)
    for a in range(size):
        for b in range(size):
            e, diff, add = a * size + b, abs(order[a] - order[b]), order[a] + order[b]
            if is_sin[a] == is_sin[b]:
                terms = [(diff, 0, 0.5), (add, 0, -0.5 if is_sin[a] else 0.5)]
            else:
                sign = np.sign(order[a] - order[b]) * (1.0 if is_sin[a] else -1.0)
                terms = [(diff, 1, 0.5 * sign), (add, 1, 0.5)]
            for m, part, coef in terms:
                if m > 0:
                    proj[4 * (m - 1) + part, e] += coef
                elif part == 0:  # C_0 = Σ w, S_0 = 0
                    per_w[e] += coef
    diag = np.arange(size) * (size + 1)
    for table in (proj, per_w):
        table[..., diag] += 1e-12 * table[..., diag].sum(axis=-1, keepdims=True)
    for j in range(1, k + 1):
        proj[4 * (j - 1) + 2, size * size + j] = 1.0
        proj[4 * (j - 1) + 3, size * size + k + j] = 1.0
    per_wy[size * size] = 1.0
    return proj, per_w, per_wy


def harmonic_chi2(
    lc: LightCurve,
    freqs: np.ndarray | FrequencyGrid,
    n_harmonics: int,
    *,
    trend: int = 0,
    method: str = "design",
) -> np.ndarray:
    """χ² of the multi-band K-harmonic model at each frequency, all bands sharing it.

    Each band gets its own mean, ``n_harmonics`` sines and cosines of the frequency
    (and with ``trend`` a polynomial of that degree in time), fitted by weighted
    least squares; the χ² of the bands are summed. This is the model by which
    :func:`find_period` refines its peaks.

    Parameters
    ----------
    lc : LightCurve
    freqs : ndarray or FrequencyGrid
        Frequencies [d⁻¹]; under ``"sums"`` a regular grid is stepped through by
        recurrence, from an exact start every 64 frequencies.
    n_harmonics : int
        Harmonics of the model (K).
    trend : int
        Degree of a polynomial trend per band (``"design"`` only).
    method : {"design", "sums"}
        ``"design"``: the normal equations of the design matrix at each frequency;
        ``"sums"``: the same normal equations from weighted trigonometric sums
        (faster, no trend).

    Returns
    -------
    ndarray
        χ² per frequency.

    Examples
    --------
    >>> t = np.linspace(0, 20, 60)
    >>> lc = LightCurve(time=t, mag=15 + 0.3 * np.sin(2 * np.pi * t / 2.5),
    ...                 err=np.full(60, 0.01), band="V")
    >>> grid = FrequencyGrid(fmin=0.3, df=0.05, n=5)    # 0.3 ... 0.5 d⁻¹
    >>> chi2 = harmonic_chi2(lc, grid, 1)
    >>> np.round(chi2).tolist()    # the mean alone off the period, a perfect fit at 0.4 d⁻¹
    [26550.0, 26550.0, 0.0, 26550.0, 26550.0]
    >>> bool(np.allclose(harmonic_chi2(lc, grid, 1, method="sums"), chi2))
    True
    """
    if method not in ("design", "sums"):
        raise ValueError(f"unknown method {method!r}; choose one of ['design', 'sums']")
    bands = _bands(lc)
    grid = freqs if isinstance(freqs, FrequencyGrid) else None
    values = grid.frequencies() if grid is not None else np.asarray(freqs, dtype=np.float64)
    if method == "design":
        return _harmonic_chi2(bands, values, n_harmonics, trend)
    if trend:
        raise ValueError("method='sums' fits no trend; use method='design' for trend > 0")
    sums = _HarmonicSums(bands, n_harmonics)
    if grid is None:
        return sums(values)
    steps = min(grid.n, _RESTART)
    starts = grid.fmin + grid.df * steps * np.arange(-(-grid.n // steps))
    return sums.window(starts, grid.df, steps).T.ravel()[: grid.n]


class _HarmonicSums:
    """χ² of per-band K-harmonic models sharing a frequency, from weighted trigonometric sums.

    The χ² of :func:`harmonic_chi2` without a trend. The normal equations of a
    K-harmonic model need only ``Σ w e^{imωt}`` for ``m ≤ 2K`` and ``Σ w y e^{ikωt}``
    for ``k ≤ K`` (products of sines and cosines are sums of them), so no design
    matrix is built; what does not depend on the frequency is computed once.
    """

    def __init__(
        self, bands: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None]], n_harmonics: int
    ):
        self.k = n_harmonics
        self.proj, per_w, per_wy = _normal_equations(n_harmonics)
        self.bands = []
        for t, y, dy in bands:
            w = np.ones_like(y) if dy is None else 1.0 / dy**2
            # Real and imaginary parts of Σ_j c_j z_j, for c = w and c = w y, as one
            # real product with the phasors z viewed as interleaved (re, im) pairs.
            weights = np.zeros((2 * y.size, 4))
            weights[0::2, 0] = weights[1::2, 1] = w
            weights[0::2, 2] = weights[1::2, 3] = w * y
            # Shifting time changes only the phases, which the model fits anyway.
            constant = per_w * w.sum() + per_wy * np.sum(w * y)
            self.bands.append((t - t.mean(), weights, constant, np.sum(w * y * y)))

    def __call__(self, freqs: np.ndarray) -> np.ndarray:
        """χ² at each frequency [d⁻¹]."""
        phasors = [np.exp(2j * np.pi * freqs[:, None] * u[None, :]) for u, *_ in self.bands]
        return self.from_phasors(phasors)

    def window(self, first: np.ndarray, df: float, length: int) -> np.ndarray:
        """χ² at ``first[i] + l * df`` for ``l < length``, shape ``(length, first.size)``.

        The phasors of consecutive frequencies follow by one multiplication each.
        """
        phasors = []
        for u, *_ in self.bands:
            z = np.empty((length, first.size, u.size), dtype=complex)
            z[0] = np.exp(2j * np.pi * first[:, None] * u[None, :])
            step = np.exp(2j * np.pi * df * u)
            for m in range(1, length):
                np.multiply(z[m - 1], step, out=z[m])
            phasors.append(z.reshape(-1, u.size))
        return self.from_phasors(phasors).reshape(length, first.size)

    def from_phasors(self, phasors: Sequence[np.ndarray]) -> np.ndarray:
        """χ² from ``e^{iωt}`` per band (frequencies × epochs)."""
        k, size = self.k, 2 * self.k + 1
        chi2 = np.zeros(phasors[0].shape[0])
        for (_, weights, constant, yy), z in zip(self.bands, phasors, strict=True):
            n_freq, n_obs = z.shape
            powers = np.empty((n_freq, 2 * k, n_obs), dtype=complex)  # e^{imωt}, m = 1 … 2K
            powers[:, 0] = z
            for m in range(1, 2 * k):
                np.multiply(powers[:, m - 1], z, out=powers[:, m])
            sums = powers.view(np.float64).reshape(-1, 2 * n_obs) @ weights
            equations = sums.reshape(n_freq, 8 * k) @ self.proj + constant
            a = equations[:, : size * size].reshape(n_freq, size, size)
            b = equations[:, size * size :]
            beta = np.linalg.solve(a, b[..., None])[..., 0]
            chi2 += yy - np.einsum("ij,ij->i", b, beta)
        return chi2


Chi2 = Callable[[np.ndarray], np.ndarray]


def _fine_grid(chi2_of: Chi2, f0: float, half_width: float, steps: int = 21):
    """Least χ² on a grid of ``steps`` frequencies within ``f0 ± half_width``."""
    return _best_candidate(chi2_of, np.array([f0]), half_width, steps)


def _best_candidate(chi2_of: Chi2, centres: np.ndarray, half_width: float, steps: int = 21):
    """:func:`_fine_grid` around every centre in one evaluation: the winner, its χ², the spacing."""
    offsets = half_width * np.linspace(-1.0, 1.0, steps)
    freqs = centres[:, None] + offsets[None, :]
    if isinstance(chi2_of, _HarmonicSums):
        chi2 = chi2_of.window(freqs[:, 0], offsets[1] - offsets[0], steps).T
    else:
        chi2 = chi2_of(freqs.ravel()).reshape(freqs.shape)
    best = np.argmin(chi2, axis=1)
    i = int(np.argmin(chi2[np.arange(centres.size), best]))
    return float(freqs[i, best[i]]), float(chi2[i, best[i]]), float(freqs[i, 1] - freqs[i, 0])


def _zoom(chi2_of: Chi2, f: float, h: float, *, rel_tol: float = 1e-9) -> tuple[float, float]:
    """Polish a χ² minimum: five points around ``f``, keep the least, shrink the spacing.

    With trigonometric sums (the fast search), a parabola's vertex that wins shrinks the
    spacing 16 times instead of 4 (its error is a small fraction of the spacing, which the
    next five points still span twice over), and the next five points are evaluated with
    it, as their centre.
    """
    offsets = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    ahead = isinstance(chi2_of, _HarmonicSums)

    def five(centre: float, step: float) -> np.ndarray:
        if ahead:
            return chi2_of.window(np.array([centre - 2 * step]), step, 5)[:, 0]
        return chi2_of(centre + step * offsets)

    chi2 = five(f, h) if ahead else None
    best = float(chi2[2]) if ahead else float(chi2_of(np.array([f]))[0])
    while h > rel_tol * f:
        freqs = f + h * offsets
        if chi2 is None:
            chi2 = five(f, h)
        i = int(np.argmin(chi2))
        following, shrink = None, 0.25
        if 0 < i < 4:  # a parabola through the three points around the least
            c = chi2[i - 1 : i + 2]
            curvature = c[0] - 2 * c[1] + c[2]
            if curvature > 0:
                f_par = freqs[i] + 0.5 * h * (c[0] - c[2]) / curvature
                if ahead and h / 16 > rel_tol * f_par:
                    following = five(f_par, h / 16)
                    c_par = float(following[2])
                else:
                    c_par = float(chi2_of(np.array([f_par]))[0])
                if c_par < chi2[i]:
                    chi2[i], freqs[i] = c_par, f_par
                    shrink = 1 / 16 if ahead else 0.25
        if chi2[i] <= best:
            f, best = float(freqs[i]), float(chi2[i])
        chi2 = following if following is not None and f == f_par else None
        h *= shrink
    return f, best


def _chi2_function(bands, n_harmonics: int, trend: int, *, sums: bool = False) -> Chi2:
    """χ² of the K-harmonic model as a function of frequency (``sums``: trigonometric sums)."""
    if sums and trend == 0:
        return _HarmonicSums(bands, n_harmonics)
    return partial(_harmonic_chi2, bands, n_harmonics=n_harmonics, trend=trend)


def _doubling_test(
    bands, f, chi2, chi0, df, n_harmonics, trend, n_points, pvalue, min_gain, *, sums=False
):
    """Whether a model at ``f/2`` with 2K harmonics beats the nested K-harmonic one at ``f``.

    It must pass an F-test at ``pvalue`` and explain at least ``min_gain`` times the
    variance the model at ``f`` explains (with many precise points a tiny, real
    but irrelevant improvement is significant).
    """
    from scipy.special import fdtrc  # the F distribution's survival function

    chi2_dbl_of = _chi2_function(bands, 2 * n_harmonics, trend, sums=sums)
    f_dbl, c_dbl, h = _fine_grid(chi2_dbl_of, f / 2, df / 2, steps=11)
    n_bands = len(bands)
    added = 2 * n_harmonics * n_bands
    dof = n_points - n_bands * (1 + trend + 4 * n_harmonics)
    if dof <= 0 or c_dbl <= 0 or (chi2 - c_dbl) < min_gain * max(chi0 - chi2, 0.0):
        return False, f, chi2
    stat = ((chi2 - c_dbl) / added) / (c_dbl / dof)
    if fdtrc(added, dof, stat) >= pvalue:
        return False, f, chi2
    f_dbl, c_dbl = _zoom(chi2_dbl_of, f_dbl, h)
    return True, f_dbl, c_dbl


# --------------------------------------------------------- peaks and aliases
def _candidates_exact(lc, grid, *, method, nterms, top_k, min_sep, max_chunk):
    """The ``top_k`` periodogram peaks of each chunk of the whole grid."""
    cand_f: list[np.ndarray] = []
    cand_p: list[np.ndarray] = []
    for start in range(0, grid.n, max_chunk):
        n = min(max_chunk, grid.n - start)
        part = FrequencyGrid(fmin=grid.fmin + start * grid.df, df=grid.df, n=n)
        f, p = periodogram(lc, part, method=method, nterms=nterms)
        idx = _top_peaks(f, p, top_k, min_sep)
        cand_f.append(f[idx])
        cand_p.append(p[idx])
    return np.concatenate(cand_f), np.concatenate(cand_p)


def _periodogram_bands(lc: LightCurve, nterms: int, min_per_band: int = 5, bands=None):
    """The bands :func:`periodogram` combines, with their summed χ² about the means.

    ``bands``: :func:`_bands` of ``lc`` when already at hand.
    """
    chosen, chi0 = [], 0.0
    for t, y, dy in _bands(lc) if bands is None else bands:
        if t.size >= max(min_per_band, 2 * nterms + 2) and (c := _chi2_0(y, dy)) > 0:
            chosen.append((t, y, dy))
            chi0 += c
    if not chosen:
        periodogram(lc, FrequencyGrid(fmin=1.0, df=1.0, n=1), nterms=nterms)  # raises the reason
    return chosen, chi0


def _select_by_distance(idx: np.ndarray, power: np.ndarray, top_k: int, min_sep: int):
    """The ``top_k`` highest peaks, a lower one dropped within ``min_sep`` of a kept one.

    The rule of :func:`scipy.signal.find_peaks` with ``distance``, so that peaks found on
    parts of the grid are chosen as on the whole grid.
    """
    where = idx.tolist()
    kept: list[int] = []
    for i in np.argsort(power)[::-1].tolist():
        if all(abs(where[i] - where[j]) >= min_sep for j in kept):
            kept.append(i)
            if len(kept) == top_k:
                break
    return np.array(kept, dtype=int)


def _highest(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest values, largest first (no sort of the rest)."""
    if count < values.size:
        part = np.argpartition(-values, count - 1)[:count]
    else:
        part = np.arange(values.size)
    return part[np.argsort(-values[part], kind="stable")]


def _plan_size(n: int) -> int:
    """``n`` rounded up to a sixteenth of its octave: curves of similar spans share a plan."""
    quantum = 1 << max(0, n.bit_length() - 5)
    return -(-n // quantum) * quantum


def _type1_plan(n_modes: int, eps: float):
    """A type-1 FINUFFT plan for ``n_modes`` modes, kept for the next curve.

    Making a plan (the FFT plan and the kernel's Fourier series) costs about as much as
    the transforms of a short curve. Plans are not thread-safe: each thread keeps its
    own, those used last, at most 64 and 2²¹ modes in all (some 50 MB) besides the
    newest. A survey's baselines spread over a few octaves, some 16 sizes each
    (:func:`_plan_size`): 26 for OGLE-like spans of 950 to 2800 d, which fewer
    plans would make again and again, one curve in five.
    """
    import finufft
    from nifty_ls.finufft import get_finufft_max_threads

    plans = _PLANS.__dict__.setdefault("plans", {})
    # nifty-ls's choices: its thread heuristic (under the thread limit in force now, so a
    # plan made before a limit is not reused under it), upsampling 1.25, FFTW_ESTIMATE
    threads = min(max(1, n_modes >> 15), get_finufft_max_threads())
    key = (n_modes, eps, threads)
    plan = plans.pop(key, None)
    if plan is None:
        while plans and (len(plans) >= 64 or n_modes + sum(m for m, *_ in plans) > 1 << 21):
            plans.pop(next(iter(plans)))
        plan = finufft.Plan(1, (n_modes,), eps=eps, nthreads=threads, upsampfac=1.25, fftw=64)
    plans[key] = plan
    return plan


def _scratch(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Work arrays of :func:`_coarse_power`, three complex and five real rows of ``size``.

    Kept per thread up to 2¹⁸ columns: fresh arrays of this size cost more in page
    faults than the arithmetic done in them.
    """
    held = getattr(_PLANS, "scratch", None)
    if held is not None and held[0].shape[1] >= size:
        return held
    held = np.empty((3, size), dtype=complex), np.empty((5, size))
    if size <= 1 << 18:
        _PLANS.scratch = held
    return held


def _coarse_power(bands, chi0: float, fmin: float, df: float, n: int, *, eps: float):
    """The combined power of :func:`periodogram` (``nterms=1``) at ``fmin + k df``, ``k < n``.

    nifty-ls's three transforms, ``Σ w y e^{iωt}``, ``Σ w e^{iωt}`` and ``Σ w e^{2iωt}``
    (weights normalised, ``y`` centred), made with plans kept from curve to curve
    (:func:`_type1_plan`); the power is the fraction of χ² a sinusoid and a mean explain,
    solved from them without the phase τ.
    """
    size = _plan_size(n)
    plan = _type1_plan(size, eps)
    sums, work = _scratch(size)
    centre = fmin + (size // 2) * df  # frequency of the plan's mode 0
    total = np.zeros(n)
    for t, y, dy in bands:
        w = np.ones_like(y) if dy is None else 1.0 / dy**2
        w_sum = w.sum()
        w = w / w_sum
        y = y - w @ y
        u = t - t[0]
        for row, harmonic, c in ((0, 1, w * y), (1, 1, w), (2, 2, w)):
            if row != 1:
                plan.setpts(np.mod(2 * np.pi * harmonic * df * u + np.pi, 2 * np.pi) - np.pi)
            plan.execute(c * np.exp(2j * np.pi * harmonic * centre * u), out=sums[row, :size])
        s_y, s_1, s_2 = sums[:, :n]
        cr, ci, yc, ys = s_1.real, s_1.imag, s_y.real, s_y.imag
        tmp, cc, ss, cs, num = work[:, :n]
        # cc, ss, cs: the normal matrix of cos and sin about the mean; num / det: the power
        np.multiply(cr, cr, out=tmp)
        np.add(s_2.real, 1.0, out=cc)
        cc *= 0.5
        cc -= tmp
        np.subtract(1.0, s_2.real, out=ss)
        ss *= 0.5
        np.multiply(ci, ci, out=tmp)
        ss -= tmp
        np.multiply(s_2.imag, 0.5, out=cs)
        np.multiply(cr, ci, out=tmp)
        cs -= tmp
        np.multiply(ss, yc, out=num)
        num *= yc
        np.multiply(cs, yc, out=tmp)
        tmp *= ys
        tmp *= 2.0
        num -= tmp
        np.multiply(cc, ys, out=tmp)
        tmp *= ys
        num += tmp
        cc *= ss
        np.multiply(cs, cs, out=tmp)
        cc -= tmp
        with np.errstate(divide="ignore", invalid="ignore"):
            num /= cc
        num *= w_sum
        total += num
    total /= chi0
    return total


def _candidates_fast(lc, grid, *, method, nterms, top_k, min_sep, max_chunk, coarse_step, bands):
    """The peaks of :func:`_candidates_exact`, from a coarse grid and the fine one near its peaks.

    The periodogram is computed on every ``coarse_step``-th frequency of ``grid``; the
    fine grid is then evaluated exactly (the same model by trigonometric sums) within
    one coarse step of the highest coarse maxima, in rounds, until no coarse maximum
    left could hide a fine peak above the ``top_k``-th found. A fine peak is at most
    half a coarse step from a coarse sample, where a peak of width ``1/span`` keeps at
    least ``sinc²(step / 2 oversampling)`` of its height; 0.9 of that fraction is
    asked, a margin for noise and gaps that reshape real peaks. ``bands``: :func:`_bands`
    of ``lc``.
    """
    oversampling = 1.0 / (grid.df * lc.span)
    n_coarse = (grid.n - 1) // coarse_step + 1
    bands, chi0 = _periodogram_bands(lc, nterms, bands=bands)
    power_fn = _method(method)
    coarse_idx: list[np.ndarray] = []
    coarse_pow: list[np.ndarray] = []
    for start in range(0, n_coarse, max_chunk):
        n = min(max_chunk, n_coarse - start)
        first = grid.fmin + start * coarse_step * grid.df
        # The coarse powers only rank the maxima: a looser NUFFT precision will do.
        if power_fn is _power_nifty and nterms == 1:
            p = _coarse_power(bands, chi0, first, coarse_step * grid.df, n, eps=1e-6)
        else:
            p = (
                sum(
                    _chi2_0(y, dy)
                    * power_fn(t, y, dy, first, coarse_step * grid.df, n, nterms, eps=1e-6)
                    for t, y, dy in bands
                )
                / chi0
            )
        # Local maxima, the ends of each chunk included (their other side is unseen).
        rising = np.empty(n, dtype=bool)
        rising[0] = True
        np.greater(p[1:], p[:-1], out=rising[1:])
        rising[:-1] &= p[:-1] >= p[1:]
        m = np.flatnonzero(rising)
        coarse_idx.append((start + m) * coarse_step)
        coarse_pow.append(p[m])
    cidx = np.concatenate(coarse_idx)
    cpow = np.concatenate(coarse_pow)

    chi2_of = _HarmonicSums(bands, nterms)
    keep_ratio = 0.9 * np.sinc(coarse_step / (2 * oversampling)) ** 2
    fine_idx = np.empty(0, dtype=int)
    fine_pow = np.empty(0)
    length = 2 * coarse_step + 1
    done, batch = 0, 4 * top_k
    ranked = np.empty(0, dtype=int)  # the highest coarse maxima, highest first
    while done < cidx.size:
        # Two coarse maxima are two coarse steps apart at least: the windows
        # [c - step, c + step] of one round share no more than their ends.
        count = min(done + batch, cidx.size)
        if ranked.size < count:
            ranked = _highest(cpow, count)
        first = np.clip(cidx[ranked[done:count]] - coarse_step, 0, grid.n - length)
        done = count
        chi2 = chi2_of.window(grid.fmin + grid.df * first, grid.df, length)
        window = (first[None, :] + np.arange(length)[:, None]).ravel()
        # Each frequency once, as first computed: in this round, then in earlier ones.
        order = np.argsort(window, kind="stable")
        window, chi2 = window[order], chi2.ravel()[order]
        fresh = np.ones(window.size, dtype=bool)
        fresh[1:] = window[1:] != window[:-1]
        if fine_idx.size:
            known = fine_idx[np.minimum(np.searchsorted(fine_idx, window), fine_idx.size - 1)]
            fresh &= known != window
        fine_idx = np.concatenate([fine_idx, window[fresh]])
        fine_pow = np.concatenate([fine_pow, (chi0 - chi2[fresh]) / chi0])
        order = np.argsort(fine_idx, kind="stable")
        fine_idx, fine_pow = fine_idx[order], fine_pow[order]
        # Local maxima of the fine grid where both neighbours are known (never the ends).
        inner = np.flatnonzero(np.diff(fine_idx[:-1]) == 1) + 1
        inner = inner[fine_idx[inner + 1] == fine_idx[inner] + 1]
        p = fine_pow
        peaks = inner[(p[inner - 1] < p[inner]) & (p[inner] > p[inner + 1])]
        chosen = peaks[_select_by_distance(fine_idx[peaks], p[peaks], top_k, min_sep)]
        if chosen.size < top_k:
            batch *= 2
            continue
        # Every coarse maximum that may hide a peak above the top_k-th found, at once:
        # the top_k-th can only rise, so no further round is needed after these.
        needed = np.flatnonzero(cpow >= keep_ratio * p[chosen[-1]])
        if needed.size <= done:
            break
        ranked = needed[np.argsort(-cpow[needed], kind="stable")]
        batch = needed.size - done
    if chosen.size == 0:
        chosen = np.array([int(np.argmax(fine_pow))])
    return grid.fmin + grid.df * fine_idx[chosen], fine_pow[chosen]


def _top_peaks(freq: np.ndarray, power: np.ndarray, top_k: int, min_sep: int) -> np.ndarray:
    """Indices of the ``top_k`` highest local maxima at least ``min_sep`` grid steps apart."""
    from scipy.signal import find_peaks

    idx, _ = find_peaks(power, distance=max(1, min_sep))
    if idx.size == 0:
        idx = np.array([int(np.argmax(power))])
    return idx[np.argsort(power[idx])[::-1][:top_k]]


def _near_day_multiple(freqs: np.ndarray, tol: float) -> np.ndarray:
    """Whether each frequency lies within ``tol`` of 1, 2 or 3 cycles per sidereal day."""
    k = np.arange(1, 4) * _DAY_ALIAS
    return np.any(np.abs(freqs[:, None] - k[None, :]) < tol, axis=1)


def _alias_flags(f: float, f_best: float, tol: float) -> str:
    flags = []
    if abs(f - 2 * f_best) < 2 * tol:
        flags.append("half")
    if abs(f - 0.5 * f_best) < tol:
        flags.append("double")
    for n in (1, 2):
        if any(abs(abs(f - f_best) - n * day) < tol for day in _DAY_ALIASES):
            flags.append(f"{n}day")
    return ",".join(flags)


def log10_fap_baluev(z: float, n: int, fmax: float, t: np.ndarray) -> float:
    """log₁₀ of Baluev's (2008) false-alarm probability for standard-normalised power ``z``.

    FAP = 1 − (1 − F₁)·e^(−τ), with F₁ = (1 − z)^((N−3)/2) the single-frequency
    probability and τ the Davies bound over an effective baseline √(4π var t) up
    to ``fmax``. Computed in logarithms, so tiny probabilities keep their exponent
    (astropy's ``false_alarm_probability(method="baluev")`` underflows to 0).

    Parameters
    ----------
    z : float
        The highest Lomb–Scargle power, standard normalisation (0 < z < 1).
    n : int
        Epochs of the curve (NaN below 5).
    fmax : float
        The highest frequency searched [d⁻¹].
    t : ndarray
        The epochs' times [d].

    Returns
    -------
    float
        log₁₀ FAP, at most 0; NaN outside the range above.

    Examples
    --------
    >>> t = np.linspace(0, 100, 120)
    >>> round(log10_fap_baluev(0.5, 120, 5.0, t), 2)
    -14.01
    >>> log10_fap_baluev(0.05, 120, 5.0, t)
    0.0
    """
    from scipy.special import gammaln

    if not 0 < z < 1 or n < 5:
        return float("nan")
    nh, nk = n - 1, n - 3
    log_single = 0.5 * nk * np.log1p(-z)
    log_gamma = 0.5 * np.log(2.0 / nh) + gammaln(0.5 * nh) - gammaln(0.5 * (nh - 1))
    w = fmax * np.sqrt(4 * np.pi * np.var(t))
    log_tau = log_gamma + np.log(w) + 0.5 * (nk - 1) * np.log1p(-z) + 0.5 * np.log(0.5 * nh * z)
    small = np.logaddexp(log_single, log_tau)  # F1 + tau, exact to first order
    if small < np.log(1e-6):
        return float(small / np.log(10))
    fap = -np.expm1(np.log1p(-np.exp(log_single)) - np.exp(log_tau))
    return float(np.log10(min(fap, 1.0)))


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class PeriodResult:
    """Outcome of a period search on one object.

    Attributes
    ----------
    period, frequency : float
        Best period [d] and frequency [d⁻¹] after refinement.
    power : float
        Combined Lomb–Scargle power of the best candidate peak.
    log10_fap : float
        log₁₀ false-alarm probability of that power (Baluev 2008).
    chi2_ratio : float
        Multi-harmonic χ² of the best model over χ² about the band means.
    peaks : tuple of dict
        The candidate peaks: ``frequency, period, power, alias`` (flags relative to the best).
    doubled : bool
        Whether twice the periodogram's period was kept (eclipsing-binary-like shape).
    near_day : bool
        Whether the period lies within 0.005 d⁻¹ of 1, 2 or 3 cycles per sidereal day, where
        ground-based sampling puts the alias of slow trends: treat such a period with care.
    """

    period: float
    frequency: float
    power: float
    log10_fap: float
    chi2_ratio: float
    n_points: int
    bands: tuple[str, ...]
    method: str
    peaks: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    doubled: bool = False
    near_day: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Flat scalars for a table (peaks as ``peak{i}_period`` / ``peak{i}_alias``)."""
        # Not dataclasses.asdict: its deep copy of the peaks costs more than the search's
        # own bookkeeping, and the values are read, never changed.
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        peaks = d.pop("peaks")
        d["bands"] = ",".join(self.bands)
        for i, p in enumerate(peaks):
            d[f"peak{i}_period"] = p["period"]
            d[f"peak{i}_power"] = p["power"]
            d[f"peak{i}_alias"] = p["alias"]
        return d


def find_period(
    lc: LightCurve,
    *,
    search: str = "fast",
    method: str = "auto",
    fmin: float | None = None,
    fmax: float = 10.0,
    oversampling: float = 5.0,
    nterms: int = 1,
    n_harmonics: int = 3,
    trend: int = 0,
    top_k: int = 5,
    refine: bool = True,
    double_pvalue: float = 1e-6,
    double_min_gain: float = 0.1,
    exclude_day_aliases: bool = False,
    max_chunk: int = 2_000_000,
    coarse_oversampling: float = 2.0,
) -> PeriodResult:
    """Find the period of a (possibly multi-band) light curve.

    Parameters
    ----------
    lc : LightCurve
    search : str
        A key of ``SEARCHES``: ``"exact"`` computes the periodogram on the whole grid
        and evaluates the refinement model through its design matrix (the reference);
        ``"fast"`` (the default) finds the same peaks from a coarse grid and the fine
        grid near its highest maxima, and evaluates the same models by trigonometric sums.
    method : str
        Periodogram back end, a key of ``METHODS`` or ``"auto"``.
    fmin, fmax, oversampling
        The frequency grid (see :func:`frequency_grid`).
    nterms : int
        Harmonics of the periodogram model.
    n_harmonics : int
        Harmonics of the refinement model (per band).
    trend : int
        Degree of a per-band polynomial in time added to the refinement model.
    top_k : int
        Candidate peaks kept and refined.
    refine : bool
        Refine candidates with the multi-harmonic model; if False, the highest
        periodogram peak is returned as it lies on the grid.
    double_pvalue : float
        Twice the best period is kept when the model with the odd half-harmonics
        added beats the model at the period itself in an F-test at this p-value
        (eclipsing binaries with unequal minima), provided the baseline holds at
        least three cycles of the doubled period; 0 switches the test off.
    double_min_gain : float
        The doubled model must also remove at least this fraction of the χ² that
        the model at the period itself explains.
    exclude_day_aliases : bool
        Drop candidate peaks within ``max(3 df, 0.002 d⁻¹)`` of 1, 2 or 3 cycles per
        sidereal day (periods near 1, 1/2, 1/3 d), where ground-based sampling puts
        the alias of any slow trend; a genuine period there is then missed (kept
        only when every candidate is such an alias).
    max_chunk : int
        Frequencies per periodogram chunk (bounds memory on large grids).
    coarse_oversampling : float
        Points per peak width of the coarse grid of the ``"fast"`` search.

    Raises
    ------
    DataError
        For curves too short, constant, or with an empty frequency range.
    """
    if search not in SEARCHES:
        raise ValueError(f"unknown search {search!r}; choose one of {list(SEARCHES)}")
    grid = frequency_grid(lc, fmin=fmin, fmax=fmax, oversampling=oversampling)
    min_sep = max(1, int(oversampling))
    fast = search == "fast"
    coarse_step = int(oversampling // coarse_oversampling)
    options = dict(method=method, nterms=nterms, top_k=top_k, min_sep=min_sep, max_chunk=max_chunk)
    all_bands = _bands(lc)
    if fast and coarse_step > 1 and grid.n >= 8 * coarse_step:
        freqs, powers = _candidates_fast(
            lc, grid, coarse_step=coarse_step, bands=all_bands, **options
        )
    else:
        freqs, powers = _candidates_exact(lc, grid, **options)
    if exclude_day_aliases:
        near = _near_day_multiple(freqs, max(3 * grid.df, 2e-3))
        if not near.all():
            freqs, powers = freqs[~near], powers[~near]
    order = np.argsort(powers)[::-1][:top_k]
    freqs, powers = freqs[order], powers[order]
    bands = [b for b in all_bands if b[0].size >= 2 * n_harmonics + 2] or all_bands
    chi0 = sum(_chi2_0(y, dy) for _, y, dy in bands)
    best_f, best_chi2, doubled = float(freqs[0]), np.nan, False
    chi2_of = _chi2_function(bands, n_harmonics, trend, sums=fast)
    if refine:
        # Rank the candidates by multi-harmonic χ², polish the winner, then ask whether
        # twice its period (a model with the odd half-harmonics added) fits better.
        if fast:
            f_win, _, h_win = _best_candidate(chi2_of, freqs, grid.df)
        else:
            results = [_fine_grid(chi2_of, float(f0), grid.df) for f0 in freqs]
            f_win, _, h_win = min(results, key=lambda r: r[1])
        best_f, best_chi2 = _zoom(chi2_of, f_win, h_win)
        n_used = sum(b[0].size for b in bands)
        # Claiming twice the period needs several of its cycles within the baseline.
        if double_pvalue > 0 and lc.span * best_f / 2 >= 3:
            doubled, f_dbl, c_dbl = _doubling_test(
                bands,
                best_f,
                best_chi2,
                chi0,
                grid.df,
                n_harmonics,
                trend,
                n_used,
                double_pvalue,
                double_min_gain,
                sums=fast,
            )
            if doubled:
                best_f, best_chi2 = f_dbl, c_dbl
    tol = 1.5 * grid.df
    peaks = tuple(
        {
            "frequency": float(f),
            "period": float(1 / f),
            "power": float(p),
            "alias": _alias_flags(float(f), float(freqs[0]), tol),
        }
        for f, p in zip(freqs, powers, strict=True)
    )
    n_points = len(lc)
    return PeriodResult(
        period=1.0 / best_f,
        frequency=best_f,
        power=float(powers[0]),
        log10_fap=log10_fap_baluev(float(powers[0]), n_points, grid.fmax, lc.time),
        chi2_ratio=float(best_chi2 / chi0) if chi0 > 0 else float("nan"),
        n_points=n_points,
        bands=lc.bands,
        method=method,
        peaks=peaks,
        doubled=bool(doubled),
        near_day=bool(_near_day_multiple(np.array([best_f]), 5e-3)[0]),
    )


class PeriodSearch:
    """Period search as a pipeline step: ``transform`` one curve, ``transform_many`` a set.

    Parameters
    ----------
    **options
        Keyword arguments of :func:`find_period`.

    Examples
    --------
    >>> from skyclass.datasets import load_macho
    >>> table = PeriodSearch(fmax=2.0).transform_many(load_macho()[:2])
    >>> list(table.columns[:3])
    ['id', 'period', 'frequency']
    """

    def __init__(self, **options: Any):
        self.options = options

    def transform(self, lc: LightCurve) -> PeriodResult:
        """Search one curve (raises :class:`DataError` when it cannot be searched)."""
        return find_period(lc, **self.options)

    def transform_many(self, lcs: LightCurveSet, *, progress: bool = True) -> pd.DataFrame:
        """One row per object: ``id``, the :class:`PeriodResult` fields, ``period_error``.

        An object that cannot be searched gets NaN values and the reason in
        ``period_error``; the batch never stops for it.
        """
        from skyclass._util import progress as progress_bar

        rows = []
        for lc in progress_bar(lcs, total=len(lcs), desc="period", enabled=progress):
            try:
                row = {"id": lc.id, **self.transform(lc).as_dict(), "period_error": ""}
            except DataError as exc:
                row = {"id": lc.id, "period": np.nan, "period_error": exc.reason}
            rows.append(row)
        return pd.DataFrame(rows)


class PeriodConfig(Config):
    """Settings of :func:`find_period` plus the Fourier fit that follows it.

    Attributes
    ----------
    search, method, fmin, fmax, oversampling, nterms, n_harmonics, trend, top_k,
    double_pvalue, double_min_gain
        As in :func:`find_period`.
    fourier_harmonics : int or "auto"
        Harmonics of the Fourier decomposition at the found period ("auto": BIC).
    """

    search: str = "fast"
    method: str = "auto"
    fmin: float | None = None
    fmax: float = 10.0
    oversampling: float = 5.0
    nterms: int = 1
    n_harmonics: int = 3
    trend: int = 0
    top_k: int = 5
    double_pvalue: float = 1e-6
    double_min_gain: float = 0.1
    fourier_harmonics: int | str = "auto"

    def search_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`find_period`."""
        return self.model_dump(exclude={"fourier_harmonics"})


def period_table(
    lcs: LightCurveSet,
    config: PeriodConfig | None = None,
    *,
    progress: bool = True,
) -> pd.DataFrame:
    """Period, false-alarm probability, amplitude and Fourier parameters of every object.

    The Fourier decomposition (see :func:`skyclass.preprocess.fourier.fit_fourier`)
    is made at the found period in the band with most epochs, named in
    ``fourier_band``. An object that cannot be searched or fitted keeps its row,
    with NaN values and the reason in ``period_error`` / ``fourier_error``.

    Examples
    --------
    >>> from skyclass.datasets import load_macho
    >>> table = period_table(load_macho()[:2], PeriodConfig(fmax=2.0), progress=False)
    >>> {"id", "period", "log10_fap", "amplitude", "R21", "phi21"} <= set(table.columns)
    True
    """
    from skyclass.preprocess.fourier import fourier_features

    config = config or PeriodConfig()
    search = PeriodSearch(**config.search_options())
    periods = search.transform_many(lcs, progress=progress)
    rows = []
    for lc, period in zip(lcs, periods["period"].to_numpy(float), strict=True):
        counts = {b: int(np.sum(lc.band == b)) for b in lc.bands}
        band = max(counts, key=counts.get)
        row: dict[str, Any] = {"fourier_band": band, "fourier_error": ""}
        if np.isfinite(period):
            try:
                fit = fourier_features(lc, period, n_harmonics=config.fourier_harmonics, band=band)
                fit.pop("period")
                fit["fourier_n_points"] = fit.pop("n_points")
                row.update(fit)
            except DataError as exc:
                row["fourier_error"] = exc.reason
        else:
            row["fourier_error"] = "no period"
        rows.append(row)
    table = pd.concat([periods, pd.DataFrame(rows)], axis=1)
    if "label" in lcs.objects.columns:
        table.insert(1, "label", lcs.objects["label"].to_numpy())
    return table


def fill_periods(
    lcs: LightCurveSet,
    *,
    period: str = "auto",
    options: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> LightCurveSet:
    """``lcs`` with a finite ``period`` for every object where one can be found.

    Curves already folded (``meta["time_ref"] == "phase"``, e.g. the Gaia DR2
    folded RRab set) have time in cycles of their period: one without a finite
    period gets 1 under every choice of ``period``, since searching a phase finds
    nothing real, and the representations use such curves as they are.

    Parameters
    ----------
    lcs : LightCurveSet
        The objects; a ``period`` column is used where it is finite.
    period : {"auto", "column", "search"}
        The column, searched where it is missing (``"auto"``); the column only;
        or searched for every object.
    options : mapping, optional
        Settings of :class:`skyclass.preprocess.period.PeriodConfig`.
    progress : bool
        A progress bar over the searched objects.

    Raises
    ------
    DataError
        ``period="column"`` and the set has no ``period`` column (and is not folded).

    Examples
    --------
    >>> from skyclass import LightCurve, LightCurveSet
    >>> t = np.sort(np.random.default_rng(0).uniform(0, 30, 120))
    >>> lc = LightCurve(time=t, mag=15 + 0.3 * np.sin(2 * np.pi * t / 2.5), err=np.full(120, .01),
    ...                 band="V", id="a")
    >>> found = fill_periods(LightCurveSet.from_lightcurves([lc]))
    >>> round(float(found.objects["period"].iloc[0]), 2)
    2.5
    >>> phase = np.linspace(0, 1, 40, endpoint=False)
    >>> lc = LightCurve(time=phase, mag=15 + 0.3 * np.sin(2 * np.pi * phase), err=np.full(40, .01),
    ...                 band="V", id="f")
    >>> folded = LightCurveSet.from_lightcurves([lc], meta={"time_ref": "phase"})
    >>> fill_periods(folded, period="column").objects["period"].tolist()
    [1.0]
    """
    if period not in {"auto", "column", "search"}:
        raise ValueError(f"period must be 'auto', 'column' or 'search', got {period!r}")
    have = "period" in lcs.objects.columns
    values = lcs.objects["period"].to_numpy(float) if have else np.full(len(lcs), np.nan)
    if lcs.meta.get("time_ref") == "phase":
        return lcs.with_objects(
            lcs.objects.assign(period=np.where(np.isfinite(values), values, 1.0))
        )
    if period == "column":
        if not have:
            raise DataError("period='column' but the set has no 'period' column")
        return lcs
    missing = np.ones(len(lcs), bool) if period == "search" else ~np.isfinite(values)
    if missing.any():
        cfg = PeriodConfig(**dict(options or {}))
        found = PeriodSearch(**cfg.search_options()).transform_many(
            lcs.select(np.flatnonzero(missing)), progress=progress
        )
        values = values.copy()
        values[missing] = found["period"].to_numpy(float)
    return lcs.with_objects(lcs.objects.assign(period=values))
