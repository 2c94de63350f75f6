"""The training loop: plain PyTorch, checkpointed every epoch, resumable, DDP-ready.

:class:`Trainer` fits any model of the registry contract (a dict batch in,
``(B, num_outputs)`` out) with the options of a :class:`TrainConfig`. Given a
``run_dir`` it writes a checkpoint after every epoch, and a later ``fit`` on
the same directory continues from the next epoch as if never interrupted: on
CPU the final weights and metrics are bit-for-bit those of an uninterrupted
run.

The checkpoint (weights, optimizer, scheduler and RNG states, history; no
pickle) is written and read by :mod:`skyclass.training.checkpoint`.

Data order on resume: each epoch's permutation is drawn by
``DistributedSampler`` from ``seed + epoch`` alone (see
:mod:`skyclass.training.data`), so epoch ``k`` sees the same batches whether or
not the process died before it; dropout and other model randomness continue
from the restored torch RNG state.

Under ``torchrun`` ``fit`` trains with DistributedDataParallel: see
:mod:`skyclass.training.distributed`.

Examples
--------
>>> import numpy as np, torch
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(64, 2)).astype("float32")
>>> y = (x[:, 0] > 0).astype(int)
>>> class Net(torch.nn.Module):
...     input_keys = ("features",)
...     def __init__(self):
...         super().__init__()
...         self.linear = torch.nn.Linear(2, 2)
...     def forward(self, batch):
...         return self.linear(batch["features"])
>>> seed_everything(0)
>>> trainer = Trainer(Net(), TrainConfig(max_epochs=30, lr=0.05, batch_size=16))
>>> history = trainer.fit({"features": x}, y, {"features": x}, y)
>>> history[-1]["val_accuracy"] > 0.9
True
>>> trainer.predict({"features": x[:2]}).shape
(2, 2)
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from skyclass.config import Config
from skyclass.exceptions import DataError, SkyclassError
from skyclass.training.checkpoint import (
    CHECKPOINT_FORMAT,  # noqa: F401 - its former home
    check_resumable,
    data_fingerprint,
    decode_state,
    encode_state,
    prefixed,
    read_checkpoint,
    restore_rng_states,
    rng_states,
    write_checkpoint,
)
from skyclass.training.data import (
    TARGET_KEY,
    WEIGHT_KEY,
    ArrayDataset,
    check_batch,
    make_loader,
    set_epoch,
)
from skyclass.training.distributed import (
    barrier,
    is_distributed,
    process_count,
    process_rank,
    sum_over_processes,
)

__all__ = [
    "METRICS",
    "History",
    "TrainConfig",
    "Trainer",
    "TrainingError",
    "budget_epochs",
    "cosine_factor",
    "refresh_batch_norm",
    "seed_everything",
]

log = logging.getLogger(__name__)

#: Metrics a run can monitor, with the task they need (None: any task).
METRICS: dict[str, str | None] = {
    "train_loss": None,
    "val_loss": None,
    "val_accuracy": "classification",
    "val_balanced_accuracy": "classification",
    "val_mae": "regression",
    "val_rmse": "regression",
}


class TrainingError(SkyclassError, RuntimeError):
    """Training cannot go on (a non-finite loss, a checkpoint that does not fit)."""


class TrainConfig(Config):
    """How to train one model.

    Attributes
    ----------
    task : {"classification", "regression"}
        Cross-entropy on class indices, or mean squared error on values.
    optimizer : {"adam", "adamw", "sgd"}
    lr, weight_decay : float
        Learning rate and (decoupled for ``adamw``, L2 for ``adam`` and ``sgd``) weight decay.
    momentum : float
        Momentum of ``sgd`` (gao2023's Table 5: 0.9).
    batch_size : int
        Rows per step (per process under DDP).
    max_epochs : int
    scheduler : {None, "cosine", "cosine_warmup", "plateau", "step"}
        Per-epoch learning-rate schedule: cosine annealing over ``max_epochs``
        (after ``warmup_epochs`` of linear warm-up for ``cosine_warmup``),
        reduce-on-plateau of the monitored metric, or a step decay.
    warmup_epochs : int
        Linear warm-up epochs of ``cosine_warmup``.
    budget_seconds : float, optional
        CPU seconds the run may take (process time of all its threads, training and
        validation). The first epoch is timed and fixes the run's length,
        :func:`budget_epochs` of the budget, that epoch's CPU seconds and
        ``max_epochs`` (kept as ``History.planned_epochs``, so a resumed run keeps
        it): the run stops at the epoch boundary nearest below the budget (after
        one epoch at least), and ``cosine`` / ``cosine_warmup`` anneal to zero when
        it ends instead of at ``max_epochs``. Early stopping, when set, may end it
        sooner. None: ``max_epochs`` epochs.
    scheduler_step_size, scheduler_gamma, scheduler_patience
        Epochs between steps (``step``), the decay factor (``step``, ``plateau``)
        and the plateau's patience.
    label_smoothing : float
        Of the cross-entropy, in [0, 1).
    class_weights : list of float, optional
        One loss weight per class, in class-index order (e.g. the values of
        :func:`skyclass.augment.balance.class_weights`).
    early_stopping_patience : int, optional
        Stop after this many epochs without improvement of ``monitor``.
    monitor : str
        One of :data:`METRICS`: ``val_loss``, ``val_balanced_accuracy``, ``val_mae``…
    mode : {"auto", "min", "max"}
        Whether larger is better; ``auto``: ``max`` for accuracies, else ``min``.
    min_delta : float
        Smallest change that counts as an improvement.
    restore_best : bool
        End ``fit`` with the weights of the best epoch (when the monitored metric exists).
    grad_clip : float, optional
        Clip the global gradient norm to this value.
    ema_decay : float, optional
        Keep an exponential moving average of the weights (and batch-norm
        statistics), updated after every step with this decay (e.g. 0.999; smaller
        in the first steps, ``min(decay, (1 + t) / (10 + t))``); validation, the best
        epoch and the fitted model then use the averaged weights. None: no average.
    precise_bn_batches : int, optional
        At the end of every epoch, before validation, estimate the batch-norm
        statistics afresh from this many training batches (a plain average, the
        weights unchanged; "precise BN", Wu & Johnson 2021). The running averages
        lag far behind the weights when an epoch has few steps (1,400 stamps in
        batches of 256 make 6), and a net evaluated with them can predict one class
        for every input. Under DDP the ranks' estimates are averaged. None: the
        running averages as trained (nets without batch norm ignore it).
    seed : int
        Seeds python, numpy and torch at the start of a run and the data order.
    deterministic : bool
        Ask torch and cuDNN for deterministic algorithms.
    device : {"auto", "cpu", "cuda"}
    num_workers : int
        Data-loader worker processes.

    Examples
    --------
    >>> cfg = TrainConfig.load(overrides=["lr=1e-2", "scheduler=cosine"])
    >>> cfg.lr, cfg.scheduler, cfg.resolved_mode
    (0.01, 'cosine', 'min')
    """

    task: Literal["classification", "regression"] = "classification"
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    batch_size: int = Field(64, ge=1)
    max_epochs: int = Field(100, ge=1)
    scheduler: Literal["cosine", "cosine_warmup", "plateau", "step"] | None = None
    warmup_epochs: int = Field(5, ge=0)
    budget_seconds: float | None = Field(None, gt=0)
    scheduler_step_size: int = Field(10, ge=1)
    scheduler_gamma: float = Field(0.1, gt=0, le=1)
    scheduler_patience: int = Field(5, ge=0)
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    class_weights: list[float] | None = None
    early_stopping_patience: int | None = Field(None, ge=1)
    monitor: str = "val_loss"
    mode: Literal["auto", "min", "max"] = "auto"
    min_delta: float = Field(0.0, ge=0)
    restore_best: bool = True
    grad_clip: float | None = Field(None, gt=0)
    ema_decay: float | None = Field(None, gt=0, lt=1)
    precise_bn_batches: int | None = Field(None, ge=1)
    seed: int = 0
    deterministic: bool = True
    device: Literal["auto", "cpu", "cuda"] = "auto"
    num_workers: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.monitor not in METRICS:
            raise ValueError(f"monitor {self.monitor!r} is unknown; choose one of {list(METRICS)}")
        needs = METRICS[self.monitor]
        if needs is not None and needs != self.task:
            valid = [m for m, t in METRICS.items() if t in (None, self.task)]
            raise ValueError(
                f"monitor {self.monitor!r} needs task={needs!r}; for {self.task} use one of {valid}"
            )
        if self.class_weights is not None:
            if self.task != "classification":
                raise ValueError("class_weights apply to classification only")
            if any(not math.isfinite(w) or w < 0 for w in self.class_weights):
                raise ValueError("class_weights must be finite and >= 0")
        if self.label_smoothing and self.task != "classification":
            raise ValueError("label_smoothing applies to classification only")
        return self

    @property
    def resolved_mode(self) -> Literal["min", "max"]:
        """``min`` or ``max``: the direction in which ``monitor`` improves."""
        if self.mode != "auto":
            return self.mode
        return "max" if self.monitor.endswith("accuracy") else "min"


@dataclass
class History:
    """Per-epoch metrics of a run and its best epoch.

    Attributes
    ----------
    records : list of dict
        One dict per finished epoch: ``epoch`` (1-based), ``lr``, ``train_loss`` and
        the validation metrics (``val_loss``, ``val_accuracy``, ``val_balanced_accuracy``
        or ``val_mae``, ``val_rmse``).
    monitor : str
    best_epoch : int, optional
        1-based epoch of the best ``monitor`` value.
    best_value : float, optional
    stopped_early : bool
    planned_epochs : int, optional
        The epochs a CPU-time budget allows (``TrainConfig.budget_seconds``), fixed
        after the first epoch; None without a budget.

    Examples
    --------
    >>> h = History([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}])
    >>> h["train_loss"], len(h), h[-1]["epoch"]
    ([0.5, 0.25], 2, 2)
    """

    records: list[dict[str, float]] = field(default_factory=list)
    monitor: str = "val_loss"
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: bool = False
    planned_epochs: int | None = None

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return [r.get(key, math.nan) for r in self.records]
        return self.records[key]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready form (non-finite floats kept as Python floats)."""
        return {
            "records": [dict(r) for r in self.records],
            "monitor": self.monitor,
            "best_epoch": self.best_epoch,
            "best_value": self.best_value,
            "stopped_early": self.stopped_early,
            "planned_epochs": self.planned_epochs,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        return cls(
            records=[dict(r) for r in data["records"]],
            monitor=data["monitor"],
            best_epoch=data["best_epoch"],
            best_value=data["best_value"],
            stopped_early=data["stopped_early"],
            planned_epochs=data.get("planned_epochs"),
        )


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed python's ``random``, numpy's global RNG and torch (all devices).

    skyclass's own code takes its randomness as arguments; this covers the model
    code that does not (weight initialisation, dropout). With ``deterministic``,
    cuDNN autotuning is off and torch is asked for deterministic algorithms (a
    warning, not an error, where none exists).

    Examples
    --------
    >>> seed_everything(3); a = torch.rand(1)
    >>> seed_everything(3); bool(torch.equal(a, torch.rand(1)))
    True
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds third-party code's global use
    torch.manual_seed(seed)
    if deterministic:
        _deterministic_algorithms()


def _deterministic_algorithms() -> None:
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)


