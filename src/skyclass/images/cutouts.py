"""Cutouts: stamps centred on catalogue sources, cut from FITS frames through their WCS.

gao2023 (Sect. 3.2–3.3) built its SDSS data set this way: the i, r and g frames of
a field were combined into a pseudo-colour image, each source's (RA, Dec) was
converted to pixels with ``astropy.wcs`` and a 50×50 box was cropped around it.
:func:`cut_from_frames` does the same, with three things made explicit.

**Alignment.** The bands of an SDSS field are exposed at different instants, so
a source sits at different pixels in each band's frame (the paper's example:
(256, 256) in i, (250, 256) in r). Every band is therefore cut in its own pixel
grid, through its own WCS (``WCS.world_to_pixel``, SIP distortions included).
``align="shift"`` (the default) resamples each stamp with a spline of order
``order`` (cubic: ``scipy.ndimage.map_coordinates`` on a spline-filtered frame,
the sub-pixel shift of ``scipy.ndimage.shift``) so that the source lands on the
stamp centre in every band to interpolation accuracy (≈0.01 px).
``align="round"`` cuts whole pixels around the rounded position instead: pixel
values untouched, source within 0.5 px of the centre, its exact offset recorded.

**Edges.** ``edge="shrink"`` is the paper's rule: the crop's half-width a0
(``size / 2`` = 25 px) is replaced by the source's distance to the frame edge
when that is smaller, so a source 3 px from the edge gives a 7×7 px box, which
the paper later resized to 50×50 with every other crop. Here the shrunken box is
resampled to ``size`` at once, so all stamps share one shape and the source
stays centred; the frame pixels per stamp pixel are the flag ``scale`` (< 1 for a
shrunken box). A box narrower than ``min_crop`` frame pixels holds too little to
classify, and its source is skipped. ``edge="shift"`` moves a full-size box
inside the frame instead (the source is then off-centre by ``offset_x``,
``offset_y``); ``edge="pad"`` keeps it centred and fills what lies outside the
frame with ``fill`` (counted in ``n_pad``). In every mode the flag ``edge`` is
True when the source is closer than ``size / 2`` pixels to an edge of some
band's frame.

**Bad pixels.** NaN pixels inside a stamp's footprint on its frames are counted
in ``n_nan`` and stay NaN in the stamps (the RGB image shows them black); pixels
at or above the band's saturation level (the ``saturation`` argument, else the
frame's ``SATURATE`` keyword) are counted in ``n_saturated`` and set
``saturated``. A source off some band's frame is skipped and listed in
``skipped``, never fatal; a frame without a celestial WCS, or a band missing
altogether, raises :class:`~skyclass.exceptions.DataError`.

Pixel coordinates are 0-based with pixel centres on integers (a frame of width W
spans -0.5 … W-0.5). Stamps keep the FITS orientation: row 0 is the bottom of
the frame (display with ``origin="lower"``). The RGB image is astropy's Lupton
asinh composite with R = i, G = r, B = g, as SDSS makes its colour images.

Files: :meth:`Cutouts.write` writes ``.npz`` (``numpy.savez_compressed``, read
back with ``allow_pickle=False``) or ``.parquet`` (one row per stamp, the stamp
and RGB image as fixed-size list columns, shapes in the schema metadata);
:func:`read_cutouts` reads either. :func:`load_stamps` reads ready-made stamp
arrays (``*images*.npy`` with ``*labels*.npy`` beside them).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.io.common import resolve_columns
from skyclass.lightcurve import _readonly

__all__ = [
    "ALIGN_MODES",
    "CATALOG_ALIASES",
    "EDGE_MODES",
    "Cutouts",
    "Frame",
    "cut_from_frames",
    "load_stamps",
    "lupton_rgb",
    "read_cutouts",
    "read_frame",
]

#: Version of the layout written by :meth:`Cutouts.write`.
FORMAT_VERSION = 1
_FORMAT = "skyclass.cutouts"
_META_KEY = _FORMAT.encode()
_RESERVED = ("ra", "dec", "label", "stamp", "rgb")
_ROW_GROUP = 1000  # stamps per Parquet row group (~30 MB of 3×50×50 float32)

#: Catalogue column names for each role (matched case-insensitively).
CATALOG_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("object_id", "objid", "objectid", "id", "source_id", "sourceid", "specobjid", "name"),
    "ra": ("ra", "ra_deg", "radeg", "raj2000", "ra_icrs", "_raj2000"),
    "dec": ("dec", "dec_deg", "decdeg", "dej2000", "decj2000", "de_icrs", "_dej2000"),
    "label": ("label", "class", "target"),
}

#: Bands mapped to red, green and blue, as in SDSS colour images.
RGB_BANDS = ("i", "r", "g")
_BAND_ORDER = "ugrizy"
_NANOMAGGY_ZERO_POINT = 22.5  # SDSS: 1 nanomaggy is 22.5 mag


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return dict(obj)
    return str(obj)


def _band_sort_key(band: str) -> tuple[int, str]:
    return (_BAND_ORDER.index(band) if band in _BAND_ORDER else len(_BAND_ORDER), band)


# ================================================================== container
@dataclass(frozen=True, eq=False, repr=False)
class Cutouts:
    """Stamps of catalogue sources: per-band float32 images, RGB composites and flags.

    Parameters
    ----------
    ids : array of str, shape (N,)
        Object identifiers, one per stamp.
    ra, dec : array of float, shape (N,)
        Catalogue position in degrees (NaN when unknown, e.g. ready-made stamps).
    bands : tuple of str
        Band of each stamp channel.
    stamps : float32 array, shape (N, n_bands, H, W)
        Pixel values in the frames' units; NaN where the frame had NaN.
    rgb : uint8 array, shape (N, H, W, 3), or None
        Lupton asinh composite (R = i, G = r, B = g); None without those bands.
    flags : pandas.DataFrame
        One row per stamp: ``object_id``, ``edge``, ``scale``, ``n_pad``,
        ``n_nan``, ``n_saturated``, ``saturated``, ``offset_x``, ``offset_y``
        (source position minus stamp centre, stamp pixels, mean over bands),
        ``max_offset``, ``flagged`` (any of edge, NaN, saturated) and the
        source's pixel position ``x_<band>``, ``y_<band>`` in each frame.
    skipped : tuple of (object_id, reason)
        Catalogue sources without a stamp, and why.
    labels : array, shape (N,), optional
        Class of each source when the catalogue gave one.
    meta : mapping
        How the stamps were made (frames, options, units).

    Examples
    --------
    >>> c = Cutouts(ids=["a"], ra=[150.0], dec=[2.0], bands=("g", "r", "i"),
    ...             stamps=np.zeros((1, 3, 4, 4), np.float32))
    >>> c.stamps.shape, c.rgb is None, c.flags["flagged"].tolist()
    ((1, 3, 4, 4), True, [False])
    >>> print(c)
    1 stamp (bands g, r, i; 4×4 px), 0 skipped, 0 flagged
    """

    ids: Any
    ra: Any
    dec: Any
    bands: tuple[str, ...]
    stamps: Any
    rgb: Any = None
    flags: pd.DataFrame | None = None
    skipped: Sequence[tuple[str, str]] = ()
    labels: Any = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        ids = np.asarray(self.ids)
        put("ids", _readonly(ids.astype(str).reshape(-1), ids.astype(str).dtype))
        n = len(self.ids)
        stamps = _readonly(self.stamps, np.float32)
        if stamps.ndim != 4 or stamps.shape[0] != n:
            raise DataError(
                f"stamps must have shape (N, n_bands, H, W) with N = {n} ids; got {stamps.shape}"
            )
        put("stamps", stamps)
        put("bands", tuple(str(b) for b in self.bands))
        if len(self.bands) != stamps.shape[1]:
            raise DataError(f"{len(self.bands)} band names for {stamps.shape[1]} stamp channels")
        for name in ("ra", "dec"):
            arr = _readonly(getattr(self, name), np.float64)
            if arr.shape != (n,):
                raise DataError(f"{name} must have one value per stamp ({n}); got {arr.shape}")
            put(name, arr)
        if self.rgb is not None:
            rgb = _readonly(self.rgb, np.uint8)
            if rgb.shape != (n, *stamps.shape[2:], 3):
                raise DataError(f"rgb must have shape {(n, *stamps.shape[2:], 3)}; got {rgb.shape}")
            put("rgb", rgb)
        if self.labels is not None:
            labels = np.asarray(self.labels)
            labels = labels.astype(str) if labels.dtype == object else labels
            if labels.shape != (n,):
                raise DataError(f"labels must have one value per stamp ({n}); got {labels.shape}")
            put("labels", _readonly(labels, labels.dtype))
        flags = _default_flags(self.ids, stamps) if self.flags is None else self.flags.copy()
        if len(flags) != n or "object_id" not in flags.columns:
            raise DataError(f"flags must have {n} rows and an object_id column")
        clash = sorted(set(flags.columns) & set(_RESERVED))
        if clash:
            raise DataError(f"flag columns {clash} clash with reserved names {_RESERVED}")
        put("flags", flags.reset_index(drop=True))
        put("skipped", tuple((str(i), str(r)) for i, r in self.skipped))
        put("meta", MappingProxyType(dict(self.meta)))

    # ------------------------------------------------------------ inspection
    def __len__(self) -> int:
        return len(self.ids)

    def select(self, which: Any) -> Cutouts:
        """The stamps at positions (or a boolean mask) ``which``, in that order.

        Every per-stamp field is taken along (arrays by position, tables by row),
        including those a subclass adds; ``skipped`` and ``meta`` are kept whole.

        Examples
        --------
        >>> c = Cutouts(ids=["a", "b"], ra=[1.0, 2.0], dec=[0.0, 0.0], bands=("g",),
        ...             stamps=np.zeros((2, 1, 3, 3)), labels=["star", "galaxy"])
        >>> c.select([1]).ids.tolist(), c.select([1]).labels.tolist()
        (['b'], ['galaxy'])
        """
        idx = np.arange(len(self))[np.asarray(which)]
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame) and len(value) == len(self):
                changes[f.name] = value.iloc[idx].reset_index(drop=True)
            elif f.name not in {"bands", "skipped", "meta"} and value is not None:
                arr = np.asarray(value)
                if arr.ndim and arr.shape[0] == len(self):
                    changes[f.name] = arr[idx]
        return replace(self, **changes)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of every stamp."""
        return tuple(self.stamps.shape[2:])

    def summary(self) -> dict[str, Any]:
        """Counts to print: stamps, bands, size, skipped (by reason) and flagged (by flag).

        Examples
        --------
        >>> c = Cutouts(ids=["a"], ra=[0.0], dec=[0.0], bands=("r",),
        ...             stamps=np.zeros((1, 1, 2, 2)), skipped=[("b", "off frame (band r)")])
        >>> c.summary()["skipped"]
        {'off frame': 1}
        """
        reasons: dict[str, int] = {}
        for _, reason in self.skipped:
            key = reason.split(" (")[0]
            reasons[key] = reasons.get(key, 0) + 1
        f = self.flags
        flagged = {
            "edge": int(f["edge"].sum()) if "edge" in f else 0,
            "nan": int((f["n_nan"] > 0).sum()) if "n_nan" in f else 0,
            "saturated": int(f["saturated"].sum()) if "saturated" in f else 0,
        }
        return {
            "n_stamps": len(self),
            "bands": list(self.bands),
            "size": list(self.shape),
            "n_skipped": len(self.skipped),
            "skipped": reasons,
            "n_flagged": int(f["flagged"].sum()) if "flagged" in f else 0,
            "flagged": {k: v for k, v in flagged.items() if v},
        }

    def __str__(self) -> str:
        s = self.summary()
        n = s["n_stamps"]
        h, w = s["size"]
        text = f"{n} stamp{'' if n == 1 else 's'} (bands {', '.join(s['bands'])}; {h}×{w} px)"
        text += f", {s['n_skipped']} skipped"
        if s["skipped"]:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in s["skipped"].items()) + ")"
        text += f", {s['n_flagged']} flagged"
        if s["flagged"]:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in s["flagged"].items()) + ")"
        return text

    def __repr__(self) -> str:
        return (
            f"Cutouts(n={len(self)}, bands={self.bands}, shape={self.shape}, "
            f"rgb={self.rgb is not None}, skipped={len(self.skipped)})"
        )

    # ------------------------------------------------------------ files
    def write(self, path: str | PathLike[str]) -> Path:
        """Write to ``.npz`` (compressed numpy, no pickles) or ``.parquet`` (one row per stamp).

        Examples
        --------
        >>> import os, tempfile
        >>> c = Cutouts(ids=["a", "b"], ra=[1.0, 2.0], dec=[3.0, 4.0], bands=("r",),
        ...             stamps=np.ones((2, 1, 3, 3)), labels=["STAR", "GALAXY"])
        >>> folder = tempfile.mkdtemp()
        >>> for name in ("s.npz", "s.parquet"):
        ...     back = read_cutouts(c.write(os.path.join(folder, name)))
        ...     print(back.ids.tolist(), back.labels.tolist(), back.stamps.shape)
        ['a', 'b'] ['STAR', 'GALAXY'] (2, 1, 3, 3)
        ['a', 'b'] ['STAR', 'GALAXY'] (2, 1, 3, 3)
        """
        path = Path(path)
        writer = _WRITERS.get(path.suffix.lower())
        if writer is None:
            raise DataError(
                f"unknown cutout file type {path.suffix!r}; name it .npz or .parquet",
                source=str(path),
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        writer(self, tmp)
        tmp.replace(path)
        return path


def _default_flags(ids: np.ndarray, stamps: np.ndarray) -> pd.DataFrame:
    """Flags of stamps that were not cut here: NaN counts only."""
    n_nan = np.isnan(stamps).sum(axis=(1, 2, 3)) if stamps.size else np.zeros(len(ids), int)
    n = len(ids)
    return pd.DataFrame(
        {
            "object_id": ids,
            "edge": np.zeros(n, bool),
            "scale": np.ones(n),
            "n_pad": np.zeros(n, np.int64),
            "n_nan": n_nan.astype(np.int64),
            "n_saturated": np.zeros(n, np.int64),
            "saturated": np.zeros(n, bool),
            "offset_x": np.full(n, np.nan),
            "offset_y": np.full(n, np.nan),
            "max_offset": np.full(n, np.nan),
            "flagged": n_nan > 0,
        }
    )


# ================================================================== frames
@dataclass(frozen=True, eq=False, repr=False)
class Frame:
    """One band's 2-D image with its celestial WCS (what :func:`read_frame` returns).

    Parameters
    ----------
    band : str
        Band name, e.g. ``"r"``.
    data : 2-D array
        Pixel values, indexed ``data[y, x]``.
    wcs : astropy.wcs.WCS
        Celestial WCS of ``data``.
    source : str
        File it came from, for messages.
    saturation : float, optional
        Pixel value at which the detector saturates (header ``SATURATE``).
    """

    band: str
    data: Any
    wcs: Any
    source: str = "<array>"
    saturation: float | None = None

    def __post_init__(self) -> None:
        data = np.asarray(self.data)
        if data.ndim != 2 or 0 in data.shape:
            raise DataError(
                f"a frame must be a 2-D image; got shape {data.shape}", source=self.source
            )
        if data.dtype != np.float64:
            data = data.astype(np.float64)
        object.__setattr__(self, "data", data)
        _check_wcs(self.wcs, self.source)
        object.__setattr__(self, "wcs", self.wcs.celestial)

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape

    def __repr__(self) -> str:
        return f"Frame(band={self.band!r}, shape={self.shape}, source={self.source!r})"


def _check_wcs(wcs: Any, source: str) -> None:
    if wcs is None or not getattr(wcs, "has_celestial", False):
        ctypes = list(getattr(getattr(wcs, "wcs", None), "ctype", []) or [])
        raise DataError(
            f"no celestial WCS in the image header (CTYPE = {ctypes or 'absent'}); each band "
            "needs its own, because the bands of a field are exposed at different instants "
            "and do not share pixel positions: use calibrated frames that carry one (SDSS "
            "frame-*.fits) or solve the astrometry first (astrometry.net's solve-field)",
            source=source,
        )


def read_frame(
    path: str | PathLike[str], *, band: str | None = None, band_keyword: str = "FILTER"
) -> Frame:
    """Read the first 2-D image HDU of a FITS file (``.fits``, ``.fits.gz``, ``.fits.bz2``).

    Parameters
    ----------
    path : path-like
        The FITS frame.
    band : str, optional
        Its band; by default the header keyword ``band_keyword`` (SDSS: ``FILTER``).
    band_keyword : str
        Header keyword holding the band name.

    Returns
    -------
    Frame

    Raises
    ------
    DataError
        If the file is missing or unreadable, holds no 2-D image, has no celestial
        WCS, or names no band.

    Examples
    --------
    >>> import os, tempfile
    >>> from astropy.io import fits
    >>> path = os.path.join(tempfile.mkdtemp(), "nowcs.fits")
    >>> fits.PrimaryHDU(np.zeros((4, 4))).writeto(path)
    >>> read_frame(path, band="r")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    skyclass.exceptions.DataError: .../nowcs.fits: no celestial WCS in the image header ...
    """
    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning

    path = Path(path)
    if not path.exists():
        raise DataError("FITS frame not found", source=str(path))
    try:
        with fits.open(path, memmap=False) as hdul:
            primary = hdul[0].header
            hdu = next(
                (h for h in hdul if h.is_image and h.data is not None and h.data.ndim == 2), None
            )
            if hdu is None:
                raise DataError("no 2-D image HDU in the file", source=str(path))
            data = np.array(hdu.data, dtype=np.float64)
            header = hdu.header.copy()
    except DataError:
        raise
    except Exception as exc:  # astropy raises OSError, ValueError, ... for broken files
        raise DataError(f"not a readable FITS file ({exc})", source=str(path)) from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header)
    except Exception as exc:  # malformed WCS keywords
        raise DataError(f"the WCS in the header cannot be read ({exc})", source=str(path)) from exc
    _check_wcs(wcs, str(path))
    if band is None:
        band = header.get(band_keyword, primary.get(band_keyword))
        if band is None or not str(band).strip():
            raise DataError(
                f"no {band_keyword} keyword names the band; pass frames as a mapping "
                "{band: path} (CLI: BAND=PATH)",
                source=str(path),
            )
    saturation = header.get("SATURATE", primary.get("SATURATE"))
    return Frame(
        band=str(band).strip(),
        data=data,
        wcs=wcs.celestial,
        source=str(path),
        saturation=None if saturation is None else float(saturation),
    )


