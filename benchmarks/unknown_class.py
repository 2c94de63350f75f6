"""Unknown-class flags and calibration on EROS-1, one class held out of training at a time.

For each held-out class: the other classes are split by object (80/20, stratified,
seeded), the classifier is fitted on the 80% (its own validation objects, carved
from them, fit the temperature and the unknown-class threshold: 5% of validation
objects flagged), then scored on the known-class test objects and on every object
of the held-out class. Prints, per held-out class, the share flagged ``unknown``
among known-class test objects and among held-out objects (target: at least 3x),
and the expected calibration error on the known test objects before and after
temperature scaling. Writes a run directory with ``report.html`` (the first
held-out class's full evaluation, all classes in a table).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/unknown_class.py [--seed 0]
[--model mlp_features] [--epochs 200] [--ood combined|max_softmax|entropy|mahalanobis]
[--out runs/unknown_class]``
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from skyclass.datasets import load
from skyclass.estimator import LightCurveClassifier
from skyclass.evaluate.calibration import expected_calibration_error
from skyclass.evaluate.report import write_report
from skyclass.runs import evaluate_run, write_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="eros1_lmc")
    parser.add_argument("--model", default="mlp_features")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ood", default="combined", help="combined, max_softmax, entropy or mahalanobis"
    )
    parser.add_argument("--hold-out", nargs="*", default=None, help="classes (default: each)")
    parser.add_argument("--out", type=Path, default=Path("runs/unknown_class"))
    args = parser.parse_args()

    lcs = load(args.data)
    labels = np.array([str(x) for x in lcs.labels])
    rows, first = [], None
    start = time.perf_counter()
    for held in args.hold_out or sorted(set(labels)):
        known = lcs.select(np.flatnonzero(labels != held))
        unknown = lcs.select(np.flatnonzero(labels == held))
        parts = known.split((0.8, 0.2), names=("train", "test"), stratify=True, seed=args.seed)
        est = LightCurveClassifier(
            model=args.model,
            train={"max_epochs": args.epochs, "batch_size": 64, "early_stopping_patience": 20},
            ood=args.ood,
            random_state=args.seed,
            progress=False,
        ).fit(parts["train"])
        known_table = est.predict_table(parts["test"])
        unknown_table = est.predict_table(unknown)
        ok_k = known_table["error"] == ""
        ok_u = unknown_table["error"] == ""
        rate_known = float(known_table["unknown"][ok_k].mean())
        rate_unknown = float(unknown_table["unknown"][ok_u].mean())
        raw = est.predict_proba(parts["test"], calibrated=False)
        cal = known_table[[f"prob_{c}" for c in est.classes_]].to_numpy(float)
        y = np.array([est.classes_.index(str(c)) for c in parts["test"].labels])
        ok = np.isfinite(raw).all(axis=1)
        ece_before = expected_calibration_error(raw[ok], y[ok])
        ece_after = expected_calibration_error(cal[ok], y[ok])
        ratio = rate_unknown / rate_known if rate_known > 0 else float("inf")
        rows.append(
            [
                held,
                int(ok_k.sum()),
                int(ok_u.sum()),
                rate_known,
                rate_unknown,
                ratio,
                ece_before,
                ece_after,
                est.calibrator_.temperature_,
            ]
        )
        print(
            f"held out {held}: flagged unknown {rate_known:.3f} of {int(ok_k.sum())} known-class "
            f"test objects vs {rate_unknown:.3f} of {int(ok_u.sum())} held-out objects "
            f"({ratio:.1f}x); ECE on known test objects {ece_before:.3f} -> {ece_after:.3f} "
            f"(T = {est.calibrator_.temperature_:.2f})"
        )
        if first is None:
            args.out.mkdir(parents=True, exist_ok=True)
            first = evaluate_run(est, parts["test"], args.out, data=known.summary())
            first["held_out_class"] = held
    metrics = dict(first or {})
    metrics["tables"] = [
        {
            "title": f"Unknown-class flags on {args.data}, one class held out of training "
            f"({args.model}, seed {args.seed}; score {args.ood}, threshold: 5% of validation "
            "objects flagged)",
            "columns": [
                "held-out class",
                "known test objects",
                "held-out objects",
                "flagged (known)",
                "flagged (held out)",
                "ratio",
                "ECE before",
                "ECE after",
                "temperature",
            ],
            "rows": rows,
            "note": "Scores: max_softmax = 1 - max calibrated probability; mahalanobis = distance "
            "of the network's embedding from the training classes; combined = the larger of "
            "the two, each scaled by its validation quantile. ECE: 15 bins, on the "
            "known-class test "
            "objects. The sections above show the first held-out class's model on its known "
            "test objects.",
        }
    ]
    metrics["run"] = {
        "experiment": "unknown_class",
        "command": f"benchmarks/unknown_class.py --seed {args.seed} --model {args.model} "
        f"--epochs {args.epochs} --ood {args.ood}",
        "seeds": [args.seed],
        "seconds": round(time.perf_counter() - start, 1),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (args.out / "config.yaml").write_text(
        f"data: {args.data}\nmodel: {args.model}\nseed: {args.seed}\nepochs: {args.epochs}\n"
    )
    write_metrics(args.out, metrics)
    print(f"report: {write_report(args.out)} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
