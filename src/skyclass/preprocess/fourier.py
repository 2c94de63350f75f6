"""Fourier-series fits of periodic light curves and the harmonic reconstruction of carraro2025.

The model is the cosine series OGLE publishes (Soszyński et al.; checked against
the OGLE-IV LMC Cepheid catalogue, see ``tests/test_fourier.py``):

.. math::

    m(t) = m_0 + \\sum_{k=1}^{K} A_k \\cos\\left(2\\pi k \\frac{t - t_0}{P} + \\varphi_k\\right),

with :math:`R_{k1} = A_k / A_1` and :math:`\\varphi_{k1} = \\varphi_k - k\\varphi_1`
(mod :math:`2\\pi`). Relative phases do not depend on the epoch :math:`t_0`.
Fitting the OGLE-IV LMC F-mode Cepheids at the catalogue periods reproduces the
published R21 and φ21 in this convention, and the fitted time of maximum the
catalogue's T0 (``tests/test_fourier.py`` and ``tests/test_fold_resample.py``
assert it; ``benchmarks/period_ogle.py`` prints the fractions); a sine series
(:math:`\\varphi^s_{21} = \\varphi^c_{21} - \\pi/2`,
:math:`\\varphi^s_{31} = \\varphi^c_{31} - \\pi`) or a ``− φ_k`` sign would not.

:func:`fit_fourier` fits one curve by weighted linear least squares,
:func:`fit_fourier_many` a batch (one table row per object, failures recorded,
never raised); :func:`reconstruct` and :func:`reconstruct_many` rebuild a phased
curve from catalogue parameters (amplitude, R21, φ21, R31, φ31).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess._shared import check_period

__all__ = [
    "FourierFit",
    "fit_fourier",
    "fit_fourier_many",
    "fourier_features",
    "reconstruct",
    "reconstruct_many",
]

TWO_PI = 2.0 * np.pi
#: Samples per cycle per harmonic used to find the model's extremes.
_DENSE = 256
#: Rows of :func:`reconstruct_many` computed at once (bounds float64 temporaries).
_CHUNK = 32_768
#: Eigenvalues of XᵀWX below this fraction of the largest mean a degenerate design
#: (a condition number of the design above ~1e5: harmonics the phases cannot separate).
_RCOND = 1e-10


def _wrap(phase: Any) -> Any:
    """Phases in [0, 2π); a value rounding up to 2π becomes 0."""
    out = np.mod(phase, TWO_PI)
    return np.where(out >= TWO_PI, 0.0, out) if np.ndim(out) else (0.0 if out >= TWO_PI else out)


def _jacobians(amplitudes: np.ndarray, phases: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d A_k / d p and d φ_k / d p for the parameter vector p = (mean, a_1, b_1, ..., a_K, b_K)."""
    k_count = amplitudes.size
    a = amplitudes * np.cos(phases)
    b = -amplitudes * np.sin(phases)
    safe = np.where(amplitudes > 0, amplitudes, np.inf)
    idx = np.arange(k_count)
    jac_amp = np.zeros((k_count, 2 * k_count + 1))
    jac_phase = np.zeros((k_count, 2 * k_count + 1))
    jac_amp[idx, 2 * idx + 1] = a / safe
    jac_amp[idx, 2 * idx + 2] = b / safe
    jac_phase[idx, 2 * idx + 1] = b / safe**2
    jac_phase[idx, 2 * idx + 2] = -a / safe**2
    return jac_amp, jac_phase


#: Columns of :meth:`FourierFit.as_dict`, in order (for NaN rows of failed objects).
FEATURE_NAMES = (
    "period",
    "fourier_mean",
    "amplitude",
    "A1",
    "phi1",
    "R21",
    "R21_err",
    "phi21",
    "phi21_err",
    "R31",
    "R31_err",
    "phi31",
    "phi31_err",
    "n_harmonics",
    "r2",
    "chi2_dof",
    "n_points",
)


