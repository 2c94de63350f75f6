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

from collections.abc import Iterable
from typing import Any

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve

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
