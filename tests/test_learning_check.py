"""The learning check: every light-curve network can fit a small balanced set.

A network that cannot drive its training loss close to zero on 32 examples
cannot learn at all (a broken mask, a head that ignores its input, a
normalisation that wipes the signal): such a defect shows here in seconds,
before hours of training hide it behind an early-stopping epoch. Each model
trains with the shared Trainer on inputs shaped for it: noise plus a fixed
random pattern whose sign is the class (two balanced classes, or the sign as a
regression target), so that the signal sits in every input key and survives any
per-curve centring or scaling. It must bring its training loss below a tenth of
where it started (classification: below 0.1 nats), at a learning rate of 3e-3 or
the one its paper gives.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skyclass.experiments.leaderboard import light_curve_models
from skyclass.models import create_model, get_model_spec
from skyclass.training import TrainConfig, Trainer, seed_everything

N, L = 16, 32


def _inputs(model, rng: np.random.Generator, sign: np.ndarray) -> dict[str, np.ndarray]:
    """Inputs for ``model`` from its recorded config: noise + ``sign`` × a fixed pattern."""
    cfg = model.config
    out: dict[str, np.ndarray] = {}
    for key in model.input_keys:
        if key == "seq":
            out[key] = rng.normal(size=(N, L, cfg.get("seq_channels", 3)))
        elif key == "mask":
            out[key] = np.ones((N, L))
        elif key in ("features", "features_mask"):
            shape = (N, cfg["num_features"])
            out[key] = rng.normal(size=shape) if key == "features" else np.ones(shape)
        elif key in ("grid", "grid_mask"):
            shape = (N, cfg["in_channels"], cfg["length"])
            out[key] = rng.normal(size=shape) if key == "grid" else np.ones(shape)
        elif key == "dmdt":
            out[key] = rng.random((N, cfg["in_channels"], cfg["height"], cfg["width"]))
        elif key == "image":
            size = cfg.get("image_size", 128)
            out[key] = rng.random((N, cfg.get("image_channels", 1), size, size))
        else:  # pragma: no cover - a new input key needs a line here
            raise AssertionError(f"no learning-check input for key {key!r}")
    for key in ("seq", "features", "grid", "dmdt", "image"):
        if key in out:
            pattern = rng.normal(size=out[key].shape[1:])
            shape = (-1,) + (1,) * pattern.ndim
            out[key] = 0.5 * out[key] + sign.reshape(shape) * pattern
    return {k: v.astype(np.float32) for k, v in out.items()}


class _Learned(Exception):
    """Raised by the epoch hook once the loss is low enough: the check has passed."""


#: Models whose defaults are too large to fit in seconds get smaller sizes of themselves.
_SMALL = {
    "carraro2025_cnn_lstm": {"length": 64},
    "akhmetali2025_cnn": {"length": 64},
    "foldnet": {"length": 64},
}


def _learns(model, task: str, lr: float) -> tuple[bool, list[float]]:
    """Train ``model`` on the check's set until its loss reaches the goal (or 30 epochs)."""
    rng = np.random.default_rng(0)
    labels = np.tile([0, 1], N // 2)
    x = _inputs(model, rng, 2.0 * labels - 1)
    y = labels if task == "classification" else 2.0 * labels - 1
    cfg = TrainConfig(task=task, lr=lr, batch_size=4, max_epochs=30, seed=0)
    losses: list[float] = []

    def stop_when_learned(epoch: int, record: dict[str, float]) -> None:
        losses.append(record["train_loss"])
        # classification: below 0.1 nats, every example right and most with confidence
        goal = 0.1 if task == "classification" else 0.1 * losses[0]
        if record["train_loss"] < goal:
            raise _Learned

    try:
        Trainer(model, cfg, on_epoch_end=stop_when_learned).fit(x, y)
    except _Learned:
        return True, losses
    return False, losses


#: skyclass's own networks (not the ones other test modules register for themselves).
BUILT_IN = [
    name
    for name in light_curve_models()
    if get_model_spec(name).factory.__module__.startswith("skyclass.models.")
    and get_model_spec(name).factory.__module__ != "skyclass.models.registry"  # its doctest
]


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_light_curve_network_can_fit_a_small_set(name):
    spec = get_model_spec(name)
    task = "regression" if spec.task == "regression" else "classification"
    seed_everything(0)
    model = create_model(
        name, num_outputs=2 if task == "classification" else 1, **_SMALL.get(name, {})
    )
    # the model's own learning rate where its paper gives one (carraro2025: 2e-4)
    lr = spec.train.get("lr", 3e-3)
    learned, losses = _learns(model, task, lr)
    assert learned, (
        f"{name} did not learn: training loss {losses[0]:.3f} -> {min(losses):.3f} "
        f"in {len(losses)} epochs at lr {lr}"
    )


class _BiasOnly(torch.nn.Module):
    """A network whose output ignores its input: the defect the check exists for."""

    input_keys = ("features",)

    def __init__(self):
        super().__init__()
        self.config = {"num_features": 4}
        self.bias = torch.nn.Parameter(torch.zeros(2))

    def forward(self, batch):
        return self.bias.expand(len(batch["features"]), 2)


def test_the_check_fails_a_network_that_ignores_its_input():
    learned, losses = _learns(_BiasOnly(), "classification", 3e-3)
    assert not learned and min(losses) > 0.6  # stuck near ln 2 on balanced classes