@dataclass(frozen=True)
class FourierFit:
    """A fitted Fourier series ``m(t) = mean + Σ A_k cos(2πk(t − epoch)/P + φ_k)``.

    Attributes
    ----------
    period, epoch : float
        Period and zero point of phase (days, in the curve's time system).
    n_harmonics : int
        Number of harmonics K.
    mean, mean_err : float
        Constant term and its 1σ error.
    amplitudes, amplitudes_err : ndarray, shape (K,)
        Semi-amplitudes A_k ≥ 0 and their 1σ errors.
    phases, phases_err : ndarray, shape (K,)
        Phases φ_k in [0, 2π) and their 1σ errors.
    chi2 : float
        Weighted sum of squared residuals; NaN when the curve has no errors.
    dof : int
        Points minus fitted parameters (2K + 1).
    r2 : float
        Coefficient of determination of the periodic fit against a constant
        (weighted when errors are given).
    n_points : int
        Epochs used.
    covariance : ndarray, shape (2K+1, 2K+1)
        Covariance of ``(mean, a_1, b_1, ..., a_K, b_K)`` where
        ``a_k = A_k cos φ_k`` and ``b_k = -A_k sin φ_k`` multiply ``cos`` and ``sin``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 10, 200)
    >>> lc = LightCurve(time=t, mag=15 + 0.3 * np.cos(2 * np.pi * t / 2.5 + 1.0),
    ...                 err=np.full(200, 0.01), band="I")
    >>> fit = fit_fourier(lc, 2.5, n_harmonics=2, epoch=0.0)
    >>> round(float(fit.amplitudes[0]), 6), round(float(fit.phases[0]), 6)
    (0.3, 1.0)
    >>> round(fit.peak_to_peak, 4), round(float(fit(0.0)), 4)
    (0.6, 15.1621)
    """

    period: float
    epoch: float
    n_harmonics: int
    mean: float
    amplitudes: np.ndarray
    phases: np.ndarray
    amplitudes_err: np.ndarray
    phases_err: np.ndarray
    mean_err: float
    chi2: float
    dof: int
    r2: float
    n_points: int
    covariance: np.ndarray

    # ----------------------------------------------------------- model
    def __call__(self, time: Any) -> np.ndarray:
        """Evaluate the model at ``time`` (days)."""
        x = TWO_PI * (np.asarray(time, dtype=np.float64) - self.epoch) / self.period
        k = np.arange(1, self.n_harmonics + 1)
        terms = self.amplitudes * np.cos(np.multiply.outer(x, k) + self.phases)
        return self.mean + terms.sum(axis=-1)

    def _dense(self) -> tuple[np.ndarray, np.ndarray]:
        phase = np.arange(_DENSE * max(self.n_harmonics, 1)) / (_DENSE * max(self.n_harmonics, 1))
        return phase, self(self.epoch + phase * self.period)

    def _extreme(self, brightest: bool) -> float:
        """Phase angle (radians, in [0, 2π)) of the model's minimum (brightest) or maximum.

        Found on a dense grid and refined by Newton steps on the model's derivative.
        """
        phase, model = self._dense()
        x = TWO_PI * phase[int(np.argmin(model) if brightest else np.argmax(model))]
        sign = 1.0 if brightest else -1.0
        k = np.arange(1, self.n_harmonics + 1)
        for _ in range(8):
            arg = k * x + self.phases
            d1 = -(self.amplitudes * k * np.sin(arg)).sum()
            d2 = -(self.amplitudes * k**2 * np.cos(arg)).sum()
            if sign * d2 <= 0:  # wrong curvature: keep the grid value
                break
            step = d1 / d2
            x -= step
            if abs(step) < 1e-13:
                break
        return float(x % TWO_PI)

    @property
    def peak_to_peak(self) -> float:
        """Full amplitude (max − min) of the model over one cycle, in magnitudes."""
        to_time = self.period / TWO_PI
        faint = self(self.epoch + self._extreme(False) * to_time)
        bright = self(self.epoch + self._extreme(True) * to_time)
        return float(faint - bright)

    @property
    def epoch_of_maximum(self) -> float:
        """Time of maximum light (minimum magnitude) in ``[epoch, epoch + period)``."""
        return float(self.epoch + self._extreme(True) / TWO_PI * self.period)

    # ------------------------------------------------------ derived parameters
    def _ratio(self, k: int) -> tuple[float, float, float, float]:
        """R_k1, φ_k1 and their 1σ errors; NaN when the fit has fewer than k harmonics."""
        if self.n_harmonics < k:
            return (np.nan,) * 4
        jac_amp, jac_phase = _jacobians(self.amplitudes, self.phases)
        a1, ak = self.amplitudes[0], self.amplitudes[k - 1]
        ratio = ak / a1
        phase = float(_wrap(self.phases[k - 1] - k * self.phases[0]))
        j_ratio = jac_amp[k - 1] / a1 - ratio / a1 * jac_amp[0]
        j_phase = jac_phase[k - 1] - k * jac_phase[0]
        cov = self.covariance
        return (
            float(ratio),
            phase,
            float(np.sqrt(max(j_ratio @ cov @ j_ratio, 0.0))),
            float(np.sqrt(max(j_phase @ cov @ j_phase, 0.0))),
        )

    @property
    def R21(self) -> float:
        """Amplitude ratio A_2 / A_1 (NaN when K < 2)."""
        return self._ratio(2)[0]

    @property
    def phi21(self) -> float:
        """Phase difference φ_2 − 2φ_1 in [0, 2π) (NaN when K < 2)."""
        return self._ratio(2)[1]

    @property
    def R31(self) -> float:
        """Amplitude ratio A_3 / A_1 (NaN when K < 3)."""
        return self._ratio(3)[0]

    @property
    def phi31(self) -> float:
        """Phase difference φ_3 − 3φ_1 in [0, 2π) (NaN when K < 3)."""
        return self._ratio(3)[1]

    @property
    def R21_err(self) -> float:
        """1σ error of :attr:`R21` by linear propagation of the fit covariance."""
        return self._ratio(2)[2]

    @property
    def phi21_err(self) -> float:
        """1σ error of :attr:`phi21` (radians)."""
        return self._ratio(2)[3]

    @property
    def R31_err(self) -> float:
        """1σ error of :attr:`R31`."""
        return self._ratio(3)[2]

    @property
    def phi31_err(self) -> float:
        """1σ error of :attr:`phi31` (radians)."""
        return self._ratio(3)[3]

    @property
    def chi2_dof(self) -> float:
        """Reduced χ² (NaN without errors)."""
        return self.chi2 / self.dof if self.dof > 0 else np.nan

    def as_dict(self) -> dict[str, float]:
        """The scalar results as a flat dict (the columns of :func:`fit_fourier_many`).

        Keys: ``period, fourier_mean, amplitude`` (peak-to-peak of the model),
        ``A1, phi1, R21, R21_err, phi21, phi21_err, R31, R31_err, phi31, phi31_err,
        n_harmonics, r2, chi2_dof, n_points``.
        """
        r21, p21, r21e, p21e = self._ratio(2)
        r31, p31, r31e, p31e = self._ratio(3)
        values = (
            self.period,
            self.mean,
            self.peak_to_peak,
            self.amplitudes[0],
            self.phases[0],
            *(r21, r21e, p21, p21e, r31, r31e, p31, p31e),
            self.n_harmonics,
            self.r2,
            self.chi2_dof,
            self.n_points,
        )
        return {name: float(v) for name, v in zip(FEATURE_NAMES, values, strict=True)}


