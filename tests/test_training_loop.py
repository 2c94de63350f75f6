"""The training loop: data pipeline, losses, early stopping, checkpoint/resume, DDP.

The kill-and-resume and DDP tests run ``tests/_train_script.py`` as real
subprocesses (SIGKILL, torchrun with two gloo processes on CPU).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from skyclass.exceptions import DataError
from skyclass.training import (
    ArrayDataset,
    TrainConfig,
    Trainer,
    check_batch,
    make_loader,
    seed_everything,
    set_epoch,
)
from skyclass.training.checkpoint import decode_state, encode_state
from skyclass.training.loop import cosine_factor

SCRIPT = Path(__file__).with_name("_train_script.py")
TORCHRUN = (sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone")


class Linear(nn.Module):
    """Features → logits (or values)."""

    input_keys = ("features",)

    def __init__(self, n_in: int = 2, n_out: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.linear(batch["features"])


class RegularizedLinear(Linear):
    """A model with ``regularization_loss``: L2 on the weight matrix."""

    def regularization_loss(self) -> torch.Tensor:
        return self.linear.weight.pow(2).sum()


class DropoutNet(nn.Module):
    input_keys = ("features",)

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.body(batch["features"])


def blobs(n: int = 128, seed: int = 0, flip: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return {"features": x}, (1 - y if flip else y)


def weights_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_weights(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# ------------------------------------------------------------------ data
def test_array_dataset_batches_dtypes_and_no_mutation():
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    original = x.copy()
    data = ArrayDataset({"features": x}, targets=[1, 0, 1, 1], sample_weight=[1, 2, 3, 4])
    batch = data[np.array([3, 1])]
    assert batch["features"].dtype == torch.float32
    assert batch["features"].tolist() == [[9, 10, 11], [3, 4, 5]]
    assert batch["target"].dtype == torch.int64 and batch["target"].tolist() == [1, 0]
    assert batch["sample_weight"].tolist() == [4.0, 2.0]
    assert batch["index"].tolist() == [3, 1]
    batch["features"][0, 0] = -1.0
    assert np.array_equal(x, original) and data.arrays["features"][3, 0] == 9
    regression = ArrayDataset({"features": x}, targets=np.linspace(0, 1, 4))
    assert regression[0]["target"].dtype == torch.float32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arrays": {"features": np.zeros((3, 2))}, "targets": [0, 1]}, "first dimension"),
        ({"arrays": {"target": np.zeros((3, 2))}}, "reserved"),
        ({"arrays": {"features": np.zeros((2, 1))}, "sample_weight": [1, -1]}, "rows [1]"),
        ({"arrays": {}}, "no input arrays"),
    ],
)
def test_array_dataset_refuses_bad_input(kwargs, message):
    with pytest.raises(DataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ArrayDataset(**kwargs)


def test_loader_order_is_a_function_of_seed_and_epoch():
    data = ArrayDataset({"features": np.zeros((23, 1))})

    def order(seed: int, epoch: int, loader=None) -> list[int]:
        loader = loader or make_loader(data, 5, shuffle=True, seed=seed)
        set_epoch(loader, epoch)
        return [i for batch in loader for i in batch["index"].tolist()]

    shared = make_loader(data, 5, shuffle=True, seed=7)
    for _ in range(3):  # a loader that ran other epochs before gives the same order
        order(7, 0, shared)
    assert order(7, 4, shared) == order(7, 4)
    assert order(7, 4) != order(7, 5) and order(7, 4) != order(8, 4)
    assert sorted(order(7, 4)) == list(range(23))
    fixed = make_loader(data, 5, shuffle=False, seed=7)
    assert order(7, 2, fixed) == list(range(23))


def test_check_batch_names_key_and_dataset_rows():
    x = np.zeros((6, 2, 3))
    x[4, 1, 2] = np.nan
    x[1, 0, 0] = np.inf
    data = ArrayDataset({"seq": x, "features": np.ones((6, 2))}, targets=np.zeros(6, int))
    check_batch(data[[0, 2, 3]])
    with pytest.raises(DataError, match=r"input 'seq' holds NaN or inf in dataset rows \[4, 1\]"):
        check_batch(data[[0, 4, 1]])
    check_batch(data[[0, 4, 1]], keys=["features"])


def test_fit_stops_at_nan_input_before_the_loss():
    arrays, y = blobs(32)
    arrays["features"][5, 1] = np.nan
    trainer = Trainer(Linear(), TrainConfig(max_epochs=1, batch_size=8, device="cpu"))
    with pytest.raises(DataError, match=r"'features'.*rows \[5\]"):
        trainer.fit(arrays, y)


class Diverging(Linear):
    """A net whose loss is finite for its first ``calls`` forwards, then NaN."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.calls = calls

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        self.calls -= 1
        out = super().forward(batch)
        return out if self.calls >= 0 else out * float("nan")


