"""The leaderboard: every light-curve model and baseline on every data set, from run directories.

Each cell is the mean ± standard deviation over seeds (each seed its own
stratified held-out split by object, as :func:`skyclass.runs.train_run` makes it)
of the held-out metrics in the runs' ``metrics.json``, with the fit time and the
model's size. Nothing is typed: :func:`collect_runs` reads run directories into a
table and :func:`leaderboard_markdown` lays it out, ranked per data set. A
(model, data set) pair without a run says ``not run``, a run that raised says
``failed:`` and why, and a model built for another task says so.

Examples
--------
>>> import json, tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for seed, ba in [(0, 0.8), (1, 0.9)]:
...     d = root / f"mlp_features-seed{seed}"
...     d.mkdir()
...     _ = (d / "config.yaml").write_text(f"data: macho\\nmodel: mlp_features\\nseed: {seed}\\n")
...     _ = (d / "metrics.json").write_text(json.dumps({"task": "classification",
...         "test": {"balanced_accuracy": ba, "macro_f1": ba, "n": 10}}))
>>> df = collect_runs([root])
>>> df[["model", "data", "seed", "balanced_accuracy"]].to_numpy().tolist()
[['mlp_features', 'macho', 0, 0.8], ['mlp_features', 'macho', 1, 0.9]]
>>> "0.850 ± 0.071" in leaderboard_markdown(df, models=["mlp_features"])
True
"""

from __future__ import annotations

import glob
import json
import math
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet

__all__ = [
    "HEADLINE",
    "PREPARE_KEYS",
    "aggregate_runs",
    "collect_runs",
    "leaderboard_markdown",
    "light_curve_models",
    "prepare_dataset",
    "train_text",
]

#: Keys of a leaderboard config's data-set entry that :func:`prepare_dataset` takes.
PREPARE_KEYS = ("task", "options", "bands", "clean", "min_class_size", "max_per_class")

#: Inputs computed from a light curve; a model reading none of them reads cutout images.
LIGHT_CURVE_INPUTS = frozenset({"seq", "grid", "dmdt", "features"})

#: Per task: (ranking metric, whether larger is better), then the second metric shown.
HEADLINE: dict[str, tuple[str, bool, str]] = {
    "classification": ("balanced_accuracy", True, "macro_f1"),
    "regression": ("mae", False, "r2"),
}
_LABELS = {"balanced_accuracy": "BA", "macro_f1": "macro F1", "mae": "MAE", "r2": "R²"}
_METRICS = ("balanced_accuracy", "macro_f1", "accuracy", "mae", "rmse", "r2", "n")
_COST = (
    "fit_wall_seconds",
    "fit_cpu_seconds",
    "processes",
    "untimed_epochs",
    "n_parameters",
    "n_trees",
    "n_nodes",
)
#: From a network run's training history: epochs trained and the epoch whose weights were kept.
_HISTORY = ("epochs", "best_epoch")


def light_curve_models(task: str | None = None) -> list[str]:
    """Registered models that read a light-curve representation, usable for ``task``.

    A model whose inputs (its registry ``input_keys``) include none of ``seq``,
    ``grid``, ``dmdt`` or ``features`` reads only ``image`` cutouts: it is an image
    model and left out. (``kang2023_compound`` also reads a folded-curve raster as
    ``image``, beside its sequence, so it stays.)

    Examples
    --------
    >>> names = light_curve_models()
    >>> "kang2023_rnn" in names, "resnet18" in names, "kang2023_compound" in names
    (True, False, True)
    >>> "akhmetali2025_cnn" in light_curve_models("regression")
    False
    """
    from skyclass.models import get_model_spec, list_models

    return [
        name
        for name in list_models(task)
        if LIGHT_CURVE_INPUTS & set(get_model_spec(name).input_keys)
    ]


