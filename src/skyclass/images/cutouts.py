"""Cutouts: stamps of catalogue sources with their RGB composites and flags, and their files.

:class:`Cutouts` holds what :func:`~skyclass.images.cut.cut_from_frames` cuts from
FITS frames (:mod:`skyclass.images.cut`, :mod:`skyclass.images.frames`), what
:func:`~skyclass.images.stamps.load_stamps` reads from ready-made arrays and what
:func:`~skyclass.images.simulate.simulate_stamps` draws.

Files: :meth:`Cutouts.write` writes ``.npz`` (``numpy.savez_compressed``, read
back with ``allow_pickle=False``) or ``.parquet`` (one row per stamp, the stamp
and RGB image as fixed-size list columns, shapes in the schema metadata);
:func:`read_cutouts` reads either.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import readonly_array
from skyclass.exceptions import DataError

__all__ = ["FILE_SUFFIXES", "FLAG_DTYPES", "Cutouts", "read_cutouts"]

#: Version of the layout written by :meth:`Cutouts.write`.
FORMAT_VERSION = 1
_FORMAT = "skyclass.cutouts"
_META_KEY = _FORMAT.encode()
_RESERVED = ("ra", "dec", "label", "stamp", "rgb")
_ROW_GROUP = 1000  # stamps per Parquet row group (~30 MB of 3×50×50 float32)


#: Flag columns every :class:`Cutouts` carries, in order, with their dtypes (stamps cut
#: from frames add each band's pixel position, ``x_<band>`` and ``y_<band>``).
FLAG_DTYPES: Mapping[str, Any] = MappingProxyType(
    {
        "object_id": str,
        "edge": np.dtype(bool),
        "scale": np.dtype(np.float64),
        "n_pad": np.dtype(np.int64),
        "n_nan": np.dtype(np.int64),
        "n_saturated": np.dtype(np.int64),
        "saturated": np.dtype(bool),
        "offset_x": np.dtype(np.float64),
        "offset_y": np.dtype(np.float64),
        "max_offset": np.dtype(np.float64),
        "flagged": np.dtype(bool),
    }
)

# Names once defined here -> the module that defines them now (still importable from here).
_MOVED = {
    "ALIGN_MODES": "cut",
    "CATALOG_ALIASES": "cut",
    "EDGE_MODES": "cut",
    "cut_from_frames": "cut",
    "Frame": "frames",
    "read_frame": "frames",
    "RGB_BANDS": "rgb",
    "lupton_rgb": "rgb",
    "load_stamps": "stamps",
}


def __getattr__(name: str) -> Any:
    # Loaded on first use: the cutting modules import this one.
    if name in _MOVED:
        return getattr(importlib.import_module(f"skyclass.images.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return dict(obj)
    return str(obj)


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
        put("ids", readonly_array(ids.astype(str).reshape(-1), ids.astype(str).dtype))
        n = len(self.ids)
        stamps = readonly_array(self.stamps, np.float32)
        if stamps.ndim != 4 or stamps.shape[0] != n:
            raise DataError(
                f"stamps must have shape (N, n_bands, H, W) with N = {n} ids; got {stamps.shape}"
            )
        put("stamps", stamps)
        put("bands", tuple(str(b) for b in self.bands))
        if len(self.bands) != stamps.shape[1]:
            raise DataError(f"{len(self.bands)} band names for {stamps.shape[1]} stamp channels")
        for name in ("ra", "dec"):
            arr = readonly_array(getattr(self, name), np.float64)
            if arr.shape != (n,):
                raise DataError(f"{name} must have one value per stamp ({n}); got {arr.shape}")
            put(name, arr)
        if self.rgb is not None:
            rgb = readonly_array(self.rgb, np.uint8)
            if rgb.shape != (n, *stamps.shape[2:], 3):
                raise DataError(f"rgb must have shape {(n, *stamps.shape[2:], 3)}; got {rgb.shape}")
            put("rgb", rgb)
        if self.labels is not None:
            labels = np.asarray(self.labels)
            labels = labels.astype(str) if labels.dtype == object else labels
            if labels.shape != (n,):
                raise DataError(f"labels must have one value per stamp ({n}); got {labels.shape}")
            put("labels", readonly_array(labels, labels.dtype))
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
    ).astype(dict(FLAG_DTYPES))


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

#: File types that :meth:`Cutouts.write` writes and :func:`read_cutouts` reads.
FILE_SUFFIXES = tuple(_READERS)


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
