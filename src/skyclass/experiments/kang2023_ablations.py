"""kang2023's two ablations, chosen with ``--set settings.ablation=NAME``.

Their settings are in ``settings.ablations`` of ``configs/kang2023.yaml``; each
returns the reproduction's metrics with its own tables.

- ``cross_test``: kang2023's k-fold cross-test of the RNN ensemble. Stratified
  folds by object; in each fold the other folds are the pool, a validation share
  is carved from it, the bags are planned and the GPs fitted on that fold's
  training objects only, and the fold is predicted. Per-fold scores and the median
  recall-view confusion matrix with the second-worst / second-best fold per cell
  (:func:`~skyclass.study.folds.median_and_spread`, the paper's Fig. 8).
- ``compound``: on the 6:1:3 split of each seed, the compound net trained in two
  stages (as the reproduction) or jointly end to end, each with and without the
  numeric branch (:data:`COMPOUND_VARIANTS`), all on the same bags.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import limit_threads
from skyclass.experiments.kang2023 import (
    SCORE_COLUMNS,
    SCORES,
    open_study,
    rnn_fitter,
    second_stage,
)
from skyclass.experiments.runner import (
    ExperimentConfig,
    deep_merge,
    mean_std,
    pooled_summary,
    register_experiment,
)
from skyclass.lightcurve import LightCurveSet
from skyclass.study.bagging import BaggingStudy, bag_train_config, fit_net, materialize_bag
from skyclass.study.folds import chosen_folds, median_and_spread, paired_differences, spread_cell
from skyclass.study.session import data_metrics
from skyclass.study.units import objects_digest, reuse_result

__all__ = ["COMPOUND_VARIANTS", "VARIANT_PAIRS", "compound", "cross_test"]


def _own_settings(s: Mapping[str, Any], name: str) -> dict:
    """Ablation ``name``'s own settings (``settings.ablations.<name>``)."""
    return dict((s.get("ablations") or {}).get(name) or {})


def _ablation_settings(s: Mapping[str, Any], name: str) -> dict:
    """The base settings with ablation ``name``'s own settings laid over them."""
    merged = deep_merge({k: v for k, v in s.items() if k != "ablations"}, _own_settings(s, name))
    merged["ablation"] = name
    return merged


