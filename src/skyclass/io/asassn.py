"""ASAS-SN Sky Patrol light curves (CSV, one object per file).

Two layouts are read:

``classic``
    Sky Patrol v1 and the variable-star database:
    ``HJD,UT Date,Camera,FWHM,Limit,mag,mag_err,flux(mJy),flux_err,Filter``.
    Times are full heliocentric Julian dates.
``v2``
    Sky Patrol v2 (pyasassn):
    ``jd,flux,flux_err,mag,mag_err,limit,fwhm,image_id,camera,quality,phot_filter``,
    with ``quality`` ``"G"`` (good) or ``"B"`` (bad). Times are full Julian dates.

Non-detections are upper limits: a magnitude written ``">17.5"`` and/or an error
of 99.99. They are dropped and counted, never read as magnitudes. Bands are
``V`` and ``g``.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import pandas as pd

from skyclass.exceptions import DataError
from skyclass.io.generic import find_columns, header_names, read_filtered_long_table, read_table
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["read_asassn"]

#: Documented columns of each layout, by role.
LAYOUTS: dict[str, dict[str, str]] = {
    "classic": {"time": "HJD", "mag": "mag", "err": "mag_err", "band": "Filter"},
    "v2": {"time": "jd", "mag": "mag", "err": "mag_err", "band": "phot_filter"},
}

#: Columns that tell each layout apart (lower case), checked in this order.
_SIGNATURES = {
    "classic": {"hjd", "ut date", "mag", "mag_err", "filter"},
    "v2": {"jd", "mag", "mag_err", "quality", "phot_filter"},
}

#: Errors at or above this mark a non-detection (ASAS-SN writes 99.99).
UPPER_LIMIT_ERR = 99.0

_ID_COLUMN = "skyclass_object_id"


def _layout_of(names: set[str]) -> str | None:
    return next((name for name, sig in _SIGNATURES.items() if sig <= names), None)


def _is_asassn(path: Path) -> bool:
    if path.suffix.lower() not in {".csv", ".txt"} or not path.is_file():
        return False
    return _layout_of(header_names(path)) is not None


@register_reader(
    "asassn",
    description="ASAS-SN Sky Patrol CSV, classic (HJD, mag, mag_err, Filter) or v2 "
    "(jd, mag, mag_err, quality, phot_filter); one object per file",
    sniff=_is_asassn,
)
def read_asassn(
    path: str | PathLike[str],
    *,
    id: str | None = None,
    layout: str = "auto",
    drop_bad: bool = True,
    columns: Mapping[str, str] | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read one ASAS-SN Sky Patrol light curve (classic or v2 CSV).

    Parameters
    ----------
    path : path-like
        The CSV file of one object.
    id : str, optional
        Object id; defaults to the file name without its suffix.
    layout : {"auto", "classic", "v2"}
        File layout (see the module notes); ``"auto"`` tells them from the header.
    drop_bad : bool
        Drop v2 epochs with ``quality == "B"`` (default). Ignored for classic
        files, which have no quality column.
    columns : mapping, optional
        ``{role: column}`` for renamed columns (roles ``time``, ``mag``,
        ``err``, ``band``).
    min_epochs, strict, progress
        See :class:`~skyclass.io.common.SetBuilder`.

    Returns
    -------
    LightCurveSet
        One object. Times are days since JD 2400000.5: classic ``HJD - 2400000.5``
        (``meta["time_ref"] == "HJD"``), v2 ``jd - 2400000.5`` (``"JD"``).
        ``meta["filtered_epochs"]`` counts ``upper_limit`` and ``bad_quality`` rows.

    Raises
    ------
    DataError
        For an unknown layout, a missing column, an empty file, or when every
        epoch is an upper limit or bad.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "star.csv")
    >>> _ = open(path, "w").write(
    ...     "HJD,UT Date,Camera,FWHM,Limit,mag,mag_err,flux(mJy),flux_err,Filter\\n"
    ...     "2457000.5,2014-12-09.0,bd,1.5,17.0,14.10,0.02,8.6,0.1,V\\n"
    ...     "2457001.5,2014-12-10.0,bd,1.5,17.0,14.20,0.02,7.9,0.1,V\\n"
    ...     "2457002.5,2014-12-11.0,bd,1.5,17.5,>17.5,99.99,0.1,0.1,V\\n")
    >>> s = read_asassn(path, progress=False)
    >>> s.ids.tolist(), s.time.tolist(), s.meta["time_ref"], s.meta["filtered_epochs"]
    (['star'], [57000.0, 57001.0], 'HJD', {'upper_limit': 1})
    """
    path = Path(path)
    table = read_table(path)
    if layout == "auto":
        detected = _layout_of({str(c).strip().lower() for c in table.columns})
        if detected is None:
            raise DataError(
                "not an ASAS-SN Sky Patrol layout; expected the columns of "
                + " or ".join(f"{k} ({', '.join(sorted(v))})" for k, v in _SIGNATURES.items())
                + f"; columns present: {list(map(str, table.columns))}; pass layout= and "
                "columns={role: NAME} for renamed columns",
                source=str(path),
            )
        layout = detected
    if layout not in LAYOUTS:
        raise DataError(f"unknown layout={layout!r}; choose one of: auto, {', '.join(LAYOUTS)}")
    wanted = {**LAYOUTS[layout], **(columns or {})}
    if layout == "v2" and drop_bad:
        wanted.setdefault("quality", "quality")
    cols = find_columns(table, wanted, source=str(path), layout=f"ASAS-SN {layout}")

    mag_text = table[cols["mag"]].astype(str).str.strip()
    err = pd.to_numeric(table[cols["err"]], errors="coerce").to_numpy(float)
    drop = {
        "upper_limit": (
            mag_text.str.startswith(">").to_numpy() | (err >= UPPER_LIMIT_ERR),
            f"an upper limit (mag '>...' or mag_err >= {UPPER_LIMIT_ERR})",
            "these are non-detections; there are no magnitudes to read",
        )
    }
    if "quality" in cols:
        quality = table[cols.pop("quality")].astype(str).str.strip().str.upper()
        drop["bad_quality"] = (
            (quality == "B").to_numpy(),
            'quality "B"',
            "pass drop_bad=False to keep bad-quality epochs",
        )
    table = table.assign(**{_ID_COLUMN: str(id) if id is not None else path.stem})
    return read_filtered_long_table(
        path,
        table,
        survey="asassn",
        columns={**cols, "id": _ID_COLUMN},
        drop=drop,
        min_epochs=min_epochs,
        strict=strict,
        progress=progress,
    )