def _frames_by_band(
    frames: Mapping[str, Any] | Sequence[Any] | str | PathLike[str], band_keyword: str
) -> dict[str, Frame]:
    if isinstance(frames, Mapping):
        out = {}
        for band, item in frames.items():
            if isinstance(item, Frame):
                out[str(band)] = item
            else:
                out[str(band)] = read_frame(item, band=str(band), band_keyword=band_keyword)
        return out
    if isinstance(frames, str | PathLike | Frame):
        frames = [frames]
    out = {}
    for item in frames:
        frame = item if isinstance(item, Frame) else read_frame(item, band_keyword=band_keyword)
        if frame.band in out:
            raise DataError(
                f"two frames for band {frame.band!r}: {out[frame.band].source} and "
                f"{frame.source}; give one frame per band (cut each field separately)",
                source=frame.source,
            )
        out[frame.band] = frame
    return out


# ================================================================== catalogue
def _read_catalog(
    catalog: pd.DataFrame | str | PathLike[str], columns: Mapping[str, str] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, str]:
    if isinstance(catalog, pd.DataFrame):
        table, source = catalog, "<catalogue>"
    else:
        path = Path(catalog)
        source = str(path)
        if not path.exists():
            raise DataError("catalogue file not found", source=source)
        try:
            if path.suffix.lower() in (".parquet", ".pq"):
                table = pd.read_parquet(path)
            else:
                table = pd.read_csv(path, comment="#")
        except Exception as exc:  # pandas raises several types for broken files
            raise DataError(
                f"catalogue not readable as {'Parquet' if 'parq' in path.suffix else 'CSV'} "
                f"({exc})",
                source=source,
            ) from exc
    roles = resolve_columns(
        table.columns,
        ["ra", "dec"],
        optional=["id", "label"],
        given=columns,
        aliases=CATALOG_ALIASES,
        source=source,
    )
    n = len(table)
    ids = table[roles["id"]].astype(str).to_numpy(str) if roles["id"] else np.arange(n).astype(str)
    ra = pd.to_numeric(table[roles["ra"]], errors="coerce").to_numpy(np.float64)
    dec = pd.to_numeric(table[roles["dec"]], errors="coerce").to_numpy(np.float64)
    labels = table[roles["label"]].to_numpy() if roles["label"] else None
    return ids, ra, dec, labels, source


