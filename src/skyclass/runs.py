"""Training runs: one typed config in, one run directory out.

A run directory holds ``config.yaml`` (the resolved configuration), ``metrics.json``
(held-out metrics, the training history and ``cost``: wall and CPU seconds of the
fit and the model's parameter count), ``predictions.parquet`` (the held-out
objects), ``model/`` (safetensors weights + JSON) and ``checkpoint/`` (resumable).
A run's ``model`` may also name a classical baseline of
:data:`skyclass.baselines.BASELINES` (``feature_forest``), fitted and scored on the
same split and saved in ``model/`` as well (its trees as arrays, no pickle).
A run's ``init`` fine-tunes a saved classifier instead of training one from
scratch: a shipped model (``init: pretrained:general``, see
:mod:`skyclass.pretrained`) or a model directory
(:meth:`LightCurveClassifier.fine_tune
<skyclass.estimator.LightCurveClassifier.fine_tune>`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from skyclass.config import Config

__all__ = [
    "CV_METRICS",
    "RunConfig",
    "cv_run",
    "evaluate_run",
    "finite_json",
    "held_out_split",
    "load_run_data",
    "make_estimator",
    "plain_json",
    "train_run",
    "write_examples",
    "write_metrics",
]

log = logging.getLogger(__name__)


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
    data_name : str, optional
        Name of the data set in tables such as the leaderboard (default: ``data``), for
        runs whose ``data`` is a file prepared from a named set.
    init : str, optional
        Start from a saved classifier's weights: ``pretrained:NAME`` (a model shipped
        with skyclass) or a model directory; a run trains one network, so from an
        ensemble (``general`` has three) its first member. The run keeps that model's
        network, inputs and period settings (``model``, ``model_options``, ``representations`` and
        ``period`` are not used); the data's one band is given the model's band name;
        when the labels are not the model's classes its output layer is replaced
        (logged). ``train`` and ``seed`` apply as usual.

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
    model: str = "foldnet"
    model_options: dict[str, Any] = Field(default_factory=dict)
    representations: dict[str, dict[str, Any]] | None = None
    train: dict[str, Any] = Field(default_factory=dict)
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    period: str = "auto"
    seed: int = 0
    data_name: str | None = None
    init: str | None = None

    @model_validator(mode="after")
    def _known_model_and_options(self) -> RunConfig:
        """Unknown tasks, models, options and training keys fail before any data is read."""
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression', got {self.task!r}")
        if self.period not in ("auto", "column", "search"):
            raise ValueError(f"period must be 'auto', 'column' or 'search', got {self.period!r}")
        from skyclass.estimator import check_options
        from skyclass.models import list_models
        from skyclass.models.registry import check_keywords

        baselines = _baselines()
        if self.init is not None:
            from skyclass.pretrained import resolve_model

            if self.task != "classification" or self.model in baselines:
                raise ValueError(
                    "init fine-tunes a saved network classifier; it needs task: classification "
                    "and no baseline model"
                )
            resolve_model(self.init)  # an unknown name lists the shipped ones
        if self.model in baselines:
            cls = baselines[self.model].get(self.task)
            if cls is None:
                raise ValueError(f"baseline {self.model!r} has no {self.task} version")
            what = f"baseline {self.model!r}"
            check_keywords(cls, self.model_options, what, skip=("random_state", "period"))
            return self
        if self.model not in list_models():
            raise ValueError(
                f"unknown model {self.model!r}; choose one of: {', '.join(list_models())} "
                f"(or the baselines: {', '.join(baselines)})"
            )
        check_options(self.model, self.model_options, self.train, self.representations)
        return self


def train_run(
    cfg: RunConfig, out: str | PathLike[str], *, progress: bool = True, report: bool = True
) -> dict:
    """Split, fit, evaluate and save one run into ``out``; returns the metrics written.

    With ``report`` the run ends by writing ``report.html`` (see
    :func:`skyclass.evaluate.report.write_report`).

    Under ``torchrun`` (after :func:`skyclass.training.join_process_group`) every process
    reads the data and trains its share of each batch with DDP (``train.batch_size`` is
    per process); only the main process evaluates and writes, and the others return
    just the ``cost``, whose ``fit_cpu_seconds`` adds up every process's CPU time and
    ``processes`` counts them.
    """
    lcs = load_run_data(cfg)
    train_set, test_set = held_out_split(cfg, lcs)
    return _fit_and_evaluate(cfg, lcs, train_set, test_set, out, progress=progress, report=report)


def _fit_and_evaluate(
    cfg: RunConfig,
    lcs: Any,
    train_set: Any,
    test_set: Any,
    out: str | PathLike[str],
    *,
    progress: bool,
    report: bool,
) -> dict:
    """Fit on ``train_set``, score ``test_set`` and write the run directory ``out``."""
    from skyclass.training import is_main_process, process_count, sum_over_processes

    out = Path(out)
    main = is_main_process()
    if main:
        out.mkdir(parents=True, exist_ok=True)
        cfg.to_yaml(out / "config.yaml")
    wall, cpu = time.perf_counter(), time.process_time()
    if cfg.init is not None:
        est = _fine_tune(cfg, train_set, run_dir=out / "checkpoint", progress=progress)
    elif cfg.model in _baselines():
        est = _fit_baseline(cfg, train_set)
    else:
        est = make_estimator(cfg, run_dir=out / "checkpoint", progress=progress).fit(train_set)
    # a fit resumed from a checkpoint also counts the training of the earlier processes
    trainer = getattr(est, "trainer_", None)
    earlier = getattr(trainer, "earlier_seconds", {})
    cost = {
        "fit_wall_seconds": time.perf_counter() - wall + earlier.get("wall", 0.0),
        "fit_cpu_seconds": sum_over_processes(time.process_time() - cpu) + earlier.get("cpu", 0.0),
        **_model_size(est),
    }
    if process_count() > 1:
        cost["processes"] = process_count()
    if getattr(trainer, "untimed_epochs", 0):  # the fit time leaves these epochs out
        cost["untimed_epochs"] = int(trainer.untimed_epochs)
    if not main:
        return {"cost": cost}
    if cfg.model in _baselines():
        metrics = _evaluate_baseline(est, test_set, out, data=lcs.summary())
        metrics["skipped"] = [dict(x) for x in lcs.skipped]
    else:
        metrics = evaluate_run(est, test_set, out, data=lcs.summary(), skipped=lcs.skipped)
    est.save(out / "model", card={"metrics": metrics.get("test")})
    metrics["cost"] = {**cost, "finished": datetime.now(UTC).isoformat(timespec="seconds")}
    write_metrics(out, metrics)
    if report and cfg.model not in _baselines():
        from skyclass.evaluate.report import write_report

        write_report(out)
    return metrics


#: Held-out scores summarised over the folds of :func:`cv_run`, by task.
CV_METRICS = {
    "classification": ("balanced_accuracy", "macro_f1", "accuracy"),
    "regression": ("mae", "rmse", "r2"),
}


def cv_run(
    cfg: RunConfig, out: str | PathLike[str], *, folds: int = 5, progress: bool = True
) -> dict:
    """Cross-validate ``cfg`` by object: every object is scored once, by a model that never saw it.

    The objects are dealt into ``folds`` stratified folds seeded by ``cfg.seed``
    (:func:`~skyclass.training.stratified_kfold`; a regression target is
    stratified on its deciles); ``cfg.test_fraction`` is not used. Fold ``k`` is
    an ordinary run directory ``out/fold-k`` (as :func:`train_run` writes,
    without the HTML report) trained on the other folds. A fold whose
    ``metrics.json`` exists is reused and a fold killed while training resumes
    from its checkpoint, so rerunning the same call finishes the job.

    Returns
    -------
    dict
        The content of ``out/cv.json``: ``folds``, ``seed``, ``task``, and per
        metric of :data:`CV_METRICS` the value of each fold, their mean and
        standard deviation (``ddof=1``); ``reused`` lists the folds found done.

    Examples
    --------
    >>> import tempfile
    >>> from skyclass import LightCurve, LightCurveSet
    >>> rng = np.random.default_rng(0)
    >>> curves = [LightCurve(time=np.arange(30.0), mag=rng.normal(15, .1 * (1 + i % 2), 30),
    ...                      err=np.full(30, .05), band="V", id=str(i)) for i in range(24)]
    >>> s = LightCurveSet.from_lightcurves(curves, labels=["quiet", "loud"] * 12)
    >>> tmp = Path(tempfile.mkdtemp())
    >>> data = s.with_objects(s.objects.assign(period=1.0)).to_parquet(tmp / "set.parquet")
    >>> cfg = RunConfig.load(overrides=[f"data={data}", "model=mlp_features",
    ...     "representations={features: {features: [amplitude, n_epochs]}}",
    ...     "train.max_epochs=1", "validation_fraction=0"])
    >>> result = cv_run(cfg, tmp / "cv", folds=3, progress=False)
    >>> len(result["macro_f1"]["folds"]), sorted(p.name for p in (tmp / "cv").iterdir())
    (3, ['cv.json', 'fold-0', 'fold-1', 'fold-2'])
    """
    from skyclass.training import is_main_process, stratified_kfold, stratify_bins

    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    out = Path(out)
    lcs = load_run_data(cfg)
    labels = lcs.labels
    strata = labels if cfg.task == "classification" else stratify_bins(labels.astype(float))
    reused, scores = [], {name: [] for name in CV_METRICS[cfg.task]}
    for k, (train_idx, test_idx) in enumerate(stratified_kfold(strata, folds, seed=cfg.seed)):
        fold = out / f"fold-{k}"
        if (fold / "metrics.json").is_file():
            log.info("fold %d of %d: done before, reusing %s", k, folds, fold / "metrics.json")
            metrics = json.loads((fold / "metrics.json").read_text())
            reused.append(k)
        else:
            log.info(
                "fold %d of %d: training on %d objects, scoring %d",
                k, folds, train_idx.size, test_idx.size,
            )  # fmt: skip
            metrics = _fit_and_evaluate(
                cfg, lcs, lcs.select(train_idx), lcs.select(test_idx), fold,
                progress=progress, report=False,
            )  # fmt: skip
        for name, values in scores.items():
            value = (metrics.get("test") or {}).get(name)
            values.append(math.nan if value is None else float(value))
    result: dict[str, Any] = {"folds": folds, "seed": cfg.seed, "task": cfg.task}
    for name, values in scores.items():
        result[name] = {
            "folds": values,
            "mean": float(np.mean(values)),
            "std": float(np.std(values, ddof=1)),
        }
    result["reused"] = reused
    if is_main_process():
        (out / "cv.json").write_text(
            json.dumps(finite_json(result), indent=2, allow_nan=False) + "\n"
        )
    return result


def load_run_data(cfg: RunConfig):
    """The labelled objects of the run's data (``data_options`` reach a named set too).

    Objects without a label can be neither trained on nor scored, so they are left
    out before the split (a regression set's unlabelled stars, for instance).
    """
    from skyclass.datasets import load

    lcs = load(cfg.data, format=cfg.format, **cfg.data_options)
    if "label" in lcs.objects.columns:
        labelled = lcs.objects["label"].notna().to_numpy()
        if not labelled.all():
            lcs = lcs.select(np.flatnonzero(labelled))
    if cfg.init is not None:
        lcs = _in_init_bands(cfg, lcs)
    return lcs


def _init_model(cfg: RunConfig):
    """The classifier that ``cfg.init`` names, loaded (an ensemble's first member: a run
    trains one network)."""
    from skyclass.estimator import LightCurveClassifier
    from skyclass.pretrained import network_dir, resolve_model

    return LightCurveClassifier.load(network_dir(resolve_model(cfg.init)))


def _in_init_bands(cfg: RunConfig, lcs: Any) -> Any:
    """``lcs`` with its one band named as the init model's one band (other models: as is)."""
    from skyclass.pretrained import as_model_band

    bands = _init_model(cfg).bands_
    if len(bands) != 1 or lcs.bands == bands:
        return lcs
    log.info("init %s reads band %r: the data's band %s is given that name", cfg.init,
             bands[0], list(lcs.bands))  # fmt: skip
    return as_model_band(lcs, bands[0])


def _fine_tune(cfg: RunConfig, train_set: Any, **options: Any):
    """Fine-tune the classifier ``cfg.init`` names on ``train_set``."""
    base = _init_model(cfg)
    defaults = RunConfig.model_fields
    ignored = [
        key
        for key in ("model", "model_options", "representations", "period")
        if getattr(cfg, key) != defaults[key].get_default(call_default_factory=True)
        and getattr(cfg, key) != getattr(base, key)
    ]
    if ignored:
        log.warning("init %s keeps its own %s: the run's are not used", cfg.init,
                    ", ".join(ignored))  # fmt: skip
    log.info("fine-tuning %s (%s) on %d objects", cfg.init, base.model, len(train_set))
    return base.fine_tune(
        train_set,
        train=cfg.train,
        validation_fraction=cfg.validation_fraction,
        random_state=cfg.seed,
        **options,
    )


def held_out_split(cfg: RunConfig, lcs: Any) -> tuple[Any, Any]:
    """The run's training objects and its held-out test objects (None without a test part).

    Split by object, stratified for classification, seeded by ``cfg.seed``: the one
    place that decides which objects a run (and a search on the same config) never
    trains on or selects with.
    """
    if cfg.test_fraction <= 0:
        return lcs, None
    parts = lcs.split(
        (1 - cfg.test_fraction, cfg.test_fraction),
        names=("train", "test"),
        stratify=cfg.task == "classification",
        seed=cfg.seed,
    )
    return parts["train"], parts.get("test")


def _baselines() -> dict:
    from skyclass.baselines import BASELINES

    return BASELINES


def _fit_baseline(cfg: RunConfig, train_set: Any):
    """Fit the classical baseline ``cfg.model`` (its options: ``model_options``)."""
    from skyclass.baselines import BASELINES

    cls = BASELINES[cfg.model][cfg.task]
    return cls(random_state=cfg.seed, period=cfg.period, **cfg.model_options).fit(train_set)


def _model_size(est: Any) -> dict[str, Any]:
    """Trainable parameters of a network, or the node count of a forest."""
    model = getattr(est, "model_", None)
    if model is not None:
        return {"n_parameters": int(sum(p.numel() for p in model.parameters() if p.requires_grad))}
    if hasattr(est, "forest_"):
        return {
            "n_parameters": None,
            "n_trees": len(est.forest_.estimators_),
            "n_nodes": est.n_nodes_,
        }
    return {"n_parameters": None}


def _evaluate_baseline(est: Any, test_set: Any, out: Path, *, data: dict) -> dict:
    """Held-out metrics of a fitted baseline, written as :func:`evaluate_run` does."""
    import pandas as pd

    from skyclass.evaluate.metrics import classification_summary, regression_summary

    task = "classification" if hasattr(est, "classes_") else "regression"
    metrics: dict[str, Any] = {"task": task, "data": data, "fit": {}, "history": {}}
    if test_set is None:
        return metrics
    labels = np.array([str(x) for x in test_set.labels], dtype=object)
    table = pd.DataFrame({"object_id": test_set.ids.astype(str)})
    if task == "classification":
        proba = est.predict_proba(test_set)
        y = np.array([est.classes_.index(x) if x in est.classes_ else -1 for x in labels])
        seen = y >= 0  # a class absent from the training split cannot be scored
        metrics["test"] = classification_summary(y[seen], proba[seen], list(est.classes_))
        table["predicted"] = np.array(est.classes_, dtype=object)[proba.argmax(axis=1)]
        for j, name in enumerate(est.classes_):
            table[f"prob_{name}"] = proba[:, j]
    else:
        pred = est.predict(test_set)
        metrics["test"] = regression_summary(labels.astype(float), pred)
        table["predicted"] = pred
    table["label"] = labels
    table.to_parquet(out / "predictions.parquet", index=False)
    metrics["test"]["n_not_represented"] = 0
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
    """Write ``metrics.json``: strict JSON, so NaN and infinities become ``null``.

    Numpy values are written as numbers (see :func:`finite_json`); any JSON
    reader, not only Python's, can read the file.
    """
    path = Path(out) / "metrics.json"
    path.write_text(json.dumps(finite_json(metrics), indent=2, allow_nan=False, default=plain_json))
    return path


def finite_json(value: Any) -> Any:
    """``value`` with numpy values made Python ones and NaN / infinities made None.

    Examples
    --------
    >>> finite_json({"ece": float("nan"), "n": np.int64(3), "curve": np.array([0.5, np.inf])})
    {'ece': None, 'n': 3, 'curve': [0.5, None]}
    """
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return finite_json(value.tolist())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


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
    # one pass of the network gives the raw outputs and, for a classifier, the table
    classifier = est.task == "classification"
    network = est.predict_raw(test_set, embedding=classifier and est.needs_embedding)
    raw = network.outputs
    ok = np.isfinite(raw).all(axis=1)
    for obj, reason in network.errors.items():
        metrics["skipped"].append({"object_id": obj, "reason": f"test: {reason}"})
    labels = np.array([str(x) for x in test_set.labels], dtype=object)
    if classifier:
        from skyclass.evaluate.calibration import expected_calibration_error, reliability_curve

        table = est.table_from_raw(network, test_set.ids)
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
