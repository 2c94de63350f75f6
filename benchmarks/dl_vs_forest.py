"""The recommended network against the random forest, on the leaderboard's data sets and splits.

For every data set and seed, both are fitted on the same training objects and
scored on the same held-out objects: the split of the leaderboard
(:func:`skyclass.runs.held_out_split`, 20% by object, stratified, seeded), on the
data the leaderboard prepares (``benchmarks/configs/leaderboard.yaml``: bands,
cleaning, periods). The forest is the leaderboard's (300 trees on the default
numeric features); the network is ``LightCurveClassifier()`` /
``LightCurveRegressor(model="foldnet")`` with its defaults, as an ensemble of
``--members`` nets whose probabilities (values) are averaged. Each member draws its
own validation objects from the training objects only (its seed), so nothing is
chosen on the held-out split. The margin is the mean of the per-seed differences, with
its standard error over seeds. ``--models curve_only`` adds foldnet without any
extracted feature: the folded grid in every band (mean removed, amplitude kept)
plus log period alone. Prints balanced accuracy and macro F1 (MAE and R²
for regression) per seed, then mean ± std (ddof 1) and the network's margin, with
the fit's wall time; ``--out`` keeps one JSON file per (data set, seed, model), so a
rerun skips what is done and the work can be spread over processes.

Run (about 6 min per seed for EROS-1 with 3 members on one core)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dl_vs_forest.py \\
        --datasets eros1_lmc gaia_dr3_vari --seeds 0 1 2 --out runs/dl_vs_forest
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from skyclass.baselines import FeatureForest, FeatureForestRegressor
from skyclass.estimator import LightCurveClassifier, LightCurveRegressor
from skyclass.evaluate.metrics import classification_summary, regression_summary
from skyclass.experiments.leaderboard import PREPARE_KEYS, prepare_dataset
from skyclass.models.foldnet import CURVE_ONLY
from skyclass.represent.cache import representation_cache
from skyclass.runs import RunConfig, held_out_split

CONFIG = Path(__file__).parent / "configs" / "leaderboard.yaml"
NETWORK = "foldnet"
LOWER_IS_BETTER = {"mae"}
HEADLINE = {"classification": ("balanced_accuracy", "macro_f1"), "regression": ("mae", "r2")}


def _score(task: str, test: Any, predict) -> dict[str, float]:
    labels = np.array([str(x) for x in test.labels], dtype=object)
    if task == "regression":
        m = regression_summary(labels.astype(float), predict(test))
        return {"mae": float(m["mae"]), "r2": float(m["r2"])}
    classes, proba = predict(test)
    y = np.array([classes.index(x) for x in labels])
    m = classification_summary(y, proba, list(classes))
    return {"balanced_accuracy": float(m["balanced_accuracy"]), "macro_f1": float(m["macro_f1"])}


def _forest(task: str, train: Any, seed: int, n_estimators: int):
    if task == "regression":
        f = FeatureForestRegressor(n_estimators=n_estimators, random_state=seed).fit(train)
        return f.predict
    f = FeatureForest(n_estimators=n_estimators, random_state=seed).fit(train)
    return lambda s: (list(f.classes_), f.predict_proba(s))


def _network(task: str, train: Any, seed: int, members: int, options: dict[str, Any]):
    nets = []
    for k in range(members):
        kw = {"random_state": 1000 * seed + k, "progress": False, **options}
        if task == "regression":
            nets.append(LightCurveRegressor(model=NETWORK, **kw).fit(train))
        else:
            clf = LightCurveClassifier(model=NETWORK, calibration=None, ood=None, **kw)
            nets.append(clf.fit(train))
    if task == "regression":
        return lambda s: np.mean([n.predict(s) for n in nets], axis=0)
    return lambda s: (list(nets[0].classes_), np.mean([n.predict_proba(s) for n in nets], axis=0))


def main() -> None:
    with representation_cache():  # the members of a seed share their inputs
        _main()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["eros1_lmc", "gaia_dr3_vari"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--members", type=int, default=3, help="nets averaged per seed")
    parser.add_argument("--out", default="runs/dl_vs_forest", help="one JSON per finished cell")
    parser.add_argument(
        "--models",
        nargs="+",
        choices=["forest", "network", "curve_only"],
        default=["forest", "network"],
    )
    args = parser.parse_args()
    cfg = yaml.safe_load(CONFIG.read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_trees = int(cfg["forest"]["n_estimators"])
    print(
        f"network: {NETWORK} x {args.members} members (estimator defaults); forest: "
        f"{n_trees} trees; split: 20% held out by object; config {CONFIG.name}"
    )

    for name in args.datasets:
        d = cfg["datasets"][name]
        task = d["task"]
        lcs, _ = prepare_dataset(name, **{k: d[k] for k in PREPARE_KEYS if k in d})
        print(f"\n{name}: {task}, {len(lcs)} objects")
        rows: dict[str, list[dict[str, float]]] = {m: [] for m in args.models}
        for seed in args.seeds:
            train, test = held_out_split(RunConfig(data=name, task=task, seed=seed), lcs)
            for model in args.models:
                path = out / f"{name}-seed{seed}-{model}.json"
                if path.exists():
                    result = json.loads(path.read_text())
                else:
                    wall = time.perf_counter()
                    predict = (
                        _forest(task, train, seed, n_trees)
                        if model == "forest"
                        else _network(
                            task,
                            train,
                            seed,
                            args.members,
                            CURVE_ONLY if model == "curve_only" else {},
                        )
                    )
                    fit_seconds = time.perf_counter() - wall
                    result = {
                        **_score(task, test, predict),
                        "fit_seconds": fit_seconds,
                        "n_test": len(test),
                        "members": None if model == "forest" else args.members,
                    }
                    path.write_text(json.dumps(result, indent=1))
                rows[model].append(result)
                first, second = HEADLINE[task]
                print(
                    f"  seed {seed} {model:10s} {first} {result[first]:.3f}  {second} "
                    f"{result[second]:.3f}  fit {result['fit_seconds']:.0f} s",
                    flush=True,
                )
        _summary(task, rows)


def _summary(task: str, rows: dict[str, list[dict[str, float]]]) -> None:
    forest_rows = rows.get("forest", [])
    for model, net_rows in rows.items():
        if model == "forest" or not net_rows or len(net_rows) != len(forest_rows):
            continue
        for key in HEADLINE[task]:
            net = np.array([r[key] for r in net_rows])
            forest = np.array([r[key] for r in forest_rows])
            spread = (lambda a: a.std(ddof=1)) if len(net) > 1 else (lambda a: 0.0)
            ahead = net < forest if key in LOWER_IS_BETTER else net > forest
            diff = net - forest  # paired: the same split in every seed
            error = spread(diff) / np.sqrt(len(diff))
            print(
                f"  {key:18s} {model} {net.mean():.3f} ± {spread(net):.3f}   forest "
                f"{forest.mean():.3f} ± {spread(forest):.3f}   {model} − forest "
                f"{diff.mean():+.3f} ± {error:.3f} s.e. (ahead in {int(np.sum(ahead))}/{len(net)})"
            )


if __name__ == "__main__":
    main()
