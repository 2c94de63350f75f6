"""scikit-learn-style estimators: representation + model + training in one object.

``LightCurveClassifier`` and ``LightCurveRegressor`` take a
:class:`~skyclass.lightcurve.LightCurveSet`, build the inputs the chosen model
reads (each from one curve only), fit a feature scaler on training objects only,
carve a validation set from the training objects (by object, stratified, seeded)
for early stopping, and train with :class:`~skyclass.training.Trainer`. A fitted
estimator saves to a directory of safetensors weights and JSON (never pickle)
and loads back to give identical predictions.

Examples
--------
>>> import numpy as np
>>> from skyclass import LightCurve, LightCurveSet
>>> rng = np.random.default_rng(0)
>>> curves, labels = [], []
>>> for i in range(40):
...     t = np.sort(rng.uniform(0, 100, 60))
...     shape = np.sin if i % 2 else (lambda x: np.sign(np.sin(x)))
...     mag = 15 + 0.3 * shape(2 * np.pi * t / 1.7) + rng.normal(0, .02, 60)
...     curves.append(LightCurve(time=t, mag=mag, err=np.full(60, .02), band="V", id=str(i)))
...     labels.append("sine" if i % 2 else "square")
>>> s = LightCurveSet.from_lightcurves(curves, labels=labels)
>>> s = s.with_objects(s.objects.assign(period=1.7))
>>> clf = LightCurveClassifier(model="akhmetali2025_cnn", representations={"grid": {"n": 64}},
...                            train={"max_epochs": 3, "batch_size": 8}, progress=False)
>>> clf.fit(s).predict_proba(s).shape
(40, 2)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError, NotFittedError
from skyclass.lightcurve import LightCurveSet
from skyclass.represent.cache import cached_transform_many

__all__ = [
    "DEFAULT_REPRESENTATIONS",
    "CutoutClassifier",
    "EnsembleClassifier",
    "LightCurveClassifier",
    "LightCurveRegressor",
    "check_options",
    "fill_periods",
]

#: The inputs each model reads by default: representation name -> options.
DEFAULT_REPRESENTATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "kang2023_rnn": {"sequence": {"max_len": 300}, "features": {}},
    "kang2023_compound": {"sequence": {"max_len": 300}, "features": {}, "image": {}},
    "akhmetali2025_cnn": {"grid": {"n": 512}},
    "carraro2025_cnn_lstm": {"grid": {"n": 360}},
    "carraro2025_cnn2d": {"dmdt": {"preset": "carraro2025"}},
    "transformer_seq": {"sequence": {"max_len": 300}},
    "mlp_features": {"features": {"features": "all"}},
    "grid_features": {"grid": {"n": 128, "normalize": "standard"}, "features": {"features": "all"}},
    "foldnet": {
        "grid": {"n": 128, "normalize": "standard", "cycles": 2},
        "features": {"features": "all"},
    },
}
_MONTI = ("fcn", "resnet", "inception", "lstm", "bilstm", "gru", "bigru", "convlstm", "convgru")
DEFAULT_REPRESENTATIONS.update({f"monti2024_{m}": {"phase_sequence": {}} for m in _MONTI})

#: Representation option that names the bands, and whether it takes one band or several.
_BAND_OPTION = {
    "sequence": ("band_order", "many"),
    "phase_sequence": ("band", "one"),
    "grid": ("bands", "many"),
    "dmdt": ("bands", "many"),
    "image": ("band", "one"),
    "features": ("bands", "many"),
}


def check_options(
    model: str,
    model_options: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | Any = None,
    representations: Mapping[str, Any] | None = None,
) -> None:
    """Refuse, before any data is read, a model, option or training key that does not exist.

    Each message names what is wrong and lists the valid choices: the registered
    models, the model's options, the keys of
    :class:`~skyclass.training.TrainConfig`, the representation names.

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
    from skyclass.models.registry import check_keywords, check_model_options
    from skyclass.represent import REPRESENTATIONS
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
    unknown = sorted(set(representations or {}) - set(REPRESENTATIONS))
    if unknown:
        raise ValueError(
            f"unknown representation {', '.join(map(repr, unknown))}; choose from "
            f"{sorted(REPRESENTATIONS)}"
        )
    for name, options in (representations or {}).items():
        options = dict(options or {})
        preset = options.pop("preset", None)
        cls = REPRESENTATIONS[name]
        if preset is not None and not hasattr(cls, preset):
            raise ValueError(f"representation {name!r} has no preset {preset!r}")
        build = cls if preset is None else getattr(cls, preset)
        check_keywords(build, options, f"representation {name!r}")


