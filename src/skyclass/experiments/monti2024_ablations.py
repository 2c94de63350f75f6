"""monti2024's ablation: the paper's three inputs through the same networks and folds.

``--set settings.ablation=inputs`` (settings in ``settings.ablations.inputs``): the
raw, spline-resampled and full phase sequences of Monti et al. (2024), each
represented for the same stars and trained with every network on every test fold
of the reproduction (:func:`~skyclass.experiments.monti2024.run`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.experiments.monti2024 import prepare, represent
from skyclass.experiments.monti2024_folds import (
    loss_text,
    regression_scores,
    rounded,
    run_folds,
    unit_key,
)
from skyclass.experiments.runner import ExperimentConfig, register_experiment
from skyclass.study.units import reuse_result, unit_origin

__all__ = ["run_inputs"]


def _unscored(values: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """``values`` of the ``scored`` stars back at their rows of the whole set (NaN elsewhere)."""
    out = np.full(scored.size, np.nan)
    out[scored] = values
    return out


def _input_unit(
    name: str,
    sv: Mapping[str, Any],
    arrays: dict[str, np.ndarray],
    y: np.ndarray,
    fold: np.ndarray,
    valid: np.ndarray,
    scored: np.ndarray,
    test_folds: Sequence[int],
    models: Sequence[str],
    *,
    seed: int,
    ids: np.ndarray,
    root: Path,
    preds: dict[str, dict[str, np.ndarray]],
    progress: bool,
) -> dict[str, Any]:
    """One input of the inputs ablation: every network on every test fold.

    Returns aggregates only (scores per network and fold, pooled out-of-fold scores,
    the network chosen per fold, the headline summary and the chosen network's history
    on the first fold); the out-of-fold predictions of the ``scored`` stars go into
    ``preds[name]`` and ``root/predictions.parquet``. ``ids`` are every star's ids.
    """
    from skyclass.evaluate.metrics import regression_summary

    runs = run_folds(
        root,
        models,
        arrays,
        y,
        fold,
        valid,
        sv,
        test_folds,
        seed=seed,
        ids=ids[valid],
        progress=progress,
        tag=f" [{name}]",
    )
    network_pred, history = runs.network_pred, runs.history
    chosen_pred = np.full(len(y), np.nan)
    per_fold: dict[str, list[dict]] = {m: [] for m in [*models, "chosen"]}
    for (k, _, test_idx), best in zip(runs.parts, runs.best, strict=True):
        chosen_pred[test_idx] = network_pred[best][test_idx]
        for m in models:
            per_fold[m].append(
                {"fold": k, **regression_scores(y[test_idx], network_pred[m][test_idx])}
            )
        per_fold["chosen"].append(
            {"fold": k, "model": best, **regression_scores(y[test_idx], chosen_pred[test_idx])}
        )
    chosen_by = list(runs.best)
    preds[name] = {**network_pred, "chosen": chosen_pred}
    root.mkdir(parents=True, exist_ok=True)
    oof = pd.DataFrame({"object_id": ids[scored], **{m: v[scored] for m, v in preds[name].items()}})
    oof.to_parquet(root / "predictions.parquet", index=False)
    pooled = {}
    for m, values in preds[name].items():
        v = values[scored]
        ok = np.isfinite(v)
        pooled[m] = (
            regression_scores(y[scored][ok], v[ok]) if ok.sum() > 1 else {"n": int(ok.sum())}
        )
    head = chosen_pred[scored]
    ok = np.isfinite(head)
    test = regression_summary(y[scored][ok], head[ok], weights="density", seed=seed)
    return {
        "per_fold": per_fold,
        "pooled": pooled,
        "chosen_by": chosen_by,
        "history": history,
        "test": test,
    }


@register_experiment("monti2024", ablation="inputs")
def run_inputs(cfg: ExperimentConfig, out: Path, *, progress: bool = True) -> dict:
    """The paper's three inputs (raw, spline, full) through the same networks and folds."""
    from skyclass.evaluate.metrics import cv_summary
    from skyclass.experiments.runner import mean_std

    s = cfg.settings
    opts = dict(s["ablations"]["inputs"])
    variants: dict[str, Any] = dict(opts.get("variants") or {})
    if not variants:
        raise DataError("settings.ablations.inputs.variants is empty; name at least one input")
    seed = int(cfg.seeds[0])
    models: Sequence[str] = list(s["models"])
    test_folds = [int(k) for k in (opts.get("test_folds") or s.get("test_folds") or s["folds"])]
    headline = opts.get("headline") or ("full" if "full" in variants else next(iter(variants)))
    if headline not in variants:
        raise DataError(f"headline input {headline!r} is not one of {list(variants)}")
    wanted = opts.get("train_inputs")
    if wanted is not None and (not wanted or set(wanted) - set(variants)):
        raise DataError(
            f"ablations.inputs.train_inputs {list(wanted)} must name inputs of "
            f"{list(variants)} (null: all)"
        )
    started, cpu = time.perf_counter(), time.process_time()
    lcs, info = prepare(s, seed=seed)
    ids = lcs.ids.astype(str)
    y = lcs.labels.astype(np.float64)
    fold = lcs.objects["fold"].to_numpy(int)

    # every input from the same stars: a star any input cannot represent is left out of all
    inputs: dict[str, dict[str, np.ndarray]] = {}
    valid = np.ones(len(lcs), bool)
    info["inputs"] = {}
    for name, representations in variants.items():
        t0 = time.perf_counter()
        arrays, ok, errors = represent(lcs, representations)
        inputs[name] = arrays
        valid &= ok
        info["inputs"][name] = {
            "representations": representations,
            "shape": {k: list(v.shape[1:]) for k, v in arrays.items()},
            "not_represented": errors,
            "seconds": round(time.perf_counter() - t0, 1),
        }
    info["n_scored"] = int(valid.sum())
    used_ids = ids[valid]
    # the inputs trained by this process (all inputs are still represented above, so that
    # every process scores the same stars and a last run reuses each input's networks)
    if wanted is not None:
        variants = {name: variants[name] for name in variants if name in wanted}
        if headline not in variants:
            headline = next(iter(variants))

    # One input (every network on every test fold) is a unit: its aggregates (scores per
    # fold, pooled out-of-fold scores, the networks chosen, a history) are also kept in a
    # unit record, so inputs can run as separate processes or on separate machines; its
    # out-of-fold predictions exist only in the process that computed it.
    units: dict[str, dict[str, Any]] = {}
    preds: dict[str, dict[str, np.ndarray]] = {}
    scored = np.isin(fold, test_folds) & valid
    for name in variants:
        sv = {**s, "representations": variants[name], "input": name}
        root = out / "inputs" / name
        compute = partial(
            _input_unit,
            name,
            sv,
            inputs[name],
            y,
            fold,
            valid,
            scored,
            test_folds,
            models,
            seed=seed,
            ids=ids,
            root=root,
            preds=preds,
            progress=progress,
        )
        key = unit_key(sv, "inputs:" + ",".join(models), test_folds, seed, used_ids)
        unit = reuse_result(root, key, compute, needs=["predictions.parquet"], aggregates=True)
        if unit.get("reused"):
            if not unit.get("from_record"):  # the run directory keeps its predictions
                oof = pd.read_parquet(root / "predictions.parquet").drop(columns="object_id")
                preds[name] = {m: _unscored(oof[m].to_numpy(float), scored) for m in oof}
            if progress:
                print(f"monti2024 [{name}]: reused from {unit_origin(unit)}", flush=True)
        units[name] = unit
    scores = {name: unit["per_fold"] for name, unit in units.items()}
    chosen_by = {name: unit["chosen_by"] for name, unit in units.items()}
    history = units[headline].get("history") or {}

    # the report's plots show the headline input: its predictions exist only in the
    # process that computed it (a unit reused from the record has none)
    (out / "predictions.parquet").unlink(missing_ok=True)
    if headline in preds:
        pred = pd.DataFrame(
            {
                "object_id": ids[scored],
                "fold": fold[scored],
                "label": y[scored],
                "predicted": preds[headline]["chosen"][scored],
            }
        )
        for name, by_model in preds.items():
            for m, values in by_model.items():
                pred[f"pred_{name}__{m}"] = values[scored]
        pred.to_parquet(out / "predictions.parquet", index=False)

    rows = []
    shown = [*models, "chosen"] if len(models) > 1 else list(models)  # one: nothing to choose
    for name in variants:
        for m in shown:
            pooled = units[name]["pooled"][m]
            folds_ = scores[name][m]
            label = m
            if m == "chosen":
                counts = pd.Series(chosen_by[name]).value_counts()
                label = "chosen by val MAE (" + ", ".join(f"{a} ×{c}" for a, c in counts.items())
                label += ")"
            rows.append(
                [
                    name,
                    label,
                    pooled.get("n", 0),
                    *(rounded(pooled.get(key)) for key in ("mae", "rmse", "wmae", "r2")),
                    *(
                        mean_std(f.get(key) for f in folds_)
                        for key in ("mae", "rmse", "wmae", "r2")
                    ),
                ]
            )
    train = dict(s["train"])
    described = "; ".join(
        f"{name}: {', '.join(f'{r}({o})' for r, o in reps.items())}"
        for name, reps in variants.items()
    )
    table = {
        "title": f"monti2024 input ablation: raw vs spline vs full preprocessing "
        f"([Fe/H], dex; Dékány & Grebel's folds {test_folds}, seed {seed})",
        "columns": [
            "input",
            "network",
            "n",
            "MAE (pooled OOF)",
            "RMSE (pooled OOF)",
            "wMAE (pooled OOF)",
            "R² (pooled OOF)",
            "MAE (folds)",
            "RMSE (folds)",
            "wMAE (folds)",
            "R² (folds)",
        ],
        "rows": rows,
        "note": "The paper's three inputs, each through the same networks, folds, fit / "
        "validation splits and training: raw = the folded epochs in phase order, padded with "
        "-1 and masked; spline = the smoothing spline without the mean-magnitude step "
        "(apparent G magnitudes); full = the spline minus its mean (the plain run's input). "
        f"Settings — {described}. All inputs are scored on the same {int(scored.sum())} stars "
        "(a star any input cannot represent is left out of all). Pooled OOF = every test "
        "fold's predictions pooled; folds = mean ± std over test folds. 'chosen by val MAE' "
        "is the plain run's rule: per fold, the network with the lowest validation MAE "
        f"(validation stars only). Training loss: {loss_text(s.get('density'))}"
        f"{', target standardised on the fit set' if s.get('standardize_target') else ''}; "
        f"Adam lr {train.get('lr')}, batch {train.get('batch_size')}, at most "
        f"{train.get('max_epochs')} epochs, patience {train.get('early_stopping_patience')}. "
        "wMAE weights each test star by the inverse KDE density of the test [Fe/H]. Second "
        "channel = phase (the curves carry no period).",
    }
    test = dict(units[headline]["test"])
    test["n_not_represented"] = int(np.isin(fold, test_folds).sum() - scored.sum())
    info["seconds_total"] = round(time.perf_counter() - started, 1)
    info["cpu_seconds_total"] = round(time.process_time() - cpu, 1)
    return {
        "task": "regression",
        "data": info,
        "fit": {
            "ablation": "inputs",
            "inputs": variants,
            "headline": f"{headline} input, network chosen by validation MAE per fold",
            "models": list(models),
            "density": s.get("density"),
            "train": train,
            "seed": seed,
        },
        "history": history,
        "test": test,
        "cv": cv_summary(scores[headline]["chosen"]),
        "ablation": {
            "name": "inputs",
            "folds": test_folds,
            "scores": {
                name: {
                    m: [{k: rounded(v, 4) for k, v in f.items()} for f in per]
                    for m, per in per_fold.items()
                }
                for name, per_fold in scores.items()
            },
            "chosen": chosen_by,
        },
        "tables": [table],
    }


#: Ablations of ``settings.ablation`` (null: the plain reproduction).