def test_a_diverging_run_names_epoch_and_rate_and_keeps_the_last_good_checkpoint(tmp_path):
    from skyclass.training.loop import TrainingError

    arrays, y = blobs(32)
    cfg = TrainConfig(max_epochs=5, batch_size=8, lr=0.05, device="cpu")
    trainer = Trainer(Diverging(calls=9), cfg, run_dir=tmp_path)  # 4 steps an epoch
    with pytest.raises(TrainingError, match=r"nan at epoch 3, step \d, learning rate 0\.05"):
        trainer.fit(arrays, y)
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["epochs_done"] == 2


# ------------------------------------------------------------------ config
def test_config_validation_lists_valid_choices():
    with pytest.raises(DataError, match="val_balanced_accuracy"):
        TrainConfig.load(overrides=["monitor=val_f00"])
    with pytest.raises(DataError, match="needs task='classification'"):
        TrainConfig.load(overrides=["task=regression", "monitor=val_accuracy"])
    with pytest.raises(DataError, match="optimizer"):
        TrainConfig.load(overrides=["optimizer=rmsprop"])
    cfg = TrainConfig.load(overrides=["task=regression", "monitor=val_mae", "lr=3e-4"])
    assert (cfg.lr, cfg.resolved_mode) == (3e-4, "min")
    assert TrainConfig(monitor="val_balanced_accuracy").resolved_mode == "max"


# ------------------------------------------------------------------ learning
def test_classifier_learns_separable_classes():
    arrays, y = blobs(200)
    seed_everything(0)
    cfg = TrainConfig(max_epochs=25, lr=0.05, batch_size=32, device="cpu", scheduler="cosine")
    trainer = Trainer(Linear(), cfg)
    history = trainer.fit(arrays, y, arrays, y)
    assert history[-1]["val_accuracy"] > 0.95
    assert history["train_loss"][-1] < history["train_loss"][0]
    proba = trainer.predict(arrays)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert np.mean(proba.argmax(axis=1) == y) > 0.95


def test_regressor_learns_a_linear_map():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 2))
    target = 2.0 * x[:, 0] - x[:, 1] + 0.5
    seed_everything(0)
    cfg = TrainConfig(
        task="regression", monitor="val_mae", max_epochs=60, lr=0.05, batch_size=32, device="cpu"
    )
    trainer = Trainer(Linear(n_out=1), cfg)
    history = trainer.fit({"features": x}, target, {"features": x}, target)
    assert history[-1]["val_mae"] < 0.05 and history.best_epoch is not None
    pred = trainer.predict({"features": x[:5]})
    assert pred.shape == (5,) and np.allclose(pred, target[:5], atol=0.2)


def test_zero_sample_weights_leave_only_the_regularization_loss():
    arrays, y = blobs(64)
    cfg = TrainConfig(max_epochs=3, lr=0.01, batch_size=16, device="cpu")
    seed_everything(0)
    plain = Linear()
    before = weights_of(plain)
    Trainer(plain, cfg).fit(arrays, y, sample_weight=np.zeros(64))
    assert_same_weights(before, weights_of(plain))  # zero gradient → Adam moves nothing

    seed_everything(0)
    regularized = RegularizedLinear()
    Trainer(regularized, cfg).fit(arrays, y, sample_weight=np.zeros(64))
    assert_same_weights({"b": before["linear.bias"]}, {"b": regularized.linear.bias})
    assert regularized.linear.weight.abs().sum() < before["linear.weight"].abs().sum()


def test_class_weights_and_targets_are_checked_against_the_model():
    arrays, y = blobs(32)
    cfg = TrainConfig(max_epochs=1, batch_size=8, device="cpu", class_weights=[1.0, 1.0, 1.0])
    with pytest.raises(DataError, match="one weight per class"):
        Trainer(Linear(), cfg).fit(arrays, y)
    with pytest.raises(DataError, match="out of range"):
        Trainer(Linear(), TrainConfig(max_epochs=1, device="cpu")).fit(arrays, y + 1)
    with pytest.raises(DataError, match="no validation data"):
        Trainer(Linear(), TrainConfig(early_stopping_patience=2, device="cpu")).fit(arrays, y)


