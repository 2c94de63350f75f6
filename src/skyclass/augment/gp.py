"""Gaussian-process augmentation (kang2023 §2): fit a Matérn-5/2 GP, draw synthetic curves.

The model of one band of one object is

    mag(t) = μ + f(t) + ε(t),   f ~ GP(0, k),   ε ~ N(0, err² + jitter²),

with k(τ) = σ_f² (1 + √5τ/ℓ + 5τ²/3ℓ²) exp(−√5τ/ℓ) (Matérn-5/2), μ the
error-weighted mean magnitude (subtracted before the fit and held fixed: the
paper's "zero mean" GP is a GP on the magnitudes minus their mean), and σ_f, ℓ
(and the jitter when it is fitted) chosen by maximum likelihood.

How the fit is fast
-------------------
A Matérn-5/2 GP is exactly a linear Gaussian state-space model with a
three-component state (f, f', f''), so the Kalman filter gives the *exact*
likelihood in O(n) operations per curve instead of the O(n³) Cholesky of the
dense covariance (both agree to rounding; tests check it against the dense
formula and george). :func:`fit_gp_many` runs the filter for all curves, all
restarts and all finite-difference stencil points at once, as arrays of shape
(rows, epochs) padded to a common length with masked epochs, and takes damped
Newton steps on the log-parameters (gradient and Hessian from a central
finite-difference stencil, the absolute eigenvalues of the Hessian, a trust radius, a
trial point accepted only when the likelihood improves). Autograd through the
recursion was tried with torch and was ~20x slower than this forward-only
scheme on one core. Synthesis (a few dense solves per curve) uses the dense
posterior formulas of the paper (its eqs. 4–5) with numpy.

Degenerate bands (fewer than ``min_points`` epochs, constant magnitudes, a
likelihood that is not finite) are not fitted: they get a *noise-only* model,
flagged ``BandGP.fallback = reason`` and, on synthetic curves,
``meta["gp_fallback"]``. Points are never dropped to make a fit succeed, and a
synthetic curve is never its prototype (its times are new random draws).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from skyclass.config import Config
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve

__all__ = [
    "BandGP",
    "GPAugmenter",
    "GPConfig",
    "GPFit",
    "fit_gp",
    "fit_gp_many",
    "gp_log_likelihood",
    "gp_posterior",
    "matern52",
    "synthesize",
    "synthesize_many",
]

_SQRT5 = math.sqrt(5.0)
_LOG2PI = math.log(2.0 * math.pi)


class GPConfig(Config):
    """Settings of the GP fit and of the synthetic draws.

    Attributes
    ----------
    restarts : int
        Optimisations per band, started from length scales spaced
        logarithmically from the median cadence to the time span (σ_f starts
        at the standard deviation of the magnitudes); the best optimum is kept.
    max_iter : int
        Newton iterations per restart.
    tol : float
        Stop when an accepted step improves the log-likelihood by less than this.
    fit_jitter : bool, optional
        Fit an extra white-noise level added in quadrature to the errors.
        None (default): only for curves without errors, whose noise level must
        be fitted.
    min_points : int
        Fewest epochs in a band for a GP fit; fewer take the noise-only fallback.
    fd_step : float
        Step of the finite-difference stencil on the log-parameters.
    batch_rows : int
        Most filter rows (problems × stencil points) evaluated at once; bounds memory.
    phase_shift : bool
        Apply the paper's random phase shift to each synthetic curve.
    sample_jitter : float
        Added to the diagonal of the posterior covariance (times σ_f²) before
        its Cholesky factorisation.
    """

    restarts: int = Field(3, ge=1)
    max_iter: int = Field(30, ge=1)
    tol: float = Field(1e-6, gt=0)
    fit_jitter: bool | None = None
    min_points: int = Field(5, ge=3)
    fd_step: float = Field(1e-3, gt=0)
    batch_rows: int = Field(60_000, ge=100)
    phase_shift: bool = True
    sample_jitter: float = Field(1e-9, ge=0)


@dataclass(frozen=True)
class BandGP:
    """The fitted GP of one band of one object.

    Attributes
    ----------
    band : str
        Band name.
    sigma_f, length_scale : float
        Kernel amplitude (mag) and length scale (days); 0 and NaN for a fallback.
    jitter : float
        Fitted white noise added in quadrature to the errors (0 when not fitted).
    mean : float
        Weighted mean magnitude subtracted before the fit.
    noise : float
        Noise level used when the prototype has no errors: the jitter, or for a
        fallback the standard deviation of the magnitudes.
    log_likelihood : float
        Log marginal likelihood at the optimum (NaN for a fallback).
    n_points : int
        Epochs fitted.
    converged : bool
        The best restart met the tolerance within ``max_iter``.
    fallback : str, optional
        Why the band got the noise-only model instead of a GP; None when fitted.
    """

    band: str
    sigma_f: float
    length_scale: float
    jitter: float
    mean: float
    noise: float
    log_likelihood: float
    n_points: int
    converged: bool
    fallback: str | None = None


@dataclass(frozen=True)
class GPFit:
    """The fitted GPs of one object, one per band.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0, 100, 40))
    >>> lc = LightCurve(time=t, mag=15 + 0.3 * np.sin(t / 5) + rng.normal(0, 0.05, 40),
    ...                 err=np.full(40, 0.05), band="V", id="s1")
    >>> fit = fit_gp(lc)
    >>> fit.success, fit["V"].length_scale > 1
    (True, True)
    """

    id: str
    bands: tuple[BandGP, ...]

    def __getitem__(self, band: str) -> BandGP:
        for b in self.bands:
            if b.band == band:
                return b
        raise KeyError(f"no GP for band {band!r}; fitted bands: {[b.band for b in self.bands]}")

    @property
    def log_likelihood(self) -> float:
        """Sum of the bands' log marginal likelihoods (the bands are independent GPs)."""
        return float(sum(b.log_likelihood for b in self.bands))

    @property
    def success(self) -> bool:
        """Every band was fitted (no fallback) and converged."""
        return all(b.fallback is None and b.converged for b in self.bands)

    @property
    def reason(self) -> str:
        """Why ``success`` is False ("" when it is True)."""
        out = []
        for b in self.bands:
            if b.fallback is not None:
                out.append(f"{b.band}: {b.fallback}")
            elif not b.converged:
                out.append(f"{b.band}: not converged")
        return "; ".join(out)

    def params(self) -> dict[str, dict[str, float]]:
        """Per-band hyperparameters as plain floats (what synthetic curves record)."""
        keys = ("sigma_f", "length_scale", "jitter", "mean")
        return {b.band: {k: float(getattr(b, k)) for k in keys} for b in self.bands}


