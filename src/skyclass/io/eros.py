"""EROS-1 LMC light curves as distributed by the RAMP variable-star challenge.

Two files share an index (``<patch>_<star>``, the unnamed first column):

- ``train.csv``: one row per star: ``magnitude_b``, ``magnitude_r``, the
  automatic ``period`` and the divisor ``div_period`` found by eye (the true
  period is ``period / div_period``), ``quality``, ``log_p_not_variable``,
  coordinates (``asc_d/m/s`` in hours despite the name, ``dec_d/m/s``) and
  ``type`` (1 binary, 2 Cepheid, 3 RR Lyrae, 4 Mira);
- ``train_varlength_features.csv.gz``: per-epoch data of each star as bracketed
  lists in text cells: ``time_points_b/r`` (days), ``light_points_b/r`` (mag),
  ``error_points_b/r`` (mag), plus sky background and pollution indices
  (``bkg_points_*``, ``polltn_points_*``, not kept).

:func:`read_eros` merges both bands of a star into one curve with bands ``"B"``
and ``"R"``. The time zero point is not documented, so times are stored as
given (``time_ref`` ``"unknown"``, ``time_shift`` 0). A few epochs (46 of the
training set's 688,513) have a magnitude of exactly 25.0, apparently a
placeholder; they are kept as given.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import progress as progress_bar
from skyclass.exceptions import DataError
from skyclass.io.common import SetBuilder, is_number
from skyclass.io.generic import read_table
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["EROS_CLASSES", "parse_list_cell", "read_eros"]

#: Class names of the ``type`` codes.
EROS_CLASSES: dict[int, str] = {1: "binary", 2: "cepheid", 3: "rr_lyrae", 4: "mira"}

#: Band name → suffix of its columns in the per-epoch file.
_BANDS = {"B": "b", "R": "r"}
_ROLES = ("time", "light", "error")  # prefixes of the per-epoch list columns

_FEATURES_SUFFIX = "_varlength_features.csv"
#: Per-object columns copied from the table as they are (NaN when absent).
_KEEP = ("quality", "magnitude_b", "magnitude_r", "log_p_not_variable")


def parse_list_cell(cell: Any, *, column: str = "cell") -> np.ndarray:
    """Parse one bracketed list cell such as ``"[290.3, 291.35]"`` into a float array.

    Parameters
    ----------
    cell : str
        The cell's text; ``"[]"`` is an empty list.
    column : str
        Column name for the error message.

    Raises
    ------
    DataError
        If the cell is empty, lacks the brackets, or holds something that is not a number.

    Examples
    --------
    >>> parse_list_cell("[290.3, 291.35, 322.25]").tolist()
    [290.3, 291.35, 322.25]
    >>> parse_list_cell("[1.0, oops]", column="time_points_b")
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: column 'time_points_b': 'oops' is not a number
    """
    if not isinstance(cell, str):
        raise DataError(f"column {column!r} is empty; expected a bracketed list like [1.0, 2.0]")
    text = cell.strip()
    if len(text) < 2 or text[0] != "[" or text[-1] != "]":
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise DataError(
            f"column {column!r} holds {shown!r}, not a bracketed list like [1.0, 2.0]; "
            "the cell is damaged or truncated"
        )
    inner = text[1:-1]
    if not inner.strip():
        return np.empty(0)
    parts = inner.split(",")
    try:
        return np.array(parts, dtype=np.float64)
    except ValueError:
        bad = next(p.strip() for p in parts if not is_number(p))
        raise DataError(f"column {column!r}: {bad!r} is not a number") from None


def _find_files(path: Path) -> tuple[Path, Path]:
    """The star table and the per-epoch file, from the folder or either file."""
    if path.is_dir():
        features = sorted(
            p
            for p in path.iterdir()
            if p.name.endswith((_FEATURES_SUFFIX, _FEATURES_SUFFIX + ".gz"))
        )
        if not features:
            raise DataError(
                f"no *{_FEATURES_SUFFIX}.gz file here; pass the EROS folder or its files",
                source=str(path),
            )
        if len(features) > 1:
            raise DataError(
                f"several per-epoch files here ({[p.name for p in features]}); "
                "pass the one to read",
                source=str(path),
            )
        path = features[0]
    name = path.name
    if _FEATURES_SUFFIX in name:
        features = path
        table = path.with_name(name[: name.index(_FEATURES_SUFFIX)] + ".csv")
    else:
        table = path
        stem = name.removesuffix(".gz").removesuffix(".csv")
        candidates = [path.with_name(stem + _FEATURES_SUFFIX + ext) for ext in (".gz", "")]
        features = next((c for c in candidates if c.is_file()), candidates[0])
    for needed, what in ((table, "star table"), (features, "per-epoch file")):
        if not needed.is_file():
            raise DataError(
                f"the EROS {what} {needed.name} is missing beside {path.name}; "
                "both files are needed",
                source=str(needed),
            )
    return table, features


def _require(table: pd.DataFrame, columns: list[str], source: Path, why: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing} ({why}); columns present: {list(table.columns)}",
            source=str(source),
        )


def _radec(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Degrees from ``asc_d/m/s`` (hours, minutes, seconds) and ``dec_d/m/s``."""
    n = len(table)
    names = ["asc_d", "asc_m", "asc_s", "dec_d", "dec_m", "dec_s"]
    if not all(c in table.columns for c in names):
        return np.full(n, np.nan), np.full(n, np.nan)
    h, m, s, d, dm, ds = (pd.to_numeric(table[c], errors="coerce").to_numpy(float) for c in names)
    ra = 15.0 * (h + m / 60 + s / 3600)
    dec = np.copysign(np.abs(d) + dm / 60 + ds / 3600, d)
    return ra, dec


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(np.float64)


