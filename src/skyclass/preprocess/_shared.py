"""Helpers the modules of :mod:`skyclass.preprocess` share.

The module is private to the package; its names are what the preprocessing
modules import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve


def check_period(period: Any, lc: LightCurve) -> float:
    """``period`` as a float when it is a positive finite number of days.

    Raises :class:`DataError` naming the curve otherwise.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 1.0], mag=[15.0, 15.1], err=[0.1, 0.1], band="V", id="a")
    >>> check_period("0.5", lc)
    0.5
    >>> check_period(-1, lc)
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: [a]: the period must be a positive finite number of days, got -1
    """
    try:
        value = float(period)
    except (TypeError, ValueError):
        value = np.nan
    if not np.isfinite(value) or value <= 0:
        raise DataError(
            f"the period must be a positive finite number of days, got {period!r}",
            source=lc.meta.get("source"),
            object_id=lc.id or None,
        )
    return value
