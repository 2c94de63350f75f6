"""SDSS Stripe 82 RR Lyrae (Sesar et al. 2010): one whitespace-separated file per star.

Every row of a star's file holds 17 numbers: ``ra dec`` (degrees), then
``mjd mag err`` for each of u, g, r, i, z in turn; −99.99 stands for "no
measurement in this band" and such epochs are dropped (counted in
``meta["dropped_epochs"]["missing"]``). Files are named by the star's id; a table
of ``id type P ...`` beside them gives the RR Lyrae type (label) and period.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from skyclass.exceptions import DataError
from skyclass.io.common import (
    ARCHIVE_SUFFIXES,
    SetBuilder,
    first_member,
    is_number,
    normalise_id,
    parsed_files,
    time_shift,
)
from skyclass.io.labels import attach_labels
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["STRIPE82_BANDS", "parse_stripe82", "read_stripe82"]

#: Bands of a row, in the order of their ``mjd mag err`` triplets.
STRIPE82_BANDS = ("u", "g", "r", "i", "z")
#: What the files hold where a band has no measurement.
MISSING = -99.99
_N_COLUMNS = 2 + 3 * len(STRIPE82_BANDS)


def _rows(data: bytes) -> list[tuple[int, list[str]]]:
    text = data.decode("ascii", errors="replace")
    return [
        (i, ln.split())
        for i, ln in enumerate(text.splitlines(), 1)
        if ln.strip() and not ln.lstrip().startswith("#")
    ]


def parse_stripe82(data: bytes, *, source: str = "<bytes>") -> np.ndarray:
    """Parse one star's file into an ``(n, 17)`` array (ra, dec, then mjd, mag, err per band).

    Raises
    ------
    DataError
        Naming the line when a row does not hold 17 numbers (a short last line is
        called truncated), or when the file is empty.

    Examples
    --------
    >>> row = b"0.93 1.26 " + b"52288.1 16.93 0.02 " * 4 + b"-99.99 -99.99 -99.99\\n"
    >>> parse_stripe82(row).shape
    (1, 17)
    """
    if b"\0" in data:
        raise DataError(
            "the file is not text; a Stripe 82 light curve has 17 numbers per row",
            source=source,
        )
    rows = _rows(data)
    if not rows:
        raise DataError("the file is empty; check the download is complete", source=source)
    values = []
    for k, (i, tokens) in enumerate(rows):
        if len(tokens) != _N_COLUMNS:
            last = k == len(rows) - 1 and not data.endswith(b"\n")
            hint = (
                "the file looks truncated"
                if last
                else "rows are ra dec, then mjd mag err for u g r i z (-99.99 where missing)"
            )
            raise DataError(
                f"line {i} has {len(tokens)} values, expected {_N_COLUMNS}; {hint}", source=source
            )
        try:
            values.append([float(t) for t in tokens])
        except ValueError:
            bad = next(t for t in tokens if not is_number(t))
            raise DataError(
                f"line {i}: {bad!r} is not a number; edit or exclude the file", source=source
            ) from None
    return np.array(values, dtype=np.float64)


def _is_curve(data: bytes) -> bool:
    rows = _rows(data[:4096])
    complete = rows[:-1] or rows
    return bool(rows) and all(
        len(t) == _N_COLUMNS and all(map(is_number, t)) for _, t in complete[:3]
    )


def _find_table(path: Path, ids: set[str]) -> Path | None:
    """The one file beside the curves whose rows start with their ids (``id type P ...``)."""
    folder = path if path.is_dir() else path.parent
    found = []
    for candidate in sorted({*folder.iterdir(), *folder.parent.iterdir()}):
        if not candidate.is_file() or candidate.name.endswith(ARCHIVE_SUFFIXES):
            continue
        try:
            with candidate.open("rb") as fh:
                head = fh.read(4096)
        except OSError:
            continue
        if b"\0" in head or _is_curve(head):
            continue
        rows = _rows(head)
        first_tokens = {normalise_id(t[0]) for _, t in rows[:20] if len(t) >= 2}
        if first_tokens & ids:
            found.append(candidate)
    return found[0] if len(found) == 1 else None


def _sniff(path: Path) -> bool:
    if path.is_dir():
        candidates = [p for p in sorted(path.iterdir()) if p.is_file()][:3]
        return any(_is_curve(p.read_bytes()[:4096]) for p in candidates)
    if path.name.endswith(ARCHIVE_SUFFIXES):
        head = first_member(path, lambda name: True)
        return head is not None and _is_curve(head)
    return path.is_file() and _is_curve(path.read_bytes()[:4096])


@register_reader(
    "sdss_stripe82",
    description="SDSS Stripe 82 RR Lyrae (Sesar et al. 2010): one file per star, rows "
    "ra dec + mjd mag err for ugriz, with an 'id type P' table",
    sniff=_sniff,
)
def read_stripe82(
    path: str | PathLike[str],
    *,
    table: str | PathLike[str] | bool | None = None,
    bands: Sequence[str] = STRIPE82_BANDS,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read SDSS Stripe 82 RR Lyrae light curves (bands ugriz) with their types and periods.

    Parameters
    ----------
    path : path-like
        A folder of one file per star (named by its id), a tarball of them, or one file.
    table : path-like or bool, optional
        The ``id type P ...`` table: ``type`` becomes ``label``, ``P`` becomes
        ``period`` and the other columns are kept. By default the one file beside
        the curves whose rows start with their ids; False reads none.
    bands : sequence of str
        Bands to keep, of ``u g r i z``.
    min_epochs, strict, progress
        See :class:`~skyclass.io.common.SetBuilder`.

    Returns
    -------
    LightCurveSet
        Times are MJD (days since JD 2400000.5, ``meta["time_ref"] == "JD"``);
        ``ra`` and ``dec`` are the median position of each star.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> rows = ["0.93 1.26 52288.1 17.1 0.02 52288.1 16.2 0.01 52288.1 16.0 0.01 "
    ...         "52288.1 15.9 0.01 -99.99 -99.99 -99.99",
    ...         "0.93 1.26 52290.2 17.4 0.02 52290.2 16.5 0.01 52290.2 16.2 0.01 "
    ...         "52290.2 16.1 0.01 52290.2 16.0 0.03"]
    >>> _ = open(os.path.join(folder, "1000035"), "w").write("\\n".join(rows) + "\\n")
    >>> table = os.path.join(folder, "table2.dat")
    >>> _ = open(table, "w").write("# id type P\\n1000035 ab 0.5581\\n")
    >>> s = read_stripe82(folder, progress=False)
    >>> s.ids.tolist(), s.labels.tolist(), s.objects["period"].tolist(), sorted(s.bands)
    (['1000035'], ['ab'], [0.5581], ['g', 'i', 'r', 'u', 'z'])
    >>> s.meta["dropped_epochs"]["missing"]
    1
    """
    path = Path(path)
    source = str(path)
    wanted = [str(b) for b in bands]
    unknown = [b for b in wanted if b not in STRIPE82_BANDS]
    if unknown or not wanted:
        raise DataError(
            f"unknown band(s) {unknown or wanted}; choose from {list(STRIPE82_BANDS)}",
            source=source,
        )
    frame, shift = time_shift("mjd", np.empty(0))
    builder = SetBuilder(
        survey="sdss_stripe82",
        source=source,
        min_epochs=min_epochs,
        strict=strict,
        meta={"time_ref": frame, "time_shift": shift, "bands_requested": wanted},
        missing_values=(MISSING,),
    )
    explicit = None if table in (None, True, False) else Path(table)  # type: ignore[arg-type]
    table_path = explicit
    if table_path is None and table is not False and path.is_dir():
        names = {normalise_id(p.name) for p in path.rglob("*") if p.is_file()}
        table_path = _find_table(path, names)
    curves = parsed_files(
        builder,
        path,
        parse_stripe82,
        accept=lambda name: True,
        what="Stripe 82 light curves",
        show_progress=progress,
        exclude=table_path,
    )
    for oid, name, values in curves:
        parts = []
        for band in wanted:
            k = 2 + 3 * STRIPE82_BANDS.index(band)
            t, m, e = values[:, k], values[:, k + 1].copy(), values[:, k + 2]
            m[(t == MISSING) | (e == MISSING)] = MISSING  # one missing number: no epoch
            t = np.where(t == MISSING, np.nan, t)
            parts.append((t, m, e, np.full(t.size, band)))
        t, m, e, b = (np.concatenate(x) for x in zip(*parts, strict=True))
        missing_time = np.isnan(t) & (m == MISSING)
        t[missing_time] = 0.0  # counted as missing (by its magnitude), not as non-finite
        row = {"ra": float(np.median(values[:, 0])), "dec": float(np.median(values[:, 1]))}
        builder.add(oid, t + shift, m, e, b, row=row, source=name)
    lcs = builder.build()
    if table_path is None and table is not False and not path.is_dir():
        table_path = _find_table(path, set(lcs.ids.astype(str)))
    return attach_labels(lcs, table_path, keep=True) if table_path is not None else lcs
