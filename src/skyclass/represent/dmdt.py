"""dm–dt maps (Mahabal et al. 2017): the 2-D histogram of every pair of epochs of one curve.

For every pair of epochs ``i < j`` of one band, ``Δt = t_j − t_i`` and
``Δm = m_j − m_i`` (or ``|m_j − m_i|``) fall in one cell of a grid given by its
edges; every cell is half-open, ``[edge_k, edge_k+1)``, and pairs outside the
grid are not counted. The counts are then normalised (see :data:`NORMS`) and
stacked per band, one channel per band of a fixed ``bands`` tuple (a band the
curve lacks, or with a single epoch, gives a zero channel).

The label leak of carraro2025
-----------------------------
The thesis (``seeds/001``, section 2.2.2 and its code) did *not* build dm–dt
maps from light curves. For each star it took the differences of g and r
amplitude and of period between that star and every other star **of the same
class**, and histogrammed those. The input of its 2D-CNN is therefore a summary
of the star's class, which explains the 99.95% accuracy it reports. skyclass
computes each map from the epochs of one curve only: :meth:`DmDt.transform`
sees one :class:`~skyclass.lightcurve.LightCurve` and nothing else, and the
tests check that a map is bit-identical whether it is computed alone, in a batch,
or after every other curve and label of the batch changed.

The thesis's grid
-----------------
Its text gives the ``|Δm|`` edges ``[0, .1, .2, .3, .5, 1, 1.5, 2, 2.5, 3, 5, 8]`` mag
and says the Δt edges run "from 1/145, 1/25 days ... up to 4000 days, divided
logarithmically/non-uniformly" without a bin count. Those values are Mahabal's
hand-chosen edges, not a log-uniform grid (1/25 lies on no log grid from 1/145
to 4000 with a small bin count). The thesis author's published script uses 23
Δt edges (22 bins): Mahabal's list without 3/145 and with 250 for 240 d; its
Δm is absolute (11 bins). :meth:`DmDt.carraro2025` uses exactly those edges.

Backends
--------
``"light_curve"`` calls :class:`light_curve.DmDt` (its ``points`` /
``points_many``, Rust, threaded) with the edges as given (``"asis"`` grids);
``"numpy"`` counts pairs in blocks of rows so that a 2,000-epoch curve (2 million
pairs) needs a few MB. Both count the same pairs in the same cells.
light-curve only knows signed Δm, so ``"auto"`` picks it for signed grids and
numpy for ``absolute_dm=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.represent._shared import CurveArrays, prepare_each
from skyclass.represent.base import Representation

__all__ = [
    "BLOCK_PAIRS",
    "CARRARO2025_DM_EDGES",
    "CARRARO2025_DT_EDGES",
    "MAHABAL2017_DM_EDGES",
    "MAHABAL2017_DT_EDGES",
    "NORMS",
    "DmDt",
]

#: Mahabal et al. (2017) Δt edges in days (24 edges, 23 bins).
MAHABAL2017_DT_EDGES: tuple[float, ...] = (
    *(k / 145 for k in (1, 2, 3, 4)),
    *(k / 25 for k in (1, 2, 3)),
    1.5, 2.5, 3.5, 4.5, 5.5, 7, 10, 20, 30, 60, 90, 120, 240, 600, 960, 2000, 4000,
)  # fmt: skip
_HALF_DM = (0.1, 0.2, 0.3, 0.5, 1, 1.5, 2, 2.5, 3, 5, 8)
#: Mahabal et al. (2017) signed Δm edges in mag (23 edges, 22 bins).
MAHABAL2017_DM_EDGES: tuple[float, ...] = (*(-x for x in reversed(_HALF_DM)), 0.0, *_HALF_DM)
#: carraro2025 ``|Δm|`` edges in mag (12 edges, 11 bins), as in the thesis text and code.
CARRARO2025_DM_EDGES: tuple[float, ...] = (0.0, *_HALF_DM)
#: carraro2025 Δt edges in days as in the thesis author's script (23 edges, 22 bins).
CARRARO2025_DT_EDGES: tuple[float, ...] = (
    1 / 145, 2 / 145, 4 / 145, 1 / 25, 2 / 25, 3 / 25,
    1.5, 2.5, 3.5, 4.5, 5.5, 7, 10, 20, 30, 60, 90, 120, 250, 600, 960, 2000, 4000,
)  # fmt: skip

#: Pairs the numpy backend compares at once: bounds its memory to a few MB; the
#: counts do not depend on it.
BLOCK_PAIRS = 1 << 20


def _norm_pairs(counts: np.ndarray, n_pairs: int) -> np.ndarray:
    return counts / n_pairs


def _norm_mahabal(counts: np.ndarray, n_pairs: int) -> np.ndarray:
    # Mahabal et al. 2017: int(255 * count / pairs + 0.99999); an empty cell stays 0
    return np.floor(255.0 * counts / n_pairs + 0.99999)


def _norm_max(counts: np.ndarray, n_pairs: int) -> np.ndarray:
    peak = counts.max()
    return counts / peak if peak > 0 else counts


def _norm_counts(counts: np.ndarray, n_pairs: int) -> np.ndarray:
    return counts


#: Normalisations of one band's counts; ``n_pairs = n (n − 1) / 2`` of that band,
#: pairs outside the grid included.
NORMS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "pairs": _norm_pairs,  # fraction of all pairs, in [0, 1]
    "mahabal": _norm_mahabal,  # 0..255, any occupied cell >= 1 (Mahabal et al. 2017)
    "max": _norm_max,  # divided by the fullest cell, in [0, 1]
    "counts": _norm_counts,  # raw pair counts
}


def _cells(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of the half-open cell ``[edges[k], edges[k+1])`` of each value; −1 outside."""
    idx = np.searchsorted(edges, values, side="right") - 1
    idx[idx >= edges.size - 1] = -1
    return idx


