"""Figures and reports. The only skyclass module that imports matplotlib.

Matplotlib is imported inside the functions, with the non-interactive Agg
back end, so importing skyclass never needs a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["preview_representation"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _draw(ax, key: str, array: np.ndarray, mask: np.ndarray | None) -> None:
    """Draw one object's array the way a person reads it."""
    if array.ndim == 3:  # (channels, h, w): images and dm-dt maps, first channel
        ax.imshow(
            array[0],
            origin="lower" if key == "dmdt" else "upper",
            aspect="auto",
            cmap="viridis",
            interpolation="nearest",
        )
    elif array.ndim == 2 and key in {"grid"}:  # (bands, n) curves over phase
        phase = (np.arange(array.shape[1]) + 0.5) / array.shape[1]
        for row, values in enumerate(array):
            keep = mask[row] > 0 if mask is not None else np.ones(values.size, bool)
            ax.plot(phase[keep], values[keep], ".", ms=1.5)
        ax.invert_yaxis()
    elif array.ndim == 2:  # (length, channels) sequences: channel 1 against position
        keep = mask > 0 if mask is not None else np.ones(array.shape[0], bool)
        x = np.arange(array.shape[0])[keep]
        ax.plot(x, array[keep, 1] if array.shape[1] > 1 else array[keep, 0], ".", ms=1.5)
        ax.invert_yaxis()
    else:  # (n_features,)
        ax.bar(np.arange(array.size), array)
    ax.set_xticks([])
    ax.set_yticks([])


def preview_representation(
    arrays: dict[str, Any],
    *,
    key: str,
    labels: Sequence[Any],
    ids: Sequence[str],
    path: str | PathLike[str],
    per_class: int = 4,
    mask_key: str | None = None,
    seed: int = 0,
) -> Path:
    """Save a PNG grid of a few examples per class of one representation.

    Parameters
    ----------
    arrays : dict
        Output of a representation's ``transform_many`` (with ``valid``).
    key : str
        Which array to draw (``image``, ``dmdt``, ``grid``, ``seq``, ``features``).
    labels, ids : sequence
        Per object, for the row titles.
    path : path-like
        The PNG to write.
    per_class : int
        Examples drawn per class (chosen at random among valid objects, seeded).
    mask_key : str, optional
        The mask array that goes with ``key`` (``grid_mask``, ``mask``).

    Examples
    --------
    >>> import tempfile, os
    >>> images = np.random.default_rng(0).random((4, 1, 8, 8))
    >>> arrays = {"image": images, "valid": np.ones(4, bool)}
    >>> png = os.path.join(tempfile.mkdtemp(), "p.png")
    >>> out = preview_representation(arrays, key="image", labels=["a", "a", "b", "b"],
    ...                              ids=list("wxyz"), path=png)
    >>> out.suffix
    '.png'
    """
    plt = _pyplot()
    labels = np.asarray([str(x) for x in labels], dtype=object)
    valid = np.asarray(arrays.get("valid", np.ones(len(labels), bool)), dtype=bool)
    classes = sorted(set(labels[valid])) or ["(none)"]
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(classes), per_class, figsize=(2.0 * per_class, 1.9 * len(classes)), squeeze=False
    )
    for row, cls in enumerate(classes):
        members = np.flatnonzero(valid & (labels == cls))
        chosen = rng.choice(members, min(per_class, members.size), replace=False)
        for col in range(per_class):
            ax = axes[row, col]
            if col >= chosen.size:
                ax.axis("off")
                continue
            i = int(chosen[col])
            mask = arrays[mask_key][i] if mask_key and mask_key in arrays else None
            _draw(ax, key, np.asarray(arrays[key][i]), mask)
            ax.set_title(f"{cls}: {ids[i]}", fontsize=7)
    fig.suptitle(f"{key}: {per_class} examples per class", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
