"""Periods and Fourier parameters of the OGLE-IV LMC Cepheids against the published catalogue.

Runs the default pipeline (``skyclass period``: multi-harmonic-refined Lomb–Scargle,
then a Fourier fit with BIC-chosen harmonics) on every curve of
``$SKYCLASS_SHARED_DATA/ogle4_lmc_cep`` and compares with ``cepFO4.dat`` (the
fundamental-mode Cepheids): the fraction with the period within 1e-4 relative,
R21 within 0.02 and φ21 within 0.05 rad. The search is deterministic (no seed).

Run: ``.venv/bin/python benchmarks/period_ogle.py [--out periods.parquet] [--search fast]``;
the table it writes can be checked independently with ``../shared/checks/check_ogle_period.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from skyclass.datasets import shared_path
from skyclass.io import read
from skyclass.preprocess.period import PeriodConfig, period_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("ogle_periods.parquet"))
    parser.add_argument("--search", default="fast", help="find_period's search: fast or exact")
    args = parser.parse_args()

    lcs = read(shared_path("ogle4_lmc_cep"), format="ogle", progress=False)
    start = time.perf_counter()
    table = period_table(lcs, PeriodConfig(search=args.search))
    seconds = time.perf_counter() - start
    table.to_parquet(args.out, index=False)

    truth = lcs.objects.set_index("id")
    found = table.set_index("id")
    has_p = truth.index[np.isfinite(truth["period"])]
    has_f = truth.index[np.isfinite(truth["R21"]) & np.isfinite(truth["phi21"])]
    true_p = truth.loc[has_p, "period"]
    rel = (found.loc[has_p, "period"] - true_p).abs() / true_p
    dphi = (found.loc[has_f, "phi21"] - truth.loc[has_f, "phi21"] + np.pi) % (2 * np.pi) - np.pi
    r_ok = (found.loc[has_f, "R21"] - truth.loc[has_f, "R21"]).abs() < 0.02
    per_curve = 1e3 * seconds / len(lcs)
    print(
        f"{len(lcs):,} curves searched (search={args.search!r}) in {seconds:.0f} s "
        f"({per_curve:.0f} ms/curve)"
    )
    print(
        f"F-mode Cepheids with a catalogue period: {len(has_p):,}; "
        f"P within 1e-4: {np.mean(rel < 1e-4):.3f} (floor 0.98)"
    )
    ratio = (found.loc[has_p, "period"] / true_p).to_numpy()
    share = {k: float(np.mean(np.abs(ratio - v) < 1e-3)) for k, v in (("2P", 2), ("P/2", 0.5))}
    print(f"  of which the search returned 2P: {share['2P']:.3f}, P/2: {share['P/2']:.3f}")
    print(
        f"with published R21 and phi21: {len(has_f):,}; R21 within 0.02: {r_ok.mean():.3f}, "
        f"phi21 within 0.05 rad: {np.mean(np.abs(dphi) < 0.05):.3f} (floors 0.97)"
    )
    print(f"table written to {args.out}")


if __name__ == "__main__":
    main()