def test_early_stopping_restores_the_best_weights():
    arrays, y = blobs(128)
    _, flipped = blobs(128, flip=True)  # learning the training rule worsens validation
    cfg = TrainConfig(
        max_epochs=30, lr=0.05, batch_size=32, device="cpu", early_stopping_patience=2
    )
    seed_everything(0)
    model = Linear()
    history = Trainer(model, cfg).fit(arrays, y, arrays, flipped)
    assert history.stopped_early and len(history) == history.best_epoch + 2
    assert history.best_value == min(history["val_loss"])

    seed_everything(0)
    reference = Linear()
    short = cfg.model_copy(update={"max_epochs": history.best_epoch, "restore_best": False})
    Trainer(reference, short).fit(arrays, y, arrays, flipped)
    assert_same_weights(weights_of(model), weights_of(reference))


# ------------------------------------------------------------------ checkpoints
class Crash(RuntimeError):
    pass


def _crash_after(k: int):
    def hook(epoch: int, record: dict[str, float]) -> None:
        if epoch == k:
            raise Crash(f"simulated crash after epoch {k}")

    return hook


RESUME_CFG = TrainConfig(
    max_epochs=5,
    lr=0.02,
    batch_size=16,
    device="cpu",
    scheduler="plateau",
    scheduler_patience=0,
    early_stopping_patience=10,
    label_smoothing=0.1,
    class_weights=[0.8, 1.25],
    grad_clip=1.0,
)


def _fit_dropout_net(
    run_dir: Path | None, hook=None, cfg: TrainConfig = RESUME_CFG
) -> tuple[Trainer, nn.Module]:
    arrays, y = blobs(100)
    val_arrays, val_y = blobs(40, seed=1)
    seed_everything(0)
    model = DropoutNet()
    trainer = Trainer(model, cfg, run_dir=run_dir, on_epoch_end=hook)
    trainer.fit(arrays, y, val_arrays, val_y, sample_weight=np.linspace(0.5, 1.5, 100))
    return trainer, model


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path):
    whole, whole_model = _fit_dropout_net(tmp_path / "a")
    with pytest.raises(Crash):
        _fit_dropout_net(tmp_path / "b", _crash_after(2))
    state = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())
    assert state["epochs_done"] == 2
    resumed, resumed_model = _fit_dropout_net(tmp_path / "b")
    assert resumed.start_epoch == 2 and whole.start_epoch == 0
    # the crashed process's training time is carried over, not lost
    assert resumed.earlier_seconds == state["elapsed_seconds"] and whole.earlier_seconds == {
        "wall": 0.0,
        "cpu": 0.0,
    }
    assert state["elapsed_seconds"]["wall"] > 0
    final = json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())
    assert final["elapsed_seconds"]["wall"] > state["elapsed_seconds"]["wall"]
    assert resumed.history.to_dict() == whole.history.to_dict()
    assert_same_weights(weights_of(whole_model), weights_of(resumed_model))
    x = blobs(40, seed=1)[0]
    assert np.array_equal(whole.predict(x), resumed.predict(x))

    # a finished run resumes to its end state without training again
    again, again_model = _fit_dropout_net(tmp_path / "b")
    assert again.start_epoch == RESUME_CFG.max_epochs
    assert again.earlier_seconds == final["elapsed_seconds"]
    assert again.history.to_dict() == whole.history.to_dict()
    assert_same_weights(weights_of(whole_model), weights_of(again_model))
    assert again.untimed_epochs == 0 and final["untimed_epochs"] == 0


def test_a_checkpoint_without_its_time_is_resumed_with_its_epochs_counted_as_untimed(tmp_path):
    with pytest.raises(Crash):
        _fit_dropout_net(tmp_path, _crash_after(2))
    path = tmp_path / "checkpoint" / "state.json"
    state = json.loads(path.read_text())
    del state["elapsed_seconds"], state["untimed_epochs"]  # as written before they existed
    path.write_text(json.dumps(state))
    resumed, _ = _fit_dropout_net(tmp_path)
    assert resumed.untimed_epochs == 2 and resumed.earlier_seconds == {"wall": 0.0, "cpu": 0.0}
    # a later resume still knows that the first two epochs were never timed
    final = json.loads(path.read_text())
    assert final["untimed_epochs"] == 2
    again, _ = _fit_dropout_net(tmp_path)
    assert again.untimed_epochs == 2