def _to_pixels(frame: Frame, ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions of ICRS (RA, Dec) in a frame; NaN where the projection has none."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    x = np.full(ra.shape, np.nan)
    y = np.full(ra.shape, np.nan)
    ok = np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90)
    if not ok.any():
        return x, y
    coords = SkyCoord(ra[ok] * u.deg, dec[ok] * u.deg, frame="icrs")
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore")  # wcslib warns for points outside the projection
        try:
            px, py = frame.wcs.world_to_pixel(coords)
        except Exception as exc:  # SIP inversion that does not converge for far points
            best = getattr(exc, "best_solution", None)
            if best is None:
                raise DataError(
                    f"RA/Dec could not be converted to pixels ({exc})", source=frame.source
                ) from exc
            best = np.array(best, dtype=float)
            bad = np.asarray(getattr(exc, "divergent", None) or [], dtype=int)
            best[bad] = np.nan
            px, py = best[:, 0], best[:, 1]
    x[ok], y[ok] = px, py
    return x, y


# ================================================================== geometry
# An edge mode takes the source's pixel positions in every band (arrays over bands),
# the frames' shapes (n_bands, 2) as (H, W), the stamp size and min_crop, and returns
# the stamp centre in every band and the scale (frame px per stamp px), or the
# reason to skip the source.
Placement = tuple[np.ndarray, np.ndarray, float] | str


