"""The reproduction runner: experiment registry, configs, cross-validation and outputs."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import Field

from skyclass._util import package_versions
from skyclass.config import Config
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet
from skyclass.study.units import objects_digest, reuse_result, unit_origin, unit_record

__all__ = [
    "ExperimentConfig",
    "cross_validate",
    "list_experiments",
    "load_experiment",
    "objects_digest",
    "register_experiment",
    "registered_ablations",
    "reproduce",
    "reuse_result",
    "runner_of",
    "subsample",
    "unit_origin",
]

CONFIGS = Path(__file__).parent / "configs"

#: Runner modules of each experiment (imported when the experiment runs).
_MODULES = {
    "akhmetali2025": ("skyclass.experiments.akhmetali2025",),
    "carraro2025": (
        "skyclass.experiments.carraro2025",
        "skyclass.experiments.carraro2025_ablations",
    ),
    "kang2023": ("skyclass.experiments.kang2023", "skyclass.experiments.kang2023_ablations"),
    "monti2024": ("skyclass.experiments.monti2024", "skyclass.experiments.monti2024_ablations"),
    "gao2023": ("skyclass.experiments.gao2023",),
}
_RUNNERS: dict[tuple[str, str | None], Callable[..., dict]] = {}


class ExperimentConfig(Config):
    """One paper reproduction, resolved (``quick`` already merged in when asked).

    Attributes
    ----------
    name : str
    paper : str
        Citation of the paper and the file of its text in ``shared/seeds``.
    summary : str
        What the run does, in a sentence or two.
    expected_duration : str
        Wall time on 2 CPU cores, as measured.
    seeds : list of int
        Seeds of the repeated runs.
    settings : dict
        The paper's pipeline settings (read by the experiment's runner).
    quick : bool
        Whether this is the ``--quick`` smoke version.
    """

    name: str
    paper: str
    summary: str
    expected_duration: str
    seeds: list[int] = Field(default_factory=lambda: [0])
    settings: dict[str, Any] = Field(default_factory=dict)
    quick: bool = False


def register_experiment(
    name: str, *, ablation: str | None = None
) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    """Register ``runner(cfg, out, *, progress) -> metrics`` as experiment ``name``.

    With ``ablation`` the runner runs that ablation of the experiment (chosen with
    ``--set settings.ablation=NAME``); without, the plain reproduction
    (:func:`runner_of` picks one).
    """

    def decorate(runner: Callable[..., dict]) -> Callable[..., dict]:
        _RUNNERS[(name, ablation)] = runner
        return runner

    return decorate


def registered_ablations(name: str) -> dict[str, Callable[..., dict]]:
    """The ablations of experiment ``name`` registered with ``register_experiment(ablation=…)``.

    Examples
    --------
    >>> sorted(registered_ablations("no such experiment"))
    []
    """
    return {a: run for (n, a), run in _RUNNERS.items() if n == name and a is not None}


def runner_of(cfg: ExperimentConfig) -> Callable[..., dict]:
    """The runner of ``cfg``: its plain reproduction, or the ablation ``settings.ablation``.

    An unknown ablation fails here, naming the experiment's registered ones.

    Examples
    --------
    >>> runner_of(load_experiment("akhmetali2025")).__module__
    'skyclass.experiments.akhmetali2025'
    """
    for module in _MODULES.get(cfg.name, ()):
        importlib.import_module(module)
    ablations = registered_ablations(cfg.name)
    return pick_ablation(cfg.name, cfg.settings, ablations) or _RUNNERS[(cfg.name, None)]


def list_experiments() -> list[str]:
    """Names of the experiments that have a configuration file, sorted."""
    return sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def load_experiment(
    name: str,
    *,
    quick: bool = False,
    overrides: Iterable[str] = (),
    path: str | PathLike[str] | None = None,
) -> ExperimentConfig:
    """The resolved configuration of experiment ``name`` (or of the YAML at ``path``)."""
    source = Path(path) if path is not None else CONFIGS / f"{name}.yaml"
    if path is None and name not in list_experiments():
        raise DataError(f"unknown experiment {name!r}; choose one of {list_experiments()}")
    data = yaml.safe_load(source.read_text()) or {}
    quick_part = data.pop("quick", {}) or {}
    if quick:
        data = deep_merge(data, quick_part)
    data["quick"] = quick
    overrides = list(overrides)
    _check_settings_keys(data.get("settings") or {}, overrides, name=data.get("name", name))
    return ExperimentConfig.from_mapping(data, overrides=overrides, source=str(source))


def _check_settings_keys(settings: dict[str, Any], overrides: list[str], *, name: str) -> None:
    """A ``settings.KEY=…`` override must name a setting the experiment has (typos fail).

    Only the first level is checked: below it sit open mappings (per-model options,
    training keys) that their own readers validate.
    """
    import difflib

    for item in overrides:
        parts = item.partition("=")[0].strip().split(".")
        if parts[0] != "settings" or len(parts) < 2 or parts[1] in settings:
            continue
        close = difflib.get_close_matches(parts[1], list(settings), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataError(
            f"{name} has no setting {parts[1]!r} (override {item!r}){hint} Its settings: "
            f"{', '.join(settings)}"
        )


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, nested mappings merged key by key.

    Examples
    --------
    >>> deep_merge({"train": {"lr": 1e-3, "max_epochs": 10}}, {"train": {"max_epochs": 1}})
    {'train': {'lr': 0.001, 'max_epochs': 1}}
    """
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@contextmanager
def _shared_root(data_root: str | PathLike[str] | None):
    if data_root is None:
        yield
        return
    previous = os.environ.get("SKYCLASS_SHARED_DATA")
    os.environ["SKYCLASS_SHARED_DATA"] = str(Path(data_root).expanduser().resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SKYCLASS_SHARED_DATA", None)
        else:
            os.environ["SKYCLASS_SHARED_DATA"] = previous


def reproduce(
    name: str,
    *,
    out: str | PathLike[str],
    quick: bool = False,
    data_root: str | PathLike[str] | None = None,
    overrides: Iterable[str] = (),
    progress: bool = True,
    report: bool = True,
    units: str | PathLike[str] | None = None,
) -> dict:
    """Run experiment ``name`` into ``out``; returns the metrics written.

    Parameters
    ----------
    name : str
        One of :func:`list_experiments`.
    out : path-like
        Run directory (created).
    quick : bool
        The smoke version: a small subset and few epochs (about a minute on 2 cores).
    data_root : path-like, optional
        Folder of the shared survey data (else ``SKYCLASS_SHARED_DATA`` or ``../shared/data``).
    overrides : iterable of str
        ``key.sub=value`` changes to the configuration (``settings.epochs=5``).
    units : path-like, optional
        A unit record (``docs/results_units``): every finished unit of a long study whose
        result holds aggregates only (scores, confusion matrices, timings; no object ids,
        predictions or weights) is also kept in ``units/<name>/``, and a unit found there
        with the same settings is reused instead of computed (an ablation's units go to
        ``units/<name>-<ablation>/``, apart from the plain run's). Such a record can be
        committed, so a study longer than one machine's life is spread over several.
        ``metrics["run"]["units"]`` counts the units computed and reused and adds up the
        seconds each took when it was computed.
    """
    from skyclass.runs import write_metrics

    overrides = list(overrides)
    cfg = load_experiment(name, quick=quick, overrides=overrides)
    runner = runner_of(cfg)  # an unknown ablation fails here, before any work
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg.to_yaml(out / "config.yaml")
    start = time.perf_counter()
    ablation = cfg.settings.get("ablation")
    # one record folder per study: an ablation's units never meet the plain run's
    study = name if ablation is None else f"{name}-{ablation}"
    record = None if units is None else Path(units) / study
    with unit_record(out, record) as ledger, _shared_root(data_root):
        metrics = runner(cfg, out, progress=progress)
    metrics["run"] = {
        "experiment": name,
        "ablation": ablation,
        "quick": quick,
        # a runner that uses fewer of the configured seeds says which (seeds_used)
        "seeds": metrics.pop("seeds_used", cfg.seeds),
        "seconds": round(time.perf_counter() - start, 1),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"skyclass reproduce {name}"
        + (" --quick" if quick else "")
        + "".join(f" --set '{o}'" for o in overrides)
        + (f" --units {Path(units).as_posix()}" if units is not None else ""),
        "versions": package_versions(),
    }
    if ledger.log:
        metrics["run"]["units"] = ledger.summary()
    write_metrics(out, metrics)
    if report:
        from skyclass.evaluate.report import write_report

        write_report(out)
    return metrics


def pick_ablation(
    experiment: str, settings: dict[str, Any], ablations: dict[str, Callable[..., dict]]
) -> Callable[..., dict] | None:
    """The runner of ``settings["ablation"]`` (None: the plain reproduction).

    An unknown name fails here, before any work, naming the valid ones.

    Examples
    --------
    >>> pick_ablation("x", {"ablation": None}, {"inputs": print}) is None
    True
    >>> try:
    ...     pick_ablation("x", {"ablation": "nope"}, {"inputs": print})
    ... except ValueError as exc:
    ...     print(str(exc)[:51])
    unknown x ablation 'nope'; choose one of ['inputs']
    """
    name = settings.get("ablation")
    if name is None:
        return None
    if name not in ablations:
        raise DataError(
            f"unknown {experiment} ablation {name!r}; choose one of {sorted(ablations)} "
            "(or null for the plain reproduction)"
        )
    return ablations[name]


def subsample(
    lcs: LightCurveSet, max_per_class: int | None, *, seed: int, label: str = "label"
) -> LightCurveSet:
    """At most ``max_per_class`` objects of each class, drawn at random (seeded).

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> curves = [LightCurve(time=[0.0, 1.0], mag=[1.0, 2.0], err=[0.1, 0.1], band="V", id=str(i))
    ...           for i in range(5)]
    >>> s = LightCurveSet.from_lightcurves(curves, labels=["a", "a", "a", "b", "b"])
    >>> subsample(s, 2, seed=0).class_counts().to_dict()
    {'a': 2, 'b': 2}
    """
    if not max_per_class:
        return lcs
    if label not in lcs.objects.columns:
        raise DataError(f"the set has no {label!r} column to draw classes from")
    rng = np.random.default_rng(seed)
    labels = lcs.objects[label].astype(str).to_numpy()
    keep = []
    for name in np.unique(labels):
        where = np.flatnonzero(labels == name)
        keep.append(rng.permutation(where)[:max_per_class])
    return lcs.select(np.sort(np.concatenate(keep)))


def cross_validate(
    make_estimator: Callable[[int], Any],
    lcs: LightCurveSet,
    out: str | PathLike[str],
    *,
    n_folds: int = 5,
    seed: int = 0,
    strata: np.ndarray | None = None,
) -> dict:
    """k-fold cross-validation by object; out-of-fold predictions pooled.

    ``make_estimator(fold)`` returns a fresh estimator; each is fitted on the other
    folds (its validation objects carved from them) and scored on its own fold with
    :func:`skyclass.runs.evaluate_run` (files under ``out/folds/<k>/``). Returns
    metrics with ``test`` (the pooled out-of-fold predictions), ``cv`` (mean ± std
    and per fold) and the first fold's ``history`` and ``fit``; writes the pooled
    ``predictions.parquet`` and the first fold's ``examples.parquet`` in ``out``.
    """
    import shutil

    import pandas as pd

    from skyclass.evaluate.metrics import cv_summary
    from skyclass.runs import evaluate_run
    from skyclass.training import stratified_kfold

    out = Path(out)
    labels = np.array([str(x) for x in lcs.labels]) if strata is None else np.asarray(strata)
    folds = stratified_kfold(labels, n_splits=n_folds, seed=seed)
    fold_metrics, tables = [], []
    first: dict[str, Any] = {}
    for k, (train_idx, test_idx) in enumerate(folds):
        est = make_estimator(k).fit(lcs.select(train_idx))
        fold_dir = out / "folds" / str(k)
        fold_dir.mkdir(parents=True, exist_ok=True)
        m = evaluate_run(est, lcs.select(test_idx), fold_dir)
        fold_metrics.append(m["test"])
        table = pd.read_parquet(fold_dir / "predictions.parquet")
        table.insert(1, "fold", k)
        tables.append(table)
        if k == 0:
            first = m
            if (fold_dir / "examples.parquet").exists():
                shutil.copy(fold_dir / "examples.parquet", out / "examples.parquet")
    pooled = pd.concat(tables, ignore_index=True)
    pooled.to_parquet(out / "predictions.parquet", index=False)
    metrics = {k: v for k, v in first.items() if k != "test"}
    metrics["test"] = pooled_summary(pooled, first.get("task", "classification"))
    metrics["cv"] = cv_summary(fold_metrics)
    return metrics


def pooled_summary(table, task: str) -> dict:
    from skyclass.evaluate.metrics import classification_summary, regression_summary

    if task == "classification":
        classes = [c.removeprefix("prob_") for c in table.columns if c.startswith("prob_")]
        proba = table[[f"prob_{c}" for c in classes]].to_numpy(float)
        ok = np.isfinite(proba).all(axis=1)
        y = np.array([classes.index(str(x)) for x in table["label"]])
        summary = classification_summary(y[ok], proba[ok], classes)
    else:
        pred = table["predicted"].to_numpy(float)
        ok = np.isfinite(pred)
        summary = regression_summary(table["label"].to_numpy(float)[ok], pred[ok])
    summary["n_not_represented"] = int((~ok).sum())
    return summary


def mean_std(values: Iterable[float]) -> str:
    """``"0.912 ± 0.014"`` over the finite values (std with ddof=1; one value: no ±).

    Examples
    --------
    >>> mean_std([0.9, 0.92, 0.94])
    '0.920 ± 0.020'
    """
    v = np.array([x for x in values if x is not None and np.isfinite(x)], float)
    if v.size == 0:
        return "n/a"
    if v.size == 1:
        return f"{v[0]:.3f}"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"
