"""Checkpoints of a training run: a JSON state tree beside a safetensors file, no pickle.

Layout (``run_dir/checkpoint/``)::

    state.json                 the commit point, replaced atomically (tmp + rename):
                               format, epochs done, config, history, best metric
                               and epoch, epochs without improvement, data
                               fingerprint, the optimizer and scheduler state
                               trees, RNG states (python, numpy, torch, CUDA, the
                               train loader's generator) and the tensor file's name
    epoch-0003.safetensors     every tensor: ``model.*`` (weights now),
                               ``best_model.*`` (weights at the best epoch),
                               ``optimizer.*`` / ``scheduler.*`` (state tensors),
                               ``rng.*`` (torch / CUDA generator states)

State dicts are nested dicts, lists and tuples with tensors at the leaves; they
are split into a JSON tree whose tensor leaves read ``{"__tensor__": name}``
and a safetensors file holding those names (:func:`encode_state`,
:func:`decode_state`), so loading them never unpickles anything (stricter than
``torch.load(weights_only=True)``). The tensor file of an epoch is written first
under a new name; ``state.json`` is then replaced in one rename, so a crash at any
moment leaves the previous complete checkpoint.

What goes into a checkpoint is the :class:`~skyclass.training.Trainer`'s business;
this module writes, reads and checks it.
"""

from __future__ import annotations

import json
import math
import os
import random
import zlib
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skyclass._util import write_json
from skyclass.exceptions import DataError
from skyclass.training.data import ArrayDataset

__all__ = [
    "CHECKPOINT_FORMAT",
    "check_resumable",
    "data_fingerprint",
    "decode_state",
    "encode_state",
    "prefixed",
    "read_checkpoint",
    "restore_rng_states",
    "rng_states",
    "write_checkpoint",
]

CHECKPOINT_FORMAT = "skyclass-checkpoint/1"

# Options that may change between a run and its resumption without changing its result.
_RESUMABLE_CHANGES = frozenset({"device", "num_workers"})