@register_experiment("kang2023", ablation="cross_test")
def cross_test(cfg: ExperimentConfig, out: Path, *, progress: bool = True) -> dict:
    """kang2023's k-fold cross-test of the RNN ensemble, everything redone inside each fold.

    Each fold is a unit (:func:`~skyclass.study.units.reuse_result`): its scores
    and confusion matrix are kept, also in a unit record when one is given, so the
    folds can be run by separate processes (``ablations.cross_test.folds``) and a last
    run over every fold reuses them.
    """
    from skyclass.evaluate.metrics import cv_summary, summary_from_counts
    from skyclass.training import stratified_kfold

    a = _ablation_settings(cfg.settings, "cross_test")
    n_folds, val_fraction = int(a["n_folds"]), float(a["val_fraction"])
    if not 0 < val_fraction < 1:
        raise ValueError(f"cross_test.val_fraction must be in (0, 1), got {val_fraction!r}")
    chosen = chosen_folds(a.get("folds"), n_folds, setting="cross_test.folds")
    net, seed = "kang2023_rnn", cfg.seeds[0]
    with limit_threads(cfg.settings.get("threads") or None):
        lcs, info, exp = open_study(cfg, a, out, [net], ["bagging"], progress=progress)
        labels = np.array([str(x) for x in lcs.labels])
        folds = stratified_kfold(labels, n_splits=n_folds, seed=seed)
        folds_done, counts, tables = _cross_test_folds(exp, lcs, folds, chosen, a, seed, out)
    classes = sorted({c for r in folds_done for c in r["classes"]})
    stack = np.full((len(folds_done), len(classes), len(classes)), np.nan)
    for i, r in enumerate(folds_done):
        at = [classes.index(c) for c in r["classes"]]
        stack[i][np.ix_(at, at)] = np.asarray(r["confusion_true"], float)
    median, low, high = median_and_spread(stack)
    rows = [
        [
            r["fold"],
            r["sizes"]["train"],
            r["sizes"]["val"],
            r["sizes"]["test"],
            int(np.mean(r["synthetic_per_member"])),
            f"{r['macro_f1']:.3f}",
            f"{r['balanced_accuracy']:.3f}",
            f"{r['accuracy']:.3f}",
        ]
        for r in folds_done
    ]
    rows.append(
        ["mean ± std", "", "", "", ""] + [mean_std(r[m] for r in folds_done) for m in SCORES]
    )
    if len(tables) == len(chosen):  # every fold's predictions at hand
        pooled = pd.concat(tables, ignore_index=True)
        pooled.to_parquet(out / "predictions.parquet", index=False)
        pooled_scores = pooled_summary(pooled, "classification")
    else:  # folds reused from a unit record: pooled from their confusion matrices
        total = np.zeros((len(classes), len(classes)), np.int64)
        for r, matrix in zip(folds_done, counts, strict=True):
            at = [classes.index(c) for c in r["classes"]]
            total[np.ix_(at, at)] += np.asarray(matrix, np.int64)
        pooled_scores = summary_from_counts(total, classes)
        pooled_scores["pooled_from"] = "the folds' confusion matrices"
    scale = (
        f"{a['n_bags']} bags of {a['per_class']} curves per class per fold, "
        f"{a['train']['max_epochs']} epoch(s) per net; validation share {val_fraction:g} of "
        f"each fold's pool; fold assignment seed {seed}"
    )
    tables_out = [
        {
            "title": f"kang2023 {n_folds}-fold cross-test of the RNN ensemble (GP augmentation + "
            "bagging redone inside every fold)"
            + ("" if len(chosen) == n_folds else f"; folds {chosen} only"),
            "columns": [
                "fold",
                "train objects",
                "val objects",
                "test objects",
                "synthetic per bag",
                *SCORE_COLUMNS,
            ],
            "rows": rows,
            "note": "Stratified folds by object; in each fold the other folds are the pool, a "
            "validation share is carved from it (best epoch only, never augmented), the bags "
            "are planned and the GPs fitted on the fold's training objects only, and the fold "
            f"is predicted by the ensemble. Pooled out-of-fold macro F1 "
            f"{pooled_scores['macro_f1']:.3f}, balanced accuracy "
            f"{pooled_scores['balanced_accuracy']:.3f}. Scale: {scale}. Paper (CRTS DR2, "
            "10 folds): 85.7% balanced accuracy for the RNN ensemble.",
        },
        {
            "title": "Median confusion matrix over the folds, recall view (rows: true class; "
            "the paper's Fig. 8)",
            "columns": ["true \\ predicted", *classes],
            "rows": [
                [c]
                + [
                    spread_cell(median[i, j], low[i, j], high[i, j], diagonal=i == j)
                    for j in range(len(classes))
                ]
                for i, c in enumerate(classes)
            ],
            "note": "Each cell: median share of the true class's test objects over the folds "
            "(second-worst–second-best fold). On the diagonal (recall) best is the higher "
            "value; off the diagonal (confusion) best is the lower one. With fewer than three "
            "folds the spread is the worst and best fold.",
        },
    ]
    rates = {k: float(np.median(v)) for k, v in exp.timing.items() if v}
    metrics: dict[str, Any] = {"task": "classification", **exp.headline}
    metrics["test"] = pooled_scores
    metrics["cv"] = cv_summary([{m: r[m] for m in SCORES} for r in folds_done])
    metrics.update(data_metrics(info, lcs))
    metrics["ablation"] = {
        "name": "cross_test",
        "settings": _own_settings(cfg.settings, "cross_test"),
        "folds": folds_done,
        "classes": classes,
        "median_confusion_true": median.tolist(),
        "second_lowest": low.tolist(),
        "second_highest": high.tolist(),
    }
    metrics["timing"] = {"median_seconds_per_curve_epoch": rates, "threads": a.get("threads")}
    metrics["tables"] = tables_out
    metrics["seeds_used"] = [seed]  # the fold assignment's; the other seeds are not run
    return metrics


