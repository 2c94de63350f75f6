"""Pieces every reader shares: building a set robustly, column aliases, time zero points.

Times in every set are days since JD 2400000.5 (the MJD zero point) in the
survey's own frame, recorded as ``meta["time_ref"]`` (``"JD"``, ``"HJD"``,
``"BJD"``; ``"unknown"`` when the survey does not say; ``"phase"`` for folded
curves). What was added to the stored numbers is ``meta["time_shift"]``, so the
survey's own values are always ``time - time_shift``.
"""

from __future__ import annotations

import tarfile
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import progress
from skyclass.exceptions import DataError, DataWarning
from skyclass.lightcurve import GENERIC_LIMITS, LightCurve, LightCurveSet, Limits, sanitize

__all__ = [
    "ALIASES",
    "ARCHIVE_ERRORS",
    "ARCHIVE_SUFFIXES",
    "MJD_ZERO",
    "SURVEY_LIMITS",
    "SetBuilder",
    "add_long_table",
    "first_member",
    "is_number",
    "iter_files",
    "normalise_id",
    "other_files",
    "parsed_files",
    "progress",
    "resolve_columns",
    "time_shift",
]

#: Julian date of the zero point of every stored time.
MJD_ZERO = 2400000.5

#: Column names that mean the same thing in survey tables (matched case-insensitively).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "object_id", "objectid", "oid", "source_id", "sourceid", "masterid", "name"),
    "time": ("time", "mjd", "hjd", "bjd", "jd", "obsmjd", "t"),
    "mag": ("mag", "magnitude", "mag_auto", "m"),
    "err": ("err", "magerr", "mag_err", "e_mag", "sigma", "mag_error", "error", "sigma_mag"),
    "band": ("band", "filter", "filtercode", "passband", "fid", "phot_filter"),
}

#: Believable magnitudes and errors of each survey (by the ``survey`` name its reader
#: gives the set); wide around the survey's saturation and faint limits, so that only
#: sentinels (±99.99, 0) and corrupt values fall outside. Others use the generic limits.
SURVEY_LIMITS: dict[str, Limits] = {
    "OGLE": Limits(mag=(5.0, 25.0), err_max=5.0),
    "EROS-1": Limits(mag=(5.0, 28.0), err_max=5.0),
    # Gaia errors come from flux_over_error: a faint transit flagged rejected reaches 10 mag.
    "gaia_dr3": Limits(mag=(1.0, 26.0), err_max=20.0),
    "gaia_dr2_folded": Limits(mag=(1.0, 23.0), err_max=5.0),
    "ztf": Limits(mag=(8.0, 25.0), err_max=5.0),
    "asassn": Limits(mag=(0.0, 22.0), err_max=5.0),
    "crts": Limits(mag=(5.0, 25.0), err_max=5.0),
    "sdss_stripe82": Limits(mag=(5.0, 28.0), err_max=5.0),
    "asas": Limits(mag=(0.0, 18.0), err_max=5.0),
}

#: Frame of a time column named after it.
_TIME_FRAME = {"mjd": "MJD", "obsmjd": "MJD", "jd": "JD", "hjd": "HJD", "bjd": "BJD"}


#: Names of tar archives the one-file-per-object readers open.
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


#: What a tarball cut short raises while it is read: the files read so far are kept.
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a float (``"nan"`` and ``"-99.99"`` do, ``"abc"`` does not)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def first_member(path: Path, accept: Callable[[str], bool], size: int = 4096) -> bytes | None:
    """The first ``size`` bytes of the first accepted file among a tarball's first members.

    For format sniffers: None when the archive holds no such file near its start or
    cannot be read.
    """
    try:
        with tarfile.open(path, "r|*") as tf:
            for i, member in enumerate(tf):
                if member.isfile() and not _is_doc(Path(member.name).name):
                    if accept(Path(member.name).name):
                        fh = tf.extractfile(member)
                        return fh.read(size) if fh is not None else None
                if i > 5:
                    return None
    except ARCHIVE_ERRORS:
        return None
    return None


def _is_doc(name: str) -> bool:
    return name.startswith(".") or name.upper().startswith("README")