def encode_state(obj: Any, tensors: dict[str, torch.Tensor], path: str) -> Any:
    """JSON tree of ``obj``; its tensors go to ``tensors`` under their path in the tree.

    Parameters
    ----------
    obj : object
        Nested dicts, lists and tuples of tensors, arrays, numbers, strings and None
        (an optimizer's ``state_dict()``, RNG states).
    tensors : dict
        Filled with the tensors found, by name.
    path : str
        Name of ``obj``: the prefix of its tensors' names.

    Examples
    --------
    >>> tensors = {}
    >>> tree = encode_state({"step": 3, "exp_avg": torch.zeros(2), "betas": (0.9, 0.99)},
    ...                     tensors, "optimizer")
    >>> tree
    {'step': 3, 'exp_avg': {'__tensor__': 'optimizer.exp_avg'}, 'betas': {'__tuple__': [0.9, 0.99]}}
    >>> decode_state(tree, tensors)["betas"], list(tensors)
    ((0.9, 0.99), ['optimizer.exp_avg'])
    """
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": path}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": obj.dtype.str}
    if isinstance(obj, bool | str | None):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else {"__float__": repr(float(obj))}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode_state(v, tensors, f"{path}.{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode_state(v, tensors, f"{path}.{i}") for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: encode_state(v, tensors, f"{path}.{k}") for k, v in obj.items()}
        return {
            "__items__": [
                [
                    encode_state(k, tensors, f"{path}.key{i}"),
                    encode_state(v, tensors, f"{path}.{k}"),
                ]
                for i, (k, v) in enumerate(obj.items())
            ]
        }
    raise TypeError(f"cannot checkpoint {type(obj).__name__} at {path!r} without pickle")


def decode_state(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Inverse of :func:`encode_state`."""
    if isinstance(obj, list):
        return [decode_state(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__ndarray__" in obj:
        return np.array(obj["__ndarray__"], dtype=np.dtype(obj["dtype"]))
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__tuple__" in obj:
        return tuple(decode_state(v, tensors) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {decode_state(k, tensors): decode_state(v, tensors) for k, v in obj["__items__"]}
    return {k: decode_state(v, tensors) for k, v in obj.items()}


def prefixed(tensors: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with ``prefix``, under the rest of their names.

    Examples
    --------
    >>> sorted(prefixed({"model.w": 1, "model.b": 2, "ema.w": 3}, "model."))
    ['b', 'w']
    """
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def rng_states(loader_generator: torch.Generator) -> dict[str, Any]:
    """Every random state a resumed run must continue from: python, numpy, torch, CUDA
    and the training loader's generator."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(legacy=False),  # noqa: NPY002 - saved, not drawn
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": loader_generator.get_state(),
    }


def restore_rng_states(states: Mapping[str, Any], loader_generator: torch.Generator) -> None:
    """Put back what :func:`rng_states` saved."""
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])  # noqa: NPY002 - restored, not drawn
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    loader_generator.set_state(states["loader"])


def data_fingerprint(train: ArrayDataset, val: ArrayDataset | None) -> dict[str, Any]:
    """Shapes and a CRC of the targets: enough to refuse resuming on other data."""

    def one(data: ArrayDataset) -> dict[str, Any]:
        assert data.targets is not None
        return {
            "rows": len(data),
            "shapes": {k: list(v.shape[1:]) for k, v in data.arrays.items()},
            "targets_crc32": zlib.crc32(data.targets.tobytes()),
            "weighted": data.sample_weight is not None,
        }

    return {"train": one(train), "val": one(val) if val is not None else None}


def write_checkpoint(
    folder: str | PathLike[str],
    epochs_done: int,
    state: Mapping[str, Any],
    tensors: Mapping[str, torch.Tensor],
) -> None:
    """Write the checkpoint after ``epochs_done`` epochs, replacing the previous one.

    Parameters
    ----------
    folder : path
        ``run_dir / "checkpoint"``; made when missing.
    epochs_done : int
        Names the tensor file (``epoch-0003.safetensors``).
    state : mapping
        The JSON part (made JSON by :func:`encode_state`); ``state.json`` holds it after
        the format, ``epochs_done`` and the tensor file's name.
    tensors : mapping of str to Tensor
        Contiguous CPU tensors: the tensor file.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensor_file = f"epoch-{epochs_done:04d}.safetensors"
    doc = {
        "format": CHECKPOINT_FORMAT,
        "epochs_done": epochs_done,
        "tensors": tensor_file,
        **state,
    }
    tmp = folder / f".{tensor_file}.tmp"
    save_file(dict(tensors), str(tmp), metadata={"format": CHECKPOINT_FORMAT})
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, folder / tensor_file)
    write_json(folder / "state.json", doc, indent=1, allow_nan=False, durable=True)
    for old in [*folder.glob("epoch-*.safetensors"), *folder.glob(".epoch-*.tmp")]:
        if old.name != tensor_file:  # older epochs, and files of an interrupted save
            old.unlink()


def read_checkpoint(
    folder: str | PathLike[str],
) -> tuple[dict[str, Any], dict[str, torch.Tensor]] | None:
    """``(state, tensors)`` of the checkpoint in ``folder``; None when there is none.

    Raises
    ------
    DataError
        If ``state.json`` is not a checkpoint of this format.
    """
    path = Path(folder) / "state.json"
    if not path.is_file():
        return None
    from safetensors.torch import load_file

    doc = json.loads(path.read_text())
    if doc.get("format") != CHECKPOINT_FORMAT:
        raise DataError(
            f"not a {CHECKPOINT_FORMAT} checkpoint (format {doc.get('format')!r})",
            source=str(path),
        )
    return doc, load_file(str(path.parent / doc["tensors"]))


def check_resumable(
    state: Mapping[str, Any],
    config: Mapping[str, Any],
    fingerprint: Mapping[str, Any],
    *,
    run_dir: str | PathLike[str],
) -> None:
    """Refuse to resume a run made with other options or on other data.

    Parameters
    ----------
    state : mapping
        The checkpoint's state, as :func:`read_checkpoint` returns it.
    config : mapping
        The options now (``TrainConfig.model_dump(mode="json")``); ``device`` and
        ``num_workers`` may differ, as they do not change the result.
    fingerprint : mapping
        :func:`data_fingerprint` of the data now.
    run_dir : path
        For the messages.

    Raises
    ------
    DataError
        Naming the options that changed, or the data fingerprints.
    """
    source = str(Path(run_dir) / "checkpoint" / "state.json")
    saved = state["config"]
    changed = sorted(
        k
        for k in set(config) | set(saved)
        if k not in _RESUMABLE_CHANGES and config.get(k) != saved.get(k)
    )
    if changed:
        raise DataError(
            f"the run in {run_dir} was made with other options ({', '.join(changed)}); "
            "use a new run_dir, or the same options to resume it",
            source=source,
        )
    if state["data"] != fingerprint:
        raise DataError(
            f"the run in {run_dir} was trained on other data ({state['data']} vs "
            f"{fingerprint}); use a new run_dir to train on these data",
            source=source,
        )