def test_checkpoint_is_safetensors_and_json_only(tmp_path):
    arrays, y = blobs(32)
    cfg = TrainConfig(max_epochs=2, batch_size=8, device="cpu", scheduler="plateau")
    Trainer(Linear(), cfg, run_dir=tmp_path).fit(arrays, y, arrays, y)
    folder = tmp_path / "checkpoint"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0002.safetensors", "state.json"]
    state = json.loads((folder / "state.json").read_text())  # strict JSON: no NaN/Infinity
    json.dumps(state, allow_nan=False)
    assert state["tensors"] == "epoch-0002.safetensors" and state["epochs_done"] == 2
    tensors = load_file(folder / state["tensors"])
    assert {"model.linear.weight", "best_model.linear.weight", "rng.torch"} <= set(tensors)
    assert any(k.startswith("optimizer.state") for k in tensors)


def test_resuming_with_other_options_or_data_is_refused(tmp_path):
    arrays, y = blobs(32)
    cfg = TrainConfig(max_epochs=1, batch_size=8, device="cpu")
    Trainer(Linear(), cfg, run_dir=tmp_path).fit(arrays, y)
    with pytest.raises(DataError, match="other options \\(lr\\)"):
        Trainer(Linear(), cfg.model_copy(update={"lr": 0.5}), run_dir=tmp_path).fit(arrays, y)
    with pytest.raises(DataError, match="other data"):
        Trainer(Linear(), cfg, run_dir=tmp_path).fit(arrays, 1 - y)


def test_state_tree_codec_round_trips_without_pickle():
    tree = {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.ones(2)}},
        "groups": [{"betas": (0.9, 0.999), "lr": 0.1, "params": [0, 1], "x": None}],
        "best": math.inf,
        "np": np.arange(3, dtype=np.uint32),
        "python": (3, (1, 2), None),
    }
    tensors: dict[str, torch.Tensor] = {}
    encoded = encode_state(tree, tensors, "opt")
    json.dumps(encoded, allow_nan=False)
    decoded = decode_state(json.loads(json.dumps(encoded)), tensors)
    assert decoded["groups"] == tree["groups"] and decoded["python"] == tree["python"]
    assert list(decoded["state"]) == [0] and decoded["best"] == math.inf
    assert torch.equal(decoded["state"][0]["exp_avg"], torch.ones(2))
    assert decoded["np"].dtype == np.uint32 and decoded["np"].tolist() == [0, 1, 2]
    with pytest.raises(TypeError, match="without pickle"):
        encode_state({"f": print}, {}, "x")


# ------------------------------------------------------------------ real processes
def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        args, capture_output=True, text=True, timeout=120, env=env, check=False, **kwargs
    )


def _results(run_dir: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return metrics, load_file(run_dir / "final.safetensors")


@pytest.mark.slow
def test_killed_process_resumes_to_identical_weights_and_metrics(tmp_path):
    run_a, run_b = tmp_path / "a", tmp_path / "b"
    whole = _run([sys.executable, str(SCRIPT), str(run_a)])
    assert whole.returncode == 0, whole.stderr

    killed = _run([sys.executable, str(SCRIPT), str(run_b), "--die-after-epoch", "2"])
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (run_b / "metrics.json").exists()
    assert json.loads((run_b / "checkpoint" / "state.json").read_text())["epochs_done"] == 2

    resumed = _run([sys.executable, str(SCRIPT), str(run_b)])
    assert resumed.returncode == 0, resumed.stderr
    metrics_a, weights_a = _results(run_a)
    metrics_b, weights_b = _results(run_b)
    assert metrics_a["start_epoch"] == 0 and metrics_b["start_epoch"] == 2
    metrics_a.pop("start_epoch"), metrics_b.pop("start_epoch")
    assert len(metrics_a["history"]["records"]) == 6
    assert metrics_a == metrics_b  # JSON floats round-trip: this is bit-for-bit
    assert_same_weights(weights_a, weights_b)


@pytest.mark.slow
def test_torchrun_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path):
    # dropout masks would differ per layout; the spare layer (a parameter the forward never
    # uses, as kang2023_compound has) must not stall DDP's gradient reduction
    common = ["--epochs", "2", "--dropout", "0", "--spare-layer"]
    ddp = _run([*TORCHRUN, str(SCRIPT), str(tmp_path / "ddp"), "--batch-size", "16", *common])
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    metrics, weights = _results(tmp_path / "ddp")
    records = metrics["history"]["records"]
    assert metrics["world_size"] == 2 and len(records) == 2
    assert all(math.isfinite(r["train_loss"]) and math.isfinite(r["val_loss"]) for r in records)
    assert (tmp_path / "ddp" / "checkpoint" / "state.json").is_file()

    # 2 ranks x 16 rows see exactly the 32 rows one process sees per step, and DDP
    # averages their mean gradients: equal up to float summation order (not bitwise).
    single = _run(
        [sys.executable, str(SCRIPT), str(tmp_path / "one"), "--batch-size", "32", *common]
    )
    assert single.returncode == 0, single.stderr
    one_metrics, one_weights = _results(tmp_path / "one")
    for a, b in zip(records, one_metrics["history"]["records"], strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-5), key
    for key in weights:
        torch.testing.assert_close(weights[key], one_weights[key], rtol=1e-5, atol=1e-6)


