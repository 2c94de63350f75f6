"""Gaia DR3 epoch photometry: the nested per-star Parquet and the archive's per-epoch downloads.

Two readers:

``gaia_vari``
    One row per star with list columns ``time``, ``mag`` (G) and ``mag_err``
    plus scalar columns (``source_id``, ``best_class_name``, ...), the layout of
    the shared ``gaia_dr3_vari/lightcurves.parquet``.
``gaia_epoch``
    The Gaia archive's DataLink ``EPOCH_PHOTOMETRY`` product in CSV, ECSV or
    VOTable: one row per epoch and band with the DR3 columns ``solution_id,
    source_id, transit_id, band, time, mag, flux, flux_error, flux_over_error,
    rejected_by_photometry, rejected_by_variability, other_flags``.

Gaia times are barycentric (TCB) Julian dates minus 2455197.5, in days; both
readers store them as days since JD 2400000.5 (``time_ref == "BJD"``,
``time_shift == 55197.0``), so the archive's own value is ``time - 55197``.
"""

from __future__ import annotations

import gzip
import re
import warnings
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import progress as progress_bar
from skyclass.exceptions import DataError
from skyclass.io.common import SetBuilder, add_long_table, resolve_columns, time_shift
from skyclass.io.generic import read_table
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["GAIA_BANDS", "GAIA_TIME_OFFSET", "read_gaia_epoch", "read_gaia_vari"]

#: What Gaia subtracts from its barycentric Julian dates (TCB): JD 2455197.5 = 2010-01-01.
GAIA_TIME_OFFSET = 2455197.5

#: Photometric bands of Gaia epoch photometry.
GAIA_BANDS = ("G", "BP", "RP")

#: 2.5 / ln(10): turns a relative flux error (1 / flux_over_error) into a magnitude error.
_MAG_PER_RELATIVE_FLUX = 2.5 / np.log(10.0)

_EPOCH_COLUMNS = ("source_id", "band", "time", "mag", "flux_over_error")
_FLAG_COLUMNS = ("rejected_by_photometry", "rejected_by_variability")
_EPOCH_SUFFIXES = {
    ".csv": "csv",
    ".ecsv": "ecsv",
    ".xml": "votable",
    ".vot": "votable",
    ".votable": "votable",
}


def _gaia_time() -> tuple[str, float]:
    """Frame and shift of Gaia times: ``("BJD", 55197.0)``."""
    return time_shift("bjd", np.empty(0), offset=GAIA_TIME_OFFSET)


