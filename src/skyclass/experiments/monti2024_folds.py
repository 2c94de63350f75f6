"""Dékány & Grebel's folds, as monti2024 runs them: one loop, every network, each a unit.

For a test fold the other used folds are the training pool, a stratified share of
it is the validation set (early stopping, and the choice of the network by
validation MAE) and the loss is optionally density-weighted (:func:`fold_split`).
:func:`run_folds` trains every network on every test fold, each (fold, network) a
unit kept by :func:`~skyclass.study.units.reuse_result` under the key
:func:`unit_key`; the reproduction (:func:`skyclass.experiments.monti2024.run`) and
its inputs ablation read its :class:`FoldRuns`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from skyclass.exceptions import DataError
from skyclass.study.units import fingerprint, objects_digest, reuse_result

__all__ = [
    "FoldRuns",
    "fit_network",
    "fold_split",
    "loss_text",
    "regression_scores",
    "rounded",
    "run_folds",
    "unit_key",
]


def fit_network(
    name: str,
    arrays: dict[str, np.ndarray],
    y: np.ndarray,
    fit_idx: np.ndarray,
    val_idx: np.ndarray,
    test_idx: np.ndarray,
    weights: np.ndarray | None,
    settings: Mapping[str, Any],
    seed: int,
) -> dict[str, Any]:
    """Train one network on ``fit_idx`` (early stopping on ``val_idx``); predict val and test."""
    from skyclass.models import get_model_spec
    from skyclass.training import TrainingError, fit, shape_options, train_config

    keys = [k for k in get_model_spec(name).input_keys if k in arrays]
    options = shape_options(name, arrays, (settings.get("model_options") or {}).get(name, {}))
    options["num_outputs"] = 1
    train_cfg = train_config(name, settings["train"], task="regression", seed=seed)
    result: dict[str, Any] = {
        "model": name,
        "model_options": options,
        "train_config": train_cfg.model_dump(mode="json"),
        "n_fit": int(fit_idx.size),
        "n_val": int(val_idx.size),
    }
    # the target scaled by the fit set's mean and std (when asked): the linear output
    # then starts near the right scale instead of spending epochs learning a -1.5 dex bias
    centre, scale = 0.0, 1.0
    if settings.get("standardize_target"):
        centre, scale = float(y[fit_idx].mean()), float(y[fit_idx].std()) or 1.0
    result["target_scaling"] = {"mean": centre, "std": scale}
    target = ((y - centre) / scale).astype(np.float32)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        fitted = fit(
            name,
            {k: arrays[k][fit_idx] for k in keys},
            target[fit_idx],
            val_arrays={k: arrays[k][val_idx] for k in keys},
            val_targets=target[val_idx],
            num_outputs=1,
            task="regression",
            model_options=options,
            train=train_cfg,
            seed=seed,
            sample_weight=weights,
        )
    except TrainingError as exc:  # one diverging network must not end a long run
        result.update(
            error=str(exc),
            seconds=round(time.perf_counter() - start, 1),
            cpu_seconds=round(time.process_time() - cpu, 1),
        )
        return result
    history, trainer = fitted.history, fitted.trainer
    result["n_parameters"] = int(sum(p.numel() for p in fitted.model.parameters()))
    result["history"] = history.to_dict()
    result["epochs"] = len(history)
    for part, idx in (("val_pred", val_idx), ("test_pred", test_idx)):
        pred = trainer.predict({k: arrays[k][idx] for k in keys})
        result[part] = (pred.astype(np.float64) * scale + centre).tolist()
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["cpu_seconds"] = round(time.process_time() - cpu, 1)
    return result


def regression_scores(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """MAE, RMSE, density-weighted MAE/RMSE and R² (the paper's five numbers).

    Examples
    --------
    >>> y = np.array([-1.5, -1.0, -0.5, 0.0])
    >>> round(regression_scores(y, y + 0.1)["mae"], 3), regression_scores(y[:1], y[:1])["n"]
    (0.1, 1)
    """
    from skyclass.evaluate.metrics import regression_summary

    ok = np.isfinite(pred)
    if ok.sum() < 2:
        return {"n": int(ok.sum()), "mae": np.nan, "rmse": np.nan, "r2": np.nan}
    full = regression_summary(y[ok], pred[ok], weights="density", n_boot=0)
    return {k: full[k] for k in ("n", "mae", "rmse", "wmae", "wrmse", "r2", "bias")}


def unit_key(
    settings: Mapping[str, Any], model: str, fold: int | Sequence[int], seed: int, ids: np.ndarray
) -> str:
    """Fingerprint of what a (fold, model) result depends on, to reuse it safely.

    Examples
    --------
    >>> ids = np.array(["star1", "star2"])
    >>> unit_key({"folds": 5}, "m", 0, 0, ids) == unit_key({"folds": 5}, "m", 0, 0, ids[::-1])
    False
    """
    relevant = {
        k: settings.get(k)
        for k in (
            "dataset",
            "folds",
            "max_objects",
            "representations",
            "density",
            "validation_fraction",
            "stratify_bins",
            "standardize_target",
            "train",
        )
    }
    relevant["model_options"] = (settings.get("model_options") or {}).get(model)
    if settings.get("input") is not None:  # an ablation's input variant (absent: plain run)
        relevant["input"] = settings["input"]
    stars = objects_digest(ids)
    return fingerprint([relevant, model, fold, seed, stars], length=16)


def rounded(value: Any, digits: int = 3) -> Any:
    """``value`` rounded for a table: None when not finite, unchanged when not a number.

    Examples
    --------
    >>> rounded(0.12345), rounded(float("nan")), rounded("n/a")
    (0.123, None, 'n/a')
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return value
    return round(v, digits) if np.isfinite(v) else None


def fold_split(
    k: int, fold: np.ndarray, valid: np.ndarray, y: np.ndarray, s: Mapping[str, Any], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Test fold ``k``, its training pool, the pool's fit / validation split and loss weights.

    ``s["density"]`` null means an unweighted MSE (no weights); otherwise the
    :func:`~skyclass.augment.balance.density_weights` options, fitted on the fit part.
    """
    from skyclass.augment.balance import density_weights
    from skyclass.training import stratify_bins, train_val_split

    test_idx = np.flatnonzero((fold == k) & valid)
    pool = np.flatnonzero((fold != k) & valid)
    if test_idx.size == 0 or pool.size < 10:
        raise DataError(f"fold {k} has {test_idx.size} test and {pool.size} training stars")
    strata = np.full(len(y), -1)  # [Fe/H] bins of the pool only
    strata[pool] = stratify_bins(y[pool], n_bins=int(s["stratify_bins"]))
    fit_idx, val_idx = train_val_split(pool, strata, float(s["validation_fraction"]), seed=seed + k)
    density = s.get("density")
    weights = None if density is None else density_weights(y[fit_idx], **dict(density))
    return test_idx, pool, fit_idx, val_idx, weights


def loss_text(density: Mapping[str, Any] | None) -> str:
    """The training loss in words, for a table's note.

    Examples
    --------
    >>> loss_text(None)
    'unweighted MSE (density: null)'
    """
    if density is None:
        return "unweighted MSE (density: null)"
    return f"MSE weighted by density_weights({dict(density)}) of the fit set's [Fe/H]"


@dataclass
class FoldRuns:
    """Every network on every test fold: the folds' parts, choices, scores and predictions."""

    parts: list[tuple[int, np.ndarray, np.ndarray]]  # (fold, training pool, test stars)
    best: list[str]  # the network of lowest validation MAE, per fold
    network_val: dict[str, list[dict]]  # validation scores, per network and fold
    network_pred: dict[str, np.ndarray]  # out-of-fold predictions, per network
    history: dict[str, Any]  # the chosen network's training history on the first fold


def run_folds(
    root: Path,
    models: Sequence[str],
    arrays: dict[str, np.ndarray],
    y: np.ndarray,
    fold: np.ndarray,
    valid: np.ndarray,
    s: Mapping[str, Any],
    test_folds: Sequence[int],
    *,
    seed: int,
    ids: np.ndarray,
    progress: bool,
    tag: str = "",
) -> FoldRuns:
    """The fold loop: every network on every test fold, each (fold, network) a unit.

    A fold's stars are split by :func:`fold_split`; each network's result is kept in
    ``root/folds/<k>/<network>/`` (:func:`~skyclass.study.units.reuse_result`, keyed
    by :func:`unit_key` with ``ids``). The fold's network of lowest validation MAE is
    chosen.
    """
    runs = FoldRuns(
        [], [], {m: [] for m in models}, {m: np.full(len(y), np.nan) for m in models}, {}
    )
    for k in test_folds:
        test_idx, pool, fit_idx, val_idx, weights = fold_split(k, fold, valid, y, s, seed)
        fold_results = {}
        for name in models:
            compute = partial(
                fit_network, name, arrays, y, fit_idx, val_idx, test_idx, weights, s, seed
            )
            result = reuse_result(
                root / "folds" / str(k) / name, unit_key(s, name, k, seed, ids), compute
            )
            if result.get("error"):
                val = {"n": int(val_idx.size), "mae": np.nan, "rmse": np.nan, "r2": np.nan}
            else:
                val = regression_scores(y[val_idx], np.asarray(result["val_pred"], float))
                runs.network_pred[name][test_idx] = np.asarray(result["test_pred"], float)
            val.update(
                fold=k,
                epochs=result.get("epochs"),
                seconds=result.get("seconds"),
                cpu_seconds=result.get("cpu_seconds"),
                error=result.get("error"),
            )
            runs.network_val[name].append(val)
            fold_results[name] = result
            if progress:
                print(
                    f"monti2024{tag} fold {k} {name}: val MAE {rounded(val['mae'])} "
                    f"({result.get('epochs')} epochs, {result.get('seconds')} s"
                    f"{', reused' if result.get('reused') else ''})",
                    flush=True,
                )
        val_mae = {m: runs.network_val[m][-1]["mae"] for m in models}
        finite = {m: v for m, v in val_mae.items() if np.isfinite(v)}
        if not finite:
            raise DataError(
                f"no network could be trained on fold {k}{tag}; see {root / 'folds' / str(k)}"
            )
        best = min(finite, key=finite.get)
        runs.parts.append((k, pool, test_idx))
        runs.best.append(best)
        if not runs.history:
            runs.history = fold_results[best].get("history", {})
    return runs