def _model_task(name: str) -> str:
    """``classification``, ``regression`` or ``both`` for a registered model or a baseline."""
    from skyclass.baselines import BASELINES
    from skyclass.models import get_model_spec

    if name in BASELINES:
        return "both" if len(BASELINES[name]) > 1 else next(iter(BASELINES[name]))
    try:
        return get_model_spec(name).task
    except ValueError:
        return "both"


# ------------------------------------------------------------------- data
def prepare_dataset(
    name: str,
    *,
    task: str = "classification",
    options: dict[str, Any] | None = None,
    bands: Sequence[str] | None = None,
    clean: Sequence[dict[str, Any]] = (),
    min_class_size: int = 0,
    max_per_class: int | None = None,
    max_objects: int | None = None,
    period_options: dict[str, Any] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> tuple[LightCurveSet, dict[str, Any]]:
    """A named data set made ready for every model once: labelled, cleaned, with periods.

    Steps, in order: the labelled objects of ``name`` (reader ``options``); only
    ``bands``; the cleaning ``clean`` (steps of
    :class:`~skyclass.preprocess.clean.CleanConfig`); classes with fewer than
    ``min_class_size`` objects left out; at most ``max_per_class`` objects per
    class (classification) or ``max_objects`` objects (regression), drawn with
    ``seed``; and a finite ``period``
    for every object where one can be had: the catalogue's, else a period search
    per curve (:class:`~skyclass.preprocess.period.PeriodSearch`), else — for
    curves already folded (``meta["time_ref"] == "phase"``) — 1, since their time
    *is* the phase. ``period_source`` says which. Every step looks at one curve
    at a time (the class-size filter only counts labels), so preparing before the
    split leaks nothing from test objects into training.

    Returns
    -------
    lcs : LightCurveSet
    info : dict
        What was kept and dropped, for the leaderboard's notes.

    Examples
    --------
    >>> lcs, info = prepare_dataset("macho", min_class_size=2)
    >>> info["n_loaded"], len(lcs), sorted(set(lcs.objects["period_source"]))
    (10, 10, ['search'])
    """
    from skyclass.experiments.runner import subsample
    from skyclass.runs import RunConfig, load_run_data

    lcs = load_run_data(RunConfig(data=name, data_options=dict(options or {}), task=task))
    info: dict[str, Any] = {"dataset": name, "task": task, "n_loaded": len(lcs)}
    if bands:
        missing = sorted(set(bands) - set(lcs.bands))
        if missing:
            raise DataError(f"{name} has no band {missing}; its bands are {list(lcs.bands)}")
        curves = [_only_bands(lc, bands) for lc in lcs]
        keep = [i for i, lc in enumerate(curves) if lc is not None]
        lcs = LightCurveSet.from_lightcurves(
            [curves[i] for i in keep],
            objects=lcs.objects.iloc[keep].reset_index(drop=True).drop(columns=["id"]),
            meta=lcs.meta,
        )
        info["bands"] = list(bands)
    if clean:
        from skyclass.preprocess.clean import CleanConfig, Cleaner

        before = len(lcs)
        lcs = Cleaner(CleanConfig(steps=list(clean))).transform_many(lcs)
        info["dropped_cleaning"] = before - len(lcs)
    if task == "classification" and min_class_size:
        counts = lcs.class_counts()
        small = sorted(str(c) for c, n in counts.items() if n < min_class_size)
        labels = np.array([str(x) for x in lcs.labels])
        big = np.flatnonzero(~np.isin(labels, small))
        if big.size == 0:
            raise DataError(f"every class of {name} has fewer than {min_class_size} objects")
        lcs = lcs.select(big)
        info["classes_left_out"] = {c: int(counts[c]) for c in small}
    if task == "classification":
        lcs = subsample(lcs, max_per_class, seed=seed)
    elif max_objects and len(lcs) > max_objects:
        rng = np.random.default_rng(seed)
        lcs = lcs.select(np.sort(rng.choice(len(lcs), size=int(max_objects), replace=False)))
    lcs = _with_periods(lcs, period_options or {}, progress=progress)
    sources = lcs.objects["period_source"].value_counts()
    info.update(
        n_used=len(lcs),
        period_source={str(k): int(v) for k, v in sources.items()},
        classes={str(k): int(v) for k, v in lcs.class_counts().items()}
        if task == "classification"
        else {},
    )
    return lcs, info


def _only_bands(lc: Any, bands: Sequence[str]) -> Any:
    """The epochs of ``lc`` in ``bands``, or None when it has none there."""
    keep = np.isin(lc.band, list(bands))
    if not keep.any():
        return None
    if keep.all():
        return lc
    return lc.replace(time=lc.time[keep], mag=lc.mag[keep], err=lc.err[keep], band=lc.band[keep])


def _with_periods(lcs: LightCurveSet, options: dict[str, Any], *, progress: bool) -> LightCurveSet:
    """:func:`~skyclass.preprocess.period.fill_periods`, with where each period came from."""
    from skyclass.preprocess.period import fill_periods

    have = "period" in lcs.objects.columns
    given = lcs.objects["period"].to_numpy(float) if have else np.full(len(lcs), np.nan)
    filled = fill_periods(lcs, period="auto", options=options, progress=progress)
    found = filled.objects["period"].to_numpy(float)
    how = "folded (time is phase)" if lcs.meta.get("time_ref") == "phase" else "search"
    source = np.where(
        np.isfinite(given), "catalogue", np.where(np.isfinite(found), how, "none")
    ).astype(object)
    return filled.with_objects(filled.objects.assign(period_source=source))


# ------------------------------------------------------------------- runs
def _run_dirs(paths: Iterable[str | PathLike[str]]) -> list[Path]:
    """Run directories under ``paths`` (globs allowed): folders with metrics.json + config.yaml."""
    found: list[Path] = []
    for raw in paths:
        raw = str(raw)
        pattern = any(c in raw for c in "*?[")
        matches = [Path(p) for p in sorted(glob.glob(raw))] if pattern else [Path(raw)]
        if not matches:
            raise DataError("no run directory matches this pattern", source=raw)
        for path in matches:
            if not path.exists():
                raise DataError("run directory not found", source=str(path))
            if (path / "metrics.json").is_file():
                found.append(path)
            elif path.is_dir():
                found.extend(m.parent for m in sorted(path.rglob("metrics.json")))
    dirs = [d for d in dict.fromkeys(found) if (d / "config.yaml").is_file()]
    return dirs


def collect_runs(paths: Iterable[str | PathLike[str]]) -> pd.DataFrame:
    """One row per run directory found under ``paths`` (globs or parent folders, walked).

    A run directory holds ``config.yaml`` (a :class:`~skyclass.runs.RunConfig`) and
    ``metrics.json``; a ``metrics.json`` with an ``error`` key marks a run that
    raised. Columns: ``run_dir``, ``model``, ``data`` (``data_name`` or ``data``),
    ``task``, ``seed``, ``status`` (``ok`` or ``failed``), ``error``, ``n_objects``
    and ``classes`` (of the run's data, before the split), the held-out
    metrics (``balanced_accuracy``, ``macro_f1``, ``accuracy``, ``mae``, ``rmse``,
    ``r2``, ``n``), the cost (``fit_wall_seconds``, ``fit_cpu_seconds``,
    ``n_parameters``, ``n_trees``, ``n_nodes``), the training history (``epochs``
    trained, ``best_epoch`` kept) and ``train``, the run's training settings as text
    (:func:`train_text`; None for a forest); NaN where a run has no such value.

    Raises
    ------
    DataError
        When a path or pattern matches nothing.
    """
    import yaml

    rows = []
    for run_dir in _run_dirs(paths):
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text()) or {}
        metrics = json.loads((run_dir / "metrics.json").read_text())
        test = metrics.get("test") or {}
        cost = metrics.get("cost") or {}
        error = metrics.get("error")
        row: dict[str, Any] = {
            "run_dir": str(run_dir),
            "model": str(cfg.get("model", "?")),
            "data": str(cfg.get("data_name") or cfg.get("data", "?")),
            "task": str(metrics.get("task") or cfg.get("task", "classification")),
            "seed": int(cfg.get("seed", 0)),
            "status": "failed" if error else "ok",
            "error": str(error) if error else None,
            "n_objects": (metrics.get("data") or {}).get("n_objects"),
            "classes": ", ".join(
                f"{k} {v}" for k, v in ((metrics.get("data") or {}).get("classes") or {}).items()
            )
            or None,
        }
        for key in _METRICS:
            value = test.get(key)
            row[key] = float(value) if isinstance(value, int | float) else math.nan
        for key in _COST:
            value = cost.get(key)
            row[key] = float(value) if isinstance(value, int | float) else math.nan
        history = metrics.get("history") or {}
        best = history.get("best_epoch")
        row["epochs"] = float(len(history.get("records") or [])) or math.nan
        row["best_epoch"] = float(best) if isinstance(best, int | float) else math.nan
        row["train"] = train_text(cfg.get("train") or {}, int(cost.get("processes") or 1))
        rows.append(row)
    columns = ["run_dir", "model", "data", "task", "seed", "status", "error"]
    columns += ["n_objects", "classes", *_METRICS, *_COST, *_HISTORY, "train"]
    return pd.DataFrame(rows, columns=columns)


