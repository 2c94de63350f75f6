"""Folded-curve images (kang2023 after Szklenár et al. 2022): the phase-folded curve as a raster.

The image is ``size × size`` pixels, one channel, values in [0, 1]:

- x (column) is the phase, 0 at the left edge to ``cycles`` at the right (the
  phase is periodic, so a point's disk wraps from the right edge to the left);
- y (row) is the magnitude scaled per curve: the brightest epoch (smallest
  magnitude) lies ``margin`` pixels below the top row (row 0), the faintest
  ``margin`` pixels above the bottom row, so **brighter is up** as in a plotted
  light curve. A constant curve lies on the middle row.

Every epoch lights a disk of ``radius`` pixels (radius 0: one pixel). The image
is drawn straight into a numpy array with one ``np.bincount`` for a whole batch,
instead of rendering a plot through matplotlib and reading its canvas back, which
is what the papers did (``benchmarks/represent_speed.py`` compares the two).

The curve is folded as :func:`~skyclass.preprocess.fold.fold` does by default:
period from ``meta["period"]`` (:func:`~skyclass.represent.base.period_of`),
epoch at the first time. A curve that is already folded (``meta["time_ref"] ==
"phase"``, e.g. after cleaning around a smoother of the folded curve) is drawn as
it is, provided it was folded on the same number of cycles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.represent._shared import CurveArrays, prepare_each
from skyclass.represent.base import Representation, period_of

__all__ = ["FoldedImage"]

_CHUNK = 512  # curves drawn together: bounds the pixel-index arrays to a few MB


class FoldedImage(Representation):
    """Raster of the phase-folded curve: ``{"folded_image": (1, size, size)}`` float32 in [0, 1].

    Parameters
    ----------
    size : int
        Width and height in pixels (kang2023: 128).
    cycles : {1, 2}
        Fold on ``cycles × period``; 2 shows two cycles side by side (or tells the
        eclipses of a binary apart when the period found is half the true one).
    band : str, optional
        Band to draw; required when a curve has several.
    margin : int
        Empty rows kept above the brightest and below the faintest epoch.
    radius : int
        Radius in pixels of the disk each epoch lights (0: a single pixel).
    values : {"binary", "density"}
        ``"binary"``: 1 where any epoch's disk falls, like a rendered scatter plot;
        ``"density"``: the number of disks on a pixel divided by the image's maximum.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 0.25], mag=[10.0, 11.0], err=[0.1, 0.1], band="V",
    ...                 meta={"period": 1.0})
    >>> image = FoldedImage(radius=0).transform(lc)["folded_image"]
    >>> image.shape, image.sum()
    ((1, 128, 128), np.float32(2.0))
    >>> np.argwhere(image[0]).tolist()  # (row, column): the brighter epoch is higher
    [[2, 0], [125, 32]]
    """

    name = "image"
    needs_period = True
    VALUES: ClassVar[tuple[str, ...]] = ("binary", "density")

    def __init__(
        self,
        *,
        size: int = 128,
        cycles: int = 1,
        band: str | None = None,
        margin: int = 2,
        radius: int = 1,
        values: str = "binary",
    ) -> None:
        if not isinstance(size, int | np.integer) or size < 4:
            raise ValueError(f"size must be an integer of at least 4 pixels, got {size!r}")
        if cycles not in (1, 2):
            raise ValueError(f"cycles must be 1 or 2, got {cycles!r}")
        if not isinstance(margin, int | np.integer) or not 0 <= margin < (size - 1) / 2:
            raise ValueError(f"margin must be an integer in [0, {(size - 1) // 2}), got {margin!r}")
        if not isinstance(radius, int | np.integer) or not 0 <= radius < size // 2:
            raise ValueError(f"radius must be an integer in [0, {size // 2}), got {radius!r}")
        if values not in self.VALUES:
            raise ValueError(f"unknown values {values!r}; choose one of {list(self.VALUES)}")
        self.size = int(size)
        self.cycles = int(cycles)
        self.band = band
        self.margin = int(margin)
        self.radius = int(radius)
        self.values = values
        d = np.arange(-self.radius, self.radius + 1)
        dy, dx = np.meshgrid(d, d, indexing="ij")
        disk = dy**2 + dx**2 <= self.radius**2
        self._disk = (dy[disk], dx[disk])

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{"folded_image": (1, size, size)}``."""
        return {"folded_image": (1, self.size, self.size)}

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """The image of one curve.

        Raises
        ------
        DataError
            If the curve has no usable period (and is not folded), was folded on
            another number of cycles, has several bands and ``band`` is None, or
            lacks ``band``.
        """
        phase, mag = self._phase_mag(CurveArrays.of(lc))
        return {"folded_image": self._draw([phase], [mag])[0]}

    def transform_many(self, lcs: Iterable[LightCurve] | LightCurveSet) -> dict[str, Any]:
        """Images of many curves, equal to :meth:`transform` on each, drawn in one pass.

        A curve that cannot be drawn gets a zero image, ``valid=False`` and its
        reason in ``errors``.

        Examples
        --------
        >>> lcs = [LightCurve(time=[0.0, 0.3, 0.7], mag=[1.0, 2.0, 1.5], err=[0.1] * 3,
        ...                   band="V", id="a", meta={"period": 0.5}),
        ...        LightCurve(time=[0.0, 1.0], mag=[1.0, 2.0], err=[0.1] * 2, band="V", id="b")]
        >>> out = FoldedImage().transform_many(lcs)
        >>> out["folded_image"].shape, out["valid"].tolist(), list(out["errors"])
        ((2, 1, 128, 128), [True, False], ['b'])
        """
        drawn, valid, errors = prepare_each(lcs, self._phase_mag)
        phases, mags = [p for p, _ in drawn], [m for _, m in drawn]
        out = np.zeros((valid.size, 1, self.size, self.size), dtype=np.float32)
        self._draw(phases, mags, out, np.flatnonzero(valid))
        return {"folded_image": out, "valid": valid, "errors": errors}

    # ------------------------------------------------------------------ work
    def _phase_mag(self, curve: CurveArrays) -> tuple[np.ndarray, np.ndarray]:
        """Phase in [0, cycles) and magnitude of the epochs to draw; raises DataError."""
        time, mag, meta = curve.time, curve.mag, curve.meta
        if self.band is not None:
            keep = curve.mask(self.band)
            if not keep.all():
                if not keep.any():
                    raise DataError(
                        f"no epochs in band {self.band!r}; this curve has bands "
                        f"{curve.band_list()}",
                        **curve.where(),
                    )
                time, mag = time[keep], mag[keep]
        elif not curve.single_band():
            raise DataError(
                f"the curve has bands {curve.band_list()}; pass FoldedImage(band=...)",
                **curve.where(),
            )
        if meta.get("time_ref") == "phase":
            folded = int(meta.get("folded_cycles", 1))
            if folded != self.cycles:
                raise DataError(
                    f"the curve was folded on {folded} cycle(s), the image wants {self.cycles}; "
                    "fold the original curve again or set cycles",
                    **curve.where(),
                )
            return time, mag
        period = period_of(curve)  # type: ignore[arg-type]  # reads .meta and .id only
        # the phase as fold(lc, period, cycles=cycles) computes it, epoch at the first time
        phase = np.mod((time - time[0]) / (self.cycles * period), 1.0)
        phase[phase >= 1.0] = 0.0
        return phase * self.cycles, mag

    def _draw(
        self,
        phases: list[np.ndarray],
        mags: list[np.ndarray],
        out: np.ndarray | None = None,
        where: np.ndarray | None = None,
    ) -> np.ndarray:
        """Draw curves given as phases and magnitudes into ``out[where]`` (zeros there).

        ``out`` defaults to a new ``(n, 1, size, size)`` array and ``where`` to
        ``arange(n)``. Curves are drawn ``_CHUNK`` at a time to bound the memory of
        the pixel indices.
        """
        size, n = self.size, len(phases)
        if out is None:
            out = np.zeros((n, 1, size, size), dtype=np.float32)
        if where is None:
            where = np.arange(n)
        flat_out = out.reshape(-1)
        for lo in range(0, n, _CHUNK):
            hi = min(lo + _CHUNK, n)
            index = self._pixels(phases[lo:hi], mags[lo:hi], where[lo:hi])
            if self.values == "binary":
                flat_out[index] = 1.0
                continue
            cells, counts = np.unique(index, return_counts=True)
            flat_out[cells] = counts
            chunk = out[where[lo:hi]]
            out[where[lo:hi]] = chunk / chunk.max(axis=(1, 2, 3), keepdims=True)
        return out

    def _pixels(
        self, phases: list[np.ndarray], mags: list[np.ndarray], slots: np.ndarray
    ) -> np.ndarray:
        """Flat indices into the ``(N, 1, size, size)`` output of every lit pixel, repeats kept."""
        size = self.size
        lengths = np.array([p.size for p in phases], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        obj = np.repeat(np.arange(len(phases)), lengths)
        phase, mag = np.concatenate(phases), np.concatenate(mags)
        col = np.minimum(np.floor(phase / self.cycles * size).astype(np.int64), size - 1)
        lo = np.minimum.reduceat(mag, starts)[obj]
        span = np.maximum.reduceat(mag, starts)[obj] - lo
        usable = size - 1 - 2 * self.margin
        flat = span > 0
        scaled = np.divide(mag - lo, span, out=np.zeros_like(mag), where=flat)
        row = np.where(flat, self.margin + np.rint(scaled * usable), size // 2).astype(np.int64)
        base = np.repeat(slots.astype(np.int64) * (size * size), lengths)
        index = []
        for dy, dx in zip(*self._disk, strict=True):
            r = row + dy
            inside = (r >= 0) & (r < size)
            index.append((base + r * size + np.mod(col + dx, size))[inside])
        return np.concatenate(index)

    def __repr__(self) -> str:
        return (
            f"FoldedImage(size={self.size}, cycles={self.cycles}, band={self.band!r}, "
            f"margin={self.margin}, radius={self.radius}, values={self.values!r})"
        )