def _edge_distance(x: np.ndarray, y: np.ndarray, shapes: np.ndarray) -> float:
    """Smallest distance from the source to a frame edge, over all bands (px)."""
    h, w = shapes[:, 0], shapes[:, 1]
    return float(np.min(np.minimum.reduce([x + 0.5, w - 0.5 - x, y + 0.5, h - 0.5 - y])))


def _edge_shrink(x, y, shapes, size: int, min_crop: float) -> Placement:
    dist = _edge_distance(x, y, shapes)
    if 2 * dist < min_crop:
        return (
            f"too close to the frame edge ({dist:.1f} px; the box would be < min_crop={min_crop})"
        )
    return x, y, min(1.0, 2 * dist / size)


def _box_shift(pos: np.ndarray, length: np.ndarray, half: float) -> float | None:
    lo = float(np.max(half - 0.5 - pos))
    hi = float(np.min(length - 0.5 - half - pos))
    if lo > hi + 1e-9:
        return None
    return float(np.clip(0.0, lo, hi))


def _edge_shift(x, y, shapes, size: int, min_crop: float) -> Placement:
    dx = _box_shift(x, shapes[:, 1], size / 2)
    dy = _box_shift(y, shapes[:, 0], size / 2)
    if dx is None or dy is None:
        return f"frame smaller than the stamp ({size}×{size} px does not fit in every band)"
    return x + dx, y + dy, 1.0


def _edge_pad(x, y, shapes, size: int, min_crop: float) -> Placement:
    return x, y, 1.0


#: Edge handling, by name (see the module docstring). "shrink" is gao2023's.
EDGE_MODES: dict[str, Callable[..., Placement]] = {
    "shrink": _edge_shrink,
    "shift": _edge_shift,
    "pad": _edge_pad,
}


class _Band:
    """A frame prepared for cutting: NaN mask and, when first needed, its spline coefficients."""

    def __init__(self, frame: Frame, order: int, saturation: float | None):
        self.frame = frame
        self.data = frame.data
        self.nan = np.isnan(self.data)
        self.order = order
        self.saturation = saturation
        self._coeffs: np.ndarray | None = None

    def coeffs(self) -> np.ndarray:
        if self._coeffs is None:
            from scipy import ndimage

            # NaN would spread through the whole spline: fill with the frame's median
            # first and put NaN back at the nearest pixels after sampling.
            fill = float(np.nanmedian(self.data)) if not self.nan.all() else 0.0
            filled = np.where(self.nan, fill, self.data)
            self._coeffs = (
                ndimage.spline_filter(filled, order=self.order, mode="nearest")
                if self.order > 1
                else filled
            )
        return self._coeffs

    def counts(self, cx: float, cy: float, s: float, size: int) -> tuple[int, int]:
        """NaN and saturated frame pixels under the stamp's footprint."""
        h, w = self.data.shape
        half = s * size / 2
        x0, x1 = (max(0, math.floor(cx - half + 0.5)), min(w, math.floor(cx + half + 0.5)))
        y0, y1 = (max(0, math.floor(cy - half + 0.5)), min(h, math.floor(cy + half + 0.5)))
        n_nan = int(self.nan[y0:y1, x0:x1].sum())
        n_sat = 0
        if self.saturation is not None:
            with np.errstate(invalid="ignore"):
                n_sat = int((self.data[y0:y1, x0:x1] >= self.saturation).sum())
        return n_nan, n_sat


def _sample_spline(
    band: _Band, cx: float, cy: float, s: float, size: int, fill: float, inside: bool
) -> tuple[np.ndarray, float, float, int]:
    """Spline-sample the stamp centred exactly on (cx, cy) with ``s`` frame px per stamp px."""
    from scipy import ndimage

    h, w = band.data.shape
    grid = (np.arange(size) - (size - 1) / 2) * s
    yy, xx = np.meshgrid(cy + grid, cx + grid, indexing="ij")
    out = ndimage.map_coordinates(
        band.coeffs(), [yy, xx], order=band.order, mode="nearest", prefilter=False
    )
    iy = np.clip(np.floor(yy + 0.5).astype(int), 0, h - 1)
    ix = np.clip(np.floor(xx + 0.5).astype(int), 0, w - 1)
    out[band.nan[iy, ix]] = np.nan
    outside = (xx < -0.5) | (xx > w - 0.5) | (yy < -0.5) | (yy > h - 0.5)
    out[outside] = fill
    return out, cx, cy, int(outside.sum())


