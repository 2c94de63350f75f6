"""OGLE Collection of Variable Stars: per-star ``.dat`` light curves plus the catalogue tables.

OGLE distributes one file per star and band, ``phot/I/OGLE-LMC-CEP-0002.dat``,
with three whitespace columns: HJD − 2450000, magnitude and its 1σ error.
Beside them sit ``ident.dat`` (identifier, pulsation mode or subtype, RA, Dec,
older survey identifiers) and one parameter table per class (``cepF.dat``,
``cep1O.dat``... or a merged table such as ``cepFO4.dat``): identifier, mean
I and V, period, its error, epoch of maximum T0 (HJD − 2450000), I amplitude
and the Fourier parameters R21, φ21, R31, φ31.

:func:`read_ogle` reads one file, a directory of them (recursively) or a
``.tar.gz`` archive of them (members are read straight from the archive), and
joins the mode and catalogue values when it finds those tables.
"""

from __future__ import annotations

import io
import re
import tarfile
import warnings
from collections.abc import Iterator, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skyclass._util import progress as progress_bar
from skyclass.exceptions import DataError
from skyclass.io.common import ARCHIVE_ERRORS, SetBuilder, other_files, time_shift
from skyclass.io.registry import register_reader
from skyclass.lightcurve import LightCurveSet

__all__ = ["parse_ogle_dat", "read_ogle", "read_ogle_catalog", "read_ogle_ident"]

#: What OGLE subtracted from the heliocentric Julian date in every time column.
OGLE_TIME_OFFSET = 2450000.0

#: Catalogue columns after the identifier, as named in the objects table.
CATALOG_COLUMNS = (
    "mean_mag_I",
    "mean_mag_V",
    "period",
    "period_err",
    "t0",
    "amp_I",
    "R21",
    "phi21",
    "R31",
    "phi31",
)

#: Values OGLE writes where a quantity was not measured.
_MISSING = {"-99.99", "-99.990", "-99.9900", "-99.999", "-9.999", "-", "--", "---", "nan"}

_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_SEXAGESIMAL = re.compile(r"^[+-]?\d{1,3}:\d{1,2}:\d{1,2}(\.\d*)?$")
_SNIFF_MEMBERS = 5


# --------------------------------------------------------------------------- tables
def _sexagesimal(text: str, scale: float) -> float:
    """``"-69:49:09.5"`` → degrees (``scale`` 15 for hours of right ascension)."""
    parts = text.split(":")
    value = abs(float(parts[0])) + float(parts[1]) / 60 + float(parts[2]) / 3600
    return (-value if text.lstrip().startswith("-") else value) * scale


