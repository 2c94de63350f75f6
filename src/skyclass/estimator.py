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

import inspect
import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError, NotFittedError
from skyclass.lightcurve import LightCurveSet

__all__ = ["DEFAULT_REPRESENTATIONS", "LightCurveClassifier", "LightCurveRegressor"]

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

#: Model option set from the shape of an input array: key -> [(option, axis)].
_SHAPE_OPTIONS = {
    "seq": [("seq_channels", -1)],
    "features": [("num_features", -1)],
    "grid": [("in_channels", 0), ("length", 1)],
    "dmdt": [("in_channels", 0), ("height", 1), ("width", 2)],
    "image": [("image_channels", 0)],
}


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


class LightCurveClassifier:
    """Classify light curves with any registered model.

    Parameters
    ----------
    model : str
        A name from :func:`skyclass.models.list_models`.
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
    ood : {"max_softmax", "entropy"} or None
        Unknown-class score reported by :meth:`predict_table` (``ood_score``,
        ``unknown``), its threshold chosen so that ``ood_known_rate`` of the
        validation objects are flagged (:mod:`skyclass.evaluate.ood`).
    ood_known_rate : float
    random_state : int
        Seeds the validation split, the weights and the data order.
    run_dir : path-like, optional
        Checkpoint folder: training resumes from it after a crash.
    progress : bool
        Progress bars on long steps.
    """

    task: ClassVar[str] = "classification"

    def __init__(
        self,
        *,
        model: str = "kang2023_rnn",
        model_options: Mapping[str, Any] | None = None,
        representations: Mapping[str, Mapping[str, Any]] | None = None,
        train: Any = None,
        validation_fraction: float = 0.1,
        period: str = "auto",
        period_options: Mapping[str, Any] | None = None,
        calibration: str | None = "temperature",
        ood: str | None = "max_softmax",
        ood_known_rate: float = 0.05,
        random_state: int = 0,
        run_dir: str | PathLike[str] | None = None,
        progress: bool = True,
    ):
        self.model = model
        self.model_options = model_options
        self.representations = representations
        self.train = train
        self.validation_fraction = validation_fraction
        self.period = period
        self.period_options = period_options
        self.calibration = calibration
        self.ood = ood
        self.ood_known_rate = ood_known_rate
        self.random_state = random_state
        self.run_dir = run_dir
        self.progress = progress

    # ------------------------------------------------------------ helpers
    def _check_is_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit() or load() first"
            )

    def _with_periods(self, lcs: LightCurveSet, period: str, options: Mapping[str, Any]):
        """``lcs`` with a finite ``period`` for every object where it can be found."""
        if period not in {"auto", "column", "search"}:
            raise ValueError(f"period must be 'auto', 'column' or 'search', got {period!r}")
        have = "period" in lcs.objects.columns
        values = lcs.objects["period"].to_numpy(float) if have else np.full(len(lcs), np.nan)
        if period == "column":
            if not have:
                raise DataError("period='column' but the set has no 'period' column")
            return lcs
        missing = np.ones(len(lcs), bool) if period == "search" else ~np.isfinite(values)
        if missing.any():
            from skyclass.preprocess.period import PeriodConfig, PeriodSearch

            cfg = PeriodConfig(**dict(options))
            found = PeriodSearch(**cfg.search_options()).transform_many(
                lcs.select(np.flatnonzero(missing)), progress=self.progress
            )
            values = values.copy()
            values[missing] = found["period"].to_numpy(float)
        return lcs.with_objects(lcs.objects.assign(period=values))

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
            out = _build_representation(name, options).transform_many(lcs)
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
        from skyclass.models import create_model, get_model_spec
        from skyclass.represent import FeatureScaler
        from skyclass.training import TrainConfig, Trainer, seed_everything

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
            self.scaler_ = FeatureScaler(method="robust").fit(
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

        spec = get_model_spec(self.model)
        accepted = inspect.signature(spec.factory).parameters
        options = dict(self.model_options or {})
        for key, rules in _SHAPE_OPTIONS.items():
            if key in arrays and key in spec.input_keys:
                for option, axis in rules:
                    if option in accepted:
                        options.setdefault(option, int(arrays[key].shape[1:][axis]))
        options["num_outputs"] = len(self.classes_) if self.task == "classification" else 1
        train_cfg = self.train
        if isinstance(train_cfg, TrainConfig):
            train_cfg = train_cfg.model_dump()
        train_cfg = {
            "early_stopping_patience": 10 if val_arrays is not None else None,
            "monitor": "val_loss" if val_arrays is not None else "train_loss",
            **dict(train_cfg or {}),
            "seed": self.random_state,
            "task": self.task,
        }
        self.train_config_ = TrainConfig(**train_cfg)
        seed_everything(self.random_state)
        self.model_ = create_model(self.model, **options)
        self.trainer_ = Trainer(self.model_, self.train_config_, run_dir=self.run_dir)
        self.history_ = self.trainer_.fit(arrays, y, val_arrays, val_y)
        self.fit_report_ = {
            "n_train": int(keep.size),
            "n_val": 0 if val_y is None else len(val_y),
            "skipped": skipped,
            "bands": list(self.bands_),
            "epochs": len(self.history_),
        }
        self._fit_calibration(val_arrays, val_y)
        return self

    def _fit_calibration(self, val_arrays: dict | None, val_y: np.ndarray | None) -> None:
        """Calibrator and unknown-class threshold from the validation objects."""
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
        proba = self.trainer_.predict(val_arrays)
        report: dict[str, Any] = {"val_ece_before": expected_calibration_error(proba, val_y)}
        if self.calibration is not None:
            self.calibrator_ = CALIBRATORS[self.calibration]().fit(proba, val_y)
            proba = self.calibrator_.transform(proba)
            report["val_ece_after"] = expected_calibration_error(proba, val_y)
            report["calibrator"] = self.calibrator_.to_dict()
        if self.ood is not None:
            self.ood_ = OODScorer(method=self.ood, known_rate=self.ood_known_rate).fit(proba)
            report["ood"] = self.ood_.to_dict()
        self.fit_report_["calibration"] = report

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        return self._targets(labels)

    # ------------------------------------------------------------ predict
    def _raw_predict(self, lcs: LightCurveSet) -> tuple[np.ndarray, np.ndarray, dict]:
        from skyclass.training import Trainer

        self._check_is_fitted()
        arrays, valid, errors = self._arrays(lcs)
        width = len(self.classes_) if self.task == "classification" else 1
        out = np.full((len(lcs), width), np.nan)
        keep = np.flatnonzero(valid)
        if keep.size:
            trainer = getattr(self, "trainer_", None) or Trainer(self.model_, self.train_config_)
            pred = trainer.predict({k: v[keep] for k, v in arrays.items()})
            out[keep] = pred.reshape(keep.size, -1)
        return out, valid, errors

    def _calibrated(self, proba: np.ndarray) -> np.ndarray:
        calibrator = getattr(self, "calibrator_", None)
        ok = np.isfinite(proba).all(axis=1)
        if calibrator is None or not ok.any():
            return proba
        out = proba.copy()
        out[ok] = calibrator.transform(proba[ok])
        return out

    def predict_proba(self, lcs: LightCurveSet, *, calibrated: bool = True) -> np.ndarray:
        """(N, n_classes) probabilities in ``classes_`` order; NaN rows where not represented.

        ``calibrated=False`` gives the network's own softmax, before calibration.
        """
        proba = self._raw_predict(lcs)[0]
        return self._calibrated(proba) if calibrated else proba

    def predict(self, lcs: LightCurveSet) -> np.ndarray:
        """Predicted class per object (None where the object could not be represented)."""
        proba = self.predict_proba(lcs)
        out = np.full(len(lcs), None, dtype=object)
        ok = np.isfinite(proba).all(axis=1)
        out[ok] = np.asarray(self.classes_, dtype=object)[np.argmax(proba[ok], axis=1)]
        return out

    def predict_table(self, lcs: LightCurveSet) -> pd.DataFrame:
        """One row per object: ``object_id``, ``predicted``, ``prob_<class>`` per class
        (calibrated when the model is), ``ood_score`` and ``unknown`` (when the model
        has an unknown-class threshold) and ``error`` (why an object has no prediction).
        """
        raw, _, errors = self._raw_predict(lcs)
        return self._table(lcs.ids, raw, errors)

    def _table(self, ids: np.ndarray, raw: np.ndarray, errors: Mapping[str, str]) -> pd.DataFrame:
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
            table["ood_score"] = ood.score(proba)
            table["unknown"] = ood.flag(proba)
        table["error"] = [errors.get(str(i), "") for i in ids]
        return table

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
            "calibration": (
                None if getattr(self, "calibrator_", None) is None else self.calibrator_.to_dict()
            ),
            "ood": None if getattr(self, "ood_", None) is None else self.ood_.to_dict(),
        }

    def save(self, directory: str | PathLike[str], *, card: Mapping[str, Any] | None = None):
        """Write the model directory (safetensors weights + JSON); returns its path."""
        from skyclass.models import save_model

        self._check_is_fitted()
        full_card = {
            "fit": self.fit_report_,
            "history": self.history_.to_dict(),
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
            from skyclass.evaluate.calibration import calibrator_from_dict
            from skyclass.evaluate.ood import OODScorer

            est.classes_ = tuple(info["class_names"])
            saved = prep.get("calibration")
            est.calibrator_ = None if saved is None else calibrator_from_dict(saved)
            est.calibration = None if saved is None else saved["kind"]
            saved = prep.get("ood")
            est.ood_ = None if saved is None else OODScorer.from_dict(saved)
            est.ood = None if saved is None else saved["method"]
        card = info.get("card") or {}
        est.fit_report_ = card.get("fit", {})
        return est


class LightCurveRegressor(LightCurveClassifier):
    """Regress a number per light curve (e.g. [Fe/H]) with any model that supports regression.

    Parameters are those of :class:`LightCurveClassifier`; the default model is
    ``monti2024_gru`` on phase sequences.
    """

    task: ClassVar[str] = "regression"

    def __init__(self, *, model: str = "monti2024_gru", **kwargs: Any):
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
