"""Numeric features per curve (period, amplitude, colours, Fourier shape...) and their scaler.

:class:`NumericFeatures` turns one curve into a fixed-length float32 vector of
named features — the numeric branch of kang2023 (period, amplitude, colour) and
the catalogue parameters of carraro2025 (period, amplitude, R21, φ21, R31, φ31) —
optionally followed by any feature of the ``light-curve`` package. A feature that
cannot be computed for a curve (no period, a band missing, a failed fit) is
NaN; :meth:`NumericFeatures.transform` then returns ``features_mask`` (1 where
finite, 0 elsewhere) and puts 0 in ``features`` at the masked places, so the
model input never holds a NaN and a model can still tell a true 0 from a gap.

:class:`FeatureScaler` standardises the columns with statistics learned on the
training rows only, and saves them as plain JSON-able lists (no pickle).

Built-in features (``band`` suffix ``_B`` when ``bands`` is given, none otherwise):

================  ===========================================================================
name              definition
================  ===========================================================================
log_period        log₁₀ of ``meta["period"]`` (days)
amplitude         per band: peak-to-peak of the Fourier fit at the period
                  (``amplitude="fourier"``), or the 95th minus the 5th percentile of the
                  magnitudes (``amplitude="percentile"``, needs no period)
mean_mag          per band: arithmetic mean of the magnitudes
colour            ``B-R`` for each pair of consecutive ``bands``: mean_mag_B − mean_mag_R
catalogue_colour  a catalogue's blue-minus-red colour index of the object (mag), from
                  its metadata: the first of :data:`CATALOGUE_COLOURS` the curve has
                  (Gaia ``bp_rp``, OGLE ``mean_mag_V − mean_mag_I``, EROS
                  ``magnitude_b − magnitude_r``...); NaN without one
R21, R31          Fourier amplitude ratios A₂/A₁, A₃/A₁ in the reference band
phi21, phi31      Fourier phase differences φ₂₁, φ₃₁ in the reference band, given as the
                  pair ``cos_phi21, sin_phi21`` (resp. ``phi31``): the angle lives on a
                  circle, and the pair puts φ = 0.01 next to φ = 2π − 0.01 where the raw
                  angle would put them 2π apart
n_epochs          number of epochs (all bands)
span              last minus first time (days, all bands)
================  ===========================================================================

Fourier quantities use :func:`skyclass.preprocess.fourier.fit_fourier` (its cosine
convention, the one of OGLE and of :func:`~skyclass.preprocess.period.period_table`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any, Literal

import numpy as np

from skyclass.exceptions import DataError, NotFittedError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess.fourier import FourierFit, fit_fourier
from skyclass.represent.base import Representation, period_of

__all__ = [
    "BUILTIN_FEATURES",
    "CATALOGUE_COLOURS",
    "SCALERS",
    "FeatureScaler",
    "NotFittedError",
    "NumericFeatures",
    "catalogue_colour",
    "light_curve_feature_names",
]


# ------------------------------------------------------------------ one curve's view
class _Curve:
    """What the built-in features need of one curve, each computed at most once."""

    def __init__(self, lc: LightCurve, rep: NumericFeatures):
        self.lc = lc
        self.rep = rep
        try:
            self.period = period_of(lc)
        except DataError:
            self.period = np.nan
        counts = {b: int(np.sum(lc.band == b)) for b in lc.bands}
        main = max(counts, key=counts.__getitem__)  # most epochs; ties: first to appear
        self.bands: tuple[str, ...] = rep.bands if rep.bands is not None else (main,)
        self.reference = rep.reference_band or self.bands[0]
        self._mags: dict[str, np.ndarray | None] = {}
        self._fits: dict[str, FourierFit | None] = {}

    def mags(self, band: str) -> np.ndarray | None:
        """Magnitudes in ``band``; None when the curve has no epoch there."""
        if band not in self._mags:
            keep = self.lc.band == band
            self._mags[band] = self.lc.mag[keep] if keep.any() else None
        return self._mags[band]

    def fit(self, band: str) -> FourierFit | None:
        """Fourier fit of ``band`` at the period; None without a period, band or usable fit."""
        if band not in self._fits:
            fit = None
            if np.isfinite(self.period) and self.mags(band) is not None:
                try:
                    fit = fit_fourier(
                        self.lc, self.period, n_harmonics=self.rep.n_harmonics, band=band
                    )
                except DataError:
                    fit = None
            self._fits[band] = fit
        return self._fits[band]


#: A reference-band series for ``light-curve``: time, magnitude, errors (None without).
_Series = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def _first(bands: tuple[str, ...] | None) -> str | None:
    return bands[0] if bands else None


def _reference_series(curve: _Curve) -> _Series | None:
    """The curve's reference band as contiguous arrays; None without an epoch there."""
    lc = curve.lc
    keep = lc.band == curve.reference
    if not keep.any():
        return None
    t = np.ascontiguousarray(lc.time[keep])
    m = np.ascontiguousarray(lc.mag[keep])
    sigma = np.ascontiguousarray(lc.err[keep]) if lc.has_errors else None
    return t, m, sigma


