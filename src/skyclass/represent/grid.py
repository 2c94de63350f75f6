"""Folded curves on a fixed phase grid, from the photometry or from catalogue parameters.

:class:`FoldedGrid` folds a curve on its period and resamples it to ``n`` phases
(akhmetali2025: 512 points by interpolation), one row per band. :class:`HarmonicGrid`
never reads the photometry: it rebuilds the curve from a catalogue's Fourier
parameters (carraro2025: amplitude, R21, φ21 sampled at 360 phases), and
:meth:`HarmonicGrid.transform_table` does a whole catalogue at once.

Normalisation, per paper: akhmetali2025 feeds the interpolated magnitudes as they
are (its Figure 1 normalises "for clarity" only), so ``normalize=None``;
carraro2025 keeps magnitudes too (offset M = the mean r magnitude); monti2024
subtracts the mean magnitude, which is ``normalize="center"`` (its full input is
:class:`~skyclass.represent.sequence.PhaseSequence`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve
from skyclass.preprocess.fold import align_maximum, fold
from skyclass.preprocess.fourier import reconstruct_many
from skyclass.preprocess.resample import METHODS, resample_bands
from skyclass.represent._shared import check_bands, check_length, fixed_bands
from skyclass.represent.base import Representation, period_of

__all__ = ["NORMALIZE", "FoldedGrid", "HarmonicGrid"]


def _minmax(row: np.ndarray) -> np.ndarray:
    return (row - row.min()) / (float(np.ptp(row)) or 1.0)


def _standard(row: np.ndarray) -> np.ndarray:
    return (row - row.mean()) / (float(np.std(row)) or 1.0)


def _center(row: np.ndarray) -> np.ndarray:
    return row - row.mean()


#: Per-band normalisations of a grid row (over all ``n`` points of the row); a
#: constant row becomes zeros. ``"minmax"`` maps the row to [0, 1] (0 = brightest),
#: ``"standard"`` to zero mean and unit standard deviation, ``"center"`` to zero mean.
NORMALIZE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "minmax": _minmax,
    "standard": _standard,
    "center": _center,
}


class FoldedGrid(Representation):
    """A folded curve resampled to ``n`` phases, one row per band (akhmetali2025).

    Parameters
    ----------
    n : int
        Grid points over the folded range, at ``(i + 0.5) / n`` (akhmetali2025: 512).
    method : {"linear", "spline", "bin"}
        Resampling (:data:`~skyclass.preprocess.resample.METHODS`); akhmetali2025
        interpolates linearly.
    align : bool
        Put maximum light at phase 0 (a Fourier fit of ``align_band``), as
        monti2024 does; akhmetali2025 folds from an arbitrary epoch (``False``).
    cycles : int
        Fold on ``cycles × period``; 2 keeps primary and secondary eclipses apart.
    normalize : {"minmax", "standard", "center"} or None
        Per-band normalisation of each row (:data:`NORMALIZE`); None keeps
        magnitudes, as akhmetali2025 does.
    bands : sequence of str, optional
        The rows, in order, fixed for every curve; a curve missing a band gets a
        zero row and a zero mask row. Default: the single band of each curve (a
        multi-band curve then raises :class:`DataError`).
    align_band : str, optional
        Band whose maximum sets phase 0; default the first of ``bands`` the curve has.
    max_gap : float, optional
        Mask grid points further than this from any observed phase (see
        :func:`~skyclass.preprocess.resample.resample`).
    n_harmonics : int or "auto"
        Harmonics of the Fourier fit used by ``align``.

    Notes
    -----
    A curve that is already folded (``meta["time_ref"] == "phase"``) is resampled
    as it is, on its own ``folded_cycles``, and needs no period; it cannot be
    aligned. ``grid_mask`` is 1.0 where the value rests on nearby data.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 20, 400)
    >>> lc = LightCurve(time=t, mag=12 + 0.5 * np.sin(2 * np.pi * t / 0.8),
    ...                 err=np.full(400, 0.01), band="g", meta={"period": 0.8})
    >>> out = FoldedGrid(n=64, normalize="minmax").transform(lc)
    >>> out["grid"].shape, float(out["grid"].min()), float(out["grid"].max())
    ((1, 64), 0.0, 1.0)
    """

    name = "grid"
    needs_period = True

    def __init__(
        self,
        *,
        n: int = 512,
        method: str = "linear",
        align: bool = False,
        cycles: int = 1,
        normalize: Literal["minmax", "standard", "center"] | None = None,
        bands: Sequence[str] | None = None,
        align_band: str | None = None,
        max_gap: float | None = None,
        n_harmonics: int | Literal["auto"] = "auto",
    ):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {sorted(METHODS)}")
        if normalize is not None and normalize not in NORMALIZE:
            raise ValueError(
                f"unknown normalize {normalize!r}; choose one of {sorted(NORMALIZE)} or None"
            )
        self.n = check_length("n", n)
        self.method = method
        self.align = bool(align)
        self.cycles = check_length("cycles", cycles)
        self.normalize = normalize
        self.bands = check_bands("bands", bands)
        self.align_band = align_band
        self.max_gap = max_gap
        self.n_harmonics = (
            n_harmonics if n_harmonics == "auto" else check_length("n_harmonics", n_harmonics)
        )

    def __repr__(self) -> str:
        return (
            f"FoldedGrid(n={self.n}, method={self.method!r}, align={self.align}, "
            f"cycles={self.cycles}, normalize={self.normalize!r}, bands={self.bands!r})"
        )

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """``grid`` and ``grid_mask``, both ``(n_bands, n)``."""
        rows = 1 if self.bands is None else len(self.bands)
        return {"grid": (rows, self.n), "grid_mask": (rows, self.n)}

    def _fold(self, lc: LightCurve, rows: Sequence[str]) -> LightCurve:
        if lc.meta.get("time_ref") == "phase":
            if self.align:
                raise DataError(
                    "the curve is already folded, so it cannot be aligned; pass align=False "
                    "or give the unfolded curve",
                    source=lc.meta.get("source"),
                    object_id=lc.id or None,
                )
            return lc
        period = period_of(lc)
        if not self.align:
            return fold(lc, period, cycles=self.cycles)
        band = self.align_band or next(b for b in rows if b in lc.bands)
        return align_maximum(
            lc, period, n_harmonics=self.n_harmonics, band=band, cycles=self.cycles
        )

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """``grid`` and ``grid_mask`` of one curve.

        Raises
        ------
        DataError
            Without a usable period (an unfolded curve), with several bands and no
            ``bands``, with no epoch in any of ``bands``, or with too few points for
            the method or the alignment fit.
        """
        rows = fixed_bands(lc, self.bands, "bands")
        folded = self._fold(lc, rows)
        values, mask = resample_bands(
            folded, rows, self.n, method=self.method, max_gap=self.max_gap
        )
        if self.normalize is not None:
            normalise = NORMALIZE[self.normalize]
            present = set(folded.bands)
            for i, name in enumerate(rows):
                if name in present:
                    values[i] = normalise(values[i].astype(np.float64))
        return {"grid": values.astype(np.float32), "grid_mask": mask.astype(np.float32)}


#: Catalogue fields of :class:`HarmonicGrid`, in the names :func:`reconstruct_many` reads.
_REQUIRED = ("amplitude", "R21", "phi21")


class HarmonicGrid(Representation):
    """A curve rebuilt from catalogue Fourier parameters, on ``n`` phases (carraro2025).

    ``m(φ) = M + Σ A_k cos(2πkφ + φ_k)`` with the amplitude taken as the
    *peak-to-peak* amplitude of the first harmonic, so ``A_1 = amplitude / 2``,
    ``φ_1 = 0``, ``A_2 = R21·A_1``, ``φ_2 = φ21`` (and ``A_3 = R31·A_1``,
    ``φ_3 = φ31`` with ``third_harmonic=True``); see
    :func:`~skyclass.preprocess.fourier.reconstruct`. The photometry is never
    read: only the parameters in ``lc.meta`` (one object's catalogue row).

    Parameters
    ----------
    n : int
        Phases ``i / n`` sampled in [0, 1) (carraro2025: 360).
    with_mean : bool
        Add the mean magnitude M (field ``mean``). The thesis sets M = rmag; the
        default keeps the shape only, as a classifier of apparent-magnitude-free
        shape should. Set it to reproduce the thesis.
    third_harmonic : bool
        Also use R31 and φ31 (the thesis uses two harmonics).
    columns : mapping of str to str, optional
        Catalogue names of the fields, e.g. ``{"amplitude": "Amp_r", "mean": "rmag"}``;
        fields not listed are read under their own names (``amplitude``, ``R21``,
        ``phi21``, ``R31``, ``phi31``, ``mean``).

    Notes
    -----
    A row is invalid when a field it needs is missing or not finite, or the
    amplitude is not positive (the thesis drops those rows).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"id": ["a", "b"], "Amp": [0.8, float("nan")],
    ...                       "R21": [0.0, 0.3], "phi21": [0.0, 1.0]})
    >>> out = HarmonicGrid(n=4, columns={"amplitude": "Amp"}).transform_table(table)
    >>> out["grid"].shape, out["valid"].tolist(), list(out["errors"])
    ((2, 1, 4), [True, False], ['b'])
    >>> [round(float(v), 6) for v in out["grid"][0, 0]]
    [0.4, 0.0, -0.4, -0.0]
    """

    name = "harmonic_grid"

    def __init__(
        self,
        *,
        n: int = 360,
        with_mean: bool = False,
        third_harmonic: bool = False,
        columns: Mapping[str, str] | None = None,
    ):
        self.n = check_length("n", n)
        self.with_mean = bool(with_mean)
        self.third_harmonic = bool(third_harmonic)
        self.columns = dict(columns or {})
        fields = [*_REQUIRED]
        if self.third_harmonic:
            fields += ["R31", "phi31"]
        if self.with_mean:
            fields.append("mean")
        unknown = set(self.columns) - {*_REQUIRED, "R31", "phi31", "mean"}
        if unknown:
            raise ValueError(f"columns names unknown fields {sorted(unknown)}; known: {fields}")
        self._fields = tuple(fields)

    def __repr__(self) -> str:
        return (
            f"HarmonicGrid(n={self.n}, with_mean={self.with_mean}, "
            f"third_harmonic={self.third_harmonic}, columns={self.columns!r})"
        )

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """``grid``, ``(1, n)``."""
        return {"grid": (1, self.n)}

    def _source(self, field: str) -> str:
        return self.columns.get(field, field)

    def _reason(self, values: Mapping[str, float]) -> str | None:
        """Why one row cannot be rebuilt, or None."""
        bad = [self._source(f) for f in self._fields if not np.isfinite(values[f])]
        if bad:
            return (
                f"catalogue values {bad} are missing or not finite; a harmonic grid needs "
                f"{[self._source(f) for f in self._fields]} (map names with columns=)"
            )
        if values["amplitude"] <= 0:
            return f"the amplitude ({self._source('amplitude')}) is not positive"
        return None

    def _grid(self, arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the grid (N, 1, n) and which rows are valid, from field arrays."""
        valid = np.ones(arrays["amplitude"].shape, bool)
        for f in self._fields:
            valid &= np.isfinite(arrays[f])
        valid &= np.where(valid, arrays["amplitude"], 1.0) > 0
        # zero inputs make the zero curve: invalid rows come out as zeros with no NaN
        table = {f: np.where(valid, arrays[f], 0.0) for f in self._fields}
        grid = reconstruct_many(table, n_phases=self.n)
        return grid[:, None, :], valid

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """``grid`` (1, n) from the catalogue values in ``lc.meta``.

        Raises
        ------
        DataError
            If a needed value is missing or not finite, or the amplitude is not positive.
        """
        values: dict[str, float] = {}
        for f in self._fields:
            raw = lc.meta.get(self._source(f))
            try:
                values[f] = float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                values[f] = float("nan")
        reason = self._reason(values)
        if reason:
            raise DataError(reason, source=lc.meta.get("source"), object_id=lc.id or None)
        grid, _ = self._grid({f: np.array([v]) for f, v in values.items()})
        return {"grid": grid[0]}

    def transform_table(self, table: pd.DataFrame | Mapping[str, Any]) -> dict[str, Any]:
        """Grids of a whole catalogue in one vectorised pass.

        Parameters
        ----------
        table : DataFrame or mapping of str to array_like
            One row per object with the fields (under the names in ``columns``), and
            optionally ``id``. A ``LightCurveSet``'s ``objects`` table works.

        Returns
        -------
        dict
            ``grid`` (float32, ``(N, 1, n)``, zeros for invalid rows), ``valid``
            (bool, ``(N,)``) and ``errors`` (id, or row position without an ``id``
            column, → reason), as :meth:`transform_many` gives; valid rows equal
            :meth:`transform` of the same values.

        Raises
        ------
        DataError
            If a needed column is absent from the table.
        """
        missing = [self._source(f) for f in self._fields if self._source(f) not in table]
        if missing:
            raise DataError(
                f"the table has no columns {missing} (it has {list(table.keys())}); "
                "map the catalogue's names with columns= or pass with_mean=False / "
                "third_harmonic=False"
            )
        arrays = {
            f: pd.to_numeric(
                pd.Series(np.asarray(table[self._source(f)]).ravel()), errors="coerce"
            ).to_numpy(np.float64)
            for f in self._fields
        }
        grid, valid = self._grid(arrays)
        ids = (
            [str(i) for i in np.asarray(table["id"]).ravel()]
            if "id" in table
            else [str(i) for i in range(valid.size)]
        )
        errors: dict[str, str] = {}
        for i in np.flatnonzero(~valid):
            reason = self._reason({f: arrays[f][i] for f in self._fields})
            errors[ids[i]] = reason or "invalid row"
        return {"grid": grid, "valid": valid, "errors": errors}