def _sample_pixels(
    band: _Band, cx: float, cy: float, s: float, size: int, fill: float, inside: bool
) -> tuple[np.ndarray, float, float, int]:
    """Whole frame pixels around the rounded centre; shrunken boxes still need resampling."""
    if s != 1.0:
        return _sample_spline(band, cx, cy, s, size, fill, inside)
    h, w = band.data.shape
    c = (size - 1) / 2
    x0, y0 = math.floor(cx - c + 0.5), math.floor(cy - c + 0.5)
    if inside:  # rounding must not push a box that fits out of the frame
        x0, y0 = min(max(x0, 0), w - size), min(max(y0, 0), h - size)
    out = np.full((size, size), fill, dtype=np.float64)
    sx0, sx1, sy0, sy1 = max(x0, 0), min(x0 + size, w), max(y0, 0), min(y0 + size, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = band.data[sy0:sy1, sx0:sx1]
    n_pad = size * size - max(0, sx1 - sx0) * max(0, sy1 - sy0)
    return out, x0 + c, y0 + c, n_pad


#: Sub-pixel alignment of the bands, by name (see the module docstring).
ALIGN_MODES: dict[str, Callable[..., tuple[np.ndarray, float, float, int]]] = {
    "shift": _sample_spline,
    "round": _sample_pixels,
}


def _choose(name: str, options: Mapping[str, Any], what: str) -> Any:
    if name not in options:
        raise ValueError(f"unknown {what} {name!r}; choose one of {sorted(options)}")
    return options[name]


# ================================================================== RGB
def lupton_rgb(
    image_i: Any,
    image_r: Any,
    image_g: Any,
    *,
    stretch: float = 0.5,
    Q: float = 10.0,
    minimum: float = 0.0,
) -> np.ndarray:
    """Lupton et al. (2004) asinh colour composite, R = i, G = r, B = g, as SDSS does.

    A thin batch wrapper of :func:`astropy.visualization.make_lupton_rgb` (which is
    pixel by pixel, so a batch gives the same pixels as one image at a time). The
    defaults suit sky-subtracted SDSS frames in nanomaggies (astropy's own SDSS
    example uses ``Q=10, stretch=0.5``). NaN pixels come out black.

    Parameters
    ----------
    image_i, image_r, image_g : array, shape (..., H, W)
        The three bands, on one flux scale.
    stretch : float
        Linear stretch: the intensity range shown before the asinh compression.
    Q : float
        Asinh softening.
    minimum : float
        Intensity mapped to black.

    Returns
    -------
    uint8 array, shape (..., H, W, 3)

    Examples
    --------
    >>> img = np.zeros((2, 5, 5)); img[:, 2, 2] = 1.0
    >>> rgb = lupton_rgb(img, 0.5 * img, 0.1 * img)
    >>> rgb.shape, rgb.dtype, rgb[0, 2, 2].tolist(), rgb[0, 0, 0].tolist()
    ((2, 5, 5, 3), dtype('uint8'), [166, 83, 16], [0, 0, 0])
    """
    from astropy.visualization import make_lupton_rgb

    planes = [np.asarray(a, dtype=np.float64) for a in (image_i, image_r, image_g)]
    shape = planes[0].shape
    if any(p.shape != shape for p in planes) or len(shape) < 2:
        raise ValueError(f"the i, r, g images must share one shape (..., H, W); got {shape}")
    if 0 in shape:
        return np.zeros((*shape, 3), dtype=np.uint8)
    flat = [np.where(np.isfinite(p), p, minimum).reshape(-1, shape[-1]) for p in planes]
    with np.errstate(invalid="ignore", divide="ignore"):  # astropy divides 0 by 0, then masks
        rgb = make_lupton_rgb(*flat, minimum=minimum, stretch=stretch, Q=Q)
    return np.ascontiguousarray(rgb.reshape(*shape, 3), dtype=np.uint8)


def _rgb_for(
    stamps: np.ndarray, bands: Sequence[str], options: Mapping[str, float]
) -> np.ndarray | None:
    if not set(RGB_BANDS) <= set(bands):
        return None
    i, r, g = (stamps[:, list(bands).index(b)] for b in RGB_BANDS)
    return lupton_rgb(i, r, g, **options)


# ================================================================== cutting
def cut_from_frames(
    frames: Mapping[str, Any] | Sequence[Any] | str | PathLike[str],
    catalog: pd.DataFrame | str | PathLike[str],
    *,
    size: int = 50,
    bands: Sequence[str] | None = None,
    edge: str = "shrink",
    align: str = "shift",
    order: int = 3,
    min_crop: float = 5.0,
    fill: float = 0.0,
    saturation: float | Mapping[str, float] | None = None,
    rgb: bool = True,
    stretch: float = 0.5,
    Q: float = 10.0,
    minimum: float = 0.0,
    columns: Mapping[str, str] | None = None,
    band_keyword: str = "FILTER",
) -> Cutouts:
    """Cut ``size``×``size`` stamps of catalogue sources from one field's per-band frames.

    Each band is cut in its own pixel grid through its own WCS, so a source lands
    on the stamp centre in every band although the bands' pixel positions differ
    (see the module docstring for alignment, edges and flags).

    Parameters
    ----------
    frames : mapping {band: path or Frame}, or sequence of paths
        One FITS frame per band. With a sequence, each frame's band is its header
        keyword ``band_keyword`` (SDSS: ``FILTER``).
    catalog : DataFrame or path (.csv, .parquet)
        Sources: ``ra``, ``dec`` in degrees (ICRS), ``object_id`` and optionally a
        ``label`` / ``class``; names matched case-insensitively through
        :data:`CATALOG_ALIASES` (``objID``, ``RAJ2000`` …) or given in ``columns``.
    size : int
        Stamp side in pixels (gao2023: 50).
    bands : sequence of str, optional
        Bands to cut, in channel order; default every frame given, in ugriz order.
        A band named here without a frame raises DataError.
    edge : {"shrink", "shift", "pad"}
        Edge handling; "shrink" is gao2023's (:data:`EDGE_MODES`).
    align : {"shift", "round"}
        Sub-pixel spline resampling onto the source, or whole pixels around it
        (:data:`ALIGN_MODES`).
    order : int
        Spline order of the resampling (3 cubic, 1 bilinear).
    min_crop : float
        With ``edge="shrink"``, sources whose box would be narrower than this many
        frame pixels are skipped.
    fill : float
        Value of stamp pixels outside the frame (``edge="pad"`` only).
    saturation : float or mapping {band: float}, optional
        Saturation level; default each frame's ``SATURATE`` keyword (no check without).
    rgb : bool
        Also make the Lupton RGB composite (needs the g, r and i frames).
    stretch, Q, minimum : float
        Lupton asinh parameters (:func:`lupton_rgb`).
    columns : mapping, optional
        Catalogue columns by role, e.g. ``{"id": "specObjID"}``.
    band_keyword : str
        Header keyword naming the band.

    Returns
    -------
    Cutouts
        One stamp per usable source; off-frame sources are in ``skipped``.

    Raises
    ------
    DataError
        For a frame without a celestial WCS, a band missing, an unreadable file or
        a catalogue without RA/Dec columns.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> def frame(band, crpix):
    ...     wcs = WCS(naxis=2)
    ...     wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    ...     wcs.wcs.crval, wcs.wcs.crpix = [150.0, 2.0], crpix
    ...     wcs.wcs.cdelt = [-0.396 / 3600, 0.396 / 3600]
    ...     y, x = np.mgrid[:80, :80]
    ...     px, py = wcs.world_to_pixel_values(150.0, 2.0)
    ...     return Frame(band, np.exp(-((x - px) ** 2 + (y - py) ** 2) / 4), wcs)
    >>> frames = {"g": frame("g", [40, 40]), "r": frame("r", [43.3, 38.6]),
    ...           "i": frame("i", [36.2, 41.7])}
    >>> catalog = pd.DataFrame({"objID": [1, 2], "RA": [150.0, 151.0], "Dec": [2.0, 2.0]})
    >>> cut = cut_from_frames(frames, catalog, size=21)
    >>> print(cut)
    1 stamp (bands g, r, i; 21×21 px), 1 skipped (off frame: 1), 0 flagged
    >>> cut.stamps.shape, cut.rgb.shape, cut.skipped
    ((1, 3, 21, 21), (1, 21, 21, 3), (('2', 'off frame (bands g, r, i)'),))
    >>> peaks = cut.stamps[0].reshape(3, -1).argmax(axis=1)
    >>> [divmod(int(p), 21) for p in peaks]  # every band peaks at the centre pixel
    [(10, 10), (10, 10), (10, 10)]
    """
    place = _choose(edge, EDGE_MODES, "edge mode")
    sample = _choose(align, ALIGN_MODES, "align mode")
    size = int(size)
    if size < 1:
        raise ValueError(f"size must be a positive number of pixels; got {size}")
    by_band = _frames_by_band(frames, band_keyword)
    if bands is None:
        bands = sorted(by_band, key=_band_sort_key)
    bands = tuple(str(b) for b in bands)
    missing = [b for b in bands if b not in by_band]
    if missing:
        raise DataError(
            f"no frame for band(s) {missing}; frames were given for {sorted(by_band)}: add one "
            "FITS frame per band (or drop the band from bands=)",
            source=", ".join(by_band[b].source for b in by_band) or None,
        )
    if rgb and not set(RGB_BANDS) <= set(bands):
        lacking = [b for b in RGB_BANDS if b not in bands]
        raise DataError(
            f"the RGB image needs the i, r and g frames (R=i, G=r, B=g, as SDSS); missing "
            f"{lacking}: add them, or pass rgb=False for per-band stamps only"
        )
    levels = {
        b: (saturation.get(b) if isinstance(saturation, Mapping) else saturation) for b in bands
    }
    prepared = [
        _Band(by_band[b], order, by_band[b].saturation if levels[b] is None else levels[b])
        for b in bands
    ]
    ids, ra, dec, labels, cat_source = _read_catalog(catalog, columns)
    n = len(ids)
    xs = np.empty((n, len(bands)))
    ys = np.empty((n, len(bands)))
    for k, band in enumerate(prepared):
        xs[:, k], ys[:, k] = _to_pixels(band.frame, ra, dec)
    shapes = np.array([band.data.shape for band in prepared], dtype=float)

    stamps = np.empty((n, len(bands), size, size), dtype=np.float32)
    rows: list[dict[str, Any]] = []
    kept: list[int] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for j in range(n):
        reason = _skip_reason(ids[j], ra[j], dec[j], xs[j], ys[j], shapes, bands, seen)
        placed = place(xs[j], ys[j], shapes, size, min_crop) if reason is None else reason
        if isinstance(placed, str):
            skipped.append((ids[j], placed))
            continue
        seen.add(ids[j])
        cx, cy, scale = placed
        inside = _edge_distance(cx, cy, shapes) >= scale * size / 2 - 1e-9
        n_pad = n_nan = n_sat = 0
        offsets = np.empty((len(bands), 2))
        for k, band in enumerate(prepared):
            stamp, ex, ey, pad = sample(band, cx[k], cy[k], scale, size, fill, inside)
            stamps[len(kept), k] = stamp
            offsets[k] = (xs[j, k] - ex) / scale, (ys[j, k] - ey) / scale
            bad_nan, bad_sat = band.counts(ex, ey, scale, size)
            n_pad, n_nan, n_sat = n_pad + pad, n_nan + bad_nan, n_sat + bad_sat
        edge_flag = _edge_distance(xs[j], ys[j], shapes) < size / 2
        row = {
            "object_id": ids[j],
            "edge": edge_flag,
            "scale": scale,
            "n_pad": n_pad,
            "n_nan": n_nan,
            "n_saturated": n_sat,
            "saturated": n_sat > 0,
            "offset_x": float(offsets[:, 0].mean()),
            "offset_y": float(offsets[:, 1].mean()),
            "max_offset": float(np.hypot(offsets[:, 0], offsets[:, 1]).max()),
            "flagged": bool(edge_flag or n_nan > 0 or n_sat > 0),
        }
        for k, b in enumerate(bands):
            row[f"x_{b}"], row[f"y_{b}"] = xs[j, k], ys[j, k]
        rows.append(row)
        kept.append(j)

    kept_idx = np.asarray(kept, dtype=int)
    stamps = stamps[: len(kept)]
    stamps.setflags(write=False)
    flags = pd.DataFrame(rows, columns=list(_flag_dtypes(bands))).astype(_flag_dtypes(bands))
    options = {"stretch": stretch, "Q": Q, "minimum": minimum}
    meta = {
        "source": "fits_frames",
        "frames": {b: by_band[b].source for b in bands},
        "catalog": cat_source,
        "size": size,
        "edge": edge,
        "align": align,
        "order": order,
        "min_crop": min_crop,
        "saturation": {b: p.saturation for b, p in zip(bands, prepared, strict=True)},
        "rgb": options if rgb else None,
        "units": "as in the frames",
    }
    return Cutouts(
        ids=ids[kept_idx],
        ra=ra[kept_idx],
        dec=dec[kept_idx],
        bands=bands,
        stamps=stamps,
        rgb=_rgb_for(stamps, bands, options) if rgb else None,
        flags=flags,
        skipped=skipped,
        labels=None if labels is None else labels[kept_idx],
        meta=meta,
    )


def _flag_dtypes(bands: Sequence[str]) -> dict[str, Any]:
    """Flag columns of stamps cut from frames, in order, with their dtypes."""
    base = _default_flags(np.array(["x"]), np.zeros((1, 1, 1, 1), np.float32)).dtypes
    dtypes = {name: dtype for name, dtype in base.items() if name != "object_id"}
    per_band = {f"{axis}_{b}": np.float64 for b in bands for axis in ("x", "y")}
    return {"object_id": str, **dtypes, **per_band}


def _skip_reason(
    object_id: str,
    ra: float,
    dec: float,
    x: np.ndarray,
    y: np.ndarray,
    shapes: np.ndarray,
    bands: Sequence[str],
    seen: set[str],
) -> str | None:
    if object_id in seen:
        return "duplicate object_id (the first row was cut)"
    if not (np.isfinite(ra) and np.isfinite(dec) and abs(dec) <= 90):
        return f"invalid position (ra={ra}, dec={dec})"
    with np.errstate(invalid="ignore"):
        off = ~((x >= -0.5) & (x <= shapes[:, 1] - 0.5) & (y >= -0.5) & (y <= shapes[:, 0] - 0.5))
    if off.any():
        names = [b for b, o in zip(bands, off, strict=True) if o]
        return f"off frame (band{'s' if len(names) > 1 else ''} {', '.join(names)})"
    return None


# ================================================================== files
def _write_npz(cut: Cutouts, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {
        "format": np.array(_FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "ids": np.asarray(cut.ids, dtype=str),
        "ra": cut.ra,
        "dec": cut.dec,
        "bands": np.array(cut.bands, dtype=str),
        "stamps": cut.stamps,
        "flag_columns": np.array(list(cut.flags.columns), dtype=str),
        "skipped_ids": np.array([i for i, _ in cut.skipped], dtype=str),
        "skipped_reasons": np.array([r for _, r in cut.skipped], dtype=str),
        "meta": np.array(json.dumps(dict(cut.meta), default=_json_default)),
    }
    if cut.rgb is not None:
        arrays["rgb"] = cut.rgb
    if cut.labels is not None:
        arrays["labels"] = cut.labels
    for i, name in enumerate(cut.flags.columns):
        col = cut.flags[name]
        is_text = pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)
        arrays[f"flag_{i}"] = np.asarray(col.astype(str), dtype=str) if is_text else col.to_numpy()
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def _read_npz(path: Path) -> Cutouts:
    with np.load(path, allow_pickle=False) as z:
        if "format" not in z.files or str(z["format"]) != _FORMAT:
            raise DataError(
                "not a skyclass cutouts .npz (no 'format' entry); write it with Cutouts.write",
                source=str(path),
            )
        names = [str(c) for c in z["flag_columns"]]
        flags = pd.DataFrame({name: z[f"flag_{i}"] for i, name in enumerate(names)})
        return Cutouts(
            ids=z["ids"],
            ra=z["ra"],
            dec=z["dec"],
            bands=tuple(str(b) for b in z["bands"]),
            stamps=z["stamps"],
            rgb=z["rgb"] if "rgb" in z.files else None,
            flags=flags,
            skipped=list(
                zip(z["skipped_ids"].tolist(), z["skipped_reasons"].tolist(), strict=True)
            ),
            labels=z["labels"] if "labels" in z.files else None,
            meta=json.loads(str(z["meta"])),
        )


def _write_parquet(cut: Cutouts, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(cut.flags, preserve_index=False)
    table = table.append_column("ra", pa.array(cut.ra)).append_column("dec", pa.array(cut.dec))
    if cut.labels is not None:
        table = table.append_column("label", pa.array(cut.labels))
    per_stamp = int(np.prod(cut.stamps.shape[1:]))
    table = table.append_column(
        "stamp",
        pa.FixedSizeListArray.from_arrays(pa.array(cut.stamps.reshape(-1)), per_stamp),
    )
    if cut.rgb is not None:
        per_rgb = int(np.prod(cut.rgb.shape[1:]))
        table = table.append_column(
            "rgb", pa.FixedSizeListArray.from_arrays(pa.array(cut.rgb.reshape(-1)), per_rgb)
        )
    info = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "bands": list(cut.bands),
        "stamp_shape": list(cut.stamps.shape[1:]),
        "rgb_shape": None if cut.rgb is None else list(cut.rgb.shape[1:]),
        "flag_columns": list(cut.flags.columns),
        "skipped": [list(s) for s in cut.skipped],
        "meta": dict(cut.meta),
    }
    metadata = dict(table.schema.metadata or {})
    metadata[_META_KEY] = json.dumps(info, default=_json_default).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path, row_group_size=_ROW_GROUP)


def _read_parquet(path: Path) -> Cutouts:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise DataError(
            "not a skyclass cutouts Parquet file (no schema metadata); write it with Cutouts.write",
            source=str(path),
        )
    info = json.loads(raw)
    n = table.num_rows

    def unpack(name: str, shape: Sequence[int], dtype: Any) -> np.ndarray:
        flat = table.column(name).combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return np.asarray(flat, dtype=dtype).reshape(n, *shape)

    return Cutouts(
        ids=table.column("object_id").to_numpy(zero_copy_only=False).astype(str),
        ra=table.column("ra").to_numpy(),
        dec=table.column("dec").to_numpy(),
        bands=tuple(info["bands"]),
        stamps=unpack("stamp", info["stamp_shape"], np.float32),
        rgb=None if info["rgb_shape"] is None else unpack("rgb", info["rgb_shape"], np.uint8),
        flags=table.select(info["flag_columns"]).to_pandas(),
        skipped=[tuple(s) for s in info["skipped"]],
        labels=(
            table.column("label").to_numpy(zero_copy_only=False)
            if "label" in table.column_names
            else None
        ),
        meta=info["meta"],
    )


_WRITERS: dict[str, Callable[[Cutouts, Path], None]] = {
    ".npz": _write_npz,
    ".parquet": _write_parquet,
}
_READERS: dict[str, Callable[[Path], Cutouts]] = {".npz": _read_npz, ".parquet": _read_parquet}


def read_cutouts(path: str | PathLike[str]) -> Cutouts:
    """Read cutouts written by :meth:`Cutouts.write` (``.npz`` or ``.parquet``).

    ``.npz`` files are loaded with ``allow_pickle=False``: nothing in them can run
    code.

    Raises
    ------
    DataError
        If the file is missing, of another type, or not in the cutouts layout.

    Examples
    --------
    >>> read_cutouts("stamps.fits")
    Traceback (most recent call last):
    skyclass.exceptions.DataError: stamps.fits: unknown cutout file type '.fits'; ...
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(
            f"unknown cutout file type {path.suffix!r}; read .npz or .parquet files written "
            "by Cutouts.write, or ready-made stamp arrays with load_stamps",
            source=str(path),
        )
    if not path.exists():
        raise DataError("cutout file not found", source=str(path))
    try:
        return reader(path)
    except DataError:
        raise
    except Exception as exc:  # numpy / pyarrow raise several types for corrupt files
        raise DataError(
            f"not a readable cutouts file ({exc}); was it truncated? write it again",
            source=str(path),
        ) from exc


# ================================================================== ready-made stamps
def _image_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.npy") if "image" in p.name.lower())
        if not files:
            raise DataError(
                "no *images*.npy stamp array in the folder; stamps are read from "
                "NAME_images.npy (N, bands, H, W) with NAME_labels.npy beside it",
                source=str(path),
            )
        return files
    if path.suffix.lower() != ".npy":
        raise DataError(
            "ready-made stamps are read from a .npy array or a folder of them; .npz and "
            ".parquet cutouts are read with read_cutouts",
            source=str(path),
        )
    return [path]


def _channels_first(arr: np.ndarray, layout: str, source: str) -> np.ndarray:
    if arr.ndim == 3:
        return arr[:, None]
    if arr.ndim != 4:
        raise DataError(
            f"stamp array must be (N, bands, H, W) or (N, H, W, bands); got {arr.shape}",
            source=source,
        )
    if layout == "auto":
        layout = "nhwc" if arr.shape[-1] < arr.shape[1] else "nchw"
    if layout not in ("nchw", "nhwc"):
        raise ValueError(f"unknown layout {layout!r}; choose one of ['auto', 'nchw', 'nhwc']")
    return np.moveaxis(arr, -1, 1) if layout == "nhwc" else arr


def _looks_like_magnitudes(stamps: np.ndarray) -> bool:
    """Pixels all within 5–40: surface brightness in mag, not sky-subtracted flux."""
    finite = stamps[np.isfinite(stamps)]
    return bool(finite.size) and float(finite.min()) > 5.0 and float(finite.max()) < 40.0


def load_stamps(
    path: str | PathLike[str],
    *,
    bands: Sequence[str] | None = None,
    units: str = "auto",
    layout: str = "auto",
    label_names: Mapping[Any, str] | None = None,
    stretch: float = 0.5,
    Q: float = 10.0,
    minimum: float = 0.0,
) -> Cutouts:
    """Read ready-made stamp arrays (``*images*.npy`` and ``*labels*.npy``) as :class:`Cutouts`.

    This is the layout of the SDSS 48×48 ugriz smoke set: ``NAME_images.npy``
    float32 (N, 5, 48, 48) in magnitudes per pixel, ``NAME_labels.npy`` (N,) with
    -1 for a star and +1 for a galaxy. A folder may hold several such pairs (read
    in name order); ``.npz`` / ``.parquet`` files go to :func:`read_cutouts`.

    Parameters
    ----------
    path : path-like
        A folder, or one ``.npy`` image array (its labels file found by replacing
        "images" with "labels" in the name).
    bands : sequence of str, optional
        Channel bands; by default ugriz for 5 channels, g, r, i for 3.
    units : {"auto", "mag", "flux"}
        Pixel units. "auto" takes magnitudes when every finite pixel lies in
        5–40 (surface brightness), flux otherwise. Stamps are kept as stored; the
        RGB image of magnitude stamps is made from nanomaggies, 10**(-0.4 (m - 22.5)).
    layout : {"auto", "nchw", "nhwc"}
        Channel axis second or last; "auto" takes the shorter one as channels.
    label_names : mapping, optional
        Names for the stored labels, e.g. ``{-1: "star", 1: "galaxy"}``.
    stretch, Q, minimum : float
        Lupton asinh parameters (:func:`lupton_rgb`).

    Returns
    -------
    Cutouts
        ids ``NAME_00000``…, ra/dec NaN (not stored), meta ``units``.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> np.save(os.path.join(folder, "demo_images.npy"), np.full((2, 5, 8, 8), 22.0, np.float32))
    >>> np.save(os.path.join(folder, "demo_labels.npy"), np.array([-1.0, 1.0], np.float32))
    >>> cut = load_stamps(folder, label_names={-1: "star", 1: "galaxy"})
    >>> cut.ids.tolist(), cut.labels.tolist(), cut.meta["units"], cut.rgb.shape
    (['demo_00000', 'demo_00001'], ['star', 'galaxy'], 'mag', (2, 8, 8, 3))
    """
    path = Path(path)
    if not path.exists():
        raise DataError("stamp file or folder not found", source=str(path))
    if path.suffix.lower() in _READERS:
        return read_cutouts(path)
    if units not in ("auto", "mag", "flux"):
        raise ValueError(f"unknown units {units!r}; choose one of ['auto', 'flux', 'mag']")
    parts, ids, labels, sources = [], [], [], []
    for file in _image_files(path):
        try:
            arr = np.load(file, allow_pickle=False)
        except Exception as exc:  # numpy raises ValueError / OSError for bad files
            raise DataError(f"not a readable .npy array ({exc})", source=str(file)) from exc
        arr = _channels_first(np.asarray(arr, dtype=np.float32), layout, str(file))
        stem = file.stem.replace("_images", "").replace("images", "") or "stamp"
        parts.append(arr)
        ids.extend(f"{stem}_{i:05d}" for i in range(len(arr)))
        sources.append(str(file))
        label_file = file.with_name(file.name.replace("images", "labels"))
        if label_file != file and label_file.exists():
            lab = np.load(label_file, allow_pickle=False).reshape(-1)
            if len(lab) != len(arr):
                raise DataError(
                    f"{len(lab)} labels for {len(arr)} stamps; the two files must match row "
                    "for row",
                    source=str(label_file),
                )
            labels.append(lab)
        else:
            labels.append(None)
    if len({p.shape[1:] for p in parts}) > 1:
        raise DataError(
            f"stamp arrays of different shapes {[p.shape[1:] for p in parts]}; load them apart",
            source=str(path),
        )
    stamps = np.concatenate(parts)
    n_ch = stamps.shape[1]
    if bands is None:
        defaults = {5: tuple("ugriz"), 3: ("g", "r", "i"), 1: ("r",)}
        if n_ch not in defaults:
            raise DataError(f"{n_ch} channels: name them with bands=[...]", source=str(path))
        bands = defaults[n_ch]
    bands = tuple(str(b) for b in bands)
    if len(bands) != n_ch:
        raise DataError(f"{len(bands)} bands named for {n_ch} channels", source=str(path))
    if units == "auto":
        units = "mag" if _looks_like_magnitudes(stamps) else "flux"
    label_arr = _stamp_labels(labels, label_names, str(path))
    options = {"stretch": stretch, "Q": Q, "minimum": minimum}
    flux = (
        np.power(10.0, -0.4 * (stamps.astype(np.float64) - _NANOMAGGY_ZERO_POINT))
        if units == "mag"
        else stamps
    )
    stamps.setflags(write=False)
    n = len(stamps)
    return Cutouts(
        ids=np.array(ids),
        ra=np.full(n, np.nan),
        dec=np.full(n, np.nan),
        bands=bands,
        stamps=stamps,
        rgb=_rgb_for(flux, bands, options),
        labels=label_arr,
        meta={"source": "stamp_arrays", "files": sources, "units": units, "rgb": options},
    )


def _stamp_labels(
    labels: list[np.ndarray | None], names: Mapping[Any, str] | None, source: str
) -> np.ndarray | None:
    if all(lab is None for lab in labels):
        return None
    if any(lab is None for lab in labels):
        raise DataError("some stamp arrays have a labels file and some not", source=source)
    lab = np.concatenate(labels)
    if lab.dtype.kind == "f" and np.all(np.isfinite(lab)) and np.all(lab == np.round(lab)):
        lab = lab.astype(np.int64)
    if names is None:
        return lab
    unknown = sorted({v.item() for v in np.unique(lab)} - set(names))
    if unknown:
        raise DataError(
            f"labels {unknown} have no name in label_names={dict(names)}", source=source
        )
    return np.array([names[v.item()] for v in lab], dtype=str)