def _reference_series_of_set(lcs: LightCurveSet, band: str | None) -> list[_Series | None]:
    """:func:`_reference_series` of every object of a set, cut from its flat columns at once.

    ``band`` None: each object's band with most epochs, ties to the first to appear.
    """
    n, n_bands = len(lcs), len(lcs.bands)
    n_epochs = np.diff(lcs.offsets)
    obj = np.repeat(np.arange(n), n_epochs)
    code = lcs.band.astype(np.int64)
    if band is None:
        key = obj * n_bands + code
        counts = np.bincount(key, minlength=n * n_bands).reshape(n, n_bands)
        first = np.full(n * n_bands, lcs.time.size)
        present, where = np.unique(key, return_index=True)
        first[present] = where
        score = counts * (lcs.time.size + 1) - first.reshape(n, n_bands)
        reference = np.argmax(score, axis=1)
    else:
        reference = np.full(n, lcs.bands.index(band) if band in lcs.bands else -1)
    keep = np.flatnonzero(code == reference[obj])
    bounds = np.searchsorted(keep, lcs.offsets)
    t, m, e = lcs.time[keep], lcs.mag[keep], lcs.err[keep]
    no_errors = np.add.reduceat(np.isnan(lcs.err), lcs.offsets[:-1]) == n_epochs
    out: list[_Series | None] = []
    for i in range(n):
        lo, hi = bounds[i], bounds[i + 1]
        if lo == hi:
            out.append(None)
        else:
            # Arrays of their own: light-curve reads them faster than views into one.
            sigma = None if no_errors[i] else e[lo:hi].copy()
            out.append((t[lo:hi].copy(), m[lo:hi].copy(), sigma))
    return out


# ----------------------------------------------------------------- built-in features
def _suffixed(rep: NumericFeatures, stem: str) -> list[str]:
    if rep.bands is None:
        return [stem]
    return [f"{stem}_{band}" for band in rep.bands]


def _log_period(c: _Curve) -> list[float]:
    return [float(np.log10(c.period)) if np.isfinite(c.period) else np.nan]


def _amplitude(c: _Curve) -> list[float]:
    out = []
    for band in c.bands:
        if c.rep.amplitude == "percentile":
            mag = c.mags(band)
            out.append(np.nan if mag is None else float(np.ptp(np.percentile(mag, [5, 95]))))
        else:
            fit = c.fit(band)
            out.append(np.nan if fit is None else fit.peak_to_peak)
    return out


def _mean(mag: np.ndarray | None) -> float:
    return np.nan if mag is None else float(np.mean(mag))


def _mean_mag(c: _Curve) -> list[float]:
    return [_mean(c.mags(band)) for band in c.bands]


def _colour_names(rep: NumericFeatures) -> list[str]:
    bands = rep.bands or ()
    return [f"{a}-{b}" for a, b in pairwise(bands)]


def _colour(c: _Curve) -> list[float]:
    means = _mean_mag(c)
    return [a - b for a, b in pairwise(means)]


#: Where ``catalogue_colour`` finds a curve's colour index, in order: a metadata key,
#: or a pair of keys (blue magnitude, red magnitude) whose difference it is.
CATALOGUE_COLOURS: tuple[str | tuple[str, str], ...] = (
    "catalogue_colour",  # given by the user or the simulation
    "bp_rp",  # Gaia G_BP − G_RP
    ("mean_mag_V", "mean_mag_I"),  # OGLE catalogues: V − I
    ("magnitude_b", "magnitude_r"),  # EROS-1: B_E − R_E
)


