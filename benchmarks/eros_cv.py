"""5-fold cross-validation by object on EROS-1 for any registered model (seeded).

Each fold: the estimator is fitted on the other four folds (its own validation
objects carved from them; ``--forest`` adds a random forest on the same features
and folds, side by side; ``--members n`` fits n of them with seeds seed..seed+n−1
and averages their probabilities), then scored on the held-out fold; prints balanced
accuracy and macro F1 per fold and mean ± std. Periods are the catalogue's
``period / div_period``.

``--by-period-agreement`` also runs skyclass's multi-band period search on every
star (as ``benchmarks/period_eros.py`` does) and prints the pooled out-of-fold scores
separately for the stars where the search finds the catalogue's period within 1% and
for the others, per class: how much of the error sits on stars whose photometry
does not pin down the catalogue's period.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/eros_cv.py --model mlp_features [--seed 0]
[--folds 5] [--epochs 200]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from skyclass.baselines import FeatureForest
from skyclass.datasets import shared_path
from skyclass.estimator import LightCurveClassifier
from skyclass.evaluate.metrics import classification_summary
from skyclass.io import read
from skyclass.training import average_probabilities, stratified_kfold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp_features")
    parser.add_argument("--representations", default=None, help="JSON {name: options}")
    parser.add_argument("--model-options", default=None, help="JSON {option: value}")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--members", type=int, default=1, help="ensemble of this many seeds, probabilities averaged"
    )
    parser.add_argument(
        "--forest", action="store_true", help="also a random forest on the same features and folds"
    )
    parser.add_argument(
        "--by-period-agreement",
        action="store_true",
        help="scores apart for stars whose searched period matches the catalogue's",
    )
    args = parser.parse_args()

    lcs = read(shared_path("eros1_lmc"), format="eros", progress=False)
    labels = np.array([str(x) for x in lcs.labels])
    scores, forest_scores = [], []
    pooled: dict[str, tuple] = {}  # out-of-fold probabilities (lcs order), classes
    start = time.perf_counter()
    for k, (train_idx, test_idx) in enumerate(
        stratified_kfold(labels, n_splits=args.folds, seed=args.seed)
    ):
        members = []
        for m in range(args.members):
            clf = LightCurveClassifier(
                model=args.model,
                representations=json.loads(args.representations) if args.representations else None,
                model_options=json.loads(args.model_options) if args.model_options else None,
                train={"max_epochs": args.epochs, "batch_size": 64, "early_stopping_patience": 20},
                random_state=args.seed + m,
                progress=False,
            ).fit(lcs.select(train_idx))
            members.append(clf)
        test = lcs.select(test_idx)
        proba = average_probabilities([c.predict_proba(test) for c in members])
        ok = np.isfinite(proba).all(axis=1)
        y = np.array([clf.classes_.index(c) for c in labels[test_idx]])
        summary = classification_summary(y[ok], proba[ok], list(clf.classes_))
        _pool(pooled, name_of(args), proba, test_idx, len(lcs), clf.classes_)
        scores.append((summary["balanced_accuracy"], summary["macro_f1"]))
        print(
            f"fold {k}: balanced accuracy {scores[-1][0]:.3f}, macro F1 {scores[-1][1]:.3f} "
            f"({int(ok.sum())} of {len(test_idx)} test objects represented)"
        )
        if args.forest:
            reps = json.loads(args.representations) if args.representations else {}
            forest = FeatureForest(features=reps.get("features"), random_state=args.seed)
            fp = forest.fit(lcs.select(train_idx)).predict_proba(test)
            fy = np.array([forest.classes_.index(c) for c in labels[test_idx]])
            fs = classification_summary(fy, fp, list(forest.classes_))
            _pool(pooled, "random forest", fp, test_idx, len(lcs), forest.classes_)
            forest_scores.append((fs["balanced_accuracy"], fs["macro_f1"]))
            print(
                f"  random forest, same fold: balanced accuracy {fs['balanced_accuracy']:.3f}, "
                f"macro F1 {fs['macro_f1']:.3f}"
            )
    arr = np.array(scores)
    name = name_of(args)
    print(
        f"{name}, {args.folds}-fold CV by object, seed {args.seed}: balanced accuracy "
        f"{arr[:, 0].mean():.3f} ± {arr[:, 0].std():.3f}, macro F1 {arr[:, 1].mean():.3f} ± "
        f"{arr[:, 1].std():.3f} ({time.perf_counter() - start:.0f} s)"
    )
    if forest_scores:
        far = np.array(forest_scores)
        print(
            f"random forest on the same features and folds: balanced accuracy "
            f"{far[:, 0].mean():.3f} ± {far[:, 0].std():.3f}, macro F1 {far[:, 1].mean():.3f} ± "
            f"{far[:, 1].std():.3f}"
        )
    if args.by_period_agreement:
        by_period_agreement(lcs, labels, pooled)


def name_of(args: argparse.Namespace) -> str:
    return args.model + (f" x{args.members} seeds" if args.members > 1 else "")


def _pool(pooled: dict, name: str, proba, test_idx, n: int, classes) -> None:
    if name not in pooled:
        pooled[name] = (np.full((n, len(classes)), np.nan), list(classes))
    assert pooled[name][1] == list(classes), "every fold must see every class"
    pooled[name][0][test_idx] = proba


def by_period_agreement(lcs, labels: np.ndarray, pooled: dict[str, tuple]) -> None:
    """Out-of-fold scores on stars whose searched period matches the catalogue's, and not."""
    from skyclass.preprocess.period import PeriodSearch

    found = PeriodSearch().transform_many(lcs, progress=False)["period"].to_numpy(float)
    true = lcs.objects["period"].to_numpy(float)
    agree = np.abs(found / true - 1) < 0.01
    share = ", ".join(f"{c} {np.mean(agree[labels == c]):.3f}" for c in sorted(set(labels)))
    print(
        f"\nmulti-band search within 1% of the catalogue period: {agree.sum()} of {len(agree)} "
        f"stars ({share})"
    )
    for name, (proba, classes) in pooled.items():
        for label, subset in (("period found", agree), ("period not found", ~agree)):
            ok = subset & np.isfinite(proba).all(axis=1)
            y = np.array([classes.index(c) for c in labels[ok]])
            s = classification_summary(y, proba[ok], classes)
            recall = ", ".join(
                f"{c} {s['per_class'][c]['recall']:.3f} (n={int(s['per_class'][c]['support'])})"
                for c in classes
            )
            print(
                f"{name}, {label} ({int(ok.sum())} stars): balanced accuracy "
                f"{s['balanced_accuracy']:.3f}, macro F1 {s['macro_f1']:.3f}; recall {recall}"
            )


if __name__ == "__main__":
    main()
