"""Write and read back simulated light curves through the canonical Parquet format.

Prints the seconds each way and the process's peak memory. Target on the
project machine (2 cores): the round trip of 100,000 curves x 200 epochs in
under 10 s and under 2 GB.

Run: ``.venv/bin/python benchmarks/io_roundtrip.py [--objects N] [--epochs M] [--seed S]``
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skyclass.lightcurve import LightCurveSet


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def simulated_set(n_objects: int, n_epochs: int, seed: int) -> LightCurveSet:
    """Simulated two-band sinusoids on random sorted times (not real data).

    Filled chunk by chunk into flat arrays, so building costs little more than the set.
    """
    rng = np.random.default_rng(seed)
    n = n_objects * n_epochs
    time, mag = np.empty(n), np.empty(n)
    period = rng.uniform(0.2, 50, n_objects)
    chunk = 10_000
    for start in range(0, n_objects, chunk):
        stop = min(start + chunk, n_objects)
        t = np.sort(rng.uniform(0, 1000, (stop - start, n_epochs)), axis=1)
        m = 15 + 0.3 * np.sin(2 * np.pi * t / period[start:stop, None])
        m += rng.normal(0, 0.02, t.shape)
        time[start * n_epochs : stop * n_epochs] = t.ravel()
        mag[start * n_epochs : stop * n_epochs] = m.ravel()
    objects = pd.DataFrame(
        {
            "id": [f"sim-{i:07d}" for i in range(n_objects)],
            "label": rng.choice(["RR", "CEP", "EB", "LPV"], n_objects),
            "period": period,
        }
    )
    err = np.full(n, 0.02)
    band = np.tile((np.arange(n_epochs) % 2).astype(np.int16), n_objects)
    for arr in (time, mag, err, band):
        arr.setflags(write=False)  # handed over to the set, which then need not copy them
    return LightCurveSet(
        time=time,
        mag=mag,
        err=err,
        band=band,
        bands=("g", "r"),
        offsets=np.arange(n_objects + 1) * n_epochs,
        objects=objects,
        meta={"survey": "simulated", "seed": seed},
    )


_READ_CHILD = """
import resource, sys, time
from skyclass.lightcurve import LightCurveSet
t0 = time.perf_counter()
s = LightCurveSet.read_parquet(sys.argv[1])
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, len(s))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    lcs = simulated_set(args.objects, args.epochs, args.seed)
    built = peak_rss_gb()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "set.parquet"
        t0 = time.perf_counter()
        lcs.to_parquet(path)
        write_s = time.perf_counter() - t0
        write_gb = peak_rss_gb()
        size_mb = path.stat().st_size / 1e6
        # A reader starts from nothing: measure it in a fresh process.
        out = subprocess.run(
            [sys.executable, "-c", _READ_CHILD, str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        read_s, read_gb, n_read = float(out[0]), float(out[1]), int(out[2])
        t0 = time.perf_counter()
        same = LightCurveSet.read_parquet(path).equals(lcs)
    assert same and n_read == len(lcs), "round trip changed the data"
    print(f"simulated set: {args.objects:,} curves x {args.epochs} epochs, seed {args.seed}")
    print(
        f"write {write_s:.2f} s, read {read_s:.2f} s, round trip {write_s + read_s:.2f} s "
        f"(target < 10 s); file {size_mb:.0f} MB; read back identical: {same}"
    )
    print(
        f"peak memory: writer process {write_gb:.2f} GB (holding the set: {built:.2f} GB), "
        f"reader process {read_gb:.2f} GB (target < 2 GB each)"
    )


if __name__ == "__main__":
    main()
