"""Multi-band period search on EROS-1 (B and R) against the true periods ``period / div_period``.

Prints the fraction of stars whose period is found within 1%, by class, the share
of P/2, 2P and one-day aliases among the misses, the same for a single-band search
on R alone, and stars per second on one core. Deterministic (no seed); ``--step``
takes every n-th star for a quicker run.

``--astropy-step n`` adds astropy's ``LombScargleMultiband`` on every n-th star
for comparison (about 2 s per star).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/period_eros.py [--step 1] [--astropy-step 20]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from skyclass.datasets import shared_path
from skyclass.io import read
from skyclass.preprocess.period import PeriodSearch

_SIDEREAL = 1.0027379


def classify(found: np.ndarray, true: np.ndarray) -> np.ndarray:
    """``ok`` within 1%, else the kind of miss: ``P/2``, ``2P``, ``1-day``, ``other``."""
    ratio = found / true
    dfreq = np.abs(1 / found - 1 / true)
    kind = np.full(found.shape, "other", dtype=object)
    kind[np.min(np.abs(dfreq[:, None] - _SIDEREAL * np.arange(1, 3)), axis=1) < 0.01] = "1-day"
    kind[np.abs(ratio - 2) < 0.02] = "2P"
    kind[np.abs(ratio - 0.5) < 0.005] = "P/2"
    kind[np.abs(ratio - 1) < 0.01] = "ok"
    kind[~np.isfinite(found)] = "failed"
    return kind


def run(lcs, label: str) -> None:
    start = time.perf_counter()
    table = PeriodSearch().transform_many(lcs, progress=False)
    seconds = time.perf_counter() - start
    kind = classify(table["period"].to_numpy(float), lcs.objects["period"].to_numpy(float))
    frame = pd.DataFrame({"class": lcs.labels, "kind": kind})
    print(
        f"\n{label}: {len(lcs):,} stars, {len(lcs) / seconds:.1f} stars/s; "
        f"within 1%: {np.mean(kind == 'ok'):.3f}"
    )
    print(pd.crosstab(frame["class"], frame["kind"], margins=True, normalize="index").round(3))


def astropy_multiband(lcs, step: int) -> None:
    """astropy's LombScargleMultiband (default model) on every ``step``-th star, same grid."""
    from astropy.timeseries import LombScargleMultiband

    picked = np.arange(0, len(lcs), step)
    found = []
    start = time.perf_counter()
    for i in picked:
        lc = lcs[int(i)]
        model = LombScargleMultiband(lc.time, lc.mag, lc.band, lc.err)
        freq, power = model.autopower(
            minimum_frequency=1 / lc.span, maximum_frequency=10.0, samples_per_peak=5
        )
        found.append(1 / freq[np.argmax(power)])
    seconds = time.perf_counter() - start
    truth = lcs.objects["period"].to_numpy(float)[picked]
    kind = classify(np.array(found), truth)
    start = time.perf_counter()
    ours = PeriodSearch().transform_many(lcs.select(picked), progress=False)
    our_seconds = time.perf_counter() - start
    our_kind = classify(ours["period"].to_numpy(float), truth)
    print(
        f"\nsame {picked.size} stars (every {step}th): astropy LombScargleMultiband "
        f"{seconds / picked.size:.2f} s/star, within 1%: {np.mean(kind == 'ok'):.3f}; "
        f"skyclass {our_seconds / picked.size:.3f} s/star, within 1%: "
        f"{np.mean(our_kind == 'ok'):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=1, help="use every n-th star")
    parser.add_argument(
        "--astropy-step", type=int, default=0, help="also run astropy's multiband on every n-th"
    )
    args = parser.parse_args()
    lcs = read(shared_path("eros1_lmc"), format="eros", progress=False)
    lcs = lcs.select(np.arange(0, len(lcs), args.step))
    run(lcs, "multi-band (B and R)")
    single = [lc.select_band("R") for lc in lcs]
    from skyclass.lightcurve import LightCurveSet

    r_only = LightCurveSet.from_lightcurves(single, objects=lcs.objects)
    run(r_only, "single-band (R only)")
    if args.astropy_step:
        astropy_multiband(lcs, args.astropy_step)


if __name__ == "__main__":
    main()
