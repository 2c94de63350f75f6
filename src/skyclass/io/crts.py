"""Catalina Real-time Transient Survey (CSDR2) light curves: CSV, several objects per file.

CSDR2 serves ``MasterID,Mag,Magerr,RA,Dec,MJD,Blend``. Catalina observes
unfiltered and calibrates to Johnson V, so the band is called ``"CV"`` (Catalina
V) to keep it apart from a true V band. ``Blend`` is non-zero where the source
was blended with a neighbour.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import pandas as pd

from skyclass.io.generic import find_columns, header_names, read_filtered_long_table, read_table
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["CRTS_BAND", "read_crts"]

#: Band name of Catalina's unfiltered, V-calibrated magnitudes.
CRTS_BAND = "CV"

_CRTS_ROLES = {"id": "MasterID", "time": "MJD", "mag": "Mag", "err": "Magerr"}
_CRTS_SIGNATURE = {"masterid", "mag", "magerr", "mjd", "blend"}


def _is_crts(path: Path) -> bool:
    if path.suffix.lower() not in {".csv", ".txt"} or not path.is_file():
        return False
    return _CRTS_SIGNATURE <= header_names(path)


@register_reader(
    "crts",
    description="Catalina CSDR2 CSV (MasterID, Mag, Magerr, RA, Dec, MJD, Blend); band 'CV'",
    sniff=_is_crts,
)
def read_crts(
    path: str | PathLike[str],
    *,
    drop_blended: bool = False,
    columns: Mapping[str, str] | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read a Catalina (CSDR2) light-curve file, one curve per ``MasterID``.

    The band is ``"CV"``: Catalina images are unfiltered and their magnitudes
    calibrated to Johnson V, which is close to V but not V. Times are the
    ``MJD`` column (``meta["time_ref"] == "JD"``, no shift). The objects table
    keeps ``RA`` and ``Dec`` (first epoch of each object).

    Parameters
    ----------
    path : path-like
        CSV with columns ``MasterID,Mag,Magerr,RA,Dec,MJD,Blend``.
    drop_blended : bool
        Drop epochs with ``Blend != 0`` (non-numeric values count as blended);
        the number dropped is ``meta["filtered_epochs"]["blend"]``. Off by
        default: the flag marks a neighbour, not necessarily a bad magnitude.
    columns : mapping, optional
        ``{role: column}`` for renamed columns (roles ``id``, ``time``, ``mag``,
        ``err``, ``blend``).
    min_epochs, strict, progress
        See :class:`~skyclass.io.common.SetBuilder`.

    Returns
    -------
    LightCurveSet

    Raises
    ------
    DataError
        For a missing column (naming it), an empty file, a column with no
        numbers, or when no object keeps ``min_epochs`` epochs.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "crts.csv")
    >>> _ = open(path, "w").write(
    ...     "MasterID,Mag,Magerr,RA,Dec,MJD,Blend\\n"
    ...     "1109065026725,15.1,0.05,150.1,2.2,53500.2,0\\n"
    ...     "1109065026725,15.3,0.05,150.1,2.2,53510.2,1\\n"
    ...     "1109065026725,15.2,0.05,150.1,2.2,53520.2,0\\n")
    >>> s = read_crts(path, drop_blended=True, progress=False)
    >>> s.ids.tolist(), s.bands, s.time.tolist(), s.meta["filtered_epochs"]
    (['1109065026725'], ('CV',), [53500.2, 53520.2], {'blend': 1})
    """
    path = Path(path)
    table = read_table(path)
    wanted = dict(_CRTS_ROLES)
    if drop_blended:
        wanted["blend"] = "Blend"
    wanted.update(columns or {})
    cols = find_columns(table, wanted, source=str(path), layout="Catalina CSDR2")
    drop = {}
    if drop_blended:
        blend = pd.to_numeric(table[cols["blend"]], errors="coerce")
        drop["blend"] = (
            ~(blend == 0).to_numpy(),
            "Blend != 0",
            "pass drop_blended=False to keep blended epochs",
        )
    cols.pop("blend", None)
    return read_filtered_long_table(
        path,
        table,
        survey="crts",
        columns=cols,
        drop=drop,
        band=CRTS_BAND,
        keep=tuple(c for c in table.columns if str(c).lower() in {"ra", "dec"}),
        min_epochs=min_epochs,
        strict=strict,
        progress=progress,
    )
