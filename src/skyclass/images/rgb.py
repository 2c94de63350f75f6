"""Colour composites of gri stamps: Lupton et al. (2004) asinh, R = i, G = r, B = g.

This is how SDSS makes its colour images, and how gao2023 turned its i, r and g
frames into pseudo-colour images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["RGB_BANDS", "lupton_rgb", "rgb_of_stamps"]

#: Bands mapped to red, green and blue, as in SDSS colour images.
RGB_BANDS = ("i", "r", "g")


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


def rgb_of_stamps(
    stamps: np.ndarray, bands: Sequence[str], options: Mapping[str, float]
) -> np.ndarray | None:
    """The :func:`lupton_rgb` composite of stamps with channels ``bands``; None without i, r, g.

    Parameters
    ----------
    stamps : array, shape (N, n_bands, H, W)
        Stamps on one flux scale.
    bands : sequence of str
        Band of each channel.
    options : mapping
        ``stretch``, ``Q``, ``minimum`` of :func:`lupton_rgb`.

    Examples
    --------
    >>> stamps = np.zeros((1, 3, 4, 4)); stamps[0, 2, 1, 1] = 1.0
    >>> rgb_of_stamps(stamps, ("g", "r", "i"), {}).shape
    (1, 4, 4, 3)
    >>> rgb_of_stamps(stamps, ("u", "g", "r"), {}) is None
    True
    """
    if not set(RGB_BANDS) <= set(bands):
        return None
    i, r, g = (stamps[:, list(bands).index(b)] for b in RGB_BANDS)
    return lupton_rgb(i, r, g, **options)
