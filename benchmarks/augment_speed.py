"""Speed and quality of GP augmentation, skyclass side by side with george, in one run.

Real EROS-1 R-band curves (a seeded random ``--n`` of them, default 1,000):
fit a Matérn-5/2 GP (σ_f, ℓ by maximum likelihood, errors as noise, magnitudes
minus their weighted mean) and draw one synthetic curve per prototype,

- with skyclass (:func:`skyclass.augment.gp.fit_gp_many`, all curves at once), and
- with george (the library kang2023 used): ``george.GP(σ²·Matern52Kernel(ℓ²))``,
  ``gp.compute(t, err)``, scipy L-BFGS-B on the log-parameters with george's
  gradient, the same restarts, starting points and bounds; one
  ``sample_conditional`` draw per curve.

Prints curves/s for both, their ratio (target ≥ 10x) and the median over curves
of our optimum log-likelihood minus george's, both evaluated with george's
``log_likelihood`` (target ≥ −0.5). One thread for both (``OMP_NUM_THREADS=1``
is set before numpy loads).

Run: ``python benchmarks/augment_speed.py [--n 1000] [--seed 0]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import time
from pathlib import Path

import numpy as np

from skyclass import io
from skyclass.augment.gp import GPConfig, fit_gp_many, synthesize_many
from skyclass.lightcurve import LightCurve


def load_curves(n: int, seed: int) -> list[LightCurve]:
    """A seeded random ``n`` EROS-1 curves, R band only."""
    root = Path(os.environ.get("SKYCLASS_SHARED_DATA", "/work/shared/data"))
    lcs = io.read(root / "eros1_lmc", format="eros")
    idx = np.random.default_rng(seed).choice(len(lcs), size=min(n, len(lcs)), replace=False)
    return [lcs[int(i)].select_band("R") for i in idx]


def start_and_bounds(lc: LightCurve, restarts: int) -> tuple[list[np.ndarray], list[tuple]]:
    """The skyclass rule (GPConfig defaults) in george's parameters (log σ², log ℓ²)."""
    dt = np.diff(lc.time)
    dt = dt[dt > 0]
    span, scale = lc.span, float(np.std(lc.mag))
    cadence = float(np.median(dt))
    if restarts > 1:
        ells = np.geomspace(cadence, span, restarts + 1)[:-1]
    else:
        ells = [math.sqrt(cadence * span)]
    starts = [np.array([2 * math.log(scale), 2 * math.log(ell)]) for ell in ells]
    bounds = [
        (2 * math.log(1e-4 * scale), 2 * math.log(10 * scale)),
        (2 * math.log(0.1 * dt.min()), 2 * math.log(10 * span)),
    ]
    return starts, bounds


def george_fit_and_sample(curves, restarts, rng):
    """Fit and draw with george; returns per-curve best log-likelihood and the draws."""
    import george
    from george import kernels
    from scipy.optimize import minimize

    best_ll, draws = [], []
    for lc in curves:
        w = 1 / lc.err**2
        y = lc.mag - np.sum(w * lc.mag) / np.sum(w)
        gp = george.GP(1.0 * kernels.Matern52Kernel(1.0))
        gp.compute(lc.time, lc.err)

        def nll(p, gp=gp, y=y):
            gp.set_parameter_vector(p)
            ll = gp.log_likelihood(y, quiet=True)
            return -ll if np.isfinite(ll) else 1e25

        def grad(p, gp=gp, y=y):
            gp.set_parameter_vector(p)
            return -gp.grad_log_likelihood(y, quiet=True)

        starts, bounds = start_and_bounds(lc, restarts)
        results = [minimize(nll, s, jac=grad, method="L-BFGS-B", bounds=bounds) for s in starts]
        res = min(results, key=lambda r: r.fun)
        gp.set_parameter_vector(res.x)
        best_ll.append(gp.log_likelihood(y))
        t_new = np.sort(rng.uniform(lc.time[0], lc.time[-1], len(lc)))
        draws.append(gp.sample_conditional(y, t_new))
    return np.array(best_ll), draws


def george_loglike(lc: LightCurve, sigma_f: float, ell: float) -> float:
    """Our hyperparameters evaluated with george's likelihood."""
    import george
    from george import kernels

    w = 1 / lc.err**2
    y = lc.mag - np.sum(w * lc.mag) / np.sum(w)
    gp = george.GP(sigma_f**2 * kernels.Matern52Kernel(ell**2))
    gp.compute(lc.time, lc.err)
    return float(gp.log_likelihood(y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="curves (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--restarts", type=int, default=GPConfig().restarts)
    args = parser.parse_args()

    curves = load_curves(args.n, args.seed)
    n_epochs = np.array([len(c) for c in curves])
    print(
        f"EROS-1 R band: {len(curves)} curves, epochs median {np.median(n_epochs):.0f} "
        f"(min {n_epochs.min()}, max {n_epochs.max()}), restarts {args.restarts}, 1 thread"
    )
    cfg = GPConfig(restarts=args.restarts)

    start = time.perf_counter()
    fits = fit_gp_many(curves, config=cfg)
    t_fit = time.perf_counter() - start
    synthetic = synthesize_many(curves, fits, n_per_curve=1, rng=args.seed, config=cfg)
    t_ours = time.perf_counter() - start
    assert len(synthetic) == len(curves)

    start = time.perf_counter()
    ll_george, _ = george_fit_and_sample(curves, args.restarts, np.random.default_rng(args.seed))
    t_george = time.perf_counter() - start

    ll_ours = np.array(
        [
            george_loglike(c, f["R"].sigma_f, f["R"].length_scale)
            for c, f in zip(curves, fits, strict=True)
        ]
    )
    diff = ll_ours - ll_george
    n_fail = sum(not f.success for f in fits)
    rate_ours, rate_george = len(curves) / t_ours, len(curves) / t_george
    print(
        f"skyclass: {rate_ours:8.1f} curves/s (fit {t_fit:.2f} s + sample "
        f"{t_ours - t_fit:.2f} s; {n_fail} not converged/fallback)"
    )
    print(f"george:   {rate_george:8.1f} curves/s ({t_george:.2f} s)")
    print(f"speed ratio skyclass/george: {rate_ours / rate_george:.1f}x (target >= 10x)")
    print(
        f"log-likelihood ours - george (george's formula): median {np.median(diff):+.4f} "
        f"(target >= -0.5), 5th pct {np.percentile(diff, 5):+.4f}, "
        f"min {diff.min():+.4f}, max {diff.max():+.4f}, "
        f"ours better in {(diff > 1e-3).mean():.1%}, worse in {(diff < -1e-3).mean():.1%}"
    )


if __name__ == "__main__":
    main()
