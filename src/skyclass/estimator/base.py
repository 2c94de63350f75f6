"""What every skyclass estimator shares: parameters, the fitted check, the network's outputs.

:class:`NetworkEstimator` is the scikit-learn side (``get_params`` /
``set_params`` from :class:`sklearn.base.BaseEstimator`, so
:func:`sklearn.base.clone` works; :meth:`~NetworkEstimator.check_is_fitted`;
:meth:`~NetworkEstimator.predict_raw`, the network's own outputs for inputs that
a subclass's ``transform`` builds). :class:`ProbabilisticClassifier` adds what
both classifiers do with those outputs: calibration, the unknown-class score,
``predict_proba``, ``predict`` and the prediction table.
:func:`check_options` refuses unknown models, options, training keys and
representations before any data is read.

Examples
--------
>>> from sklearn.base import clone
>>> from skyclass.estimator import LightCurveClassifier
>>> clf = LightCurveClassifier(model="mlp_features", train={"max_epochs": 3})
>>> clone(clf).get_params()["train"]
{'max_epochs': 3}
>>> clf.check_is_fitted()
Traceback (most recent call last):
...
skyclass.exceptions.NotFittedError: this LightCurveClassifier is not fitted yet; call fit() ...
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from skyclass.exceptions import DataError, NotFittedError

__all__ = [
    "SAVED_ESTIMATORS",
    "ModelInputs",
    "NetworkEstimator",
    "ProbabilisticClassifier",
    "RawPrediction",
    "check_options",
    "representation_builder",
    "saved_estimator",
    "top_class",
]

#: Constructor parameters that belong to the session, not to the model: not saved.
SESSION_PARAMS = ("on_epoch_end", "progress", "run_dir")


def check_options(
    model: str,
    model_options: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | Any = None,
    representations: Mapping[str, Any] | None = None,
) -> None:
    """Refuse, before any data is read, a model, option or training key that does not exist.

    Each message names what is wrong and lists the valid choices: the registered
    models, the model's options, the keys of
    :class:`~skyclass.training.TrainConfig`, the representation names and each
    representation's options (read from its signature, or its preset's).

    Raises
    ------
    ValueError
        For an unknown model name, model option, training key or representation
        (its subclass :class:`~skyclass.exceptions.DataError` for a bad training value).

    Examples
    --------
    >>> check_options("mlp_features", {"hidden": [64]}, {"max_epochs": 5})
    >>> check_options("mlp_feature")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'mlp_feature'; choose one of: ...
    >>> check_options("mlp_features", train={"max_epoch": 5})
    Traceback (most recent call last):
    ...
    ValueError: train takes no key 'max_epoch'; its keys are: batch_size, ...
    >>> check_options("foldnet", representations={"grid": {"nn": 64}})
    Traceback (most recent call last):
    ...
    ValueError: representation 'grid' takes no option 'nn'; its options are: n, method, ...
    """
    from skyclass.models.registry import check_model_options
    from skyclass.training import TrainConfig

    check_model_options(model, model_options)
    if train is not None and not isinstance(train, TrainConfig):
        unknown = sorted(set(train) - set(TrainConfig.model_fields))
        if unknown:
            raise ValueError(
                f"train takes no key {', '.join(map(repr, unknown))}; its keys are: "
                f"{', '.join(sorted(TrainConfig.model_fields))}"
            )
        TrainConfig.from_mapping(dict(train), source="train")  # the values
    for name, options in (representations or {}).items():
        representation_builder(name, options or {})


def representation_builder(name: str, options: Mapping[str, Any]) -> Any:
    """The callable that builds representation ``name`` with ``options``, once both are known.

    ``options`` may name a ``preset`` (a class method of the representation, e.g.
    ``DmDt.carraro2025``); the other options are checked against the signature of
    the class or of that preset.

    Raises
    ------
    ValueError
        An unknown representation, preset or option; the message lists the valid ones.

    Examples
    --------
    >>> build = representation_builder("grid", {"n": 64})
    >>> build(n=64).n
    64
    >>> representation_builder("dmdt", {"preset": "carraro"})
    Traceback (most recent call last):
    ...
    ValueError: representation 'dmdt' has no preset 'carraro'; its presets are: carraro2025, ...
    """
    from skyclass.models.registry import check_keywords
    from skyclass.represent import REPRESENTATIONS

    if name not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {name!r}; choose from {sorted(REPRESENTATIONS)}")
    cls = REPRESENTATIONS[name]
    options = dict(options)
    preset = options.pop("preset", None)
    build = cls
    if preset is not None:
        presets = sorted(
            k for k, v in vars(cls).items() if isinstance(v, classmethod) and not k.startswith("_")
        )
        if preset not in presets:
            raise ValueError(
                f"representation {name!r} has no preset {preset!r}; its presets are: "
                f"{', '.join(presets) or 'none'}"
            )
        build = getattr(cls, preset)
    # a preset hands its keywords on to the class: both signatures bound them
    check_keywords(cls, options, f"representation {name!r}")
    check_keywords(build, options, f"representation {name!r} preset {preset!r}")
    return build


class ModelInputs(NamedTuple):
    """What an estimator's ``transform`` gives: the network's inputs for a set of objects.

    Attributes
    ----------
    arrays : dict of str to ndarray
        One stacked array per model input (``seq``, ``mask``, ``grid``, ``features``,
        ``image``...), one row per object, features already scaled.
    valid : ndarray of bool
        Objects that could be represented; the other rows hold no usable input.
    errors : dict of str to str
        Why, per object id, an object could not be represented.

    Examples
    --------
    >>> inputs = ModelInputs({"features": np.zeros((2, 3))}, np.array([True, False]),
    ...                      {"b": "too few epochs"})
    >>> arrays, valid, errors = inputs
    >>> arrays["features"][valid].shape
    (1, 3)
    """

    arrays: dict[str, np.ndarray]
    valid: np.ndarray
    errors: dict[str, str]


def top_class(proba: np.ndarray, classes: Sequence[Any]) -> np.ndarray:
    """The class of highest probability per row; None where a row is not finite.

    Examples
    --------
    >>> top_class(np.array([[0.2, 0.8], [np.nan, np.nan]]), ["a", "b"]).tolist()
    ['b', None]
    """
    out = np.full(len(proba), None, dtype=object)
    ok = np.isfinite(proba).all(axis=1)
    out[ok] = np.asarray(classes, dtype=object)[np.argmax(proba[ok], axis=1)]
    return out


class RawPrediction(NamedTuple):
    """What an estimator's ``predict_raw`` gives: the network's own outputs.

    Attributes
    ----------
    outputs : ndarray
        (N, n_outputs): a classifier's uncalibrated probabilities in ``classes_``
        order, a regressor's values in one column; NaN rows where an object could
        not be represented.
    valid : ndarray of bool
        Objects that could be represented.
    errors : dict of str to str
        Why, per object id, an object has no prediction.
    embedding : ndarray or None
        (N, D) input of the network's output layer, when it was asked for.

    Examples
    --------
    >>> raw = RawPrediction(np.array([[0.8, 0.2], [np.nan, np.nan]]), np.array([True, False]),
    ...                     {"b": "no period"})
    >>> raw.outputs.shape, raw.embedding is None
    ((2, 2), True)
    """

    outputs: np.ndarray
    valid: np.ndarray
    errors: dict[str, str]
    embedding: np.ndarray | None = None


#: Estimator classes by name, as saved directories name them. Each registers itself
#: (:func:`saved_estimator`), so that one module can load another's estimator without
#: importing it (``LightCurveClassifier.pretrained`` an ensemble, an ensemble its
#: members).
SAVED_ESTIMATORS: dict[str, type] = {}


def saved_estimator(cls: type) -> type:
    """Class decorator: list ``cls`` in :data:`SAVED_ESTIMATORS` under its name."""
    SAVED_ESTIMATORS[cls.__name__] = cls
    return cls


class NetworkEstimator(BaseEstimator):
    """Base of the estimators that train a registered network on inputs they build.

    A subclass stores its keyword-only constructor arguments unchanged (so
    ``get_params``, ``set_params`` and :func:`sklearn.base.clone` work), sets its
    learned state in ``fit`` in attributes ending in ``_`` (``model_``,
    ``train_config_``...) and defines ``transform(data) -> ModelInputs``.
    """

    task: ClassVar[str] = "classification"

    def check_is_fitted(self) -> None:
        """Raise :class:`~skyclass.exceptions.NotFittedError` unless ``fit`` or ``load`` ran.

        Examples
        --------
        >>> from skyclass.estimator import CutoutClassifier
        >>> CutoutClassifier().check_is_fitted()
        Traceback (most recent call last):
        ...
        skyclass.exceptions.NotFittedError: this CutoutClassifier is not fitted yet; call fit() ...
        """
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit() or load() first"
            )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def _output_width(self) -> int:
        """Width of the network's output: 1 (one value per object) unless a subclass says."""
        return 1

    def transform(self, data: Any) -> ModelInputs:
        """The network's inputs for ``data``, one row per object (see :class:`ModelInputs`)."""
        raise NotImplementedError

    def predict_raw(self, data: Any, *, embedding: bool = False) -> RawPrediction:
        """The network's own outputs for ``data``, before any calibration.

        Parameters
        ----------
        data : LightCurveSet or Cutouts
            What the estimator was fitted on, for new objects.
        embedding : bool
            Also each object's embedding (the input of the network's output layer),
            which a distance-based unknown-class score reads.

        Returns
        -------
        RawPrediction
            Outputs with NaN rows where an object could not be represented, the
            valid flags, the reasons, and the embedding when asked for.
        """
        from skyclass.training import Trainer

        self.check_is_fitted()
        arrays, valid, errors = self.transform(data)
        out = np.full((len(valid), self._output_width()), np.nan)
        keep = np.flatnonzero(valid)
        vectors = np.full((len(valid), 1), np.nan) if embedding else None
        if keep.size:
            trainer = getattr(self, "trainer_", None) or Trainer(self.model_, self.train_config_)
            rows = {k: v[keep] for k, v in arrays.items()}
            if embedding:
                pred, found = trainer.predict_with_embedding(rows)
                vectors = np.full((len(valid), found.shape[1]), np.nan)
                vectors[keep] = found
            else:
                pred = trainer.predict(rows)
            out[keep] = pred.reshape(keep.size, -1)
        return RawPrediction(out, valid, errors, vectors)

    def _keep_fitted(
        self, fitted: Any, *, n_train: int, val_y: Any, skipped: Mapping[str, str], **extra: Any
    ) -> None:
        """Keep what :func:`skyclass.training.fit` returned, and report the fit."""
        self.model_, self.trainer_, self.history_ = fitted.model, fitted.trainer, fitted.history
        self.train_config_ = fitted.config
        self.fit_report_ = {
            "n_train": int(n_train),
            "n_val": 0 if val_y is None else len(val_y),
            "skipped": skipped,
            **extra,
            "epochs": len(self.history_),
        }

    def _calibrate(self, val_arrays: Any, val_y: Any, arrays: Any, y: Any) -> None:
        """Fit what maps the trained network's outputs to predictions (nothing here)."""

    def _saved_params(self) -> dict[str, Any]:
        """The constructor parameters ``save`` records (as JSON), session settings left out.

        ``progress``, ``run_dir`` and ``on_epoch_end`` belong to the session that
        trained the model, not to the model: a loaded estimator has their defaults
        (no progress bars).
        """
        import json

        params = {k: v for k, v in self.get_params(deep=False).items() if k not in SESSION_PARAMS}
        train = params.get("train")
        if train is not None and hasattr(train, "model_dump"):
            params["train"] = train.model_dump(mode="json")
        return json.loads(json.dumps(params, default=str))

    @classmethod
    def _from_saved(cls, params: Mapping[str, Any]) -> Any:
        """An unfitted estimator with the saved constructor parameters and no progress bars."""
        known = set(inspect.signature(cls).parameters) - set(SESSION_PARAMS)
        return cls(**{k: v for k, v in params.items() if k in known}, progress=False)