def _cross_test_folds(
    exp: BaggingStudy,
    lcs: LightCurveSet,
    folds: list,
    chosen: list[int],
    a: Mapping[str, Any],
    seed: int,
    out: Path,
) -> tuple[list[dict], list, list[pd.DataFrame]]:
    """The chosen folds, each a unit: scores, confusion counts and predictions (when at hand)."""
    net = "kang2023_rnn"
    val_fraction = float(a["val_fraction"])
    objects = objects_digest(lcs.ids)
    folds_done, counts, tables = [], [], []
    for f in chosen:
        pool_idx, test_idx = folds[f]
        fold_dir = out / "runs" / net / "bagging" / f"fold{f}"

        def compute(
            f: int = f,
            pool_idx: np.ndarray = pool_idx,
            test_idx: np.ndarray = test_idx,
            fold_dir: Path = fold_dir,
        ) -> dict:
            # The fold's pool is split into training and validation objects before any
            # plan or GP fit; the test fold is never seen until it is predicted.
            fold_seed = seed * 1000 + f
            pool = lcs.select(pool_idx).split(
                (1 - val_fraction, val_fraction), names=("train", "val"), seed=fold_seed
            )
            parts = {"train": pool["train"], "val": pool["val"], "test": lcs.select(test_idx)}
            run, augmenter = exp.prepare_run(
                parts,
                seed=fold_seed,
                name=f"fold{f}",
                key=["cross_test", f],
                strategies=["bagging"],
            )
            had_headline = bool(exp.headline)
            members, _ = exp.fit_bags(
                run,
                "bagging",
                augmenter,
                net,
                rnn_fitter(exp),
                timing="rnn_s_per_curve_epoch",
                label="RNN",
            )
            sizes = {part: len(parts[part]) for part in parts}
            exp.report(run, net, "bagging", members, extra={"fold": f, "sizes": sizes})
            scores = json.loads((fold_dir / "scores.json").read_text())
            return {
                "fold": exp.results[net]["bagging"][-1],
                "confusion_matrix": scores["summary"]["confusion_matrix"],
                "headline": {} if had_headline else exp.headline,
            }

        key = exp.key(net, seed, "cross_test", f, objects)
        unit = reuse_result(fold_dir, key, compute, needs=["predictions.parquet"], aggregates=True)
        no_headline = not exp.headline
        if exp.restore(unit, f"fold{f}:") and no_headline and exp.headline:
            if (fold_dir / "examples.parquet").is_file():  # the headline fold's examples
                (out / "examples.parquet").write_bytes((fold_dir / "examples.parquet").read_bytes())
        folds_done.append(unit["fold"])
        counts.append(unit["confusion_matrix"])
        if (fold_dir / "predictions.parquet").is_file():
            table = pd.read_parquet(fold_dir / "predictions.parquet")
            table.insert(1, "fold", f)
            tables.append(table)
    return folds_done, counts, tables


#: The compound-net variants of the ``compound`` ablation: name -> (label, two-stage, numeric).
COMPOUND_VARIANTS: dict[str, tuple[str, bool, bool]] = {
    "two_stage": ("two-stage", True, True),
    "joint": ("joint", False, True),
    "two_stage_no_features": ("two-stage", True, False),
    "joint_no_features": ("joint", False, False),
}


