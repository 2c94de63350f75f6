"""CPU cost of gao2023's budget mode: per-epoch CPU seconds of every network, and the table.

For each network of ``skyclass reproduce gao2023`` (or ``--models``), on RGB 50×50
stamps and one thread: CPU seconds (``time.process_time``) of one training step
(gao2023's rotation/flip augmentation, forward, cross-entropy, backward and the
network's Table 5 optimiser) on ``--train-batch`` stamps after one warm-up step,
and of inference on ``--infer-batch`` stamps. From these, at the budget mode's
sizes (``settings.n_stamps``, ``settings.split`` and ``settings.budget`` of the
configuration with ``--set`` overrides laid over it, as for ``skyclass
reproduce``), it prints the CPU seconds of one epoch (training stamps plus one
pass over the validation stamps), the epochs each network reaches within the
budget (at least one: a run stops at an epoch boundary), and the cost of the
whole table (networks × seeds; the simulation of the stamps, timed here on
``--n-sim`` stamps, once per seed) on one core and on ``--processes`` cores.
Weights are at their random initialisation (speed does not depend on them).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gao2023_budget_cost.py [--seed 0]
[--set settings.budget=600] [--models resnet18 ...] [--rates rates.json]``
(``--rates`` reuses the per-stamp costs a previous run saved with ``--save``).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path


def measure(name: str, options: dict, *, train_batch: int, infer_batch: int, seed: int) -> dict:
    """CPU seconds per stamp of training (augmented) and inference for network ``name``."""
    import torch

    from skyclass.augment.images import augment_batch
    from skyclass.models import create_model
    from skyclass.training import TrainConfig, Trainer

    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(max(train_batch, infer_batch), 3, 50, 50, generator=generator)
    labels = torch.arange(train_batch) % 3
    torch.manual_seed(seed)
    model = create_model(name, num_outputs=3)
    cfg = TrainConfig(**{k: v for k, v in options.items() if k in TrainConfig.model_fields})
    optimizer = Trainer(model, cfg)._make_optimizer(model)
    model.train()
    spent = 0.0
    for _ in range(2):  # the first step warms up (allocations, optimiser state)
        start = time.process_time()
        batch = augment_batch({"image": images[:train_batch]}, generator)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(batch), labels).backward()
        optimizer.step()
        spent = time.process_time() - start
    model.eval()
    with torch.no_grad():
        model({"image": images[:2]})
        start = time.process_time()
        model({"image": images[:infer_batch]})
        infer = (time.process_time() - start) / infer_batch
    params = sum(p.numel() for p in model.parameters())
    return {"train": spent / train_batch, "infer": infer, "params": params}


def main() -> None:
    import torch

    from skyclass.experiments.gao2023 import resolved_settings
    from skyclass.experiments.runner import load_experiment
    from skyclass.images.simulate import simulate_stamps

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--n-sim", type=int, default=200)
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--infer-batch", type=int, default=128)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rates", type=Path, default=None, help="per-stamp costs saved by --save")
    parser.add_argument("--save", type=Path, default=None, help="write the per-stamp costs here")
    args = parser.parse_args()

    cfg = load_experiment("gao2023", overrides=args.overrides)
    s = resolved_settings(cfg.settings)
    names = args.models or list(s["models"])
    budget = s.get("budget")
    if budget is None:
        raise SystemExit("set a budget: --set settings.budget=SECONDS")
    rates = json.loads(args.rates.read_text()) if args.rates else {}
    print(f"{torch.get_num_threads()} thread(s); CPU seconds (process time), seed {args.seed}")
    if "_simulation" not in rates:
        start = time.process_time()
        simulate_stamps(args.n_sim, classes=tuple(s["classes"]), seed=args.seed)
        rates["_simulation"] = (time.process_time() - start) / args.n_sim
    for name in names:
        if name not in rates:
            options = {**s["optimizers"]["default"], **s["optimizers"].get(name, {})}
            rates[name] = measure(
                name,
                options,
                train_batch=args.train_batch,
                infer_batch=args.infer_batch,
                seed=args.seed,
            )
            print(f"  measured {name}: {rates[name]}", flush=True)
    if args.save:
        args.save.write_text(json.dumps(rates, indent=1))

    n_train, n_val, n_test = (round(f * s["n_stamps"]) for f in s["split"])
    cap = int(s["epochs"])
    print(
        f"gao2023 budget mode: {n_train}/{n_val}/{n_test} train/val/test stamps, budget "
        f"{budget:.0f} CPU s per (network, seed), at most {cap} epochs, {len(cfg.seeds)} seeds"
    )
    print(
        f"  {'network':24s} {'params':>9s} {'train s/stamp':>13s} {'epoch CPU s':>11s} "
        f"{'epochs':>6s} {'cell CPU s':>10s}"
    )
    total = 0.0
    for name in names:
        r = rates[name]
        epoch = n_train * r["train"] + n_val * r["infer"]
        epochs = max(1, min(cap, math.floor(budget / epoch)))
        cell = epochs * epoch + n_test * r["infer"]
        total += cell * len(cfg.seeds)
        print(
            f"  {name:24s} {r['params'] / 1e6:8.1f}M {r['train']:13.3f} {epoch:11.0f} "
            f"{epochs:6d} {cell:10.0f}"
        )
    simulation = rates["_simulation"] * s["n_stamps"] * len(cfg.seeds)
    total += simulation
    print(
        f"  simulation: {simulation:.0f} CPU s; whole table {total / 3600:.1f} core-hours, "
        f"{total / 3600 / args.processes:.1f} h on {args.processes} cores"
    )


if __name__ == "__main__":
    main()
