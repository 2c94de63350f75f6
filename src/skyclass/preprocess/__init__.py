"""Preprocessing of light curves: cleaning, period search, folding, resampling, Fourier fits.

- :mod:`skyclass.preprocess.clean` — error cuts, SuperSmoother and outlier clipping,
  minimum epochs, as pure steps and a configurable :class:`Cleaner`;
- :mod:`skyclass.preprocess.catalogue` — catalogue-level selections (detections,
  FAP, R², label merges, per-class caps) that report what each step removed;
- :mod:`skyclass.preprocess.period` — Lomb–Scargle period search, multi-band,
  refined, with false-alarm probabilities and alias flags;
- :mod:`skyclass.preprocess.fourier` — Fourier-series fits (R21, φ21, ...) and the
  harmonic reconstruction of catalogue parameters;
- :mod:`skyclass.preprocess.fold` — phase folding and alignment on maximum light;
- :mod:`skyclass.preprocess.resample` — folded curves to fixed-length arrays with masks.
"""

from skyclass.preprocess.catalogue import CatalogueFilter, CatalogueFilterConfig, ogle3_classes
from skyclass.preprocess.clean import (
    CleanConfig,
    Cleaner,
    clip_errors,
    clip_outliers,
    clip_supersmoother,
    require_epochs,
)
from skyclass.preprocess.fold import align_maximum, epoch_of_maximum, fold, phase_of
from skyclass.preprocess.fourier import (
    FourierFit,
    fit_fourier,
    fit_fourier_many,
    fourier_features,
    reconstruct,
    reconstruct_many,
)
from skyclass.preprocess.period import PeriodResult, PeriodSearch, find_period, periodogram
from skyclass.preprocess.resample import resample, resample_bands, resample_many

__all__ = [
    "CatalogueFilter",
    "CatalogueFilterConfig",
    "CleanConfig",
    "Cleaner",
    "FourierFit",
    "PeriodResult",
    "PeriodSearch",
    "align_maximum",
    "clip_errors",
    "clip_outliers",
    "clip_supersmoother",
    "epoch_of_maximum",
    "find_period",
    "fit_fourier",
    "fit_fourier_many",
    "fold",
    "fourier_features",
    "ogle3_classes",
    "periodogram",
    "phase_of",
    "reconstruct",
    "reconstruct_many",
    "require_epochs",
    "resample",
    "resample_bands",
    "resample_many",
]