# ----------------------------------------------------------------------------- fitting
def _design(x: np.ndarray, k_count: int) -> np.ndarray:
    """Columns 1, cos x, sin x, cos 2x, sin 2x, ... for phases ``x`` in radians."""
    kx = np.multiply.outer(x, np.arange(1, k_count + 1))
    design = np.empty((x.size, 2 * k_count + 1))
    design[:, 0] = 1.0
    design[:, 1::2] = np.cos(kx)
    design[:, 2::2] = np.sin(kx)
    return design


def _solve(
    design: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted least squares: parameters, (XᵀWX)⁻¹ and the weighted RSS.

    Normal equations solved by eigendecomposition: the Fourier design is close to
    orthogonal when the phases are covered, and this is several times faster than
    an SVD of the tall design; a small eigenvalue ratio flags poor coverage.
    """
    xw = design * w[:, None]
    gram = design.T @ xw
    evals, evecs = np.linalg.eigh(gram)
    if evals[0] <= _RCOND * evals[-1]:
        raise np.linalg.LinAlgError("degenerate design")
    cov = (evecs / evals) @ evecs.T
    coef = cov @ (xw.T @ y)
    resid = y - design @ coef
    return coef, cov, float(np.sum(w * resid**2))


def fit_fourier(
    lc: LightCurve,
    period: float,
    *,
    n_harmonics: int | Literal["auto"] = "auto",
    max_harmonics: int = 10,
    epoch: float | None = None,
    band: str | None = None,
) -> FourierFit:
    """Fit a K-harmonic Fourier series at a known period by weighted linear least squares.

    Parameters
    ----------
    lc : LightCurve
        The curve, in days (not folded); one band, or pick one with ``band``.
    period : float
        Period in days.
    n_harmonics : int or "auto"
        Number of harmonics K, or ``"auto"`` (default) to choose K ≤ ``max_harmonics``
        by the Bayesian information criterion ``n ln(χ²/n) + (2K + 1) ln n`` among
        those with 2K + 1 < n_points − 1 (the noise scale is fitted, so errors act as
        relative weights). ``benchmarks/period_ogle.py`` prints how often the
        resulting R21 and φ21 match the OGLE-IV Cepheid catalogue.
    max_harmonics : int
        Largest K tried by ``"auto"``.
    epoch : float, optional
        Zero point of phase; default the first time of the curve. It moves the
        φ_k but not R_k1 or φ_k1.
    band : str, optional
        Band to fit; required when the curve has several.

    Returns
    -------
    FourierFit
        Weights are 1/err²; the parameter covariance is (XᵀWX)⁻¹. Without errors
        the fit is unweighted and the covariance is scaled by the residual
        variance RSS/dof (and ``chi2`` is NaN).

    Raises
    ------
    DataError
        If the period is not positive and finite, the curve has several bands and
        no ``band`` is given, fewer than 2K + 2 points, a constant magnitude, or a
        phase coverage too poor to determine K harmonics.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0, 100, 300))
    >>> x = 2 * np.pi * t / 0.6
    >>> mag = 15 + 0.4 * np.cos(x + 0.5) + 0.2 * np.cos(2 * x + 2.0)
    >>> lc = LightCurve(time=t, mag=mag, err=np.full(300, 0.01), band="V")
    >>> fit = fit_fourier(lc, 0.6, n_harmonics=3)
    >>> round(fit.R21, 6), round(fit.phi21, 6)
    (0.5, 1.0)
    """
    lc = lc.one_band(band, purpose="a Fourier fit")
    period = check_period(period, lc)
    where = {"source": lc.meta.get("source"), "object_id": lc.id or None}
    n = len(lc)
    if n_harmonics == "auto":
        if max_harmonics < 1:
            raise ValueError("max_harmonics must be at least 1")
        candidates = [k for k in range(1, max_harmonics + 1) if 2 * k + 1 < n - 1]
        if not candidates:
            raise DataError(
                f"only {n} points: n_harmonics='auto' needs at least 5 (2K + 1 < n − 1 for K = 1)",
                **where,
            )
    elif isinstance(n_harmonics, int | np.integer) and not isinstance(n_harmonics, bool):
        if n_harmonics < 1:
            raise ValueError(f"n_harmonics must be at least 1 or 'auto', got {n_harmonics}")
        if n < 2 * n_harmonics + 2:
            raise DataError(
                f"only {n} points for {n_harmonics} harmonics; at least {2 * n_harmonics + 2} "
                "are needed: lower n_harmonics or use n_harmonics='auto'",
                **where,
            )
        candidates = [int(n_harmonics)]
    else:
        raise ValueError(f"n_harmonics must be a positive int or 'auto', got {n_harmonics!r}")
    y = lc.mag
    if np.ptp(y) == 0:
        raise DataError("the magnitude is constant: no periodic signal to fit", **where)
    weighted = lc.has_errors
    w = 1.0 / lc.err**2 if weighted else np.ones(n)
    t0 = float(lc.time[0]) if epoch is None else float(epoch)
    x = TWO_PI * np.mod((lc.time - t0) / period, 1.0)  # reduce first: keeps cos/sin accurate
    design_full = _design(x, max(candidates))

    best: tuple[float, int, np.ndarray, np.ndarray, float] | None = None
    for k in candidates:
        try:
            coef, cov, rss = _solve(design_full[:, : 2 * k + 1], y, w)
        except np.linalg.LinAlgError:
            if len(candidates) == 1 or best is None:
                raise DataError(
                    f"the phase coverage cannot constrain {k} harmonics at P = {period:g} d "
                    "(points bunch at few phases); lower n_harmonics",
                    **where,
                ) from None
            break
        n_par = 2 * k + 1
        # the noise scale is fitted too (errors as relative weights): survey errors are
        # often underestimated, and χ² + p ln n would then keep adding harmonics
        bic = n * np.log(max(rss, np.finfo(float).tiny) / n) + n_par * np.log(n)
        if best is None or bic < best[0]:
            best = (bic, k, coef, cov, rss)
    assert best is not None
    _, k_count, coef, cov, rss = best
    dof = n - (2 * k_count + 1)
    wmean = np.sum(w * y) / np.sum(w)
    tss = float(np.sum(w * (y - wmean) ** 2))
    if not weighted:
        cov = cov * (rss / dof)
    a, b = coef[1::2], coef[2::2]
    amplitudes = np.hypot(a, b)
    if amplitudes[0] == 0:
        raise DataError("the first harmonic has zero amplitude: phases are undefined", **where)
    phases = _wrap(np.arctan2(-b, a))
    jac_amp, jac_phase = _jacobians(amplitudes, phases)
    amp_err = np.sqrt(np.einsum("ij,jk,ik->i", jac_amp, cov, jac_amp).clip(0))
    phase_err = np.sqrt(np.einsum("ij,jk,ik->i", jac_phase, cov, jac_phase).clip(0))
    for arr in (amplitudes, phases, amp_err, phase_err, cov):
        arr.setflags(write=False)
    return FourierFit(
        period=period,
        epoch=t0,
        n_harmonics=k_count,
        mean=float(coef[0]),
        amplitudes=amplitudes,
        phases=phases,
        amplitudes_err=amp_err,
        phases_err=phase_err,
        mean_err=float(np.sqrt(cov[0, 0])),
        chi2=rss if weighted else np.nan,
        dof=dof,
        r2=1.0 - rss / tss,
        n_points=n,
        covariance=cov,
    )


def fourier_features(lc: LightCurve, period: float, **kwargs: Any) -> dict[str, float]:
    """:func:`fit_fourier` of one curve as the flat dict of :meth:`FourierFit.as_dict`.

    The single-object form of :func:`fit_fourier_many` (whose rows equal it).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 10, 50)
    >>> lc = LightCurve(time=t, mag=np.cos(t), err=np.full(50, 0.1), band="g")
    >>> round(fourier_features(lc, 2 * np.pi, n_harmonics=1)["amplitude"], 6)
    2.0
    """
    return fit_fourier(lc, period, **kwargs).as_dict()


def fit_fourier_many(
    lcs: LightCurveSet | Iterable[LightCurve],
    periods: Sequence[float] | np.ndarray | str,
    **kwargs: Any,
) -> pd.DataFrame:
    """Fit every curve of a batch; one row per object, failures recorded rather than raised.

    Parameters
    ----------
    lcs : LightCurveSet or iterable of LightCurve
        The curves.
    periods : array_like or str
        One period per curve, or the name of a column of ``lcs.objects``.
    **kwargs
        Passed to :func:`fit_fourier` (``n_harmonics``, ``band``...).

    Returns
    -------
    DataFrame
        Column ``id``, the keys of :meth:`FourierFit.as_dict`, and ``fourier_error``:
        None for a successful fit, otherwise the reason (the other columns are then NaN).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 10, 50)
    >>> good = LightCurve(time=t, mag=np.cos(t), err=np.full(50, 0.1), band="g", id="a")
    >>> flat = LightCurve(time=t, mag=np.ones(50), err=np.full(50, 0.1), band="g", id="b")
    >>> table = fit_fourier_many([good, flat], [2 * np.pi, 1.0], n_harmonics=2)
    >>> table["id"].tolist(), table["fourier_error"].isna().tolist()
    (['a', 'b'], [True, False])
    """
    if isinstance(periods, str):
        if not isinstance(lcs, LightCurveSet):
            raise ValueError("periods may name a column only when lcs is a LightCurveSet")
        if periods not in lcs.objects.columns:
            raise DataError(
                f"no column {periods!r} in the objects table; it has {list(lcs.objects.columns)}"
            )
        periods = lcs.objects[periods].to_numpy(np.float64)
    curves = list(lcs)
    period_arr = np.asarray(periods, dtype=np.float64).ravel()
    if period_arr.size != len(curves):
        raise ValueError(f"{period_arr.size} periods for {len(curves)} curves; give one per curve")
    rows: list[dict[str, Any]] = []
    for lc, period in zip(curves, period_arr, strict=True):
        try:
            row: dict[str, Any] = fourier_features(lc, period, **kwargs)
            row["fourier_error"] = None
        except DataError as exc:
            row = dict.fromkeys(FEATURE_NAMES, np.nan)
            row["fourier_error"] = exc.reason
        rows.append({"id": lc.id, **row})
    columns = ["id", *FEATURE_NAMES, "fourier_error"]
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------- reconstruction
def reconstruct(
    *,
    amplitude: float,
    R21: float,
    phi21: float,
    R31: float | None = None,
    phi31: float | None = None,
    mean: float = 0.0,
    n_phases: int = 360,
) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild one phased curve from catalogue Fourier parameters (carraro2025).

    As in the thesis, ``amplitude`` is taken as the peak-to-peak amplitude of the
    first harmonic alone: A_1 = amplitude / 2, φ_1 = 0, A_2 = R21·A_1,
    φ_2 = φ21 (+ 2φ_1 = 0), and likewise A_3 = R31·A_1, φ_3 = φ31 when given. The
    curve, in the convention of :class:`FourierFit`, is
    ``mean + Σ A_k cos(2πkφ + φ_k)`` at ``n_phases`` phases ``φ = i / n_phases``.

    Parameters
    ----------
    amplitude : float
        Peak-to-peak amplitude (magnitudes) attributed to the first harmonic.
    R21, phi21 : float
        Second-harmonic amplitude ratio and phase difference (radians).
    R31, phi31 : float, optional
        Third-harmonic ones; omitted (or NaN) means no third harmonic.
    mean : float
        Mean magnitude.
    n_phases : int
        Number of phases sampled in [0, 1).

    Returns
    -------
    phase, mag : ndarray, shape (n_phases,)

    Examples
    --------
    >>> phase, mag = reconstruct(amplitude=0.8, R21=0.0, phi21=0.0, n_phases=4)
    >>> phase.tolist(), [round(float(m), 6) for m in mag]
    ([0.0, 0.25, 0.5, 0.75], [0.4, 0.0, -0.4, -0.0])
    """
    table = {
        "amplitude": [amplitude],
        "R21": [R21],
        "phi21": [phi21],
        "R31": [np.nan if R31 is None else R31],
        "phi31": [np.nan if phi31 is None else phi31],
        "mean": [mean],
    }
    phase = np.arange(n_phases) / n_phases
    return phase, _reconstruct_rows(table, n_phases, np.float64)[0]


