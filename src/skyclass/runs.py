"""Training runs: one typed config in, one run directory out.

A run directory holds ``config.yaml`` (the resolved configuration), ``metrics.json``
(held-out metrics and the training history), ``predictions.parquet`` (the held-out
objects), ``model/`` (safetensors weights + JSON) and ``checkpoint/`` (resumable).
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from skyclass.config import Config

__all__ = ["RunConfig", "train_run"]


class RunConfig(Config):
    """A training run.

    Attributes
    ----------
    data : str
        Survey files, canonical Parquet or a data-set name (``skyclass datasets``).
    format : str
        Reader name or ``auto``.
    task : {"classification", "regression"}
    model, model_options, representations, train, validation_fraction, period
        As in :class:`skyclass.estimator.LightCurveClassifier`.
    test_fraction : float
        Share of the objects held out (by object, stratified, seeded) before anything
        is fitted; their metrics go to ``metrics.json``.
    seed : int
        The split, the weights and the data order.

    Examples
    --------
    >>> cfg = RunConfig.load(overrides=["data=macho", "model=akhmetali2025_cnn"])
    >>> cfg.model, cfg.test_fraction
    ('akhmetali2025_cnn', 0.2)
    """

    data: str
    format: str = "auto"
    task: str = "classification"
    model: str = "kang2023_rnn"
    model_options: dict[str, Any] = Field(default_factory=dict)
    representations: dict[str, dict[str, Any]] | None = None
    train: dict[str, Any] = Field(default_factory=dict)
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    period: str = "auto"
    seed: int = 0


def train_run(cfg: RunConfig, out: str | PathLike[str], *, progress: bool = True) -> dict:
    """Split, fit, evaluate and save one run into ``out``; returns the metrics written."""
    from skyclass.datasets import load
    from skyclass.estimator import LightCurveClassifier, LightCurveRegressor
    from skyclass.evaluate.metrics import classification_summary, regression_summary

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg.to_yaml(out / "config.yaml")
    lcs = load(cfg.data, format=cfg.format)
    classify = cfg.task == "classification"
    if cfg.test_fraction > 0:
        parts = lcs.split(
            (1 - cfg.test_fraction, cfg.test_fraction),
            names=("train", "test"),
            stratify=classify,
            seed=cfg.seed,
        )
        train_set, test_set = parts["train"], parts.get("test")
    else:
        train_set, test_set = lcs, None
    cls = LightCurveClassifier if classify else LightCurveRegressor
    est = cls(
        model=cfg.model,
        model_options=cfg.model_options,
        representations=cfg.representations,
        train=cfg.train,
        validation_fraction=cfg.validation_fraction,
        period=cfg.period,
        random_state=cfg.seed,
        run_dir=out / "checkpoint",
        progress=progress,
    ).fit(train_set)
    metrics: dict[str, Any] = {"fit": est.fit_report_, "history": est.history_.to_dict()}
    if test_set is not None:
        if classify:
            table = est.predict_table(test_set)
            proba = table[[f"prob_{c}" for c in est.classes_]].to_numpy()
            ok = np.isfinite(proba).all(axis=1)
            y = np.array([est.classes_.index(str(x)) for x in test_set.labels])
            metrics["test"] = classification_summary(y[ok], proba[ok], list(est.classes_))
        else:
            import pandas as pd

            pred = est.predict(test_set)
            table = pd.DataFrame({"object_id": test_set.ids.astype(str), "predicted": pred})
            ok = np.isfinite(pred)
            metrics["test"] = regression_summary(test_set.labels[ok].astype(float), pred[ok])
        table["label"] = [str(x) for x in test_set.labels]
        table.to_parquet(out / "predictions.parquet", index=False)
        metrics["test"]["n_not_represented"] = int((~ok).sum())
    est.save(out / "model", card={"metrics": metrics.get("test")})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
    return metrics
