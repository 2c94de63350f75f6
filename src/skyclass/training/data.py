"""Arrays to dict batches: a dataset over numpy arrays, a seeded loader, a batch check.

A batch is a dict of torch tensors: the model's inputs (``seq``, ``mask``,
``features``… as float32), plus the reserved keys ``target`` (int64 class
indices, or float32 values), ``sample_weight`` (float32, when given) and
``index`` (int64 rows of the dataset, so an error can name them).

The order of every epoch is a pure function of ``(seed, epoch)``: the loader
draws its batches through a :class:`torch.utils.data.DistributedSampler`
(one replica when no process group is initialised) whose permutation is
``torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))``.
Calling :func:`set_epoch` before each epoch is all a resumed run needs to
see the same batches as an uninterrupted one.

Examples
--------
>>> import numpy as np
>>> data = ArrayDataset({"features": np.ones((5, 3))}, targets=np.array([0, 1, 0, 1, 1]))
>>> loader = make_loader(data, batch_size=2, shuffle=True, seed=0)
>>> set_epoch(loader, 0)
>>> batch = next(iter(loader))
>>> sorted(batch), batch["features"].dtype, batch["target"].dtype
(['features', 'index', 'target'], torch.float32, torch.int64)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, DistributedSampler

from skyclass.exceptions import DataError
from skyclass.training.distributed import is_distributed

__all__ = [
    "INDEX_KEY",
    "RESERVED_KEYS",
    "TARGET_KEY",
    "WEIGHT_KEY",
    "ArrayDataset",
    "check_batch",
    "make_loader",
    "set_epoch",
]

TARGET_KEY = "target"
WEIGHT_KEY = "sample_weight"
INDEX_KEY = "index"
RESERVED_KEYS = frozenset({TARGET_KEY, WEIGHT_KEY, INDEX_KEY})


class ArrayDataset(Dataset):
    """Rows of a dict of numpy arrays, served as dict batches of torch tensors.

    Parameters
    ----------
    arrays : mapping of str to array_like
        Model inputs, each of shape (N, ...); stored as contiguous float32 (a copy
        when the input is of another type, so the caller's arrays are never touched).
    targets : array_like, optional
        (N,) or (N, k). Integer targets (class indices) become int64, others float32.
    sample_weight : array_like, optional
        (N,) non-negative finite weight of every row.

    Raises
    ------
    DataError
        When a key is reserved, the arrays disagree in length, or the weights are
        negative or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> data = ArrayDataset({"features": np.arange(6.0).reshape(3, 2)}, targets=[2, 0, 1])
    >>> len(data), data[np.array([2, 0])]["features"].tolist()
    (3, [[4.0, 5.0], [0.0, 1.0]])
    """

    def __init__(
        self,
        arrays: Mapping[str, Any],
        targets: Any | None = None,
        sample_weight: Any | None = None,
    ) -> None:
        if not arrays:
            raise DataError("no input arrays given; pass e.g. {'features': X}")
        clash = sorted(RESERVED_KEYS.intersection(arrays))
        if clash:
            raise DataError(
                f"input names {clash} are reserved for the batch's own entries; rename them"
            )
        self.arrays: dict[str, np.ndarray] = {
            str(k): np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()
        }
        lengths = {k: (v.shape[0] if v.ndim else 0) for k, v in self.arrays.items()}
        self.targets: np.ndarray | None = None
        if targets is not None:
            t = np.asarray(targets)
            if np.issubdtype(t.dtype, np.integer) or np.issubdtype(t.dtype, np.bool_):
                t = t.astype(np.int64)
            else:
                t = t.astype(np.float32)
            self.targets = np.ascontiguousarray(t)
            lengths[TARGET_KEY] = t.shape[0] if t.ndim else 0
        self.sample_weight: np.ndarray | None = None
        if sample_weight is not None:
            w = np.ascontiguousarray(sample_weight, dtype=np.float32)
            if w.ndim != 1:
                raise DataError(f"sample_weight must be 1-D, got shape {w.shape}")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
                raise DataError(
                    f"sample_weight must be finite and >= 0; rows {_rows_text(bad)} are not"
                )
            self.sample_weight = w
            lengths[WEIGHT_KEY] = w.shape[0]
        if len(set(lengths.values())) != 1:
            raise DataError(
                f"arrays must share their first dimension (one row per object), got {lengths}"
            )
        self._length = next(iter(lengths.values()))

    def __len__(self) -> int:
        return self._length

    @property
    def keys(self) -> tuple[str, ...]:
        """Names of the input arrays."""
        return tuple(self.arrays)

    def __getitem__(self, index: int | Sequence[int] | np.ndarray) -> dict[str, torch.Tensor]:
        """One row (int) or a batch of rows (sequence of ints) as a dict of tensors."""
        idx = np.asarray(index, dtype=np.int64)
        out = {k: torch.from_numpy(np.array(v[idx])) for k, v in self.arrays.items()}
        if self.targets is not None:
            out[TARGET_KEY] = torch.from_numpy(np.array(self.targets[idx]))
        if self.sample_weight is not None:
            out[WEIGHT_KEY] = torch.from_numpy(np.array(self.sample_weight[idx]))
        out[INDEX_KEY] = torch.from_numpy(np.array(idx))
        return out


def _passthrough(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The dataset already returns a collated batch (module level: workers pickle it)."""
    return batch


def make_loader(
    dataset: ArrayDataset,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    num_workers: int = 0,
    drop_last: bool = False,
    distributed: bool | None = None,
    pin_memory: bool = False,
) -> DataLoader:
    """A loader of dict batches whose order depends only on ``seed`` and the epoch.

    Parameters
    ----------
    dataset : ArrayDataset
    batch_size : int
        Rows per batch (per process when distributed).
    shuffle : bool
        Permute the rows every epoch (call :func:`set_epoch` before each one).
    seed : int
        Seed of the permutation and of the loader's own ``torch.Generator`` (which
        seeds worker processes), so loading never draws from torch's global RNG.
    num_workers : int
        Worker processes of the :class:`~torch.utils.data.DataLoader`.
    drop_last : bool
        Drop the last incomplete batch.
    distributed : bool, optional
        Shard the rows over the processes of the initialised ``torch.distributed``
        group (each process sees ``1 / world_size`` of every epoch); by default
        whenever a group is initialised. Pass ``False`` for evaluation on every rank.
    pin_memory : bool
        Pin host memory (for CUDA).

    Returns
    -------
    torch.utils.data.DataLoader
        With ``batch_size=None``: a :class:`~torch.utils.data.BatchSampler` over a
        :class:`~torch.utils.data.DistributedSampler` hands whole index batches to
        the dataset, which slices its arrays once per batch.

    Examples
    --------
    >>> import numpy as np
    >>> data = ArrayDataset({"features": np.zeros((10, 1))})
    >>> loader = make_loader(data, batch_size=4, shuffle=True, seed=1)
    >>> set_epoch(loader, 3)
    >>> first = [b["index"].tolist() for b in loader]
    >>> set_epoch(loader, 3)
    >>> first == [b["index"].tolist() for b in loader], sorted(sum(first, []))
    (True, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if distributed is None:
        distributed = is_distributed()
    if distributed and is_distributed():
        replicas, rank = torch.distributed.get_world_size(), torch.distributed.get_rank()
    else:
        replicas, rank = 1, 0
    # With one replica DistributedSampler is a plain seeded (seed + epoch) permutation,
    # so single-process and distributed runs share one code path and one order rule.
    sampler = DistributedSampler(
        dataset, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed, drop_last=False
    )
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=None,
        sampler=BatchSampler(sampler, batch_size=batch_size, drop_last=drop_last),
        num_workers=num_workers,
        collate_fn=_passthrough,
        generator=generator,
        pin_memory=pin_memory,
    )


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Fix the permutation of ``loader`` (from :func:`make_loader`) to that of ``epoch``."""
    sampler = getattr(loader.sampler, "sampler", loader.sampler)
    if not hasattr(sampler, "set_epoch"):
        raise TypeError("set_epoch needs a loader made by skyclass.training.make_loader")
    sampler.set_epoch(epoch)


def check_batch(batch: Mapping[str, torch.Tensor], keys: Iterable[str] | None = None) -> None:
    """Raise a :class:`DataError` naming the key and rows of any NaN or inf in ``batch``.

    Parameters
    ----------
    batch : mapping of str to torch.Tensor
        A batch from :class:`ArrayDataset`; its ``index`` entry, when present, turns
        batch positions into dataset rows in the message.
    keys : iterable of str, optional
        Entries to check (default: every floating-point entry).

    Examples
    --------
    >>> import torch
    >>> batch = {"seq": torch.tensor([[0.0, 1.0], [float("nan"), 2.0]]),
    ...          "index": torch.tensor([7, 9])}
    >>> check_batch(batch)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: input 'seq' holds NaN or inf in dataset rows [9] ...
    """
    names = list(batch) if keys is None else list(keys)
    for key in names:
        if key not in batch:
            raise DataError(f"the batch has no entry {key!r}; it holds {sorted(batch)}")
        value = batch[key]
        if not torch.is_floating_point(value) or value.numel() == 0:
            continue
        flat = value.reshape(value.shape[0], -1) if value.ndim > 1 else value.reshape(-1, 1)
        bad = ~torch.isfinite(flat).all(dim=1)
        if bool(bad.any()):
            positions = torch.nonzero(bad).flatten().cpu()
            index = batch.get(INDEX_KEY)
            rows = index.cpu()[positions] if index is not None else positions
            where = "dataset rows" if index is not None else "batch positions"
            raise DataError(
                f"input {key!r} holds NaN or inf in {where} {_rows_text(rows.numpy())} "
                "(checked before the loss); clean or drop those objects, and fill masked "
                "positions with 0 rather than NaN"
            )


def _rows_text(rows: np.ndarray, limit: int = 10) -> str:
    shown = [int(r) for r in rows[:limit]]
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{shown}{more}"
