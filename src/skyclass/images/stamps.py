"""Ready-made stamp arrays (``*images*.npy`` beside ``*labels*.npy``) read as cutouts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skyclass.exceptions import DataError
from skyclass.images.cutouts import FILE_SUFFIXES, Cutouts, read_cutouts
from skyclass.images.rgb import rgb_of_stamps

__all__ = ["load_stamps"]

_NANOMAGGY_ZERO_POINT = 22.5  # SDSS: 1 nanomaggy is 22.5 mag


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
    if path.suffix.lower() in FILE_SUFFIXES:
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
        rgb=rgb_of_stamps(flux, bands, options),
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
