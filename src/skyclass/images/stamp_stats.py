"""What a stamp looks like in numbers: background, noise, colours, FWHM and flux profile.

:func:`stamp_statistics` measures every stamp of a :class:`~skyclass.images.cutouts.Cutouts`
the same way, real or simulated, so that the two can be set side by side
(:func:`compare_stamps`): the simulated SDSS-like stamps of
:mod:`skyclass.images.simulate` against real SDSS cutouts; :func:`label_caution`
says when a set's galaxies are more compact than its stars. Pixels are first put in
nanomaggies (magnitude stamps, ``meta["units"] == "mag"``, through
``10**(-0.4 (m - 22.5))``); then, per band,

background level, noise
    median and robust standard deviation (1.4826 × MAD) of the pixels within
    ``border`` pixels of the stamp's edge;
aperture flux, colours
    the background-subtracted sum within ``aperture`` pixels of the stamp's
    centre; g−r and r−i are −2.5 log10 of the flux ratios (NaN where a flux is
    not positive);
FWHM (r band, arcsec)
    twice the radius at which the background-subtracted mean in rings one
    pixel wide about the brightest r pixel within ``aperture`` pixels of the
    centre falls to half that pixel's value (linear between the rings' mean
    radii) — the seeing for a point source, a size for a galaxy;
flux profile (r band)
    the background-subtracted mean in those rings at 0, 1, 2, 3, 5, 8 and 12
    pixels, divided by the brightest pixel's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PROFILE_RADII", "compare_stamps", "label_caution", "stamp_statistics"]

#: Ring radii (pixels) of the flux profile.
PROFILE_RADII = (0, 1, 2, 3, 5, 8, 12)

_NANOMAGGY_ZERO_POINT = 22.5


def _flux(cutouts: Any) -> np.ndarray:
    stamps = np.asarray(cutouts.stamps, dtype=np.float64)
    if (cutouts.meta or {}).get("units") == "mag":
        return np.power(10.0, -0.4 * (stamps - _NANOMAGGY_ZERO_POINT))
    return stamps


def stamp_statistics(
    cutouts: Any,
    *,
    pixel_scale: float = 0.396,
    border: int = 5,
    aperture: float = 6.0,
) -> pd.DataFrame:
    """One row per stamp: label, background, noise, aperture colours, r-band FWHM and profile.

    Parameters
    ----------
    cutouts : Cutouts
        Stamps with g, r and i among their bands (flux, or magnitudes per pixel with
        ``meta["units"] == "mag"``).
    pixel_scale : float
        Arcsec per pixel (SDSS: 0.396).
    border : int
        Width (pixels) of the edge frame that measures the background.
    aperture : float
        Radius (pixels) about the centre of the colour aperture and the FWHM search.

    Returns
    -------
    DataFrame
        ``label``, ``bg_<band>`` and ``noise_<band>`` (nanomaggies per pixel) for g, r
        and i, ``g_r``, ``r_i``, ``fwhm_arcsec`` and ``profile_<radius>`` for
        :data:`PROFILE_RADII`.

    Examples
    --------
    >>> from skyclass.images.cutouts import Cutouts
    >>> yy, xx = np.mgrid[:25, :25] - 12.0
    >>> sigma = 2.0  # pixels: FWHM 2.355 sigma = 4.71 px
    >>> blob = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    >>> stamps = np.stack([blob, 2 * blob, 4 * blob])[None]  # g, r, i: r brighter than g
    >>> cut = Cutouts(ids=["a"], ra=[0.0], dec=[0.0], bands=("g", "r", "i"), stamps=stamps,
    ...               labels=["star"])
    >>> row = stamp_statistics(cut, pixel_scale=1.0).iloc[0]
    >>> float(round(row["g_r"], 3)), float(round(row["fwhm_arcsec"], 1)), float(row["profile_0"])
    (0.753, 4.7, 1.0)
    """
    bands = list(cutouts.bands)
    missing = [b for b in "gri" if b not in bands]
    if missing:
        raise ValueError(f"the stamps lack band(s) {missing}; they hold {bands}")
    flux = _flux(cutouts)
    n, _, height, width = flux.shape
    yy, xx = np.mgrid[:height, :width]
    radius = np.hypot(yy - (height - 1) / 2, xx - (width - 1) / 2)
    edge = np.zeros((height, width), bool)
    edge[:border], edge[-border:], edge[:, :border], edge[:, -border:] = True, True, True, True
    inner = radius <= aperture
    labels = cutouts.labels if cutouts.labels is not None else [None] * n
    out: dict[str, Any] = {"label": [None if x is None else str(x) for x in labels]}
    net = {}
    for band in "gri":
        pix = flux[:, bands.index(band)]
        sky = pix[:, edge]
        level = np.median(sky, axis=1)
        out[f"bg_{band}"] = level
        out[f"noise_{band}"] = 1.4826 * np.median(np.abs(sky - level[:, None]), axis=1)
        net[band] = pix - level[:, None, None]
    apflux = {b: net[b][:, inner].sum(axis=1) for b in "gri"}
    with np.errstate(divide="ignore", invalid="ignore"):
        for a, b in (("g", "r"), ("r", "i")):
            ratio = apflux[a] / apflux[b]
            ok = (apflux[a] > 0) & (apflux[b] > 0)
            out[f"{a}_{b}"] = np.where(ok, -2.5 * np.log10(np.where(ok, ratio, 1.0)), np.nan)
    r = net["r"]
    fwhm, profiles = np.full(n, np.nan), np.full((n, len(PROFILE_RADII)), np.nan)
    for k in range(n):
        # rings of whole-pixel width about the brightest r pixel near the centre
        peak_at = np.unravel_index(np.argmax(np.where(inner, r[k], -np.inf)), r[k].shape)
        dist = np.hypot(yy - peak_at[0], xx - peak_at[1])
        rings = np.floor(dist).astype(int)
        count = np.bincount(rings.ravel())
        ring_mean = np.bincount(rings.ravel(), r[k].ravel()) / np.maximum(count, 1)
        ring_radius = np.bincount(rings.ravel(), dist.ravel()) / np.maximum(count, 1)
        peak = ring_mean[0]
        if not peak > 0:
            continue
        profiles[k] = [
            ring_mean[rad] / peak if rad < len(ring_mean) else np.nan for rad in PROFILE_RADII
        ]
        below = np.flatnonzero(ring_mean[: int(aperture) + 1] < peak / 2)
        if below.size and below[0] > 0:
            j = below[0]
            frac = (ring_mean[j - 1] - peak / 2) / (ring_mean[j - 1] - ring_mean[j])
            half = ring_radius[j - 1] + frac * (ring_radius[j] - ring_radius[j - 1])
            fwhm[k] = 2 * half * pixel_scale
    out["fwhm_arcsec"] = fwhm
    for i, rad in enumerate(PROFILE_RADII):
        out[f"profile_{rad}"] = profiles[:, i]
    return pd.DataFrame(out)


def compare_stamps(
    sets: dict[str, pd.DataFrame], *, classes: Sequence[str] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of a side-by-side table: median [16th–84th percentile] per set and class.

    ``sets`` maps a name ("real SDSS", "simulated") to :func:`stamp_statistics`
    tables; each row of the result is one (set, class) with its stamp count.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["star", "star"], "g_r": [0.4, 0.6]})
    >>> cols, rows = compare_stamps({"sim": t})
    >>> cols[:4], rows[0][:4]
    (['stamps', 'class', 'n', 'g−r'], ['sim', 'star', 2, '0.50 [0.43–0.57]'])
    """
    names = {
        "g_r": "g−r",
        "r_i": "r−i",
        "bg_r": "r background (nmgy/px)",
        "noise_g": "g noise (nmgy/px)",
        "noise_r": "r noise (nmgy/px)",
        "noise_i": "i noise (nmgy/px)",
        "fwhm_arcsec": "r FWHM (″)",
        **{f"profile_{rad}": f"r profile {rad} px" for rad in PROFILE_RADII[1:]},
    }
    rows = []
    for set_name, table in sets.items():
        present = sorted(table["label"].dropna().unique())
        for cls in classes or present:
            part = table[table["label"] == cls]
            if part.empty:
                continue
            row: list[Any] = [set_name, cls, len(part)]
            for key in names:
                v = part[key].to_numpy(float) if key in part else np.array([])
                v = v[np.isfinite(v)]
                if v.size == 0:
                    row.append("n/a")
                    continue
                lo, mid, hi = np.percentile(v, [16, 50, 84])
                digits = 3 if key.startswith(("bg_", "noise_")) else 2
                row.append(f"{mid:.{digits}f} [{lo:.{digits}f}–{hi:.{digits}f}]")
            rows.append(row)
    return ["stamps", "class", "n", *names.values()], rows