# --------------------------------------------------------------------------- kernel
def matern52(tau: np.ndarray, sigma_f: float, length_scale: float) -> np.ndarray:
    """Matérn-5/2 covariance at lags ``tau``.

    Examples
    --------
    >>> float(matern52(np.array(0.0), 0.5, 3.0))
    0.25
    """
    u = _SQRT5 * np.abs(tau) / length_scale
    return sigma_f**2 * (1.0 + u + u * u / 3.0) * np.exp(-u)


def _weighted_mean(mag: np.ndarray, err: np.ndarray) -> float:
    if np.all(np.isnan(err)):
        return float(np.mean(mag))
    w = 1.0 / err**2
    return float(np.sum(w * mag) / np.sum(w))


def gp_log_likelihood(
    time: Any,
    mag: Any,
    err: Any,
    *,
    sigma_f: float,
    length_scale: float,
    jitter: float = 0.0,
    mean: float | None = None,
    method: str = "dense",
) -> float:
    """Log marginal likelihood of one band (paper eq. 6).

    Parameters
    ----------
    time, mag, err : array_like
        Epochs, in time order for ``"kalman"``; ``err`` may be all NaN (then only
        ``jitter`` is noise).
    sigma_f, length_scale, jitter : float
        Hyperparameters.
    mean : float, optional
        Mean subtracted from ``mag``; by default the error-weighted mean.
    method : {"dense", "kalman"}
        ``"dense"``: the Cholesky factor of the covariance matrix (O(n³));
        ``"kalman"``: the exact state-space form that :func:`fit_gp` maximises (O(n)).

    Examples
    --------
    >>> t = np.array([0.0, 1.0, 3.0])
    >>> ll = gp_log_likelihood(t, [1.0, 1.2, 0.9], [0.1, 0.1, 0.1], sigma_f=0.2, length_scale=2)
    >>> round(ll, 6)
    0.907651
    >>> kalman = gp_log_likelihood(t, [1.0, 1.2, 0.9], [0.1, 0.1, 0.1], sigma_f=0.2,
    ...                            length_scale=2, method="kalman")
    >>> round(kalman, 6)
    0.907651
    """
    if method not in ("dense", "kalman"):
        raise ValueError(f"unknown method {method!r}; choose one of ['dense', 'kalman']")
    t = np.asarray(time, np.float64)
    m = np.asarray(mag, np.float64)
    e = np.asarray(err, np.float64)
    mu = _weighted_mean(m, e) if mean is None else mean
    if method == "kalman":
        return -float(
            _kalman_nll(
                np.array([np.log(sigma_f)]),
                np.array([np.log(length_scale)]),
                np.array([np.log(jitter)]) if jitter else None,
                t[None],
                (m - mu)[None],
                np.where(np.isnan(e), 0.0, e**2)[None],
                np.ones((1, t.size)),
            )[0]
        )
    var = np.where(np.isnan(e), 0.0, e**2) + jitter**2
    cov = matern52(t[:, None] - t[None, :], sigma_f, length_scale) + np.diag(var)
    chol = np.linalg.cholesky(cov)
    a = np.linalg.solve(chol, m - mu)
    return float(-0.5 * a @ a - np.log(np.diag(chol)).sum() - 0.5 * t.size * _LOG2PI)


