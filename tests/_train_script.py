"""Train a tiny seeded model into RUN_DIR; tests launch this as a real subprocess.

Usage::

    python tests/_train_script.py RUN_DIR [--die-after-epoch K] [--epochs 6]
        [--batch-size 16] [--dropout 0.3] [--spare-layer]
    python -m torch.distributed.run --nproc_per_node 2 --standalone \\
        tests/_train_script.py RUN_DIR --epochs 2

With ``--die-after-epoch K`` the process SIGKILLs itself right after epoch K's
checkpoint is on disk (a real, unclean death: no cleanup, no atexit). At the end
rank 0 writes ``RUN_DIR/metrics.json`` (history and validation probabilities;
JSON floats round-trip exactly) and ``RUN_DIR/final.safetensors`` (the weights).
Under torchrun (``WORLD_SIZE`` > 1) it joins a gloo process group first.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from skyclass.training import TrainConfig, Trainer, seed_everything

N_FEATURES = 8
N_CLASSES = 3


class TinyNet(nn.Module):
    """Masked features → MLP with dropout (so the resumed RNG state matters).

    ``spare`` is a layer the forward never uses, as kang2023_compound's RNN head.
    """

    input_keys = ("features", "features_mask")

    def __init__(self, dropout: float = 0.3, hidden: int = 16, spare: bool = False) -> None:
        super().__init__()
        self.spare = nn.Linear(hidden, N_CLASSES) if spare else None
        self.body = nn.Sequential(
            nn.Linear(2 * N_FEATURES, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, N_CLASSES),
        )

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        mask = batch["features_mask"]
        return self.body(torch.cat([batch["features"] * mask, mask], dim=1))


def make_data(n: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gaussian features, 10 % masked, classes from a fixed linear rule with noise."""
    x = rng.normal(size=(n, N_FEATURES))
    mask = rng.random((n, N_FEATURES)) > 0.1
    x[~mask] = 0.0
    w = np.linspace(-1.0, 1.0, N_FEATURES * N_CLASSES).reshape(N_FEATURES, N_CLASSES)
    y = np.argmax(x @ w + 0.3 * rng.normal(size=(n, N_CLASSES)), axis=1)
    return {"features": x, "features_mask": mask.astype(np.float32)}, y


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--die-after-epoch", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--spare-layer", action="store_true", help="a layer forward never uses")
    args = parser.parse_args(argv)

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank() if distributed else 0

    rng = np.random.default_rng(0)
    train_x, train_y = make_data(256, rng)
    val_x, val_y = make_data(64, rng)
    weights = rng.uniform(0.5, 1.5, size=len(train_y))

    seed_everything(0)
    model = TinyNet(dropout=args.dropout, spare=args.spare_layer)
    config = TrainConfig(
        max_epochs=args.epochs,
        lr=0.01,
        batch_size=args.batch_size,
        optimizer="adamw",
        weight_decay=1e-3,
        scheduler="cosine",
        label_smoothing=0.05,
        class_weights=[1.0, 1.2, 0.8],
        early_stopping_patience=100,
        monitor="val_balanced_accuracy",
        grad_clip=5.0,
        device="cpu",
        seed=0,
    )

    def die(epoch: int, record: dict[str, float]) -> None:
        if epoch == args.die_after_epoch:
            os.kill(os.getpid(), signal.SIGKILL)

    trainer = Trainer(model, config, run_dir=args.run_dir, on_epoch_end=die)
    history = trainer.fit(train_x, train_y, val_x, val_y, sample_weight=weights)
    probabilities = trainer.predict(val_x)
    if rank == 0:
        from safetensors.torch import save_file

        metrics = {
            "history": history.to_dict(),
            "probabilities": probabilities.tolist(),
            "start_epoch": trainer.start_epoch,
            "world_size": torch.distributed.get_world_size() if distributed else 1,
        }
        (args.run_dir / "metrics.json").write_text(json.dumps(metrics))
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(args.run_dir / "final.safetensors"))
    if distributed:  # leave together: a rank tearing gloo down while its peer still
        torch.distributed.barrier()  # writes has aborted ("terminate called ...")
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
