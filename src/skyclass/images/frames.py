"""Frames: one band's 2-D FITS image with its celestial WCS.

Each band of a field carries its own WCS, because the bands are exposed at
different instants and a source sits at different pixels in each (see
:mod:`skyclass.images.cut`). Pixel coordinates are 0-based with pixel centres on
integers (a frame of width W spans -0.5 … W-0.5); row 0 is the bottom of the frame.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skyclass.exceptions import DataError

__all__ = ["Frame", "read_frame"]


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