def label_caution(
    stats: pd.DataFrame, *, extended: str = "galaxy", point: str = "star", min_count: int = 3
) -> str | None:
    """A warning when the stamps labelled ``extended`` are more compact than those
    labelled ``point``, or None.

    A resolved galaxy is at least as broad as a star seen under similar seeing, so
    the median r FWHM of a set's galaxies should not fall below its stars'; when it
    does, the labels (or the cutouts) deserve a look before they are trusted.

    Parameters
    ----------
    stats : pandas.DataFrame
        :func:`stamp_statistics` of one set (``label`` and ``fwhm_arcsec``). A stamp
        without an FWHM (no half maximum within the aperture, or no positive peak)
        counts as broader than every measured one, so that the broadest sources do
        not drop out of a class's median.
    extended, point : str
        The labels of the extended and the point-like class.
    min_count : int
        Stamps each class needs before anything is said.

    Returns
    -------
    str or None
        Both classes' medians and counts, worded as a caution; None when either
        class has fewer than ``min_count`` stamps or none with an FWHM, or the
        extended one's median is as broad as the point-like one's or broader.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["galaxy"] * 3 + ["star"] * 3,
    ...                   "fwhm_arcsec": [1.0, 1.1, 0.9, 1.4, 1.3, float("nan")]})
    >>> print(label_caution(t))
    galaxies more compact than stars: the 3 stamps labelled galaxy have a median r FWHM of \
1.00″, the 3 labelled star 1.40″ (one without an FWHM counted as broader), whereas a \
resolved galaxy is at least as broad as a star under similar seeing; look at the images \
before trusting the labels or the cutouts.
    >>> label_caution(t.assign(fwhm_arcsec=[2.0, 1.9, 2.1, 1.4, 1.3, 1.2])) is None
    True
    """
    medians, counts, missing = {}, {}, {}
    for cls in (extended, point):
        v = stats.loc[stats["label"] == cls, "fwhm_arcsec"].to_numpy(float)
        counts[cls], missing[cls] = int(np.isfinite(v).sum()), int((~np.isfinite(v)).sum())
        if counts[cls] == 0 or counts[cls] + missing[cls] < min_count:
            return None
        medians[cls] = float(np.median(np.where(np.isfinite(v), v, np.inf)))
    if not medians[extended] < medians[point]:
        return None

    def described(cls: str) -> str:
        return "broader than all" if np.isinf(medians[cls]) else f"{medians[cls]:.2f}″"

    unmeasured = sum(missing.values())
    return (
        f"galaxies more compact than stars: the {counts[extended] + missing[extended]} stamps "
        f"labelled {extended} have a median r FWHM of {described(extended)}, the "
        f"{counts[point] + missing[point]} labelled {point} {described(point)}"
        + (
            f" ({'one' if unmeasured == 1 else unmeasured} without an FWHM counted as broader)"
            if unmeasured
            else ""
        )
        + ", whereas a resolved galaxy is at least as broad as a star under similar seeing; "
        "look at the images before trusting the labels or the cutouts."
    )
