"""CPU throughput of every registered model (training, inference) and of prediction end to end.

1. Each model of ``list_models()`` at its paper-default input size: samples/s for
   training steps (Adam, batch 32) and for inference (batch 256), on random
   inputs (seed 0), per second of CPU time (one torch thread, so per core whatever
   else the machine runs). Target for the network alone: ≥ 2,000 curves/s per core.
2. ``LightCurveClassifier.predict_table`` end to end on EROS-1-like curves with no
   period given (period search included): raw curves → probabilities. Target:
   ≥ 50 curves/s per core. Uses simulated two-band curves (seed 0) shaped like
   EROS-1 (about 240 epochs over 900 d); the classifier is trained for one epoch
   only, since only speed is measured here.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_speed.py [--models NAME ...]``
(``torch.set_num_threads(1)`` is applied too, so the figures are per core).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from skyclass.estimator import LightCurveClassifier
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.models import create_model, list_models

_SHAPES = {
    "seq": lambda c: (300, c.get("seq_channels", 3)),
    "mask": lambda c: (300,),
    "features": lambda c: (c["num_features"],),
    "features_mask": lambda c: (c["num_features"],),
    "grid": lambda c: (c["in_channels"], c["length"]),
    "grid_mask": lambda c: (c["in_channels"], c["length"]),
    "dmdt": lambda c: (c["in_channels"], c["height"], c["width"]),
    "folded_image": lambda c: (c.get("image_channels", 1), 128, 128),
}


def batch_for(model, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Random inputs of the model's default sizes (sequences of 300 steps)."""
    out = {}
    for key in model.input_keys:
        shape = _SHAPES[key](model.config)
        ones = key in {"mask", "grid_mask", "features_mask"}
        out[key] = torch.ones(n, *shape) if ones else torch.rand(n, *shape, generator=gen)
    return out


def model_speed(name: str, *, steps: int = 5) -> tuple[float, float]:
    """(training samples/s, inference samples/s) of one model, per CPU second."""
    gen = torch.Generator().manual_seed(0)
    model = create_model(name, num_outputs=4)
    train_batch = batch_for(model, 32, gen)
    target = torch.randint(0, 4, (32,), generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.process_time()  # CPU time: the machine is shared, one torch thread
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(train_batch), target)
        loss.backward()
        opt.step()
    train_rate = 32 * steps / (time.process_time() - start)
    infer_batch = batch_for(model, 256, gen)
    model.eval()
    with torch.no_grad():
        model(infer_batch)  # warm-up
        start = time.process_time()
        for _ in range(2):
            model(infer_batch)
    infer_rate = 256 * 2 / (time.process_time() - start)
    return train_rate, infer_rate


def eros_like(n: int, seed: int) -> LightCurveSet:
    """Simulated two-band periodic curves with EROS-1-like sampling (not real data)."""
    rng = np.random.default_rng(seed)
    curves, labels = [], []
    for i in range(n):
        t = np.sort(rng.uniform(0, 900, 120))
        period = rng.uniform(0.3, 30)
        kind = i % 4
        phase = 2 * np.pi * t / period
        shape = [np.sin(phase), np.sign(np.sin(phase)), np.sin(phase) ** 3, np.cos(2 * phase)][kind]
        mags, bands = [], []
        for band, amp in (("B", 0.4), ("R", 0.3)):
            mags.append(17 + amp * shape + rng.normal(0, 0.05, t.size))
            bands.append(np.full(t.size, band))
        time_all = np.concatenate([t, t + 0.05])
        order = np.argsort(time_all)
        curves.append(
            LightCurve(
                time=time_all[order],
                mag=np.concatenate(mags)[order],
                err=np.full(2 * t.size, 0.05),
                band=np.concatenate(bands)[order],
                id=f"sim{i}",
            )
        )
        labels.append(f"class{kind}")
    return LightCurveSet.from_lightcurves(curves, labels=labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--curves", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    print("model                         train samples/s   inference samples/s (per CPU second)")
    for name in args.models or list_models():
        train_rate, infer_rate = model_speed(name)
        print(f"  {name:28s} {train_rate:12.1f} {infer_rate:16.1f}")

    data = eros_like(args.curves, seed=0)
    labelled = data.with_objects(data.objects.assign(period=np.nan))
    clf = LightCurveClassifier(
        model="akhmetali2025_cnn",
        train={"max_epochs": 1, "batch_size": 64},
        validation_fraction=0.0,
        progress=False,
    ).fit(labelled)
    raw = LightCurveSet.from_lightcurves(list(data))  # no period column: searched
    start = time.perf_counter()
    table = clf.predict_table(raw)
    seconds = time.perf_counter() - start
    print(
        f"predict end to end (period search + folded grid + akhmetali2025_cnn), "
        f"{len(table)} simulated EROS-like curves: {len(table) / seconds:.1f} curves/s (1 core)"
    )


if __name__ == "__main__":
    main()