def _counts_numpy(
    t: np.ndarray, m: np.ndarray, dt_edges: np.ndarray, dm_edges: np.ndarray, absolute: bool
) -> np.ndarray:
    """Pair counts of one sorted band, shape ``(n_dm, n_dt)``, counted in blocks of rows."""
    n_dt, n_dm = dt_edges.size - 1, dm_edges.size - 1
    counts = np.zeros(n_dm * n_dt, dtype=np.int64)
    n = t.size
    rows = max(1, BLOCK_PAIRS // max(n, 1))
    for lo in range(0, n - 1, rows):
        hi = min(lo + rows, n - 1)
        # rows i in [lo, hi) against columns j in [lo + 1, n); keep j > i
        cols = np.arange(lo + 1, n)
        upper = cols[None, :] > np.arange(lo, hi)[:, None]
        dt = (t[lo + 1 :][None, :] - t[lo:hi, None])[upper]
        dm = (m[lo + 1 :][None, :] - m[lo:hi, None])[upper]
        if absolute:
            dm = np.abs(dm)
        i_dt, i_dm = _cells(dt, dt_edges), _cells(dm, dm_edges)
        inside = (i_dt >= 0) & (i_dm >= 0)
        counts += np.bincount(i_dm[inside] * n_dt + i_dt[inside], minlength=counts.size)
    return counts.reshape(n_dm, n_dt).astype(np.float64)


def _light_curve_module() -> Any:
    try:
        import light_curve
    except ImportError as exc:  # a declared dependency, but say how to get it
        from skyclass.exceptions import MissingDependencyError

        raise MissingDependencyError("light-curve", purpose="dm–dt maps") from exc
    return light_curve


class DmDt(Representation):
    """Per-curve dm–dt map, one channel per band: ``{"dmdt": (n_bands, n_dm, n_dt)}``.

    Parameters
    ----------
    dt_edges : sequence of float
        Ascending Δt edges in days (positive). Default: Mahabal et al. (2017).
    dm_edges : sequence of float
        Ascending Δm edges in mag. Default: Mahabal et al. (2017), signed.
    absolute_dm : bool
        Histogram ``|m_j − m_i|`` instead of ``m_j − m_i`` (then ``dm_edges`` should
        start at 0).
    bands : sequence of str, optional
        Band of each channel, in order. None: one channel from a single-band curve
        (a multi-band curve then raises :class:`DataError`).
    norm : str
        Normalisation of each channel, a key of :data:`NORMS`: ``"pairs"`` (counts
        divided by the band's number of pairs), ``"mahabal"`` (``⌊255·counts/pairs +
        0.99999⌋`` for occupied cells, as Mahabal et al. 2017), ``"max"`` or
        ``"counts"``.
    backend : {"auto", "numpy", "light_curve"}
        Who counts the pairs; see the module docstring. ``"light_curve"`` needs a
        signed grid.

    Raises
    ------
    ValueError
        For edges that are not strictly ascending (or Δt edges not positive), an
        unknown ``norm`` or ``backend``, or ``backend="light_curve"`` with
        ``absolute_dm=True``.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 1.0, 3.0], mag=[10.0, 11.0, 9.0], err=[0.1] * 3, band="V")
    >>> rep = DmDt(dt_edges=[0.5, 1.5, 2.5, 3.5], dm_edges=[-2, -1, 0, 1, 2], norm="counts")
    >>> rep.transform(lc)["dmdt"][0]
    array([[0., 1., 0.],
           [0., 0., 1.],
           [0., 0., 0.],
           [1., 0., 0.]], dtype=float32)
    >>> DmDt.carraro2025().output_shapes()
    {'dmdt': (1, 11, 22)}
    """

    name = "dmdt"
    BACKENDS: ClassVar[tuple[str, ...]] = ("auto", "numpy", "light_curve")

    def __init__(
        self,
        *,
        dt_edges: Sequence[float] = MAHABAL2017_DT_EDGES,
        dm_edges: Sequence[float] = MAHABAL2017_DM_EDGES,
        absolute_dm: bool = False,
        bands: Sequence[str] | None = None,
        norm: str = "pairs",
        backend: str = "auto",
    ) -> None:
        self.dt_edges = _check_edges(dt_edges, "dt_edges")
        self.dm_edges = _check_edges(dm_edges, "dm_edges")
        if self.dt_edges[0] <= 0:
            raise ValueError("dt_edges must be positive: pairs of one band never have Δt = 0")
        self.absolute_dm = bool(absolute_dm)
        self.bands = None if bands is None else tuple(str(b) for b in bands)
        if self.bands is not None and (not self.bands or len(set(self.bands)) != len(self.bands)):
            raise ValueError(f"bands must be distinct and not empty, got {self.bands}")
        if norm not in NORMS:
            raise ValueError(f"unknown norm {norm!r}; choose one of {sorted(NORMS)}")
        self.norm = norm
        if backend not in self.BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {list(self.BACKENDS)}")
        if backend == "light_curve" and self.absolute_dm:
            raise ValueError(
                "light-curve histograms signed Δm only; use backend='numpy' (or 'auto') "
                "with absolute_dm=True"
            )
        if backend == "auto":
            backend = "numpy" if self.absolute_dm else "light_curve"
        self.backend = backend
        self._lc_dmdt: Any = None

    # ------------------------------------------------------------ presets
    @classmethod
    def carraro2025(cls, **kwargs: Any) -> DmDt:
        """The thesis's grid: ``|Δm|`` in 11 bins to 8 mag, Δt in 22 bins from 1/145 d to 4000 d.

        Computed per curve (not between stars of a class, as the thesis did). ZTF
        curves as in the thesis: ``DmDt.carraro2025(bands=("g", "r"))``.

        Examples
        --------
        >>> rep = DmDt.carraro2025(bands=("g", "r"))
        >>> rep.output_shapes(), rep.absolute_dm
        ({'dmdt': (2, 11, 22)}, True)
        """
        options: dict[str, Any] = {
            "dt_edges": CARRARO2025_DT_EDGES,
            "dm_edges": CARRARO2025_DM_EDGES,
            "absolute_dm": True,
        }
        return cls(**{**options, **kwargs})

    @classmethod
    def mahabal2017(cls, **kwargs: Any) -> DmDt:
        """Mahabal et al. (2017): signed Δm in 22 bins (±8 mag), Δt in 23 bins, 0..255 scale.

        Examples
        --------
        >>> rep = DmDt.mahabal2017()
        >>> rep.output_shapes(), rep.norm
        ({'dmdt': (1, 22, 23)}, 'mahabal')
        """
        options: dict[str, Any] = {
            "dt_edges": MAHABAL2017_DT_EDGES,
            "dm_edges": MAHABAL2017_DM_EDGES,
            "absolute_dm": False,
            "norm": "mahabal",
        }
        return cls(**{**options, **kwargs})

    # ----------------------------------------------------------- contract
    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{"dmdt": (n_bands, n_dm, n_dt)}``."""
        n_bands = 1 if self.bands is None else len(self.bands)
        return {"dmdt": (n_bands, self.dm_edges.size - 1, self.dt_edges.size - 1)}

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """The dm–dt map of one curve.

        Raises
        ------
        DataError
            If the curve is phase-folded, has several bands while ``bands`` is None,
            or has no band of ``bands`` with two epochs.
        """
        return {"dmdt": self._maps([_split_bands(CurveArrays.of(lc), self.bands)])[0]}

    def transform_many(self, lcs: Iterable[LightCurve] | LightCurveSet) -> dict[str, Any]:
        """Maps of many curves, equal to :meth:`transform` on each; light-curve counts in threads.

        A :class:`~skyclass.lightcurve.LightCurveSet` is read from its flat arrays
        without building a :class:`LightCurve` per object.

        Examples
        --------
        >>> lcs = [LightCurve(time=[0.0, 1.0], mag=[1.0, 1.5], err=[0.1, 0.1], band="V", id="a"),
        ...        LightCurve(time=[0.0], mag=[1.0], err=[0.1], band="V", id="b")]
        >>> out = DmDt().transform_many(lcs)
        >>> out["dmdt"].shape, out["valid"].tolist(), list(out["errors"])
        ((2, 1, 22, 23), [True, False], ['b'])
        """
        shape = self.output_shapes()["dmdt"]
        all_channels, valid, errors = prepare_each(
            lcs, lambda curve: _split_bands(curve, self.bands)
        )
        out = np.zeros((valid.size, *shape), dtype=np.float32)
        if all_channels:
            out[valid] = self._maps(all_channels)
        return {"dmdt": out, "valid": valid, "errors": errors}

    # ------------------------------------------------------------ counting
    def _maps(self, curves: list[list[tuple[np.ndarray, np.ndarray] | None]]) -> np.ndarray:
        """Normalised maps ``(n_curves, n_bands, n_dm, n_dt)`` float32 from per-band arrays."""
        n_dm, n_dt = self.dm_edges.size - 1, self.dt_edges.size - 1
        todo = [(c, b, tm) for c, chans in enumerate(curves) for b, tm in enumerate(chans) if tm]
        counts = self._count([tm for _, _, tm in todo])
        out = np.zeros((len(curves), len(curves[0]), n_dm, n_dt), dtype=np.float32)
        normalise = NORMS[self.norm]
        for (c, b, (t, _)), cnt in zip(todo, counts, strict=True):
            out[c, b] = normalise(cnt, t.size * (t.size - 1) // 2)
        return out

    def _count(self, bands: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """Pair counts ``(n_dm, n_dt)`` float64 of each sorted single-band (t, m)."""
        if not bands:
            return []
        if self.backend == "numpy":
            return [
                _counts_numpy(t, m, self.dt_edges, self.dm_edges, self.absolute_dm)
                for t, m in bands
            ]
        dmdt = self._light_curve_dmdt()
        if len(bands) == 1:
            maps = [dmdt.points(*bands[0], sorted=True)]
        else:
            maps = dmdt.points_many(bands, sorted=True)
        return [np.asarray(m, dtype=np.float64).T for m in maps]  # light-curve: (dt, dm)

    def _light_curve_dmdt(self) -> Any:
        if self._lc_dmdt is None:
            self._lc_dmdt = _light_curve_module().DmDt(
                dt=self.dt_edges, dm=self.dm_edges, dt_type="asis", dm_type="asis"
            )
        return self._lc_dmdt

    def __repr__(self) -> str:
        _, n_dm, n_dt = self.output_shapes()["dmdt"]
        return (
            f"DmDt(n_dm={n_dm}, n_dt={n_dt}, absolute_dm={self.absolute_dm}, bands={self.bands}, "
            f"norm={self.norm!r}, backend={self.backend!r})"
        )


def _check_edges(edges: Sequence[float], what: str) -> np.ndarray:
    arr = np.array(edges, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2 or not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
        raise ValueError(f"{what} must be at least two finite, strictly ascending values")
    arr.setflags(write=False)
    return arr


def _split_bands(
    curve: CurveArrays, bands: tuple[str, ...] | None
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """(t, m) of each channel (None where fewer than two epochs); raises DataError."""
    if curve.meta.get("time_ref") == "phase":
        raise DataError(
            "the curve is phase-folded; dm–dt maps need the original times", **curve.where()
        )
    if bands is None:
        if not curve.single_band():
            raise DataError(
                f"the curve has bands {curve.band_list()}; pass DmDt(bands=...) to make one "
                "channel per band",
                **curve.where(),
            )
        channels = [(curve.time, curve.mag)]
    else:
        channels = []
        for name in bands:
            keep = curve.mask(name)
            channels.append((curve.time[keep], curve.mag[keep]))
    out: list[tuple[np.ndarray, np.ndarray] | None] = [
        (np.ascontiguousarray(t), np.ascontiguousarray(m)) if t.size >= 2 else None
        for t, m in channels
    ]
    if not any(out):
        wanted = "its band" if bands is None else f"any of the bands {list(bands)}"
        raise DataError(f"fewer than two epochs in {wanted}: no pair to histogram", **curve.where())
    return out