class ProbabilisticClassifier(NetworkEstimator):
    """Calibration, unknown-class scores and prediction tables shared by the classifiers.

    A subclass has the parameters ``calibration``, ``ood`` and ``ood_known_rate``,
    and in ``fit`` sets ``classes_``, ``trainer_`` and, from
    :meth:`_fit_calibration`, ``calibrator_`` and ``ood_``.
    """

    task: ClassVar[str] = "classification"

    def _output_width(self) -> int:
        return len(self.classes_)

    @property
    def needs_embedding(self) -> bool:
        """Whether the unknown-class score reads the network's embedding.

        When it does, give :meth:`table_from_raw` a :meth:`predict_raw` made with
        ``embedding=True``.
        """
        ood = getattr(self, "ood_", None)
        return ood is not None and ood.needs_embedding

    def encode_labels(self, labels: Any) -> np.ndarray:
        """Class indices (int64) of ``labels`` in ``classes_`` order: the network's targets.

        Raises
        ------
        DataError
            A label that is not one of ``classes_``.

        Examples
        --------
        >>> from skyclass.estimator import LightCurveClassifier
        >>> clf = LightCurveClassifier()
        >>> clf.classes_ = ("RRab", "RRc")
        >>> clf.encode_labels(["RRc", "RRab"]).tolist()
        [1, 0]
        """
        index = {c: i for i, c in enumerate(self.classes_)}
        unknown = sorted({str(x) for x in labels} - set(index))
        if unknown:
            raise DataError(
                f"labels {unknown} are not among the model's classes {list(self.classes_)}"
            )
        return np.array([index[str(x)] for x in labels], dtype=np.int64)

    def _fit_calibration(
        self,
        val_arrays: Mapping[str, np.ndarray] | None,
        val_y: np.ndarray | None,
        train_arrays: Mapping[str, np.ndarray] | None = None,
        train_y: np.ndarray | None = None,
    ) -> tuple[Any, Any, dict[str, Any] | str | None]:
        """Calibrator, unknown-class scorer and their report, from the validation objects.

        A distance-based unknown-class score also takes its class means and
        covariance from the training objects' embeddings. Returns ``(calibrator,
        scorer, report)``; the first two are None where not asked for or not possible.
        """
        from skyclass.evaluate.calibration import CALIBRATORS, expected_calibration_error
        from skyclass.evaluate.ood import OODScorer

        if self.calibration is not None and self.calibration not in CALIBRATORS:
            raise ValueError(
                f"unknown calibration {self.calibration!r}; choose one of "
                f"{sorted(CALIBRATORS)} or None"
            )
        if val_y is None or len(val_y) < 2:
            asked = self.calibration is not None or self.ood is not None
            return None, None, "skipped: no validation objects" if asked else None
        scorer = calibrator = None
        if self.ood is not None:
            scorer = OODScorer(method=self.ood, known_rate=self.ood_known_rate)
        embedding = train_embedding = None
        if scorer is not None and scorer.needs_embedding:
            proba, embedding = self.trainer_.predict_with_embedding(val_arrays)
            train_embedding = self.trainer_.predict_with_embedding(train_arrays)[1]
        else:
            proba = self.trainer_.predict(val_arrays)
        report: dict[str, Any] = {"val_ece_before": expected_calibration_error(proba, val_y)}
        if self.calibration is not None:
            calibrator = CALIBRATORS[self.calibration]().fit(proba, val_y)
            proba = calibrator.transform(proba)
            report["val_ece_after"] = expected_calibration_error(proba, val_y)
            report["calibrator"] = calibrator.to_dict()
        if scorer is not None:
            scorer = scorer.fit(
                proba, embedding=embedding, train_embedding=train_embedding, train_y=train_y
            )
            report["ood"] = {"method": scorer.method, "threshold": scorer.threshold_}
        return calibrator, scorer, report

    def _calibrate(self, val_arrays: Any, val_y: Any, arrays: Any, y: Any) -> None:
        self.calibrator_, self.ood_, report = self._fit_calibration(val_arrays, val_y, arrays, y)
        if report is not None:
            self.fit_report_["calibration"] = report

    def _calibrated(self, proba: np.ndarray) -> np.ndarray:
        ok = np.isfinite(proba).all(axis=1)
        if self.calibrator_ is None or not ok.any():
            return proba
        out = proba.copy()
        out[ok] = self.calibrator_.transform(proba[ok])
        return out

    def predict_proba(self, data: Any, *, calibrated: bool = True) -> np.ndarray:
        """(N, n_classes) probabilities in ``classes_`` order; NaN rows where not represented.

        ``calibrated=False`` gives the network's own softmax, before calibration.
        """
        proba = self.predict_raw(data).outputs
        return self._calibrated(proba) if calibrated else proba

    def predict(self, data: Any) -> np.ndarray:
        """Predicted class per object (None where the object could not be represented)."""
        return top_class(self.predict_proba(data), self.classes_)

    def predict_table(self, data: Any) -> pd.DataFrame:
        """One row per object: ``object_id``, ``predicted``, ``prob_<class>`` per class
        (calibrated when the model is), ``ood_score`` and ``unknown`` (when the model
        has an unknown-class threshold) and ``error`` (why an object has no prediction).
        """
        raw = self.predict_raw(data, embedding=self.needs_embedding)
        return self.table_from_raw(raw, data.ids)

    def table_from_raw(self, raw: RawPrediction, ids: Any) -> pd.DataFrame:
        """:meth:`predict_table` from outputs already computed by :meth:`predict_raw`.

        A caller that also needs the uncalibrated outputs (to measure calibration,
        say) runs the network once and builds the table from them.

        Parameters
        ----------
        raw : RawPrediction
            From :meth:`predict_raw`, with ``embedding=True`` where
            :attr:`needs_embedding`.
        ids : array-like
            The objects' ids, in the order of ``raw``'s rows.

        Raises
        ------
        ValueError
            The unknown-class score needs the embedding and ``raw`` has none.
        """
        if self.needs_embedding and raw.embedding is None:
            raise ValueError(
                "this model's unknown-class score reads the embedding; call "
                "predict_raw(data, embedding=True)"
            )
        proba = self._calibrated(raw.outputs)
        table = pd.DataFrame({"object_id": np.asarray(ids).astype(str)})
        table["predicted"] = top_class(proba, self.classes_)
        for i, name in enumerate(self.classes_):
            table[f"prob_{name}"] = proba[:, i]
        if self.ood_ is not None:
            table["ood_score"] = self.ood_.score(proba, raw.embedding)
            table["unknown"] = self.ood_.flag(proba, raw.embedding)
        table["error"] = [raw.errors.get(str(i), "") for i in ids]
        return table

    def _calibration_state(self) -> dict[str, Any]:
        """What ``save`` records of the calibrator and the unknown-class threshold."""
        return {
            "calibration": None if self.calibrator_ is None else self.calibrator_.to_dict(),
            "ood": None if self.ood_ is None else self.ood_.to_dict(),
        }

    @staticmethod
    def _saved_calibration(prep: Mapping[str, Any]) -> tuple[Any, Any]:
        """The calibrator and unknown-class scorer that ``_calibration_state`` recorded."""
        from skyclass.evaluate.calibration import calibrator_from_dict
        from skyclass.evaluate.ood import OODScorer

        calibration, ood = prep.get("calibration"), prep.get("ood")
        return (
            None if calibration is None else calibrator_from_dict(calibration),
            None if ood is None else OODScorer.from_dict(ood),
        )

    @staticmethod
    def _old_calibration_params(prep: Mapping[str, Any]) -> dict[str, Any]:
        """The calibration parameters of a model saved before its parameters were recorded."""
        calibration, ood = prep.get("calibration"), prep.get("ood")
        return {
            "calibration": None if calibration is None else calibration["kind"],
            "ood": None if ood is None else ood["method"],
        }
