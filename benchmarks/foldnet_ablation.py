"""Which of foldnet's choices matter: variants scored on validation objects only.

Each seed's training part of the leaderboard split (the held-out 20% is never
read) is split again, 80 / 20 by object, stratified, with seed ``100 + seed``;
every variant is fitted on the 80% and scored on the 20% ("dev") objects. This is
where foldnet's design was chosen, so the held-out scores of
``benchmarks/dl_vs_forest.py`` stay untouched by the choice. Variants (one change
each from foldnet as it ships, unless named otherwise):

- ``forest``: the 300-tree random forest on the numeric features (the bar);
- ``mlp_robust`` / ``mlp_quantile``: ``mlp_features`` with robust or quantile
  feature scaling, each under foldnet's training settings (no embedding);
- ``no_augment``: foldnet without the random phase shift, noise and grid dropout;
- ``center``: the grid with only its mean removed (amplitudes kept), not standardised;
- ``one_cycle``: folded on the period instead of twice the period;
- ``no_embedding``: the scaled features go in without the periodic embedding;
- ``balanced``: the loss weighs each class by the inverse of its count
  (``class_weight="balanced"``);
- ``ema``: the weights averaged over the steps (``ema_decay=0.995``);
- ``val_ba``: the epoch kept is the one of best validation balanced accuracy;
- ``center_no_grid_dropout``: ``center`` without the grid dropout;
- ``center_no_dropout_ema`` (``_x3``): that, with the weights averaged (one / three nets);
- ``curve_only`` (``_ema``): no extracted features: the grid with only its mean
  removed (amplitudes kept) plus log period, and no grid dropout
  (:data:`skyclass.models.foldnet.CURVE_ONLY`; with the weights averaged);
- ``center_ema``: ``center`` with the weights averaged;
- ``akhmetali_fixed_r`` / ``_br``: akhmetali2025's network (no period or feature
  input) under its reproduction's ``fixed`` recipe, on 128 phases of R, or of B and R;
  ``_r_mean`` / ``_br_mean``: the same with the mean magnitude of each band (which the
  centred grid removes) as side features (``_br_mean_512``: on 512 phases, as the
  reproduction; ``_br_mean_2c``: folded on twice the period, so that the two eclipses of
  a binary found at half its period differ; ``_br_mean_ema``: with the weights averaged);
- ``foldnet``: as it ships (one net);
- ``foldnet_x3`` / ``foldnet_x5``: the average of three / five;
- ``curve_only_x3``: the average of three curve-only nets;
- ``mixed_x2`` / ``mixed_x4``: foldnet and curve-only nets in turn, averaged
  (one / two of each);
- ``center_no_grid_dropout_x3``: the average of three ``center_no_grid_dropout`` nets.

Prints balanced accuracy and macro F1 per seed and the mean ± std over seeds, then
each variant's recall per class and how many of its errors the forest makes too,
and the recall per class again in groups of two per-curve measures (:func:`measures`):
how much of the curve its period explains (the R² of a four-harmonic Fourier series,
:func:`skyclass.preprocess.fourier.fit_fourier`) and the ratio of its amplitudes in
the first and second band. A pulsating star varies more in the bluer band; an
eclipse dims both bands alike, so a "binary" whose ratio is a pulsator's is one that
no model reading these curves can be expected to call a binary.

Run (one to two minutes per net and seed on EROS-1, on one core)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/foldnet_ablation.py --data eros1_lmc
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from skyclass.baselines import FeatureForest
from skyclass.estimator import DEFAULT_REPRESENTATIONS, LightCurveClassifier
from skyclass.evaluate.metrics import classification_summary
from skyclass.exceptions import DataError
from skyclass.experiments.leaderboard import PREPARE_KEYS, prepare_dataset
from skyclass.models.foldnet import CURVE_ONLY, TRAIN
from skyclass.preprocess.fourier import fit_fourier
from skyclass.represent.cache import representation_cache
from skyclass.runs import RunConfig, held_out_split

CONFIG = Path(__file__).parent / "configs" / "leaderboard.yaml"
_CENTER = {
    "grid": {**DEFAULT_REPRESENTATIONS["foldnet"]["grid"], "normalize": "center"},
    "features": DEFAULT_REPRESENTATIONS["foldnet"]["features"],
}
_CENTER_NO_DROPOUT_EMA = {
    "representations": _CENTER,
    "model_options": {"grid_dropout": 0.0},
    "train": {"ema_decay": 0.995},
}
#: akhmetali2025's network under the fixes of its reproduction's ``fixed`` recipe (shape only)
_AKHMETALI_FIXED = {
    "model": "akhmetali2025_cnn",
    "train": {
        "optimizer": "adamw",
        "lr": 1e-3,
        "weight_decay": 1e-2,
        "batch_size": 64,
        "max_epochs": 40,
        "scheduler": "cosine_warmup",
        "warmup_epochs": 3,
        "label_smoothing": 0.1,
        "early_stopping_patience": None,
    },
    "augment": True,
}
_ONE_CYCLE = {
    "grid": {**DEFAULT_REPRESENTATIONS["foldnet"]["grid"], "cycles": 1},
    "features": DEFAULT_REPRESENTATIONS["foldnet"]["features"],
}

#: name -> LightCurveClassifier keywords of each member (their probabilities are averaged);
#: None: the forest.
VARIANTS: dict[str, list[dict[str, Any]] | None] = {
    "forest": None,
    "mlp_robust": [{"model": "mlp_features", "feature_scaling": "robust", "train": TRAIN}],
    "mlp_quantile": [{"model": "mlp_features", "feature_scaling": "quantile", "train": TRAIN}],
    "no_augment": [{"augment": False, "model_options": {"grid_dropout": 0.0}}],
    "center": [{"representations": _CENTER}],
    "one_cycle": [{"representations": _ONE_CYCLE}],
    "no_embedding": [{"model_options": {"embedding": 0}}],
    "balanced": [{"class_weight": "balanced"}],
    "ema": [{"train": {"ema_decay": 0.995}}],
    "val_ba": [{"train": {"monitor": "val_balanced_accuracy"}}],
    "curve_only": [CURVE_ONLY],
    "curve_only_ema": [{**CURVE_ONLY, "train": {"ema_decay": 0.995}}],
    "center_ema": [{"representations": _CENTER, "train": {"ema_decay": 0.995}}],
    "center_no_grid_dropout": [
        {"representations": _CENTER, "model_options": {"grid_dropout": 0.0}}
    ],
    "center_no_grid_dropout_x3": [
        {"representations": _CENTER, "model_options": {"grid_dropout": 0.0}}
    ]
    * 3,
    "center_no_dropout_ema": [_CENTER_NO_DROPOUT_EMA],
    "center_no_dropout_ema_x3": [_CENTER_NO_DROPOUT_EMA] * 3,
    "akhmetali_fixed_r": [
        {
            **_AKHMETALI_FIXED,
            "representations": {"grid": {"n": 128, "bands": ["R"], "normalize": "center"}},
        }
    ],
    "akhmetali_fixed_br": [
        {
            **_AKHMETALI_FIXED,
            "representations": {"grid": {"n": 128, "bands": ["B", "R"], "normalize": "center"}},
        }
    ],
    "akhmetali_fixed_r_mean": [
        {
            **_AKHMETALI_FIXED,
            "representations": {
                "grid": {"n": 128, "bands": ["R"], "normalize": "center"},
                "features": {"features": ["mean_mag"], "bands": ["R"]},
            },
        }
    ],
    "akhmetali_fixed_br_mean": [
        {
            **_AKHMETALI_FIXED,
            "representations": {
                "grid": {"n": 128, "bands": ["B", "R"], "normalize": "center"},
                "features": {"features": ["mean_mag"], "bands": ["B", "R"]},
            },
        }
    ],
    "akhmetali_fixed_br_mean_512": [
        {
            **_AKHMETALI_FIXED,
            "representations": {
                "grid": {"n": 512, "bands": ["B", "R"], "normalize": "center"},
                "features": {"features": ["mean_mag"], "bands": ["B", "R"]},
            },
        }
    ],
    "akhmetali_fixed_br_mean_2c": [
        {
            **_AKHMETALI_FIXED,
            "representations": {
                "grid": {"n": 128, "bands": ["B", "R"], "normalize": "center", "cycles": 2},
                "features": {"features": ["mean_mag"], "bands": ["B", "R"]},
            },
        }
    ],
    "akhmetali_fixed_br_mean_ema": [
        {
            **_AKHMETALI_FIXED,
            "train": {**_AKHMETALI_FIXED["train"], "ema_decay": 0.995},
            "representations": {
                "grid": {"n": 128, "bands": ["B", "R"], "normalize": "center"},
                "features": {"features": ["mean_mag"], "bands": ["B", "R"]},
            },
        }
    ],
    "foldnet": [{}],
    "foldnet_x3": [{}] * 3,
    "foldnet_x5": [{}] * 5,
    "curve_only_x3": [CURVE_ONLY] * 3,
    "mixed_x2": [{}, CURVE_ONLY],
    "mixed_x4": [{}, CURVE_ONLY] * 2,
}


#: (member options, seed, member index) -> (classes, dev probabilities), within one run.
_MEMBERS: dict[tuple[str, int, int], tuple[list[str], np.ndarray]] = {}


def _predict(variant: str, fit: Any, dev: Any, seed: int) -> tuple[list[str], np.ndarray]:
    """Classes and dev probabilities of ``variant`` (the average of its members)."""
    spec = VARIANTS[variant]
    if spec is None:
        forest = FeatureForest(n_estimators=300, random_state=seed).fit(fit)
        return list(forest.classes_), forest.predict_proba(dev)
    probas, classes = [], []
    for k, options in enumerate(spec):
        key = (json.dumps(options, sort_keys=True), seed, k)
        if key not in _MEMBERS:  # variants that share a member (same options, seed, k) reuse it
            clf = LightCurveClassifier(
                random_state=1000 * seed + k, progress=False, calibration=None, ood=None, **options
            ).fit(fit)
            _MEMBERS[key] = (list(clf.classes_), clf.predict_proba(dev, calibrated=False))
        classes, proba = _MEMBERS[key]
        probas.append(proba)
    return classes, np.mean(probas, axis=0)


#: Per-curve measures the report groups dev objects by, with the edges of the groups.
MEASURES = {
    "fold R²": (0.0, 0.3, 0.6, np.inf),
    "amplitude ratio": (0.0, 1.0, 1.4, np.inf),
}


def measures(lc: Any) -> dict[str, float]:
    """How much of the curve its period explains, and how its colour varies with it.

    ``fold R²`` is the R² of a four-harmonic Fourier series at the period in the band
    where it is highest; ``amplitude ratio`` is the peak-to-peak amplitude of that fit
    in the first band over the second's (a pulsating star varies more in the bluer
    band, an eclipse dims both alike). NaN where a fit fails or the curve has one band.
    """
    fits = {}
    for band in lc.bands:
        try:
            fits[band] = fit_fourier(lc, lc.meta["period"], n_harmonics=4, band=band)
        except (DataError, KeyError):
            continue
    r2 = max((f.r2 for f in fits.values()), default=np.nan)
    bands = list(lc.bands)
    ratio = (
        fits[bands[0]].peak_to_peak / fits[bands[1]].peak_to_peak
        if len(bands) > 1 and bands[0] in fits and bands[1] in fits
        else np.nan
    )
    return {"fold R²": float(r2), "amplitude ratio": float(ratio)}


def _by_measure(
    variants: list[str],
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]],
    values: list[dict[str, float]],
) -> None:
    """Recall per class within each group of every measure, for every variant."""
    classes = sorted({c for rows in found.values() for y, _ in rows for c in y})
    y = np.concatenate([t for t, _ in next(iter(found.values()))])
    for name, edges in MEASURES.items():
        x = np.array([v[name] for v in values])
        if np.all(np.isnan(x)):
            continue
        medians = " ".join(f"{c}={np.nanmedian(x[y == c]):.2f}" for c in classes)
        print(f"\nrecall per class by {name} (objects of each class in the group)")
        print(f"  median {name}: {medians}")
        for lo, hi in itertools.pairwise(edges):
            group = (x >= lo) & (x < hi)
            counts = " ".join(f"{c}={int(np.sum(group & (y == c)))}" for c in classes)
            print(f"  {name} {lo:.1f}-{hi:.1f}: {counts}")
            for variant in variants:
                p = np.concatenate([q for _, q in found[variant]])
                recall = [
                    f"{np.mean(p[m] == c):12.3f}" if np.any(m := group & (y == c)) else " " * 12
                    for c in classes
                ]
                print(f"    {variant:22s} " + " ".join(recall))


def _per_class(variants: list[str], found: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> None:
    """Recall of each class (summed over seeds) and the errors each variant shares with the
    forest: an error both make on the same object points at the data (a label, a period)."""
    classes = sorted({c for rows in found.values() for y, _ in rows for c in y})
    print("\nrecall per class (dev objects of all seeds)")
    print(f"{'variant':24s} " + " ".join(f"{c[:12]:>12s}" for c in classes) + "  errors")
    for variant in variants:
        y = np.concatenate([t for t, _ in found[variant]])
        p = np.concatenate([q for _, q in found[variant]])
        recall = [np.mean(p[y == c] == c) if np.any(y == c) else np.nan for c in classes]
        line = f"{variant:24s} " + " ".join(f"{r:12.3f}" for r in recall)
        wrong = p != y
        if "forest" in found and variant != "forest":
            fy = np.concatenate([q for _, q in found["forest"]])
            both = int(np.sum(wrong & (fy != y)))
            line += f"  {int(wrong.sum())} ({both} also the forest's)"
        else:
            line += f"  {int(wrong.sum())}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="eros1_lmc")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    d = yaml.safe_load(CONFIG.read_text())["datasets"][args.data]
    lcs, _ = prepare_dataset(args.data, **{k: d[k] for k in PREPARE_KEYS if k in d})
    print(f"{args.data}: {len(lcs)} objects; dev = 20% of each seed's training part")
    scores: dict[str, list[tuple[float, float]]] = {v: [] for v in args.variants}
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {v: [] for v in args.variants}
    values: list[dict[str, float]] = []
    with representation_cache():
        for seed in args.seeds:
            train, _ = held_out_split(RunConfig(data=args.data, seed=seed), lcs)
            parts = train.split((0.8, 0.2), names=("fit", "dev"), stratify=True, seed=100 + seed)
            dev = parts["dev"]
            truth = np.array([str(x) for x in dev.labels])
            values.extend(measures(lc) for lc in dev)
            for variant in args.variants:
                started = time.perf_counter()
                classes, proba = _predict(variant, parts["fit"], dev, seed)
                m = classification_summary(
                    np.array([classes.index(x) for x in truth]), proba, classes
                )
                ba, f1 = float(m["balanced_accuracy"]), float(m["macro_f1"])
                scores[variant].append((ba, f1))
                found[variant].append((truth, np.array(classes)[proba.argmax(axis=1)]))
                print(
                    f"  seed {seed} {variant:13s} BA {ba:.3f}  macro F1 {f1:.3f}  "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
    print("\nvariant        BA (mean ± std)   macro F1")
    for variant, rows in scores.items():
        a = np.array(rows)
        std = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(2)
        print(
            f"{variant:13s}  {a[:, 0].mean():.3f} ± {std[0]:.3f}     "
            f"{a[:, 1].mean():.3f} ± {std[1]:.3f}"
        )
    _per_class(args.variants, found)
    _by_measure(args.variants, found, values)


if __name__ == "__main__":
    main()
