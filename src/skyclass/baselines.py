"""Classical baselines the deep models are measured against, on the same inputs and folds.

``FeatureForest`` is a random forest (scikit-learn) on the numeric features of
:class:`~skyclass.represent.NumericFeatures` — the period, amplitudes, Fourier
ratios, colours and ``light-curve`` extractors — the baseline the papers'
networks are usually compared with; ``FeatureForestRegressor`` is the same forest
for a numeric target (e.g. [Fe/H]). :data:`BASELINES` names them by task, so a
run configuration can ask for ``model="feature_forest"`` like any registered model.

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

from skyclass.exceptions import DataError, MissingDependencyError, NotFittedError
from skyclass.lightcurve import LightCurveSet

__all__ = ["BASELINES", "FeatureForest", "FeatureForestRegressor"]


class FeatureForest:
    """Random forest on numeric features of each curve.

    Parameters
    ----------
    features : dict, optional
        Options of :class:`~skyclass.represent.NumericFeatures` (default: every
        built-in feature, per band of the training set).
    n_estimators : int
        Trees in the forest.
    period : {"auto", "column", "search"}
        Where the period features get periods, as for the networks
        (:func:`~skyclass.estimator.fill_periods`): the set's ``period`` column,
        searched where it is missing; the column only; or always searched.
    period_options : dict, optional
        Settings of :class:`skyclass.preprocess.period.PeriodConfig`.
    random_state : int
        Seeds the forest.
    """

    def __init__(
        self,
        *,
        features: Mapping[str, Any] | None = None,
        n_estimators: int = 500,
        period: str = "auto",
        period_options: Mapping[str, Any] | None = None,
        random_state: int = 0,
    ):
        self.features = features
        self.n_estimators = n_estimators
        self.period = period
        self.period_options = period_options
        self.random_state = random_state

    def _matrix(self, lcs: LightCurveSet) -> np.ndarray:
        from skyclass.estimator import fill_periods

        lcs = fill_periods(lcs, period=self.period, options=self.period_options)
        out = self.representation_.transform_many(lcs)
        x = out["features"].astype(np.float64)
        x[out["features_mask"] == 0] = np.nan  # the forest's own missing-value handling
        return x

    def _fit_forest(self, lcs: LightCurveSet, target: np.ndarray, kind: str) -> None:
        try:
            from sklearn import ensemble
        except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
            raise MissingDependencyError(
                "scikit-learn", purpose="the random-forest baseline"
            ) from exc
        from skyclass.represent import NumericFeatures

        options = dict(self.features or {})
        options.setdefault("bands", list(lcs.bands))
        self.representation_ = NumericFeatures(**options)
        forest = getattr(ensemble, f"RandomForest{kind}")
        self.forest_ = forest(
            n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=1
        ).fit(self._matrix(lcs), target)

    @property
    def n_nodes_(self) -> int:
        """Nodes in all trees of the fitted forest (its size; a forest has no weights)."""
        if not hasattr(self, "forest_"):
            raise NotFittedError("this forest is not fitted yet; call fit() first")
        return int(sum(tree.tree_.node_count for tree in self.forest_.estimators_))

    def fit(self, lcs: LightCurveSet) -> FeatureForest:
        """Fit on ``lcs`` (labels in its ``label`` column); returns ``self``."""
        labels = np.array([str(x) for x in lcs.labels])
        self.classes_ = tuple(sorted(set(labels)))
        self._fit_forest(lcs, labels, "Classifier")
        return self

    def predict_proba(self, lcs: LightCurveSet) -> np.ndarray:
        """(N, n_classes) probabilities in ``classes_`` order."""
        if not hasattr(self, "forest_"):
            raise NotFittedError("this FeatureForest is not fitted yet; call fit() first")
        proba = self.forest_.predict_proba(self._matrix(lcs))
        order = [list(self.forest_.classes_).index(c) for c in self.classes_]
        return proba[:, order]


class FeatureForestRegressor(FeatureForest):
    """Random-forest regression of a number per curve (``label``) on its numeric features.

    Parameters are those of :class:`FeatureForest`.

    Examples
    --------
    >>> import numpy as np
    >>> from skyclass import LightCurve, LightCurveSet
    >>> rng = np.random.default_rng(1)
    >>> amp = rng.uniform(0.1, 1.0, 20)
    >>> curves = [LightCurve(time=np.arange(30.0), mag=15 + a * np.sin(np.arange(30.0)),
    ...                      err=np.full(30, .01), band="G", id=str(i)) for i, a in enumerate(amp)]
    >>> s = LightCurveSet.from_lightcurves(curves, labels=list(amp))
    >>> f = FeatureForestRegressor(features={"features": ["amplitude"], "amplitude": "percentile"},
    ...                            n_estimators=10).fit(s)
    >>> f.predict(s).shape, f.n_nodes_ > 10
    ((20,), True)
    """

    def fit(self, lcs: LightCurveSet) -> FeatureForestRegressor:
        """Fit on ``lcs`` (numeric targets in its ``label`` column); returns ``self``."""
        target = np.asarray(lcs.labels, dtype=np.float64)
        if not np.isfinite(target).all():
            raise DataError(
                "regression targets must be finite numbers; drop the unlabelled objects first"
            )
        self._fit_forest(lcs, target, "Regressor")
        return self

    def predict(self, lcs: LightCurveSet) -> np.ndarray:
        """Predicted value per object."""
        if not hasattr(self, "forest_"):
            raise NotFittedError("this FeatureForestRegressor is not fitted yet; call fit() first")
        return self.forest_.predict(self._matrix(lcs))


#: The classical baselines a run can name as its ``model``: name -> {task: class}.
BASELINES: dict[str, dict[str, type[FeatureForest]]] = {
    "feature_forest": {
        "classification": FeatureForest,
        "regression": FeatureForestRegressor,
    },
}
