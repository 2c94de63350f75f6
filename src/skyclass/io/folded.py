"""Phase-folded, binned Gaia G curves of RRab stars (Dékány & Grebel 2022) with [Fe/H] labels.

The archive ``lc_dev_g.tar.gz`` holds ``lc_dev_g/<source_id>_bin.dat``: two
whitespace-separated columns, phase (maximum light near 0) and G magnitude,
already folded and binned, so there are **no times, no errors and no periods**.
``labels.dat`` beside it (``# source_id fold feh feh_pred_dekany2022``) gives
the photometric [Fe/H], the cross-validation fold and the authors' own
cross-validated prediction for the labelled stars.

The files repeat the start of the cycle after phase 1 (a point at phase
``p + 1`` copies the one at ``p``, up to phase ≈ 1.2), an input convention of
the authors' network. Those copies are dropped by default so each phase is
stored once; ``keep_wrapped=True`` keeps the files exactly as written.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from skyclass._util import progress as progress_bar
from skyclass.exceptions import DataError
from skyclass.io.common import SetBuilder, is_number, other_files
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["read_folded_labels", "read_gaia_folded"]

_ARCHIVE = "lc_dev_g.tar.gz"
_LABELS = "labels.dat"
_SUFFIX = "_bin.dat"
_LABEL_COLUMNS = ("source_id", "fold", "feh", "feh_pred_dekany2022")
#: Phase and magnitude agree to this when a point past phase 1 copies an earlier one
#: (the files give six decimals).
_WRAP_TOL = 5e-6
#: Errors a damaged or truncated gzip/tar stream raises while being read.
_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


def _star_id(name: str) -> str:
    return Path(name).name[: -len(_SUFFIX)]


def _members(archive: Path) -> Iterator[tuple[str, bytes | None, str | None]]:
    """``(member name, bytes, None)`` for every ``*_bin.dat`` member, read in order.

    A damaged archive ends the iteration with ``(name, None, reason)``: the
    member being read (or ``"(rest of archive)"``) and what went wrong.
    """
    current = "(rest of archive)"
    count = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            while True:
                member = tar.next()
                if member is None:
                    return
                if not (member.isfile() and member.name.endswith(_SUFFIX)):
                    continue
                current = member.name
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                count += 1
                current = "(rest of archive)"
                yield member.name, data, None
    except _ARCHIVE_ERRORS as exc:
        yield (
            current,
            None,
            f"the archive is damaged or truncated after {count} curve(s) "
            f"({type(exc).__name__}: {exc}); the members from here on cannot be read: "
            "download it again",
        )


def _files(folder: Path) -> Iterator[tuple[str, bytes | None, str | None]]:
    for file in sorted(folder.glob(f"*{_SUFFIX}")):
        yield file.name, file.read_bytes(), None


def _parse(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Phase and magnitude of one ``_bin.dat``; a DataError says what is wrong."""
    text = data.decode("ascii", errors="replace")
    rows = [ln.split() for ln in text.splitlines()]
    rows = [r for r in rows if r and not r[0].startswith("#")]
    if not rows:
        raise DataError("the file is empty (no phase, mag rows); the archive may be damaged")
    for n, row in enumerate(rows, start=1):
        if len(row) != 2:
            raise DataError(
                f"line {n} has {len(row)} values, expected 2 (phase, mag): {' '.join(row)!r}"
            )
    try:
        values = np.array(rows, dtype=np.float64)
    except ValueError:
        n, bad = next(
            (n, v) for n, row in enumerate(rows, start=1) for v in row if not is_number(v)
        )
        raise DataError(f"line {n}: {bad!r} is not a number; the file is corrupt") from None
    return values[:, 0], values[:, 1]


