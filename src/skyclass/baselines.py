"""Classical baselines the deep models are measured against, on the same inputs and folds.

``FeatureForest`` is a random forest (scikit-learn) on the numeric features of
:class:`~skyclass.represent.NumericFeatures` — the period, amplitudes, Fourier
ratios, colours and ``light-curve`` extractors — the baseline the papers'
networks are usually compared with.

Examples
--------
>>> import numpy as np
>>> from skyclass import LightCurve, LightCurveSet
>>> rng = np.random.default_rng(0)
>>> curves = [LightCurve(time=np.sort(rng.uniform(0, 50, 40)),
...                      mag=rng.normal(15, .1 * (1 + i % 2), 40),
...                      err=np.full(40, .05), band="V", id=str(i)) for i in range(20)]
>>> s = LightCurveSet.from_lightcurves(curves, labels=["quiet", "loud"] * 10)
>>> FeatureForest(features={"features": ["amplitude"], "amplitude": "percentile"},
...               n_estimators=20).fit(s).predict_proba(s).shape
(20, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from skyclass.exceptions import MissingDependencyError, NotFittedError
from skyclass.lightcurve import LightCurveSet

__all__ = ["FeatureForest"]


class FeatureForest:
    """Random forest on numeric features of each curve.

    Parameters
    ----------
    features : dict, optional
        Options of :class:`~skyclass.represent.NumericFeatures` (default: every
        built-in feature, per band of the training set).
    n_estimators : int
        Trees in the forest.
    random_state : int
        Seeds the forest.
    """

    def __init__(
        self,
        *,
        features: Mapping[str, Any] | None = None,
        n_estimators: int = 500,
        random_state: int = 0,
    ):
        self.features = features
        self.n_estimators = n_estimators
        self.random_state = random_state

    def _matrix(self, lcs: LightCurveSet) -> np.ndarray:
        out = self.representation_.transform_many(lcs)
        x = out["features"].astype(np.float64)
        x[out["features_mask"] == 0] = np.nan  # the forest's own missing-value handling
        return x

    def fit(self, lcs: LightCurveSet) -> FeatureForest:
        """Fit on ``lcs`` (labels in its ``label`` column); returns ``self``."""
        try:
            from sklearn.ensemble import RandomForestClassifier
        except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
            raise MissingDependencyError(
                "scikit-learn", purpose="the random-forest baseline"
            ) from exc
        from skyclass.represent import NumericFeatures

        options = dict(self.features or {})
        options.setdefault("bands", list(lcs.bands))
        self.representation_ = NumericFeatures(**options)
        labels = np.array([str(x) for x in lcs.labels])
        self.classes_ = tuple(sorted(set(labels)))
        self.forest_ = RandomForestClassifier(
            n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=1
        ).fit(self._matrix(lcs), labels)
        return self

    def predict_proba(self, lcs: LightCurveSet) -> np.ndarray:
        """(N, n_classes) probabilities in ``classes_`` order."""
        if not hasattr(self, "forest_"):
            raise NotFittedError("this FeatureForest is not fitted yet; call fit() first")
        proba = self.forest_.predict_proba(self._matrix(lcs))
        order = [list(self.forest_.classes_).index(c) for c in self.classes_]
        return proba[:, order]