def read_ogle_ident(path: str | PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read an OGLE ``ident.dat``: mode (or subtype) and coordinates of every star.

    The identifier is the first column and the mode the second (``F``, ``1O``,
    ``F/1O``...; for other classes the subtype such as ``RRab``); RA and Dec are
    the first two sexagesimal columns (J2000, hours and degrees), returned in degrees.

    Parameters
    ----------
    path : path-like
        The ``ident.dat`` file.

    Returns
    -------
    dict
        ``{id: {"label": str | None, "ra": float, "dec": float}}``.

    Raises
    ------
    DataError
        If the file cannot be read or a line has no identifier.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "ident.dat")
    >>> _ = open(path, "w").write(
    ...     "OGLE-LMC-CEP-0002        F  04:31:47.05 -69:49:09.5  LMC538.25.57\\n")
    >>> row = read_ogle_ident(path)["OGLE-LMC-CEP-0002"]
    >>> row["label"], round(row["ra"], 5), round(row["dec"], 5)
    ('F', 67.94604, -69.81931)
    """
    path = Path(path)
    text = _read_text(path)
    table: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        if not table and not tokens[0].startswith("OGLE"):
            raise DataError(
                f"the first line starts with {tokens[0]!r}, not an OGLE identifier; "
                "pass ident= the OGLE ident.dat table (or ident=False to read none)",
                source=str(path),
            )
        coords = [i for i, tok in enumerate(tokens) if _SEXAGESIMAL.match(tok)]
        label = tokens[1] if len(tokens) > 1 and (not coords or coords[0] > 1) else None
        try:
            ra = _sexagesimal(tokens[coords[0]], 15.0) if len(coords) >= 2 else np.nan
            dec = _sexagesimal(tokens[coords[1]], 1.0) if len(coords) >= 2 else np.nan
        except ValueError:
            ra = dec = np.nan
        table.setdefault(tokens[0], {"label": label, "ra": ra, "dec": dec})
    return table


def _number(token: str) -> float:
    if token in _MISSING:
        return np.nan
    try:
        value = float(token)
    except ValueError:
        return np.nan
    return np.nan if value <= -99.0 else value


def read_ogle_catalog(path: str | PathLike[str]) -> dict[str, dict[str, float]]:
    """Read an OGLE per-class parameter table (``cepF.dat``, ``cepFO4.dat``, ``rrab.dat``...).

    Column 0 is the identifier, then ⟨I⟩, ⟨V⟩, period, σP, T0 (HJD − 2450000),
    I amplitude, R21, φ21, R31, φ31 (multi-mode tables give the longest period
    first; further columns are ignored). Missing values (``-99.99``, ``-``) and
    absent trailing columns become NaN. T0 is returned as stored (not shifted).

    Parameters
    ----------
    path : path-like
        The table.

    Returns
    -------
    dict
        ``{id: {"mean_mag_I": ..., "period": ..., ...}}`` keyed as :data:`CATALOG_COLUMNS`.

    Raises
    ------
    DataError
        If no line has an identifier followed by a numeric period in column 3.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "cepF.dat")
    >>> _ = open(path, "w").write("OGLE-LMC-CEP-0002  15.691 -99.99   3.1181490 "
    ...                           "0.0000109  6000.34799  0.261  0.295 4.645  0.093 3.004\\n")
    >>> row = read_ogle_catalog(path)["OGLE-LMC-CEP-0002"]
    >>> row["period"], row["mean_mag_V"]
    (3.118149, nan)
    """
    path = Path(path)
    table: dict[str, dict[str, float]] = {}
    for line in _read_text(path).splitlines():
        tokens = line.split()
        if len(tokens) < 4 or not tokens[0].startswith("OGLE"):
            continue
        values = [_number(tok) for tok in tokens[1 : 1 + len(CATALOG_COLUMNS)]]
        values += [np.nan] * (len(CATALOG_COLUMNS) - len(values))
        table.setdefault(tokens[0], dict(zip(CATALOG_COLUMNS, values, strict=True)))
    if not table or all(np.isnan(row["period"]) for row in table.values()):
        raise DataError(
            "not an OGLE parameter table: no line has an OGLE identifier followed by a "
            "period in column 3; pass catalog= the right table (or catalog=False)",
            source=str(path),
        )
    return table


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataError(f"cannot read the file ({exc})", source=str(path)) from exc


def _is_table(path: Path) -> bool:
    """Whether a ``.dat`` file is a per-star table (starts with an OGLE id), not a curve."""
    try:
        with path.open("rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return False
    return head.startswith(b"OGLE")


def _table_folder(path: Path) -> Path | None:
    """The folder with ``ident.dat`` or parameter tables: beside ``path`` or 1-2 levels up."""
    start = path if path.is_dir() else path.parent
    for folder in [start, *list(start.parents)[:2]]:
        if (folder / "ident.dat").is_file() or _catalog_files(folder):
            return folder
    return None


def _catalog_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.glob("*.dat")
        if p.name != "ident.dat" and not p.name.startswith("OGLE") and _is_table(p)
    )


# ------------------------------------------------------------------ light curves
def parse_ogle_dat(data: bytes, *, source: str = "<bytes>", ncols: int = 3) -> np.ndarray:
    """Parse the bytes of one OGLE ``.dat`` light curve into an ``(n, 3)`` float array.

    Parameters
    ----------
    data : bytes
        The file's content: HJD − 2450000, magnitude, error, whitespace separated.
    source : str
        File name for error messages.
    ncols : int
        Expected number of columns.

    Raises
    ------
    DataError
        If the file is empty, a value is not a number, or a line has the wrong
        number of columns (a truncated last line is reported as such).

    Examples
    --------
    >>> parse_ogle_dat(b"5262.51951 15.709 0.006\\n5264.52435 15.563 0.005\\n").shape
    (2, 3)
    >>> parse_ogle_dat(b"5262.51951 15.709 0.006\\n5264.52435 15.5", source="x.dat")
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: x.dat: line 2 has 2 columns, expected 3 (time, mag, err); \
the last line is incomplete: the file looks truncated, download or extract it again
    """
    if not data.strip():
        raise DataError(
            "the file is empty (no epochs); check the download or extraction finished",
            source=source,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns, not raises, on some odd input
            values = np.loadtxt(io.BytesIO(data), dtype=np.float64, ndmin=2)
    except (ValueError, UserWarning):
        values = None
    if values is None or values.shape[1] != ncols:
        raise DataError(_diagnose(data, ncols), source=source) from None
    return values


def _diagnose(data: bytes, ncols: int) -> str:
    """Say which line of a file numpy refused, and why (runs only for bad files)."""
    lines = data.decode("utf-8", errors="replace").splitlines()
    last = max((i for i, line in enumerate(lines) if line.split()), default=0)
    for i, line in enumerate(lines):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        if len(tokens) != ncols:
            hint = (
                "the last line is incomplete: the file looks truncated, download or extract "
                "it again"
                if i == last and len(tokens) < ncols
                else "an OGLE light curve has exactly three columns HJD-2450000, mag, err"
            )
            return (
                f"line {i + 1} has {len(tokens)} columns, expected {ncols} (time, mag, err); "
                + hint
            )
        for j, tok in enumerate(tokens):
            try:
                float(tok)
            except ValueError:
                return (
                    f"line {i + 1}, column {j + 1}: {tok!r} is not a number; the file is "
                    "not a plain OGLE light curve (edit or exclude it)"
                )
    return "cannot parse the file as three numeric columns"


def _is_curve_name(name: str) -> bool:
    return name.endswith(".dat") and name != "ident.dat"


def _band_filter(names: Sequence[str], band: str) -> list[str]:
    """Keep files in a folder named after ``band`` when there is one (OGLE's ``I/``, ``V/``)."""
    in_band = [n for n in names if Path(n).parent.name == band]
    return in_band if in_band else list(names)


def _iter_directory(folder: Path, band: str) -> Iterator[tuple[str, str, bytes | DataError]]:
    files = sorted(p for p in folder.rglob("*.dat") if p.is_file())
    named = [p for p in files if p.name.startswith("OGLE")]
    if not named:  # renamed files: anything that is not ident.dat or a parameter table
        named = [p for p in files if _is_curve_name(p.name) and not _is_table(p)]
    for name in _band_filter([str(p) for p in named], band):
        path = Path(name)
        try:
            yield path.stem, name, path.read_bytes()
        except OSError as exc:
            yield path.stem, name, DataError(f"cannot read the file ({exc})", source=name)


def _iter_archive(archive: Path, band: str) -> Iterator[tuple[str, str, bytes | DataError]]:
    """Members of a tar archive, read in one streaming pass (nothing is extracted to disk).

    Members in a folder named ``band`` are yielded as they come; others are held
    back and yielded at the end only when the archive has no such folder.
    """
    try:
        tf = tarfile.open(archive, "r|*")
    except (tarfile.TarError, OSError) as exc:
        raise DataError(
            f"not a readable tar archive ({exc}); pass a .tar.gz of OGLE .dat files",
            source=str(archive),
        ) from exc
    held: list[tuple[str, str, bytes | DataError]] = []
    band_folder = False
    with tf:
        for member in tf:
            member_path = Path(member.name)
            if not (member.isfile() and _is_curve_name(member_path.name)):
                continue
            fh = tf.extractfile(member)
            if fh is None:
                continue
            data = fh.read()
            if data.lstrip()[:4] == b"OGLE":  # a parameter table packed with the curves
                continue
            item = (member_path.stem, f"{archive}:{member.name}", data)
            if member_path.parent.name == band:
                band_folder = True
                yield item
            elif not band_folder:
                held.append(item)
    if not band_folder:
        yield from held


def _archives_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(_ARCHIVE_SUFFIXES))