def reconstruct_many(table: Mapping[str, Any] | pd.DataFrame, n_phases: int = 360) -> np.ndarray:
    """Vectorised :func:`reconstruct` for a whole catalogue.

    Parameters
    ----------
    table : DataFrame or mapping of str to array_like
        Columns ``amplitude``, ``R21``, ``phi21`` and optionally ``R31``, ``phi31``
        (a NaN there means no third harmonic) and ``mean`` (default 0). Rename a
        catalogue's columns to these first. A NaN amplitude, R21 or φ21 gives a
        NaN row.
    n_phases : int
        Phases sampled in [0, 1).

    Returns
    -------
    ndarray of float32, shape (N, n_phases)
        Row i equals ``reconstruct(**row_i)[1]`` (to float32 precision).

    Examples
    --------
    >>> curves = reconstruct_many({"amplitude": [0.8, 0.4], "R21": [0.5, 0.1],
    ...                            "phi21": [4.0, 3.0]}, n_phases=100)
    >>> curves.shape, curves.dtype.name
    ((2, 100), 'float32')
    """
    return _reconstruct_rows(table, n_phases, np.float32)


def _reconstruct_rows(table: Mapping[str, Any], n_phases: int, dtype: Any) -> np.ndarray:
    if int(n_phases) < 1:
        raise ValueError(f"n_phases must be positive, got {n_phases}")
    missing = [c for c in ("amplitude", "R21", "phi21") if c not in table]
    if missing:
        raise DataError(
            f"reconstruction needs columns amplitude, R21, phi21; missing {missing}; "
            f"rename the catalogue's columns (it has {list(table.keys())})"
        )

    def column(name: str, default: float) -> np.ndarray:
        if name not in table:
            return np.full(n_rows, default)
        return np.asarray(table[name], dtype=np.float64).ravel()

    amp = np.asarray(table["amplitude"], dtype=np.float64).ravel()
    n_rows = amp.size
    r21, p21 = column("R21", np.nan), column("phi21", np.nan)
    r31, p31 = column("R31", np.nan), column("phi31", np.nan)
    mean = column("mean", 0.0)
    no_third = ~(np.isfinite(r31) & np.isfinite(p31))
    r31 = np.where(no_third, 0.0, r31)
    p31 = np.where(no_third, 0.0, p31)

    x = TWO_PI * np.arange(n_phases) / n_phases
    basis = np.stack(
        [np.ones_like(x), np.cos(x), np.cos(2 * x), np.sin(2 * x), np.cos(3 * x), np.sin(3 * x)]
    )
    # A cos(kx + φ) = A cos φ cos kx − A sin φ sin kx: one matrix product per chunk of rows
    a1 = amp / 2.0
    a2, a3 = r21 * a1, r31 * a1
    coef = np.stack(
        [mean, a1, a2 * np.cos(p21), -a2 * np.sin(p21), a3 * np.cos(p31), -a3 * np.sin(p31)], axis=1
    )
    out = np.empty((n_rows, n_phases), dtype=dtype)
    for start in range(0, n_rows, _CHUNK):
        np.matmul(
            coef[start : start + _CHUNK],
            basis,
            out=out[start : start + _CHUNK],
            casting="same_kind",
        )
    return out
