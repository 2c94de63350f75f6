"""Classical baselines the deep models are measured against, on the same inputs and folds.

``FeatureForest`` is a random forest (scikit-learn) on the numeric features of
:class:`~skyclass.represent.NumericFeatures` — the period, amplitudes, Fourier
ratios, colours and ``light-curve`` extractors — the baseline the papers'
networks are usually compared with; ``FeatureForestRegressor`` is the same forest
for a numeric target (e.g. [Fe/H]). :data:`BASELINES` names them by task, so a
run configuration can ask for ``model="feature_forest"`` like any registered model.

A fitted forest is saved like a network (:meth:`FeatureForest.save`): every
tree's node arrays in ``weights.safetensors``, the rest in JSON, checked against
the card's SHA-256 on loading and never unpickled, so ``skyclass predict`` takes
the ``model/`` folder of a forest's run as it takes a network's.

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

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError, MissingDependencyError, NotFittedError
from skyclass.lightcurve import LightCurveSet

__all__ = [
    "BASELINES",
    "FeatureForest",
    "FeatureForestRegressor",
    "forest_from_arrays",
    "forest_to_arrays",
]


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
        (:func:`~skyclass.preprocess.period.fill_periods`): the set's ``period`` column,
        searched where it is missing; the column only; or always searched.
    period_options : dict, optional
        Settings of :class:`skyclass.preprocess.period.PeriodConfig`.
    random_state : int
        Seeds the forest.

    Examples
    --------
    A saved forest predicts exactly what the fitted one does:

    >>> import tempfile
    >>> from skyclass import LightCurve, LightCurveSet
    >>> rng = np.random.default_rng(0)
    >>> curves = [LightCurve(time=np.arange(30.0), mag=rng.normal(15, .1 * (1 + i % 2), 30),
    ...                      err=np.full(30, .05), band="V", id=str(i)) for i in range(20)]
    >>> s = LightCurveSet.from_lightcurves(curves, labels=["quiet", "loud"] * 10)
    >>> forest = FeatureForest(features={"features": ["amplitude"], "amplitude": "percentile"},
    ...                        n_estimators=10).fit(s)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     again = FeatureForest.load(forest.save(tmp))
    >>> np.array_equal(again.predict_proba(s), forest.predict_proba(s))
    True
    >>> list(again.predict_table(s).columns)
    ['object_id', 'predicted', 'prob_loud', 'prob_quiet', 'error']
    """

    task: ClassVar[str] = "classification"

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

    def _features(self, lcs: LightCurveSet) -> tuple[np.ndarray, dict[str, str]]:
        """The forest's input (NaN where a feature is missing) and why objects were not
        represented (id -> reason)."""
        from skyclass.preprocess.period import fill_periods

        missing = sorted(set(self.feature_options_.get("bands") or ()) - set(lcs.bands))
        if missing:  # their features would all be missing: refused, as the networks do
            raise DataError(
                f"the forest was trained on bands {list(self.feature_options_['bands'])} but "
                f"this set lacks {missing}; give it curves in those bands"
            )
        lcs = fill_periods(lcs, period=self.period, options=self.period_options)
        out = self.representation_.transform_many(lcs)
        x = out["features"].astype(np.float64)
        x[out["features_mask"] == 0] = np.nan  # the forest's own missing-value handling
        return x, dict(out["errors"])

    def _matrix(self, lcs: LightCurveSet) -> np.ndarray:
        return self._features(lcs)[0]

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
        self.feature_options_ = options
        self.representation_ = NumericFeatures(**options)
        forest = getattr(ensemble, f"RandomForest{kind}")
        self.forest_ = forest(
            n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=1
        ).fit(self._matrix(lcs), target)
        self.fit_report_ = {
            "n_train": len(lcs),
            "bands": list(options["bands"]),
            "n_trees": len(self.forest_.estimators_),
            "n_nodes": self.n_nodes_,
        }

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
        return self._proba(self._matrix(lcs))

    def _proba(self, x: np.ndarray) -> np.ndarray:
        proba = self.forest_.predict_proba(x)
        order = [list(self.forest_.classes_).index(c) for c in self.classes_]
        return proba[:, order]

    def predict_table(self, lcs: LightCurveSet) -> pd.DataFrame:
        """One row per object: ``object_id``, ``predicted``, ``prob_<class>`` per class and
        ``error`` (why an object has no prediction), as the networks' tables."""
        if not hasattr(self, "forest_"):
            raise NotFittedError("this FeatureForest is not fitted yet; call fit() first")
        x, errors = self._features(lcs)
        proba = self._proba(x)
        ids = lcs.ids.astype(str)
        failed = np.array([i in errors for i in ids], dtype=bool)
        proba[failed] = np.nan
        predicted = np.asarray(self.classes_, dtype=object)[proba.argmax(axis=1)]
        predicted[failed] = None
        table = pd.DataFrame({"object_id": ids, "predicted": predicted})
        for j, name in enumerate(self.classes_):
            table[f"prob_{name}"] = proba[:, j]
        table["error"] = [errors.get(i, "") for i in ids]
        return table

    # ------------------------------------------------------- persistence
    def _preprocessing(self) -> dict[str, Any]:
        return {
            "estimator": type(self).__name__,
            "task": self.task,
            "features": self.feature_options_,
            "n_estimators": self.n_estimators,
            "period": self.period,
            "period_options": dict(self.period_options or {}),
            "random_state": self.random_state,
            "calibration": None,
        }

    def save(
        self, directory: str | PathLike[str], *, card: Mapping[str, Any] | None = None
    ) -> Path:
        """Write the model directory: the trees' arrays in safetensors, the rest in JSON.

        Nothing is pickled; :meth:`load` rebuilds the scikit-learn forest from the
        arrays, and ``skyclass predict`` reads the directory as a network's.

        Returns
        -------
        pathlib.Path
            The directory.
        """
        import sklearn

        from skyclass.models.io import save_arrays

        if not hasattr(self, "forest_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")
        arrays, spec = forest_to_arrays(self.forest_)
        full_card = {"fit": getattr(self, "fit_report_", {}), **dict(card or {})}
        return save_arrays(
            arrays,
            directory,
            config={"name": "feature_forest", **spec},
            class_names=list(self.classes_) if self.task == "classification" else None,
            preprocessing=self._preprocessing(),
            card=json.loads(json.dumps(full_card, default=str)),
            provenance={"sklearn_version": sklearn.__version__},
            overwrite=True,
        )

    @classmethod
    def load(cls, directory: str | PathLike[str]):
        """Rebuild a fitted forest from :meth:`save`'s directory (checked, never unpickled)."""
        from skyclass.models.io import load_arrays
        from skyclass.represent import NumericFeatures

        arrays, info = load_arrays(directory)
        prep = info["preprocessing"]
        if not isinstance(prep, dict) or prep.get("estimator") != cls.__name__:
            found = prep.get("estimator") if isinstance(prep, dict) else None
            raise DataError(
                f"holds a {found or 'model of another kind'}, not a {cls.__name__}; load it "
                "with its own class",
                source=str(directory),
            )
        est = cls(
            features=prep["features"],
            n_estimators=prep["n_estimators"],
            period=prep["period"],
            period_options=prep["period_options"],
            random_state=prep["random_state"],
        )
        est.forest_ = forest_from_arrays(arrays, info["config"], source=str(directory))
        est.feature_options_ = prep["features"]
        est.representation_ = NumericFeatures(**prep["features"])
        if cls.task == "classification":
            est.classes_ = tuple(info["class_names"])
        est.fit_report_ = (info.get("card") or {}).get("fit", {})
        return est


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

    task: ClassVar[str] = "regression"

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

    def predict_table(self, lcs: LightCurveSet) -> pd.DataFrame:
        """One row per object: ``object_id``, ``predicted`` (the value) and ``error``."""
        if not hasattr(self, "forest_"):
            raise NotFittedError("this FeatureForestRegressor is not fitted yet; call fit() first")
        x, errors = self._features(lcs)
        ids = lcs.ids.astype(str)
        predicted = self.forest_.predict(x)
        predicted[np.array([i in errors for i in ids], dtype=bool)] = np.nan
        return pd.DataFrame(
            {"object_id": ids, "predicted": predicted, "error": [errors.get(i, "") for i in ids]}
        )


