"""Speed of the period search, side by side with astropy in one run.

1. Single band: 200-point simulated curves (seed 0), a 200,000-frequency grid:
   astropy ``LombScargle.power(method="fast")`` against skyclass's nifty-ls
   periodogram, and against the whole ``find_period`` (periodogram + candidate
   refinement), with ``search="exact"`` (the whole grid, the reference) and
   ``search="fast"`` (coarse grid, then the fine grid near its highest peaks).
   Rates are CPU seconds of this process (``time.process_time``), medians over
   repeats, all measured in the same run; targets: the fast search at least 5x the
   exact one and at least 50x astropy's fast method.
2. Multi-band: EROS-1 B+R stars per CPU second, both searches (needs the shared
   data; run with ``OMP_NUM_THREADS=1`` for one core).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/period_speed.py [--curves 20] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from skyclass.lightcurve import LightCurve
from skyclass.preprocess.period import FrequencyGrid, find_period, periodogram


def simulated_curves(n_curves: int, n_points: int, seed: int) -> list[LightCurve]:
    """Simulated sinusoids with noise on random times over 1000 d (not real data)."""
    rng = np.random.default_rng(seed)
    curves = []
    for i in range(n_curves):
        t = np.sort(rng.uniform(0, 1000, n_points))
        period = rng.uniform(0.2, 20)
        mag = 15 + 0.3 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.05, n_points)
        curves.append(LightCurve(time=t, mag=mag, err=np.full(n_points, 0.05), band="V", id=str(i)))
    return curves


def per_second(func, curves, repeats: int) -> float:
    """Median throughput (curves per CPU second) over ``repeats`` passes."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        for lc in curves:
            func(lc)
        times.append(time.process_time() - start)
    return len(curves) / float(np.median(times))


def main() -> None:
    from astropy.timeseries import LombScargle

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frequencies", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    curves = simulated_curves(args.curves, 200, args.seed)
    fmin, fmax = 1e-3, 20.0
    df = (fmax - fmin) / (args.frequencies - 1)
    grid = FrequencyGrid(fmin=fmin, df=df, n=args.frequencies)
    freq = grid.frequencies()

    def astropy_fast(lc):
        LombScargle(lc.time, lc.mag, lc.err).power(
            freq, method="fast", assume_regular_frequency=True
        )

    rates = {
        "astropy fast": per_second(astropy_fast, curves, args.repeats),
        "skyclass periodogram (nifty-ls)": per_second(
            lambda lc: periodogram(lc, grid, method="nifty"), curves, args.repeats
        ),
        **{
            f"skyclass find_period, search={search!r}": per_second(
                lambda lc, search=search: find_period(
                    lc, search=search, fmin=fmin, fmax=fmax, oversampling=1 / (df * lc.span)
                ),
                curves,
                args.repeats,
            )
            for search in ("exact", "fast")
        },
    }
    print(
        f"single band: {args.curves} simulated curves x 200 points, {args.frequencies:,} "
        f"frequencies ({fmin:g}-{fmax:g} d^-1), seed {args.seed}, median of {args.repeats}, "
        "curves per CPU second"
    )
    base = rates["astropy fast"]
    for name, rate in rates.items():
        print(f"  {name:42s} {rate:8.1f} curves/s  ({rate / base:5.1f}x astropy fast)")
    fast = rates["skyclass find_period, search='fast'"]
    exact = rates["skyclass find_period, search='exact'"]
    print(
        f"  fast search: {fast / exact:.1f}x the exact find_period (target 5x), "
        f"{fast / base:.1f}x astropy fast (target 50x)"
    )

    try:
        from skyclass.datasets import shared_path
        from skyclass.io import read

        eros = read(shared_path("eros1_lmc"), format="eros", progress=False)
    except Exception as exc:  # the shared data are optional here
        print(f"multi-band: skipped ({exc})")
        return
    sample = [eros[i] for i in range(0, len(eros), 10)]
    for search in ("exact", "fast"):
        rate = per_second(partial(find_period, search=search), sample, 1)
        print(
            f"multi-band: EROS-1 B+R, every 10th star ({len(sample)}), search={search!r}: "
            f"{rate:.1f} stars per CPU second"
        )


if __name__ == "__main__":
    main()