def _wrapped_copies(phase: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Mask of points past phase 1 that repeat a point at ``phase - 1`` with the same mag."""
    late = np.flatnonzero(phase >= 1.0)
    copy = np.zeros(phase.shape, bool)
    if late.size:
        same = (np.abs(phase[late, None] - 1.0 - phase[None, :]) < _WRAP_TOL) & (
            np.abs(mag[late, None] - mag[None, :]) < _WRAP_TOL
        )
        copy[late] = same.any(axis=1)
    return copy


def read_folded_labels(path: str | PathLike[str]) -> pd.DataFrame:
    """Read ``labels.dat``: ``source_id`` (str), ``fold`` (Int64), ``feh``, ``feh_pred_dekany2022``.

    Column names come from the ``#`` header line when it has one.

    Raises
    ------
    DataError
        If the file is missing or unreadable, lacks ``source_id``, ``fold`` or
        ``feh``, or lists a star twice.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.dat")
    >>> _ = open(path, "w").write("# source_id fold feh feh_pred_dekany2022\\n"
    ...                           "42 3 -1.5 -1.4\\n")
    >>> table = read_folded_labels(path)
    >>> table.iloc[0].astype(str).tolist(), str(table["fold"].dtype)
    (['42', '3', '-1.5', '-1.4'], 'Int64')
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise DataError("labels file not found; pass labels=PATH or labels=False", source=source)
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    names = first.lstrip("#").split() if first.startswith("#") else list(_LABEL_COLUMNS)
    try:
        table = pd.read_csv(
            path, sep=r"\s+", comment="#", header=None, names=names, dtype={names[0]: str}
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(
            f"cannot parse the labels ({exc}); expected whitespace-separated "
            f"{' '.join(_LABEL_COLUMNS)}",
            source=source,
        ) from exc
    missing = [c for c in ("source_id", "fold", "feh") if c not in table.columns]
    if missing:
        raise DataError(
            f"no {missing[0]!r} column in the labels; columns present: {list(table.columns)}",
            source=source,
        )
    table["source_id"] = table["source_id"].astype(str).str.strip()
    twice = table["source_id"][table["source_id"].duplicated()].unique()
    if twice.size:
        raise DataError(
            f"{twice.size} star(s) listed twice, e.g. {twice[0]}; keep one row per star",
            source=source,
        )
    fold = pd.to_numeric(table["fold"], errors="coerce")
    if fold.notna().any() and (fold.dropna() % 1 != 0).any():
        raise DataError("fold holds non-integer values", source=source)
    table["fold"] = fold.astype("Int64")
    for column in table.columns.drop(["source_id", "fold"]):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    return table


def _locate(path: Path) -> tuple[Path, bool]:
    """The archive (or folder of ``_bin.dat`` files) to read and whether it is an archive."""
    if path.is_dir():
        if (path / _ARCHIVE).is_file():
            return path / _ARCHIVE, True
        if any(path.glob(f"*{_SUFFIX}")):
            return path, False
        if (path / "lc_dev_g").is_dir():
            return path / "lc_dev_g", False
        raise DataError(
            f"no {_ARCHIVE} and no *{_SUFFIX} files here; pass the archive or its folder",
            source=str(path),
        )
    return path, True


def _is_folded(path: Path) -> bool:
    if path.is_dir():
        return (path / _ARCHIVE).is_file() or any(path.glob(f"*{_SUFFIX}"))
    if not path.is_file() or not tarfile.is_tarfile(path):
        return False
    try:
        with tarfile.open(path, "r:*") as tar:
            for _ in range(5):  # the first few files decide; never scan a whole archive
                member = tar.next()
                if member is None:
                    return False
                if member.isfile():
                    return member.name.endswith(_SUFFIX)
    except _ARCHIVE_ERRORS:
        return False
    return False


@register_reader(
    "gaia_folded",
    description="Dékány & Grebel 2022 folded Gaia G RRab curves (<source_id>_bin.dat) + [Fe/H]",
    sniff=_is_folded,
)
def read_gaia_folded(
    path: str | PathLike[str],
    *,
    labels: str | PathLike[str] | bool | None = None,
    keep_wrapped: bool = False,
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read phase-folded, binned Gaia G curves and their [Fe/H] labels.

    Parameters
    ----------
    path : path-like
        ``lc_dev_g.tar.gz`` (or any tar, compressed or not, of ``<source_id>_bin.dat``
        members), the folder holding it, or a folder of extracted ``_bin.dat``
        files. Members are read straight from the archive, never extracted.
    labels : path-like, bool or None
        The labels table. None looks for ``labels.dat`` beside the archive (its
        absence leaves every star unlabelled); False reads no labels.
    keep_wrapped : bool
        Keep the points past phase 1 that copy the start of the cycle (see the
        module notes); by default they are dropped and counted in
        ``meta["wrapped_dropped"]``.
    min_epochs : int
        Fewest good phase points a curve needs.
    strict : bool
        Raise on the first bad curve (or a damaged archive) instead of skipping it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    LightCurveSet
        Band ``"G"``; ``time`` holds phase (``meta["time_ref"] == "phase"``,
        ``meta["folded"]``); ``err`` is all NaN. Objects: ``id`` (source_id),
        ``label`` ([Fe/H], NaN when unlabelled), ``fold`` (nullable ``Int64``,
        ``<NA>`` when unlabelled) and ``feh_pred_dekany2022`` (NaN when unlabelled).

    Raises
    ------
    DataError
        If the path holds no curves, the labels file is unreadable, or no curve
        is usable (or any curve is bad and ``strict``).

    Examples
    --------
    >>> import io, os, tarfile, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with tarfile.open(os.path.join(folder, "lc_dev_g.tar.gz"), "w:gz") as tar:
    ...     for sid, text in [("11", b"0.0 15.0\\n0.5 15.4\\n1.0 15.0\\n"), ("12", b"0.1 16\\n")]:
    ...         info = tarfile.TarInfo(f"lc_dev_g/{sid}_bin.dat"); info.size = len(text)
    ...         tar.addfile(info, io.BytesIO(text))
    >>> _ = open(os.path.join(folder, "labels.dat"), "w").write("11 4 -1.25 -1.3\\n")
    >>> s = read_gaia_folded(folder, progress=False)
    >>> s.ids.tolist(), s.time.tolist(), s.labels.tolist(), s.objects["fold"].tolist()
    (['11'], [0.0, 0.5], [-1.25], [4])
    >>> s.skipped[0]["id"], s.meta["wrapped_dropped"]
    ('12', 1)
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file or directory not found", source=str(path))
    where, is_archive = _locate(path)
    source = str(where)
    if labels is None:
        beside = [where.parent / _LABELS, *([where / _LABELS] if where.is_dir() else [])]
        found = next((p for p in beside if p.is_file()), None)
        label_table = read_folded_labels(found) if found else None
        label_source = str(found) if found else None
    elif labels is False:
        label_table, label_source = None, None
    else:
        label_table, label_source = read_folded_labels(labels), str(labels)

    builder = SetBuilder(
        survey="gaia_dr2_folded",
        source=source,
        min_epochs=min_epochs,
        strict=strict,
        meta={"time_ref": "phase", "time_shift": 0.0, "folded": True, "band": "G"},
    )
    if not is_archive:
        known = [*where.glob(f"*{_SUFFIX}"), where / _LABELS]
        builder.meta["ignored_files"] = other_files(
            where, known, what=f"folded curves ({_SUFFIX}) or {_LABELS}"
        )
    members = _members(where) if is_archive else _files(where)
    wrapped = 0
    seen: set[str] = set()
    for name, data, problem in progress_bar(members, desc="gaia_folded", enabled=progress):
        if problem is not None:
            star = _star_id(name) if name.endswith(_SUFFIX) else name
            builder.skip(star, problem, source=source)
            continue
        star = _star_id(name)
        member_source = f"{source}:{name}" if is_archive else str(where / name)
        if star in seen:
            builder.skip(star, f"a second curve for this star ({name}); keep one", source=source)
            continue
        seen.add(star)
        try:
            phase, mag = _parse(data or b"")
        except DataError as exc:
            builder.skip(star, exc.reason, source=member_source)
            continue
        if not keep_wrapped:
            copies = _wrapped_copies(phase, mag)
            wrapped += int(copies.sum())
            phase, mag = phase[~copies], mag[~copies]
        builder.add(star, phase, mag, None, "G", source=member_source)
    builder.meta["wrapped_dropped"] = wrapped
    builder.meta["labels_source"] = label_source
    result = builder.build()
    return _attach_labels(result, label_table)


def _attach_labels(curves: LightCurveSet, labels: pd.DataFrame | None) -> LightCurveSet:
    """Join the label table onto the objects (by source_id), NaN/<NA> where unlabelled."""
    objects = curves.objects[["id"]].copy()
    if labels is None:
        objects["label"] = np.nan
        objects["fold"] = pd.array([pd.NA] * len(objects), dtype="Int64")
        objects["feh_pred_dekany2022"] = np.nan
        meta = {"n_labelled": 0}
    else:
        table = labels.rename(columns={"source_id": "id", "feh": "label"})
        objects = objects.merge(table, on="id", how="left", validate="one_to_one")
        first = ["id", "label", "fold"]
        objects = objects[[*first, *[c for c in objects.columns if c not in first]]]
        ours = set(curves.objects["id"])
        meta = {
            "n_labelled": int(objects["label"].notna().sum()),
            "labels_without_curve": int((~table["id"].isin(ours)).sum()),
        }
    return curves.with_objects(objects.reset_index(drop=True), meta=meta)
