"""Light-curve data model: an immutable :class:`LightCurve`, a columnar :class:`LightCurveSet`.

A :class:`LightCurve` is the photometry of one object: times in days, magnitudes,
their 1σ errors and the band of every epoch (one object may have several bands).
It is frozen: transforms return new curves and say what they did in ``meta``.

A :class:`LightCurveSet` holds many objects column-wise: flat arrays of every
epoch plus ``offsets`` (object ``i`` owns epochs ``offsets[i]:offsets[i+1]``),
and a per-object table (``objects``: ``id``, optionally ``label`` and any other
columns such as ``period``). Its on-disk form is Parquet with one row per object
and a nested ``lightcurve`` column (a struct of equal-length lists: ``time``,
``mag``, ``err``, ``band``), the layout nested-pandas and LSDB read as a nested
frame.

Invariants, checked once where data enter (:func:`sanitize` repairs raw arrays
into this form and counts what it removed):

- ``time``, ``mag`` finite; ``time`` sorted (ascending) within an object;
- no two epochs of one band at the same time;
- ``err`` finite and positive, or NaN for every epoch when a survey gives no errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import readonly_array
from skyclass.exceptions import DataError

__all__ = ["GENERIC_LIMITS", "LC_COLUMN", "LightCurve", "LightCurveSet", "Limits", "sanitize"]

#: Version of the canonical Parquet layout written by :meth:`LightCurveSet.to_parquet`.
FORMAT_VERSION = 1
#: Name of the nested column holding each object's epochs in the canonical Parquet layout.
LC_COLUMN = "lightcurve"
_META_KEY = b"skyclass"
_ROW_GROUP = 20_000  # objects per Parquet row group: the unit of streamed reading
_FLAT_DTYPES = {"time": np.float64, "mag": np.float64, "err": np.float64, "band": np.int16}


def _freeze(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(meta or {}))


@dataclass(frozen=True)
class Limits:
    """Believable magnitudes and errors: epochs outside them are dropped as implausible.

    A survey writes sentinels such as 99.99 or -99.99 for "no measurement", and a
    corrupt value (1e30) is a finite number that would otherwise pass: both would
    dominate a period search or an amplitude.

    Parameters
    ----------
    mag : tuple of float
        Lowest and highest believable magnitude.
    err_max : float
        Largest believable 1σ magnitude error.

    Examples
    --------
    >>> Limits(mag=(5.0, 25.0)).mag_ok(np.array([15.0, 99.99, -99.99])).tolist()
    [True, False, False]
    """

    mag: tuple[float, float] = (-30.0, 40.0)
    err_max: float = 10.0

    def mag_ok(self, mag: np.ndarray) -> np.ndarray:
        """Whether each magnitude lies within the limits (NaN does not)."""
        lo, hi = self.mag
        return (mag >= lo) & (mag <= hi)

    def err_ok(self, err: np.ndarray) -> np.ndarray:
        """Whether each error is at most ``err_max`` (NaN passes: it is judged elsewhere)."""
        return ~(err > self.err_max)

    def describe(self) -> str:
        """The limits in words, for messages."""
        lo, hi = self.mag
        return f"magnitudes within [{lo:g}, {hi:g}], errors up to {self.err_max:g}"


#: Limits for any survey: wide enough for instrumental (negative) magnitudes.
GENERIC_LIMITS = Limits()


def _check_errors(err: np.ndarray) -> str | None:
    """Return what is wrong with ``err``, or None when it is acceptable."""
    if err.size and np.all(np.isnan(err)):
        return None  # the survey gives no errors
    if not np.all(np.isfinite(err)):
        return "some errors are NaN or infinite while others are given"
    if np.any(err <= 0):
        return "some errors are zero or negative"
    return None


@dataclass(frozen=True, eq=False)
class LightCurve:
    """Photometry of one object, possibly in several bands.

    Parameters
    ----------
    time : array_like
        Epochs in days (the zero point is in ``meta["time_ref"]`` and
        ``meta["time_offset"]``; a phase-folded curve has ``meta["time_ref"] == "phase"``).
    mag : array_like
        Magnitudes.
    err : array_like
        1σ magnitude errors, positive; all NaN when the survey gives none.
    band : str or array_like of str
        Band of every epoch, or one band for all of them.
    id : str
        Object identifier.
    meta : mapping
        Anything else known about the object and what was done to it.

    Raises
    ------
    DataError
        If the arrays differ in length, are empty, hold non-finite values,
        non-positive errors, unsorted or duplicate times. :func:`sanitize`
        repairs raw arrays first.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 1.0, 2.5], mag=[15.1, 15.3, 15.0], err=[0.01, 0.02, 0.01],
    ...                 band="I", id="star-1")
    >>> len(lc), lc.bands, lc.span
    (3, ('I',), 2.5)
    >>> lc.select_band("I").mag.tolist()
    [15.1, 15.3, 15.0]
    """

    time: np.ndarray
    mag: np.ndarray
    err: np.ndarray
    band: np.ndarray
    id: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        time = readonly_array(self.time, np.float64)
        mag = readonly_array(self.mag, np.float64)
        err = readonly_array(self.err, np.float64)
        band = np.asarray(self.band, dtype=str)
        if band.ndim == 0:
            band = np.full(time.shape, str(band))
        band = readonly_array(band, str)
        set_ = object.__setattr__
        set_(self, "time", time)
        set_(self, "mag", mag)
        set_(self, "err", err)
        set_(self, "band", band)
        set_(self, "id", str(self.id))
        set_(self, "meta", _freeze(self.meta))
        self._validate()

    def _fail(self, message: str) -> DataError:
        return DataError(
            f"{message}; use skyclass.sanitize(time, mag, err, band) to repair raw arrays",
            source=self.meta.get("source"),
            object_id=self.id or None,
        )

    def _validate(self) -> None:
        shapes = {a.shape for a in (self.time, self.mag, self.err, self.band)}
        if len(shapes) != 1 or self.time.ndim != 1:
            raise self._fail(
                "time, mag, err and band must be 1-D arrays of one length, got shapes "
                + ", ".join(str(a.shape) for a in (self.time, self.mag, self.err, self.band))
            )
        if self.time.size == 0:
            raise self._fail("the light curve has no epochs")
        if not (np.all(np.isfinite(self.time)) and np.all(np.isfinite(self.mag))):
            raise self._fail("time or mag holds NaN or infinite values")
        problem = _check_errors(self.err)
        if problem:
            raise self._fail(problem)
        dt = np.diff(self.time)
        if np.any(dt < 0):
            raise self._fail("times are not sorted")
        if np.any((dt == 0) & (self.band[1:] == self.band[:-1])):
            raise self._fail("two epochs of one band share a time")

    def __len__(self) -> int:
        return int(self.time.size)

    def __repr__(self) -> str:
        return (
            f"LightCurve(id={self.id!r}, n={len(self)}, bands={self.bands}, span={self.span:.6g} d)"
        )

    @property
    def bands(self) -> tuple[str, ...]:
        """Bands present, in order of first appearance."""
        _, first = np.unique(self.band, return_index=True)
        return tuple(str(self.band[i]) for i in np.sort(first))

    @property
    def span(self) -> float:
        """Time between the first and the last epoch, in days."""
        return float(self.time[-1] - self.time[0])

    @property
    def has_errors(self) -> bool:
        """Whether the survey gave magnitude errors."""
        return not bool(np.all(np.isnan(self.err)))

    def select_band(self, band: str) -> LightCurve:
        """Return the epochs of one band.

        Raises
        ------
        DataError
            If the curve has no epoch in ``band``; the message lists the bands it has.
        """
        keep = self.band == band
        if not keep.any():
            raise DataError(
                f"no epochs in band {band!r}; this curve has bands {list(self.bands)}",
                object_id=self.id or None,
            )
        return self.replace(
            time=self.time[keep], mag=self.mag[keep], err=self.err[keep], band=self.band[keep]
        )

    def one_band(self, band: str | None = None, *, purpose: str = "this step") -> LightCurve:
        """The epochs of ``band``, or the curve itself when it has a single band.

        Raises
        ------
        DataError
            When ``band`` is None and the curve has several bands (the message says
            which, and to pass ``band=``), or the curve has no epoch in ``band``.

        Examples
        --------
        >>> lc = LightCurve(time=[0, 1], mag=[1, 2], err=[.1, .1], band=["g", "r"], id="x")
        >>> lc.one_band("r").mag.tolist()
        [2.0]
        """
        if band is not None:
            return self.select_band(band)
        if len(self.bands) > 1:
            raise DataError(
                f"{purpose} needs one band but this curve has bands {list(self.bands)}; "
                f"pass band= one of them (e.g. band={self.bands[0]!r})",
                source=self.meta.get("source"),
                object_id=self.id or None,
            )
        return self

    def replace(self, *, meta: Mapping[str, Any] | None = None, **changes: Any) -> LightCurve:
        """Return a copy with some fields changed; ``meta`` is merged into the old meta.

        Examples
        --------
        >>> lc = LightCurve(time=[0, 1], mag=[1, 2], err=[0.1, 0.1], band="g")
        >>> lc.replace(meta={"period": 0.5}).meta["period"]
        0.5
        """
        fields = {
            "time": self.time,
            "mag": self.mag,
            "err": self.err,
            "band": self.band,
            "id": self.id,
            "meta": {**self.meta, **(meta or {})},
        }
        fields.update(changes)
        return LightCurve(**fields)

    def to_pandas(self) -> pd.DataFrame:
        """The epochs as a table with columns ``time, mag, err, band``."""
        return pd.DataFrame(
            {"time": self.time, "mag": self.mag, "err": self.err, "band": self.band}
        )


def sanitize(
    time: Any,
    mag: Any,
    err: Any | None = None,
    band: Any = "",
    *,
    id: str = "",
    meta: Mapping[str, Any] | None = None,
    min_epochs: int = 2,
    limits: Limits | None = GENERIC_LIMITS,
    missing_values: Sequence[float] = (),
) -> LightCurve:
    """Build a :class:`LightCurve` from raw survey arrays, repairing what can be repaired.

    Drops epochs with a non-finite time or magnitude, whose magnitude or error is
    one of ``missing_values`` (a survey's "no measurement"), outside ``limits``
    (implausible), with a non-finite or non-positive error (unless no epoch has an
    error, in which case errors are recorded as missing), and repeated epochs (same
    band and time: the first is kept); sorts by time. The counts go into
    ``meta["dropped"]``.

    Parameters
    ----------
    time, mag : array_like
        Raw epochs and magnitudes. Text that is not a number counts as non-finite.
    err : array_like, optional
        Raw errors; None when the survey gives none.
    band : str or array_like
        Band of every epoch, or one band for all.
    id : str
        Object identifier, used in error messages.
    meta : mapping, optional
        Object metadata; ``meta["source"]`` names the file in error messages.
    min_epochs : int
        Fewest epochs a usable curve may keep.
    limits : Limits or None
        Believable magnitudes and errors (:data:`GENERIC_LIMITS` by default; a
        survey reader passes its own); None keeps any finite value.
    missing_values : sequence of float
        Magnitudes or errors that mean "no measurement" (e.g. ``(-99.99, 99.99)``).

    Raises
    ------
    DataError
        If the arrays differ in length or fewer than ``min_epochs`` good epochs remain.

    Examples
    --------
    >>> lc = sanitize([2.0, 1.0, 1.0, 3.0, 4.0, 5.0], [10.0, 11.0, 11.0, float("nan"), 12.0, 1e30],
    ...               [0.1, 0.1, 0.1, 0.1, -1.0, 0.1], band="V")
    >>> lc.time.tolist(), dict(lc.meta["dropped"])
    ([1.0, 2.0], {'nonfinite': 1, 'missing': 0, 'implausible': 1, 'bad_err': 1, 'duplicate': 1})
    >>> lc = sanitize([1, 2, 3], [15.0, -99.99, 15.2], band="g", missing_values=[-99.99])
    >>> lc.mag.tolist(), lc.meta["dropped"]["missing"]
    ([15.0, 15.2], 1)
    """
    meta = dict(meta or {})
    source = meta.get("source")
    t = _as_float(time, "time", source, id)
    m = _as_float(mag, "mag", source, id)
    e = np.full(t.shape, np.nan) if err is None else _as_float(err, "err", source, id)
    b = np.asarray(band, dtype=str)
    if b.ndim == 0:
        b = np.full(t.shape, str(b))
    if not (t.shape == m.shape == e.shape == b.shape) or t.ndim != 1:
        raise DataError(
            f"time, mag, err and band lengths differ ({t.size}, {m.size}, {e.size}, {b.size}); "
            "check the file is complete (a truncated file loses columns on its last line)",
            source=source,
            object_id=id or None,
        )
    good = np.isfinite(t) & np.isfinite(m)
    n_nonfinite = int((~good).sum())
    n_missing = n_implausible = 0
    if len(missing_values):
        missing = good & (np.isin(m, missing_values) | np.isin(e, missing_values))
        n_missing = int(missing.sum())
        good &= ~missing
    if limits is not None:
        implausible = good & ~(limits.mag_ok(m) & limits.err_ok(e))
        n_implausible = int(implausible.sum())
        good &= ~implausible
    errors_given = bool(np.any(np.isfinite(e[good])))
    n_bad_err = 0
    if errors_given:
        bad_err = ~(np.isfinite(e) & (e > 0)) & good
        n_bad_err = int(bad_err.sum())
        good &= ~bad_err
    else:
        e = np.full(t.shape, np.nan)
    t, m, e, b = t[good], m[good], e[good], b[good]
    order = np.lexsort((b, t))
    t, m, e, b = t[order], m[order], e[order], b[order]
    dup = np.zeros(t.shape, bool)
    dup[1:] = (t[1:] == t[:-1]) & (b[1:] == b[:-1])
    n_dup = int(dup.sum())
    t, m, e, b = t[~dup], m[~dup], e[~dup], b[~dup]
    if t.size < min_epochs:
        raise DataError(
            f"only {t.size} good epoch(s) after dropping {n_nonfinite} non-finite, "
            + (f"{n_missing} marked missing, " if n_missing else "")
            + (
                f"{n_implausible} implausible (outside {limits.describe()}), "
                if n_implausible and limits is not None
                else ""
            )
            + f"{n_bad_err} with bad errors and {n_dup} repeated; at least {min_epochs} are "
            "needed (lower min_epochs to keep such curves, or exclude the object)",
            source=source,
            object_id=id or None,
        )
    meta["dropped"] = {
        "nonfinite": n_nonfinite,
        "missing": n_missing,
        "implausible": n_implausible,
        "bad_err": n_bad_err,
        "duplicate": n_dup,
    }
    return LightCurve(time=t, mag=m, err=e, band=b, id=id, meta=meta)


def _as_float(values: Any, name: str, source: str | None, id: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64, copy=False).ravel()
    converted = pd.to_numeric(pd.Series(arr.ravel()), errors="coerce").to_numpy(np.float64)
    if arr.size and np.isnan(converted).all():
        raise DataError(
            f"column {name!r} holds no numbers (first value {arr.ravel()[0]!r}); "
            "check the column mapping or the file format",
            source=source,
            object_id=id or None,
        )
    return converted


class LightCurveSet:
    """Many light curves stored column-wise, with a per-object table.

    Parameters
    ----------
    time, mag, err : ndarray
        Flat arrays of all epochs, object after object.
    band : ndarray of int
        Flat band codes indexing ``bands``.
    bands : sequence of str
        Band names.
    offsets : ndarray of int
        ``len(objects) + 1`` positions; object ``i`` owns ``offsets[i]:offsets[i+1]``.
    objects : DataFrame
        One row per object; column ``id`` (unique strings) is required, ``label``
        is the class or target when known, any other column is object metadata.
    meta : mapping
        Set-wide facts: ``survey``, ``time_ref``, ``time_offset``, ``skipped``
        (objects that could not be read, with reasons), ...

    Use :meth:`from_lightcurves` to build one from curves, a reader from
    :mod:`skyclass.io` to build one from survey files, and :meth:`read_parquet`
    to load the canonical format.

    Examples
    --------
    >>> a = LightCurve(time=[0, 1, 2], mag=[10, 11, 10], err=[.1, .1, .1], band="g", id="a")
    >>> b = LightCurve(time=[0, 2], mag=[12, 12.5], err=[.2, .2], band="r", id="b")
    >>> s = LightCurveSet.from_lightcurves([a, b], labels=["RR", "EB"])
    >>> len(s), s.bands, s.labels.tolist(), s.n_epochs.tolist()
    (2, ('g', 'r'), ['RR', 'EB'], [3, 2])
    >>> s["b"].mag.tolist()
    [12.0, 12.5]
    """

    def __init__(
        self,
        *,
        time: np.ndarray,
        mag: np.ndarray,
        err: np.ndarray,
        band: np.ndarray,
        bands: Sequence[str],
        offsets: np.ndarray,
        objects: pd.DataFrame,
        meta: Mapping[str, Any] | None = None,
    ):
        self.time = readonly_array(time, np.float64)
        self.mag = readonly_array(mag, np.float64)
        self.err = readonly_array(err, np.float64)
        self.band = readonly_array(band, np.int16)
        self.bands = tuple(str(b) for b in bands)
        self.offsets = readonly_array(offsets, np.int64)
        self.objects = objects.reset_index(drop=True)
        self.meta = dict(meta or {})
        self._check()
        self._index: dict[str, int] | None = None

    def _check(self) -> None:
        n = self.time.size
        if not (self.mag.size == self.err.size == self.band.size == n):
            raise DataError("flat time, mag, err and band arrays must have one length")
        if self.offsets.size != len(self.objects) + 1:
            raise DataError(
                f"{self.offsets.size} offsets for {len(self.objects)} objects; "
                "offsets needs one more entry than objects"
            )
        if self.offsets[0] != 0 or self.offsets[-1] != n or np.any(np.diff(self.offsets) < 1):
            raise DataError("offsets must start at 0, end at the epoch count and rise strictly")
        if "id" not in self.objects.columns:
            raise DataError("the objects table needs an 'id' column")
        ids = self.objects["id"]
        if ids.duplicated().any():
            dup = ids[ids.duplicated()].iloc[:5].tolist()
            raise DataError(f"object ids must be unique; repeated: {dup}")
        if self.band.size and (self.band.min() < 0 or self.band.max() >= len(self.bands)):
            raise DataError("band codes must index the bands tuple")

    # ------------------------------------------------------------------ build
    @classmethod
    def from_lightcurves(
        cls,
        curves: Sequence[LightCurve],
        *,
        labels: Sequence[Any] | None = None,
        objects: pd.DataFrame | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> LightCurveSet:
        """Stack curves into a set.

        Parameters
        ----------
        curves : sequence of LightCurve
            The curves; their ``id`` values must be unique (empty ids become ``"0"``, ``"1"``...).
        labels : sequence, optional
            One label per curve, stored as the ``label`` column.
        objects : DataFrame, optional
            Extra per-object columns, one row per curve in the same order.
        meta : mapping, optional
            Set-wide metadata.
        """
        curves = list(curves)
        if not curves:
            raise DataError("no light curves to put in the set")
        lengths = np.array([len(lc) for lc in curves], dtype=np.int64)
        offsets = np.zeros(len(curves) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        codes, uniques = pd.factorize(np.concatenate([lc.band for lc in curves]))
        band_codes, bands = codes.astype(np.int16), tuple(str(b) for b in uniques)
        table = pd.DataFrame({"id": [lc.id or str(i) for i, lc in enumerate(curves)]})
        if objects is not None:
            if len(objects) != len(curves):
                raise DataError(f"objects has {len(objects)} rows for {len(curves)} curves")
            extra = objects.reset_index(drop=True).drop(columns="id", errors="ignore")
            table = pd.concat([table, extra], axis=1)
        if labels is not None:
            if len(labels) != len(curves):
                raise DataError(f"{len(labels)} labels for {len(curves)} curves")
            table["label"] = list(labels)
        return cls(
            time=np.concatenate([lc.time for lc in curves]),
            mag=np.concatenate([lc.mag for lc in curves]),
            err=np.concatenate([lc.err for lc in curves]),
            band=band_codes,
            bands=bands,
            offsets=offsets,
            objects=table,
            meta=meta,
        )

    # ------------------------------------------------------------ inspection
    def __len__(self) -> int:
        return len(self.objects)

    def __repr__(self) -> str:
        survey = self.meta.get("survey", "?")
        return (
            f"LightCurveSet(n_objects={len(self)}, n_epochs={self.time.size}, "
            f"bands={self.bands}, survey={survey!r})"
        )

    @property
    def ids(self) -> np.ndarray:
        """Object identifiers."""
        return self.objects["id"].to_numpy()

    @property
    def labels(self) -> np.ndarray:
        """The ``label`` column (None where the set has no labels)."""
        if "label" not in self.objects.columns:
            return np.full(len(self), None, dtype=object)
        return self.objects["label"].to_numpy()

    @property
    def n_epochs(self) -> np.ndarray:
        """Number of epochs of each object (all bands)."""
        return np.diff(self.offsets)

    @property
    def skipped(self) -> list[dict[str, Any]]:
        """Objects that could not be read, each ``{"id", "source", "reason"}``."""
        return list(self.meta.get("skipped", []))

    def class_counts(self) -> pd.Series:
        """Objects per label, largest first (empty when unlabelled)."""
        if "label" not in self.objects.columns:
            return pd.Series(dtype=np.int64)
        return self.objects["label"].value_counts(dropna=True)

    def epochs_per_band(self) -> pd.DataFrame:
        """Epochs of every object in every band, as an objects × bands table."""
        obj = np.repeat(np.arange(len(self)), self.n_epochs)
        counts = np.zeros((len(self), len(self.bands)), dtype=np.int64)
        np.add.at(counts, (obj, self.band), 1)
        return pd.DataFrame(counts, columns=list(self.bands), index=self.objects["id"])

    # ----------------------------------------------------------- selection
    def _position(self, key: str) -> int:
        if self._index is None:
            self._index = {str(k): i for i, k in enumerate(self.objects["id"])}
        try:
            return self._index[key]
        except KeyError:
            raise KeyError(f"no object with id {key!r} in this set") from None

    def lightcurve(self, i: int) -> LightCurve:
        """The ``i``-th object as a :class:`LightCurve` (row metadata in its ``meta``)."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"object {i} out of range for a set of {n}")
        i %= n
        row = self.objects.iloc[[i]].to_dict("records")[0]  # as __iter__ reads rows
        return self._curve(i, row, np.asarray(self.bands))

    def _curve(self, i: int, row: Mapping[str, Any], band_names: np.ndarray) -> LightCurve:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        meta = {k: v for k, v in self.meta.items() if k != "skipped"}
        meta.update({k: v for k, v in row.items() if k != "id"})
        return LightCurve(
            time=self.time[lo:hi],
            mag=self.mag[lo:hi],
            err=self.err[lo:hi],
            band=band_names[self.band[lo:hi]],
            id=str(row["id"]),
            meta=meta,
        )

    def __getitem__(self, key: Any) -> LightCurve | LightCurveSet:
        """``s[i]`` or ``s["id"]`` gives a curve; a slice, mask or index array gives a set."""
        if isinstance(key, str):
            return self.lightcurve(self._position(key))
        if isinstance(key, int | np.integer):
            return self.lightcurve(int(key))
        return self.select(key)

    def __iter__(self) -> Iterator[LightCurve]:
        band_names = np.asarray(self.bands)
        for i, row in enumerate(self.objects.to_dict("records")):  # rows read once, not per curve
            yield self._curve(i, row, band_names)

    def select(self, which: Any) -> LightCurveSet:
        """A new set of the chosen objects, in the given order.

        Parameters
        ----------
        which : slice, boolean mask, integer positions or sequence of ids
        """
        if isinstance(which, slice):
            idx = np.arange(len(self))[which]
        else:
            arr = np.asarray(which)
            if arr.dtype == bool:
                if arr.shape != (len(self),):
                    raise IndexError(f"mask has shape {arr.shape}, expected ({len(self)},)")
                idx = np.flatnonzero(arr)
            elif arr.dtype.kind in "iu":
                idx = arr.astype(np.int64)
            else:
                idx = np.array([self._position(str(k)) for k in arr], dtype=np.int64)
        if idx.size == 0:
            raise DataError("the selection is empty; a LightCurveSet holds at least one object")
        lengths = self.n_epochs[idx]
        starts = self.offsets[idx]
        offsets = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        take = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return LightCurveSet(
            time=self.time[take],
            mag=self.mag[take],
            err=self.err[take],
            band=self.band[take],
            bands=self.bands,
            offsets=offsets,
            objects=self.objects.iloc[idx],
            meta=self.meta,
        )

    def with_objects(
        self, objects: pd.DataFrame, *, meta: Mapping[str, Any] | None = None
    ) -> LightCurveSet:
        """The same curves with a new objects table (same order and ids); ``meta`` is merged.

        Examples
        --------
        >>> lc = LightCurve(time=[0, 1], mag=[1, 2], err=[.1, .1], band="g", id="x")
        >>> s = LightCurveSet.from_lightcurves([lc])
        >>> s.with_objects(s.objects.assign(label=["RR"])).labels.tolist()
        ['RR']
        """
        if "id" not in objects.columns or not np.array_equal(
            objects["id"].astype(str).to_numpy(), self.objects["id"].astype(str).to_numpy()
        ):
            raise DataError("the new objects table must keep the ids, in the same order")
        return LightCurveSet(
            time=self.time,
            mag=self.mag,
            err=self.err,
            band=self.band,
            bands=self.bands,
            offsets=self.offsets,
            objects=objects,
            meta={**self.meta, **(meta or {})},
        )

    @classmethod
    def concat(
        cls, sets: Sequence[LightCurveSet], *, meta: Mapping[str, Any] | None = None
    ) -> LightCurveSet:
        """One set of the objects of ``sets``, in order (their bands must be the same).

        ``meta`` is that of the result (default: a copy of the first set's). The
        bands must be the same names in the same order.

        Raises
        ------
        DataError
            When ``sets`` is empty or their bands differ (the message names them).

        Examples
        --------
        >>> a = LightCurve(time=[0, 1], mag=[1, 2], err=[.1, .1], band="g", id="a")
        >>> b = LightCurve(time=[0, 1, 2], mag=[3, 4, 5], err=[.1] * 3, band="g", id="b")
        >>> s = LightCurveSet.concat([LightCurveSet.from_lightcurves([x]) for x in (a, b)])
        >>> s.ids.tolist(), s.n_epochs.tolist(), s.mag.tolist()
        (['a', 'b'], [2, 3], [1.0, 2.0, 3.0, 4.0, 5.0])
        """
        if not sets:
            raise DataError("nothing to join: give at least one LightCurveSet")
        bands = [tuple(x.bands) for x in sets]
        if len(set(bands)) > 1:
            raise DataError(
                f"the sets have different bands {sorted(set(bands))}; give each the same "
                "band names first (e.g. skyclass.pretrained.as_model_band)"
            )
        offsets = [sets[0].offsets]
        for x in sets[1:]:
            offsets.append(x.offsets[1:] + offsets[-1][-1])
        return cls(
            time=np.concatenate([x.time for x in sets]),
            mag=np.concatenate([x.mag for x in sets]),
            err=np.concatenate([x.err for x in sets]),
            band=np.concatenate([x.band for x in sets]),
            bands=sets[0].bands,
            offsets=np.concatenate(offsets),
            objects=pd.concat([x.objects for x in sets], ignore_index=True),
            meta=dict(sets[0].meta) if meta is None else meta,
        )

    def split(
        self,
        fractions: Sequence[float] = (0.6, 0.1, 0.3),
        *,
        names: Sequence[str] = ("train", "val", "test"),
        stratify: bool = True,
        group: str | None = None,
        seed: int = 0,
    ) -> dict[str, LightCurveSet]:
        """Split objects into disjoint subsets, stratified by label, before anything is fitted.

        Parameters
        ----------
        fractions : sequence of float
            Share of each subset; normalised to sum to one.
        names : sequence of str
            Subset names, one per fraction.
        stratify : bool
            Keep class proportions in every subset (needs a ``label`` column).
        group : str, optional
            Column whose equal values must stay together (e.g. one star seen by two
            surveys); the group's first label stratifies it.
        seed : int
            Seed of the shuffle; the same seed gives the same split.

        Returns
        -------
        dict of str to LightCurveSet

        Examples
        --------
        >>> lcs = [LightCurve(time=[0, 1], mag=[1, 2], err=[.1, .1], band="g", id=str(i))
        ...        for i in range(10)]
        >>> s = LightCurveSet.from_lightcurves(lcs, labels=["a"] * 5 + ["b"] * 5)
        >>> parts = s.split((0.6, 0.4), names=("train", "test"), seed=1)
        >>> [len(p) for p in parts.values()]
        [6, 4]
        """
        frac = np.asarray(fractions, dtype=float)
        if len(frac) != len(names) or np.any(frac < 0) or frac.sum() <= 0:
            raise ValueError("give one non-negative fraction per subset name")
        frac = frac / frac.sum()
        keys = self.objects[group].to_numpy() if group else np.arange(len(self))
        unit_keys, unit_of = np.unique(keys.astype(str), return_inverse=True)
        n_units = unit_keys.size
        if stratify and "label" in self.objects.columns:
            first = np.full(n_units, -1)
            first[unit_of[::-1]] = np.arange(len(self))[::-1]
            strata = self.objects["label"].astype(str).to_numpy()[first]
        else:
            strata = np.zeros(n_units, dtype=str)
        rng = np.random.default_rng(seed)
        assignment = np.empty(n_units, dtype=np.int64)
        for stratum in np.unique(strata):
            members = rng.permutation(np.flatnonzero(strata == stratum))
            cuts = np.floor(np.cumsum(frac)[:-1] * members.size + 0.5).astype(int)
            for k, part in enumerate(np.split(members, cuts)):
                assignment[part] = k
        object_part = assignment[unit_of]
        out = {}
        for k, name in enumerate(names):
            idx = np.flatnonzero(object_part == k)
            if idx.size:
                out[name] = self.select(idx)
        return out

    def summary(self) -> dict[str, Any]:
        """Counts a person checks first: objects, bands, epochs, span, classes, skipped.

        A numeric ``label`` (a regression target) is summarised by its range under
        ``target`` instead of being counted by value under ``classes``.
        """
        n = self.n_epochs
        span = np.maximum.reduceat(self.time, self.offsets[:-1]) - np.minimum.reduceat(
            self.time, self.offsets[:-1]
        )
        per_band = self.epochs_per_band()
        labels = self.objects["label"] if "label" in self.objects.columns else pd.Series([])
        numeric_label = pd.api.types.is_float_dtype(labels.dtype)
        labels = labels.to_numpy(np.float64) if numeric_label else labels
        return {
            "survey": self.meta.get("survey"),
            "n_objects": len(self),
            "n_epochs": int(self.time.size),
            "bands": list(self.bands),
            "epochs_per_curve": _quantiles(n),
            "epochs_per_band_median": {b: float(per_band[b].median()) for b in self.bands},
            "time_span_days": _quantiles(span),
            "time_ref": self.meta.get("time_ref"),
            "classes": {}
            if numeric_label
            else {str(k): int(v) for k, v in self.class_counts().items()},
            "target": _quantiles(labels[np.isfinite(labels)]) if numeric_label else {},
            "n_unlabelled": int(pd.isna(self.objects["label"]).sum())
            if "label" in self.objects.columns
            else len(self),
            "n_skipped": len(self.skipped),
        }

    # ------------------------------------------------------------ Parquet
    def to_arrow(self):
        """The set as a pyarrow Table: object columns plus the nested ``lightcurve`` column."""
        import pyarrow as pa

        offsets = pa.array(self.offsets.astype(np.int32 if self.time.size < 2**31 else np.int64))
        list_type = pa.ListArray if offsets.type == pa.int32() else pa.LargeListArray
        band_names = pa.array(list(self.bands), type=pa.string())
        band_values = pa.DictionaryArray.from_arrays(pa.array(self.band), band_names).cast(
            pa.string()
        )
        nested = pa.StructArray.from_arrays(
            [
                list_type.from_arrays(offsets, pa.array(self.time)),
                list_type.from_arrays(offsets, pa.array(self.mag)),
                list_type.from_arrays(offsets, pa.array(self.err)),
                list_type.from_arrays(offsets, band_values),
            ],
            names=["time", "mag", "err", "band"],
        )
        table = pa.Table.from_pandas(self.objects, preserve_index=False)
        table = table.append_column(LC_COLUMN, nested)
        info = {
            "format_version": FORMAT_VERSION,
            "bands": list(self.bands),
            "n_epochs": int(self.time.size),
            "meta": self.meta,
        }
        metadata = dict(table.schema.metadata or {})
        metadata[_META_KEY] = json.dumps(info, default=_json_default).encode()
        return table.replace_schema_metadata(metadata)

    def to_parquet(self, path: str | PathLike[str]) -> Path:
        """Write the canonical Parquet file (one row per object, nested light curves).

        Examples
        --------
        >>> import tempfile, os
        >>> lc = LightCurve(time=[0, 1], mag=[1, 2], err=[.1, .1], band="g", id="x")
        >>> s = LightCurveSet.from_lightcurves([lc], labels=["RR"])
        >>> path = s.to_parquet(os.path.join(tempfile.mkdtemp(), "set.parquet"))
        >>> LightCurveSet.read_parquet(path).labels.tolist()
        ['RR']
        """
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        pq.write_table(self.to_arrow(), tmp, row_group_size=_ROW_GROUP)
        tmp.replace(path)
        return path

    @classmethod
    def from_arrow(cls, table, *, source: str = "<table>") -> LightCurveSet:
        """Build a set from a pyarrow Table in the canonical layout.

        The table may be any slice of a canonical file (some row groups, a range of
        rows): the file's epoch count in the schema metadata is not relied on.
        """
        return cls._from_batches(table.to_batches(), table.schema, source=source, whole=False)

    @classmethod
    def read_parquet(cls, path: str | PathLike[str], *, batch_size: int = 20_000) -> LightCurveSet:
        """Read the canonical Parquet file written by :meth:`to_parquet`.

        The file is read ``batch_size`` objects at a time into arrays sized from
        its metadata, so memory stays close to the size of the set itself.

        Bad objects never cost the others: a row whose lists differ in length or
        are empty, or whose id is repeated with different data, is skipped and
        listed in ``meta["skipped"]``; an object with non-finite, implausible or
        repeated epochs, or unsorted times, is repaired as :func:`sanitize` would,
        with the counts added to ``meta["dropped_epochs"]``.

        Raises
        ------
        DataError
            If the file is missing, not Parquet, or not in the canonical layout.
        """
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.exists():
            raise DataError("file not found", source=str(path))
        try:
            parquet = pq.ParquetFile(path, pre_buffer=False)
            return cls._from_batches(
                parquet.iter_batches(batch_size=batch_size), parquet.schema_arrow, source=str(path)
            )
        except DataError:
            raise
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise DataError(
                f"not a readable Parquet file ({exc}); was it truncated? rewrite it with "
                "`skyclass convert`",
                source=str(path),
            ) from exc

    @classmethod
    def _from_batches(cls, batches, schema, *, source: str, whole: bool = True) -> LightCurveSet:
        import pyarrow as pa
        import pyarrow.compute as pc

        if LC_COLUMN not in schema.names:
            raise DataError(
                f"no {LC_COLUMN!r} column: this is not a skyclass light-curve set; convert "
                "survey files first with `skyclass convert INPUT --format NAME -o set.parquet`",
                source=source,
            )
        raw = (schema.metadata or {}).get(_META_KEY)
        info = json.loads(raw) if raw else {}
        bands: list[str] = list(info.get("bands", []))
        total = info.get("n_epochs") if whole else None
        flat: dict[str, list[np.ndarray] | np.ndarray] = {}
        if total is not None:  # fill preallocated arrays batch by batch
            flat = {k: np.empty(total, dt) for k, dt in _FLAT_DTYPES.items()}
        else:
            flat = {k: [] for k in _FLAT_DTYPES}
        lengths, objects, filled = [], [], 0
        skipped: list[dict[str, Any]] = []
        for batch in batches:
            batch, unusable = _usable_rows(batch, source)
            skipped += unusable
            if not batch.num_rows:
                continue
            nested = batch.column(LC_COLUMN)
            columns = {k: nested.field(k) for k in _FLAT_DTYPES}
            lengths.append(pc.list_value_length(columns["time"]).to_numpy(zero_copy_only=False))
            encoded = pc.dictionary_encode(columns["band"].flatten())
            names = [str(b) for b in encoded.dictionary.to_pylist()]
            bands += [b for b in names if b not in bands]
            remap = np.array([bands.index(b) for b in names] or [0], dtype=np.int16)
            values = {
                k: columns[k].flatten().to_numpy(zero_copy_only=False)
                for k in ("time", "mag", "err")
            }
            values["band"] = remap[encoded.indices.to_numpy(zero_copy_only=False)]
            n = values["time"].size
            if total is not None and filled + n > total:  # an edited file: the count is stale
                flat = {k: [v[:filled]] for k, v in flat.items()}
                total = None
            for k, v in values.items():
                if total is not None:
                    flat[k][filled : filled + n] = v
                else:
                    flat[k].append(v)
            filled += n
            objects.append(pa.Table.from_batches([batch.drop_columns([LC_COLUMN])]))
        if not objects:
            reasons = "; ".join(f"{s['id']}: {s['reason']}" for s in skipped[:3])
            raise DataError(
                "the set holds no objects"
                + (f" ({len(skipped)} unusable; first reasons: {reasons})" if skipped else ""),
                source=source,
            )
        if total is None:
            flat = {k: np.concatenate(v) for k, v in flat.items()}
        elif filled != total:  # rows were skipped or the file edited after writing
            flat = {k: v[:filled] for k, v in flat.items()}
        table = pa.concat_tables(objects).to_pandas()
        meta = dict(info.get("meta", {}))
        repair = _repair_epochs(flat, np.concatenate(lengths), table, source)
        flat, lengths_all, table = repair.flat, repair.lengths, repair.objects
        skipped += repair.skipped
        flat, lengths_all, table, repeated = _drop_repeated_ids(flat, lengths_all, table, source)
        skipped += repeated
        if skipped or repair.n_repaired:
            meta["skipped"] = [*meta.get("skipped", []), *skipped]
            counts = dict(meta.get("dropped_epochs") or {})
            for key, n in repair.dropped.items():
                counts[key] = int(counts.get(key, 0)) + n
            meta["dropped_epochs"] = counts
            meta["repaired_objects"] = int(meta.get("repaired_objects", 0)) + repair.n_repaired
        if not len(table):
            raise DataError(
                f"the set holds no usable object ({len(skipped)} unusable; first reason: "
                f"{skipped[0]['reason']})",
                source=source,
            )
        offsets = np.zeros(lengths_all.size + 1, dtype=np.int64)
        np.cumsum(lengths_all, out=offsets[1:])
        for arr in flat.values():
            arr.setflags(write=False)
        return cls(**flat, bands=bands, offsets=offsets, objects=table, meta=meta)

    def equals(self, other: LightCurveSet) -> bool:
        """Whether two sets hold exactly the same curves, tables, bands and metadata."""
        return (
            self.bands == other.bands
            and np.array_equal(self.offsets, other.offsets)
            and np.array_equal(self.time, other.time)
            and np.array_equal(self.mag, other.mag)
            and np.array_equal(self.err, other.err, equal_nan=True)
            and np.array_equal(self.band, other.band)
            and self.objects.equals(other.objects)
            and json.dumps(self.meta, default=_json_default, sort_keys=True)
            == json.dumps(other.meta, default=_json_default, sort_keys=True)
        )


# ------------------------------------------------- repairs of canonical files at the door
def _row_ids(batch) -> np.ndarray:
    """Object ids of a record batch for messages (row numbers when there is no id column)."""
    if "id" in batch.schema.names:
        return batch.column("id").to_numpy(zero_copy_only=False).astype(str)
    return np.array([f"row {i}" for i in range(batch.num_rows)])


def _usable_rows(batch, source: str) -> tuple[Any, list[dict[str, Any]]]:
    """The rows of ``batch`` whose light curve can be read, and why the others cannot.

    A row is unusable when its light curve (or one of its lists) is null or empty,
    or when its ``time``, ``mag``, ``err`` and ``band`` lists differ in length: no
    epoch can then be matched with its magnitude, so the object is skipped whole.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    nested = batch.column(LC_COLUMN)
    null = nested.is_null().to_numpy(zero_copy_only=False)
    lengths = np.stack(
        [
            pc.fill_null(pc.list_value_length(nested.field(k)), -1).to_numpy(zero_copy_only=False)
            for k in _FLAT_DTYPES
        ]
    )
    null |= (lengths < 0).any(axis=0)
    uneven = (lengths != lengths[0]).any(axis=0) & ~null
    empty = (lengths[0] == 0) & ~null & ~uneven
    bad = null | uneven | empty
    if not bad.any():
        return batch, []
    ids = _row_ids(batch)
    skipped = []
    for i in np.flatnonzero(bad):
        if null[i]:
            reason = "its light curve is null; drop the row or give it epochs"
        elif empty[i]:
            reason = "its light curve has no epochs; drop the row or give it epochs"
        else:
            reason = (
                "its time, mag, err and band lists differ in length ("
                + ", ".join(str(n) for n in lengths[:, i])
                + "); rewrite the row with one value per epoch in every list"
            )
        skipped.append({"id": str(ids[i]), "source": source, "reason": reason})
    return batch.filter(pa.array(~bad)), skipped


@dataclass
class _Repair:
    flat: dict[str, np.ndarray]
    lengths: np.ndarray
    objects: pd.DataFrame
    skipped: list[dict[str, Any]]
    dropped: dict[str, int]
    n_repaired: int


def _holds_invariants(
    time: np.ndarray, mag: np.ndarray, err: np.ndarray, band: np.ndarray, lengths: np.ndarray
) -> bool:
    """A quick yes for the usual file, where every object gives errors and all is in order."""
    with np.errstate(invalid="ignore"):
        good = np.isfinite(time) & GENERIC_LIMITS.mag_ok(mag)
        good &= (err > 0) & (err <= GENERIC_LIMITS.err_max)  # False for NaN and inf
        if not good.all():
            return False
        step = np.diff(time)
    disorder = (step < 0) | ((step == 0) & (band[1:] == band[:-1]))
    disorder[np.cumsum(lengths)[:-1] - 1] = False  # one object's last epoch, the next one's first
    return not disorder.any()


def _repair_epochs(
    flat: dict[str, np.ndarray], lengths: np.ndarray, objects: pd.DataFrame, source: str
) -> _Repair:
    """Bring every object of a flat set to the invariants, as :func:`sanitize` does one curve.

    Objects that already hold them are left exactly as they are; the others lose
    their non-finite, implausible and repeated epochs and are sorted by time. An
    object left with no epoch is skipped with the reason.
    """
    time, mag, err, band = flat["time"], flat["mag"], flat["err"], flat["band"]
    if _holds_invariants(time, mag, err, band, lengths):
        return _Repair(flat, lengths, objects, [], {}, 0)
    n_obj = lengths.size
    obj = np.repeat(np.arange(n_obj), lengths)
    finite = np.isfinite(time) & np.isfinite(mag)
    plausible = finite & GENERIC_LIMITS.mag_ok(mag)
    has_err = np.zeros(n_obj, bool)
    has_err[obj[plausible & np.isfinite(err)]] = True
    given = has_err[obj]
    err_ok = ~given | (np.isfinite(err) & (err > 0))
    err_plausible = ~given | GENERIC_LIMITS.err_ok(err)
    good = plausible & err_ok & err_plausible
    same = np.zeros(time.size, bool)
    same[1:] = obj[1:] == obj[:-1]
    with np.errstate(invalid="ignore"):
        step = np.r_[np.inf, np.diff(time)]
    disorder = same & ((step < 0) | ((step == 0) & (band == np.r_[-1, band[:-1]])))
    stray_err = ~given & ~np.isnan(err)  # no errors given, yet some are not NaN
    bad_epoch = ~good | disorder | stray_err
    if not bad_epoch.any():
        return _Repair(flat, lengths, objects, [], {}, 0)
    bad_obj = np.zeros(n_obj, bool)
    bad_obj[obj[bad_epoch]] = True
    err = np.where(given, err, np.nan)
    fix = np.flatnonzero(good & bad_obj[obj])
    fix = fix[np.lexsort((band[fix], time[fix], obj[fix]))]
    dup = np.zeros(fix.size, bool)
    dup[1:] = (
        (obj[fix][1:] == obj[fix][:-1])
        & (time[fix][1:] == time[fix][:-1])
        & (band[fix][1:] == band[fix][:-1])
    )
    fix = fix[~dup]
    take = np.concatenate([np.flatnonzero(~bad_obj[obj]), fix])
    take = take[np.argsort(obj[take], kind="stable")]
    new_lengths = np.bincount(obj[take], minlength=n_obj)
    empty = new_lengths == 0
    ids = objects["id"].astype(str).to_numpy() if "id" in objects else np.arange(n_obj)
    skipped = [
        {
            "id": str(ids[i]),
            "source": source,
            "reason": "no epoch has a finite, plausible time, magnitude and error; "
            "drop the row or fix its values",
        }
        for i in np.flatnonzero(empty)
    ]
    dropped = {
        "nonfinite": int((~finite).sum()),
        "implausible": int((finite & ~(plausible & err_plausible)).sum()),
        "bad_err": int((plausible & err_plausible & ~err_ok).sum()),
        "duplicate": int(dup.sum()),
    }
    repaired = _Repair(
        flat={"time": time[take], "mag": mag[take], "err": err[take], "band": band[take]},
        lengths=new_lengths[~empty],
        objects=objects.loc[~empty].reset_index(drop=True),
        skipped=skipped,
        dropped=dropped,
        n_repaired=int((bad_obj & ~empty).sum()),
    )
    return repaired


def _drop_repeated_ids(
    flat: dict[str, np.ndarray], lengths: np.ndarray, objects: pd.DataFrame, source: str
) -> tuple[dict[str, np.ndarray], np.ndarray, pd.DataFrame, list[dict[str, Any]]]:
    """Keep one copy of an id repeated with identical rows; skip every copy when they differ."""
    if "id" not in objects.columns:
        return flat, lengths, objects, []
    ids = objects["id"].astype(str)
    repeated = ids.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return flat, lengths, objects, []
    offsets = np.r_[0, np.cumsum(lengths)]
    keep = ~repeated
    skipped = []
    for key, rows in ids[repeated].groupby(ids[repeated]).groups.items():
        rows = list(rows)
        copies = [
            (
                objects.iloc[[i]].reset_index(drop=True),
                [flat[k][offsets[i] : offsets[i + 1]] for k in _FLAT_DTYPES],
            )
            for i in rows
        ]
        first_row, first_lc = copies[0]
        same = all(
            row.equals(first_row)
            and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(lc, first_lc, strict=True))
            for row, lc in copies[1:]
        )
        if same:
            keep[rows[0]] = True
            continue
        skipped.append(
            {
                "id": str(key),
                "source": source,
                "reason": f"the id is used by {len(rows)} rows holding different data; "
                "give every object its own id",
            }
        )
    epochs = np.repeat(keep, lengths)
    return (
        {k: v[epochs] for k, v in flat.items()},
        lengths[keep],
        objects.loc[keep].reset_index(drop=True),
        skipped,
    )


def _quantiles(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    q = np.quantile(values, [0.0, 0.5, 1.0])
    return {"min": float(q[0]), "median": float(q[1]), "max": float(q[2])}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot store {type(value).__name__} in set metadata")