def _not_numbers(table: pd.DataFrame, names: tuple[str, ...], table_path: Path) -> dict[str, str]:
    """Why a star's row cannot be used: a cell of a numeric column holds text.

    Such a cell would otherwise become NaN without a word (an unlabelled star, an
    unknown period); an empty cell is a value the table does not give, and stays NaN.
    """
    problems: dict[str, list[str]] = {}
    index = table.index.astype(str)
    for name in names:
        if name not in table.columns:
            continue
        raw = table[name]
        text = raw.notna() & pd.to_numeric(raw, errors="coerce").isna()
        for i in np.flatnonzero(text.to_numpy()):
            problems.setdefault(index[i], []).append(f"{name}={raw.iloc[i]!r}")
    return {
        key: f"{', '.join(cells)} in {table_path.name} is not a number; correct the cell "
        "or empty it (an empty cell means unknown)"
        for key, cells in problems.items()
    }


def _object_rows(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per-object metadata keyed by the star's index."""
    auto = _column(table, "period")
    divisor = _column(table, "div_period")
    with np.errstate(divide="ignore", invalid="ignore"):
        period = np.where(divisor > 0, auto / divisor, np.nan)
    types = _column(table, "type")
    ra, dec = _radec(table)
    kept = {c: _column(table, c) for c in _KEEP}
    rows: dict[str, dict[str, Any]] = {}
    for i, key in enumerate(table.index.astype(str)):
        code = int(types[i]) if np.isfinite(types[i]) else None
        rows[key] = {
            "label": EROS_CLASSES.get(code) if code is not None else None,
            "type": code,
            "period": period[i],
            "period_auto": auto[i],
            "div_period": divisor[i],
            **{c: values[i] for c, values in kept.items()},
            "ra": ra[i],
            "dec": dec[i],
        }
    return rows


@register_reader(
    "eros",
    description="EROS-1 LMC (RAMP challenge): train.csv + train_varlength_features.csv.gz, "
    "bands B and R, 4 classes",
    sniff=lambda path: _sniff(path),
)
def read_eros(
    path: str | PathLike[str],
    *,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read EROS-1 light curves (bands B and R merged per star) with their classes.

    Parameters
    ----------
    path : path-like
        The folder holding ``train.csv`` and ``train_varlength_features.csv.gz``,
        or either file (the other is found beside it; ``test.csv`` pairs with
        ``test_varlength_features.csv.gz`` the same way).
    min_epochs : int
        Fewest good epochs (both bands together) a star needs.
    strict : bool
        Raise on the first bad star instead of skipping it (skipped stars are
        listed in ``.skipped`` with the reason).
    progress : bool
        Show a progress bar.

    Returns
    -------
    LightCurveSet
        One curve per star with per-epoch bands ``"B"`` and ``"R"``; times as
        stored (``meta["time_ref"]`` ``"unknown"``, ``meta["time_shift"]`` 0).
        Objects table: ``id`` (``<patch>_<star>``), ``label`` (``"binary"``,
        ``"cepheid"``, ``"rr_lyrae"``, ``"mira"`` from ``type``; None without
        it), ``type`` (the code 1–4), ``period`` = ``period / div_period`` (the
        true period: the automatic one was sometimes a multiple, and the divisor
        was set by eye), ``period_auto`` (the automatic period), ``div_period``,
        ``quality``, ``magnitude_b``, ``magnitude_r``, ``log_p_not_variable``,
        ``ra``, ``dec`` (degrees).

    Raises
    ------
    DataError
        If a file or a required column is missing (the message names it), or,
        with ``strict``, when any star's cells are malformed.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "train.csv"), "w").write(
    ...     ",period,div_period,type\\n1_2,6.0,2.0,2\\n")
    >>> _ = open(os.path.join(folder, "train_varlength_features.csv"), "w").write(
    ...     ',time_points_b,time_points_r,light_points_b,light_points_r,error_points_b,'
    ...     'error_points_r\\n1_2,"[1.0, 2.0]","[1.5]","[15.0, 15.2]","[14.1]",'
    ...     '"[0.1, 0.1]","[0.1]"\\n')
    >>> s = read_eros(folder, progress=False)
    >>> s.bands, s.labels.tolist(), s.objects["period"].tolist()
    (('B', 'R'), ['cepheid'], [3.0])
    >>> read_eros("eros1_lmc").class_counts()  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file or directory not found", source=str(path))
    table_path, features_path = _find_files(path)
    table = read_table(table_path, index_col=0)
    features = read_table(features_path, index_col=0)
    _require(table, ["period", "div_period"], table_path, "the true period is period / div_period")
    list_columns = [f"{role}_points_{suffix}" for suffix in _BANDS.values() for role in _ROLES]
    _require(features, list_columns, features_path, "times, magnitudes and errors per band")

    rows = _object_rows(table)
    unreadable = _not_numbers(table, ("period", "div_period", "type", *_KEEP), table_path)
    builder = SetBuilder(
        survey="EROS-1",
        source=str(features_path),
        min_epochs=min_epochs,
        strict=strict,
        meta={
            "time_ref": "unknown",
            "time_shift": 0.0,
            "table": str(table_path),
            "features": str(features_path),
            "classes": dict(EROS_CLASSES),
        },
    )
    index = features.index.astype(str)
    cells = {c: features[c].to_numpy() for c in list_columns}
    seen: set[str] = set()
    for i in progress_bar(range(len(features)), desc="EROS", enabled=progress):
        oid = index[i]
        if oid in seen:
            builder.skip(oid, "a second row for this star in the per-epoch file")
            continue
        seen.add(oid)
        row = rows.get(oid)
        if row is None:
            builder.skip(oid, f"no row for this star in {table_path.name}")
            continue
        if oid in unreadable:
            builder.skip(oid, unreadable[oid], source=str(table_path))
            continue
        if row["type"] is not None and row["label"] is None:
            builder.skip(oid, f"type {row['type']} is not one of {sorted(EROS_CLASSES)}")
            continue
        try:
            time, mag, err, band = _merge_bands(cells, i, oid)
        except DataError as exc:
            builder.skip(oid, exc.reason)
            continue
        builder.add(oid, time, mag, err, band, row=row)
    for oid in sorted(set(rows) - seen):
        builder.skip(oid, f"no light curve for this star in {features_path.name}")
    return builder.build()


def _merge_bands(
    cells: dict[str, np.ndarray], i: int, oid: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both bands of star ``i`` as flat arrays (unsorted; sanitize sorts them)."""
    parts: list[tuple[np.ndarray, ...]] = []
    for band, suffix in _BANDS.items():
        t, m, e = (
            parse_list_cell(cells[f"{role}_points_{suffix}"][i], column=f"{role}_points_{suffix}")
            for role in _ROLES
        )
        if not (t.size == m.size == e.size):
            raise DataError(
                f"band {band}: {t.size} times, {m.size} magnitudes and {e.size} errors; "
                "the lists of one band must have one length",
                object_id=oid,
            )
        parts.append((t, m, e, np.full(t.size, band)))
    time, mag, err, band = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    return time, mag, err, band


def _sniff(path: Path) -> bool:
    if path.is_dir():
        return any(
            p.name.endswith((_FEATURES_SUFFIX, _FEATURES_SUFFIX + ".gz")) for p in path.iterdir()
        )
    name = path.name
    if _FEATURES_SUFFIX in name:
        return True
    if name.endswith(".csv"):
        stem = name.removesuffix(".csv")
        return any(path.with_name(stem + _FEATURES_SUFFIX + ext).is_file() for ext in (".gz", ""))
    return False
