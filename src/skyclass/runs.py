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

__all__ = [
    "RunConfig",
    "evaluate_run",
    "make_estimator",
    "plain_json",
    "train_run",
    "write_examples",
    "write_metrics",
]


class RunConfig(Config):
    """A training run.

    Attributes
    ----------
    data : str
        Survey files, canonical Parquet or a data-set name (``skyclass datasets``).
    format : str
        Reader name or ``auto``.
    data_options : dict
        Further keyword arguments of the reader or of the named data set (e.g.
        ``n_per_class`` of ``ogle3_simulated``).
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
    data_options: dict[str, Any] = Field(default_factory=dict)
    task: str = "classification"
    model: str = "kang2023_rnn"
    model_options: dict[str, Any] = Field(default_factory=dict)
    representations: dict[str, dict[str, Any]] | None = None
    train: dict[str, Any] = Field(default_factory=dict)
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    period: str = "auto"
    seed: int = 0


def train_run(
    cfg: RunConfig, out: str | PathLike[str], *, progress: bool = True, report: bool = True
) -> dict:
    """Split, fit, evaluate and save one run into ``out``; returns the metrics written.

    With ``report`` the run ends by writing ``report.html`` (see
    :func:`skyclass.evaluate.report.write_report`).
    """
    from skyclass.datasets import load

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg.to_yaml(out / "config.yaml")
    lcs = load(cfg.data, format=cfg.format, **cfg.data_options)
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
    est = make_estimator(cfg, run_dir=out / "checkpoint", progress=progress).fit(train_set)
    metrics = evaluate_run(est, test_set, out, data=lcs.summary(), skipped=lcs.skipped)
    est.save(out / "model", card={"metrics": metrics.get("test")})
    write_metrics(out, metrics)
    if report:
        from skyclass.evaluate.report import write_report

        write_report(out)
    return metrics


def make_estimator(cfg: RunConfig, **options: Any):
    """The estimator a run configuration describes (not fitted)."""
    from skyclass.estimator import LightCurveClassifier, LightCurveRegressor

    cls = LightCurveClassifier if cfg.task == "classification" else LightCurveRegressor
    return cls(
        model=cfg.model,
        model_options=cfg.model_options,
        representations=cfg.representations,
        train=cfg.train,
        validation_fraction=cfg.validation_fraction,
        period=cfg.period,
        random_state=cfg.seed,
        **options,
    )


def write_metrics(out: str | PathLike[str], metrics: dict) -> Path:
    """Write ``metrics.json`` (NaN kept as JSON ``NaN``, numpy values as numbers)."""
    path = Path(out) / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, default=plain_json))
    return path


def plain_json(value: Any) -> Any:
    """JSON form of numpy scalars and arrays (``default=`` of ``json.dumps``); else ``str``."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def evaluate_run(
    est: Any,
    test_set: Any,
    out: str | PathLike[str],
    *,
    data: dict | None = None,
    skipped: list | None = None,
    n_examples: int = 2,
) -> dict:
    """Held-out metrics of a fitted estimator, written beside it for the report.

    Writes ``predictions.parquet`` (one row per held-out object) and, for
    classifiers, ``examples.parquet`` (``n_examples`` right and wrong folded
    curves per class with their phase-occlusion attributions). Returns the
    ``metrics.json`` content: ``task``, ``data``, ``fit``, ``history``, ``test``,
    ``calibration`` (expected calibration error before and after on the held-out
    objects) and ``skipped`` (objects not represented, with the reason).
    """
    import pandas as pd

    from skyclass.evaluate.metrics import classification_summary, regression_summary

    out = Path(out)
    metrics: dict[str, Any] = {
        "task": est.task,
        "data": data or {},
        "fit": est.fit_report_,
        "history": est.history_.to_dict() if hasattr(est, "history_") else {},
        "skipped": [dict(x) for x in (skipped or [])],
    }
    for obj, reason in (est.fit_report_.get("skipped") or {}).items():
        metrics["skipped"].append({"object_id": obj, "reason": f"training: {reason}"})
    if test_set is None:
        return metrics
    embedding = None
    if getattr(est, "_needs_embedding", False):
        raw, _, errors, embedding = est._raw_predict(test_set, embedding=True)
    else:
        raw, _, errors = est._raw_predict(test_set)
    ok = np.isfinite(raw).all(axis=1)
    for obj, reason in errors.items():
        metrics["skipped"].append({"object_id": obj, "reason": f"test: {reason}"})
    labels = np.array([str(x) for x in test_set.labels], dtype=object)
    if est.task == "classification":
        from skyclass.evaluate.calibration import expected_calibration_error, reliability_curve

        table = est._table(test_set.ids, raw, errors, embedding)
        proba = table[[f"prob_{c}" for c in est.classes_]].to_numpy()
        y = np.array([est.classes_.index(x) for x in labels])
        metrics["test"] = classification_summary(y[ok], proba[ok], list(est.classes_))
        if est.calibrator_ is not None and ok.sum() > 1:
            metrics["calibration"] = {
                "method": est.calibration,
                "parameters": est.calibrator_.to_dict(),
                "before": {
                    "ece": expected_calibration_error(raw[ok], y[ok]),
                    "reliability": reliability_curve(raw[ok], y[ok]),
                },
                "after": {
                    "ece": expected_calibration_error(proba[ok], y[ok]),
                    "reliability": reliability_curve(proba[ok], y[ok]),
                },
            }
        if "unknown" in table.columns and ok.any():
            metrics["test"]["unknown_rate"] = float(table["unknown"][ok].mean())
        write_examples(est, test_set, table, labels, out, n_examples)
    else:
        pred = raw[:, 0]
        table = pd.DataFrame({"object_id": test_set.ids.astype(str), "predicted": pred})
        metrics["test"] = regression_summary(labels[ok].astype(float), pred[ok])
    table["label"] = labels
    table.to_parquet(out / "predictions.parquet", index=False)
    metrics["test"]["n_not_represented"] = int((~ok).sum())
    return metrics


def write_examples(
    est: Any, test_set: Any, table: Any, labels: np.ndarray, out: Path, n_examples: int
) -> None:
    """A few right and wrong held-out objects per class, folded, with attributions."""
    import pandas as pd

    from skyclass.evaluate.explain import phase_occlusion, point_attribution
    from skyclass.preprocess.fold import phase_of

    predicted = table["predicted"].to_numpy(dtype=object)
    correct = predicted == labels
    has_prediction = np.array([x is not None for x in predicted])
    picks: list[int] = []
    for name in est.classes_:
        for right in (True, False):
            where = np.flatnonzero((labels == name) & (correct == right) & has_prediction)
            picks.extend(where[:n_examples].tolist())
    if not picks:
        return
    chosen = test_set.select(np.array(picks))
    explained = phase_occlusion(est, chosen, n_bins=20)
    rows = []
    for j, lc in enumerate(chosen):
        period = float(explained["period"][j])
        if not np.isfinite(period) or period <= 0:
            continue
        phase = phase_of(lc.time, period)
        rows.append(
            {
                "object_id": str(lc.id),
                "label": str(labels[picks[j]]),
                "predicted": str(predicted[picks[j]]),
                "correct": bool(correct[picks[j]]),
                "period": period,
                "phase": phase.tolist(),
                "mag": lc.mag.tolist(),
                "band": [str(b) for b in lc.band],
                "attribution": point_attribution(phase, explained["attribution"][j]).tolist(),
            }
        )
    if rows:
        pd.DataFrame(rows).to_parquet(out / "examples.parquet", index=False)