def fill_periods(
    lcs: LightCurveSet,
    *,
    period: str = "auto",
    options: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> LightCurveSet:
    """``lcs`` with a finite ``period`` for every object where one can be found.

    Curves already folded (``meta["time_ref"] == "phase"``, e.g. the Gaia DR2
    folded RRab set) have time in cycles of their period: one without a finite
    period gets 1 under every choice of ``period``, since searching a phase finds
    nothing real, and the representations use such curves as they are.

    Parameters
    ----------
    lcs : LightCurveSet
        The objects; a ``period`` column is used where it is finite.
    period : {"auto", "column", "search"}
        The column, searched where it is missing (``"auto"``); the column only;
        or searched for every object.
    options : mapping, optional
        Settings of :class:`skyclass.preprocess.period.PeriodConfig`.
    progress : bool
        A progress bar over the searched objects.

    Raises
    ------
    DataError
        ``period="column"`` and the set has no ``period`` column (and is not folded).

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> t = np.sort(np.random.default_rng(0).uniform(0, 30, 120))
    >>> lc = LightCurve(time=t, mag=15 + 0.3 * np.sin(2 * np.pi * t / 2.5), err=np.full(120, .01),
    ...                 band="V", id="a")
    >>> found = fill_periods(LightCurveSet.from_lightcurves([lc]))
    >>> round(float(found.objects["period"].iloc[0]), 2)
    2.5
    >>> phase = np.linspace(0, 1, 40, endpoint=False)
    >>> lc = LightCurve(time=phase, mag=15 + 0.3 * np.sin(2 * np.pi * phase), err=np.full(40, .01),
    ...                 band="V", id="f")
    >>> folded = LightCurveSet.from_lightcurves([lc], meta={"time_ref": "phase"})
    >>> fill_periods(folded, period="column").objects["period"].tolist()
    [1.0]
    """
    if period not in {"auto", "column", "search"}:
        raise ValueError(f"period must be 'auto', 'column' or 'search', got {period!r}")
    have = "period" in lcs.objects.columns
    values = lcs.objects["period"].to_numpy(float) if have else np.full(len(lcs), np.nan)
    if lcs.meta.get("time_ref") == "phase":
        return lcs.with_objects(
            lcs.objects.assign(period=np.where(np.isfinite(values), values, 1.0))
        )
    if period == "column":
        if not have:
            raise DataError("period='column' but the set has no 'period' column")
        return lcs
    missing = np.ones(len(lcs), bool) if period == "search" else ~np.isfinite(values)
    if missing.any():
        from skyclass.preprocess.period import PeriodConfig, PeriodSearch

        cfg = PeriodConfig(**dict(options or {}))
        found = PeriodSearch(**cfg.search_options()).transform_many(
            lcs.select(np.flatnonzero(missing)), progress=progress
        )
        values = values.copy()
        values[missing] = found["period"].to_numpy(float)
    return lcs.with_objects(lcs.objects.assign(period=values))


def _build_representation(name: str, options: Mapping[str, Any]):
    from skyclass.represent import REPRESENTATIONS

    if name not in REPRESENTATIONS:
        raise ValueError(
            f"unknown representation {name!r}; choose one of {sorted(REPRESENTATIONS)}"
        )
    cls = REPRESENTATIONS[name]
    options = dict(options)
    preset = options.pop("preset", None)
    if preset is not None:
        if not hasattr(cls, preset):
            raise ValueError(f"representation {name!r} has no preset {preset!r}")
        return getattr(cls, preset)(**options)
    return cls(**options)


def _predict_rows(
    est: Any, arrays: dict, valid: np.ndarray, errors: dict, width: int, embedding: bool
) -> tuple:
    """The network's outputs for the valid rows (NaN elsewhere), as ``_raw_predict`` returns."""
    from skyclass.training import Trainer

    out = np.full((len(valid), width), np.nan)
    keep = np.flatnonzero(valid)
    emb = None
    if keep.size:
        trainer = getattr(est, "trainer_", None) or Trainer(est.model_, est.train_config_)
        rows = {k: v[keep] for k, v in arrays.items()}
        if embedding:
            pred, vectors = trainer.predict_with_embedding(rows)
            emb = np.full((len(valid), vectors.shape[1]), np.nan)
            emb[keep] = vectors
        else:
            pred = trainer.predict(rows)
        out[keep] = pred.reshape(keep.size, -1)
    if not embedding:
        return out, valid, errors
    return out, valid, errors, emb if emb is not None else np.full((len(valid), 1), np.nan)


class _Probabilities:
    """Calibration, unknown-class scores and prediction tables shared by the classifiers.

    A subclass sets ``task``, ``classes_``, ``calibration``, ``ood``, ``ood_known_rate``,
    ``trainer_`` and ``fit_report_`` and defines ``_raw_predict(data) -> (proba, valid,
    errors)``; ``data`` has ``ids`` and a length.
    """

    task: ClassVar[str] = "classification"

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit() or load() first"
            )

    @property
    def _needs_embedding(self) -> bool:
        ood = getattr(self, "ood_", None)
        return ood is not None and ood.needs_embedding

    def _fit_calibration(
        self,
        val_arrays: dict | None,
        val_y: np.ndarray | None,
        train_arrays: dict | None = None,
        train_y: np.ndarray | None = None,
    ) -> None:
        """Calibrator and unknown-class threshold from the validation objects.

        A distance-based unknown-class score also takes its class means and
        covariance from the training objects' embeddings.
        """
        from skyclass.evaluate.calibration import CALIBRATORS, expected_calibration_error
        from skyclass.evaluate.ood import OODScorer

        self.calibrator_ = None
        self.ood_ = None
        if self.task != "classification":
            return
        if self.calibration is not None and self.calibration not in CALIBRATORS:
            raise ValueError(
                f"unknown calibration {self.calibration!r}; choose one of "
                f"{sorted(CALIBRATORS)} or None"
            )
        if val_y is None or len(val_y) < 2:
            if self.calibration is not None or self.ood is not None:
                self.fit_report_["calibration"] = "skipped: no validation objects"
            return
        scorer = None
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
            self.calibrator_ = CALIBRATORS[self.calibration]().fit(proba, val_y)
            proba = self.calibrator_.transform(proba)
            report["val_ece_after"] = expected_calibration_error(proba, val_y)
            report["calibrator"] = self.calibrator_.to_dict()
        if scorer is not None:
            self.ood_ = scorer.fit(
                proba, embedding=embedding, train_embedding=train_embedding, train_y=train_y
            )
            report["ood"] = {"method": scorer.method, "threshold": scorer.threshold_}
        self.fit_report_["calibration"] = report

    def _calibrated(self, proba: np.ndarray) -> np.ndarray:
        calibrator = getattr(self, "calibrator_", None)
        ok = np.isfinite(proba).all(axis=1)
        if calibrator is None or not ok.any():
            return proba
        out = proba.copy()
        out[ok] = calibrator.transform(proba[ok])
        return out

    def predict_proba(self, lcs: Any, *, calibrated: bool = True) -> np.ndarray:
        """(N, n_classes) probabilities in ``classes_`` order; NaN rows where not represented.

        ``calibrated=False`` gives the network's own softmax, before calibration.
        """
        proba = self._raw_predict(lcs)[0]
        return self._calibrated(proba) if calibrated else proba

    def predict(self, lcs: Any) -> np.ndarray:
        """Predicted class per object (None where the object could not be represented)."""
        proba = self.predict_proba(lcs)
        out = np.full(len(lcs), None, dtype=object)
        ok = np.isfinite(proba).all(axis=1)
        out[ok] = np.asarray(self.classes_, dtype=object)[np.argmax(proba[ok], axis=1)]
        return out

    def predict_table(self, lcs: Any) -> pd.DataFrame:
        """One row per object: ``object_id``, ``predicted``, ``prob_<class>`` per class
        (calibrated when the model is), ``ood_score`` and ``unknown`` (when the model
        has an unknown-class threshold) and ``error`` (why an object has no prediction).
        """
        if self._needs_embedding:
            raw, _, errors, embedding = self._raw_predict(lcs, embedding=True)
        else:
            (raw, _, errors), embedding = self._raw_predict(lcs), None
        return self._table(lcs.ids, raw, errors, embedding)

    def _table(
        self,
        ids: np.ndarray,
        raw: np.ndarray,
        errors: Mapping[str, str],
        embedding: np.ndarray | None = None,
    ) -> pd.DataFrame:
        proba = self._calibrated(raw)
        table = pd.DataFrame({"object_id": np.asarray(ids).astype(str)})
        ok = np.isfinite(proba).all(axis=1)
        predicted = np.full(len(proba), None, dtype=object)
        predicted[ok] = np.asarray(self.classes_, dtype=object)[np.argmax(proba[ok], axis=1)]
        table["predicted"] = predicted
        for i, name in enumerate(self.classes_):
            table[f"prob_{name}"] = proba[:, i]
        ood = getattr(self, "ood_", None)
        if ood is not None:
            table["ood_score"] = ood.score(proba, embedding)
            table["unknown"] = ood.flag(proba, embedding)
        table["error"] = [errors.get(str(i), "") for i in ids]
        return table

    def _calibration_state(self) -> dict[str, Any]:
        """What ``save`` records of the calibrator and the unknown-class threshold."""
        calibrator, ood = getattr(self, "calibrator_", None), getattr(self, "ood_", None)
        return {
            "calibration": None if calibrator is None else calibrator.to_dict(),
            "ood": None if ood is None else ood.to_dict(),
        }

    def _restore_calibration(self, prep: Mapping[str, Any]) -> None:
        from skyclass.evaluate.calibration import calibrator_from_dict
        from skyclass.evaluate.ood import OODScorer

        saved = prep.get("calibration")
        self.calibrator_ = None if saved is None else calibrator_from_dict(saved)
        self.calibration = None if saved is None else saved["kind"]
        saved = prep.get("ood")
        self.ood_ = None if saved is None else OODScorer.from_dict(saved)
        self.ood = None if saved is None else saved["method"]


