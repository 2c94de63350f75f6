"""Zero-shot scores of a classifier trained on simulated curves, on real surveys it never saw.

A model directory (``LightCurveClassifier.save``) is scored on the real shared
sets without any training on them: each set's curves are read, one band is kept
and given the model's band name (the model reads one band), cleaned as the
leaderboard cleans them (3σ outliers, a minimum number of epochs), given a
period as the estimator does (the set's catalogue period where it has one, a
period search otherwise; ``--period search`` searches every curve), and
classified. The model's predicted class (its arg-max) is then mapped to each
survey's own labels by :data:`CLASS_MAP` (model classes a survey does not label
go to ``other``, which is always wrong). Printed per set: balanced accuracy over
the survey's labels (an ``other`` prediction counts as a miss), the same with
curves flagged unknown counted as misses, the share of curves flagged unknown
(all of them belong to a known class), and the confusion of survey labels
against the model's own classes (the diagnosis: which simulated class each
real class is taken for).

The class map, the bands and the cleaning are those of
:mod:`skyclass.experiments.zero_shot` (its docstring holds the table).

``--train DIR`` first trains the model on simulated curves only
(:func:`skyclass.datasets.general.simulate_general`, ``--n-per-class`` curves of
each of its 14 classes, seed ``--seed``), cleaned as the real ones are, with
``foldnet`` on the folded grid plus survey-independent features (log period,
amplitude, Fourier ratios and phases, reduced χ²: no magnitude, epoch count or
span, which say which survey a curve comes from), and saves it in ``DIR``. Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --train runs/general \
        --n-per-class 600 --seed 0
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/zero_shot.py --model runs/general

``--max-per-class N`` scores a seeded draw of at most N curves per survey label.
The model trained by that command (600 per class, seed 0) ships with skyclass as
``general`` (:mod:`skyclass.pretrained`; its card ``card.md`` holds the scores);
``--model src/skyclass/pretrained/general`` scores the shipped copy.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from skyclass.estimator import LightCurveClassifier
from skyclass.experiments.zero_shot import CLEAN, SETS, score_model

#: Inputs of the zero-shot model: the folded grid and features a survey does not set.
GENERAL_INPUTS = {
    "grid": {"n": 128, "normalize": "standard", "cycles": 2},
    "features": {
        "features": ["log_period", "amplitude", "R21", "R31", "phi21", "phi31"],
        "extractors": ["ReducedChi2"],
    },
}


def train(out: str, *, n_per_class: int, seed: int, max_epochs: int | None) -> None:
    """Train the zero-shot model on simulated curves only and save it in ``out``."""
    from skyclass.datasets.general import simulate_general
    from skyclass.preprocess.clean import CleanConfig, Cleaner

    wall = time.perf_counter()
    sim = simulate_general(n_per_class, seed=seed)
    sim = Cleaner(CleanConfig(steps=CLEAN)).transform_many(sim)
    print(f"simulated {len(sim)} curves ({n_per_class} per class, seed {seed})", flush=True)
    est = LightCurveClassifier(
        model="foldnet",
        representations=GENERAL_INPUTS,
        train={} if max_epochs is None else {"max_epochs": max_epochs},
        random_state=seed,
        progress=False,
    ).fit(sim)
    card = {
        "training_data": "SIMULATED curves only (skyclass.datasets.general.simulate_general)",
        "command": f"benchmarks/zero_shot.py --train {out} --n-per-class {n_per_class} "
        f"--seed {seed}" + ("" if max_epochs is None else f" --max-epochs {max_epochs}"),
    }
    est.save(out, card=card)
    val = est.history_.records[-1]
    print(f"trained in {time.perf_counter() - wall:.0f} s; last epoch {val}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved LightCurveClassifier directory")
    parser.add_argument("--train", metavar="DIR", help="train on simulated curves, save in DIR")
    parser.add_argument("--n-per-class", type=int, default=600, help="simulated, for --train")
    parser.add_argument("--max-epochs", type=int, default=None, help="for --train")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--max-per-class", type=int, default=None)
    parser.add_argument("--period", choices=["auto", "search"], default="auto")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulation and draws")
    parser.add_argument("--out", default=None, help="write the scores as JSON here")
    args = parser.parse_args()
    if (args.model is None) == (args.train is None):
        parser.error("give --model DIR (a saved model) or --train DIR (train one), not both")
    if args.train:
        train(args.train, n_per_class=args.n_per_class, seed=args.seed, max_epochs=args.max_epochs)
    model = args.model or args.train
    est = LightCurveClassifier.load(model)
    if len(est.bands_) != 1:
        raise SystemExit(
            f"the model reads bands {list(est.bands_)}; zero-shot needs a one-band model"
        )
    classes = list(est.classes_)
    print(f"model {model}: classes {classes}, band {est.bands_[0]!r}, period {args.period}")
    results = {}
    for name in args.sets:
        scored = score_model(
            est, [name], max_per_class=args.max_per_class, period=args.period, seed=args.seed
        )
        if name not in scored:
            print(f"\n{name}: skipped, fewer than two of its labels have a model class")
            continue
        r = scored[name]
        print(
            f"\n{name} ({r['band']} band, {r['n']} curves, periods {r['period_sources']}, "
            f"{r['seconds']:.0f} s)"
        )
        if r["missing"]:
            print(f"  no model class maps to {r['missing']}: their recall is 0")
        print(
            f"  balanced accuracy {r['balanced_accuracy']:.3f}   with unknown as a miss "
            f"{r['balanced_accuracy_unknown_as_miss']:.3f}   flagged unknown "
            f"{r['unknown_share']:.1%}   not represented {r['not_represented']}"
        )
        for lab in sorted(r["recall"]):
            print(
                f"  {lab:18s} recall {r['recall'][lab]:.3f}  unknown "
                f"{r['unknown_share_per_label'][lab]:.1%}"
            )
        print("  survey label (rows) by model class (columns):")
        print("    " + r["confusion"].to_string().replace("\n", "\n    "))
        r["confusion"] = r["confusion"].to_dict(orient="index")
        results[name] = r
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, default=int))


if __name__ == "__main__":
    main()