def iter_files(
    path: Path, accept: Callable[[str], bool], *, what: str
) -> Iterator[tuple[str, str, bytes]]:
    """``(file name, source, bytes)`` of every light-curve file of a folder, tarball or file.

    One streaming pass over an archive (nothing is extracted to disk); hidden and
    ``README`` files are skipped. A tarball cut short raises ``tarfile.TarError``,
    ``EOFError`` or ``zlib.error`` after the files read so far: the reader records
    it and keeps them.

    Parameters
    ----------
    path : Path
        A folder (searched recursively), a tar archive, or one file.
    accept : callable
        Whether a file name is a light curve of this reader.
    what : str
        What the reader reads, for the error on an unreadable archive.
    """
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            rel = file.relative_to(path).parts
            if not any(_is_doc(part) for part in rel) and accept(file.name):
                yield file.name, str(file), file.read_bytes()
        return
    if not path.name.endswith(ARCHIVE_SUFFIXES):
        yield path.name, str(path), path.read_bytes()
        return
    try:
        tf = tarfile.open(path, "r|*")
    except (tarfile.TarError, OSError) as exc:
        raise DataError(
            f"not a readable tar archive ({exc}); pass a tarball of {what}", source=str(path)
        ) from exc
    with tf:
        for member in tf:
            name = Path(member.name).name
            if not member.isfile() or _is_doc(name) or not accept(name):
                continue
            fh = tf.extractfile(member)
            if fh is not None:
                yield name, f"{path}:{member.name}", fh.read()


def normalise_id(value: object) -> str:
    """An object id as readers store it: text without a file suffix or folder.

    Examples
    --------
    >>> normalise_id("lc/010004-6519.8.dat"), normalise_id(1000035), normalise_id(" 7 ")
    ('010004-6519.8', '1000035', '7')
    """
    text = str(value).strip().rsplit("/", 1)[-1]
    for suffix in (".dat", ".csv", ".txt", ".gz"):
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
    return text


def parsed_files(
    builder: SetBuilder,
    path: Path,
    parse: Callable[..., np.ndarray],
    *,
    accept: Callable[[str], bool],
    what: str,
    show_progress: bool = True,
    exclude: Path | None = None,
) -> Iterator[tuple[str, str, np.ndarray]]:
    """``(id, source, values)`` of every file of a one-file-per-object layout.

    A file that ``parse(data, source=...)`` refuses, or a second file for one id,
    is skipped in ``builder`` with its reason; a tarball cut short keeps the files
    read before the break and records it.

    Parameters
    ----------
    builder : SetBuilder
        Where skips are recorded.
    path : Path
        A folder, a tarball or one file (see :func:`iter_files`).
    parse : callable
        ``parse(data, source=name)`` returning the file's numbers or raising DataError.
    accept : callable
        Whether a file name is one of the layout's.
    what : str
        The files, for messages (e.g. ``"ASAS .dat files"``).
    show_progress : bool
        Show a progress bar.
    exclude : Path, optional
        A file to pass over (a table beside the curves).

    Raises
    ------
    DataError
        When ``path`` holds no such file at all.
    """
    seen: dict[str, str] = {}
    files = iter_files(path, accept, what=what)
    try:
        for file_name, name, data in progress(files, desc=builder.survey, enabled=show_progress):
            if exclude is not None and Path(name).resolve() == exclude.resolve():
                continue
            oid = normalise_id(file_name)
            if oid in seen:
                builder.skip(
                    oid, f"a second file for this object (first: {seen[oid]})", source=name
                )
                continue
            seen[oid] = name
            try:
                values = parse(data, source=name)
            except DataError as exc:
                builder.skip(oid, exc.reason, source=name)
                continue
            yield oid, name, values
    except ARCHIVE_ERRORS as exc:
        builder.archive_damaged(path, len(seen), exc)
    if not seen:
        raise DataError(
            f"no {what} here; pass a folder or tarball of them, or one", source=str(path)
        )