class LightCurveClassifier(_Probabilities):
    """Classify light curves with any registered model.

    Parameters
    ----------
    model : str
        A name from :func:`skyclass.models.list_models`; the default ``foldnet`` is
        skyclass's recommended network (:mod:`skyclass.models.foldnet`: the folded
        curve in every band plus the numeric features).
    model_options : dict, optional
        Keyword arguments of the model (paper defaults otherwise); input sizes are
        set from the data.
    representations : dict, optional
        ``{representation name: options}``; default :data:`DEFAULT_REPRESENTATIONS`
        for the model. Band options are filled in from the training set.
    train : TrainConfig or dict, optional
        Training settings (:class:`skyclass.training.TrainConfig`); its ``seed``
        is replaced by ``random_state``.
    validation_fraction : float
        Share of the training objects held out (by object, stratified) for early
        stopping and the best epoch; 0 trains on all of them for ``max_epochs``.
    feature_scaling : {"auto", "robust", "standard", "quantile"}
        How the ``features`` input is scaled, with statistics of the training objects
        only (:class:`skyclass.represent.FeatureScaler`); ``auto``: ``quantile`` for
        skyclass's own models, ``robust`` for the seed papers' (their recipes).
    class_weight : {"balanced", "sqrt_balanced"} or None
        Loss weight of each class from the training objects' counts
        (:func:`skyclass.augment.balance.class_weights`): ``balanced`` gives every
        class the same total weight, as balanced accuracy counts them; None weighs
        every curve alike. Classification only; ``train["class_weights"]`` overrides it.
    augment : "auto", bool or dict
        Random phase shift and noise of every training batch's folded grid
        (:class:`skyclass.augment.grids.GridAugment`; a dict gives its options).
        ``auto``: what the model is designed with (on for ``foldnet``, off for the
        seed papers' models, which did not augment). Models without a ``grid``
        input cannot take it.
    period : {"auto", "column", "search"}
        Where folded representations get periods: the set's ``period`` column
        (searching only where it is missing), the column only, or always searched.
    period_options : dict, optional
        Settings of :class:`skyclass.preprocess.period.PeriodConfig`.
    calibration : {"temperature", "isotonic"} or None
        Calibration of the probabilities, fitted on the validation objects after
        training, saved with the model and applied by every ``predict*`` call
        (see :mod:`skyclass.evaluate.calibration`); None leaves them raw. Needs
        ``validation_fraction > 0`` (or ``val=`` in :meth:`fit`).
    ood : {"max_softmax", "entropy", "mahalanobis", "combined"} or None
        Unknown-class score reported by :meth:`predict_table` (``ood_score``,
        ``unknown``), its threshold chosen so that ``ood_known_rate`` of the
        validation objects are flagged (:mod:`skyclass.evaluate.ood`;
        ``mahalanobis`` measures the distance of the network's embedding from the
        training classes, ``combined`` takes the larger of that and ``max_softmax``,
        each scaled by its validation quantile; both store a D×D matrix for a
        D-wide embedding in the model directory).
    ood_known_rate : float
    random_state : int
        Seeds the validation split, the weights and the data order.
    run_dir : path-like, optional
        Checkpoint folder: training resumes from it after a crash.
    progress : bool
        Progress bars on long steps.
    on_epoch_end : callable, optional
        ``on_epoch_end(epoch, record)`` after every training epoch (the
        :class:`~skyclass.training.Trainer` hook: progress display, or a
        hyperparameter search that prunes on the validation curve); it may raise to
        stop training. Not saved with the model.
    """

    task: ClassVar[str] = "classification"

    def __init__(
        self,
        *,
        model: str = "foldnet",
        model_options: Mapping[str, Any] | None = None,
        representations: Mapping[str, Mapping[str, Any]] | None = None,
        train: Any = None,
        validation_fraction: float = 0.1,
        feature_scaling: str = "auto",
        class_weight: str | None = None,
        augment: bool | str | Mapping[str, Any] = "auto",
        period: str = "auto",
        period_options: Mapping[str, Any] | None = None,
        calibration: str | None = "temperature",
        ood: str | None = "combined",
        ood_known_rate: float = 0.05,
        random_state: int = 0,
        run_dir: str | PathLike[str] | None = None,
        progress: bool = True,
        on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    ):
        self.model = model
        self.model_options = model_options
        self.representations = representations
        self.train = train
        self.validation_fraction = validation_fraction
        self.feature_scaling = feature_scaling
        self.class_weight = class_weight
        self.augment = augment
        self.period = period
        self.period_options = period_options
        self.calibration = calibration
        self.ood = ood
        self.ood_known_rate = ood_known_rate
        self.random_state = random_state
        self.run_dir = run_dir
        self.progress = progress
        self.on_epoch_end = on_epoch_end

    # ------------------------------------------------------------ helpers
    def _with_periods(self, lcs: LightCurveSet, period: str, options: Mapping[str, Any]):
        """``lcs`` with a finite ``period`` for every object where it can be found."""
        return fill_periods(lcs, period=period, options=options, progress=self.progress)

    def _representation_options(self, bands: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        chosen = self.representations
        if chosen is None:
            if self.model not in DEFAULT_REPRESENTATIONS:
                raise ValueError(
                    f"no default inputs for model {self.model!r}; pass representations="
                    f"{{name: options}} (names: {sorted(_BAND_OPTION)})"
                )
            chosen = DEFAULT_REPRESENTATIONS[self.model]
        out = {}
        for name, options in chosen.items():
            options = dict(options)
            if name in _BAND_OPTION:
                key, how = _BAND_OPTION[name]
                options.setdefault(key, bands[0] if how == "one" else list(bands))
            if name == "features" and options.get("features", "kang") == "kang":
                # kang2023's numeric input: period, amplitude and a colour where bands allow
                several = len(options.get("bands") or ()) > 1
                options["features"] = ["log_period", "amplitude"] + (["colour"] if several else [])
            out[name] = options
        return out

    def _arrays(self, lcs: LightCurveSet) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
        """Stacked inputs of every representation, the combined valid flag and reasons."""
        missing = sorted(set(self.bands_) - set(lcs.bands))
        if missing:
            raise DataError(
                f"the model was trained on bands {list(self.bands_)} but this set lacks "
                f"{missing}; give it curves in those bands"
            )
        lcs = self._with_periods(lcs, self.period, self.period_options or {})
        arrays: dict[str, np.ndarray] = {}
        valid = np.ones(len(lcs), bool)
        errors: dict[str, str] = {}
        for name, options in self.representation_options_.items():
            out = cached_transform_many(
                name, options, partial(_build_representation, name, options), lcs
            )
            valid &= out.pop("valid")
            for obj, reason in out.pop("errors").items():
                errors.setdefault(obj, f"{name}: {reason}")
            arrays.update(out)
        if "features" in arrays and self.scaler_ is not None:
            arrays["features"] = self.scaler_.transform(
                arrays["features"], mask=arrays.get("features_mask")
            )
        for key, value in arrays.items():
            bad = ~np.isfinite(value.reshape(len(value), -1)).all(axis=1)
            if bad.any():
                valid &= ~bad
                for i in np.flatnonzero(bad):
                    errors.setdefault(str(lcs.ids[i]), f"non-finite values in {key!r}")
        return arrays, valid, errors

    def _feature_scaling(self) -> str:
        from skyclass.models import get_model_spec
        from skyclass.represent.features import SCALERS

        if self.feature_scaling == "auto":
            own = get_model_spec(self.model).paper in {"skyclass", "baseline"}
            return "quantile" if own else "robust"
        if self.feature_scaling not in SCALERS:
            raise ValueError(
                f"feature_scaling must be 'auto' or one of {list(SCALERS)}, "
                f"got {self.feature_scaling!r}"
            )
        return self.feature_scaling

    def _grid_augment(self) -> Any:
        """The trainer's augmentation hook (None: no augmentation); refuses bad options."""
        from skyclass.augment.grids import GridAugment
        from skyclass.models import get_model_spec

        spec = get_model_spec(self.model)
        chosen = self.augment
        if isinstance(chosen, str):
            if chosen != "auto":
                raise ValueError(f"augment must be 'auto', True, False or a dict, got {chosen!r}")
            chosen = spec.augment
        if chosen is None or chosen is False:
            return None
        if "grid" not in spec.input_keys:
            raise ValueError(
                f"augment shifts and noises the 'grid' input, and model {self.model!r} reads "
                f"{list(spec.input_keys)}; set augment=False"
            )
        options = {} if chosen is True else dict(chosen)
        valid = set(GridAugment.__dataclass_fields__)
        if unknown := sorted(set(options) - valid):
            raise ValueError(f"augment has no option {unknown}; valid: {sorted(valid)}")
        return GridAugment(**options)

    def _class_weights(self, y: np.ndarray | None) -> list[float] | None:
        """Loss weight per class index from the training targets ``y`` (None: only check)."""
        from skyclass.augment.balance import WEIGHT_SCHEMES, class_weights

        if self.class_weight is None:
            return None
        if self.task != "classification" or self.class_weight not in WEIGHT_SCHEMES:
            valid = [s for s in WEIGHT_SCHEMES if s != "none"]
            raise ValueError(
                f"class_weight must be None or one of {valid} (classification only), "
                f"got {self.class_weight!r}"
            )
        if y is None:
            return None
        weights = class_weights(y, self.class_weight)
        return [weights.get(str(i), 0.0) for i in range(len(self.classes_))]

    def _targets(self, labels: np.ndarray) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes_)}
        unknown = sorted({str(x) for x in labels} - set(index))
        if unknown:
            raise DataError(
                f"labels {unknown} are not among the model's classes {list(self.classes_)}"
            )
        return np.array([index[str(x)] for x in labels], dtype=np.int64)

    def _labelled(self, lcs: LightCurveSet) -> LightCurveSet:
        labels = lcs.objects["label"] if "label" in lcs.objects.columns else None
        if labels is None:
            raise DataError("the training set has no 'label' column")
        keep = labels.notna().to_numpy()
        if not keep.any():
            raise DataError("no training object has a label")
        return lcs.select(np.flatnonzero(keep))

    # ---------------------------------------------------------------- fit
    def fit(self, lcs: LightCurveSet, *, val: LightCurveSet | None = None):
        """Train on ``lcs`` (labels in its ``label`` column); returns ``self``.

        Objects that cannot be represented are left out and listed in
        ``fit_report_["skipped"]``.
        """
        from skyclass.represent import FeatureScaler
        from skyclass.training import TrainConfig, fit

        check_options(self.model, self.model_options, self.train, self.representations)
        self._feature_scaling()  # a bad name fails before any data is read
        self._class_weights(None)
        augment = self._grid_augment()
        lcs = self._labelled(lcs)
        if val is None and self.validation_fraction > 0:
            parts = lcs.split(
                (1 - self.validation_fraction, self.validation_fraction),
                names=("train", "val"),
                stratify=self.task == "classification",
                seed=self.random_state,
            )
            lcs, val = parts["train"], parts.get("val")
        self.bands_ = tuple(lcs.bands)
        self.representation_options_ = self._representation_options(self.bands_)
        if self.task == "classification":
            self.classes_ = tuple(sorted({str(x) for x in lcs.labels}))
        self.scaler_ = None
        arrays, valid, errors = self._arrays(lcs)
        if "features" in arrays:
            self.scaler_ = FeatureScaler(method=self._feature_scaling()).fit(
                arrays["features"][valid],
                mask=arrays.get("features_mask", None)[valid]
                if "features_mask" in arrays
                else None,
            )
            arrays["features"] = self.scaler_.transform(
                arrays["features"], mask=arrays.get("features_mask")
            )
        keep = np.flatnonzero(valid)
        if keep.size == 0:
            first = "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:3])
            raise DataError(f"no training object could be represented; first reasons: {first}")
        arrays = {k: v[keep] for k, v in arrays.items()}
        y = self._encode(lcs.labels[keep])
        val_arrays = val_y = None
        skipped = {**errors}
        if val is not None:
            val = self._labelled(val)
            va, vvalid, verrors = self._arrays(val)
            skipped.update(verrors)
            vkeep = np.flatnonzero(vvalid)
            val_arrays = {k: v[vkeep] for k, v in va.items()}
            val_y = self._encode(val.labels[vkeep])

        train_cfg = self.train
        if isinstance(train_cfg, TrainConfig):
            train_cfg = train_cfg.model_dump()
        weights = self._class_weights(y)
        fitted = fit(
            self.model,
            arrays,
            y,
            val_arrays=val_arrays,
            val_targets=val_y,
            num_outputs=len(self.classes_) if self.task == "classification" else 1,
            task=self.task,
            model_options=self.model_options,
            # the class weights from the data, under the user's own training settings
            train={**({"class_weights": weights} if weights else {}), **dict(train_cfg or {})},
            seed=self.random_state,
            augment=augment,
            run_dir=self.run_dir,
            on_epoch_end=self.on_epoch_end,
        )
        self.model_, self.trainer_, self.history_ = fitted.model, fitted.trainer, fitted.history
        self.train_config_ = fitted.config
        self.fit_report_ = {
            "n_train": int(keep.size),
            "n_val": 0 if val_y is None else len(val_y),
            "skipped": skipped,
            "bands": list(self.bands_),
            "epochs": len(self.history_),
        }
        self._fit_calibration(val_arrays, val_y, arrays, y)
        return self

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        return self._targets(labels)

    # ------------------------------------------------------------ predict
    def _raw_predict(self, lcs: LightCurveSet, *, embedding: bool = False) -> tuple:
        """Uncalibrated outputs (NaN rows where not represented), valid flags and reasons;
        with ``embedding`` also each object's embedding (input of the output layer)."""
        self._check_is_fitted()
        arrays, valid, errors = self._arrays(lcs)
        width = len(self.classes_) if self.task == "classification" else 1
        return _predict_rows(self, arrays, valid, errors, width, embedding)

    # ------------------------------------------------------- persistence
    def _preprocessing(self) -> dict[str, Any]:
        return {
            "estimator": type(self).__name__,
            "task": self.task,
            "bands": list(self.bands_),
            "representations": self.representation_options_,
            "period": self.period,
            "period_options": dict(self.period_options or {}),
            "train": self.train_config_.model_dump(mode="json"),
            "random_state": self.random_state,
            **self._calibration_state(),
        }

    def save(self, directory: str | PathLike[str], *, card: Mapping[str, Any] | None = None):
        """Write the model directory (safetensors weights + JSON); returns its path."""
        from skyclass.models import save_model

        self._check_is_fitted()
        history = getattr(self, "history_", None)
        full_card = {
            "fit": self.fit_report_,
            # a loaded estimator keeps the history its card recorded
            "history": history.to_dict() if history is not None else self.saved_history_,
            **dict(card or {}),
        }
        return save_model(
            self.model_,
            directory,
            class_names=list(self.classes_) if self.task == "classification" else None,
            preprocessing=self._preprocessing(),
            scaler=self.scaler_,
            card=json.loads(json.dumps(full_card, default=str)),
            overwrite=True,
        )

    @classmethod
    def load(cls, directory: str | PathLike[str]):
        """Rebuild a fitted estimator from :meth:`save`'s directory (no unpickling)."""
        from skyclass.models import load_model
        from skyclass.training import TrainConfig

        model, info = load_model(Path(directory))
        prep = info["preprocessing"]
        if prep.get("estimator") not in {None, cls.__name__}:
            raise DataError(
                f"{directory} holds a {prep.get('estimator')}, not a {cls.__name__}",
                source=str(directory),
            )
        est = cls(
            model=model.config["name"],
            representations=prep["representations"],
            period=prep["period"],
            period_options=prep["period_options"],
            random_state=prep["random_state"],
            progress=False,
        )
        est.model_ = model
        est.bands_ = tuple(prep["bands"])
        est.representation_options_ = prep["representations"]
        est.scaler_ = info["scaler"]
        est.train_config_ = TrainConfig(**prep["train"])
        if cls.task == "classification":
            est.classes_ = tuple(info["class_names"])
            est._restore_calibration(prep)
        card = info.get("card") or {}
        est.fit_report_ = card.get("fit", {})
        est.saved_history_ = card.get("history", {})
        return est