# --------------------------------------------------------------------------- gaia_vari
def _list_column(table: Any, name: str, source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, offsets and null mask of a Parquet list column, without going row by row."""
    import pyarrow as pa

    arr = table.column(name).combine_chunks()
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        raise DataError(
            f"column {name!r} is {arr.type}, not a list; gaia_vari wants one row per star "
            "with list columns (for one row per epoch use format='gaia_epoch' or 'parquet')",
            source=source,
        )
    # ``values`` + raw ``offsets`` index correctly even for sliced arrays and null rows,
    # where ``flatten()`` would silently drop the values hidden behind a null row.
    values = arr.values.to_numpy(zero_copy_only=False)  # null elements become NaN
    if values.dtype.kind not in "fiu":
        values = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
    offsets = arr.offsets.to_numpy().astype(np.int64)
    nulls = arr.is_null().to_numpy(zero_copy_only=False)
    return values.astype(np.float64, copy=False), offsets, nulls


def _is_gaia_vari(path: Path) -> bool:
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return False
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    names = set(schema.names)
    if not {"time", "mag", "source_id"} <= names:
        return False
    return all(
        pa.types.is_list(schema.field(c).type) or pa.types.is_large_list(schema.field(c).type)
        for c in ("time", "mag")
    )


@register_reader(
    "gaia_vari",
    description="Gaia DR3 Parquet, one row per star with list columns time, mag, mag_err (G)",
    sniff=_is_gaia_vari,
)
def read_gaia_vari(
    path: str | PathLike[str],
    *,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read Gaia DR3 G light curves stored one star per row with list columns.

    Parameters
    ----------
    path : path-like
        A Parquet file with list columns ``time`` (BJD − 2455197.5, days, TCB),
        ``mag`` (G) and optionally ``mag_err``, and a ``source_id`` column. Other
        scalar columns are kept per object; ``best_class_name`` becomes ``label``.
    min_epochs : int
        Fewest good epochs a star needs; stars with fewer are skipped and listed.
    strict : bool
        Raise on the first bad star instead of skipping it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    LightCurveSet
        Band ``"G"``; ``id`` is ``str(source_id)``; times in days since
        JD 2400000.5 (``meta["time_ref"] == "BJD"``, ``meta["time_shift"] == 55197.0``).

    Raises
    ------
    DataError
        If the file cannot be read, a required column is missing or not a list
        column, or no star is usable (or any star is bad and ``strict``).

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> path = os.path.join(tempfile.mkdtemp(), "vari.parquet")
    >>> pq.write_table(pa.table({
    ...     "source_id": [1, 2],
    ...     "time": [[1700.0, 1710.5, 1720.0], [1700.0]],
    ...     "mag": [[15.0, 15.2, float("nan")], [16.0]],
    ...     "mag_err": [[0.01, 0.01, 0.01], [0.02]],
    ...     "best_class_name": ["RR", "ECL"]}), path)
    >>> s = read_gaia_vari(path, progress=False)
    >>> s.ids.tolist(), s.labels.tolist(), s.time.tolist()
    (['1'], ['RR'], [56897.0, 56907.5])
    >>> s.skipped[0]["id"], s.meta["time_ref"], s.meta["dropped_epochs"]["nonfinite"]
    ('2', 'BJD', 1)
    """
    import pyarrow.parquet as pq

    path = Path(path)
    source = str(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(
            f"not a readable Parquet file ({exc}); check the download is complete",
            source=source,
        ) from exc
    resolve_columns(table.schema.names, ["source_id", "time", "mag"], aliases={}, source=source)
    time, t_off, t_null = _list_column(table, "time", source)
    mag, m_off, m_null = _list_column(table, "mag", source)
    has_err = "mag_err" in table.schema.names
    if has_err:
        err, e_off, e_null = _list_column(table, "mag_err", source)
    frame, shift = _gaia_time()
    time = time + shift

    scalar = [
        name
        for name in table.schema.names
        if name not in {"time", "mag", "mag_err"} and not _is_nested(table.schema.field(name).type)
    ]
    rows = table.select(scalar).to_pandas()
    ids = rows.pop("source_id").astype(str).to_numpy()
    if "best_class_name" in rows.columns:
        rows = rows.rename(columns={"best_class_name": "label"})
        rows = rows[["label", *[c for c in rows.columns if c != "label"]]]
    records = rows.to_dict("records")

    builder = SetBuilder(
        survey="gaia_dr3",
        source=source,
        min_epochs=min_epochs,
        strict=strict,
        meta={"time_ref": frame, "time_shift": shift, "band": "G"},
    )
    for i in progress_bar(range(len(ids)), total=len(ids), desc="gaia_vari", enabled=progress):
        if t_null[i] or m_null[i]:
            builder.skip(ids[i], "time or mag list is null (no epochs)")
            continue
        e = None
        if has_err:
            # A null error list means no errors for this star; sanitize stores NaN.
            e = None if e_null[i] else err[e_off[i] : e_off[i + 1]]
        builder.add(
            ids[i],
            time[t_off[i] : t_off[i + 1]],
            mag[m_off[i] : m_off[i + 1]],
            e,
            "G",
            row=records[i],
        )
    return builder.build()


def _is_nested(dtype: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_nested(dtype)


# -------------------------------------------------------------------------- gaia_epoch
def _epoch_kind(path: Path) -> str | None:
    """``csv``, ``ecsv`` or ``votable`` from the file name (a trailing ``.gz`` is allowed)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return _EPOCH_SUFFIXES.get(suffixes[-1]) if suffixes else None


def _head(path: Path, size: int = 65536) -> str:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        return fh.read(size).decode("utf-8", errors="replace")


def _is_gaia_epoch(path: Path) -> bool:
    if not path.is_file() or _epoch_kind(path) is None:
        return False
    head = _head(path)
    if _epoch_kind(path) == "csv":
        lines = [ln for ln in head.splitlines() if ln.strip() and not ln.startswith("#")]
        names = {c.strip().strip('"').lower() for c in lines[0].split(",")} if lines else set()
        return set(_EPOCH_COLUMNS) <= names
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", head.lower()))
    return set(_EPOCH_COLUMNS) <= words


def _read_epoch_table(path: Path) -> pd.DataFrame:
    """The download as a DataFrame, whatever its layout."""
    kind = _epoch_kind(path)
    source = str(path)
    if kind is None:
        raise DataError(
            f"cannot tell the layout from the file name {path.name!r}; gaia_epoch reads "
            ".csv, .ecsv and VOTable (.xml, .vot, .votable), optionally gzipped",
            source=source,
        )
    if kind == "csv":
        return read_table(path)
    from astropy.table import Table
    from astropy.time import Time

    options: dict[str, Any] = (
        {"format": "ascii.ecsv"}
        if kind == "ecsv"
        else {"format": "votable", "use_names_over_ids": True}
    )
    try:
        with warnings.catch_warnings():
            # VOTable readers warn about harmless archive quirks (units, UCDs).
            warnings.simplefilter("ignore")
            table = Table.read(path, **options)
    except Exception as exc:  # astropy raises many types for malformed files
        raise DataError(
            f"cannot parse the {kind} file ({type(exc).__name__}: {exc}); check the "
            "download is complete and in the expected format",
            source=source,
        ) from exc
    for name in table.colnames:
        column = table[name]
        if isinstance(column, Time):
            # A VOTable with a TIMESYS element comes back as Time; keep Gaia's own numbers.
            table[name] = np.asarray(column.jd, dtype=np.float64) - GAIA_TIME_OFFSET
        elif column.ndim > 1:
            raise DataError(
                f"column {name!r} holds arrays: this is the one-row-per-source (combined) "
                "layout; gaia_epoch reads the layout with one row per epoch and band",
                source=source,
            )
    frame = table.to_pandas()
    if frame.empty:
        raise DataError("the table has a header but no rows", source=source)
    return frame


def _as_flag(values: pd.Series) -> np.ndarray:
    """Gaia's boolean flags as bools, whether stored as bool, number or 'true'/'false' text."""
    if values.dtype == bool:
        return values.to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        return pd.to_numeric(values, errors="coerce").fillna(0).to_numpy() != 0
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["true", "t", "1", "yes"]).fillna(False).to_numpy(dtype=bool)


def _parse_bands(bands: str | Sequence[str]) -> tuple[str, ...]:
    wanted = (bands,) if isinstance(bands, str) else tuple(bands)
    wanted = tuple(str(b).strip().upper() for b in wanted)
    unknown = [b for b in wanted if b not in GAIA_BANDS]
    if unknown or not wanted:
        raise DataError(
            f"unknown Gaia band(s) {unknown or list(wanted)}; choose from {list(GAIA_BANDS)}, "
            "e.g. bands=('G', 'BP', 'RP')"
        )
    return wanted


@register_reader(
    "gaia_epoch",
    description="Gaia archive epoch photometry (CSV, ECSV, VOTable): one row per epoch and band",
    sniff=_is_gaia_epoch,
)
def read_gaia_epoch(
    path: str | PathLike[str],
    *,
    bands: str | Sequence[str] = ("G",),
    drop_rejected: bool = True,
    columns: Mapping[str, str] | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read a Gaia DR3 epoch-photometry download (DataLink ``EPOCH_PHOTOMETRY``).

    Parameters
    ----------
    path : path-like
        A ``.csv``, ``.ecsv`` or VOTable (``.xml``, ``.vot``, ``.votable``) file,
        optionally gzipped, with one row per epoch and band and at least the
        columns ``source_id, band, time, mag, flux_over_error``.
    bands : str or sequence of str
        Bands to keep (``"G"``, ``"BP"``, ``"RP"``); several become several bands
        of one object.
    drop_rejected : bool
        Drop epochs flagged ``rejected_by_photometry`` or ``rejected_by_variability``;
        the counts go into ``meta["rejected_epochs"]`` either way.
    columns : mapping, optional
        ``{gaia_name: name_in_file}`` for files whose columns were renamed.
    min_epochs : int
        Fewest good epochs (all kept bands together) a source needs.
    strict : bool
        Raise on the first bad source instead of skipping it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    LightCurveSet
        ``id`` is ``str(source_id)``; errors σ_m = 2.5 / ln 10 / ``flux_over_error``;
        times in days since JD 2400000.5 (``meta["time_ref"] == "BJD"``).

    Raises
    ------
    DataError
        If the file cannot be parsed, a required column is missing (the message
        names it and the file), ``bands`` is not Gaia's, or no source is usable.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "epoch.csv")
    >>> _ = open(path, "w").write(
    ...     "source_id,band,time,mag,flux_over_error,rejected_by_photometry,"
    ...     "rejected_by_variability\\n"
    ...     "7,G,1700.0,15.00,108.57,false,false\\n"
    ...     "7,G,1710.5,15.10,108.57,false,false\\n"
    ...     "7,G,1720.0,19.90,5.0,false,true\\n"
    ...     "7,BP,1700.0,15.30,54.29,false,false\\n")
    >>> s = read_gaia_epoch(path, progress=False)
    >>> s.ids.tolist(), s.time.tolist(), s.err.round(4).tolist()
    (['7'], [56897.0, 56907.5], [0.01, 0.01])
    >>> s.meta["rejected_epochs"]["dropped"]
    1
    >>> sorted(read_gaia_epoch(path, bands=("G", "BP"), progress=False).bands)
    ['BP', 'G']
    """
    path = Path(path)
    source = str(path)
    wanted = _parse_bands(bands)
    table = _read_epoch_table(path)
    found = resolve_columns(
        [str(c) for c in table.columns],
        list(_EPOCH_COLUMNS),
        optional=list(_FLAG_COLUMNS),
        given=columns,
        aliases={},
        source=source,
    )
    band = table[found["band"]].astype("string").str.strip().str.upper()
    ids_all = table[found["source_id"]].astype("string").str.strip()
    # rows without a source_id belong to no object
    in_bands = (band.isin(wanted) & ids_all.notna()).fillna(False).to_numpy(dtype=bool)
    flags = {
        name: _as_flag(table[found[name]])[in_bands]
        if found[name]
        else np.zeros(int(in_bands.sum()), bool)
        for name in _FLAG_COLUMNS
    }
    rejected = flags["rejected_by_photometry"] | flags["rejected_by_variability"]
    rejected_counts = {
        "photometry": int(flags["rejected_by_photometry"].sum()),
        "variability": int(flags["rejected_by_variability"].sum()),
        "dropped": int(rejected.sum()) if drop_rejected else 0,
    }

    all_sources = pd.unique(ids_all.dropna().to_numpy(dtype=str))
    rows = table.loc[in_bands]
    if drop_rejected:
        rows = rows.loc[~rejected]
    foe = pd.to_numeric(rows[found["flux_over_error"]], errors="coerce").to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = _MAG_PER_RELATIVE_FLUX / foe  # zero or negative ratios are bad errors: dropped
    long = pd.DataFrame(
        {
            "id": ids_all.loc[rows.index].to_numpy(dtype=str),
            "time": rows[found["time"]].to_numpy(),
            "mag": rows[found["mag"]].to_numpy(),
            "err": err,
            "band": band.loc[rows.index].to_numpy(dtype=str),
        }
    )

    frame, shift = _gaia_time()
    builder = SetBuilder(
        survey="gaia_dr3",
        source=source,
        min_epochs=min_epochs,
        strict=strict,
        meta={
            "time_ref": frame,
            "time_shift": shift,
            "bands_requested": list(wanted),
            "drop_rejected": drop_rejected,
            "rejected_epochs": rejected_counts,
        },
    )
    present = set(long["id"])
    in_band_ids = set(ids_all[in_bands].dropna())
    for sid in all_sources:
        if sid in present:
            continue
        if sid in in_band_ids:
            reason = (
                f"every epoch in band(s) {list(wanted)} is flagged rejected; "
                "pass drop_rejected=False to keep them"
            )
        else:
            reason = f"no epochs in band(s) {list(wanted)}; ask for others with bands=('BP', 'RP')"
        builder.skip(sid, reason)
    cols = {"id": "id", "time": "time", "mag": "mag", "err": "err", "band": "band"}
    if len(long):
        add_long_table(builder, long, cols, shift=shift, show_progress=progress)
    return builder.build()