#: The classical baselines a run can name as its ``model``: name -> {task: class}.
BASELINES: dict[str, dict[str, type[FeatureForest]]] = {
    "feature_forest": {
        "classification": FeatureForest,
        "regression": FeatureForestRegressor,
    },
}


# ------------------------------------------------------------ forests as arrays
def forest_to_arrays(forest: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A fitted scikit-learn random forest as numeric arrays plus a JSON-able description.

    Each tree's state (``Tree.__getstate__``: the node table, the leaf values, the
    depth) is laid end to end over the trees: ``node_<field>`` holds one field of
    the node table, ``value`` the values, ``tree_node_count``, ``tree_max_depth``
    and ``tree_random_state`` one entry per tree. :func:`forest_from_arrays` is the
    inverse.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(30, 2)), np.array(["a", "b"] * 15)
    >>> forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
    >>> arrays, spec = forest_to_arrays(forest)
    >>> again = forest_from_arrays(arrays, spec)
    >>> np.array_equal(again.predict_proba(x), forest.predict_proba(x))
    True
    """
    from sklearn.tree._tree import NODE_DTYPE

    trees = [t.tree_ for t in forest.estimators_]
    states = [t.__getstate__() for t in trees]
    first = forest.estimators_[0]
    arrays: dict[str, np.ndarray] = {
        f"node_{name}": np.concatenate([st["nodes"][name] for st in states])
        for name in NODE_DTYPE.names
    }
    arrays["value"] = np.concatenate([st["values"] for st in states])
    arrays["tree_node_count"] = np.array([st["node_count"] for st in states], dtype=np.int64)
    arrays["tree_max_depth"] = np.array([st["max_depth"] for st in states], dtype=np.int64)
    arrays["tree_random_state"] = np.array(
        [t.random_state for t in forest.estimators_], dtype=np.int64
    )
    spec = {
        "sklearn_class": type(forest).__name__,
        "params": forest.get_params(deep=False),
        "n_features": int(forest.n_features_in_),
        "n_outputs": int(forest.n_outputs_),
        "n_classes": [int(k) for k in trees[0].n_classes],
        "max_features": int(first.max_features_),
        "classes": forest.classes_.tolist() if hasattr(forest, "classes_") else None,
        "node_fields": list(NODE_DTYPE.names),
    }
    return arrays, spec


def forest_from_arrays(
    arrays: Mapping[str, np.ndarray], spec: Mapping[str, Any], *, source: str | None = None
) -> Any:
    """The scikit-learn forest :func:`forest_to_arrays` describes, ready to predict.

    Raises
    ------
    DataError
        The arrays do not describe a forest this scikit-learn can rebuild (another
        version's node layout, a missing or misshapen array); ``source`` names the file.
    """
    from sklearn import ensemble, tree
    from sklearn.tree._tree import NODE_DTYPE, Tree

    where = None if source is None else str(Path(source) / "weights.safetensors")
    kinds = {"RandomForestClassifier": "DecisionTreeClassifier",
             "RandomForestRegressor": "DecisionTreeRegressor"}  # fmt: skip
    kind = spec.get("sklearn_class")
    if kind not in kinds:
        raise DataError(
            f"describes a {kind!r}, not one of {sorted(kinds)}; save the model again",
            source=where,
        )
    if list(spec.get("node_fields") or ()) != list(NODE_DTYPE.names):
        raise DataError(
            f"the trees were saved with node fields {spec.get('node_fields')}, and this "
            f"scikit-learn's are {list(NODE_DTYPE.names)}; save the model again with it",
            source=where,
        )
    try:
        forest = getattr(ensemble, kind)(**spec["params"])
        estimator = getattr(tree, kinds[kind])
        n_features, n_outputs = int(spec["n_features"]), int(spec["n_outputs"])
        n_classes = np.asarray(spec["n_classes"], dtype=np.intp)
        counts = np.asarray(arrays["tree_node_count"], dtype=np.int64)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        tree_params = {p: spec["params"][p] for p in forest.estimator_params}
        estimators = []
        for k in range(counts.size):
            rows = slice(int(bounds[k]), int(bounds[k + 1]))
            nodes = np.zeros(int(counts[k]), dtype=NODE_DTYPE)
            for name in NODE_DTYPE.names:
                nodes[name] = arrays[f"node_{name}"][rows]
            state = Tree(n_features, n_classes, n_outputs)
            state.__setstate__({
                "max_depth": int(arrays["tree_max_depth"][k]),
                "node_count": int(counts[k]),
                "nodes": nodes,
                "values": np.ascontiguousarray(arrays["value"][rows], dtype=np.float64),
            })  # fmt: skip
            one = estimator(**{**tree_params, "random_state": int(arrays["tree_random_state"][k])})
            one.tree_, one.n_features_in_, one.n_outputs_ = state, n_features, n_outputs
            one.max_features_ = int(spec["max_features"])
            if kind == "RandomForestClassifier":
                # the trees of a forest learn class indices, as floats
                one.classes_ = np.arange(n_classes[0], dtype=np.float64)
                one.n_classes_ = int(n_classes[0])
            estimators.append(one)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DataError(
            f"does not describe a forest ({type(exc).__name__}: {exc}); save the model again",
            source=where,
        ) from None
    forest.estimator_ = estimator()
    forest.estimators_ = estimators
    forest.n_features_in_, forest.n_outputs_ = n_features, n_outputs
    if kind == "RandomForestClassifier":
        forest.classes_ = np.asarray(spec["classes"])
        forest.n_classes_ = int(n_classes[0])
    return forest
