"""Helpers the representations of :mod:`skyclass.represent` share.

Argument checks with the messages every representation gives, and one curve's
arrays as a representation reads them, from a :class:`~skyclass.lightcurve.LightCurve`
or straight from a :class:`~skyclass.lightcurve.LightCurveSet`'s rows. The module
is private to the package; its names are what the representations import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet


def check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    """Refuse a ``value`` of option ``name`` that is not one of ``choices``, listing them.

    Examples
    --------
    >>> check_choice("bands", "merged", ("merged", "separate"))
    >>> check_choice("bands", "both", ("merged", "separate"))
    Traceback (most recent call last):
    ...
    ValueError: unknown bands 'both'; choose one of ['merged', 'separate']
    """
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {list(choices)}")


def check_length(name: str, value: object) -> int:
    """``value`` as an int when it is a positive integer (not a bool); else a ValueError.

    Examples
    --------
    >>> check_length("n", np.int64(3))
    3
    >>> check_length("n", 0)
    Traceback (most recent call last):
    ...
    ValueError: n must be a positive integer, got 0
    """
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_bands(name: str, bands: Sequence[str] | None) -> tuple[str, ...] | None:
    """``bands`` as a tuple of distinct names (None stays None).

    Examples
    --------
    >>> check_bands("bands", ["g", "r"])
    ('g', 'r')
    >>> check_bands("bands", None) is None
    True
    """
    if bands is None:
        return None
    names = tuple(str(b) for b in bands)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"{name} must list distinct bands, got {bands!r}")
    return names


def fixed_bands(lc: LightCurve, bands: tuple[str, ...] | None, option: str) -> tuple[str, ...]:
    """The bands a fixed-shape output uses for ``lc``: ``bands``, or the curve's only band.

    Raises :class:`DataError` naming ``option`` when ``bands`` is None and the curve
    has several bands, or when the curve has none of ``bands``.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 1.0], mag=[15.0, 15.1], err=[0.1, 0.1], band=["g", "r"])
    >>> fixed_bands(lc, ("r", "i"), "bands")
    ('r', 'i')
    >>> fixed_bands(lc, None, "bands")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: this curve has bands ['g', 'r']; pass bands= ...
    """
    where = {"source": lc.meta.get("source"), "object_id": lc.id or None}
    if bands is None:
        if len(lc.bands) > 1:
            raise DataError(
                f"this curve has bands {list(lc.bands)}; pass {option}= (e.g. "
                f"{option}={lc.bands!r}) to fix the bands and their order",
                **where,
            )
        return lc.bands
    if not np.isin(lc.band, bands).any():
        raise DataError(
            f"no epochs in the bands {list(bands)}; this curve has bands {list(lc.bands)}; "
            f"change {option}",
            **where,
        )
    return bands


class CurveArrays(NamedTuple):
    """One curve's arrays as a representation reads them, from a LightCurve or a set's rows."""

    id: str
    time: np.ndarray
    mag: np.ndarray
    band: np.ndarray  # band names, or integer codes into ``names``
    names: tuple[str, ...] | None  # None when ``band`` holds the names
    meta: Mapping[str, Any]

    @classmethod
    def of(cls, lc: LightCurve) -> CurveArrays:
        return cls(lc.id, lc.time, lc.mag, lc.band, None, lc.meta)

    def mask(self, name: str) -> np.ndarray:
        """Epochs of band ``name``."""
        if self.names is None:
            return self.band == name
        if name not in self.names:
            return np.zeros(self.band.shape, dtype=bool)
        return self.band == self.names.index(name)

    def single_band(self) -> bool:
        return not (self.band != self.band[0]).any()

    def band_list(self) -> list[str]:
        present = np.unique(self.band).tolist()
        return present if self.names is None else sorted(self.names[i] for i in present)

    def where(self) -> dict[str, Any]:
        """Keyword arguments naming the curve in a :class:`DataError`."""
        return {"source": self.meta.get("source"), "object_id": self.id or None}


def iter_curves(lcs: Iterable[LightCurve] | LightCurveSet) -> Iterator[CurveArrays]:
    """Each curve's arrays and metadata, as its :class:`LightCurve` would give them.

    A set is read from its flat arrays (band codes, no LightCurve built); ``meta``
    is the set's metadata updated with the object's row, as
    :meth:`LightCurveSet.lightcurve` builds it.
    """
    if not isinstance(lcs, LightCurveSet):
        for lc in lcs:
            yield CurveArrays.of(lc)
        return
    base = {k: v for k, v in lcs.meta.items() if k != "skipped"}
    names = tuple(lcs.bands)
    offsets = lcs.offsets
    for i, row in enumerate(lcs.objects.to_dict("records")):
        lo, hi = offsets[i], offsets[i + 1]
        meta = {**base, **{k: v for k, v in row.items() if k != "id"}}
        yield CurveArrays(
            str(row["id"]), lcs.time[lo:hi], lcs.mag[lo:hi], lcs.band[lo:hi], names, meta
        )


def prepare_each(
    lcs: Iterable[LightCurve] | LightCurveSet, step: Callable[[CurveArrays], Any]
) -> tuple[list[Any], np.ndarray, dict[str, str]]:
    """``step`` of every curve that allows it, ``valid`` per curve, and id -> reason of the rest."""
    done, good, errors = [], [], {}
    for curve in iter_curves(lcs):
        try:
            done.append(step(curve))
        except DataError as exc:
            errors[curve.id] = exc.reason
            good.append(False)
        else:
            good.append(True)
    return done, np.array(good, dtype=bool), errors