def train_text(train: dict[str, Any], processes: int = 1) -> str | None:
    """A run's ``train`` settings as one line, keys sorted; the batch is the global one.

    Under DDP a run's ``batch_size`` is each process's share, so the line gives
    ``processes × batch_size`` and how it was split. None for no settings (a forest).

    Examples
    --------
    >>> train_text({"lr": 1e-3, "batch_size": 32, "max_epochs": 30}, processes=2)
    'batch_size 64 (2 × 32), lr 0.001, max_epochs 30'
    >>> train_text({}) is None
    True
    """
    if not train:
        return None
    parts = []
    for key in sorted(train):
        value = train[key]
        if key == "batch_size" and processes > 1:
            value = f"{int(value) * processes} ({processes} × {value})"
        parts.append(f"{key} {value}")
    return ", ".join(parts)


def aggregate_runs(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (ddof 1) over seeds per (data, task, model), ranked.

    Columns: ``data``, ``task``, ``model``, ``seeds`` (list), ``n_ok``, ``n_failed``,
    ``error`` (the first failure's message), ``<metric>_mean`` / ``<metric>_std``
    for every metric and cost column, and ``rank`` within its (data, task): by mean
    balanced accuracy (higher first) or mean MAE (lower first); ties share the
    smaller rank; NaN where no seed succeeded.

    Examples
    --------
    >>> df = pd.DataFrame({"data": "d", "task": "regression", "model": ["a", "a", "b"],
    ...                    "seed": [0, 1, 0], "status": "ok", "error": None,
    ...                    "mae": [0.2, 0.4, 0.25]})
    >>> agg = aggregate_runs(df)
    >>> agg[["model", "mae_mean", "rank"]].round(3).to_numpy().tolist()
    [['a', 0.3, 2.0], ['b', 0.25, 1.0]]
    """
    values = [c for c in (*_METRICS, *_COST, *_HISTORY) if c in df.columns]
    out = []
    for (data, task, model), group in df.groupby(["data", "task", "model"], sort=False):
        ok = group[group["status"] == "ok"]
        failed = group[group["status"] != "ok"]
        row: dict[str, Any] = {
            "data": data,
            "task": task,
            "model": model,
            "seeds": sorted(int(s) for s in group["seed"]),
            "n_ok": len(ok),
            "n_failed": len(failed),
            "error": None if failed.empty else str(failed["error"].iloc[0]),
        }
        for key in values:
            v = ok[key].to_numpy(float)
            v = v[np.isfinite(v)]
            row[f"{key}_mean"] = float(v.mean()) if v.size else math.nan
            row[f"{key}_std"] = float(v.std(ddof=1)) if v.size > 1 else math.nan
        out.append(row)
    agg = pd.DataFrame(out)
    if agg.empty:
        return agg.assign(rank=pd.Series(dtype=float))
    agg["rank"] = math.nan
    for (_, task), group in agg.groupby(["data", "task"], sort=False):
        metric, higher, _ = HEADLINE.get(task, HEADLINE["classification"])
        score = group.get(f"{metric}_mean")
        if score is None:
            continue
        agg.loc[group.index, "rank"] = score.rank(ascending=not higher, method="min")
    return agg


# --------------------------------------------------------------- markdown
def _number(mean: float, std: float) -> str:
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.3f}" if not np.isfinite(std) else f"{mean:.3f} ± {std:.3f}"


def _seconds(value: float) -> str:
    if not np.isfinite(value):
        return "?"
    if value < 10:
        return f"{value:.1f} s"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def _fit_time(row: pd.Series, key: str = "fit_wall_seconds") -> str:
    """Mean fit time; ``≥`` when some epochs were trained by a process that kept no time.

    A wall time trained by several processes (DDP) says how many.

    Examples
    --------
    >>> _fit_time(pd.Series({"fit_wall_seconds_mean": 4000.0, "processes_mean": 2.0}))
    '67 min (2 processes)'
    """
    untimed = row.get("untimed_epochs_mean", math.nan)
    at_least = "≥ " if isinstance(untimed, float) and np.isfinite(untimed) and untimed > 0 else ""
    processes = row.get("processes_mean", math.nan)
    shared = ""
    if key == "fit_wall_seconds" and isinstance(processes, float) and processes > 1:
        shared = f" ({processes:.0f} processes)"
    return at_least + _seconds(row[f"{key}_mean"]) + shared


def _count(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.1f} M"
    if value >= 1e3:
        return f"{value / 1e3:.0f} k"
    return f"{value:.0f}"


def _size(row: pd.Series) -> str:
    if np.isfinite(row.get("n_parameters_mean", math.nan)):
        return _count(row["n_parameters_mean"])
    if np.isfinite(row.get("n_nodes_mean", math.nan)):
        return f"{row['n_trees_mean']:.0f} trees, {_count(row['n_nodes_mean'])} nodes"
    return "?"


def _reason(error: str | None, limit: int = 90) -> str:
    text = (error or "unknown error").strip().splitlines()[0]
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def _cell(row: pd.Series | None, task: str, model_task: str) -> str:
    if row is None:
        if model_task not in {task, "both"}:
            return f"— ({model_task} only)"
        return "not run"
    if row["n_ok"] == 0:
        return f"failed: {_reason(row['error'])}"
    metric, _, second = HEADLINE.get(task, HEADLINE["classification"])
    text = f"#{row['rank']:.0f} · " + " / ".join(
        _number(row.get(f"{k}_mean", math.nan), row.get(f"{k}_std", math.nan))
        for k in (metric, second)
    )
    text += f"<br>{_fit_time(row)} · {_size(row)}"
    if row["n_failed"]:
        text += f" ({row['n_failed']:.0f} of {len(row['seeds'])} seeds failed)"
    return text


def leaderboard_markdown(
    df: pd.DataFrame,
    *,
    models: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    command: str | None = None,
    title: str = "Leaderboard",
) -> str:
    """The leaderboard page from :func:`collect_runs`'s table.

    Parameters
    ----------
    df : DataFrame
        One row per run (:func:`collect_runs`).
    models : sequence of str, optional
        Rows, in order of appearance when ranks tie: default every registered
        light-curve model (:func:`light_curve_models`), the ``feature_forest``
        baseline, then any other model with a run. Listed models without any run
        show ``not run`` and are named under the table.
    datasets : sequence of str, optional
        Columns: default the data sets of the runs, in order of appearance. A data
        set with runs of several task types gets one column per task.
    command : str, optional
        The command line that generated the page, written at its top.
    title : str
    """
    from skyclass.baselines import BASELINES

    agg = aggregate_runs(df)
    run_models = list(dict.fromkeys(df["model"])) if len(df) else []
    if models is None:
        models = [*light_curve_models(), *BASELINES]
    models = list(dict.fromkeys([*models, *run_models]))
    names = list(datasets) if datasets is not None else list(dict.fromkeys(df["data"]))
    columns: list[tuple[str, str]] = []
    for name in names:
        tasks = sorted(set(df.loc[df["data"] == name, "task"])) if len(df) else []
        columns.extend((name, t) for t in (tasks or ["?"]))
    multi = {n for n in names if sum(c[0] == n for c in columns) > 1}
    header = [f"{n} ({t})" if n in multi else n for n, t in columns]
    lookup = {(r["data"], r["task"], r["model"]): r for _, r in agg.iterrows()}

    def mean_rank(model: str) -> float:
        ranks = [lookup[(*c, model)]["rank"] for c in columns if (*c, model) in lookup]
        ranks = [r for r in ranks if np.isfinite(r)]
        return float(np.mean(ranks)) if ranks else math.inf

    order = sorted(models, key=lambda m: (mean_rank(m), models.index(m)))
    seeds = sorted({int(s) for s in df["seed"]}) if len(df) else []
    lines = [f"# {title}", ""]
    if command:
        lines += [f"Generated by `{command}` from the run directories it names; never typed.", ""]
    lines += [
        f"Seeds: {seeds if seeds else 'none'} — each seed is its own held-out "
        "split by object, stratified by class for classification (the same split for every "
        "model of a data set and seed).",
        "",
        "| model | " + " | ".join(header) + " | mean rank |",
        "|---|" + "---|" * (len(columns) + 1),
    ]
    for model in order:
        task = _model_task(model)
        cells = [_cell(lookup.get((*c, model)), c[1], task) for c in columns]
        rank = mean_rank(model)
        lines.append(
            f"| {model} | " + " | ".join(cells) + f" | {rank:.1f} |"
            if np.isfinite(rank)
            else f"| {model} | " + " | ".join(cells) + " | — |"
        )
    lines += [
        "",
        "Cells: `#rank · first / second metric` (mean ± standard deviation over seeds, "
        "ddof 1), then the mean wall-clock fit time and the model's size.",
        "",
    ]
    lines += _footnotes(models, run_models, df)
    for (name, task), head in zip(columns, header, strict=True):
        lines += _detail(name, task, head, agg, df)
    return "\n".join(lines).rstrip() + "\n"


def _footnotes(models: Sequence[str], run_models: Sequence[str], df: pd.DataFrame) -> list[str]:
    lines = [
        "- **BA**: balanced accuracy, the mean of the per-class recalls on the held-out "
        "objects (ranks classification columns, higher first).",
        "- **macro F1**: the unweighted mean of the per-class F1 scores.",
        "- **MAE**: mean absolute error of the held-out predictions (ranks regression "
        "columns, lower first); **R²**: coefficient of determination.",
        "- Fit time: wall-clock seconds of `fit` (training and validation, not loading or "
        "scoring; a fit resumed from a checkpoint adds the earlier processes' training up to "
        "it; `≥` where a checkpoint from before checkpoints kept their time was resumed, so "
        "the epochs before it are not counted; `(N processes)` where N processes trained "
        "together with DDP, each on batch/N rows so that the global batch is the same, their "
        "CPU times added up); size: trainable parameters of a network, trees and nodes of a "
        "forest.",
        "- `not run`: no run directory for that pair; `failed:` the run raised, with its "
        "message; `— (task only)`: the model is registered for the other task.",
    ]
    missing = [m for m in models if m not in run_models]
    if missing:
        lines.append(f"- Registered light-curve models without any run: {', '.join(missing)}.")
    return [*lines, *_training_note(df), ""]


def _training_note(df: pd.DataFrame) -> list[str]:
    """The networks' training settings: the most common line, then every run that differs."""
    if "train" not in df.columns or df["train"].dropna().empty:
        return []
    nets = df[df["train"].notna()]
    common = nets["train"].value_counts().idxmax()
    others = [
        f"{model} on {', '.join(dict.fromkeys(group['data']))}: {train}"
        for (model, train), group in nets[nets["train"] != common].groupby(
            ["model", "train"], sort=True
        )
    ]
    line = (
        f"- Training (each network run's `config.yaml` `train`; batch: the global batch): {common}"
    )
    line += f"; except {'; '.join(others)}." if others else " for every network run."
    note = (
        "- Epochs: epochs trained (mean over seeds) and, in brackets, the epoch whose "
        "weights were kept (best validation loss); equal to the trained epochs at the "
        "epoch limit, the network was still improving when training stopped."
    )
    return [line, note]


def _epochs(row: pd.Series) -> str:
    epochs, best = row.get("epochs_mean", math.nan), row.get("best_epoch_mean", math.nan)
    if not np.isfinite(epochs):
        return "—"
    return f"{epochs:.0f}" + (f" ({best:.0f})" if np.isfinite(best) else "")


def _detail(name: str, task: str, head: str, agg: pd.DataFrame, df: pd.DataFrame) -> list[str]:
    part = agg[(agg["data"] == name) & (agg["task"] == task)] if len(agg) else agg
    if part.empty:
        return [f"## {head}", "", "No runs.", ""]
    metric, _, second = HEADLINE.get(task, HEADLINE["classification"])
    extra = ("accuracy",) if task == "classification" else ("rmse",)
    keys = (metric, second, *extra)
    n = part["n_mean"].dropna()
    runs = df[(df["data"] == name) & (df["task"] == task)] if len(df) else df
    sizes = sorted({int(x) for x in runs["n_objects"].dropna()}) if "n_objects" in runs else []
    classes = sorted({str(x) for x in runs["classes"].dropna()}) if "classes" in runs else []
    lines = [
        f"## {head}",
        "",
        f"Task: {task}; objects: {', '.join(map(str, sizes)) or '?'}"
        + (f" ({'; '.join(classes)})" if classes else "")
        + "; held-out objects per seed: "
        + (f"{n.min():.0f}–{n.max():.0f}" if len(n) else "?")
        + ".",
        "",
        "| rank | model | "
        + " | ".join(_LABELS.get(k, k.upper() if k == "rmse" else k) for k in keys)
        + " | seeds | fit time (wall / CPU) | epochs (kept) | size |",
        "|---|" * 1 + "---|" * (len(keys) + 5),
    ]
    part = part.sort_values(["rank", "model"], na_position="last")
    for _, row in part.iterrows():
        seeds = ", ".join(str(s) for s in row["seeds"])
        if row["n_ok"] == 0:
            lines.append(
                f"| — | {row['model']} | failed: {_reason(row['error'])} |"
                + " |" * (len(keys) - 1)
                + f" {seeds} | | | |"
            )
            continue
        values = " | ".join(
            _number(row.get(f"{k}_mean", math.nan), row.get(f"{k}_std", math.nan)) for k in keys
        )
        failed = f" ({row['n_failed']:.0f} failed)" if row["n_failed"] else ""
        lines.append(
            f"| {row['rank']:.0f} | {row['model']} | {values} | {seeds}{failed} | "
            f"{_fit_time(row)} / {_fit_time(row, 'fit_cpu_seconds')}"
            f" | {_epochs(row)} | {_size(row)} |"
        )
    return [*lines, ""]