class LightCurveRegressor(LightCurveClassifier):
    """Regress a number per light curve (e.g. [Fe/H]) with any model that supports regression.

    Parameters are those of :class:`LightCurveClassifier`; the default model is
    ``foldnet`` (the folded curve and the numeric features), as for classification.
    """

    task: ClassVar[str] = "regression"

    def __init__(self, *, model: str = "foldnet", **kwargs: Any):
        super().__init__(model=model, **kwargs)
        self.classes_ = ("value",)

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        values = np.asarray(labels, dtype=np.float32)
        if not np.all(np.isfinite(values)):
            raise DataError("regression targets must be finite numbers")
        return values

    def predict(self, lcs: LightCurveSet) -> np.ndarray:
        """Predicted value per object (NaN where the object could not be represented)."""
        return self._raw_predict(lcs)[0][:, 0]


class CutoutClassifier(_Probabilities):
    """Classify image cutouts (galaxy / quasar / star) with any registered image model.

    Parameters
    ----------
    model : str
        An image model from :func:`skyclass.models.list_models` (reads ``image``).
    model_options : dict, optional
        Keyword arguments of the model; ``in_channels`` and ``image_size`` are set
        from the data.
    input : {"rgb", "stamps"}
        ``rgb``: the Lupton-stretched gri colour image (what gao2023 classified),
        scaled to [0, 1]; ``stamps``: the per-band float stamps, each band divided by
        a robust scale of the *training* stamps' pixels and passed through asinh.
    augment : bool
        gao2023's random rotation (±90°) and flips of every training batch
        (:func:`skyclass.augment.images.augment_batch`); never of validation or
        test images.
    train, validation_fraction, calibration, ood, ood_known_rate, random_state, run_dir, progress
        As in :class:`LightCurveClassifier`.

    Examples
    --------
    >>> from skyclass.images.cutouts import Cutouts
    >>> rng = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[:16, :16] - 7.5
    >>> widths = np.where(np.arange(24) % 2, 1.0, 3.0)       # "star" narrow, "galaxy" wide
    >>> stamps = np.exp(-(xx**2 + yy**2)[None, None] / (2 * widths[:, None, None, None] ** 2))
    >>> stamps = np.repeat(stamps, 3, axis=1) + rng.normal(0, 0.01, (24, 3, 16, 16))
    >>> cut = Cutouts(ids=np.arange(24).astype(str), ra=np.zeros(24), dec=np.zeros(24),
    ...               bands=("g", "r", "i"), stamps=stamps.astype(np.float32),
    ...               labels=np.where(np.arange(24) % 2, "star", "galaxy"))
    >>> clf = CutoutClassifier(model="resnet18", input="stamps", progress=False,
    ...                        train={"max_epochs": 2, "batch_size": 8}).fit(cut)
    >>> clf.predict_proba(cut).shape
    (24, 2)
    """

    def __init__(
        self,
        *,
        model: str = "gao2023_resnet50_gqs",
        model_options: Mapping[str, Any] | None = None,
        input: str = "rgb",
        augment: bool = True,
        train: Any = None,
        validation_fraction: float = 0.1,
        calibration: str | None = "temperature",
        ood: str | None = "max_softmax",
        ood_known_rate: float = 0.05,
        random_state: int = 0,
        run_dir: str | PathLike[str] | None = None,
        progress: bool = True,
    ):
        self.model = model
        self.model_options = model_options
        self.input = input
        self.augment = augment
        self.train = train
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.ood = ood
        self.ood_known_rate = ood_known_rate
        self.random_state = random_state
        self.run_dir = run_dir
        self.progress = progress

    def _images(self, cutouts: Any) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
        """(N, C, H, W) float32 model inputs, a valid flag and reasons for invalid ones."""
        if self.input == "rgb":
            if getattr(cutouts, "rgb", None) is None:
                raise DataError("these cutouts have no RGB images; use input='stamps'")
            images = np.moveaxis(np.asarray(cutouts.rgb, np.float32) / 255.0, -1, 1)
        elif self.input == "stamps":
            stamps = np.asarray(cutouts.stamps, np.float32)
            if not hasattr(self, "pixel_scale_"):
                finite = stamps[np.isfinite(stamps)]
                mad = np.median(np.abs(finite - np.median(finite))) if finite.size else 1.0
                self.pixel_scale_ = float(1.4826 * mad) if mad > 0 else 1.0
            images = np.arcsinh(stamps / self.pixel_scale_).astype(np.float32)
        else:
            raise ValueError(f"input must be 'rgb' or 'stamps', got {self.input!r}")
        valid = np.isfinite(images.reshape(len(images), -1)).all(axis=1)
        ids = [str(i) for i in np.asarray(cutouts.ids)]
        errors = {ids[i]: "non-finite pixels" for i in np.flatnonzero(~valid)}
        return np.nan_to_num(images), valid, errors

    def fit(self, cutouts: Any, *, val: Any = None) -> CutoutClassifier:
        """Train on ``cutouts`` (a :class:`skyclass.images.cutouts.Cutouts` with ``labels``)."""
        from skyclass.augment.images import augment_batch
        from skyclass.training import TrainConfig, fit, train_val_split

        check_options(self.model, self.model_options, self.train)
        if getattr(cutouts, "labels", None) is None:
            raise DataError("the cutouts have no labels; give Cutouts(labels=...) to train")
        labels = np.array([str(x) for x in cutouts.labels])
        self.classes_ = tuple(sorted(set(labels)))
        if hasattr(self, "pixel_scale_"):
            del self.pixel_scale_
        images, valid, errors = self._images(cutouts)
        y = np.array([self.classes_.index(x) for x in labels])
        keep = np.flatnonzero(valid)
        val_images = val_y = None
        if val is not None:
            vimg, vvalid, verr = self._images(val)
            errors.update(verr)
            val_images = vimg[vvalid]
            val_y = np.array([self.classes_.index(str(x)) for x in np.asarray(val.labels)[vvalid]])
        elif self.validation_fraction > 0:
            fit_idx, val_idx = train_val_split(
                keep, y, self.validation_fraction, seed=self.random_state
            )
            val_images, val_y, keep = images[val_idx], y[val_idx], fit_idx
        train_cfg = self.train.model_dump() if isinstance(self.train, TrainConfig) else self.train
        val_arrays = None if val_y is None else {"image": val_images}
        fitted = fit(
            self.model,
            {"image": images[keep]},
            y[keep],
            val_arrays=val_arrays,
            val_targets=val_y,
            num_outputs=len(self.classes_),
            model_options={  # the cutouts fix the input sizes
                **dict(self.model_options or {}),
                "in_channels": int(images.shape[1]),
                "image_size": int(images.shape[-1]),
            },
            train=train_cfg,
            seed=self.random_state,
            augment=augment_batch if self.augment else None,
            run_dir=self.run_dir,
        )
        self.model_, self.trainer_, self.history_ = fitted.model, fitted.trainer, fitted.history
        self.train_config_ = fitted.config
        self.fit_report_ = {
            "n_train": int(keep.size),
            "n_val": 0 if val_y is None else len(val_y),
            "skipped": errors,
            "epochs": len(self.history_),
        }
        self._fit_calibration(val_arrays, val_y, {"image": images[keep]}, y[keep])
        return self

    def _raw_predict(self, cutouts: Any, *, embedding: bool = False) -> tuple:
        """Uncalibrated probabilities, valid flags and reasons (and embeddings when asked)."""
        self._check_is_fitted()
        images, valid, errors = self._images(cutouts)
        n_out = len(self.classes_)
        return _predict_rows(self, {"image": images}, valid, errors, n_out, embedding)

    def save(self, directory: str | PathLike[str], *, card: Mapping[str, Any] | None = None):
        """Write the model directory (safetensors weights + JSON); returns its path."""
        from skyclass.models import save_model

        self._check_is_fitted()
        preprocessing = {
            "estimator": type(self).__name__,
            "task": "classification",
            "input": self.input,
            "pixel_scale": getattr(self, "pixel_scale_", None),
            "train": self.train_config_.model_dump(mode="json"),
            "random_state": self.random_state,
            **self._calibration_state(),
        }
        full_card = {"fit": getattr(self, "fit_report_", {}), **dict(card or {})}
        return save_model(
            self.model_,
            directory,
            class_names=list(self.classes_),
            preprocessing=preprocessing,
            card=json.loads(json.dumps(full_card, default=str)),
            overwrite=True,
        )

    @classmethod
    def load(cls, directory: str | PathLike[str]) -> CutoutClassifier:
        """Rebuild a fitted classifier from :meth:`save`'s directory (no unpickling)."""
        from skyclass.models import load_model
        from skyclass.training import TrainConfig

        model, info = load_model(Path(directory))
        prep = info["preprocessing"]
        if prep.get("estimator") != cls.__name__:
            raise DataError(
                f"{directory} holds a {prep.get('estimator')}, not a {cls.__name__}",
                source=str(directory),
            )
        est = cls(
            model=model.config["name"],
            input=prep["input"],
            random_state=prep["random_state"],
            progress=False,
        )
        est.model_ = model
        est.classes_ = tuple(info["class_names"])
        if prep.get("pixel_scale") is not None:
            est.pixel_scale_ = float(prep["pixel_scale"])
        est.train_config_ = TrainConfig(**prep["train"])
        est._restore_calibration(prep)
        est.fit_report_ = (info.get("card") or {}).get("fit", {})
        return est


