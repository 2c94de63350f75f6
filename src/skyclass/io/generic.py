"""Generic long tables: CSV or Parquet with one row per epoch and aliased column names.

Columns are found by alias (case-insensitive): time ``time|mjd|hjd|bjd|jd``,
magnitude ``mag|magnitude``, error ``err|magerr|mag_err|sigma``, band
``band|filter|filtercode|passband``, object ``id|object_id|oid|source_id|name``.
Without an id column the file is one object, named after the file.

:func:`read_long_table` is the engine of every long-table survey reader;
:func:`read_filtered_long_table` adds survey flag cuts (counted) on top of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.io.common import SetBuilder, add_long_table, resolve_columns, time_shift
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = [
    "find_columns",
    "header_names",
    "read_filtered_long_table",
    "read_long_table",
    "read_table",
]


def read_table(path: str | PathLike[str], **csv_options) -> pd.DataFrame:
    """Read a CSV or Parquet table, turning pandas' errors into :class:`DataError`."""
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, **{"comment": "#", "skipinitialspace": True, **csv_options})
    except pd.errors.EmptyDataError:
        raise DataError(
            "the file is empty; check the download finished", source=str(path)
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(
            f"cannot parse the table ({exc}); check it is complete and in the expected format",
            source=str(path),
        ) from exc
    if table.empty:
        raise DataError("the table has a header but no rows", source=str(path))
    return table


def read_long_table(
    path: str | PathLike[str],
    *,
    survey: str,
    columns: Mapping[str, str] | None = None,
    band: str | Mapping[str, str] | None = None,
    keep: tuple[str, ...] = (),
    time_offset: float | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    table: pd.DataFrame | None = None,
    progress: bool = True,
    missing_values: Sequence[float] = (),
) -> LightCurveSet:
    """Read a long table into a set; the shared engine of the CSV-style survey readers.

    Parameters
    ----------
    path : path-like
        The file (CSV or Parquet).
    survey : str
        Survey name for the set's meta.
    columns : mapping, optional
        Explicit ``{role: column}`` names that win over the aliases.
    band : str or mapping, optional
        Band when there is no band column, or a map from band codes to names.
    keep : tuple of str
        Per-object columns to keep in the objects table.
    time_offset : float, optional
        What the survey subtracted from the Julian date, if anything.
    min_epochs, strict
        See :class:`~skyclass.io.common.SetBuilder`.
    table : DataFrame, optional
        The table already read (readers that pre-filter rows pass it).
    missing_values : sequence of float
        Magnitudes or errors that mean "no measurement" (e.g. ``(-99.99, 99.99)``);
        such epochs are dropped and counted in ``meta["dropped_epochs"]["missing"]``.
        Values outside the survey's plausibility limits are dropped in any case.
    """
    path = Path(path)
    table = read_table(path) if table is None else table
    cols = resolve_columns(
        list(table.columns),
        ["time", "mag"],
        optional=["id", "err", "band"],
        given=columns,
        source=str(path),
    )
    times = pd.to_numeric(table[cols["time"]], errors="coerce").to_numpy(float)
    frame, shift = time_shift(cols["time"], times, offset=time_offset)
    builder = SetBuilder(
        survey=survey,
        source=str(path),
        min_epochs=min_epochs,
        strict=strict,
        meta={"time_ref": frame, "time_shift": shift, "time_column": cols["time"]},
        missing_values=missing_values,
    )
    add_long_table(
        builder,
        table,
        cols,
        band=band,
        keep=keep,
        shift=shift,
        default_id=path.stem,
        show_progress=progress,
    )
    return builder.build()


# ------------------------------------------------ row filters on top of long tables
def header_names(path: Path) -> set[str]:
    """Lower-cased column names of a CSV or Parquet file, read from its header only."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return {name.lower() for name in pq.read_schema(path).names}
    return {str(c).strip().lower() for c in pd.read_csv(path, nrows=0, comment="#").columns}


def find_columns(
    table: pd.DataFrame,
    wanted: Mapping[str, str],
    *,
    source: str,
    layout: str,
) -> dict[str, str]:
    """Map ``{role: documented column}`` to the table's own spelling (case-insensitive).

    The survey readers' form of :func:`~skyclass.io.common.resolve_columns`, with one
    documented name per role.

    Raises
    ------
    DataError
        Naming the missing column, the file, the columns present and the fix.
    """
    found = resolve_columns(
        list(table.columns),
        list(wanted),
        aliases={role: (name,) for role, name in wanted.items()},
        source=source,
        layout=layout,
    )
    return {role: str(col) for role, col in found.items()}


def read_filtered_long_table(
    path: Path,
    table: pd.DataFrame,
    *,
    survey: str,
    columns: Mapping[str, str],
    drop: Mapping[str, tuple[Any, str, str]],
    min_epochs: int,
    strict: bool,
    progress: bool,
    **options: Any,
) -> LightCurveSet:
    """Drop flagged rows, then read the rest with :func:`read_long_table`.

    Parameters
    ----------
    path : Path
        The file, for messages and the default object id.
    table : DataFrame
        The whole file.
    columns : mapping
        ``{role: column}`` for ``read_long_table`` (``id`` optional).
    drop : mapping
        ``{name: (mask, rule, fix)}``: rows where ``mask`` is true are dropped;
        ``rule`` says why (stored in ``meta["epoch_filters"]``), ``fix`` says how
        to keep them. A row caught by several rules counts under the first.
    **options
        Passed on to ``read_long_table`` (``band``, ``keep``, ``time_offset``).

    Returns
    -------
    LightCurveSet
        With ``meta["filtered_epochs"]`` (rows dropped per rule) and
        ``meta["epoch_filters"]``; objects left with no row are in ``skipped``.
    """
    source = str(path)
    removed = np.zeros(len(table), dtype=bool)
    counts: dict[str, int] = {}
    for name, (mask, _, _) in drop.items():
        new = np.asarray(mask, dtype=bool) & ~removed
        counts[name] = int(new.sum())
        removed |= new
    fixes = "; ".join(fix for name, (_, _, fix) in drop.items() if counts[name])
    if removed.all():
        raise DataError(
            f"all {len(table)} epochs were dropped ({_describe(counts, drop)}); {fixes}",
            source=source,
        )
    kept = table.loc[~removed]
    vanished: list[str] = []
    if columns.get("id") and removed.any():
        before = pd.unique(table[columns["id"]].astype(str))
        vanished = sorted(set(before) - set(kept[columns["id"]].astype(str)))
    reason = f"every epoch was dropped ({_describe(counts, drop)} in the whole file); {fixes}"
    if strict and vanished:
        raise DataError(reason, source=source, object_id=vanished[0])
    for role in ("time", "mag", "err"):
        _check_numeric(kept, columns.get(role), role, source)
    result = read_long_table(
        path,
        survey=survey,
        columns=columns,
        table=kept,
        min_epochs=min_epochs,
        strict=strict,
        progress=progress,
        **options,
    )
    result.meta["skipped"] = [
        *result.meta.get("skipped", []),
        *({"id": i, "source": source, "reason": reason} for i in vanished),
    ]
    result.meta["filtered_epochs"] = counts
    result.meta["epoch_filters"] = {name: rule for name, (_, rule, _) in drop.items()}
    return result


def _describe(counts: Mapping[str, int], drop: Mapping[str, tuple[Any, str, str]]) -> str:
    return ", ".join(f"{n} with {drop[name][1]}" for name, n in counts.items() if n)


def _check_numeric(table: pd.DataFrame, column: str | None, role: str, source: str) -> None:
    """Raise when a numeric column holds no number at all (a few bad cells are dropped later).

    An error column that is entirely empty is allowed: it means the survey gave no errors.
    """
    if column is None:
        return
    values = table[column]
    if pd.to_numeric(values, errors="coerce").notna().any():
        return
    if role == "err" and values.isna().all():
        return
    shown = values.dropna()
    first = repr(shown.iloc[0]) if shown.size else "empty"
    raise DataError(
        f"column {column!r} ({role}) holds no numbers (first value {first}); check the "
        f"file format, or name the right column with columns={{'{role}': 'NAME'}}",
        source=source,
    )


def _is_long_csv(path: Path) -> bool:
    if path.suffix.lower() not in {".csv", ".txt", ".tsv"} or not path.is_file():
        return False
    header = pd.read_csv(path, nrows=0, comment="#").columns
    resolve_columns(list(header), ["time", "mag"])
    return True


@register_reader(
    "csv",
    description="generic CSV, one row per epoch, aliased columns (time|mjd|hjd, mag, err, band)",
    sniff=_is_long_csv,
    fallback=True,
)
def read_csv(
    path: str | PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    band: str | None = None,
    time_offset: float | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
    missing_values: Sequence[float] = (),
) -> LightCurveSet:
    """Read a generic long CSV table.

    Parameters
    ----------
    path : path-like
        The CSV file; columns are found by alias (see the module docstring).
    columns : mapping, optional
        Explicit ``{role: column}`` names that win over the aliases.
    band : str, optional
        Band of every epoch when the table has no band column.
    time_offset : float, optional
        What the survey subtracted from the Julian date, if anything.
    min_epochs, strict
        See :class:`~skyclass.io.common.SetBuilder`.
    progress : bool
        Show a progress bar.
    missing_values : sequence of float
        Magnitudes or errors that mean "no measurement" (e.g. ``(-99.99, 99.99)``),
        dropped and counted in ``meta["dropped_epochs"]["missing"]``.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "two.csv")
    >>> _ = open(path, "w").write(
    ...     "name,hjd,magnitude,sigma,filter\\n"
    ...     "a,2455000.5,15.0,0.1,V\\na,2455001.5,15.2,0.1,V\\nb,2455000.5,16.0,0.2,V\\n"
    ...     "b,2455003.5,16.1,0.2,V\\n")
    >>> s = read_csv(path)
    >>> s.ids.tolist(), s.time[:2].tolist(), s.meta["time_ref"]
    (['a', 'b'], [55000.0, 55001.0], 'HJD')
    >>> _ = open(path, "a").write("b,2455004.5,-99.99,0.2,V\\n")
    >>> read_csv(path, missing_values=[-99.99]).meta["dropped_epochs"]["missing"]
    1
    """
    return read_long_table(
        path,
        survey="generic",
        columns=columns,
        band=band,
        time_offset=time_offset,
        min_epochs=min_epochs,
        strict=strict,
        progress=progress,
        missing_values=missing_values,
    )


def _is_long_parquet(path: Path) -> bool:
    if path.suffix != ".parquet" or not path.is_file():
        return False
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    cols = resolve_columns(schema.names, ["time", "mag"])
    return not pa.types.is_list(schema.field(cols["time"]).type)  # list columns: nested layouts


@register_reader(
    "parquet",
    description="generic Parquet, one row per epoch, aliased columns (as 'csv')",
    sniff=_is_long_parquet,
    fallback=True,
)
def read_parquet_table(
    path: str | PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    band: str | None = None,
    time_offset: float | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
    missing_values: Sequence[float] = (),
) -> LightCurveSet:
    """Read a generic long Parquet table (one row per epoch); options as :func:`read_csv`."""
    return read_long_table(
        path,
        survey="generic",
        columns=columns,
        band=band,
        time_offset=time_offset,
        min_epochs=min_epochs,
        strict=strict,
        progress=progress,
        missing_values=missing_values,
    )
