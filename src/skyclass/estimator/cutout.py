"""``CutoutClassifier``: galaxy / quasar / star from image cutouts with any image model.

Examples
--------
>>> import numpy as np
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
>>> clf.transform(cut).arrays["image"].shape
(24, 3, 16, 16)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skyclass.estimator.base import (
    ModelInputs,
    ProbabilisticClassifier,
    check_options,
    saved_estimator,
)
from skyclass.exceptions import DataError

__all__ = ["CutoutClassifier"]

INPUTS = ("rgb", "stamps")


def _pixel_scale(stamps: np.ndarray) -> float:
    """A robust scale of the finite pixels (1.4826 × their median absolute deviation)."""
    finite = stamps[np.isfinite(stamps)]
    mad = np.median(np.abs(finite - np.median(finite))) if finite.size else 1.0
    return float(1.4826 * mad) if mad > 0 else 1.0


@saved_estimator
class CutoutClassifier(ProbabilisticClassifier):
    """Classify image cutouts (galaxy / quasar / star) with any registered image model.

    Parameters
    ----------
    model : str
        An image model from :func:`skyclass.models.list_models` (reads ``image``).
    model_options : dict, optional
        Keyword arguments of the model; ``in_channels`` and ``image_size`` are set
        from the cutouts (a value given here must agree with them).
    input : {"rgb", "stamps"}
        ``rgb``: the Lupton-stretched gri colour image (what gao2023 classified),
        scaled to [0, 1]; ``stamps``: the per-band float stamps, each band divided by
        a robust scale of the *training* stamps' pixels and passed through asinh.
    augment : bool
        gao2023's random rotation (±90°) and flips of every training batch
        (:func:`skyclass.augment.images.augment_batch`); never of validation or
        test images.
    train, validation_fraction, calibration, ood, ood_known_rate, random_state, run_dir, progress
        As in :class:`~skyclass.estimator.LightCurveClassifier`.

    Attributes
    ----------
    classes_ : tuple of str
        The class names, sorted.
    pixel_scale_ : float or None
        The training stamps' robust pixel scale (``input="stamps"``; None for ``rgb``).
    model_, trainer_, history_, train_config_, calibrator_, ood_, fit_report_
        As in :class:`~skyclass.estimator.LightCurveClassifier`.
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

    def transform(self, cutouts: Any) -> ModelInputs:
        """The network's input ``image``, (N, C, H, W) float32, a valid flag and reasons.

        ``rgb`` images are scaled to [0, 1]; ``stamps`` are divided by the training
        stamps' ``pixel_scale_`` and passed through asinh. Non-finite pixels make an
        object invalid (and are zeroed).
        """
        self.check_is_fitted()
        return self._inputs(cutouts)

    def _inputs(self, cutouts: Any) -> ModelInputs:
        """``transform`` with the fitted pixel scale, also while ``fit`` runs."""
        if self.input == "rgb":
            if getattr(cutouts, "rgb", None) is None:
                raise DataError("these cutouts have no RGB images; use input='stamps'")
            images = np.moveaxis(np.asarray(cutouts.rgb, np.float32) / 255.0, -1, 1)
        else:
            stamps = np.asarray(cutouts.stamps, np.float32)
            images = np.arcsinh(stamps / self.pixel_scale_).astype(np.float32)
        valid = np.isfinite(images.reshape(len(images), -1)).all(axis=1)
        ids = [str(i) for i in np.asarray(cutouts.ids)]
        errors = {ids[i]: "non-finite pixels" for i in np.flatnonzero(~valid)}
        return ModelInputs({"image": np.nan_to_num(images)}, valid, errors)

    def fit(self, cutouts: Any, *, val: Any = None) -> CutoutClassifier:
        """Train on ``cutouts`` (a :class:`skyclass.images.cutouts.Cutouts` with ``labels``)."""
        from skyclass.augment.images import augment_batch
        from skyclass.training import TrainConfig, fit, train_val_split

        check_options(self.model, self.model_options, self.train)
        if self.input not in INPUTS:
            raise ValueError(f"input must be 'rgb' or 'stamps', got {self.input!r}")
        if getattr(cutouts, "labels", None) is None:
            raise DataError("the cutouts have no labels; give Cutouts(labels=...) to train")
        labels = np.array([str(x) for x in cutouts.labels])
        self.classes_ = tuple(sorted(set(labels)))
        self.pixel_scale_ = (
            _pixel_scale(np.asarray(cutouts.stamps, np.float32)) if self.input == "stamps" else None
        )
        inputs = self._inputs(cutouts)
        images, valid, errors = inputs.arrays["image"], inputs.valid, dict(inputs.errors)
        y = self.encode_labels(labels)
        keep = np.flatnonzero(valid)
        val_images = val_y = None
        if val is not None:
            vimg, vvalid, verr = self._inputs(val)
            errors.update(verr)
            val_images = vimg["image"][vvalid]
            val_y = self.encode_labels(np.asarray(val.labels)[vvalid])
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
            model_options=self.model_options,  # the cutouts' shape fixes the input sizes
            train=train_cfg,
            seed=self.random_state,
            augment=augment_batch if self.augment else None,
            run_dir=self.run_dir,
        )
        self._keep_fitted(fitted, n_train=keep.size, val_y=val_y, skipped=errors)
        self._calibrate(val_arrays, val_y, {"image": images[keep]}, y[keep])
        return self

    def save(self, directory: str | PathLike[str], *, card: Mapping[str, Any] | None = None):
        """Write the model directory (safetensors weights + JSON); returns its path."""
        from skyclass.models import save_model

        self.check_is_fitted()
        preprocessing = {
            "estimator": type(self).__name__,
            "task": "classification",
            "params": self._saved_params(),
            "input": self.input,
            "pixel_scale": self.pixel_scale_,
            "train": self.train_config_.model_dump(mode="json"),
            "random_state": self.random_state,
            **self._calibration_state(),
        }
        full_card = {"fit": self.fit_report_, **dict(card or {})}
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
        """Rebuild a fitted classifier from :meth:`save`'s directory (no unpickling).

        Its constructor parameters are those it was saved with (without
        ``progress`` and ``run_dir``, which belong to the session that trained it).
        """
        from skyclass.models import load_model
        from skyclass.training import TrainConfig

        model, info = load_model(Path(directory))
        prep = info["preprocessing"]
        if prep.get("estimator") != cls.__name__:
            raise DataError(
                f"{directory} holds a {prep.get('estimator')}, not a {cls.__name__}",
                source=str(directory),
            )
        params = prep.get("params") or {
            "model": model.config["name"],
            "input": prep["input"],
            "random_state": prep["random_state"],
            **cls._old_calibration_params(prep),
        }
        est = cls._from_saved(params)
        est.model_ = model
        est.classes_ = tuple(info["class_names"])
        scale = prep.get("pixel_scale")
        est.pixel_scale_ = None if scale is None else float(scale)
        est.train_config_ = TrainConfig(**prep["train"])
        est.calibrator_, est.ood_ = cls._saved_calibration(prep)
        est.fit_report_ = (info.get("card") or {}).get("fit", {})
        return est
