"""Training on several processes with PyTorch's own engine (torchrun, DDP).

Launch with ``torchrun`` (``python -m torch.distributed.run --nproc_per_node 2
--standalone script.py``) and call :func:`join_process_group` in the script;
:meth:`skyclass.training.Trainer.fit` then wraps the model in
:class:`~torch.nn.parallel.DistributedDataParallel`, shards every epoch over the
ranks, averages the epoch loss over all of them, evaluates the (full) validation set
on every rank so that all ranks take the same early-stopping decision, and lets only
rank 0 write the checkpoint. ``gloo`` runs on CPUs, ``nccl`` on GPUs.

Every function here also works in a process started alone: it is then a group of one.
"""

from __future__ import annotations

import os

import torch

__all__ = [
    "barrier",
    "is_distributed",
    "is_main_process",
    "join_process_group",
    "process_count",
    "process_rank",
    "sum_over_processes",
]


def is_distributed() -> bool:
    """Whether this process is in an initialised process group.

    Examples
    --------
    >>> is_distributed()
    False
    """
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def process_rank() -> int:
    """This process's rank in the group (0 when alone)."""
    return torch.distributed.get_rank() if is_distributed() else 0


def barrier() -> None:
    """Wait for every process of the group (nothing to wait for when alone)."""
    if is_distributed():
        torch.distributed.barrier()


def join_process_group(backend: str = "gloo") -> int:
    """Join the process group ``torchrun`` describes; returns the number of processes.

    Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) this calls
    ``torch.distributed.init_process_group`` once, so that
    :meth:`skyclass.training.Trainer.fit` trains with
    :class:`~torch.nn.parallel.DistributedDataParallel`; a process started alone is
    left as it is. ``gloo`` runs on CPUs (``nccl`` for GPUs).

    Examples
    --------
    >>> join_process_group()  # not under torchrun
    1
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not is_distributed():
        torch.distributed.init_process_group(backend=backend)
    return process_count()


def process_count() -> int:
    """Processes training together (1 outside a process group)."""
    return torch.distributed.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Whether this process writes the results (rank 0, or a process alone)."""
    return process_rank() == 0


def sum_over_processes(value: float) -> float:
    """``value`` added up over the process group (itself when alone).

    Examples
    --------
    >>> sum_over_processes(2.5)
    2.5
    """
    if not is_distributed():
        return float(value)
    total = torch.tensor([float(value)], dtype=torch.float64)
    torch.distributed.all_reduce(total)
    return float(total.item())