def other_files(folder: Path, read: Sequence[Path | str], *, what: str) -> list[str]:
    """Files under ``folder`` a folder reader did not read, reported rather than lost silently.

    A ``.txt`` or ``.csv`` export among a survey's ``.dat`` files is most likely a
    light curve saved in another layout: it is named in a :class:`DataWarning` and
    the list is returned, for ``meta["ignored_files"]``. Hidden files and
    ``README`` files are documentation, not data, and are not reported.

    Parameters
    ----------
    folder : Path
        The folder read (searched recursively).
    read : sequence of path
        Every file the reader used (curves, tables, archives).
    what : str
        What the reader reads, for the message (e.g. ``"OGLE light curves (.dat)"``).

    Examples
    --------
    >>> import tempfile, warnings
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("OGLE-1.dat", "OGLE-2.txt", "README.txt"):
    ...     _ = (folder / name).write_text("1 2 3\\n")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     other_files(folder, [folder / "OGLE-1.dat"], what="OGLE .dat files")
    ['OGLE-2.txt']
    >>> "OGLE-2.txt" in str(caught[0].message)
    True
    """
    used = {Path(p).resolve() for p in read}
    others = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file()
        and p.resolve() not in used
        and not any(_is_doc(part) for part in p.relative_to(folder).parts)
    )
    if others:
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        shown = ", ".join(others[:10]) + more
        warnings.warn(
            f"{folder}: {len(others)} file(s) not read, as they are not {what}: {shown}; "
            "convert them to that layout or read them with their own format",
            DataWarning,
            stacklevel=3,
        )
    return others


def resolve_columns(
    columns: Sequence[str],
    wanted: Sequence[str],
    *,
    optional: Sequence[str] = (),
    given: Mapping[str, str] | None = None,
    aliases: Mapping[str, Sequence[str]] = ALIASES,
    source: str | None = None,
    layout: str | None = None,
) -> dict[str, str | None]:
    """Map roles (``time``, ``mag``, ...) to the table's own column names (case-insensitive).

    Parameters
    ----------
    columns : sequence of str
        Columns present in the table.
    wanted, optional : sequence of str
        Roles that must / may be found.
    given : mapping, optional
        Explicit ``{role: column}`` choices, which win over aliases.
    aliases : mapping
        Names each role may have; a survey reader passes its documented names.
    layout : str, optional
        The survey layout expected, for error messages.

    Raises
    ------
    DataError
        Naming the missing role, the aliases tried, the columns present and the fix.

    Examples
    --------
    >>> resolve_columns(["MJD", "Mag", "Magerr"], ["time", "mag"], optional=["err", "band"])
    {'time': 'MJD', 'mag': 'Mag', 'err': 'Magerr', 'band': None}
    """
    columns = [str(c) for c in columns]
    lower = {c.strip().lower(): c for c in columns}
    given = dict(given or {})
    found: dict[str, str | None] = {}
    for role in [*wanted, *optional]:
        names = (given[role],) if role in given else tuple(aliases.get(role, (role,)))
        match = next((lower[n.strip().lower()] for n in names if n.strip().lower() in lower), None)
        if match is None and role in given:
            raise DataError(
                f"column {given[role]!r} given for {role!r} is not in the table; "
                f"columns present: {columns}",
                source=source,
            )
        if match is None and role in wanted:
            what = (
                f"{names[0]!r} column"
                if len(names) == 1
                else f"{role!r} column (looked for {'|'.join(names)})"
            )
            where = f", which {layout} files have" if layout else ""
            raise DataError(
                f"no {what}{where}; columns present: {columns}; name it with "
                f"columns={{'{role}': 'NAME'}} (CLI: --set columns.{role}=NAME)",
                source=source,
            )
        found[role] = match
    return found


def time_shift(column: str | None, values: np.ndarray, *, offset: float | None = None):
    """Frame and shift that bring a time column to days since JD 2400000.5.

    Parameters
    ----------
    column : str or None
        Column name (``mjd``, ``hjd``, ``bjd``, ``jd``...); decides the frame.
    values : ndarray
        The column's values, to tell full Julian dates from reduced ones.
    offset : float, optional
        What the survey subtracted from a Julian date (e.g. 2450000 for OGLE's
        HJD−2450000). Without it, values above 2,000,000 are taken as full Julian
        dates and smaller ones are left as they are.

    Returns
    -------
    frame : str
    shift : float
        Add it to the values.

    Examples
    --------
    >>> time_shift("hjd", np.array([5262.5]), offset=2450000)
    ('HJD', 49999.5)
    >>> time_shift("mjd", np.array([58000.0]))  # MJD is a geocentric Julian date
    ('JD', 0.0)
    """
    frame = _TIME_FRAME.get((column or "").lower(), "unknown")
    if frame == "MJD":
        return "JD", 0.0
    if offset is not None:
        return frame, float(offset) - MJD_ZERO
    finite = values[np.isfinite(values)] if values.size else values
    if finite.size and np.median(finite) > 2_000_000:
        return frame, -MJD_ZERO
    return frame, 0.0


