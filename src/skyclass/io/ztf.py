"""ZTF light curves from IRSA's light-curve service (CSV or Parquet, one row per epoch).

IRSA serves columns ``oid, expid, hjd, mjd, mag, magerr, catflags, filtercode,
ra, dec, chi, sharp, filefracday, field, ccdid, qid, limitmag, magzp, magzprms,
clrcoeff, clrcounc, exptime, airmass, programid``. In ZTF an ``oid`` is one band
of one object (the same star has another oid in each filter), so every oid
becomes one single-band curve.

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

__all__ = ["read_ztf"]

#: IRSA filter codes and the band names stored in the set.
ZTF_BANDS = {"zg": "g", "zr": "r", "zi": "i"}

#: ``time=`` choices: the IRSA column each one reads.
TIME_COLUMNS = {"mjd": "mjd", "hjd": "hjd"}

_ZTF_ROLES = {"id": "oid", "mag": "mag", "err": "magerr", "band": "filtercode"}
_ZTF_KEEP = ("ra", "dec", "field", "filtercode")
_ZTF_SIGNATURE = {"oid", "mjd", "mag", "magerr", "catflags", "filtercode"}


# ------------------------------------------------------------------- the reader
def _is_ztf(path: Path) -> bool:
    if path.suffix.lower() not in {".csv", ".parquet"} or not path.is_file():
        return False
    return _ZTF_SIGNATURE <= header_names(path)


@register_reader(
    "ztf",
    description="ZTF light curves from IRSA (CSV/Parquet; oid, mjd, mag, magerr, catflags, "
    "filtercode)",
    sniff=_is_ztf,
)
def read_ztf(
    path: str | PathLike[str],
    *,
    time: str = "mjd",
    max_catflags: int | None = 0,
    columns: Mapping[str, str] | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read a ZTF light-curve file from IRSA's light-curve service.

    Every ``oid`` (one band of one object in ZTF) becomes one curve with that
    oid as its id; ``filtercode`` ``zg``, ``zr``, ``zi`` become bands ``g``,
    ``r``, ``i``. The objects table keeps ``ra``, ``dec``, ``field`` and
    ``filtercode`` (first epoch of each oid).

    Parameters
    ----------
    path : path-like
        CSV (``FORMAT=CSV``) or Parquet file with IRSA's columns.
    time : {"mjd", "hjd"}
        ``"mjd"`` (default) reads the geocentric ``mjd`` column
        (``meta["time_ref"] == "JD"``, no shift); ``"hjd"`` reads the
        heliocentric ``hjd`` column (full Julian dates, stored as
        ``hjd - 2400000.5`` with ``meta["time_ref"] == "HJD"``).
    max_catflags : int or None
        Drop epochs with ``catflags`` above this value (0, the default, keeps
        only unflagged epochs as IRSA recommends; non-numeric flags count as
        flagged). None keeps every epoch. The number dropped is
        ``meta["filtered_epochs"]["catflags"]``.
    columns : mapping, optional
        ``{role: column}`` for files whose columns were renamed (roles ``id``,
        ``time``, ``mag``, ``err``, ``band``, ``catflags``).
    min_epochs, strict, progress
        See :class:`~skyclass.io.common.SetBuilder`; ``progress`` shows a bar.

    Returns
    -------
    LightCurveSet

    Raises
    ------
    DataError
        For a missing column (naming it), an empty file, a column with no
        numbers, or when no oid keeps ``min_epochs`` epochs.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "ztf.csv")
    >>> _ = open(path, "w").write(
    ...     "oid,hjd,mjd,mag,magerr,catflags,filtercode,ra,dec,field\\n"
    ...     "101,2458300.51,58300.0,17.1,0.02,0,zg,10.0,20.0,500\\n"
    ...     "101,2458301.51,58301.0,17.3,0.02,0,zg,10.0,20.0,500\\n"
    ...     "101,2458302.51,58302.0,17.2,0.02,32768,zg,10.0,20.0,500\\n")
    >>> s = read_ztf(path, progress=False)
    >>> s.ids.tolist(), s.bands, s.time.tolist(), s.meta["filtered_epochs"]
    (['101'], ('g',), [58300.0, 58301.0], {'catflags': 1})
    """
    path = Path(path)
    if time not in TIME_COLUMNS:
        raise DataError(f"unknown time={time!r}; choose one of: {', '.join(TIME_COLUMNS)}")
    table = read_table(path)
    wanted = {**_ZTF_ROLES, "time": TIME_COLUMNS[time]}
    if max_catflags is not None:
        wanted["catflags"] = "catflags"
    wanted.update(columns or {})
    cols = find_columns(table, wanted, source=str(path), layout="IRSA ZTF")
    drop = {}
    if max_catflags is not None:
        flags = pd.to_numeric(table[cols["catflags"]], errors="coerce")
        drop["catflags"] = (
            ~(flags <= max_catflags).to_numpy(),
            f"catflags > {max_catflags}",
            "pass max_catflags=None to keep flagged epochs",
        )
    cols.pop("catflags", None)
    return read_filtered_long_table(
        path,
        table,
        survey="ztf",
        columns=cols,
        drop=drop,
        band=ZTF_BANDS,
        keep=tuple(c for c in table.columns if str(c).lower() in _ZTF_KEEP),
        min_epochs=min_epochs,
        strict=strict,
        progress=progress,
    )
