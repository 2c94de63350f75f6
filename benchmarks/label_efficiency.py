"""Label efficiency on a real survey: the pretrained model fine-tuned, from scratch, a forest.

Does starting from the shipped model ``general`` (trained on simulated curves
only) pay when a survey has few labels? On EROS-1 (R band, the catalogue's
periods, cleaned as :mod:`skyclass.experiments.zero_shot` cleans it) each seed
cuts the stars into 5 stratified folds by object; for each test fold, a
stratified draw of ``fraction`` of the other folds' stars (at least two per
class, seeded by seed, fold and fraction) is the labelled set, and three
classifiers learn from exactly those labels:

``finetune``
    One network of the shipped model (its first member,
    :func:`skyclass.pretrained.network_dir`) fine-tuned on the labelled set
    (``fine_tune``): its weights, a new output layer for the survey's four
    classes, its inputs (folded grid and survey-independent features, scaled as
    in its training). One network, as the network from scratch is one.
``scratch``
    The same network and inputs, built by ``sklearn.base.clone`` of that
    pretrained estimator and fitted on the labelled set alone.
``forest``
    :class:`skyclass.baselines.FeatureForest` (500 trees) on the labelled set: its
    default features and, as the networks, the catalogue colour
    (``catalogue_colour``: EROS-1's B_E − R_E).

Each is scored on the test fold (balanced accuracy and macro F1 of the arg-max;
the unknown-class flag is not used).

``--bands R B`` gives every method both of EROS-1's bands: the forest their
features side by side; the networks (one-band, as shipped) each band's curve as a
labelled curve of its own (validation: 10% of the labelled stars, both their
bands) and, on the test fold, each star's bands joined as ``skyclass classify
--band all`` joins them (:func:`skyclass.pretrained.combine_band_tables`: the
mean of the probabilities of the bands not flagged unknown, so there the flag
chooses the bands averaged; no star is left out). The forest sees both bands at
once (colours among its features), the networks each alone. The set keeps the
stars with enough epochs in both bands (2,903, against 2,907 in R), so its folds
are not those of the R table. Its units go under ``bands-R+B/`` of the folder and
the record.

Every (seed, fold, fraction, method) is a
unit (:mod:`skyclass.study.units`): a stopped run redoes only unfinished ones,
several processes can share the work (``--folds 0 1`` in one, ``2 3 4`` in
another), and ``--record DIR`` keeps the scores (no object ids, no weights) so
the table survives between machines. The table prints mean ± std over the seeds'
folds and, per fraction, how many of the paired (seed, fold) units fine-tuning
wins against each of the others. Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/label_efficiency.py --seeds 0 1 2

About 40 CPU minutes for the whole table (3 seeds × 5 folds × 3 fractions × 3
methods), most of it the networks on 100% of the labels, and about 75 with
``--bands R B``; the committed record ``docs/results_units/label_efficiency``
replays both in seconds (``--record docs/results_units/label_efficiency``).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

from skyclass.baselines import FeatureForest
from skyclass.estimator import LightCurveClassifier
from skyclass.evaluate.metrics import balanced_accuracy, macro_f1
from skyclass.experiments.zero_shot import real_set
from skyclass.lightcurve import LightCurveSet
from skyclass.pretrained import as_model_band, combine_band_tables, model_dir, network_dir
from skyclass.represent import NumericFeatures
from skyclass.study.units import fingerprint, objects_digest, reuse_result, unit_record
from skyclass.training import stratified_kfold

METHODS = ("finetune", "scratch", "forest")


def labelled_draw(labels: np.ndarray, fraction: float, seed: list[int]) -> np.ndarray:
    """Positions of a stratified draw of ``fraction`` of ``labels`` (at least 2 per class).

    Examples
    --------
    >>> labels = np.array(["a"] * 40 + ["b"] * 10)
    >>> picked = labelled_draw(labels, 0.1, [0])
    >>> sorted(labels[picked].tolist()).count("a"), sorted(labels[picked].tolist()).count("b")
    (4, 2)
    >>> len(labelled_draw(labels, 1.0, [0]))
    50
    """
    if fraction >= 1.0:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    picked = []
    for label in sorted(set(labels)):
        where = np.flatnonzero(labels == label)
        n = min(len(where), max(2, round(fraction * len(where))))
        picked.append(rng.choice(where, n, replace=False))
    return np.sort(np.concatenate(picked))


def band_curves(lcs: LightCurveSet, bands: list[str]) -> LightCurveSet:
    """Each object's curve in each of ``bands`` as a one-band object of its own (``id/band``).

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> a = LightCurve(time=[0, 1, 2], mag=[10, 11, 10], err=[.1] * 3, band=["R", "B", "R"], id="a")
    >>> s = band_curves(LightCurveSet.from_lightcurves([a], labels=["x"]), ["R", "B"])
    >>> s.ids.tolist(), s.n_epochs.tolist(), s.bands, s.labels.tolist()
    (['a/R', 'a/B'], [2, 1], ('any',), ['x', 'x'])
    """
    parts = []
    for band in bands:
        p = as_model_band(lcs, "any", band=band)
        objects = p.objects.assign(id=[f"{i}/{band}" for i in p.ids])  # ids of their own
        arrays = {"time": p.time, "mag": p.mag, "err": p.err, "band": p.band}
        parts.append(
            LightCurveSet(**arrays, bands=p.bands, offsets=p.offsets, objects=objects, meta=p.meta)
        )
    return LightCurveSet.concat(parts)


def forest_features(bands: list[str]) -> dict[str, list[str]]:
    """The forest's features: its defaults for ``bands`` and the catalogue colour the
    networks read too (EROS-1's ``magnitude_b - magnitude_r``)."""
    default = NumericFeatures(bands=bands).features
    return {"features": [*default, "catalogue_colour"]}


def fit_method(method: str, labelled, seed: int, max_epochs: int | None, bands: list[str]):
    """The fitted classifier of ``method`` on the labelled curves (see the module notes)."""
    train = {} if max_epochs is None else {"max_epochs": max_epochs}
    if method == "forest":
        return FeatureForest(features=forest_features(bands), random_state=seed).fit(labelled)
    base = LightCurveClassifier.load(network_dir(model_dir("general")))
    val = None
    if len(bands) > 1:  # validation stars apart, then each band a curve of its own
        parts = labelled.split((0.9, 0.1), names=("train", "val"), stratify=True, seed=seed)
        labelled, val = band_curves(parts["train"], bands), band_curves(parts["val"], bands)
    if method == "finetune":
        return base.fine_tune(labelled, val=val, train=train, random_state=seed)
    scratch = clone(base).set_params(random_state=seed, progress=False)
    if train:
        scratch.set_params(train={**(scratch.train or {}), **train})
    return scratch.fit(labelled, val=val)


def predict_method(method: str, est, test: LightCurveSet, bands: list[str]) -> np.ndarray:
    """Predicted classes of the test stars (a network's bands joined, in ``test``'s order)."""
    if method == "forest" or len(bands) == 1:
        return est.predict_table(test)["predicted"].astype(str).to_numpy()
    table = combine_band_tables(
        {b: est.predict_table(as_model_band(test, "any", band=b)) for b in bands}
    )
    predicted = dict(
        zip(table["object_id"].astype(str), table["predicted"].astype(str), strict=True)
    )
    return np.array([predicted.get(str(i), "") for i in test.ids])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.05, 0.2, 1.0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--max-epochs", type=int, default=None, help="cap the networks' epochs")
    parser.add_argument("--out", default="runs/label_efficiency", help="the units' folder")
    parser.add_argument("--record", default=None, help="keep the scores here too")
    parser.add_argument(
        "--bands",
        nargs="+",
        default=["R"],
        choices=["R", "B"],
        help="EROS-1 bands every method reads",
    )
    args = parser.parse_args()
    bands = list(args.bands)

    # fine-tuning depends on the shipped weights it starts from, the network from scratch
    # only on the settings it copies: a new model makes the first anew, new settings both
    network = network_dir(model_dir("general"))
    weights = hashlib.sha256((network / "weights.safetensors").read_bytes())
    settings = fingerprint(LightCurveClassifier.load(network).get_params(), length=16)
    start_from = {"finetune": weights.hexdigest(), "scratch": settings, "forest": None}
    lcs, _ = real_set("eros1_lmc", "any", bands=bands)
    labels = np.array([str(x) for x in lcs.labels])
    counts = {str(k): int(v) for k, v in zip(*np.unique(labels, return_counts=True), strict=True)}
    print(f"eros1_lmc: {len(lcs)} stars, {counts}")
    out, record = Path(args.out), args.record
    if bands != ["R"]:
        out = out / f"bands-{'+'.join(bands)}"
        record = None if record is None else str(Path(record) / f"bands-{'+'.join(bands)}")
    scores: dict[tuple[str, float], dict[tuple[int, int], float]] = {}
    with unit_record(out, record):
        for seed in args.seeds:
            folds = stratified_kfold(labels, 5, seed=seed)
            for k in args.folds:
                train_idx, test_idx = folds[k]
                test = lcs.select(test_idx)
                for fraction in args.fractions:
                    picked = train_idx[labelled_draw(labels[train_idx], fraction, [seed, k])]
                    labelled = lcs.select(picked)
                    for method in args.methods:
                        key = fingerprint(
                            {
                                "method": method,
                                "model": start_from[method],
                                **(
                                    {"features": forest_features(bands)}
                                    if method == "forest"
                                    else {}
                                ),
                                "seed": seed,
                                "max_epochs": args.max_epochs,
                                **({} if bands == ["R"] else {"bands": bands}),
                                "train": objects_digest(labelled.ids),
                                "test": objects_digest(test.ids),
                            },
                            length=16,
                        )

                        def compute(method=method, labelled=labelled, test=test, seed=seed):
                            start = time.process_time()
                            est = fit_method(method, labelled, seed, args.max_epochs, bands)
                            pred = predict_method(method, est, test, bands)
                            truth = np.array([str(x) for x in test.labels])
                            classes = sorted(set(truth))
                            y = np.array([classes.index(t) for t in truth])
                            p = np.array([classes.index(c) if c in classes else -1 for c in pred])
                            history = getattr(est, "history_", None)
                            return {
                                "balanced_accuracy": balanced_accuracy(y, p),
                                "macro_f1": macro_f1(y, p, n_classes=len(classes)),
                                "n_labelled": len(labelled),
                                "n_test": len(test),
                                "epochs": None if history is None else len(history),
                                "cpu_seconds": round(time.process_time() - start, 1),
                            }

                        unit = out / f"seed{seed}" / f"fold{k}" / f"frac{fraction:g}" / method
                        r = reuse_result(unit, key, compute, aggregates=True)
                        scores.setdefault((method, fraction), {})[(seed, k)] = r[
                            "balanced_accuracy"
                        ]
                        print(
                            f"seed {seed} fold {k} {fraction:>5.0%} {method:8s} "
                            f"BA {r['balanced_accuracy']:.3f}  ({r['n_labelled']} labelled, "
                            f"{r.get('epochs') or '-'} epochs, {r['cpu_seconds']:.0f} CPU s"
                            f"{', reused' if r.get('reused') else ''})",
                            flush=True,
                        )

    print(
        f"\nEROS-1 ({'+'.join(bands)}), balanced accuracy on the test folds "
        f"(seeds {args.seeds}, folds {args.folds})"
    )
    print(f"{'labels':>7s} " + " ".join(f"{m:>15s}" for m in args.methods) + "  finetune wins")
    for fraction in args.fractions:
        cells, wins = [], []
        for method in args.methods:
            v = np.array(list(scores[(method, fraction)].values()))
            cells.append(f"{v.mean():.3f} ± {v.std():.3f}")
        if "finetune" in args.methods:
            ft = scores[("finetune", fraction)]
            for other in (m for m in args.methods if m != "finetune"):
                paired = [ft[u] > scores[(other, fraction)][u] for u in ft]
                wins.append(f"vs {other} {sum(paired)}/{len(paired)}")
        print(f"{fraction:>7.0%} " + " ".join(f"{c:>15s}" for c in cells) + "  " + ", ".join(wins))


if __name__ == "__main__":
    main()