def _meta_float(meta: Mapping[str, Any], key: str) -> float:
    try:
        return float(meta.get(key, np.nan))
    except (TypeError, ValueError):
        return np.nan


#: Largest plausible colour index (mag); beyond it a value is a placeholder (OGLE's
#: -99.99 for a magnitude it lacks) and counts as missing.
_MAX_COLOUR = 10.0


def catalogue_colour(meta: Mapping[str, Any]) -> float:
    """An object's catalogue colour index: the first of :data:`CATALOGUE_COLOURS` it has.

    A value beyond ±10 mag (a placeholder such as OGLE's -99.99 for a missing
    magnitude) counts as missing.

    Parameters
    ----------
    meta : mapping
        A curve's metadata (``lc.meta``) or a row of a set's ``objects`` table.

    Returns
    -------
    float
        The colour index (mag), NaN without one.

    Examples
    --------
    >>> catalogue_colour({"bp_rp": 3.2})
    3.2
    >>> catalogue_colour({"mean_mag_V": 16.5, "mean_mag_I": 15.75})  # V - I
    0.75
    >>> catalogue_colour({"period": 1.0})
    nan
    """
    for spec in CATALOGUE_COLOURS:
        if isinstance(spec, str):
            value = _meta_float(meta, spec)
        else:
            value = _meta_float(meta, spec[0]) - _meta_float(meta, spec[1])
        if np.isfinite(value) and abs(value) <= _MAX_COLOUR:
            return value
    return float("nan")


def _ratio(k: int) -> Callable[[_Curve], list[float]]:
    def values(c: _Curve) -> list[float]:
        fit = c.fit(c.reference)
        return [np.nan if fit is None else float(getattr(fit, f"R{k}1"))]

    return values


def _phase(k: int) -> Callable[[_Curve], list[float]]:
    def values(c: _Curve) -> list[float]:
        fit = c.fit(c.reference)
        phi = np.nan if fit is None else float(getattr(fit, f"phi{k}1"))
        return [float(np.cos(phi)), float(np.sin(phi))]

    return values


@dataclass(frozen=True)
class _Builtin:
    names: Callable[[NumericFeatures], list[str]]
    values: Callable[[_Curve], list[float]]
    needs_bands: int = 0  # how many ``bands`` the feature needs to be defined
    default: bool = True  # among the features of ``features=None`` (or ``"all"``)


#: The built-in features, by the name given in ``NumericFeatures(features=...)``.
BUILTIN_FEATURES: dict[str, _Builtin] = {
    "log_period": _Builtin(lambda rep: ["log_period"], _log_period),
    "amplitude": _Builtin(lambda rep: _suffixed(rep, "amplitude"), _amplitude),
    "mean_mag": _Builtin(lambda rep: _suffixed(rep, "mean_mag"), _mean_mag),
    "colour": _Builtin(_colour_names, _colour, needs_bands=2),
    "catalogue_colour": _Builtin(
        lambda rep: ["catalogue_colour"], lambda c: [catalogue_colour(c.lc.meta)], default=False
    ),
    "R21": _Builtin(lambda rep: ["R21"], _ratio(2)),
    "R31": _Builtin(lambda rep: ["R31"], _ratio(3)),
    "phi21": _Builtin(lambda rep: ["cos_phi21", "sin_phi21"], _phase(2)),
    "phi31": _Builtin(lambda rep: ["cos_phi31", "sin_phi31"], _phase(3)),
    "n_epochs": _Builtin(lambda rep: ["n_epochs"], lambda c: [float(len(c.lc))]),
    "span": _Builtin(lambda rep: ["span"], lambda c: [c.lc.span]),
}


# ------------------------------------------------------------- light-curve extractors
def light_curve_feature_names() -> list[str]:
    """Names of the ``light-curve`` features usable by name (those needing no argument).

    Features that need arguments (``Bins``, ``Periodogram`` with options,
    ``BeyondNStd(2.0)``...) can be passed to :class:`NumericFeatures` as instances.

    Examples
    --------
    >>> {"Amplitude", "BeyondNStd", "Eta", "LinearFit", "Skew", "StetsonK"} <= set(
    ...     light_curve_feature_names())
    True
    """
    return list(_no_argument_features())


