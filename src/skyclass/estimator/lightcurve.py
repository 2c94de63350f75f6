"""Light-curve estimators: ``LightCurveClassifier`` and ``LightCurveRegressor``.

Both take a :class:`~skyclass.lightcurve.LightCurveSet`, build the inputs the
chosen model reads (each from one curve only), fit a feature scaler on training
objects only, carve a validation set from the training objects (by object,
stratified, seeded) for early stopping, and train with
:func:`skyclass.training.fit`. A fitted estimator saves to a directory of
safetensors weights and JSON (never pickle) and loads back to give identical
predictions.

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
>>> inputs = clf.transform(s)                 # what the network reads
>>> inputs.arrays["grid"].shape, int(inputs.valid.sum())
((40, 1, 64), 40)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from os import PathLike
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from skyclass.estimator.base import (
    SAVED_ESTIMATORS,
    ModelInputs,
    NetworkEstimator,
    ProbabilisticClassifier,
    check_options,
    representation_builder,
    saved_estimator,
)
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet
from skyclass.preprocess.period import fill_periods
from skyclass.represent.cache import cached_transform_many

__all__ = [
    "DEFAULT_REPRESENTATIONS",
    "LightCurveClassifier",
    "LightCurveRegressor",
]


class _DefaultInputs(Mapping[str, dict[str, dict[str, Any]]]):
    """Read-only view of the inputs each model reads by default, as the registry declares them.

    ``view[model]`` is ``{representation name: options}`` from the model's
    :attr:`~skyclass.models.registry.ModelSpec.inputs` (a copy: editing it changes
    nothing); models that read no light curve (the image models) are not in it.

    Examples
    --------
    >>> DEFAULT_REPRESENTATIONS["akhmetali2025_cnn"]
    {'grid': {'n': 512}}
    >>> "resnet18" in DEFAULT_REPRESENTATIONS
    False
    """

    def __getitem__(self, model: str) -> dict[str, dict[str, Any]]:
        from skyclass.models import get_model_spec, list_models

        if model not in list_models() or get_model_spec(model).inputs is None:
            raise KeyError(model)
        return copy.deepcopy(dict(get_model_spec(model).inputs))

    def __iter__(self) -> Iterator[str]:
        from skyclass.models import get_model_spec, list_models

        return iter([m for m in list_models() if get_model_spec(m).inputs is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"DefaultInputs({dict(self)!r})"


#: The inputs each model reads by default: model -> {representation name: options}.
DEFAULT_REPRESENTATIONS = _DefaultInputs()

#: Representation option that names the bands, and whether it takes one band or several.
_BAND_OPTION = {
    "sequence": ("band_order", "many"),
    "phase_sequence": ("band", "one"),
    "grid": ("bands", "many"),
    "dmdt": ("bands", "many"),
    "image": ("band", "one"),
    "features": ("bands", "many"),
}


def _build_representation(name: str, options: Mapping[str, Any]) -> Any:
    return representation_builder(name, options)(
        **{k: v for k, v in options.items() if k != "preset"}
    )


def _labelled(lcs: LightCurveSet) -> LightCurveSet:
    """The objects of ``lcs`` that have a label."""
    labels = lcs.objects["label"] if "label" in lcs.objects.columns else None
    if labels is None:
        raise DataError("the training set has no 'label' column")
    keep = labels.notna().to_numpy()
    if not keep.any():
        raise DataError("no training object has a label")
    return lcs.select(np.flatnonzero(keep))


class _LightCurveEstimator(NetworkEstimator):
    """What the light-curve classifier and regressor share: inputs, fit, save and load.

    A subclass defines ``__init__`` (keyword-only, storing its arguments) and
    ``encode_labels``. For a classifier ``fit`` also learns ``classes_`` before the
    targets are encoded, and calibrates after training.
    """

    # ------------------------------------------------------------ inputs
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

    def transform(self, lcs: LightCurveSet) -> ModelInputs:
        """The network's inputs for ``lcs``: every representation, stacked, features scaled.

        Periods come as in ``fit`` (``period``, ``period_options``). An object that a
        representation cannot take, or whose inputs are not finite, is flagged
        invalid with the reason.

        Raises
        ------
        DataError
            ``lcs`` lacks a band the model was trained on.
        """
        self.check_is_fitted()
        return self._inputs(lcs)

    def _inputs(self, lcs: LightCurveSet) -> ModelInputs:
        """``transform`` for the fitted representations, also while ``fit`` runs."""
        missing = sorted(set(self.bands_) - set(lcs.bands))
        if missing:
            raise DataError(
                f"the model was trained on bands {list(self.bands_)} but this set lacks "
                f"{missing}; give it curves in those bands"
            )
        lcs = fill_periods(
            lcs, period=self.period, options=self.period_options or {}, progress=self.progress
        )
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
        return ModelInputs(arrays, valid, errors)

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
        """Loss weight per class index from the training targets (None: unweighted)."""
        return None

    def encode_labels(self, labels: Any) -> np.ndarray:
        """The network's targets for ``labels``."""
        raise NotImplementedError

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
        lcs = _labelled(lcs)
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
        arrays, valid, errors = self._inputs(lcs)
        if "features" in arrays:
            mask = arrays.get("features_mask")
            self.scaler_ = FeatureScaler(method=self._feature_scaling()).fit(
                arrays["features"][valid], mask=None if mask is None else mask[valid]
            )
            arrays["features"] = self.scaler_.transform(arrays["features"], mask=mask)
        keep = np.flatnonzero(valid)
        if keep.size == 0:
            first = "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:3])
            raise DataError(f"no training object could be represented; first reasons: {first}")
        arrays = {k: v[keep] for k, v in arrays.items()}
        y = self.encode_labels(lcs.labels[keep])
        val_arrays = val_y = None
        skipped = {**errors}
        if val is not None:
            val = _labelled(val)
            va, vvalid, verrors = self._inputs(val)
            skipped.update(verrors)
            vkeep = np.flatnonzero(vvalid)
            val_arrays = {k: v[vkeep] for k, v in va.items()}
            val_y = self.encode_labels(val.labels[vkeep])

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
            num_outputs=self._output_width(),
            task=self.task,
            model_options=self.model_options,
            # the class weights from the data, under the user's own training settings
            train={**({"class_weights": weights} if weights else {}), **dict(train_cfg or {})},
            seed=self.random_state,
            augment=augment,
            run_dir=self.run_dir,
            on_epoch_end=self.on_epoch_end,
        )
        self._keep_fitted(
            fitted, n_train=keep.size, val_y=val_y, skipped=skipped, bands=list(self.bands_)
        )
        self._calibrate(val_arrays, val_y, arrays, y)
        return self

    # ------------------------------------------------------- persistence
    def _preprocessing(self) -> dict[str, Any]:
        return {
            "estimator": type(self).__name__,
            "task": self.task,
            "params": self._saved_params(),
            "bands": list(self.bands_),
            "representations": self.representation_options_,
            "period": self.period,
            "period_options": dict(self.period_options or {}),
            "train": self.train_config_.model_dump(mode="json"),
            "random_state": self.random_state,
        }

    def save(self, directory: str | PathLike[str], *, card: Mapping[str, Any] | None = None):
        """Write the model directory (safetensors weights + JSON); returns its path."""
        from skyclass.models import save_model

        self.check_is_fitted()
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
        """Rebuild a fitted estimator from :meth:`save`'s directory (no unpickling).

        Its constructor parameters are those it was saved with (without
        ``progress``, ``run_dir`` and ``on_epoch_end``, which belong to the session
        that trained it).
        """
        from skyclass.models import load_model
        from skyclass.training import TrainConfig

        model, info = load_model(Path(directory))
        prep = info["preprocessing"]
        if prep.get("estimator") not in {None, cls.__name__}:
            raise DataError(
                f"{directory} holds a {prep.get('estimator')}, not a {cls.__name__}",
                source=str(directory),
            )
        est = cls._from_saved(prep.get("params") or cls._params_of_old_save(model, prep))
        est.model_ = model
        est.bands_ = tuple(prep["bands"])
        est.representation_options_ = prep["representations"]
        est.scaler_ = info["scaler"]
        est.train_config_ = TrainConfig(**prep["train"])
        est._restore_outputs(info)
        card = info.get("card") or {}
        est.fit_report_ = card.get("fit", {})
        est.saved_history_ = card.get("history", {})
        return est

    @classmethod
    def _params_of_old_save(cls, model: Any, prep: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of a model saved before they were recorded, as far as it tells."""
        return {
            "model": model.config["name"],
            "representations": prep["representations"],
            "period": prep["period"],
            "period_options": prep["period_options"],
            "random_state": prep["random_state"],
        }

    def _restore_outputs(self, info: Mapping[str, Any]) -> None:
        """Set what maps the loaded network's outputs to predictions (nothing here)."""


@saved_estimator
class LightCurveClassifier(ProbabilisticClassifier, _LightCurveEstimator):
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
        every curve alike. ``train["class_weights"]`` overrides it.
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

    Attributes
    ----------
    classes_ : tuple of str
        The class names, sorted; the columns of :meth:`predict_proba`.
    bands_ : tuple of str
        The bands of the training set.
    representation_options_ : dict
        The representations' options, bands filled in.
    scaler_ : FeatureScaler or None
        The ``features`` scaler, fitted on the training objects.
    model_, trainer_, history_, train_config_
        The trained network, its trainer, its epochs and its training settings.
    calibrator_, ood_
        The calibrator and the unknown-class scorer (None when not fitted).
    fit_report_ : dict
        Objects trained on and skipped, the epochs and the calibration.
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

    def _class_weights(self, y: np.ndarray | None) -> list[float] | None:
        """Loss weight per class index from the training targets ``y`` (None: only check)."""
        from skyclass.augment.balance import WEIGHT_SCHEMES, class_weights

        if self.class_weight is None:
            return None
        if self.class_weight not in WEIGHT_SCHEMES:
            valid = [s for s in WEIGHT_SCHEMES if s != "none"]
            raise ValueError(
                f"class_weight must be None or one of {valid}, got {self.class_weight!r}"
            )
        if y is None:
            return None
        weights = class_weights(y, self.class_weight)
        return [weights.get(str(i), 0.0) for i in range(len(self.classes_))]

    @classmethod
    def _params_of_old_save(cls, model: Any, prep: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **super()._params_of_old_save(model, prep),
            **cls._old_calibration_params(prep),
        }

    def _preprocessing(self) -> dict[str, Any]:
        return {**super()._preprocessing(), **self._calibration_state()}

    def _restore_outputs(self, info: Mapping[str, Any]) -> None:
        self.classes_ = tuple(info["class_names"])
        self.calibrator_, self.ood_ = self._saved_calibration(info["preprocessing"])

    @classmethod
    def pretrained(cls, name: str = "general") -> Any:
        """A model shipped with skyclass, by name (:mod:`skyclass.pretrained`), fitted.

        Its ``classes_`` are the taxonomy and ``bands_`` the one band it reads (give a
        set that band's name with :func:`skyclass.pretrained.as_model_band`);
        :meth:`predict_table` flags curves unlike every class in ``unknown``. A model
        of several networks (``general`` has three) is an
        :class:`~skyclass.estimator.EnsembleClassifier` of them, which predicts and
        fine-tunes as one model. An unknown ``name`` raises a ``ValueError`` listing
        the shipped ones.

        Examples
        --------
        >>> from skyclass.datasets.general import simulate_general
        >>> est = LightCurveClassifier.pretrained("general")
        >>> est.bands_, len(est.classes_), len(est)
        (('any',), 14, 3)
        >>> table = est.predict_table(simulate_general(n_per_class=1, seed=3))
        >>> len(table), "unknown" in table.columns
        (14, True)
        """
        from skyclass.pretrained import model_dir

        path = model_dir(name)
        if (path / "ensemble.json").is_file():  # several networks: an EnsembleClassifier
            return SAVED_ESTIMATORS["EnsembleClassifier"].load(path)
        return cls.load(path)

    def fine_tune(
        self,
        lcs: LightCurveSet,
        *,
        val: LightCurveSet | None = None,
        train: Mapping[str, Any] | None = None,
        validation_fraction: float = 0.1,
        random_state: int = 0,
        run_dir: str | PathLike[str] | None = None,
        progress: bool = False,
        on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    ) -> LightCurveClassifier:
        """A copy of this fitted classifier trained further on ``lcs``, from its weights.

        The copy keeps the network and its options, the inputs (representations,
        bands, the feature scaler of the first training set) and the period
        settings. When the labels of ``lcs`` are the model's classes the whole
        network starts from its weights; otherwise the output layer (the last
        ``nn.Linear``) is replaced by a new one for the new classes (logged) and
        the layers below start from the weights. Calibration and the unknown-class
        threshold are fitted again on the new validation objects. A run config's
        ``init`` (:class:`skyclass.runs.RunConfig`) calls this.

        Parameters
        ----------
        lcs : LightCurveSet
            Labelled curves in the model's bands
            (:func:`skyclass.pretrained.as_model_band` renames a survey's band).
        val : LightCurveSet, optional
            Validation curves; otherwise ``validation_fraction`` of ``lcs`` (by
            object, stratified, seeded by ``random_state``) is held out.
        train : mapping, optional
            Training settings over the model's own (a smaller ``lr``, say).
        validation_fraction, random_state, run_dir, progress, on_epoch_end
            As in the constructor, for this training.

        Returns
        -------
        LightCurveClassifier
            Fitted; ``fit_report_["init"]`` says whether the output layer was kept.

        Examples
        --------
        >>> from skyclass.datasets.general import simulate_general
        >>> from skyclass.pretrained import model_dir, network_dir
        >>> base = LightCurveClassifier.load(network_dir(model_dir("general")))  # one network
        >>> tuned = base.fine_tune(simulate_general(n_per_class=4, seed=2), train={"max_epochs": 1})
        >>> tuned.classes_ == base.classes_, tuned.fit_report_["init"]["output_layer"]
        (True, 'kept')
        """
        self.check_is_fitted()
        est = copy.copy(self)
        est.set_params(
            train=dict(train or {}),
            validation_fraction=validation_fraction,
            random_state=random_state,
            run_dir=run_dir,
            progress=progress,
            on_epoch_end=on_epoch_end,
        )
        return est._fit_from(self, lcs, val)

    def _fit_from(
        self, base: LightCurveClassifier, lcs: LightCurveSet, val: LightCurveSet | None
    ) -> LightCurveClassifier:
        """:meth:`fine_tune` on this copy of ``base`` (its training parameters already set)."""
        import logging

        from skyclass.training import fit
        from skyclass.training.loop import output_layer

        lcs = _labelled(lcs)
        if val is None and self.validation_fraction > 0:
            parts = lcs.split(
                (1 - self.validation_fraction, self.validation_fraction),
                names=("train", "val"),
                stratify=True,
                seed=self.random_state,
            )
            lcs, val = parts["train"], parts.get("val")
        self.classes_ = tuple(sorted({str(x) for x in lcs.labels}))
        state = base.model_.state_dict()
        kept = self.classes_ == tuple(base.classes_)
        if not kept:
            head = output_layer(base.model_)
            name = next(n for n, m in base.model_.named_modules() if m is head)
            state = {k: v for k, v in state.items() if not k.startswith(f"{name}.")}
            logging.getLogger(__name__).info(
                "the labels %s are not the model's classes %s: its output layer %r is "
                "replaced by a new one; the layers below start from its weights",
                list(self.classes_), list(base.classes_), name,
            )  # fmt: skip
        arrays, valid, errors = self.transform(lcs)
        keep = np.flatnonzero(valid)
        if keep.size == 0:
            first = "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:3])
            raise DataError(f"no training object could be represented; first reasons: {first}")
        arrays = {k: v[keep] for k, v in arrays.items()}
        y = self.encode_labels(lcs.labels[keep])
        val_arrays = val_y = None
        skipped = dict(errors)
        if val is not None:
            val = _labelled(val)
            va, vvalid, verrors = self.transform(val)
            skipped.update(verrors)
            seen = np.isin([str(x) for x in val.labels], self.classes_)
            vkeep = np.flatnonzero(vvalid & seen)
            val_arrays = {k: v[vkeep] for k, v in va.items()}
            val_y = self.encode_labels(val.labels[vkeep])
        options = {k: v for k, v in base.model_.config.items() if k not in ("name", "num_outputs")}
        weights = self._class_weights(y)
        fitted = fit(
            base.model_.config["name"],
            arrays,
            y,
            val_arrays=val_arrays,
            val_targets=val_y,
            num_outputs=len(self.classes_),
            model_options=options,
            train={**({"class_weights": weights} if weights else {}), **dict(self.train or {})},
            seed=self.random_state,
            augment=self._grid_augment(),
            prepare=lambda net: net.load_state_dict(state, strict=kept),
            run_dir=self.run_dir,
            on_epoch_end=self.on_epoch_end,
        )
        init = {"from_classes": list(base.classes_), "output_layer": "kept" if kept else "replaced"}
        self._keep_fitted(
            fitted, n_train=keep.size, val_y=val_y, skipped=skipped, bands=list(self.bands_),
            init=init,
        )  # fmt: skip
        self._calibrate(val_arrays, val_y, arrays, y)
        return self


class LightCurveRegressor(_LightCurveEstimator):
    """Regress a number per light curve (e.g. [Fe/H]) with any model that supports regression.

    Parameters are those of :class:`LightCurveClassifier` without the
    classification ones (``class_weight``, ``calibration``, ``ood``,
    ``ood_known_rate``); the default model is ``foldnet`` (the folded curve and
    the numeric features), as for classification. The attributes are the
    classifier's, without ``classes_``, ``calibrator_`` and ``ood_``.

    Examples
    --------
    >>> reg = LightCurveRegressor(model="mlp_features")
    >>> hasattr(reg, "predict_proba"), sorted(reg.get_params())[:3]
    (False, ['augment', 'feature_scaling', 'model'])
    """

    task: ClassVar[str] = "regression"

    def __init__(
        self,
        *,
        model: str = "foldnet",
        model_options: Mapping[str, Any] | None = None,
        representations: Mapping[str, Mapping[str, Any]] | None = None,
        train: Any = None,
        validation_fraction: float = 0.1,
        feature_scaling: str = "auto",
        augment: bool | str | Mapping[str, Any] = "auto",
        period: str = "auto",
        period_options: Mapping[str, Any] | None = None,
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
        self.augment = augment
        self.period = period
        self.period_options = period_options
        self.random_state = random_state
        self.run_dir = run_dir
        self.progress = progress
        self.on_epoch_end = on_epoch_end

    def encode_labels(self, labels: Any) -> np.ndarray:
        """The regression targets: ``labels`` as float32 numbers.

        Raises
        ------
        DataError
            A target that is not a finite number.

        Examples
        --------
        >>> LightCurveRegressor().encode_labels([-1.5, 0.25]).tolist()
        [-1.5, 0.25]
        """
        values = np.asarray(labels, dtype=np.float32)
        if not np.all(np.isfinite(values)):
            raise DataError("regression targets must be finite numbers")
        return values

    def predict(self, lcs: LightCurveSet) -> np.ndarray:
        """Predicted value per object (NaN where the object could not be represented)."""
        return self.predict_raw(lcs).outputs[:, 0]

    def predict_table(self, lcs: LightCurveSet) -> pd.DataFrame:
        """One row per object: ``object_id``, ``predicted`` (the value) and ``error``
        (why an object has no prediction)."""
        raw = self.predict_raw(lcs)
        return pd.DataFrame(
            {
                "object_id": np.asarray(lcs.ids).astype(str),
                "predicted": raw.outputs[:, 0],
                "error": [raw.errors.get(str(i), "") for i in lcs.ids],
            }
        )