def _sources(path: Path, band: str) -> Iterator[tuple[str, str, bytes | DataError]]:
    """Yield ``(object id, source name, bytes)`` for every light-curve file under ``path``."""
    if path.is_file():
        if path.name.endswith(_ARCHIVE_SUFFIXES):
            yield from _iter_archive(path, band)
        else:
            try:
                yield path.stem, str(path), path.read_bytes()
            except OSError as exc:
                raise DataError(f"cannot read the file ({exc})", source=str(path)) from exc
        return
    found = False
    for item in _iter_directory(path, band):
        found = True
        yield item
    if found:
        return
    # A catalogue folder as OGLE ships it: tables plus phot_I.tar.gz (no loose .dat files).
    archives = [a for a in _archives_in(path) if _archive_has_curves(a)]
    if not archives:
        raise DataError(
            "no OGLE light curves here: no .dat files (searched recursively) and no "
            ".tar.gz archive of them; pass the phot/I folder, a .dat file or the archive",
            source=str(path),
        )
    for archive in archives:
        yield from _iter_archive(archive, band)


# ------------------------------------------------------------------------ reader
def _resolve_tables(
    path: Path,
    ident: str | PathLike[str] | bool | None,
    catalog: str | PathLike[str] | Sequence[str | PathLike[str]] | bool | None,
) -> tuple[Path | None, list[Path]]:
    ident = None if ident is True else ident  # True: "yes, look for it" = the default
    catalog = None if catalog is True else catalog
    folder = _table_folder(path) if ident is None or catalog is None else None
    if ident is None:
        ident_path = folder / "ident.dat" if folder and (folder / "ident.dat").is_file() else None
    elif ident is False:
        ident_path = None
    else:
        ident_path = Path(ident)  # type: ignore[arg-type]
    if catalog is None:
        catalogs = _catalog_files(folder) if folder else []
    elif catalog is False:
        catalogs = []
    elif isinstance(catalog, str | PathLike):
        catalogs = [Path(catalog)]
    else:
        catalogs = [Path(c) for c in catalog]  # type: ignore[union-attr]
    for p in [*([ident_path] if ident_path else []), *catalogs]:
        if not p.is_file():
            raise DataError("table not found; check the ident= / catalog= path", source=str(p))
    return ident_path, catalogs


