"""Stamps per second on the CPU: simulation, cutting from FITS frames, and every image model.

- Simulation: :func:`skyclass.images.simulate.simulate_stamps` (GalSim), ``--n-sim``
  gri 50×50 stamps.
- Cutting: :func:`skyclass.images.cut.cut_from_frames` on three simulated
  2048×1489 gri frames (SDSS frame size, TAN WCS with per-band offsets written by
  this script) with ``--n-cut`` catalogue positions, both alignment modes.
- Inference: each image model of the registry on a batch of ``--batch`` RGB
  50×50 cutouts (weights at their random initialisation; speed does not depend on
  them), after one warm-up batch.
- Training: one optimisation step (forward, cross-entropy, backward, Adam) of each
  model on ``--train-batch`` cutouts, after one warm-up step.
- From these rates, the cost of ``skyclass reproduce gao2023`` as configured (its
  networks, stamps, split, epochs, early-stopping patience and seeds): per network
  and in all, between the fewest epochs early stopping allows (patience + 1) and
  every epoch, counting the training stamps at the training rate and the validation
  stamps of every epoch and the test stamps at the inference rate, on one core.
  Simulation, augmentation and data loading are left out, so the figures are lower
  bounds.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/image_speed.py [--seed 0]
[--n-sim 300] [--n-cut 500] [--batch 64] [--train-batch 64] [--models resnet18 ...]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def _frames(folder: Path, rng: np.random.Generator, n: int) -> tuple[dict[str, str], object]:
    """Three noisy frames with Gaussian sources and a catalogue of their positions."""
    import pandas as pd
    from astropy.io import fits
    from astropy.wcs import WCS

    shape = (1489, 2048)
    x = rng.uniform(30, shape[1] - 30, n)
    y = rng.uniform(30, shape[0] - 30, n)
    paths, radec = {}, None
    for k, band in enumerate("gri"):
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [150.0, 2.0]
        wcs.wcs.crpix = [1024.5 + 3.3 * k, 745.5 - 2.1 * k]
        wcs.wcs.cdelt = [-0.396 / 3600, 0.396 / 3600]
        if radec is None:
            radec = wcs.pixel_to_world_values(x, y)
        px, py = wcs.world_to_pixel_values(*radec)
        data = rng.normal(0, 1.0, shape).astype(np.float32)
        for xi, yi in zip(px, py, strict=True):
            i0, j0 = int(yi) - 6, int(xi) - 6
            yy, xx = np.mgrid[i0 : i0 + 13, j0 : j0 + 13]
            data[i0 : i0 + 13, j0 : j0 + 13] += 50 * np.exp(
                -((xx - xi) ** 2 + (yy - yi) ** 2) / (2 * 1.5**2)
            )
        header = wcs.to_header()
        header["FILTER"] = band
        path = folder / f"frame-{band}.fits"
        fits.PrimaryHDU(data, header=header).writeto(path)
        paths[band] = str(path)
    catalog = pd.DataFrame({"object_id": np.arange(n), "ra": radec[0], "dec": radec[1]})
    return paths, catalog


def main() -> None:
    import torch

    from skyclass.images.cut import cut_from_frames
    from skyclass.images.simulate import simulate_stamps
    from skyclass.models import create_model, get_model_spec, list_models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-sim", type=int, default=300)
    parser.add_argument("--n-cut", type=int, default=500)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--models", nargs="*", default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    start = time.perf_counter()
    simulate_stamps(args.n_sim, seed=args.seed)
    seconds = time.perf_counter() - start
    print(f"simulation (GalSim, gri 50x50): {args.n_sim / seconds:,.0f} stamps/s")

    with tempfile.TemporaryDirectory() as tmp:
        frames, catalog = _frames(Path(tmp), rng, args.n_cut)
        for align in ("shift", "round"):
            start = time.perf_counter()
            cut = cut_from_frames(frames, catalog, align=align)
            seconds = time.perf_counter() - start
            print(
                f"cutting from 3 frames 2048x1489 (align={align}): {len(cut) / seconds:,.0f} "
                f"stamps/s ({len(cut)} stamps)"
            )

    images = torch.rand(args.batch, 3, 50, 50, generator=torch.Generator().manual_seed(args.seed))
    labels = torch.arange(args.train_batch) % 3
    names = args.models or [m for m in list_models() if get_model_spec(m).input_keys == ("image",)]
    threads = torch.get_num_threads()
    print(
        f"RGB 50x50 cutouts, {threads} thread(s): inference on batches of {args.batch}, "
        f"training steps on batches of {args.train_batch}:"
    )
    rates = {}
    for name in names:
        model = create_model(name, num_outputs=3).eval()
        with torch.no_grad():
            model({"image": images[:2]})
            start = time.perf_counter()
            model({"image": images})
            infer = args.batch / (time.perf_counter() - start)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        batch = {"image": images[: args.train_batch]}
        for _ in range(2):  # the first step warms up (allocations, Adam state)
            start = time.perf_counter()
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(batch), labels).backward()
            optimizer.step()
        train = args.train_batch / (time.perf_counter() - start)
        rates[name] = (infer, train)
        print(f"  {name:24s} inference {infer:8,.0f} stamps/s   training {train:8,.1f} stamps/s")
    _gao2023_cost(rates)


def _gao2023_cost(rates: dict[str, tuple[float, float]]) -> None:
    """Hours of ``skyclass reproduce gao2023`` as configured, from the measured rates."""
    from skyclass.experiments.runner import load_experiment

    cfg = load_experiment("gao2023")
    s, seeds = cfg.settings, cfg.seeds
    n_train, n_val, n_test = (round(f * s["n_stamps"]) for f in s["split"])
    epochs = int(s["epochs"])
    fewest = min(epochs, int(s.get("early_stopping_patience") or epochs) + 1)
    missing = [m for m in s["models"] if m not in rates]
    print(
        f"skyclass reproduce gao2023 as configured: {len(s['models'])} networks x "
        f"{len(seeds)} seeds, {n_train}/{n_val}/{n_test} train/val/test stamps, "
        f"{fewest}-{epochs} epochs (early stopping patience {s.get('early_stopping_patience')}), "
        "one core:"
    )
    low = high = 0.0
    for name in s["models"]:
        if name not in rates:
            continue
        infer, train = rates[name]
        epoch = n_train / train + n_val / infer
        lo, hi = (len(seeds) * (k * epoch + n_test / infer) / 3600 for k in (fewest, epochs))
        low, high = low + lo, high + hi
        print(f"  {name:24s} {lo:8.1f}-{hi:.1f} h")
    print(
        f"  all {len(s['models']) - len(missing)} networks: {low:.0f}-{high:.0f} h"
        + (f" (not measured: {', '.join(missing)})" if missing else "")
    )


if __name__ == "__main__":
    main()