def _fit_variant(
    exp: BaggingStudy,
    run: Mapping[str, Any],
    variant: str,
    k: int,
    bag_lcs: LightCurveSet,
    train_cfg: Mapping[str, Any],
) -> tuple[Any, float, bool]:
    """Bag ``k``'s compound net of ``variant``: the net, its training seconds, whether reused."""
    _, two_stage, numeric = COMPOUND_VARIANTS[variant]
    s = exp.s
    no_numeric = {} if numeric else {"num_features": 0}
    random_state = run["seed"] * 100 + k
    if not two_stage:
        options = {**(s.get("rnn_options") or {}), **(s.get("cnn_options") or {}), **no_numeric}
        comp, reused, seconds = exp.member(
            "kang2023_compound",
            run,
            variant,
            k,
            lambda: fit_net(
                "kang2023_compound",
                options,
                bag_lcs,
                run["val"],
                train_cfg,
                exp.reps,
                random_state,
            ),
        )
        return comp, seconds, reused
    rnn_options = {**(s.get("rnn_options") or {}), **no_numeric}
    rnn, reused1, seconds1 = exp.member(
        "kang2023_rnn",
        run,
        variant,
        k,
        lambda: fit_net(
            "kang2023_rnn", rnn_options, bag_lcs, run["val"], train_cfg, exp.reps, random_state
        ),
    )
    comp, reused2, seconds2 = exp.member(
        "kang2023_compound",
        run,
        variant,
        k,
        lambda: second_stage(
            rnn,
            bag_lcs,
            val=run["val"],
            train_config=train_cfg,
            random_state=random_state,
            model_options=s.get("cnn_options") or None,
        ),
    )
    return comp, seconds1 + seconds2, reused1 and reused2


#: The paired comparisons of the ``compound`` ablation: name -> (first variant, second).
VARIANT_PAIRS: dict[str, tuple[str, str]] = {
    "two-stage minus joint, with the numeric branch": ("two_stage", "joint"),
    "two-stage minus joint, without it": ("two_stage_no_features", "joint_no_features"),
    "numeric branch minus none, two-stage": ("two_stage", "two_stage_no_features"),
    "numeric branch minus none, joint": ("joint", "joint_no_features"),
}


def _variant_differences(results: Mapping[str, list[dict]]) -> dict[str, list[float]]:
    """Macro F1 of one variant minus another's, seed by seed, for every pair that was run.

    Examples
    --------
    >>> runs = {
    ...     "two_stage": [{"seed": 0, "macro_f1": 0.8}],
    ...     "joint": [{"seed": 0, "macro_f1": 0.7}],
    ... }
    >>> {k: [round(x, 3) for x in v] for k, v in _variant_differences(runs).items()}
    {'two-stage minus joint, with the numeric branch': [0.1]}
    """
    return {
        name: paired_differences(results[first], results[second], "macro_f1")
        for name, (first, second) in VARIANT_PAIRS.items()
        if results.get(first) and results.get(second)
    }


def _compound_seed(
    exp: BaggingStudy, lcs: LightCurveSet, a: Mapping[str, Any], variants: list[str], seed: int
) -> dict:
    """One seed of the compound ablation: every variant's ensemble on the seed's split."""
    net, log = "kang2023_compound", exp.log
    had_headline = bool(exp.headline)
    before = {v: len(exp.results[net][v]) for v in variants}
    parts = lcs.split(tuple(a["split"]), names=("train", "val", "test"), seed=seed)
    run, augmenter = exp.prepare_run(parts, seed=seed, key="compound", strategies=["bagging"])
    plan = run["plans"]["bagging"]
    run["plans"] = {v: plan for v in variants}
    members: dict[str, list] = {v: [] for v in variants}
    seconds = {v: 0.0 for v in variants}
    for k, bag in enumerate(plan):
        # One bag's curves (real + fresh GP draws) are made once and shared by
        # every variant, so the variants differ only in how the net is trained.
        bag_lcs = materialize_bag(run["train"], bag, augmenter)
        train_cfg = bag_train_config(bag_lcs, bag, a)
        for v in variants:
            comp, spent, reused = _fit_variant(exp, run, v, k, bag_lcs, train_cfg)
            members[v].append(comp)
            seconds[v] += spent
            fitted = "reused" if reused else f"{spent:.0f} s"
            log(f"seed {seed} bag {k + 1}/{len(plan)} {v}: {len(bag_lcs)} curves, {fitted}")
    for v in variants:
        exp.report(run, net, v, members[v], extra={"train_seconds": round(seconds[v], 1)})
    return {
        "results": {v: exp.results[net][v][before[v] :] for v in variants},
        "headline": {} if had_headline else exp.headline,
    }