@register_reader(
    "ogle",
    description="OGLE Collection of Variable Stars: .dat curves (file, folder or .tar.gz) "
    "with ident.dat modes and cep*.dat catalogue values",
    sniff=lambda path: _sniff(path),
)
def read_ogle(
    path: str | PathLike[str],
    *,
    ident: str | PathLike[str] | bool | None = None,
    catalog: str | PathLike[str] | Sequence[str | PathLike[str]] | bool | None = None,
    band: str = "I",
    min_epochs: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> LightCurveSet:
    """Read OGLE light curves with their modes and catalogue parameters.

    Parameters
    ----------
    path : path-like
        One ``.dat`` file; a directory searched recursively for them (files named
        ``OGLE-*.dat``, else every ``.dat`` that is not a table); a ``.tar.gz`` /
        ``.tgz`` / ``.tar`` archive of them, read without extracting; or a
        catalogue folder holding such an archive (as OGLE's ``phot_I.tar.gz``).
        Where the layout has per-band folders (``I/``, ``V/``) only ``band`` is read.
    ident : path-like, False or None
        The ``ident.dat`` giving each star's mode (the ``label``) and coordinates.
        None looks for ``ident.dat`` beside ``path`` (or one or two folders up);
        False reads none.
    catalog : path-like, sequence of path-like, False or None
        Parameter tables (``cepF.dat``, ``cepFO4.dat``...; identifier in
        column 0, period in column 3). None uses every such table found beside
        ``path``; False reads none.
    band : str
        Name of the band of the curves.
    min_epochs : int
        Fewest good epochs a curve needs.
    strict : bool
        Raise on the first bad file instead of skipping it (skipped files are
        listed in ``.skipped`` with the reason).
    progress : bool
        Show a progress bar.

    Returns
    -------
    LightCurveSet
        Times are days since JD 2400000.5 in the HJD frame (``meta["time_ref"]``
        ``"HJD"``, ``meta["time_shift"]`` 49999.5 added to OGLE's HJD − 2450000).
        The objects table has ``id``, ``label`` (the mode in ``ident.dat``, e.g.
        ``"F"``, ``"1O"``, ``"F/1O"``; None without it), ``ra`` and ``dec``
        (degrees), and the catalogue's ``period``, ``period_err``, ``t0`` (shifted
        like the times), ``mean_mag_I``, ``mean_mag_V``, ``amp_I``, ``R21``,
        ``phi21``, ``R31``, ``phi31`` (NaN where a star has no catalogue row).

    Raises
    ------
    DataError
        If nothing readable is found, a table is missing, or (with ``strict``)
        any file is bad; the message names the file.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "OGLE-LMC-CEP-0002.dat"), "w").write(
    ...     "5262.51951 15.709 0.006\\n5264.52435 15.563 0.005\\n5265.57598 15.704 0.006\\n")
    >>> s = read_ogle(folder, progress=False)
    >>> s.ids.tolist(), float(s.time[0]), s.meta["time_ref"], s.meta["time_shift"]
    (['OGLE-LMC-CEP-0002'], 55262.01951, 'HJD', 49999.5)
    >>> s = read_ogle("ogle4_lmc_cep/phot_I.tar.gz")  # doctest: +SKIP
    >>> s.objects.loc[s.objects.id == "OGLE-LMC-CEP-0002", "period"]  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file or directory not found", source=str(path))
    ident_path, catalog_paths = _resolve_tables(path, ident, catalog)
    idents = read_ogle_ident(ident_path) if ident_path else {}
    catalogue: dict[str, dict[str, float]] = {}
    for table in catalog_paths:
        for key, row in read_ogle_catalog(table).items():
            catalogue.setdefault(key, row)

    frame, shift = time_shift("hjd", np.empty(0), offset=OGLE_TIME_OFFSET)
    builder = SetBuilder(
        survey="OGLE",
        source=str(path),
        min_epochs=min_epochs,
        strict=strict,
        meta={
            "time_ref": frame,
            "time_shift": shift,
            "band": band,
            "ident": str(ident_path) if ident_path else None,
            "catalog": [str(p) for p in catalog_paths],
        },
    )
    if path.is_dir():
        known = [*path.rglob("*.dat"), *_archives_in(path)]
        builder.meta["ignored_files"] = other_files(path, known, what="OGLE light curves (.dat)")
    empty = dict.fromkeys(CATALOG_COLUMNS, np.nan)
    seen: dict[str, str] = {}
    try:
        files = progress_bar(_sources(path, band), desc="OGLE", enabled=progress)
        for oid, source, data in files:
            if isinstance(data, DataError):
                builder.skip(oid, data.reason, source=source)
                continue
            if oid in seen:
                builder.skip(
                    oid, f"a second file for this star (first: {seen[oid]})", source=source
                )
                continue
            seen[oid] = source
            try:
                values = parse_ogle_dat(data, source=source)
            except DataError as exc:
                builder.skip(oid, exc.reason, source=source)
                continue
            star = idents.get(oid, {})
            row: dict[str, Any] = {
                "label": star.get("label"),
                "ra": star.get("ra", np.nan),
                "dec": star.get("dec", np.nan),
                **catalogue.get(oid, empty),
            }
            row["t0"] = row["t0"] + shift
            builder.add(
                oid, values[:, 0] + shift, values[:, 1], values[:, 2], band, row=row, source=source
            )
    except ARCHIVE_ERRORS as exc:  # keep what was read, record the rest as lost
        builder.archive_damaged(path, len(seen), exc)
    return builder.build()


# ------------------------------------------------------------------------- sniff
def _looks_like_curve(head: bytes) -> bool:
    for line in head.splitlines()[:3]:
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != 3:
            return False
        try:
            [float(t) for t in tokens]
        except ValueError:
            return False
        return True
    return False


def _archive_has_curves(archive: Path) -> bool:
    """Whether one of the first members of a tar archive is an ``OGLE-*.dat`` file."""
    try:
        with tarfile.open(archive, "r|*") as tf:
            for i, member in enumerate(tf):
                name = Path(member.name).name
                if member.isfile() and name.startswith("OGLE") and name.endswith(".dat"):
                    return True
                if i >= _SNIFF_MEMBERS:
                    return False
    except (tarfile.TarError, OSError, EOFError):
        return False
    return False


def _sniff(path: Path) -> bool:
    if path.is_file():
        if path.name.endswith(_ARCHIVE_SUFFIXES):
            return _archive_has_curves(path)
        if path.suffix != ".dat":
            return False
        with path.open("rb") as fh:
            return _looks_like_curve(fh.read(512))
    if path.is_dir():
        if next(path.rglob("OGLE*.dat"), None) is not None:
            return True
        return any(_archive_has_curves(a) for a in _archives_in(path))
    return False