class EnsembleClassifier:
    """Fitted classifiers of the same classes, averaged, with their disagreement per object.

    ``predict_table`` averages the members' (calibrated) probabilities and adds
    ``ensemble_std`` (the spread of the chosen class's probability across
    members), ``ensemble_disagreement`` (share of members whose own top class
    differs from the ensemble's) and ``conflict`` (some member disagrees); the
    unknown-class score is the members' mean and ``unknown`` their majority.
    ``save`` writes one directory per member and ``ensemble.json``;
    :func:`skyclass.predict.predict_catalogue` reads such a directory as one model.

    Parameters
    ----------
    members : sequence of LightCurveClassifier or CutoutClassifier
        Fitted, with the same ``classes_``.

    Examples
    --------
    >>> import numpy as np
    >>> from skyclass import LightCurve, LightCurveSet
    >>> rng = np.random.default_rng(0)
    >>> curves = [LightCurve(time=np.sort(rng.uniform(0, 50, 60)),
    ...                      mag=15 + rng.normal(0, 0.1 + 0.2 * (i % 2), 60),
    ...                      err=np.full(60, 0.05), band="V", id=str(i)) for i in range(24)]
    >>> s = LightCurveSet.from_lightcurves(curves, labels=["quiet", "noisy"] * 12)
    >>> s = s.with_objects(s.objects.assign(period=1.3))
    >>> members = [LightCurveClassifier(model="mlp_features", validation_fraction=0,
    ...                                 train={"max_epochs": 5}, random_state=k,
    ...                                 progress=False).fit(s) for k in range(2)]
    >>> table = EnsembleClassifier(members).predict_table(s)
    >>> {"ensemble_std", "ensemble_disagreement", "conflict"} <= set(table.columns)
    True
    """

    task: ClassVar[str] = "classification"

    def __init__(self, members: Any):
        self.members = list(members)
        if not self.members:
            raise ValueError("an ensemble needs at least one member")
        classes = {tuple(m.classes_) for m in self.members}
        if len(classes) != 1:
            raise DataError(f"the members were trained on different classes: {sorted(classes)}")
        self.classes_ = tuple(self.members[0].classes_)

    def __len__(self) -> int:
        return len(self.members)

    def predict_table(self, data: Any) -> pd.DataFrame:
        """One row per object: averaged probabilities, the prediction and the members' spread."""
        from skyclass.training.ensemble import ensemble_spread

        tables = [m.predict_table(data) for m in self.members]
        cols = [f"prob_{c}" for c in self.classes_]
        probas = [t[cols].to_numpy(float) for t in tables]
        mean = np.mean(probas, axis=0)
        ok = np.isfinite(mean).all(axis=1)
        out = pd.DataFrame({"object_id": tables[0]["object_id"]})
        predicted = np.full(len(mean), None, dtype=object)
        predicted[ok] = np.asarray(self.classes_, dtype=object)[np.argmax(mean[ok], axis=1)]
        out["predicted"] = predicted
        for i, col in enumerate(cols):
            out[col] = mean[:, i]
        std = np.full(len(mean), np.nan)
        disagreement = np.full(len(mean), np.nan)
        if ok.any():
            spread = ensemble_spread([p[ok] for p in probas])
            std[ok], disagreement[ok] = spread["std_predicted"], spread["disagreement"]
        out["ensemble_std"] = std
        out["ensemble_disagreement"] = disagreement
        out["conflict"] = np.nan_to_num(disagreement) > 0
        if all("ood_score" in t.columns for t in tables):
            out["ood_score"] = np.mean([t["ood_score"].to_numpy(float) for t in tables], axis=0)
            votes = np.mean([t["unknown"].to_numpy(bool) for t in tables], axis=0)
            out["unknown"] = votes > 0.5
        out["error"] = tables[0]["error"]
        return out

    def save(self, directory: str | PathLike[str]) -> Path:
        """``directory/member-<k>/`` per member and ``ensemble.json`` naming them."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        names = []
        for k, member in enumerate(self.members):
            names.append(f"member-{k}")
            member.save(directory / names[-1])
        kinds = [type(m).__name__ for m in self.members]
        text = json.dumps({"members": names, "estimators": kinds}, indent=1)
        (directory / "ensemble.json").write_text(text + "\n")
        return directory

    @staticmethod
    def listing(directory: str | PathLike[str]) -> dict[str, list[str]]:
        """The members (folder names inside ``directory``) and their estimator classes,
        as ``ensemble.json`` lists them.

        Raises
        ------
        DataError
            ``ensemble.json`` is not JSON, or does not list one plain folder name and
            one estimator per member (named, with the fix).
        """
        path = Path(directory) / "ensemble.json"
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(
                f"not valid JSON ({exc}); save the ensemble again", source=str(path)
            ) from None
        members = info.get("members") if isinstance(info, dict) else None
        kinds = info.get("estimators") if isinstance(info, dict) else None
        plain = isinstance(members, list) and all(
            isinstance(m, str) and m and Path(m).name == m and m not in {".", ".."} for m in members
        )
        if not plain or not isinstance(kinds, list) or len(kinds) != len(members):
            raise DataError(
                "must list 'members' (folder names inside the ensemble's directory) and one "
                "entry of 'estimators' per member; save the ensemble again",
                source=str(path),
            )
        return {"members": members, "estimators": [str(k) for k in kinds]}

    @classmethod
    def load(cls, directory: str | PathLike[str]) -> EnsembleClassifier:
        """Rebuild from :meth:`save`'s directory."""
        directory = Path(directory)
        info = cls.listing(directory)
        kinds = {"LightCurveClassifier": LightCurveClassifier, "CutoutClassifier": CutoutClassifier}
        members = []
        for name, kind in zip(info["members"], info["estimators"], strict=True):
            if kind not in kinds:
                raise DataError(f"unknown member estimator {kind!r}", source=str(directory))
            members.append(kinds[kind].load(directory / name))
        return cls(members)
