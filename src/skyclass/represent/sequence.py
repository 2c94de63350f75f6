"""Epoch sequences for recurrent networks: raw epochs (kang2023) and folded epochs (monti2024).

:class:`EpochSequence` gives every epoch as ``(Δt, mag, err)`` in time order, the
input of kang2023's bidirectional GRU. :class:`PhaseSequence` gives a folded curve
as ``(m − ⟨m⟩, phase·P)`` (monti2024, eq. 3), either the folded epochs themselves
or a smoothing spline sampled at fixed phases.

Both pad with a fixed value to a fixed length and return ``mask`` (1.0 on a real
step, 0.0 on padding), so a model never has to guess padding from the values.
A curve longer than the fixed length is cut down by :data:`TRUNCATE` (default
``"even"``: evenly spaced epochs, which keep the whole time span or phase cycle).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve
from skyclass.preprocess.fold import align_maximum, fold
from skyclass.preprocess.resample import resample
from skyclass.represent._shared import check_bands, check_choice, check_length, fixed_bands
from skyclass.represent.base import Representation, period_of

__all__ = ["TRUNCATE", "EpochSequence", "PhaseSequence"]


def _keep_even(n: int, max_len: int) -> np.ndarray:
    # n > max_len, so consecutive positions are more than one apart and stay distinct
    return np.round(np.linspace(0, n - 1, max_len)).astype(np.int64)


def _keep_first(n: int, max_len: int) -> np.ndarray:
    return np.arange(max_len)


def _keep_last(n: int, max_len: int) -> np.ndarray:
    return np.arange(n - max_len, n)


#: How a curve longer than ``max_len`` is cut down: ``f(n, max_len) -> kept positions``.
#: ``"even"`` keeps ``max_len`` evenly spaced epochs (the first and the last among
#: them), so the sequence still spans the whole baseline (or the whole phase cycle);
#: ``"first"`` / ``"last"`` keep the earliest / latest ``max_len`` epochs, which for
#: a multi-season survey can mean one or two seasons only.
TRUNCATE: dict[str, Callable[[int, int], np.ndarray]] = {
    "even": _keep_even,
    "first": _keep_first,
    "last": _keep_last,
}


def _kept(n: int, max_len: int, truncate: str) -> np.ndarray:
    """Positions of the epochs that stay, in order."""
    if n <= max_len:
        return np.arange(n)
    return TRUNCATE[truncate](n, max_len)


def _deltas(time: np.ndarray) -> np.ndarray:
    """Time since the previous epoch; 0 for the first."""
    return np.diff(time, prepend=time[:1]) if time.size else time


class EpochSequence(Representation):
    """Every epoch as ``(Δt, mag, err)``, standardised per curve and padded (kang2023).

    Δt is the time (days) since the previous *kept* epoch, 0 for the first; the
    magnitudes are standardised with the mean and standard deviation (``ddof=0``)
    of the curve's own epochs in that band, ``(m − mean) / std``, and the errors
    are divided by the same std (0 when the survey gives no errors). Statistics
    are taken over all epochs of the band, before any truncation, so cutting a
    long curve does not change the scale of what is kept. A band with a constant
    magnitude (or one epoch) is centred only (std taken as 1).

    Parameters
    ----------
    max_len : int
        Length of the sequence (per band with ``bands="separate"``). kang2023's
        CRTS curves have 100–300 epochs and were zero-padded, never truncated.
    bands : {"merged", "separate"}
        ``"merged"``: all epochs of the bands in ``band_order`` in time order, with a
        one-hot band channel appended when ``band_order`` has more than one band;
        ``seq`` has shape ``(max_len, 3 + n_bands)`` then (``(max_len, 3)`` for one
        band), and Δt is the time since the previous epoch of *any* band.
        ``"separate"``: one ``(Δt, mag, err)`` triple of columns per band in
        ``band_order``, each band's epochs in their own time order from row 0 (rows
        of different bands are not simultaneous), Δt within the band; ``seq`` has
        shape ``(max_len, 3 * n_bands)`` and ``band_mask`` ``(max_len, n_bands)``.
    band_order : sequence of str, optional
        The bands and their order, fixed for every curve. Epochs of other bands are
        ignored; a curve missing a band gets zeros there. Default: the single band
        of each curve (a multi-band curve then raises :class:`DataError`).
    truncate : {"even", "first", "last"}
        How a longer curve is cut to ``max_len`` (:data:`TRUNCATE`). The default
        ``"even"`` keeps evenly spaced epochs: the sequence still covers the whole
        baseline, which a period-driven classifier needs; the Δt are those between
        kept epochs, so they grow by about ``n / max_len``.

    Examples
    --------
    >>> lc = LightCurve(time=[0.0, 1.0, 3.0], mag=[10.0, 11.0, 12.0], err=[0.1, 0.1, 0.2],
    ...                 band="V")
    >>> out = EpochSequence(max_len=4).transform(lc)
    >>> out["seq"].shape, out["mask"].tolist()
    ((4, 3), [1.0, 1.0, 1.0, 0.0])
    >>> out["seq"][:, 0].tolist()
    [0.0, 1.0, 2.0, 0.0]
    """

    name = "sequence"

    def __init__(
        self,
        *,
        max_len: int = 500,
        bands: Literal["merged", "separate"] = "merged",
        band_order: Sequence[str] | None = None,
        truncate: str = "even",
    ):
        self.max_len = check_length("max_len", max_len)
        check_choice("bands", bands, ("merged", "separate"))
        check_choice("truncate", truncate, tuple(TRUNCATE))
        self.bands = bands
        self.truncate = truncate
        self.band_order = check_bands("band_order", band_order)

    def __repr__(self) -> str:
        return (
            f"EpochSequence(max_len={self.max_len}, bands={self.bands!r}, "
            f"band_order={self.band_order!r}, truncate={self.truncate!r})"
        )

    @property
    def _n_bands(self) -> int:
        return 1 if self.band_order is None else len(self.band_order)

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """``seq`` and ``mask`` (plus ``band_mask`` with ``bands="separate"``)."""
        n_bands = self._n_bands
        if self.bands == "separate":
            return {
                "seq": (self.max_len, 3 * n_bands),
                "mask": (self.max_len,),
                "band_mask": (self.max_len, n_bands),
            }
        width = 3 + (n_bands if n_bands > 1 else 0)
        return {"seq": (self.max_len, width), "mask": (self.max_len,)}

    @staticmethod
    def _standardised(lc: LightCurve, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Standardised magnitudes and scaled errors, per band, for every epoch."""
        mag = np.zeros(len(lc))
        err = np.zeros(len(lc))
        for name in names:
            sel = lc.band == name
            if not sel.any():
                continue
            m = lc.mag[sel]
            scale = float(np.std(m)) or 1.0
            mag[sel] = (m - m.mean()) / scale
            if lc.has_errors:
                err[sel] = lc.err[sel] / scale
        return mag, err

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """``seq`` and ``mask`` (and ``band_mask``) of one curve; see the class docstring.

        Raises
        ------
        DataError
            If the curve has several bands and no ``band_order`` was given, or no
            epoch in any band of ``band_order``.
        """
        names = fixed_bands(lc, self.band_order, "band_order")
        mag, err = self._standardised(lc, names)
        shapes = self.output_shapes()
        seq = np.zeros(shapes["seq"], np.float32)
        if self.bands == "separate":
            band_mask = np.zeros(shapes["band_mask"], np.float32)
            for j, name in enumerate(names):
                where = np.flatnonzero(lc.band == name)
                where = where[_kept(where.size, self.max_len, self.truncate)]
                k = where.size
                seq[:k, 3 * j] = _deltas(lc.time[where])
                seq[:k, 3 * j + 1] = mag[where]
                seq[:k, 3 * j + 2] = err[where]
                band_mask[:k, j] = 1.0
            return {"seq": seq, "mask": band_mask.max(axis=1), "band_mask": band_mask}
        where = np.flatnonzero(np.isin(lc.band, names))
        where = where[_kept(where.size, self.max_len, self.truncate)]
        k = where.size
        seq[:k, 0] = _deltas(lc.time[where])
        seq[:k, 1] = mag[where]
        seq[:k, 2] = err[where]
        if len(names) > 1:
            for j, name in enumerate(names):
                seq[:k, 3 + j] = lc.band[where] == name
        mask = np.zeros(self.max_len, np.float32)
        mask[:k] = 1.0
        return {"seq": seq, "mask": mask}


