"""Multi-band period search on EROS-1 (B and R) against the true periods ``period / div_period``.

Prints the fraction of stars whose period is found within 1%, by class, the share
of P/2, 2P and one-day aliases among the misses, the same for a single-band search
on R alone, and stars per second on one core. Deterministic (no seed); ``--step``
takes every n-th star for a quicker run.

``--astropy-step n`` adds astropy's ``LombScargleMultiband`` on every n-th star
for comparison (about 2 s per star).

For the stars where the search and the catalogue disagree, it also asks the data
which of the two periods they support: the χ² of a 3-harmonic model per band (the
model the search ranks its candidates with), at the search's period and at the
catalogue's (polished on a fine grid around it), and prints the share of those stars
whose curves fit the search's period better, with the share of catalogue periods
within 1% of one sidereal day, a period the one-epoch-a-night sampling cannot tell
from a slow trend.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/period_eros.py [--step 1] [--astropy-step 20]
[--search fast]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from skyclass.datasets import shared_path
from skyclass.exceptions import DataError
from skyclass.io import read
from skyclass.preprocess.fourier import fit_fourier
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


def chi2_at(lc, period: float, n_harmonics: int = 3) -> float:
    """χ² of per-band ``n_harmonics`` Fourier models sharing ``period`` (NaN if a fit fails)."""
    total = 0.0
    for band in lc.bands:
        try:
            fit = fit_fourier(lc, period, n_harmonics=n_harmonics, band=band)
        except DataError:
            return np.nan
        total += fit.chi2
    return total


def polished_chi2(lc, period: float, steps: int = 41) -> float:
    """Least :func:`chi2_at` on a grid of frequencies within ±0.5 / span of ``1 / period``."""
    freqs = 1 / period + np.linspace(-0.5, 0.5, steps) / lc.span
    return float(np.nanmin([chi2_at(lc, 1 / f) for f in freqs if f > 0]))


def which_fits_better(lcs, found: np.ndarray, true: np.ndarray, kind: np.ndarray) -> None:
    """For the misses: does the data's χ² prefer the search's period or the catalogue's?"""
    misses = np.flatnonzero((kind != "ok") & (kind != "failed"))
    ours = np.array([polished_chi2(lcs[int(i)], found[i]) for i in misses])
    theirs = np.array([polished_chi2(lcs[int(i)], true[i]) for i in misses])
    better = ours < theirs
    near_day = np.abs(true * _SIDEREAL - 1) < 0.01
    print(
        f"  misses: {misses.size}; the curves fit the search's period better (lower χ², "
        f"3 harmonics per band) for {np.mean(better):.3f} of them "
        f"({int(better.sum())}); by kind of miss:"
    )
    frame = pd.DataFrame({"kind": kind[misses], "search fits better": better})
    print(frame.groupby("kind")["search fits better"].agg(["mean", "size"]).round(3))
    print(
        f"  catalogue periods within 1% of one sidereal day: {np.mean(near_day):.3f} of all "
        f"stars ({int(near_day.sum())}), {np.mean(near_day[misses]):.3f} of the misses"
    )


def print_sampling(lcs) -> None:
    """Epochs per night in R (the most per night over stars) and the median nights and span."""
    per_night, nights, spans = [], [], []
    for lc in lcs:
        t = lc.time[lc.band == "R"]
        counts = np.unique(np.floor(t - 0.5), return_counts=True)[1]
        per_night.append(counts.max())
        nights.append(counts.size)
        spans.append(np.ptp(t))
    print(
        f"sampling (R): at most {max(per_night)} epoch(s) a night in any star; median "
        f"{np.median(nights):.0f} nights over a median {np.median(spans):.0f} days"
    )


def run(lcs, label: str, *, search: str = "fast", diagnose: bool = False) -> None:
    start = time.perf_counter()
    table = PeriodSearch(search=search).transform_many(lcs, progress=False)
    seconds = time.perf_counter() - start
    found = table["period"].to_numpy(float)
    true = lcs.objects["period"].to_numpy(float)
    kind = classify(found, true)
    frame = pd.DataFrame({"class": lcs.labels, "kind": kind})
    print(
        f"\n{label}, search={search!r}: {len(lcs):,} stars, {len(lcs) / seconds:.1f} stars/s; "
        f"within 1%: {np.mean(kind == 'ok'):.3f}"
    )
    print(pd.crosstab(frame["class"], frame["kind"], margins=True, normalize="index").round(3))
    if diagnose:
        which_fits_better(lcs, found, true, kind)


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
    parser.add_argument("--search", default="fast", help="find_period's search: fast or exact")
    args = parser.parse_args()
    lcs = read(shared_path("eros1_lmc"), format="eros", progress=False)
    lcs = lcs.select(np.arange(0, len(lcs), args.step))
    print_sampling(lcs)
    run(lcs, "multi-band (B and R)", search=args.search, diagnose=True)
    single = [lc.select_band("R") for lc in lcs]
    from skyclass.lightcurve import LightCurveSet

    r_only = LightCurveSet.from_lightcurves(single, objects=lcs.objects)
    run(r_only, "single-band (R only)", search=args.search)
    if args.astropy_step:
        astropy_multiband(lcs, args.astropy_step)


if __name__ == "__main__":
    main()
