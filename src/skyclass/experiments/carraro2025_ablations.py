"""carraro2025's ablation: the thesis's feature-selection study (its section 4.3).

``--set settings.ablation=features``: inside each CV fold, on the training objects
only, random-forest importance, the ``|corr| > 0.9`` filter and sequential forward
selection (:mod:`skyclass.evaluate.selection`) order the catalogue's features, and
the CNN-LSTM is trained on the first 1, 2, … of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.experiments.carraro2025 import (
    DERIVED_FEATURES,
    catalogue_table,
    cnn_lstm_fold,
    forest_fold,
)
from skyclass.experiments.runner import ExperimentConfig, mean_std, register_experiment

__all__ = ["ablation_features", "padded_features", "run_features"]


def ablation_features(
    table: pd.DataFrame, candidates: list[str], *, max_missing: float = 0.05
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The candidate feature columns of ``table`` (catalogue or :data:`DERIVED_FEATURES`).

    A candidate missing (NaN or infinite) in more than ``max_missing`` of the rows
    is left out; the rows lacking one of the others are the caller's to drop.

    Returns
    -------
    features : pandas.DataFrame
        The kept candidates, one row per table row.
    excluded : dict
        Left-out candidate -> its fraction of missing rows.

    Examples
    --------
    >>> t = pd.DataFrame({"period": [0.5, 1.0], "period_err": [1e-5, 1e-4],
    ...                   "mean_mag_I": [15.0, 16.0], "mean_mag_V": [15.5, np.nan],
    ...                   "R31": [np.nan, np.nan]})
    >>> f, excluded = ablation_features(t, ["log_period", "colour_VI", "R31"], max_missing=0.5)
    >>> f.round(3).to_dict("list"), excluded
    ({'log_period': [-0.301, 0.0], 'colour_VI': [0.5, nan]}, {'R31': 1.0})
    """
    columns = {}
    for name in candidates:
        if name in DERIVED_FEATURES:
            with np.errstate(divide="ignore", invalid="ignore"):
                columns[name] = DERIVED_FEATURES[name](table).astype(float)
        elif name in table.columns:
            columns[name] = table[name].astype(float)
        else:
            raise DataError(
                f"unknown feature {name!r}: not a catalogue column nor one of "
                f"{sorted(DERIVED_FEATURES)}; catalogue columns: {list(table.columns)}"
            )
    features = pd.DataFrame(columns, index=table.index)
    missing = (~np.isfinite(features)).mean()
    excluded = {k: round(float(v), 4) for k, v in missing.items() if v > max_missing}
    return features.drop(columns=list(excluded)), excluded


def padded_features(x: np.ndarray, length: int) -> np.ndarray:
    """Features as a one-channel sequence for the CNN-LSTM, zero-padded to ``length``.

    Parameters
    ----------
    x : ndarray, shape (n, k)
        One row of ``k`` features per object.
    length : int
        The shortest sequence the network takes; more features are kept whole.

    Returns
    -------
    ndarray, shape (n, 1, max(length, k)), float32

    Examples
    --------
    >>> padded_features(np.array([[1.0, 2.0], [3.0, 4.0]]), 4)[1].tolist()
    [[3.0, 4.0, 0.0, 0.0]]
    >>> padded_features(np.ones((1, 3)), 2).shape
    (1, 1, 3)
    """
    grid = np.zeros((len(x), 1, max(length, x.shape[1])), np.float32)
    grid[:, 0, : x.shape[1]] = x
    return grid