class SetBuilder:
    """Collects curves one object at a time; a bad object is skipped and listed, not fatal.

    Parameters
    ----------
    survey : str
        Survey name stored in the set's meta.
    source : str
        File or directory read, for error messages.
    min_epochs : int
        Fewest good epochs an object needs.
    strict : bool
        Raise on the first bad object instead of skipping it.
    meta : mapping, optional
        Further set-wide metadata (``time_ref``, ``time_shift``...).
    limits : Limits, optional
        Believable magnitudes and errors; by default the survey's entry of
        :data:`SURVEY_LIMITS`, else :data:`~skyclass.lightcurve.GENERIC_LIMITS`.
    missing_values : sequence of float
        Magnitudes or errors that mean "no measurement" (e.g. ``(-99.99,)``).

    An id given to several objects keeps one copy when the copies are identical,
    and skips every copy (with the reason) when they differ.

    Examples
    --------
    >>> b = SetBuilder(survey="demo", source="demo.csv")
    >>> b.add("good", [0, 1, 2], [10, 11, 10], [.1, .1, .1], "V", row={"label": "RR"})
    >>> b.add("bad", [0], [10], [.1], "V")
    >>> s = b.build()
    >>> len(s), s.skipped[0]["id"]
    (1, 'bad')
    """

    def __init__(
        self,
        *,
        survey: str,
        source: str,
        min_epochs: int = 2,
        strict: bool = False,
        meta: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        missing_values: Sequence[float] = (),
    ):
        self.survey = survey
        self.source = source
        self.min_epochs = min_epochs
        self.strict = strict
        self.meta = dict(meta or {})
        self.limits = limits or SURVEY_LIMITS.get(survey, GENERIC_LIMITS)
        self.missing_values = tuple(float(v) for v in missing_values)
        self._curves: list[LightCurve] = []
        self._rows: list[dict[str, Any]] = []
        self._skipped: list[dict[str, Any]] = []

    def add(
        self,
        id: str,
        time: Any,
        mag: Any,
        err: Any,
        band: Any,
        *,
        row: Mapping[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        """Sanitize and keep one object, or record why it was skipped."""
        try:
            lc = sanitize(
                time,
                mag,
                err,
                band,
                id=str(id),
                meta={"source": source or self.source},
                min_epochs=self.min_epochs,
                limits=self.limits,
                missing_values=self.missing_values,
            )
        except DataError as exc:
            if self.strict:
                raise
            self.skip(str(id), exc.reason, source=source)
            return
        self._curves.append(lc)
        self._rows.append(dict(row or {}))

    def skip(self, id: str, reason: str, *, source: str | None = None) -> None:
        """Record an object that cannot be used (raises instead when ``strict``)."""
        if self.strict:
            raise DataError(reason, source=source or self.source, object_id=id)
        self._skipped.append({"id": str(id), "source": source or self.source, "reason": reason})

    def _drop_repeated_ids(self) -> None:
        """Keep one of identical copies of an id; skip every copy when they differ."""
        positions: dict[str, list[int]] = {}
        for i, lc in enumerate(self._curves):
            positions.setdefault(lc.id, []).append(i)
        repeated = {k: v for k, v in positions.items() if len(v) > 1}
        if not repeated:
            return
        drop: set[int] = set()
        for key, where in repeated.items():
            first = self._curves[where[0]]
            same = all(
                _same_curve(first, self._curves[i])
                and pd.Series(self._rows[i]).equals(pd.Series(self._rows[where[0]]))
                for i in where[1:]
            )
            drop.update(where[1:] if same else where)
            if not same:
                sources = sorted({str(self._curves[i].meta.get("source")) for i in where})
                self.skip(
                    key,
                    f"the id is given to {len(where)} objects with different epochs "
                    f"(in {', '.join(sources)}); give every object its own id",
                )
        keep = [i for i in range(len(self._curves)) if i not in drop]
        self._curves = [self._curves[i] for i in keep]
        self._rows = [self._rows[i] for i in keep]

    def archive_damaged(self, archive: Path, n_read: int, exc: BaseException) -> None:
        """Record that a tarball broke off after ``n_read`` files (those are kept)."""
        self.skip(
            archive.name,
            f"the archive is damaged after {n_read} files ({exc}); download it again",
            source=str(archive),
        )

    def build(self) -> LightCurveSet:
        """The set of every good object; raises if there is none."""
        self._drop_repeated_ids()
        if not self._curves:
            reasons = "; ".join(f"{s['id']}: {s['reason']}" for s in self._skipped[:3])
            raise DataError(
                f"no readable light curve ({len(self._skipped)} skipped"
                + (f"; first reasons: {reasons}" if reasons else "")
                + ")",
                source=self.source,
            )
        objects = pd.DataFrame(self._rows) if any(self._rows) else None
        meta = {
            "survey": self.survey,
            "source": self.source,
            **self.meta,
            "skipped": self._skipped,
        }
        dropped = {"nonfinite": 0, "missing": 0, "implausible": 0, "bad_err": 0, "duplicate": 0}
        for lc in self._curves:
            for key, n in lc.meta["dropped"].items():
                dropped[key] += n
        meta["limits"] = {"mag": list(self.limits.mag), "err_max": self.limits.err_max}
        if self.missing_values:
            meta["missing_values"] = list(self.missing_values)
        meta["dropped_epochs"] = dropped
        return LightCurveSet.from_lightcurves(self._curves, objects=objects, meta=meta)


def _same_curve(a: LightCurve, b: LightCurve) -> bool:
    return all(
        np.array_equal(getattr(a, k), getattr(b, k), equal_nan=k == "err")
        for k in ("time", "mag", "err", "band")
    )


def add_long_table(
    builder: SetBuilder,
    table: pd.DataFrame,
    cols: Mapping[str, str | None],
    *,
    band: str | Mapping[Any, str] | None = None,
    keep: Sequence[str] = (),
    shift: float = 0.0,
    default_id: str = "0",
    show_progress: bool = True,
) -> None:
    """Add every object of a long table (one row per epoch) to ``builder``.

    Parameters
    ----------
    builder : SetBuilder
    table : DataFrame
        One row per epoch.
    cols : mapping
        Roles (``id``, ``time``, ``mag``, ``err``, ``band``) to column names;
        ``id``, ``err`` and ``band`` may be None.
    band : str or mapping, optional
        The band when the table has no band column, or a mapping from the
        table's band codes to band names (e.g. ``{"zg": "g"}``).
    keep : sequence of str
        Per-object columns copied (first value) into the objects table.
    shift : float
        Added to every time (see :func:`time_shift`).
    default_id : str
        Object id when the table has no id column (one object per file).
    """
    id_col = cols.get("id")
    if id_col:
        ids = table[id_col].to_numpy(dtype=object).astype(str)  # a missing id becomes "nan"
    else:
        ids = np.full(len(table), default_id)
    order = np.argsort(ids, kind="stable")
    ids_sorted = ids[order]
    starts = np.flatnonzero(np.r_[True, ids_sorted[1:] != ids_sorted[:-1]])
    bounds = np.r_[starts, len(ids_sorted)]
    time = pd.to_numeric(table[cols["time"]], errors="coerce").to_numpy(np.float64) + shift
    mag = pd.to_numeric(table[cols["mag"]], errors="coerce").to_numpy(np.float64)
    err = (
        pd.to_numeric(table[cols["err"]], errors="coerce").to_numpy(np.float64)
        if cols.get("err")
        else None
    )
    if cols.get("band"):
        raw = table[cols["band"]].astype(str)
        bands = raw.map(lambda b: band.get(b, b)) if isinstance(band, Mapping) else raw
        bands = bands.to_numpy(dtype=str)
    else:
        bands = np.full(len(table), band if isinstance(band, str) else "")
    kept = [c for c in keep if c in table.columns]
    for k in progress(range(starts.size), desc=builder.survey, enabled=show_progress):
        rows = order[bounds[k] : bounds[k + 1]]
        extra = {c: table[c].iloc[rows[0]] for c in kept}
        builder.add(
            ids_sorted[bounds[k]],
            time[rows],
            mag[rows],
            None if err is None else err[rows],
            bands[rows],
            row=extra,
        )