@cache
def _no_argument_features() -> tuple[str, ...]:
    import light_curve

    base = light_curve.light_curve_ext._FeatureEvaluator
    names = []
    for name in dir(light_curve):
        cls = getattr(light_curve, name)
        if name.startswith("_") or not (isinstance(cls, type) and issubclass(cls, base)):
            continue
        try:
            cls()
        except TypeError:  # needs arguments: pass an instance instead
            continue
        names.append(name)
    return tuple(sorted(names))


def _light_curve_feature(spec: Any) -> Any:
    """A ``light-curve`` feature from a class name or an instance."""
    if not isinstance(spec, str):
        if not hasattr(spec, "names"):
            raise TypeError(
                f"extractors must be light-curve feature names or instances, got {spec!r}"
            )
        return spec
    valid = light_curve_feature_names()
    if spec not in valid:
        raise ValueError(
            f"unknown light-curve feature {spec!r}; choose one of {valid}, or pass an "
            "instance such as light_curve.BeyondNStd(2.0) for features with arguments"
        )
    import light_curve

    return getattr(light_curve, spec)()


# -------------------------------------------------------------------- representation
class NumericFeatures(Representation):
    """A fixed, named list of numeric features per curve, with a mask of the missing ones.

    Parameters
    ----------
    features : sequence of str, optional
        Built-in features to compute, in order; keys of :data:`BUILTIN_FEATURES`
        (see the module docstring for their definitions). Default: all of them but
        ``catalogue_colour`` (metadata, not the curve), ``colour`` only when ``bands``
        names two or more bands; ``"all"`` means the same.
    bands : sequence of str, optional
        Bands of the per-band features (``amplitude``, ``mean_mag``; names get a
        ``_band`` suffix) and of the colours (consecutive pairs). Default: one
        unsuffixed value from each curve's band with most epochs (ties: the
        first to appear), as :func:`~skyclass.preprocess.period.period_table` does.
    amplitude : {"fourier", "percentile"}
        ``"fourier"``: peak-to-peak of the Fourier fit at the period (NaN without
        a period); ``"percentile"``: 95th − 5th percentile of the magnitudes.
    n_harmonics : int or "auto"
        Harmonics of the Fourier fits (``"auto"``: chosen by BIC, as ``period_table``).
    reference_band : str, optional
        Band of the Fourier shape parameters (R21, φ21, R31, φ31) and of the
        ``light-curve`` extractors. Default ``bands[0]``, or each curve's band with
        most epochs when ``bands`` is not given.
    extractors : sequence of str or light-curve feature
        ``light-curve`` features computed on the reference band, by class name
        (:func:`light_curve_feature_names`) or as instances; their names get the
        prefix ``lc_`` (e.g. ``Amplitude`` → ``lc_amplitude``). A feature
        ``light-curve`` cannot evaluate (too few epochs, flat curve) is NaN.

    Attributes
    ----------
    feature_names : tuple of str
        Name of every entry of the ``features`` vector.

    Notes
    -----
    :meth:`transform` never raises for a missing value: the feature is NaN, its
    ``features_mask`` entry 0, and its ``features`` entry is replaced by 0 *after*
    the mask is taken. Scale with :class:`FeatureScaler` fitted on training rows,
    passing the mask, so gaps do not bias the statistics. A curve's features
    depend on that curve alone (``meta["period"]`` included).

    Examples
    --------
    >>> lc = LightCurve(time=[0, 1, 2, 3], mag=[10, 12, 11, 13], err=[.1] * 4,
    ...                 band=["B", "R", "B", "R"], meta={"period": 10.0})
    >>> rep = NumericFeatures(features=["log_period", "mean_mag", "colour", "span"],
    ...                       bands=("B", "R"))
    >>> rep.feature_names
    ('log_period', 'mean_mag_B', 'mean_mag_R', 'B-R', 'span')
    >>> out = rep.transform(lc)
    >>> out["features"].tolist(), out["features_mask"].tolist()
    ([1.0, 10.5, 12.5, -2.0, 3.0], [1.0, 1.0, 1.0, 1.0, 1.0])
    >>> out = rep.transform(lc.replace(meta={"period": None}))  # no period: masked, 0
    >>> out["features"][0], out["features_mask"][0]
    (np.float32(0.0), np.float32(0.0))
    """

    name = "features"
    needs_period = True

    def __init__(
        self,
        *,
        features: Sequence[str] | Literal["all"] | None = None,
        bands: Sequence[str] | None = None,
        amplitude: Literal["fourier", "percentile"] = "fourier",
        n_harmonics: int | Literal["auto"] = "auto",
        reference_band: str | None = None,
        extractors: Sequence[Any] = (),
    ):
        self.bands = None if bands is None else tuple(str(b) for b in bands)
        if self.bands is not None and (not self.bands or len(set(self.bands)) != len(self.bands)):
            raise ValueError(f"bands must be distinct band names, got {bands!r}")
        if features is None or features == "all":  # every built-in the bands allow
            n_bands = len(self.bands or ())
            features = [
                k for k, f in BUILTIN_FEATURES.items() if f.default and f.needs_bands <= n_bands
            ]
        self.features = tuple(features)
        unknown = [f for f in self.features if f not in BUILTIN_FEATURES]
        if unknown:
            raise ValueError(f"unknown features {unknown}; choose from {list(BUILTIN_FEATURES)}")
        for feature in self.features:
            need = BUILTIN_FEATURES[feature].needs_bands
            if len(self.bands or ()) < need:
                raise ValueError(
                    f"feature {feature!r} needs bands= with at least {need} bands, "
                    f"e.g. bands=('B', 'R'); got {bands!r}"
                )
        if amplitude not in ("fourier", "percentile"):
            raise ValueError(f"amplitude must be 'fourier' or 'percentile', got {amplitude!r}")
        self.amplitude = amplitude
        valid_k = isinstance(n_harmonics, int | np.integer) and not isinstance(n_harmonics, bool)
        if not (n_harmonics == "auto" or (valid_k and n_harmonics >= 1)):
            raise ValueError(f"n_harmonics must be a positive int or 'auto', got {n_harmonics!r}")
        self.n_harmonics = n_harmonics if n_harmonics == "auto" else int(n_harmonics)
        self.reference_band = reference_band
        self.extractors = tuple(extractors)
        self._lc_features = [_light_curve_feature(spec) for spec in self.extractors]
        self._extractor = None
        lc_names: list[str] = []
        if self._lc_features:
            import light_curve

            self._extractor = light_curve.Extractor(*self._lc_features)
            lc_names = [f"lc_{n}" for n in self._extractor.names]
        names = [n for f in self.features for n in BUILTIN_FEATURES[f].names(self)] + lc_names
        if len(set(names)) != len(names):
            raise ValueError(f"feature names repeat: {names}")
        self.feature_names: tuple[str, ...] = tuple(names)

    def __repr__(self) -> str:
        return (
            f"NumericFeatures(features={self.features!r}, bands={self.bands!r}, "
            f"amplitude={self.amplitude!r}, n_harmonics={self.n_harmonics!r}, "
            f"reference_band={self.reference_band!r}, extractors={self.extractors!r})"
        )

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """``features`` and ``features_mask``, both ``(len(feature_names),)``."""
        n = len(self.feature_names)
        return {"features": (n,), "features_mask": (n,)}

    def values(self, lc: LightCurve) -> np.ndarray:
        """The raw float64 feature values of one curve, NaN where missing.

        Examples
        --------
        >>> lc = LightCurve(time=[0, 1, 2], mag=[10, 11, 12], err=[.1] * 3, band="V")
        >>> NumericFeatures(features=["log_period", "n_epochs"]).values(lc).tolist()
        [nan, 3.0]
        """
        curve = _Curve(lc, self)
        out = [v for f in self.features for v in BUILTIN_FEATURES[f].values(curve)]
        if self._extractor is not None:
            out.extend(self._extract(curve))
        return np.asarray(out, dtype=np.float64)

    def _extract(self, curve: _Curve) -> np.ndarray:
        return self._extract_series(_reference_series(curve))

    def _extract_series(self, series: _Series | None) -> np.ndarray:
        assert self._extractor is not None
        if series is None:
            return np.full(len(self._extractor.names), np.nan)
        try:
            return np.asarray(self._extractor(*series, fill_value=np.nan), dtype=np.float64)
        except ValueError:  # light-curve rejects the series as a whole (e.g. one epoch)
            return np.full(len(self._extractor.names), np.nan)

    def _extract_many(self, series: Sequence[_Series | None]) -> np.ndarray:
        """The extractors on many series: one ``Extractor.many`` call for those with errors."""
        assert self._extractor is not None
        out = np.full((len(series), len(self._extractor.names)), np.nan)
        batch = [i for i, s in enumerate(series) if s is not None and s[2] is not None]
        try:
            if batch:
                values = self._extractor.many(
                    [series[i] for i in batch], fill_value=np.nan, n_jobs=1
                )
                out[batch] = np.asarray(values, dtype=np.float64)
        except ValueError:  # one series rejected as a whole: take them one by one
            batch = []
        done = set(batch)
        for i, one in enumerate(series):
            if one is not None and i not in done:
                out[i] = self._extract_series(one)
        return out

    def transform_many(self, lcs: Iterable[LightCurve] | LightCurveSet) -> dict[str, Any]:
        """:meth:`transform` of each curve, stacked, with ``valid`` and ``errors``.

        The ``light-curve`` extractors run once for the whole batch
        (``Extractor.many``, one thread); from a :class:`LightCurveSet` and without
        built-in features, their reference-band arrays are cut from the set's flat
        columns in one pass, with no per-curve object.

        Examples
        --------
        >>> from skyclass.datasets import load_macho
        >>> lcs = load_macho()[:3]
        >>> rep = NumericFeatures(features=[], extractors=["Amplitude", "StetsonK"])
        >>> batch = rep.transform_many(lcs)["features"]
        >>> bool(np.array_equal(batch, np.stack([rep.transform(lc)["features"] for lc in lcs])))
        True
        """
        if self._extractor is None:
            return super().transform_many(lcs)
        n_builtin = len(self.feature_names) - len(self._extractor.names)
        errors: dict[str, str] = {}
        if isinstance(lcs, LightCurveSet) and not self.features:
            series = _reference_series_of_set(lcs, self.reference_band or _first(self.bands))
            builtin = np.zeros((len(series), 0))
            valid = [True] * len(series)
        else:
            rows, series, valid = [], [], []
            for lc in lcs:
                try:
                    curve = _Curve(lc, self)
                    row = [v for f in self.features for v in BUILTIN_FEATURES[f].values(curve)]
                    one = _reference_series(curve)
                except DataError as exc:  # as the per-curve form: zeros, not valid
                    row, one = [np.nan] * n_builtin, None
                    errors[lc.id] = exc.reason
                rows.append(row)
                series.append(one)
                valid.append(lc.id not in errors)
            builtin = np.asarray(rows, dtype=np.float64).reshape(len(rows), n_builtin)
        values = np.concatenate([builtin, self._extract_many(series)], axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            raw = values.astype(np.float32)
        mask = np.isfinite(raw)
        valid_rows = np.array(valid, dtype=bool)
        mask[~valid_rows] = False
        return {
            "features": np.where(mask, raw, np.float32(0)).astype(np.float32),
            "features_mask": mask.astype(np.float32),
            "valid": valid_rows,
            "errors": errors,
        }

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """``features`` (NaN → 0) and ``features_mask`` (1 where finite), float32.

        Never raises for a missing value; see the class Notes.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            raw = self.values(lc).astype(np.float32)
        mask = np.isfinite(raw)
        return {
            "features": np.where(mask, raw, np.float32(0)).astype(np.float32),
            "features_mask": mask.astype(np.float32),
        }


# ------------------------------------------------------------------------- scaling
def _robust(values: np.ndarray) -> tuple[float, float]:
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return float(median), float(q75 - q25)


def _standard(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


#: Column statistics ``(centre, scale)`` of :class:`FeatureScaler`, by method name;
#: ``"quantile"`` keeps the centre and scale of ``"robust"`` as a record and maps
#: through the column's training quantiles instead (see :class:`FeatureScaler`).
SCALERS: dict[str, Callable[[np.ndarray], tuple[float, float]]] = {
    "robust": _robust,
    "standard": _standard,
    "quantile": _robust,
}

#: Training quantiles kept per column by ``method="quantile"``.
N_QUANTILES = 101
#: The normal scores of ``method="quantile"`` stay within ± this value.
_QUANTILE_BOUND = 3.0


def _quantile_transform(values: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Normal scores of ``values`` through a column's training quantiles ``knots``.

    Ties among the knots (a discrete column) map to the middle of their levels, as
    scikit-learn's ``QuantileTransformer`` does by interpolating both ways.
    """
    from scipy.special import ndtr, ndtri

    levels = np.linspace(0.0, 1.0, knots.size)
    up = np.interp(values, knots, levels)
    down = -np.interp(-values, -knots[::-1], -levels[::-1])
    bound = float(ndtr(_QUANTILE_BOUND))
    return ndtri(np.clip(0.5 * (up + down), 1.0 - bound, bound))


class FeatureScaler:
    """Centre and scale feature columns with statistics of the training rows only.

    Parameters
    ----------
    method : {"robust", "standard", "quantile"}
        ``"robust"``: centre the median, scale the interquartile range (75th − 25th
        percentile, as scikit-learn's ``RobustScaler``); ``"standard"``: mean and
        standard deviation (``ddof=0``); ``"quantile"``: map each value through the
        column's :data:`N_QUANTILES` training quantiles to the normal score of its
        rank, within ±3 (scikit-learn's ``QuantileTransformer`` with a normal output):
        long-tailed columns such as periods, amplitudes and χ² statistics then reach a
        network on one scale, with no outlier dominating a batch.
    names : sequence of str, optional
        Column names (e.g. :attr:`NumericFeatures.feature_names`), stored with the
        statistics so a saved model knows what it was fitted on.

    Attributes
    ----------
    center_, scale_ : ndarray of float64
        Learned per column. A column without a usable entry gets centre 0 and
        scale 1; a column constant in training (scale 0) gets scale 1.
    quantiles_ : ndarray of float64, shape (n_features, N_QUANTILES)
        With ``method="quantile"``: the training quantiles of each column. A column
        that is constant in training, or has no usable entry there, maps every value
        to 0: it taught the scaler no ranks.

    Examples
    --------
    >>> x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [100.0, 0.0]])
    >>> mask = np.array([[1, 1], [1, 1], [1, 1], [0, 0]])  # the last row is missing
    >>> scaler = FeatureScaler(method="robust").fit(x, mask)
    >>> scaler.center_.tolist(), scaler.scale_.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    >>> scaler.transform(x, mask).tolist()
    [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
    >>> FeatureScaler.from_dict(scaler.to_dict()).center_.tolist()
    [2.0, 5.0]
    >>> q = FeatureScaler(method="quantile").fit([[1.0], [2.0], [3.0], [1000.0]])
    >>> np.round(q.transform([[2.5], [1000.0], [1e9]]).ravel(), 2).tolist()
    [0.0, 3.0, 3.0]
    """

    def __init__(self, *, method: str = "robust", names: Sequence[str] | None = None):
        if method not in SCALERS:
            raise ValueError(f"unknown method {method!r}; choose one of {list(SCALERS)}")
        self.method = method
        self.names = None if names is None else tuple(str(n) for n in names)

    def __repr__(self) -> str:
        return f"FeatureScaler(method={self.method!r}, names={self.names!r})"

    # ------------------------------------------------------------ checks
    def check_is_fitted(self) -> None:
        """Raise :class:`NotFittedError` unless :meth:`fit` (or :meth:`from_dict`) ran."""
        if not hasattr(self, "center_"):
            raise NotFittedError(
                "this FeatureScaler is not fitted yet; call fit(x_train, mask_train) first, "
                "or load one with FeatureScaler.from_dict"
            )

    def _columns(self, x: Any, mask: Any, n_features: int | None) -> tuple[np.ndarray, Any]:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"x must be 2-D (rows, features), got shape {arr.shape}")
        expected = (
            n_features
            if n_features is not None
            else (len(self.names) if self.names is not None else None)
        )
        if expected is not None and arr.shape[1] != expected:
            raise ValueError(f"x has {arr.shape[1]} feature columns; expected {expected}")
        keep = None
        if mask is not None:
            keep = np.asarray(mask)
            if keep.shape != arr.shape:
                raise ValueError(f"mask shape {keep.shape} differs from x shape {arr.shape}")
            keep = keep.astype(bool)
        return arr, keep

    # --------------------------------------------------------------- API
    def fit(self, x: Any, mask: Any | None = None) -> FeatureScaler:
        """Learn the centre and scale of each column from training rows.

        Parameters
        ----------
        x : array_like, shape (n_rows, n_features)
            Training features only (never validation or test rows).
        mask : array_like, optional
            Same shape; entries where it is 0 are ignored (e.g. ``features_mask``).
            Non-finite entries are always ignored.

        Returns
        -------
        FeatureScaler
            ``self``.
        """
        arr, keep = self._columns(x, mask, None)
        usable = np.isfinite(arr) if keep is None else np.isfinite(arr) & keep
        stats = SCALERS[self.method]
        center = np.zeros(arr.shape[1])
        scale = np.ones(arr.shape[1])
        for j in range(arr.shape[1]):
            column = arr[usable[:, j], j]
            if column.size == 0:
                continue
            c, s = stats(column)
            center[j] = c
            scale[j] = s if np.isfinite(s) and s > 0 else 1.0
        self.center_ = center
        self.scale_ = scale
        self.n_features_in_ = int(arr.shape[1])
        if self.method == "quantile":
            levels = np.linspace(0.0, 100.0, N_QUANTILES)
            self.quantiles_ = np.array(
                [
                    np.percentile(arr[usable[:, j], j], levels)
                    if usable[:, j].any()
                    else np.zeros(N_QUANTILES)
                    for j in range(arr.shape[1])
                ]
            ).reshape(arr.shape[1], N_QUANTILES)
        return self

    def transform(self, x: Any, mask: Any | None = None) -> np.ndarray:
        """``(x − center_) / scale_`` (or the normal scores of ``method="quantile"``)
        as float32; entries where ``mask`` is 0 become 0.

        A masked entry is set to 0, the training centre, so it stays neutral.
        ``x`` is not modified.
        """
        self.check_is_fitted()
        arr, keep = self._columns(x, mask, self.n_features_in_)
        if self.method == "quantile":
            with np.errstate(invalid="ignore"):
                out = np.column_stack(
                    [_quantile_transform(arr[:, j], q) for j, q in enumerate(self.quantiles_)]
                ).reshape(arr.shape)
            flat = np.ptp(self.quantiles_, axis=1) == 0
            out = np.where(np.isfinite(arr) & ~flat, out, 0.0)
        else:
            out = (arr - self.center_) / self.scale_
        if keep is not None:
            out = np.where(keep, out, 0.0)
        return out.astype(np.float32)

    def fit_transform(self, x: Any, mask: Any | None = None) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same (training) rows."""
        return self.fit(x, mask).transform(x, mask)

    def to_dict(self) -> dict[str, Any]:
        """The fitted scaler as JSON-able plain data (``from_dict`` restores it exactly).

        Examples
        --------
        >>> import json
        >>> s = FeatureScaler(method="standard", names=["a"]).fit([[1.0], [3.0]])
        >>> json.dumps(s.to_dict(), sort_keys=True)
        '{"center": [2.0], "kind": "FeatureScaler", "method": "standard", "names": ["a"], \
"scale": [1.0], "version": 1}'
        """
        self.check_is_fitted()
        return {
            "kind": "FeatureScaler",
            "version": 1,
            "method": self.method,
            "names": None if self.names is None else list(self.names),
            "center": [float(v) for v in self.center_],
            "scale": [float(v) for v in self.scale_],
            **(
                {"quantiles": [[float(v) for v in row] for row in self.quantiles_]}
                if self.method == "quantile"
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureScaler:
        """Rebuild a fitted scaler from :meth:`to_dict` output."""
        missing = {"method", "center", "scale"} - set(data)
        if missing or data.get("kind", "FeatureScaler") != "FeatureScaler":
            raise ValueError(
                f"not a FeatureScaler dict (missing {sorted(missing)}); "
                "make it with FeatureScaler.to_dict()"
            )
        scaler = cls(method=data["method"], names=data.get("names"))
        center = np.asarray(data["center"], dtype=np.float64)
        scale = np.asarray(data["scale"], dtype=np.float64)
        n_names = None if scaler.names is None else len(scaler.names)
        if center.ndim != 1 or center.shape != scale.shape or n_names not in (None, center.size):
            raise ValueError("center, scale (and names) must be lists of one length")
        scaler.center_ = center
        scaler.scale_ = scale
        scaler.n_features_in_ = int(center.size)
        if scaler.method == "quantile":
            if "quantiles" not in data:
                raise ValueError("a quantile FeatureScaler dict needs its 'quantiles'")
            quantiles = np.asarray(data["quantiles"], dtype=np.float64)
            if quantiles.shape != (center.size, N_QUANTILES):
                raise ValueError(
                    f"quantiles must have shape ({center.size}, {N_QUANTILES}), "
                    f"got {quantiles.shape}"
                )
            scaler.quantiles_ = quantiles
        return scaler