@register_experiment("carraro2025", ablation="features")
def run_features(cfg: ExperimentConfig, out: Path, *, progress: bool = True) -> dict:
    """Feature selection inside each fold, then CNN-LSTM accuracy vs number of features."""
    from sklearn.ensemble import RandomForestClassifier

    from skyclass.evaluate.metrics import classification_summary, cv_summary
    from skyclass.evaluate.selection import select_features
    from skyclass.represent.features import FeatureScaler
    from skyclass.training import stratified_kfold

    s, seed = cfg.settings, int(cfg.seeds[0])
    o = dict(s["ablations"]["features"])
    table, cuts = catalogue_table(o["scheme"], s, seed=seed)
    features, excluded = ablation_features(
        table, list(o["candidates"]), max_missing=float(o["max_missing"])
    )
    complete = np.isfinite(features.to_numpy(float)).all(axis=1)
    lacking = table.loc[~complete, "label"].value_counts().to_dict()
    table, features = table[complete].reset_index(drop=True), features[complete]
    names = list(features.columns)
    x = features.to_numpy(float)
    classes = sorted(table["label"].unique())
    y = np.array([classes.index(c) for c in table["label"]])
    if len(names) == 0 or len(classes) < 2:
        raise DataError(f"no usable features ({names}) or classes ({classes}) left")
    train_settings = {**s, "train": {**dict(s["train"]), **dict(o.get("train") or {})}}
    min_length = int(o.get("min_length", 4))

    folds_out, per_n, forest_n = [], {}, {}
    pooled = np.full((len(y), len(classes)), np.nan)
    headline = []
    for k, (train_idx, test_idx) in enumerate(stratified_kfold(y, s["n_folds"], seed=seed)):
        sfs_model = RandomForestClassifier(
            n_estimators=int(o["sfs_trees"]), random_state=seed + k, n_jobs=1
        )
        sel = select_features(
            x[train_idx],
            y[train_idx],
            names,
            max_features=int(o["max_features"]),
            threshold=float(o["threshold"]),
            method=o.get("method", "pearson"),
            n_estimators=int(o["importance_trees"]),
            estimator=sfs_model,
            cv=int(o["sfs_cv"]),
            seed=seed + k,
        )
        folds_out.append({"fold": k, **sel.to_dict()})
        if progress:
            print(f"carraro2025 features fold {k}: order {sel.order}", flush=True)
        for n in range(1, len(sel.order) + 1):
            cols = [names.index(c) for c in sel.order[:n]]
            scaler = FeatureScaler(method="standard").fit(x[train_idx][:, cols])
            xs = scaler.transform(x[:, cols]).astype(np.float32)
            proba = cnn_lstm_fold(
                padded_features(xs, min_length),
                y,
                train_idx,
                test_idx,
                len(classes),
                train_settings,
                seed + k,
            )
            per_n.setdefault(n, []).append(
                classification_summary(y[test_idx], proba, classes, n_boot=0)
            )
            forest = forest_fold(x[:, cols], y, train_idx, test_idx, len(classes), s, seed + k)
            forest_n.setdefault(n, []).append(
                classification_summary(y[test_idx], forest, classes, n_boot=0)
            )
            if n == len(sel.order):
                pooled[test_idx] = proba
                headline.append(per_n[n][-1])
            if progress:
                print(
                    f"carraro2025 features fold {k} n={n}: CNN-LSTM accuracy "
                    f"{per_n[n][-1]['accuracy']:.3f}, forest {forest_n[n][-1]['accuracy']:.3f}",
                    flush=True,
                )

    predictions = pd.DataFrame({"object_id": table["id"].astype(str), "label": table["label"]})
    for i, c in enumerate(classes):
        predictions[f"prob_{c}"] = pooled[:, i]
    predictions.insert(1, "predicted", np.asarray(classes, dtype=object)[pooled.argmax(1)])
    predictions.to_parquet(out / "predictions.parquet", index=False)

    first_steps = {n: [] for n in per_n}
    for f in folds_out:
        for n, name in enumerate(f["order"], start=1):
            first_steps[n].append(name)
    rows = []
    for n in sorted(per_n):
        added = pd.Series(first_steps[n]).value_counts()
        rows.append(
            [
                n,
                len(per_n[n]),
                mean_std(m["accuracy"] for m in per_n[n]),
                mean_std(m["weighted_f1"] for m in per_n[n]),
                mean_std(m["balanced_accuracy"] for m in per_n[n]),
                mean_std(m["accuracy"] for m in forest_n[n]),
                ", ".join(f"{a} ×{c}" if c > 1 else str(a) for a, c in added.items()),
            ]
        )
    order_rows = [
        [
            f["fold"],
            ", ".join(f"{a} {v:.2f}" for a, v in f["importance"].items()),
            ", ".join(f"{a} (~{p}, {r:.3f})" for a, (p, r) in f["dropped"].items()) or "none",
            " → ".join(f["order"]),
            ", ".join(f"{v:.3f}" for v in f["cv_score"]),
        ]
        for f in folds_out
    ]
    n_catalogue = len(list(o["candidates"]))
    note = (
        f"OGLE-III catalogue, {o['scheme']} configuration ({len(classes)} classes: "
        f"{', '.join(classes)}; {len(y)} stars after the plain run's cuts"
        f"{f' and dropping rows lacking a feature: {lacking}' if lacking else ''}). The "
        f"thesis selected up to 30 of a large set of ZTF r-band light-curve features; the "
        "OGLE-III catalogue offers far fewer — for each star's main period 9 light-curve "
        "numbers (period, its error, mean I and V, I amplitude, R21, phi21, R31, phi31; the "
        "2nd/3rd periods' parameters exist for a few per cent of these stars only) — giving "
        f"{n_catalogue} candidates here "
        f"({', '.join(o['candidates'])}), of which "
        f"{', '.join(f'{k} ({v:.0%} missing)' for k, v in excluded.items()) or 'none'} "
        f"were left out for being missing in more than {o['max_missing']:.0%} of the rows: "
        f"{len(names)} features enter the selection, the correlation filter leaves "
        f"{min(len(f['order']) for f in folds_out)}-{max(per_n)} per fold, and the curve "
        f"stops there (max_features {o['max_features']}). Per fold ({s['n_folds']}-fold CV "
        f"by object, seed {seed}), on the training "
        "objects only: random-forest importance "
        f"({o['importance_trees']} trees), drop the less important of each pair with "
        f"|{o.get('method', 'pearson')} corr| > {o['threshold']}, then sequential forward "
        f"selection scored by {o['sfs_cv']}-fold CV accuracy of a {o['sfs_trees']}-tree "
        "random forest inside the training part; the CNN-LSTM (the thesis's, as in its "
        "section 4.3) is then trained on the first n selected features — standardised on the "
        f"training objects and fed as a one-channel sequence zero-padded to length "
        f"{min_length} (the network's two poolings need 4 steps) — with "
        f"{train_settings['train']}, and tested on the fold's held-out objects. 'forest' = "
        f"a {s['forest_trees']}-tree random forest on the same n features. Thesis (ZTF, 30 "
        "features): CNN-LSTM accuracy peak about 97.65%, mean 94.27%, lowest 90.81% over the "
        "subset sizes."
    )
    tables = [
        {
            "title": "carraro2025 feature selection: accuracy vs number of selected features "
            f"(OGLE-III {o['scheme']}, mean ± std over {s['n_folds']} folds)",
            "columns": [
                "n features",
                "folds",
                "CNN-LSTM accuracy",
                "CNN-LSTM weighted F1",
                "CNN-LSTM balanced accuracy",
                "forest accuracy",
                "feature added at step n (folds)",
            ],
            "rows": rows,
            "note": note,
        },
        {
            "title": "carraro2025 feature selection: the selected order in each fold",
            "columns": [
                "fold",
                "random-forest importance (training objects)",
                "dropped by the correlation filter (~kept partner, |corr|)",
                "forward-selection order",
                "inner CV accuracy after each step",
            ],
            "rows": order_rows,
            "note": "Everything in this table was computed on the fold's training objects only.",
        },
    ]
    ok = np.isfinite(pooled).all(axis=1)
    return {
        "task": "classification",
        "data": {
            "scheme": o["scheme"],
            "classes": table["label"].value_counts().to_dict(),
            "cuts": cuts.to_dict(orient="records"),
            "rows_lacking_a_feature": lacking,
            "candidates": list(o["candidates"]),
            "excluded": excluded,
            "features": names,
        },
        "fit": {
            "ablation": "features",
            "options": o,
            "train": train_settings["train"],
            "headline": "CNN-LSTM on every selected feature of each fold",
            "seed": seed,
        },
        "test": classification_summary(y[ok], pooled[ok], classes, seed=seed),
        "cv": cv_summary(headline),
        "ablation": {
            "name": "features",
            "selection": folds_out,
            "cnn_lstm": {
                str(n): [
                    {k: m[k] for k in ("accuracy", "weighted_f1", "balanced_accuracy")} for m in v
                ]
                for n, v in per_n.items()
            },
            "forest": {str(n): [m["accuracy"] for m in v] for n, v in forest_n.items()},
        },
        "tables": tables,
    }


#: Ablations of ``settings.ablation`` (null: the plain reproduction).
