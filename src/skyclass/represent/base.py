"""The contract every representation follows: one curve in, fixed-shape arrays out.

A representation turns a :class:`~skyclass.lightcurve.LightCurve` into a dict of
float32 arrays of fixed shape (the keys are the model batch keys: ``seq``,
``mask``, ``grid``, ``dmdt``, ``image``, ``features``...). ``transform`` handles
one curve; ``transform_many`` a set, stacking the arrays along a first axis and
adding ``valid`` (bool per object): an object that cannot be represented gets
zeros, ``valid=False`` and its reason in ``errors``, and the batch goes on.
A representation never sees another object's data or any label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet

__all__ = ["Representation", "period_of"]


def period_of(lc: LightCurve, period: float | None = None) -> float:
    """The period to fold ``lc`` on: ``period`` if given, else ``lc.meta["period"]``.

    Raises
    ------
    DataError
        When neither gives a positive finite period; the message names the fix.

    Examples
    --------
    >>> lc = LightCurve(time=[0, 1], mag=[1, 2], err=[.1, .1], band="V", meta={"period": 0.5})
    >>> period_of(lc)
    0.5
    """
    value = lc.meta.get("period") if period is None else period
    try:
        value = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise DataError(
            "no usable period for this curve; add a 'period' column to the set "
            "(e.g. from `skyclass period`) or pass period=",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        )
    return value


class Representation:
    """Base class: subclasses implement :meth:`transform` and :meth:`output_shapes`."""

    #: Short name used by the CLI (``skyclass represent --kind NAME``).
    name: str = ""
    #: Whether :meth:`transform` uses ``lc.meta["period"]`` (the CLI searches one if missing).
    needs_period: bool = False

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of each array :meth:`transform` returns (without the batch axis)."""
        raise NotImplementedError

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """Arrays for one curve; raises :class:`DataError` when it cannot be represented."""
        raise NotImplementedError

    def transform_many(self, lcs: Iterable[LightCurve]) -> dict[str, Any]:
        """Stacked arrays for many curves, plus ``valid`` (bool) and ``errors`` (id -> reason).

        Equals :meth:`transform` applied to each curve in turn (tested for every
        representation); subclasses may override it with a faster batched form.
        """
        shapes = self.output_shapes()
        out: dict[str, list[np.ndarray]] = {key: [] for key in shapes}
        valid: list[bool] = []
        errors: dict[str, str] = {}
        for lc in lcs:
            try:
                arrays = self.transform(lc)
            except DataError as exc:
                arrays = {key: np.zeros(shape, np.float32) for key, shape in shapes.items()}
                errors[lc.id] = exc.reason
                valid.append(False)
            else:
                valid.append(True)
            for key in shapes:
                out[key].append(arrays[key])
        stacked: dict[str, Any] = {
            key: np.stack(values) if values else np.zeros((0, *shapes[key]), np.float32)
            for key, values in out.items()
        }
        stacked["valid"] = np.array(valid, dtype=bool)
        stacked["errors"] = errors
        return stacked


# ------------------------------------------------ helpers the representations share
def _check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {list(choices)}")


def _check_length(name: str, value: object) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_bands(name: str, bands: Sequence[str] | None) -> tuple[str, ...] | None:
    """``bands`` as a tuple of distinct names (None stays None)."""
    if bands is None:
        return None
    names = tuple(str(b) for b in bands)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"{name} must list distinct bands, got {bands!r}")
    return names


def _fixed_bands(lc: LightCurve, bands: tuple[str, ...] | None, option: str) -> tuple[str, ...]:
    """The bands a fixed-shape output uses for ``lc``: ``bands``, or the curve's only band.

    Raises :class:`DataError` naming ``option`` when ``bands`` is None and the curve
    has several bands, or when the curve has none of ``bands``.
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


class _Curve(NamedTuple):
    """One curve's arrays as a representation reads them, from a LightCurve or a set's rows."""

    id: str
    time: np.ndarray
    mag: np.ndarray
    band: np.ndarray  # band names, or integer codes into ``names``
    names: tuple[str, ...] | None  # None when ``band`` holds the names
    meta: Mapping[str, Any]

    @classmethod
    def of(cls, lc: LightCurve) -> _Curve:
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


def _iter_curves(lcs: Iterable[LightCurve] | LightCurveSet) -> Iterator[_Curve]:
    """Each curve's arrays and metadata, as its :class:`LightCurve` would give them.

    A set is read from its flat arrays (band codes, no LightCurve built); ``meta``
    is the set's metadata updated with the object's row, as
    :meth:`LightCurveSet.lightcurve` builds it.
    """
    if not isinstance(lcs, LightCurveSet):
        for lc in lcs:
            yield _Curve.of(lc)
        return
    base = {k: v for k, v in lcs.meta.items() if k != "skipped"}
    names = tuple(lcs.bands)
    offsets = lcs.offsets
    for i, row in enumerate(lcs.objects.to_dict("records")):
        lo, hi = offsets[i], offsets[i + 1]
        meta = {**base, **{k: v for k, v in row.items() if k != "id"}}
        yield _Curve(str(row["id"]), lcs.time[lo:hi], lcs.mag[lo:hi], lcs.band[lo:hi], names, meta)


def _prepare(
    lcs: Iterable[LightCurve] | LightCurveSet, step: Callable[[_Curve], Any]
) -> tuple[list[Any], np.ndarray, dict[str, str]]:
    """``step`` of every curve that allows it, ``valid`` per curve, and id -> reason of the rest."""
    done, good, errors = [], [], {}
    for curve in _iter_curves(lcs):
        try:
            done.append(step(curve))
        except DataError as exc:
            errors[curve.id] = exc.reason
            good.append(False)
        else:
            good.append(True)
    return done, np.array(good, dtype=bool), errors