@register_experiment("kang2023", ablation="compound")
def compound(cfg: ExperimentConfig, out: Path, *, progress: bool = True) -> dict:
    """Two-stage against joint training of the compound net, with and without numeric inputs."""
    a = _ablation_settings(cfg.settings, "compound")
    variants = list(a.get("variants") or COMPOUND_VARIANTS)
    unknown = sorted(set(variants) - set(COMPOUND_VARIANTS))
    if unknown or not variants:
        raise ValueError(
            f"unknown compound variants {unknown}; choose from {list(COMPOUND_VARIANTS)}"
        )
    net = "kang2023_compound"
    with limit_threads(cfg.settings.get("threads") or None):
        lcs, info, exp = open_study(cfg, a, out, [net], variants, progress=progress)
        objects = objects_digest(lcs.ids)
        for seed in cfg.seeds:
            # one seed (every variant's ensemble on its split) is a unit, as in the plain run
            key = exp.key("compound", seed, "all", 0, [variants, objects])
            unit = reuse_result(
                out / "seeds" / f"seed{seed}",
                key,
                lambda seed=seed: _compound_seed(exp, lcs, a, variants, seed),
                aggregates=True,
            )
            if exp.restore(unit, f"seed{seed}: every variant"):
                for v in variants:
                    exp.results[net][v].extend(unit["results"][v])
    results = exp.results[net]
    rows = []
    for v in variants:
        runs = results[v]
        label, _, numeric = COMPOUND_VARIANTS[v]
        rows.append(
            [
                v,
                label,
                "yes" if numeric else "no",
                len(runs),
                runs[0]["n_members"],
                *(mean_std(r[m] for r in runs) for m in SCORES),
                f"{np.mean([r['train_seconds'] for r in runs]):.0f}",
            ]
        )
    n_bags = int(a["n_bags"])
    differences = _variant_differences(results)
    compared = "; ".join(
        f"{name}: {np.mean(d):+.3f} ± {np.std(d):.3f} (first ahead in "
        f"{sum(x > 0 for x in d)}/{len(d)} seeds)"
        for name, d in differences.items()
    )
    tables = [
        {
            "title": "kang2023 compound net: two-stage against joint training, with and without "
            "the numeric branch (same 6:1:3 split per seed; test part, mean ± std over seeds)",
            "columns": [
                "variant",
                "training",
                "numeric branch",
                "seeds",
                "nets per ensemble",
                *SCORE_COLUMNS,
                "training s per seed",
            ],
            "rows": rows,
            "note": f"Each variant is a bagging ensemble of {n_bags} net(s) (n_bags={n_bags}; the "
            f"plain reproduction uses {cfg.settings['n_bags']}), one per bag of "
            f"{a['per_class']} curves per class; every variant trains on the same bags (same "
            "real objects, same GP draws) with the same seeds. Two-stage: the RNN net is "
            "trained first, loaded into the compound net and frozen, then the CNN branch and "
            "the head are trained (training seconds include both stages). Joint: the whole "
            "compound net is trained from scratch at once. Without the numeric branch the "
            "nets get no period / amplitude / colour inputs (num_features=0). "
            f"{a['train']['max_epochs']} epoch(s) per net and stage; seconds summed over the "
            "bags (measured when the net was fitted, also for reused nets). "
            + (f"Macro F1 differences paired by seed, mean ± std: {compared}. " if compared else "")
            + "The paper trains in two stages only, 'to make the CNN part a supplement for "
            "high-level features, not a redundant structure', and reports no joint training.",
        }
    ]
    metrics: dict[str, Any] = {"task": "classification", **exp.headline}
    metrics.update(data_metrics(info, lcs))
    metrics["ablation"] = {
        "name": "compound",
        "settings": _own_settings(cfg.settings, "compound"),
        "variants": results,
        "macro_f1_differences": differences,
    }
    metrics["timing"] = {"threads": a.get("threads")}
    metrics["tables"] = tables
    return metrics