# --------------------------------------------------------------------------- Kalman filter
def _kalman_nll(
    log_sf: np.ndarray,
    log_ell: np.ndarray,
    log_jit: np.ndarray | None,
    t: np.ndarray,
    y: np.ndarray,
    var: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """Negative log-likelihood of many padded series at once (rows × epochs).

    Exact state-space form of the Matérn-5/2 GP. The state covariance is
    carried as D = P − P∞ (P∞ the stationary covariance), so the prediction is
    D ← A D Aᵀ with A = e^{−λΔt}(I + NΔt + N²Δt²/2), N = F + λI nilpotent;
    no process-noise matrix with its cancellations is needed. Masked epochs
    (padding) have Δt = 0 and skip the update.
    """
    rows, n = t.shape
    s2 = np.exp(2.0 * log_sf)
    lam = _SQRT5 * np.exp(-log_ell)
    l2 = lam * lam
    l3 = l2 * lam
    l4 = l2 * l2
    kappa = s2 * l2 / 3.0
    pinf = (s2, np.zeros(rows), -kappa, kappa, np.zeros(rows), s2 * l4)  # 00 01 02 11 12 22
    noise = var if log_jit is None else var + np.exp(2.0 * log_jit)[:, None]
    # Stationary start: D = 0, m = 0.
    d00 = np.zeros(rows)
    d01 = np.zeros(rows)
    d02 = np.zeros(rows)
    d11 = np.zeros(rows)
    d12 = np.zeros(rows)
    d22 = np.zeros(rows)
    m0 = np.zeros(rows)
    m1 = np.zeros(rows)
    m2 = np.zeros(rows)
    nll = np.zeros(rows)
    dts = np.zeros((rows, n))
    dts[:, 1:] = np.diff(t, axis=1)
    for i in range(n):
        dt = dts[:, i]
        if i > 0:
            e = np.exp(-lam * dt)
            ld = lam * dt
            h = 0.5 * dt * dt
            a00 = e * (1.0 + ld + l2 * h)
            a01 = e * (dt + lam * dt * dt)
            a02 = e * h
            a10 = -e * l3 * h
            a11 = e * (1.0 + ld - 2.0 * l2 * h)
            a12 = e * (dt - lam * h)
            a20 = e * (-l3 * dt + l4 * h)
            a21 = e * (-3.0 * l2 * dt + 2.0 * l3 * h)
            a22 = e * (1.0 - 2.0 * ld + l2 * h)
            m0, m1, m2 = (
                a00 * m0 + a01 * m1 + a02 * m2,
                a10 * m0 + a11 * m1 + a12 * m2,
                a20 * m0 + a21 * m1 + a22 * m2,
            )
            # B = A D (rows of A times D), then D = B Aᵀ (symmetric part only)
            b00 = a00 * d00 + a01 * d01 + a02 * d02
            b01 = a00 * d01 + a01 * d11 + a02 * d12
            b02 = a00 * d02 + a01 * d12 + a02 * d22
            b10 = a10 * d00 + a11 * d01 + a12 * d02
            b11 = a10 * d01 + a11 * d11 + a12 * d12
            b12 = a10 * d02 + a11 * d12 + a12 * d22
            b20 = a20 * d00 + a21 * d01 + a22 * d02
            b21 = a20 * d01 + a21 * d11 + a22 * d12
            b22 = a20 * d02 + a21 * d12 + a22 * d22
            d00 = b00 * a00 + b01 * a01 + b02 * a02
            d01 = b00 * a10 + b01 * a11 + b02 * a12
            d02 = b00 * a20 + b01 * a21 + b02 * a22
            d11 = b10 * a10 + b11 * a11 + b12 * a12
            d12 = b10 * a20 + b11 * a21 + b12 * a22
            d22 = b20 * a20 + b21 * a21 + b22 * a22
        p00 = d00 + pinf[0]
        p01 = d01 + pinf[1]
        p02 = d02 + pinf[2]
        s = p00 + noise[:, i]
        v = y[:, i] - m0
        mk = mask[:, i]
        g0 = mk * p00 / s
        g1 = mk * p01 / s
        g2 = mk * p02 / s
        m0 = m0 + g0 * v
        m1 = m1 + g1 * v
        m2 = m2 + g2 * v
        d00 = d00 - g0 * g0 * s
        d01 = d01 - g0 * g1 * s
        d02 = d02 - g0 * g2 * s
        d11 = d11 - g1 * g1 * s
        d12 = d12 - g1 * g2 * s
        d22 = d22 - g2 * g2 * s
        nll += mk * 0.5 * (v * v / s + np.log(s) + _LOG2PI)
    return nll


# --------------------------------------------------------------------------- fitting
@dataclass
class _Problem:
    """One band of one object, prepared for the filter."""

    curve: int
    band: str
    t: np.ndarray
    y: np.ndarray
    var: np.ndarray
    mean: float
    scale: float
    has_err: bool
    fallback: str | None


def _prepare(curves: Sequence[LightCurve], cfg: GPConfig) -> list[_Problem]:
    out = []
    for i, lc in enumerate(curves):
        if not isinstance(lc, LightCurve):
            raise DataError(f"item {i} is a {type(lc).__name__}, not a LightCurve")
        for band in lc.bands:
            keep = lc.band == band
            t, m, e = lc.time[keep], lc.mag[keep], lc.err[keep]
            has_err = lc.has_errors
            mean = _weighted_mean(m, e)
            y = m - mean
            scale = float(np.std(m))
            fallback = None
            if t.size < cfg.min_points:
                fallback = f"too few points ({t.size} < min_points={cfg.min_points})"
            elif scale == 0.0:
                fallback = "constant magnitudes (zero variance)"
            elif t[-1] == t[0]:
                fallback = "all epochs at one time"
            var = e**2 if has_err else np.zeros_like(t)
            out.append(_Problem(i, band, t, y, var, mean, scale, has_err, fallback))
    return out


def _stencil(d: int, h: float) -> np.ndarray:
    """Offsets of the central finite-difference stencil: centre, ±e_i, ±e_i ±e_j."""
    pts = [np.zeros(d)]
    for i in range(d):
        for s in (1.0, -1.0):
            p = np.zeros(d)
            p[i] = s * h
            pts.append(p)
    for i in range(d):
        for j in range(i + 1, d):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                p = np.zeros(d)
                p[i], p[j] = si * h, sj * h
                pts.append(p)
    return np.array(pts)


def _derivatives(f: np.ndarray, d: int, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value, gradient and Hessian from stencil values ``f`` (problems × points)."""
    f0 = f[:, 0]
    g = np.empty((f.shape[0], d))
    hess = np.empty((f.shape[0], d, d))
    for i in range(d):
        fp, fm = f[:, 1 + 2 * i], f[:, 2 + 2 * i]
        g[:, i] = (fp - fm) / (2 * h)
        hess[:, i, i] = (fp - 2 * f0 + fm) / h**2
    k = 1 + 2 * d
    for i in range(d):
        for j in range(i + 1, d):
            fpp, fpm, fmp, fmm = f[:, k], f[:, k + 1], f[:, k + 2], f[:, k + 3]
            hess[:, i, j] = hess[:, j, i] = (fpp - fpm - fmp + fmm) / (4 * h * h)
            k += 4
    return f0, g, hess


class _Batch:
    """Padded arrays of a group of problems with the same number of parameters."""

    def __init__(self, problems: list[_Problem], d: int, cfg: GPConfig):
        n = max(p.t.size for p in problems)
        k = len(problems)
        self.d = d
        self.cfg = cfg
        self.t = np.zeros((k, n))
        self.y = np.zeros((k, n))
        self.var = np.ones((k, n))
        self.mask = np.zeros((k, n))
        lo = np.empty((k, d))
        hi = np.empty((k, d))
        self.x0 = np.empty((k, cfg.restarts, d))
        for i, p in enumerate(problems):
            m = p.t.size
            self.t[i, :m] = p.t
            self.t[i, m:] = p.t[-1]  # padding: Δt = 0, masked
            self.y[i, :m] = p.y
            self.var[i, :m] = p.var
            self.mask[i, :m] = 1.0
            dt = np.diff(p.t)
            span = p.t[-1] - p.t[0]
            cadence = float(np.median(dt[dt > 0]))
            min_dt = float(dt[dt > 0].min())
            lo[i, :2] = np.log([1e-4 * p.scale, 0.1 * min_dt])
            hi[i, :2] = np.log([10.0 * p.scale, 10.0 * span])
            ells = (
                np.geomspace(cadence, span, cfg.restarts + 1)[:-1]
                if cfg.restarts > 1
                else [math.sqrt(cadence * span)]
            )
            self.x0[i, :, 0] = math.log(p.scale)
            self.x0[i, :, 1] = np.log(ells)
            if d == 3:
                lo[i, 2], hi[i, 2] = math.log(1e-6 * p.scale), math.log(10.0 * p.scale)
                self.x0[i, :, 2] = math.log(0.5 * p.scale)
        self.lo, self.hi = lo, hi

    def nll(self, idx: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Negative log-likelihood of problems ``idx`` at parameters ``x`` (one row each)."""
        out = np.empty(idx.size)
        step = max(1, self.cfg.batch_rows)
        for s in range(0, idx.size, step):
            sl = slice(s, s + step)
            j, xs = idx[sl], x[sl]
            out[sl] = _kalman_nll(
                xs[:, 0],
                xs[:, 1],
                xs[:, 2] if self.d == 3 else None,
                self.t[j],
                self.y[j],
                self.var[j],
                self.mask[j],
            )
        return out


def _newton(batch: _Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton from every restart of every problem; returns the best per problem."""
    cfg = batch.cfg
    d = batch.d
    k, r = batch.x0.shape[:2]
    prob = np.repeat(np.arange(k), r)
    x = batch.x0.reshape(k * r, d).copy()
    lo, hi = batch.lo[prob], batch.hi[prob]
    x = np.clip(x, lo, hi)
    offsets = _stencil(d, cfg.fd_step)
    npts = len(offsets)

    def stencil_eval(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pts = (x[rows][:, None, :] + offsets[None]).reshape(-1, d)
        f = batch.nll(np.repeat(prob[rows], npts), pts).reshape(rows.size, npts)
        return _derivatives(f, d, cfg.fd_step)

    all_rows = np.arange(k * r)
    f, g, hess = stencil_eval(all_rows)
    radius = np.full(k * r, 1.0)
    active = np.isfinite(f)
    converged = np.zeros(k * r, bool)
    n_iter = np.zeros(k * r, int)
    for _ in range(cfg.max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        n_iter[rows] += 1
        w, v = np.linalg.eigh(hess[rows])
        wabs = np.abs(w)
        floor = np.maximum(1e-6 * wabs.max(axis=1, keepdims=True), 1e-10)
        wabs = np.maximum(wabs, floor)
        gv = np.einsum("rij,ri->rj", v, g[rows])
        step = -np.einsum("rij,rj->ri", v, gv / wabs)
        norm = np.linalg.norm(step, axis=1)
        shrink = np.minimum(1.0, radius[rows] / np.maximum(norm, 1e-300))
        step *= shrink[:, None]
        trial = np.clip(x[rows] + step, lo[rows], hi[rows])
        moved = np.linalg.norm(trial - x[rows], axis=1)
        f_trial = batch.nll(prob[rows], trial)
        better = np.isfinite(f_trial) & (f_trial < f[rows])
        gain = np.where(better, f[rows] - f_trial, 0.0)
        acc = rows[better]
        rej = rows[~better]
        x[acc] = trial[better]
        radius[acc] = np.where(shrink[better] < 1.0, 2.0 * radius[acc], radius[acc])
        radius[rej] = 0.25 * np.minimum(radius[rej], np.maximum(moved[~better], 1e-12))
        done = (better & (gain < cfg.tol)) | (~better & (moved < 1e-7))
        converged[rows[done]] = True
        active[rows[done]] = False
        active[radius < 1e-8] = False
        if acc.size:
            fa, ga, ha = stencil_eval(acc)
            f[acc], g[acc], hess[acc] = fa, ga, ha
            small = np.all(np.abs(ga) < 1e-5 * np.maximum(1.0, np.abs(fa))[:, None], axis=1)
            converged[acc[small]] = True
            active[acc[small]] = False
    f = np.where(np.isfinite(f), f, np.inf).reshape(k, r)
    best = np.argmin(f, axis=1)
    pick = np.arange(k) * r + best
    return x[pick], -f[np.arange(k), best], converged[pick], n_iter[pick]


def fit_gp_many(
    curves: Sequence[LightCurve], *, config: GPConfig | None = None, **overrides: Any
) -> list[GPFit]:
    """Fit a Matérn-5/2 GP to every band of every curve, all at once.

    Parameters
    ----------
    curves : sequence of LightCurve
        Curves to fit; each band is an independent GP of its object.
    config : GPConfig, optional
        Fit settings; keyword ``overrides`` replace single fields.

    Returns
    -------
    list of GPFit
        One per curve, in order: per-band hyperparameters, log-likelihood at
        the optimum, convergence and fallback reason.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> curves = []
    >>> for i, n in enumerate([30, 45]):
    ...     t = np.sort(rng.uniform(0, 50, n))
    ...     curves.append(LightCurve(time=t, mag=10 + np.sin(t) + rng.normal(0, .1, n),
    ...                              err=np.full(n, .1), band="g", id=str(i)))
    >>> fits = fit_gp_many(curves)
    >>> [f.id for f in fits], all(f.success for f in fits)
    (['0', '1'], True)
    """
    cfg = (config or GPConfig()).model_copy(update=overrides) if overrides else config or GPConfig()
    problems = _prepare(curves, cfg)
    results: list[BandGP | None] = [None] * len(problems)
    groups: dict[int, list[int]] = {2: [], 3: []}
    for j, p in enumerate(problems):
        if p.fallback is not None:
            continue
        jitter = (not p.has_err) if cfg.fit_jitter is None else cfg.fit_jitter
        groups[3 if jitter else 2].append(j)
    for d, members in groups.items():
        if not members:
            continue
        batch = _Batch([problems[j] for j in members], d, cfg)
        xbest, ll, conv, _ = _newton(batch)
        for row, j in enumerate(members):
            p = problems[j]
            if not np.isfinite(ll[row]):
                p.fallback = "log-likelihood not finite at every start"
                continue
            sf, ell = math.exp(xbest[row, 0]), math.exp(xbest[row, 1])
            jit = math.exp(xbest[row, 2]) if d == 3 else 0.0
            results[j] = BandGP(
                band=p.band,
                sigma_f=sf,
                length_scale=ell,
                jitter=jit,
                mean=p.mean,
                noise=jit,
                log_likelihood=float(ll[row]),
                n_points=int(p.t.size),
                converged=bool(conv[row]),
            )
    for j, p in enumerate(problems):
        if results[j] is None:
            results[j] = BandGP(
                band=p.band,
                sigma_f=0.0,
                length_scale=math.nan,
                jitter=0.0,
                mean=p.mean,
                noise=p.scale,
                log_likelihood=math.nan,
                n_points=int(p.t.size),
                converged=False,
                fallback=p.fallback,
            )
    out: list[list[BandGP]] = [[] for _ in curves]
    for p, res in zip(problems, results, strict=True):
        assert res is not None
        out[p.curve].append(res)
    return [GPFit(id=lc.id, bands=tuple(b)) for lc, b in zip(curves, out, strict=True)]


def fit_gp(lc: LightCurve, *, config: GPConfig | None = None, **overrides: Any) -> GPFit:
    """Fit one curve; the same as ``fit_gp_many([lc])[0]`` (see :func:`fit_gp_many`).

    Examples
    --------
    >>> lc = LightCurve(time=[0, 1, 2], mag=[1, 2, 1], err=[.1, .1, .1], band="g", id="x")
    >>> fit_gp(lc)["g"].fallback
    'too few points (3 < min_points=5)'
    """
    return fit_gp_many([lc], config=config, **overrides)[0]


# --------------------------------------------------------------------------- synthesis
def _as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise TypeError("pass rng= a numpy Generator or an integer seed (randomness is explicit)")
    return np.random.default_rng(rng)


def gp_posterior(
    t: np.ndarray, y: np.ndarray, var: np.ndarray, ts: np.ndarray, gp: BandGP
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and covariance of the GP at new times ``ts`` (kang2023 eqs. 4–5).

    Parameters
    ----------
    t : ndarray
        Observed times of one band.
    y : ndarray
        Magnitudes there minus ``gp.mean``.
    var : ndarray
        Their error variances (``err**2``; the fitted jitter is added).
    ts : ndarray
        Times to predict at.
    gp : BandGP
        The band's fitted GP (:func:`fit_gp`).

    Returns
    -------
    mean : ndarray, shape (len(ts),)
        Posterior mean, without ``gp.mean`` (add it back for magnitudes).
    cov : ndarray, shape (len(ts), len(ts))
        Posterior covariance of the noiseless curve.

    Examples
    --------
    >>> gp = BandGP(band="V", sigma_f=0.3, length_scale=5.0, jitter=0.0, mean=15.0,
    ...             noise=0.0, log_likelihood=0.0, n_points=3, converged=True)
    >>> t = np.array([0.0, 10.0, 20.0])
    >>> mean, cov = gp_posterior(t, np.array([0.2, -0.1, 0.3]), np.full(3, 1e-6), t, gp)
    >>> np.round(mean, 3).tolist(), bool(np.all(np.diag(cov) < 1e-5))
    ([0.2, -0.1, 0.3], True)
    """
    cov = matern52(t[:, None] - t[None, :], gp.sigma_f, gp.length_scale)
    cov[np.diag_indices_from(cov)] += var + gp.jitter**2
    chol = np.linalg.cholesky(cov)
    ks = matern52(ts[:, None] - t[None, :], gp.sigma_f, gp.length_scale)
    alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, y))
    v = np.linalg.solve(chol, ks.T)
    post = matern52(ts[:, None] - ts[None, :], gp.sigma_f, gp.length_scale) - v.T @ v
    return ks @ alpha, 0.5 * (post + post.T)


def synthesize(
    lc: LightCurve,
    fit: GPFit,
    *,
    rng: np.random.Generator | int,
    n: int | Mapping[str, int] | None = None,
    index: int = 0,
    config: GPConfig | None = None,
) -> LightCurve:
    """Draw one synthetic curve from the GP posterior of a prototype (kang2023 §2.2).

    For each band: ``n`` new times uniform at random within the prototype's
    span (by default as many as the prototype has in that band); magnitudes =
    a draw of the posterior GP at those times (posterior mean plus a Cholesky
    draw of the posterior covariance) plus observational noise N(0, σ_new²);
    σ_new = the posterior σ at the new times rescaled so that its mean equals
    the prototype's mean error. Without errors in the prototype the target
    mean is the fitted noise level (``BandGP.noise``) and the synthetic curve,
    like its prototype, records no errors (``err`` all NaN). A fallback band
    (no GP) gets its mean magnitude plus noise of that level.

    Then the random phase shift: every time (all bands alike) is moved by
    φ·P with φ ~ U(0, 1) when ``meta["period"]`` is known, otherwise by a
    random offset U(0, span); ``meta["gp_time_shift"]`` records it, so
    ``time - meta["gp_time_shift"]`` lies within the prototype's span.

    Parameters
    ----------
    lc : LightCurve
        Prototype.
    fit : GPFit
        Its fit from :func:`fit_gp_many`.
    rng : Generator or int
        Source of randomness (an int is a seed).
    n : int or mapping of band to int, optional
        Epochs per band of the synthetic curve.
    index : int
        Number of this draw: the id is ``f"{lc.id}~gp{index}"``.
    config : GPConfig, optional
        ``phase_shift`` and ``sample_jitter`` are read from it.

    Returns
    -------
    LightCurve
        The synthetic curve, with ``meta["synthetic"] = True``, ``meta["prototype"]``,
        ``meta["gp_params"]`` (and ``meta["gp_fallback"]`` for fallback bands).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0, 30, 25))
    >>> lc = LightCurve(time=t, mag=12 + 0.2 * np.cos(t) + rng.normal(0, .02, 25),
    ...                 err=np.full(25, .02), band="r", id="p")
    >>> s = synthesize(lc, fit_gp(lc), rng=1)
    >>> s.id, len(s), bool(np.isclose(s.err.mean(), 0.02)), s.meta["synthetic"]
    ('p~gp0', 25, True, True)
    """
    cfg = config or GPConfig()
    gen = _as_rng(rng)
    if fit.id != lc.id:
        raise DataError(
            f"fit is for object {fit.id!r}, not {lc.id!r}; pass the fit of this curve",
            object_id=lc.id or None,
        )
    has_err = lc.has_errors
    times, mags, errs, bands = [], [], [], []
    fallbacks = {}
    for band in lc.bands:
        gp = fit[band]
        keep = lc.band == band
        t, m, e = lc.time[keep], lc.mag[keep], lc.err[keep]
        count = t.size if n is None else int(n if isinstance(n, int) else n.get(band, t.size))
        ts = np.sort(gen.uniform(t[0], t[-1], count))
        target = float(np.mean(e)) if has_err else gp.noise
        if gp.fallback is not None:
            fallbacks[band] = gp.fallback
            mu = np.full(count, gp.mean)
            sig = np.full(count, target)
            f = mu
        else:
            var = e**2 if has_err else np.zeros_like(t)
            mean_f, post = gp_posterior(t, m - gp.mean, var, ts, gp)
            mu = mean_f + gp.mean
            post[np.diag_indices_from(post)] += cfg.sample_jitter * gp.sigma_f**2
            chol = np.linalg.cholesky(post)
            f = mu + chol @ gen.standard_normal(count)
            psig = np.sqrt(np.clip(np.diag(post), 0.0, None))
            # A GP that explains the data almost exactly has ~0 posterior σ:
            # then the errors cannot be shaped by it and are all the target.
            if psig.mean() > 1e-12 * max(target, 1e-300):
                sig = psig * (target / psig.mean())
            else:
                sig = np.full(count, target)
        mags.append(f + sig * gen.standard_normal(count))
        times.append(ts)
        errs.append(sig if has_err else np.full(count, np.nan))
        bands.append(np.full(count, band))
    time = np.concatenate(times)
    shift = 0.0
    phase = None
    if cfg.phase_shift:
        period = lc.meta.get("period")
        if isinstance(period, int | float) and np.isfinite(period) and period > 0:
            phase = float(gen.uniform(0.0, 1.0))
            shift = phase * float(period)
        else:
            shift = float(gen.uniform(0.0, lc.span)) if lc.span > 0 else 0.0
    order = np.lexsort((np.concatenate(bands), time))
    meta = {
        "synthetic": True,
        "prototype": lc.id,
        "gp_params": fit.params(),
        "gp_time_shift": shift,
        "gp_phase_shift": phase,
    }
    if fallbacks:
        meta["gp_fallback"] = fallbacks
    return lc.replace(
        time=(time + shift)[order],
        mag=np.concatenate(mags)[order],
        err=np.concatenate(errs)[order],
        band=np.concatenate(bands)[order],
        id=f"{lc.id}~gp{index}",
        meta=meta,
    )


def synthesize_many(
    curves: Sequence[LightCurve],
    fits: Sequence[GPFit],
    *,
    n_per_curve: int | Sequence[int],
    rng: np.random.Generator | int,
    config: GPConfig | None = None,
) -> list[LightCurve]:
    """Draw ``n_per_curve`` synthetic curves from each prototype, prototype after prototype.

    The same as calling :func:`synthesize` with ``index=0, 1, ...`` for each
    curve in order with one generator, so a seed reproduces the whole list.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0, 30, 25))
    >>> lc = LightCurve(time=t, mag=12 + 0.2 * np.cos(t), err=np.full(25, .02), band="r", id="p")
    >>> [s.id for s in synthesize_many([lc], fit_gp_many([lc]), n_per_curve=2, rng=0)]
    ['p~gp0', 'p~gp1']
    """
    if len(curves) != len(fits):
        raise DataError(f"{len(curves)} curves but {len(fits)} fits; pass one fit per curve")
    counts = [n_per_curve] * len(curves) if isinstance(n_per_curve, int) else list(n_per_curve)
    if len(counts) != len(curves):
        raise DataError(f"n_per_curve has {len(counts)} entries for {len(curves)} curves")
    gen = _as_rng(rng)
    return [
        synthesize(lc, fit, rng=gen, index=k, config=config)
        for lc, fit, count in zip(curves, fits, counts, strict=True)
        for k in range(count)
    ]


class GPAugmenter:
    """Fit GPs to prototypes once, then draw fresh synthetic curves on demand.

    Parameters
    ----------
    restarts, max_iter, fit_jitter, min_points, phase_shift : see :class:`GPConfig`
    config : GPConfig, optional
        Complete settings (the keywords above override its fields).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0, 30, 25))
    >>> lc = LightCurve(time=t, mag=12 + 0.2 * np.cos(t), err=np.full(25, .02), band="r", id="p")
    >>> aug = GPAugmenter(restarts=2).fit([lc])
    >>> [s.id for s in aug.sample(3, rng=5)]
    ['p~gp0', 'p~gp1', 'p~gp2']
    """

    def __init__(
        self,
        *,
        restarts: int | None = None,
        max_iter: int | None = None,
        fit_jitter: bool | None = None,
        min_points: int | None = None,
        phase_shift: bool | None = None,
        config: GPConfig | None = None,
    ):
        self.restarts = restarts
        self.max_iter = max_iter
        self.fit_jitter = fit_jitter
        self.min_points = min_points
        self.phase_shift = phase_shift
        self.config = config

    def _config(self) -> GPConfig:
        base = self.config or GPConfig()
        fields = ("restarts", "max_iter", "fit_jitter", "min_points", "phase_shift")
        update = {k: getattr(self, k) for k in fields if getattr(self, k) is not None}
        return GPConfig(**{**base.model_dump(), **update})

    def fit(self, curves: Sequence[LightCurve]) -> GPAugmenter:
        """Fit every prototype (see :func:`fit_gp_many`); returns ``self``."""
        self.config_ = self._config()
        self.curves_ = list(curves)
        self.fits_ = fit_gp_many(self.curves_, config=self.config_)
        return self

    def sample(
        self, n_per_curve: int | Sequence[int], rng: np.random.Generator | int
    ) -> list[LightCurve]:
        """Synthetic curves, ``n_per_curve`` from each prototype (see :func:`synthesize_many`)."""
        if not hasattr(self, "fits_"):
            raise RuntimeError("GPAugmenter is not fitted; call fit(curves) first")
        return synthesize_many(
            self.curves_, self.fits_, n_per_curve=n_per_curve, rng=rng, config=self.config_
        )

    def summary(self) -> dict[str, Any]:
        """Counts of fitted, fallback and unconverged bands."""
        bands = [b for f in self.fits_ for b in f.bands]
        return {
            "n_curves": len(self.fits_),
            "n_bands": len(bands),
            "fallback": sum(b.fallback is not None for b in bands),
            "not_converged": sum(b.fallback is None and not b.converged for b in bands),
            "config": self.config_.model_dump(),
        }