def test_sgd_and_warmup_cosine_schedules(monkeypatch):
    built = []

    class SpySGD(torch.optim.SGD):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(torch.optim, "SGD", SpySGD)
    x, y = blobs(32)
    cfg = TrainConfig(
        optimizer="sgd",
        momentum=0.5,
        lr=1.0,
        max_epochs=6,
        batch_size=16,
        device="cpu",
        scheduler="cosine_warmup",
        warmup_epochs=2,
    )
    lrs = Trainer(Linear(), cfg).fit(x, y)["lr"]
    assert len(built) == 1 and built[0].param_groups[0]["momentum"] == 0.5
    assert lrs[0] < lrs[1] < lrs[2] == 1.0 and lrs[3] < 1.0 and lrs[-1] < lrs[3]
    assert lrs == pytest.approx([cosine_factor(e, 2, 6) for e in range(6)])


class FakeCpuClock:
    """A CPU clock that advances ``step`` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_cpu_budget_fixes_the_epochs_after_the_first_and_the_cosine_ends_with_them(
    monkeypatch, tmp_path
):
    # the first epoch costs 25 CPU s (two clock reads): a 110 s budget allows floor(4.4) = 4
    # epochs; one warm-up epoch at half the rate, then a cosine over the other 3 reaching
    # zero at epoch 4's end: factors 0.5, 1, (1 + cos(pi/3)) / 2, (1 + cos(2 pi/3)) / 2
    monkeypatch.setattr(time, "process_time", FakeCpuClock(25.0))  # the budget's clock
    arrays, y = blobs(64)
    cfg = TrainConfig(
        max_epochs=60,
        lr=0.1,
        batch_size=16,
        device="cpu",
        scheduler="cosine_warmup",
        warmup_epochs=1,
        budget_seconds=110.0,
    )
    seed_everything(0)
    trainer = Trainer(Linear(), cfg, run_dir=tmp_path)
    history = trainer.fit(arrays, y, arrays, y)
    assert len(history) == history.planned_epochs == 4
    assert history["lr"] == pytest.approx([0.05, 0.1, 0.075, 0.025])

    # a resumed run keeps the length it planned, whatever its first epoch now costs
    monkeypatch.setattr(time, "process_time", FakeCpuClock(1.0))
    again = Trainer(Linear(), cfg, run_dir=tmp_path)
    assert len(again.fit(arrays, y, arrays, y)) == 4 and again.start_epoch == 4


@pytest.mark.parametrize(
    ("epoch_cost", "max_epochs", "expected"),
    [(500.0, 60, 1), (1.0, 3, 3)],
)
def test_a_budget_runs_one_epoch_at_least_and_max_epochs_at_most(
    monkeypatch, epoch_cost, max_epochs, expected
):
    monkeypatch.setattr(time, "process_time", FakeCpuClock(epoch_cost / 2))
    arrays, y = blobs(32)
    cfg = TrainConfig(
        max_epochs=max_epochs, batch_size=16, device="cpu", scheduler="cosine", budget_seconds=100.0
    )
    history = Trainer(Linear(), cfg).fit(arrays, y)
    assert len(history) == history.planned_epochs == expected
    assert history["lr"][0] == pytest.approx(1e-3)


def test_augment_hook_changes_training_batches_only_and_is_seeded():
    seen = []

    def add_noise(inputs, generator):
        seen.append(torch.rand(1, generator=generator).item())
        return {k: v + torch.randn(v.shape, generator=generator) for k, v in inputs.items()}

    x, y = blobs(32)

    def fit(augment):
        torch.manual_seed(0)
        trainer = Trainer(Linear(), TrainConfig(max_epochs=2, batch_size=16), augment=augment)
        trainer.fit(x, y)
        return trainer.predict(x)

    first = fit(add_noise)
    draws = list(seen)
    seen.clear()
    np.testing.assert_array_equal(first, fit(add_noise))
    assert seen == draws and len(draws) == 4  # 2 epochs x 2 batches, the same draws each run
    assert not np.allclose(first, fit(None))  # the augmentation really reached training


class StepCounter(Linear):
    """:class:`Linear` with a buffer that holds the number of training steps taken."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("steps", torch.zeros(()))

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        if self.training:
            self.steps += 1
        return super().forward(batch)


