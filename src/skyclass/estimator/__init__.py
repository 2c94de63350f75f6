"""scikit-learn-style estimators: representation + model + training in one object.

- :mod:`skyclass.estimator.lightcurve`: :class:`LightCurveClassifier` and
  :class:`LightCurveRegressor` (light curves in, classes or values out);
- :mod:`skyclass.estimator.cutout`: :class:`CutoutClassifier` (image cutouts);
- :mod:`skyclass.estimator.ensemble`: :class:`EnsembleClassifier` (fitted
  members averaged);
- :mod:`skyclass.estimator.base`: what they share (parameters, the fitted check,
  :class:`ModelInputs` from ``transform``, :class:`RawPrediction` from
  ``predict_raw``, :func:`check_options`).
"""

from skyclass.estimator.base import ModelInputs, RawPrediction, check_options
from skyclass.estimator.cutout import CutoutClassifier
from skyclass.estimator.ensemble import EnsembleClassifier
from skyclass.estimator.lightcurve import (
    DEFAULT_REPRESENTATIONS,
    LightCurveClassifier,
    LightCurveRegressor,
)
from skyclass.preprocess.period import fill_periods

__all__ = [
    "DEFAULT_REPRESENTATIONS",
    "CutoutClassifier",
    "EnsembleClassifier",
    "LightCurveClassifier",
    "LightCurveRegressor",
    "ModelInputs",
    "RawPrediction",
    "check_options",
    "fill_periods",
]