class Trainer:
    """Fit and apply one model with the options of a :class:`TrainConfig`.

    Parameters
    ----------
    model : torch.nn.Module
        Takes a dict batch and returns ``(B, num_outputs)``; its ``input_keys``
        attribute (when present) names the arrays it reads. If it defines
        ``regularization_loss()``, that value is added to every step's loss.
    config : TrainConfig
    run_dir : path, optional
        Where the checkpoint of every epoch goes; ``fit`` resumes from it.
    on_epoch_end : callable, optional
        Called as ``on_epoch_end(epoch, record)`` after each epoch's checkpoint
        is written (progress display, or a test that kills the process there).
    augment : callable, optional
        ``augment(inputs, generator) -> inputs``: random changes of every training
        batch (never of validation or prediction batches), drawing only from the
        ``torch.Generator`` it is given, which is seeded by the run's seed and the
        epoch so a resumed run draws the same (e.g.
        :func:`skyclass.augment.images.augment_batch` for cutouts).

    Notes
    -----
    Loss of a batch of size B: ``sum_i w_i * c_{y_i} * l_i / B`` with ``l_i`` the
    (label-smoothed) cross-entropy or the squared error averaged over outputs,
    ``w_i`` the sample weight and ``c`` the class weight (Keras semantics; with
    balanced class weights, whose mean over the training rows is 1, its scale
    matches the unweighted loss). Dividing by B rather than by the sum of weights
    keeps DDP's gradient averaging equal to one large batch. The validation loss
    uses the same class weights and smoothing and no sample weights.
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        *,
        run_dir: str | PathLike[str] | None = None,
        on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
        augment: Callable[[dict[str, torch.Tensor], torch.Generator], dict[str, torch.Tensor]]
        | None = None,
    ) -> None:
        self.model = model
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.on_epoch_end = on_epoch_end
        self.augment = augment
        self.history = History(monitor=config.monitor)
        #: Epochs already done when the last ``fit`` began (> 0 after a resume).
        self.start_epoch = 0
        #: Wall and CPU seconds of training spent by earlier processes, up to the
        #: checkpoint the last ``fit`` resumed from (0 without a resume).
        self.earlier_seconds = {"wall": 0.0, "cpu": 0.0}
        #: Of the epochs before the resumed checkpoint, how many no process kept the time
        #: of (checkpoints written before they carried ``elapsed_seconds``).
        self.untimed_epochs = 0
        self._clock = (0.0, 0.0)
        self._squeeze_output = False

    # ------------------------------------------------------------------ public
    @property
    def device(self) -> torch.device:
        """The device training runs on (``cuda:LOCAL_RANK`` under DDP on GPUs)."""
        choice = self.config.device
        if choice == "auto":
            choice = "cuda" if torch.cuda.is_available() else "cpu"
        if choice == "cuda":
            if not torch.cuda.is_available():
                raise TrainingError("device='cuda' but torch sees no CUDA device; use 'auto'")
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("cpu")

    @property
    def checkpoint_dir(self) -> Path | None:
        """``run_dir / "checkpoint"`` (None without a run directory)."""
        return self.run_dir / "checkpoint" if self.run_dir is not None else None

    def fit(
        self,
        train_arrays: Mapping[str, np.ndarray],
        train_targets: np.ndarray,
        val_arrays: Mapping[str, np.ndarray] | None = None,
        val_targets: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> History:
        """Train, resuming from ``run_dir``'s checkpoint when there is one.

        Parameters
        ----------
        train_arrays : mapping of str to ndarray
            Model inputs, (N, ...) each.
        train_targets : ndarray
            (N,) class indices, or (N,) / (N, k) regression values.
        val_arrays, val_targets : optional
            Validation set: metrics every epoch, early stopping, best weights.
        sample_weight : ndarray, optional
            (N,) weight of every training row in the loss.

        Returns
        -------
        History
            Also kept as ``self.history``.

        Raises
        ------
        DataError
            For inputs that do not fit (lengths, NaN in a batch, class index out of
            range, a checkpoint made with other options or data).
        TrainingError
            When the loss stops being finite.
        """
        cfg = self.config
        if (val_arrays is None) != (val_targets is None):
            raise DataError("pass both val_arrays and val_targets, or neither")
        has_val = val_arrays is not None
        if cfg.monitor != "train_loss" and not has_val and cfg.early_stopping_patience:
            raise DataError(
                f"early stopping monitors {cfg.monitor!r} but no validation data were given; "
                "pass val_arrays/val_targets or set monitor='train_loss'"
            )
        train = ArrayDataset(train_arrays, train_targets, sample_weight)
        val = ArrayDataset(val_arrays, val_targets) if has_val else None
        self._check_targets(train.targets, "train")
        if val is not None:
            self._check_targets(val.targets, "validation")
        targets = np.asarray(train_targets)
        self._squeeze_output = cfg.task == "regression" and targets.ndim == 1
        input_keys = self._input_keys(train)
        monitored = cfg.monitor if (has_val or cfg.monitor == "train_loss") else None

        device = self.device
        module = self.model.to(device)
        self.history = History(monitor=cfg.monitor)
        optimizer = self._make_optimizer(module)
        scheduler = self._make_scheduler(optimizer)
        loader = make_loader(
            train,
            cfg.batch_size,
            shuffle=True,
            seed=cfg.seed,
            num_workers=cfg.num_workers,
            pin_memory=device.type == "cuda",
        )
        run = _RunState(module, optimizer, scheduler, loader, data_fingerprint(train, val))
        if cfg.ema_decay is not None:
            run.ema = _Ema(module, cfg.ema_decay)
        self.earlier_seconds = {"wall": 0.0, "cpu": 0.0}
        self.untimed_epochs = 0
        self._clock = (time.perf_counter(), time.process_time())
        resumed = self._load_checkpoint(run)
        if not resumed:
            seed_everything(cfg.seed, deterministic=cfg.deterministic)
        elif cfg.deterministic:
            _deterministic_algorithms()
        net: nn.Module = module
        if is_distributed():
            # find_unused_parameters: a net may hold parameters its forward never uses
            # (kang2023_compound keeps its RNN's own head so that a trained RNN loads
            # strictly); DDP would otherwise wait for their gradients and fail.
            net = nn.parallel.DistributedDataParallel(
                module,
                device_ids=[device.index] if device.type == "cuda" else None,
                find_unused_parameters=True,
            )
        criterion_weight = (
            torch.tensor(cfg.class_weights, dtype=torch.float32, device=device)
            if cfg.class_weights is not None
            else None
        )

        epoch = self.start_epoch = len(self.history)
        while epoch < self._last_epoch() and not self.history.stopped_early:
            epoch_start = _cpu_seconds()
            set_epoch(loader, epoch)
            net.train()
            record: dict[str, float] = {
                "epoch": epoch + 1,
                "lr": float(optimizer.param_groups[0]["lr"]),
                "train_loss": self._train_epoch(
                    net, module, loader, optimizer, criterion_weight, input_keys, epoch, run.ema
                ),
            }
            if cfg.precise_bn_batches is not None:
                with _averaged(module, run.ema):
                    refresh_batch_norm(module, loader, input_keys, cfg.precise_bn_batches)
                    if run.ema is not None:
                        run.ema.take_buffers(module)
            if val is not None:
                with _averaged(module, run.ema):
                    record.update(self._evaluate(module, val, criterion_weight, input_keys))
            epoch += 1
            if cfg.budget_seconds is not None and self.history.planned_epochs is None:
                # every rank plans the same length from the mean time of the first epoch
                spent = sum_over_processes(_cpu_seconds() - epoch_start) / process_count()
                self.history.planned_epochs = budget_epochs(
                    cfg.budget_seconds, spent, cfg.max_epochs
                )
            self._end_epoch(record, monitored, run)
            if self.run_dir is not None:
                if process_rank() == 0:
                    self._save_checkpoint(run)
                barrier()
            if self.on_epoch_end is not None:
                self.on_epoch_end(epoch, record)

        if cfg.restore_best and run.best_state is not None:
            module.load_state_dict(run.best_state)
        elif run.ema is not None:
            module.load_state_dict(run.ema.state)
        return self.history

    def predict(
        self, arrays: Mapping[str, np.ndarray], *, batch_size: int | None = None
    ) -> np.ndarray:
        """Class probabilities (softmax, (N, C)) or regression values ((N,) or (N, k)).

        Every rank predicts all rows under DDP (prediction needs no process group).
        """
        data = ArrayDataset(arrays)
        module = self.model.to(self.device)
        outputs = self._forward_all(module, data, self._input_keys(data), batch_size)
        if self.config.task == "classification":
            outputs = torch.softmax(outputs, dim=1)
        elif self._squeeze_output and outputs.ndim == 2 and outputs.shape[1] == 1:
            outputs = outputs[:, 0]
        return outputs.numpy()

    def predict_with_embedding(
        self, arrays: Mapping[str, np.ndarray], *, batch_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict`'s output and each row's embedding: the input of the output layer.

        The output layer is the model's last ``nn.Linear`` whose width is the number
        of outputs; its input is the representation the classes are read from
        (used for distance-based unknown-class scores).
        """
        module = self.model.to(self.device)
        head = output_layer(module)
        captured: list[torch.Tensor] = []
        handle = head.register_forward_hook(
            lambda _m, args, _out: captured.append(args[0].detach().float().cpu())
        )
        try:
            data = ArrayDataset(arrays)
            outputs = self._forward_all(module, data, self._input_keys(data), batch_size)
        finally:
            handle.remove()
        if self.config.task == "classification":
            outputs = torch.softmax(outputs, dim=1)
        elif self._squeeze_output and outputs.ndim == 2 and outputs.shape[1] == 1:
            outputs = outputs[:, 0]
        embedding = torch.cat(captured).reshape(len(outputs), -1)
        return outputs.numpy(), embedding.numpy()

    # ------------------------------------------------------------------ steps
    def _train_epoch(
        self,
        net: nn.Module,
        module: nn.Module,
        loader: torch.utils.data.DataLoader,
        optimizer: torch.optim.Optimizer,
        class_weight: torch.Tensor | None,
        input_keys: tuple[str, ...],
        epoch: int,
        ema: _Ema | None = None,
    ) -> float:
        device = self.device
        total = torch.zeros((), dtype=torch.float64)
        count = torch.zeros((), dtype=torch.float64)
        check_keys = (*input_keys, TARGET_KEY)
        reg = getattr(module, "regularization_loss", None)
        generator = None
        if self.augment is not None:
            generator = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch)
        for step, batch in enumerate(loader):
            keys = (*check_keys, WEIGHT_KEY) if WEIGHT_KEY in batch else check_keys
            check_batch(batch, keys)
            if generator is not None:
                batch = {**batch, **self.augment({k: batch[k] for k in input_keys}, generator)}
            inputs = {k: batch[k].to(device, non_blocking=True) for k in input_keys}
            target = batch[TARGET_KEY].to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            output = net(inputs)
            if step == 0:
                self._check_output(output, target)
            per_sample = self._per_sample_loss(output, target, class_weight)
            if WEIGHT_KEY in batch:
                per_sample = per_sample * batch[WEIGHT_KEY].to(device, non_blocking=True)
            loss = per_sample.mean()
            if callable(reg):
                loss = loss + reg()
            value = loss.detach().to("cpu", torch.float64)
            if not torch.isfinite(value):
                lr = optimizer.param_groups[0]["lr"]
                raise TrainingError(
                    f"the loss became {float(value)} at epoch {epoch + 1}, step {step + 1}, "
                    f"learning rate {lr:.3g}; lower lr, set grad_clip, or check the inputs' "
                    "scale (the checkpoint of the last finished epoch is kept)"
                )
            loss.backward()
            if self.config.grad_clip is not None:
                nn.utils.clip_grad_norm_(module.parameters(), self.config.grad_clip)
            optimizer.step()
            if ema is not None:
                ema.update(module)
            total += value * len(target)
            count += len(target)
        if is_distributed():
            both = torch.stack([total, count])
            torch.distributed.all_reduce(both)
            total, count = both[0], both[1]
        return float(total / count)

    def _per_sample_loss(
        self, output: torch.Tensor, target: torch.Tensor, class_weight: torch.Tensor | None
    ) -> torch.Tensor:
        if self.config.task == "classification":
            return F.cross_entropy(
                output,
                target,
                weight=class_weight,
                label_smoothing=self.config.label_smoothing,
                reduction="none",
            )
        target = target.reshape(output.shape) if target.ndim == 1 else target
        return F.mse_loss(output, target, reduction="none").reshape(len(output), -1).mean(dim=1)

    def _check_output(self, output: torch.Tensor, target: torch.Tensor) -> None:
        if output.ndim != 2:
            raise DataError(f"the model must return (B, num_outputs), got {tuple(output.shape)}")
        if self.config.task == "classification":
            n = output.shape[1]
            if self.config.class_weights is not None and len(self.config.class_weights) != n:
                raise DataError(
                    f"class_weights has {len(self.config.class_weights)} values for a model "
                    f"with {n} outputs; give one weight per class"
                )
            if int(target.max()) >= n:
                raise DataError(
                    f"class index {int(target.max())} is out of range for a model with {n} "
                    "outputs; build the model with num_outputs = number of classes"
                )
        elif output[0].numel() != target[0].numel():
            raise DataError(
                f"the model gives {output.shape[1]} outputs per row for "
                f"{target[0].numel()} target values"
            )

    @torch.no_grad()
    def _forward_all(
        self,
        module: nn.Module,
        data: ArrayDataset,
        input_keys: tuple[str, ...],
        batch_size: int | None = None,
    ) -> torch.Tensor:
        loader = make_loader(
            data,
            batch_size or self.config.batch_size,
            shuffle=False,
            seed=self.config.seed,
            distributed=False,
        )
        set_epoch(loader, 0)
        was_training = module.training
        module.eval()
        outputs = []
        try:
            for batch in loader:
                check_batch(batch, input_keys)
                inputs = {k: batch[k].to(self.device, non_blocking=True) for k in input_keys}
                outputs.append(module(inputs).detach().float().cpu())
        finally:
            module.train(was_training)
        return torch.cat(outputs)

    def _evaluate(
        self,
        module: nn.Module,
        val: ArrayDataset,
        class_weight: torch.Tensor | None,
        input_keys: tuple[str, ...],
    ) -> dict[str, float]:
        output = self._forward_all(module, val, input_keys)
        assert val.targets is not None
        target = torch.from_numpy(val.targets)
        cw = class_weight.cpu() if class_weight is not None else None
        out = {"val_loss": float(self._per_sample_loss(output, target, cw).double().mean())}
        if self.config.task == "classification":
            pred = output.argmax(dim=1).numpy()
            truth = val.targets
            out["val_accuracy"] = float(np.mean(pred == truth))
            recalls = [np.mean(pred[truth == c] == c) for c in np.unique(truth)]
            out["val_balanced_accuracy"] = float(np.mean(recalls))
        else:
            residual = output.double() - target.reshape(output.shape).double()
            out["val_mae"] = float(residual.abs().mean())
            out["val_rmse"] = float(residual.pow(2).mean().sqrt())
        return out

    def _end_epoch(
        self,
        record: dict[str, float],
        monitored: str | None,
        run: _RunState,
    ) -> None:
        cfg = self.config
        self.history.records.append(record)
        value = record.get(monitored) if monitored else None
        if value is not None:
            best = self.history.best_value
            sign = 1.0 if cfg.resolved_mode == "min" else -1.0
            if best is None or sign * (best - value) > cfg.min_delta:
                self.history.best_value = value
                self.history.best_epoch = int(record["epoch"])
                run.best_state = _cpu_state(run.module) if run.ema is None else run.ema.cpu_state()
                run.bad_epochs = 0
            else:
                run.bad_epochs += 1
            patience = cfg.early_stopping_patience
            if patience is not None and run.bad_epochs >= patience:
                self.history.stopped_early = True
        if run.scheduler is not None:
            if isinstance(run.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                run.scheduler.step(record["train_loss"] if value is None else value)
            else:
                run.scheduler.step()
        log.info("epoch %s: %s", record["epoch"], _format_record(record))

    def _last_epoch(self) -> int:
        """Epochs of the run: those the budget allows once known, else ``max_epochs``."""
        return self.history.planned_epochs or self.config.max_epochs

    # ------------------------------------------------------------------ builders
    def _input_keys(self, data: ArrayDataset) -> tuple[str, ...]:
        wanted = getattr(self.model, "input_keys", None)
        if wanted is None:
            return data.keys
        missing = [k for k in wanted if k not in data.arrays]
        if missing:
            raise DataError(
                f"the model reads {list(wanted)} but the arrays lack {missing}; "
                f"they hold {list(data.keys)}"
            )
        return tuple(wanted)

    def _check_targets(self, targets: np.ndarray | None, which: str) -> None:
        assert targets is not None
        if self.config.task == "classification":
            if targets.dtype != np.int64 or targets.ndim != 1:
                raise DataError(
                    f"{which} targets must be 1-D integer class indices for classification, "
                    f"got {targets.dtype} of shape {targets.shape}; map labels to 0..C-1 first"
                )
            if targets.size and targets.min() < 0:
                raise DataError(f"{which} targets hold negative class indices")
        elif not np.all(np.isfinite(targets)):
            bad = np.flatnonzero(~np.isfinite(targets.reshape(len(targets), -1)).all(axis=1))
            raise DataError(f"{which} targets are NaN or inf in rows {bad[:10].tolist()}")

    def _make_optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        cfg = self.config
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(
                module.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
            )
        cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[cfg.optimizer]
        return cls(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def _make_scheduler(self, optimizer: torch.optim.Optimizer) -> Any:
        cfg = self.config
        sched = torch.optim.lr_scheduler
        if cfg.budget_seconds is not None and cfg.scheduler in ("cosine", "cosine_warmup"):
            # the length is known only after the first epoch, whose factor does not need it
            warmup = cfg.warmup_epochs if cfg.scheduler == "cosine_warmup" else 0
            return sched.LambdaLR(
                optimizer, lambda epoch: cosine_factor(epoch, warmup, self._last_epoch())
            )
        builders: dict[str | None, Callable[[], Any]] = {
            None: lambda: None,
            "cosine": lambda: sched.CosineAnnealingLR(optimizer, T_max=cfg.max_epochs),
            "cosine_warmup": lambda: _cosine_warmup(optimizer, cfg.warmup_epochs, cfg.max_epochs),
            "step": lambda: sched.StepLR(
                optimizer, step_size=cfg.scheduler_step_size, gamma=cfg.scheduler_gamma
            ),
            "plateau": lambda: sched.ReduceLROnPlateau(
                optimizer,
                mode=cfg.resolved_mode if cfg.monitor != "train_loss" else "min",
                factor=cfg.scheduler_gamma,
                patience=cfg.scheduler_patience,
            ),
        }
        return builders[cfg.scheduler]()

    # ------------------------------------------------------------------ checkpoints
    def _save_checkpoint(self, run: _RunState) -> None:
        assert self.checkpoint_dir is not None
        tensors: dict[str, torch.Tensor] = {}
        for name, value in run.module.state_dict().items():
            tensors[f"model.{name}"] = value.detach().cpu().contiguous().clone()
        if run.best_state is not None:
            for name, value in run.best_state.items():
                tensors[f"best_model.{name}"] = value.contiguous().clone()
        if run.ema is not None:
            for name, value in run.ema.cpu_state().items():
                tensors[f"ema.{name}"] = value.contiguous()
        state = {
            "config": self.config.model_dump(mode="json"),
            "data": run.fingerprint,
            "history": encode_state(self.history.to_dict(), tensors, "history"),
            "bad_epochs": run.bad_epochs,
            "ema_steps": run.ema.steps if run.ema is not None else None,
            "optimizer": encode_state(run.optimizer.state_dict(), tensors, "optimizer"),
            "scheduler": encode_state(
                run.scheduler.state_dict() if run.scheduler is not None else None,
                tensors,
                "scheduler",
            ),
            "rng": encode_state(rng_states(run.loader.generator), tensors, "rng"),
            "elapsed_seconds": {  # of every process that trained this run, to this epoch
                "wall": self.earlier_seconds["wall"] + time.perf_counter() - self._clock[0],
                "cpu": self.earlier_seconds["cpu"] + time.process_time() - self._clock[1],
            },
            "untimed_epochs": self.untimed_epochs,
        }
        write_checkpoint(self.checkpoint_dir, len(self.history), state, tensors)

    def _load_checkpoint(self, run: _RunState) -> bool:
        found = read_checkpoint(self.checkpoint_dir) if self.checkpoint_dir is not None else None
        if found is None:
            return False
        doc, tensors = found
        assert self.run_dir is not None
        check_resumable(
            doc, self.config.model_dump(mode="json"), run.fingerprint, run_dir=self.run_dir
        )
        run.module.load_state_dict(prefixed(tensors, "model."))
        run.best_state = prefixed(tensors, "best_model.") or None
        run.bad_epochs = int(doc["bad_epochs"])
        if run.ema is not None:
            run.ema.load(prefixed(tensors, "ema."), int(doc["ema_steps"]))
        elapsed = doc.get("elapsed_seconds")  # absent from older checkpoints
        self.earlier_seconds = {k: float((elapsed or {}).get(k, 0.0)) for k in ("wall", "cpu")}
        self.untimed_epochs = (
            int(doc.get("untimed_epochs", 0)) if elapsed is not None else int(doc["epochs_done"])
        )
        self.history = History.from_dict(decode_state(doc["history"], tensors))
        run.optimizer.load_state_dict(decode_state(doc["optimizer"], tensors))
        if run.scheduler is not None:
            run.scheduler.load_state_dict(decode_state(doc["scheduler"], tensors))
        restore_rng_states(decode_state(doc["rng"], tensors), run.loader.generator)
        log.info("resumed %s after epoch %d", self.run_dir, len(self.history))
        return True


@dataclass
class _RunState:
    """What one ``fit`` carries from epoch to epoch besides the history (all checkpointed)."""

    module: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    loader: torch.utils.data.DataLoader
    fingerprint: dict[str, Any]
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs: int = 0
    ema: _Ema | None = None


class _Ema:
    """Exponential moving average of a module's state: weights and batch-norm statistics."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay, self.steps = decay, 0
        self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for name, value in module.state_dict().items():
            mine = self.state[name]
            if mine.is_floating_point():
                mine.lerp_(value.detach(), 1.0 - decay)
            else:  # counters such as num_batches_tracked
                mine.copy_(value)

    def cpu_state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().clone() for k, v in self.state.items()}

    @torch.no_grad()
    def take_buffers(self, module: nn.Module) -> None:
        """Copy ``module``'s buffers (batch-norm statistics) into the average."""
        for name, value in module.named_buffers():
            self.state[name].copy_(value)

    def load(self, state: Mapping[str, torch.Tensor], steps: int) -> None:
        for name, value in state.items():
            self.state[name].copy_(value)
        self.steps = steps


@contextmanager
def _averaged(module: nn.Module, ema: _Ema | None) -> Iterator[None]:
    """``module`` holds ``ema``'s averaged state inside the block (no change without one)."""
    if ema is None:
        yield
        return
    live = _cpu_state(module)
    module.load_state_dict(ema.state)
    try:
        yield
    finally:
        module.load_state_dict(live)


# ---------------------------------------------------------------------- helpers
@torch.no_grad()
def refresh_batch_norm(
    module: nn.Module,
    loader: torch.utils.data.DataLoader,
    input_keys: tuple[str, ...],
    batches: int,
) -> int:
    """Estimate ``module``'s batch-norm statistics afresh from ``batches`` of ``loader``.

    Each batch-norm layer's running mean and variance are reset and replaced by the
    plain average over the batches, computed in training mode with the weights
    unchanged ("precise BN", Wu & Johnson 2021); under DDP the ranks' averages are
    averaged in turn. ``module``'s mode and momenta are restored.

    Parameters
    ----------
    module : nn.Module
        The network (not its DDP wrapper: each rank estimates on its own batches).
    loader : DataLoader
        Of dict batches holding ``input_keys``, e.g. the training loader.
    input_keys : tuple of str
        The batch entries the network reads.
    batches : int
        How many batches to average over (fewer when the loader has fewer).

    Returns
    -------
    int
        The batch-norm layers refreshed (0: nothing to do, nothing run).

    Examples
    --------
    >>> from skyclass.training import ArrayDataset, make_loader, set_epoch
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.norm = nn.BatchNorm1d(2)
    ...     def forward(self, batch):
    ...         return self.norm(batch["x"])
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], dtype=np.float32)
    >>> loader = make_loader(ArrayDataset({"x": x}), 2, shuffle=False, seed=0)
    >>> set_epoch(loader, 0)
    >>> net = Net()
    >>> refresh_batch_norm(net, loader, ("x",), batches=1)
    1
    >>> net.norm.running_mean.tolist(), net.norm.momentum, net.training
    ([2.0, 20.0], 0.1, True)
    """
    layers = [
        m
        for m in module.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    ]
    if not layers:
        return 0
    momenta = [m.momentum for m in layers]
    was_training = module.training
    device = next(module.parameters()).device
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
    module.train()
    try:
        for i, batch in enumerate(loader):
            if i >= batches:
                break
            module({k: batch[k].to(device, non_blocking=True) for k in input_keys})
    finally:
        for m, momentum in zip(layers, momenta, strict=True):
            m.momentum = momentum
        module.train(was_training)
    if is_distributed():
        for m in layers:
            for stat in (m.running_mean, m.running_var):
                torch.distributed.all_reduce(stat)
                stat /= process_count()
    return len(layers)


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def output_layer(model: nn.Module) -> nn.Linear:
    """The model's output layer: its last ``nn.Linear`` (in registration order).

    Raises
    ------
    TypeError
        If the model has no ``nn.Linear``.
    """
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise TypeError(f"{type(model).__name__} has no nn.Linear output layer")
    return linears[-1]


def _cosine_warmup(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> Any:
    """Linear warm-up over ``warmup`` epochs, then cosine annealing to zero at ``total``."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda epoch: cosine_factor(epoch, warmup, total)
    )


def cosine_factor(epoch: int, warmup: int, total: int) -> float:
    """Learning-rate factor of 0-based ``epoch``: linear warm-up, then cosine to zero at ``total``.

    Examples
    --------
    >>> [round(cosine_factor(e, 1, 4), 3) for e in range(5)]
    [0.5, 1.0, 0.75, 0.25, 0.0]
    >>> [round(cosine_factor(e, 0, 2), 3) for e in range(3)]
    [1.0, 0.5, 0.0]
    """
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    span = max(total - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(epoch - warmup, span) / span))


def budget_epochs(budget_seconds: float, epoch_seconds: float, max_epochs: int) -> int:
    """Whole epochs of ``epoch_seconds`` that fit in a budget: 1 at least, ``max_epochs`` at most.

    Examples
    --------
    >>> [budget_epochs(100.0, cost, 60) for cost in (30.0, 150.0, 1.0)]
    [3, 1, 60]
    """
    if epoch_seconds <= 0:
        return max_epochs
    return max(1, min(max_epochs, math.floor(budget_seconds / epoch_seconds)))


def _cpu_seconds() -> float:
    """CPU seconds of this process so far (all threads): the clock of ``budget_seconds``."""
    return time.process_time()


def _format_record(record: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in record.items() if k != "epoch")