def test_weight_average_follows_the_decay_rule_by_hand():
    x, y = blobs(32)  # two steps per epoch: ten in all
    model = StepCounter()
    cfg = TrainConfig(max_epochs=5, batch_size=16, device="cpu", ema_decay=0.5)
    Trainer(model, cfg).fit(x, y)  # the fitted model holds the average
    expected = 0.0
    for step in range(1, 11):  # after step k the buffer reads k
        decay = min(0.5, (1 + step) / (10 + step))  # 2/11, 3/12, ..., then 0.5 from step 8 on
        expected = decay * expected + (1 - decay) * step
    assert float(model.steps) == pytest.approx(expected, rel=1e-6)


def test_weight_average_is_what_validation_and_the_fitted_model_use(tmp_path):
    cfg = RESUME_CFG.model_copy(update={"ema_decay": 0.9, "restore_best": False})
    trainer, model = _fit_dropout_net(None, cfg=cfg)
    plain, plain_model = _fit_dropout_net(None, cfg=cfg.model_copy(update={"ema_decay": None}))
    # the same steps were taken; the fitted weights differ because they are averaged
    assert trainer.history["train_loss"] == plain.history["train_loss"]
    assert not torch.equal(model.body[0].weight, plain_model.body[0].weight)
    assert trainer.history["val_loss"] != plain.history["val_loss"]
    # crash and resume: the average is checkpointed with the weights
    with pytest.raises(Crash):
        _fit_dropout_net(tmp_path, _crash_after(2), cfg=cfg)
    resumed, resumed_model = _fit_dropout_net(tmp_path, cfg=cfg)
    assert resumed.history.to_dict() == trainer.history.to_dict()
    assert_same_weights(weights_of(model), weights_of(resumed_model))


class NormedLinear(nn.Module):
    """Features → batch norm → logits: its running statistics are what evaluation reads."""

    input_keys = ("features",)

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(2)
        self.linear = nn.Linear(2, 2)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.linear(self.norm(batch["features"]))


@pytest.mark.parametrize("ema_decay", [None, 0.9])
def test_precise_batch_norm_replaces_statistics_that_lag_behind_few_steps(ema_decay):
    # features offset by 100: after one step of momentum 0.1 the running mean is
    # 10, far from the data; refreshed from the training batches it is the data's
    x, y = blobs(64)
    x = {"features": x["features"] + 100.0}
    cfg = TrainConfig(max_epochs=1, batch_size=64, lr=1e-2, ema_decay=ema_decay, restore_best=False)
    lagging = NormedLinear()
    Trainer(lagging, cfg).fit(x, y, x, y)
    assert float(lagging.norm.running_mean.mean()) < 20.0

    refreshed = NormedLinear()
    trainer = Trainer(refreshed, cfg.model_copy(update={"precise_bn_batches": 4}))
    trainer.fit(x, y, x, y)
    np.testing.assert_allclose(
        refreshed.norm.running_mean.numpy(), x["features"].mean(axis=0), rtol=1e-5
    )
    np.testing.assert_allclose(
        refreshed.norm.running_var.numpy(), x["features"].var(axis=0, ddof=1), rtol=1e-4
    )
    assert refreshed.norm.momentum == 0.1
    # evaluation now normalises as training did: eval-mode outputs match batch-mode ones
    batch = {"features": torch.as_tensor(x["features"], dtype=torch.float32)}
    with torch.no_grad():
        evaluated = refreshed.eval()(batch)
        trained = refreshed.train()(batch)
    torch.testing.assert_close(evaluated, trained, rtol=0.05, atol=0.05)
    with torch.no_grad():
        lagging_out = lagging.eval()(batch)
    assert not torch.allclose(lagging_out, lagging.train()(batch), atol=0.5)
