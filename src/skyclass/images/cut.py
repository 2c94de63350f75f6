"""Cutting: stamps centred on catalogue sources, cut from FITS frames through their WCS.

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
asinh composite with R = i, G = r, B = g, as SDSS makes its colour images
(:mod:`skyclass.images.rgb`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.images.cutouts import FLAG_DTYPES, Cutouts
from skyclass.images.frames import Frame, read_frame
from skyclass.images.rgb import RGB_BANDS, rgb_of_stamps
from skyclass.io.common import resolve_columns

__all__ = ["ALIGN_MODES", "CATALOG_ALIASES", "EDGE_MODES", "cut_from_frames"]

#: Catalogue column names for each role (matched case-insensitively).
CATALOG_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("object_id", "objid", "objectid", "id", "source_id", "sourceid", "specobjid", "name"),
    "ra": ("ra", "ra_deg", "radeg", "raj2000", "ra_icrs", "_raj2000"),
    "dec": ("dec", "dec_deg", "decdeg", "dej2000", "decj2000", "de_icrs", "_dej2000"),
    "label": ("label", "class", "target"),
}
_BAND_ORDER = "ugrizy"


def _band_sort_key(band: str) -> tuple[int, str]:
    return (_BAND_ORDER.index(band) if band in _BAND_ORDER else len(_BAND_ORDER), band)


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
        rgb=rgb_of_stamps(stamps, bands, options) if rgb else None,
        flags=flags,
        skipped=skipped,
        labels=None if labels is None else labels[kept_idx],
        meta=meta,
    )


def _flag_dtypes(bands: Sequence[str]) -> dict[str, Any]:
    """Flag columns of stamps cut from frames, in order, with their dtypes."""
    per_band = {f"{axis}_{b}": np.float64 for b in bands for axis in ("x", "y")}
    return {**FLAG_DTYPES, **per_band}


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