#: monti2024's three data sets; see :class:`PhaseSequence`.
VARIANTS = ("raw", "spline", "full")
#: Where phase zero goes; see :class:`PhaseSequence`.
ALIGNS = ("maximum", "epoch", "none")


class PhaseSequence(Representation):
    """A folded curve as ``(m − ⟨m⟩, phase·P)`` steps (monti2024, eq. 3).

    The curve is folded on ``lc.meta["period"]`` with phase zero at maximum light
    (monti2024 aligns on the epoch of maximum), then given as one of the paper's
    three data sets. As we read its section 3 (and its code's ``isMean`` switch):

    - ``"raw"`` — the folded epochs themselves in phase order, channels
      ``(m − ⟨m⟩, phase·P)`` with ⟨m⟩ the mean of the epochs, padded with
      ``pad_value`` to ``max_len`` (the paper pads with −1 and masks) and masked;
    - ``"spline"`` — a smoothing spline (GCV-chosen smoothing, made periodic, see
      :func:`~skyclass.preprocess.resample.resample`) sampled at ``n_points`` phases
      ``(i + 0.5) / n_points``, *without* the mean-magnitude step of eq. 3: channels
      ``(m, phase·P)`` in apparent magnitudes;
    - ``"full"`` — the same spline with eq. 3 applied, ``(m − ⟨m⟩, phase·P)``, ⟨m⟩
      the mean of the spline over the cycle (not biased by uneven phase coverage).

    The paper's input has these two channels only; ``mean_channel=True`` appends
    ⟨m⟩ as a constant third channel for experiments that want the mean magnitude
    as an input. The paper spline-samples to the largest epoch count in its data
    set; that is a property of other curves, so here ``n_points`` is a parameter.

    Parameters
    ----------
    variant : {"raw", "spline", "full"}
        The data set (above).
    align : {"maximum", "epoch", "none"}
        Phase zero at maximum light from a Fourier fit (``"maximum"``, monti2024),
        at ``lc.meta["epoch"]`` in the curve's own time zero point (``"epoch"``), or
        at the first epoch (``"none"``). A curve that is already folded
        (``meta["time_ref"] == "phase"``) is used as it is and needs ``"none"``.
    max_len : int
        Length of the ``"raw"`` sequence; longer curves keep evenly spaced epochs
        in phase (:data:`TRUNCATE`), so the whole cycle stays covered.
    n_points : int
        Length of the ``"spline"`` and ``"full"`` sequences.
    band : str, optional
        Band to use; required when the curve has several.
    n_harmonics : int or "auto"
        Harmonics of the Fourier fit that locates the maximum.
    pad_value : float
        Value of the padded steps of ``"raw"`` (the mask says which they are).
    mean_channel : bool
        Append ⟨m⟩ as a third channel (not in the paper).
    log_period_channel : bool
        Append ``log10(P)`` as a constant last channel (not in the paper). With
        ``phase_times_period=False`` the network still sees the period, in an input
        of order one, where ``phase·P`` stays under a day for an RR Lyrae star and
        reaches hundreds of days for a Mira.
    phase_times_period : bool
        Second channel ``phase·P`` in days (eq. 3). ``False`` gives the bare phase,
        so an already folded curve without a known period (e.g. Dékány & Grebel's
        binned Gaia curves) can still be represented.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> t = np.sort(rng.uniform(0, 30, 200))
    >>> mag = 15 + 0.3 * np.cos(2 * np.pi * t / 0.6) + rng.normal(0, 0.01, 200)
    >>> lc = LightCurve(time=t, mag=mag, err=np.full(200, 0.01), band="G",
    ...                 meta={"period": 0.6})
    >>> out = PhaseSequence(variant="full", n_points=50).transform(lc)
    >>> out["seq"].shape, float(out["mask"].sum())
    ((50, 2), 50.0)
    >>> int(np.argmin(out["seq"][:, 0])) in (0, 49)  # maximum light at phase 0
    True
    """

    name = "phase_sequence"
    needs_period = True

    def __init__(
        self,
        *,
        variant: Literal["raw", "spline", "full"] = "full",
        align: Literal["maximum", "epoch", "none"] = "maximum",
        max_len: int = 300,
        n_points: int = 100,
        band: str | None = None,
        n_harmonics: int | Literal["auto"] = "auto",
        pad_value: float = -1.0,
        mean_channel: bool = False,
        phase_times_period: bool = True,
        log_period_channel: bool = False,
    ):
        check_choice("variant", variant, VARIANTS)
        check_choice("align", align, ALIGNS)
        self.variant = variant
        self.align = align
        self.max_len = check_length("max_len", max_len)
        self.n_points = check_length("n_points", n_points)
        self.band = band
        self.n_harmonics = (
            n_harmonics if n_harmonics == "auto" else check_length("n_harmonics", n_harmonics)
        )
        self.pad_value = float(pad_value)
        self.mean_channel = bool(mean_channel)
        self.phase_times_period = bool(phase_times_period)
        self.log_period_channel = bool(log_period_channel)

    def __repr__(self) -> str:
        return (
            f"PhaseSequence(variant={self.variant!r}, align={self.align!r}, "
            f"max_len={self.max_len}, n_points={self.n_points}, band={self.band!r})"
        )

    @property
    def _length(self) -> int:
        return self.max_len if self.variant == "raw" else self.n_points

    @property
    def _channels(self) -> int:
        return 2 + self.mean_channel + self.log_period_channel

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        """``seq`` (length, 2 to 4 channels) and ``mask`` (length,)."""
        return {"seq": (self._length, self._channels), "mask": (self._length,)}

    def _folded(self, lc: LightCurve) -> LightCurve:
        lc = lc.one_band(self.band, purpose="a phase sequence")
        where = {"source": lc.meta.get("source"), "object_id": lc.id or None}
        if lc.meta.get("time_ref") == "phase":
            if self.align != "none":
                raise DataError(
                    f"the curve is already folded, so it cannot be aligned with "
                    f"align={self.align!r}; pass align='none' or give the unfolded curve",
                    **where,
                )
            return lc
        period = period_of(lc)
        if self.align == "maximum":
            return align_maximum(lc, period, n_harmonics=self.n_harmonics)
        epoch = None
        if self.align == "epoch":
            try:
                epoch = float(lc.meta.get("epoch"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                epoch = float("nan")
            if not np.isfinite(epoch):
                raise DataError(
                    "align='epoch' needs a finite meta['epoch'] in the curve's time zero "
                    "point; add it or use align='maximum'",
                    **where,
                )
        return fold(lc, period, epoch=epoch)

    def transform(self, lc: LightCurve) -> dict[str, np.ndarray]:
        """``seq`` and ``mask`` of one curve; see the class docstring.

        Raises
        ------
        DataError
            Without a usable period (unless the curve is folded and
            ``phase_times_period=False``), with several bands and no ``band``, when
            the maximum cannot be located, or with too few points for a spline.
        """
        folded = self._folded(lc)
        period = period_of(folded) if self.phase_times_period or self.log_period_channel else 1.0
        scale = period if self.phase_times_period else 1.0
        length = self._length
        seq = np.full((length, self._channels), self.pad_value, np.float32)
        mask = np.zeros(length, np.float32)
        if self.variant == "raw":
            phase = folded.time / float(folded.meta.get("folded_cycles", 1))
            keep = _kept(phase.size, length, "even")
            mag = folded.mag[keep]
            mean = float(folded.mag.mean())
            k = keep.size
            seq[:k, 0] = mag - mean
            seq[:k, 1] = phase[keep] * scale
            mask[:k] = 1.0
        else:
            values, _ = resample(folded, length, method="spline")
            values = values.astype(np.float64)
            mean = float(values.mean())
            k = length
            seq[:, 0] = values - mean if self.variant == "full" else values
            seq[:, 1] = (np.arange(length) + 0.5) / length * scale
            mask[:] = 1.0
        if self.mean_channel:
            seq[:k, 2] = mean
        if self.log_period_channel:
            seq[:k, -1] = np.log10(period)
        return {"seq": seq, "mask": mask}
