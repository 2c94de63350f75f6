"""ASAS catalogue training set (Richards et al. 2012): one headerless CSV per star.

Each star is a file ``<id>.dat`` of comma-separated rows ``time,mag,err``
(time = HJD − 2450000, ASAS V magnitude and its error), shipped in a tarball
with a ``filename,class`` CSV beside it. The reader takes the tarball, a folder
of the files, or one file; the class table beside is attached by file name.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from skyclass.exceptions import DataError
from skyclass.io.common import (
    ARCHIVE_SUFFIXES,
    SetBuilder,
    first_member,
    is_number,
    other_files,
    parsed_files,
    time_shift,
)
from skyclass.io.labels import attach_labels
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["ASAS_TIME_OFFSET", "parse_asas_dat", "read_asas"]

#: What ASAS subtracts from its heliocentric Julian dates.
ASAS_TIME_OFFSET = 2450000.0


def parse_asas_dat(data: bytes, *, source: str = "<bytes>") -> np.ndarray:
    """Parse one ASAS training-set file into an ``(n, 3)`` array of time, mag, err.

    Raises
    ------
    DataError
        Naming the line when a row does not hold three numbers (a short last line
        is called truncated), or when the file is empty or not text.

    Examples
    --------
    >>> parse_asas_dat(b"1868.8,11.56,0.032\\n1870.8,11.43,0.030\\n").tolist()
    [[1868.8, 11.56, 0.032], [1870.8, 11.43, 0.03]]
    """
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise DataError(
            "the file is not text; an ASAS training-set file holds rows time,mag,err",
            source=source,
        ) from None
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    lines = [(i, ln) for i, ln in lines if not ln.lstrip().startswith("#")]
    if not lines:
        raise DataError("the file is empty; check the archive is complete", source=source)
    rows = []
    for k, (i, line) in enumerate(lines):
        tokens = [t.strip() for t in line.split(",")]
        if len(tokens) != 3:
            last = k == len(lines) - 1 and not text.endswith("\n")
            hint = "the file looks truncated" if last else "rows are time,mag,err"
            raise DataError(
                f"line {i} has {len(tokens)} comma-separated values, expected 3; {hint}",
                source=source,
            )
        try:
            rows.append([float(t) for t in tokens])
        except ValueError:
            bad = next(t for t in tokens if not is_number(t))
            raise DataError(
                f"line {i}: {bad!r} is not a number; rows are time,mag,err (edit or exclude "
                "the file)",
                source=source,
            ) from None
    return np.array(rows, dtype=np.float64)


def _class_table(path: Path) -> Path | None:
    """The ``filename,class`` CSV beside the data, if there is exactly one."""
    folder = path if path.is_dir() else path.parent
    found = []
    for candidate in sorted({*folder.glob("*.csv"), *folder.parent.glob("*.csv")}):
        try:
            with candidate.open() as fh:
                head = fh.readline().lower()
        except (OSError, UnicodeDecodeError):
            continue
        if "filename" in head and "class" in head:
            found.append(candidate)
    return found[0] if len(found) == 1 else None


def _looks_like_asas(data: bytes) -> bool:
    lines = [ln for ln in data.splitlines()[:3] if ln.strip()]
    return bool(lines) and all(
        len(ln.split(b",")) == 3
        and all(is_number(t.decode(errors="replace")) for t in ln.split(b","))
        for ln in lines[:-1] or lines
    )


def _sniff(path: Path) -> bool:
    if path.is_dir():
        first = next(path.rglob("*.dat"), None)
        return first is not None and _looks_like_asas(first.read_bytes()[:256])
    if path.name.endswith(ARCHIVE_SUFFIXES):
        head = first_member(path, lambda name: name.endswith(".dat"), size=256)
        return head is not None and _looks_like_asas(head)
    return path.suffix == ".dat" and _looks_like_asas(path.read_bytes()[:256])


@register_reader(
    "asas",
    description="ASAS catalogue training set (Richards et al. 2012): tarball or folder of "
    "<id>.dat files time,mag,err with a filename,class CSV",
    sniff=_sniff,
)
def read_asas(
    path: str | PathLike[str],
    *,
    labels: str | PathLike[str] | bool | None = None,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read the ASAS catalogue training-set light curves (band V) with their classes.

    Parameters
    ----------
    path : path-like
        The tarball (``.tar.gz``, ``.tgz``, ``.tar``), a folder of ``<id>.dat``
        files, or one file.
    labels : path-like or bool, optional
        The ``filename,class`` table; by default the one CSV with those columns
        beside the data (or in the folder above); False reads no labels.
    min_epochs, strict, progress
        See :class:`~skyclass.io.common.SetBuilder`.

    Returns
    -------
    LightCurveSet
        ``id`` is the file name without ``.dat``; times in days since JD 2400000.5
        (``meta["time_ref"] == "HJD"``); ``label`` from the class table.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "010004-6519.8.dat"), "w").write(
    ...     "1868.81,11.56,0.032\\n1870.80,11.43,0.030\\n1872.83,11.61,0.033\\n")
    >>> _ = open(os.path.join(folder, "classes.csv"), "w").write(
    ...     "filename,class\\n010004-6519.8.dat,RR Lyrae FM\\n")
    >>> s = read_asas(folder, progress=False)
    >>> s.ids.tolist(), s.labels.tolist(), float(s.time[0])
    (['010004-6519.8'], ['RR Lyrae FM'], 51868.31)
    """
    path = Path(path)
    source = str(path)
    frame, shift = time_shift("hjd", np.empty(0), offset=ASAS_TIME_OFFSET)
    table = (
        None
        if labels is False
        else (_class_table(path) if labels in (None, True) else Path(labels))
    )
    builder = SetBuilder(
        survey="asas",
        source=source,
        min_epochs=min_epochs,
        strict=strict,
        meta={"time_ref": frame, "time_shift": shift, "band": "V"},
    )
    if path.is_dir():
        known = [*path.rglob("*.dat"), *([table] if table else [])]
        builder.meta["ignored_files"] = other_files(path, known, what="ASAS files (.dat)")
    curves = parsed_files(
        builder,
        path,
        parse_asas_dat,
        accept=lambda name: name.endswith(".dat"),
        what="ASAS .dat files",
        show_progress=progress,
    )
    for oid, name, values in curves:
        builder.add(oid, values[:, 0] + shift, values[:, 1], values[:, 2], "V", source=name)
    lcs = builder.build()
    return attach_labels(lcs, table, keep=False) if table else lcs
