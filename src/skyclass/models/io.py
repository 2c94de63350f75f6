"""Save and load a trained model as plain files: safetensors weights + JSON, never pickle.

A model directory holds exactly these files:

==========================  ==================================================
``weights.safetensors``     the ``state_dict`` (safetensors, no code inside)
``config.json``             ``model.config``: registry name + keyword arguments
``classes.json``            class names in output order (``null`` for regression)
``preprocessing.json``      how inputs were made (cleaning, folding, representation)
``scaler.json``             feature scaler parameters (``FeatureScaler.to_dict``)
``card.json``               training data summary, metrics, provenance
==========================  ==================================================

A model that is not a network (the random forest of
:class:`skyclass.baselines.FeatureForest`) is stored the same way by
:func:`save_arrays` / :func:`load_arrays`: its numbers as named numpy arrays in
``weights.safetensors``, everything else in the JSON files.

``card.json`` records the SHA-256 of every other file (``saved.files_sha256``);
:func:`load_model` checks them, so a damaged file or one mixed in from another
save is named instead of silently giving other predictions (an integrity
check, not protection against someone who rewrites the card as well).

:func:`load_model` rebuilds the net with
:func:`skyclass.models.create_model` ``(**config)`` and loads the weights into
it, so it works for every registered model and nothing is unpickled: a model
file from a stranger cannot run code. The model must have been built with
``create_model`` (which sets ``model.config``), and the module registering a
model outside skyclass must be imported before loading it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skyclass._util import write_json
from skyclass.exceptions import DataError

__all__ = [
    "MODEL_FILES",
    "load_arrays",
    "load_model",
    "save_arrays",
    "save_model",
    "verify_model_files",
]

WEIGHTS = "weights.safetensors"
MODEL_FILES = (
    WEIGHTS,
    "config.json",
    "classes.json",
    "preprocessing.json",
    "scaler.json",
    "card.json",
)


class _Encoder(json.JSONEncoder):
    """JSON for the numpy (and torch) scalars and arrays that metrics are made of."""

    def default(self, o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        if isinstance(o, set | frozenset):
            return sorted(o, key=str)
        if hasattr(o, "tolist") and hasattr(o, "detach"):  # a torch tensor
            return o.detach().cpu().tolist()
        if isinstance(o, Mapping):
            return dict(o)
        return super().default(o)


def _write_model_json(path: Path, data: Any) -> None:
    try:
        write_json(path, data, default=_Encoder().default)
    except TypeError as exc:
        raise TypeError(f"cannot write {path.name}: {exc}; give JSON-able values") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _weights_for_file(model: Any) -> dict[str, Any]:
    """Detached, contiguous CPU tensors, each on its own storage.

    safetensors refuses two entries on one storage (tied weights, views), so
    every tensor after the first on a storage is copied.
    """
    seen: set[int] = set()
    out = {}
    for key, value in model.state_dict().items():
        t = value.detach().cpu()
        ptr = t.untyped_storage().data_ptr()
        if (ptr in seen and t.numel()) or not t.is_contiguous():
            t = t.contiguous().clone()
        seen.add(ptr)
        out[key] = t
    return out


def save_model(
    model: Any,
    directory: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    scaler: Any | None = None,
    card: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a model directory: safetensors weights plus JSON files.

    Parameters
    ----------
    model : torch.nn.Module
        Built by :func:`skyclass.models.create_model` (it needs ``model.config``).
    directory : path
        Created if needed.
    class_names : sequence of str, optional
        Class of each output column, in order (None for a regression model).
    preprocessing : mapping, optional
        JSON-able description of how inputs were made.
    scaler : FeatureScaler or mapping, optional
        A fitted scaler (anything with ``to_dict()``) or its dict.
    card : mapping, optional
        Training data summary, metrics, seeds. Numpy scalars and arrays are
        converted; a ``"saved"`` entry with provenance (versions, date, number
        of parameters, SHA-256 of the weights and of every other file) is added.
    overwrite : bool
        Replace an existing model in ``directory``; refused otherwise.

    Returns
    -------
    pathlib.Path
        The directory.

    Examples
    --------
    >>> import tempfile
    >>> from skyclass.models import create_model, register_model
    >>> @register_model("doc_io_linear", input_keys=("features",))
    ... def _linear(*, num_outputs=2, num_features=3):
    ...     import torch
    ...     return torch.nn.Linear(num_features, num_outputs)
    >>> model = create_model("doc_io_linear", num_features=4)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(model, tmp, class_names=["RRab", "RRc"])
    ...     loaded, info = load_model(path)
    ...     sorted(p.name for p in path.iterdir()) == sorted(MODEL_FILES)
    True
    >>> info["config"], info["class_names"]
    ({'name': 'doc_io_linear', 'num_outputs': 2, 'num_features': 4}, ['RRab', 'RRc'])
    """
    from safetensors.torch import save_file

    config = getattr(model, "config", None)
    if not isinstance(config, Mapping) or "name" not in config:
        raise ValueError(
            f"{type(model).__name__} has no model.config with a 'name'; build the model with "
            "skyclass.models.create_model(name, **config) so it can be rebuilt on loading"
        )
    out, names, scaler_dict = _prepare(directory, class_names, scaler, overwrite)
    tmp = out / (WEIGHTS + ".tmp")
    save_file(
        _weights_for_file(model), str(tmp), metadata={"format": "pt", "model": str(config["name"])}
    )
    os.replace(tmp, out / WEIGHTS)

    import torch

    saved = {
        "model": str(config["name"]),
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "torch_version": torch.__version__,
    }
    _finish(out, config, names, preprocessing, scaler_dict, card, saved)
    return out


def save_arrays(
    arrays: Mapping[str, np.ndarray],
    directory: str | os.PathLike[str],
    *,
    config: Mapping[str, Any],
    class_names: Sequence[str] | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    scaler: Any | None = None,
    card: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a model that is not a network as named numpy arrays plus JSON.

    The directory has the files of :func:`save_model` and is checked the same way
    on loading (:func:`verify_model_files`); ``weights.safetensors`` holds
    ``arrays`` (numbers only: no objects, no structured dtypes).

    Parameters
    ----------
    arrays : mapping of str to numpy.ndarray
        The model's numbers, by name.
    directory : path
        Created if needed.
    config : mapping
        JSON-able description of the model, with its ``name``.
    class_names, preprocessing, scaler, card, overwrite
        As in :func:`save_model`.
    provenance : mapping, optional
        Added to the card's ``saved`` entry (e.g. the version of the library
        whose model the arrays describe).

    Returns
    -------
    pathlib.Path
        The directory.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_arrays({"w": np.arange(3.0)}, tmp, config={"name": "doc_line"})
    ...     arrays, info = load_arrays(path)
    >>> arrays["w"].tolist(), info["config"], info["class_names"]
    ([0.0, 1.0, 2.0], {'name': 'doc_line'}, None)
    """
    from safetensors.numpy import save_file

    if not isinstance(config, Mapping) or "name" not in config:
        raise ValueError("config needs a 'name' (what the arrays describe)")
    plain = {}
    for key, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.kind not in "biuf" or value.dtype.names is not None:
            raise TypeError(
                f"array {key!r} has dtype {value.dtype}; store numbers only (one array per "
                "field of a structured array)"
            )
        plain[key] = np.ascontiguousarray(value)
    out, names, scaler_dict = _prepare(directory, class_names, scaler, overwrite)
    tmp = out / (WEIGHTS + ".tmp")
    save_file(plain, str(tmp), metadata={"format": "np", "model": str(config["name"])})
    os.replace(tmp, out / WEIGHTS)
    saved = {
        "model": str(config["name"]),
        "n_values": int(sum(v.size for v in plain.values())),
        **dict(provenance or {}),
    }
    _finish(out, config, names, preprocessing, scaler_dict, card, saved)
    return out


def _prepare(
    directory: str | os.PathLike[str],
    class_names: Sequence[str] | None,
    scaler: Any | None,
    overwrite: bool,
) -> tuple[Path, list[str] | None, Any]:
    """Check what a save is given before anything is written; create the directory."""
    out = Path(directory)
    existing = [name for name in MODEL_FILES if (out / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{out} already holds a saved model ({', '.join(existing)}); pass overwrite=True "
            "or choose another directory"
        )
    names = None if class_names is None else [str(c) for c in class_names]
    if names is not None and len(set(names)) != len(names):
        raise ValueError(f"class_names repeat a name: {names}")
    scaler_dict = scaler.to_dict() if hasattr(scaler, "to_dict") else scaler
    if scaler_dict is not None and not isinstance(scaler_dict, Mapping):
        raise TypeError("scaler must have to_dict() (e.g. a fitted FeatureScaler) or be a dict")
    out.mkdir(parents=True, exist_ok=True)
    return out, names, scaler_dict


def _finish(
    out: Path,
    config: Mapping[str, Any],
    names: list[str] | None,
    preprocessing: Mapping[str, Any] | None,
    scaler_dict: Any,
    card: Mapping[str, Any] | None,
    saved: Mapping[str, Any],
) -> None:
    """The JSON files beside ``weights.safetensors``, then the card with every file's SHA-256."""
    from skyclass import __version__ as skyclass_version

    saved = {
        **dict(saved),
        "weights_sha256": _sha256(out / WEIGHTS),
        "skyclass_version": skyclass_version,
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    _write_model_json(out / "config.json", dict(config))
    _write_model_json(out / "classes.json", names)
    _write_model_json(out / "preprocessing.json", dict(preprocessing or {}))
    _write_model_json(out / "scaler.json", None if scaler_dict is None else dict(scaler_dict))
    saved["files_sha256"] = {n: _sha256(out / n) for n in MODEL_FILES if n != "card.json"}
    _write_model_json(out / "card.json", {**dict(card or {}), "saved": saved})


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid JSON ({exc}); save the model again", source=str(path)) from None


def verify_model_files(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Check every file of a model directory against the SHA-256 its card recorded.

    Nothing else in the directory is read before this passes, so an altered
    ``config.json`` is refused before it could build anything, and a damaged or
    foreign ``weights.safetensors`` before it is opened.

    Parameters
    ----------
    directory : path
        A directory written by :func:`save_model`.

    Returns
    -------
    dict
        The card (``card.json``).

    Raises
    ------
    FileNotFoundError
        The directory or one of its files is missing (named).
    DataError
        ``card.json`` is not JSON or records no SHA-256 of a file, or a file
        differs from its recorded SHA-256 (named).

    Examples
    --------
    See :func:`save_model`.
    """
    src = Path(directory)
    if not src.is_dir():
        raise FileNotFoundError(f"no model directory at {src}; save one with save_model")
    for name in MODEL_FILES:
        if not (src / name).is_file():
            raise FileNotFoundError(
                f"{src} lacks {name}; a model directory written by save_model holds "
                f"{', '.join(MODEL_FILES)} — copy the whole directory or save the model again"
            )
    card = _read_json(src / "card.json")
    saved = card.get("saved") if isinstance(card, dict) else None
    recorded = saved.get("files_sha256") if isinstance(saved, dict) else None
    if not isinstance(recorded, dict):
        recorded = {}
    unlisted = [n for n in MODEL_FILES if n != "card.json" and n not in recorded]
    if unlisted:
        raise DataError(
            f"card.json records no SHA-256 of {', '.join(unlisted)} (saved.files_sha256), so "
            "the files cannot be checked; save the model again with this skyclass",
            source=str(src / "card.json"),
        )
    for name, digest in recorded.items():
        path = src / name
        if not path.is_file():
            raise DataError(
                f"{name} is missing from the model directory; copy the whole directory "
                "or save the model again",
                source=str(path),
            )
        if _sha256(path) != digest:
            raise DataError(
                f"{name} differs from the file saved with card.json (SHA-256 mismatch): it was "
                "altered or mixed in from another model; restore it or save the model again",
                source=str(path),
            )
    return card


def load_model(
    directory: str | os.PathLike[str], *, device: str = "cpu"
) -> tuple[Any, dict[str, Any]]:
    """Rebuild a model saved by :func:`save_model`, in eval mode.

    Parameters
    ----------
    directory : path
        A directory written by :func:`save_model`.
    device : str
        Where to put the weights (``"cpu"``, ``"cuda:0"``, ...).

    Returns
    -------
    model : torch.nn.Module
        ``create_model(**config)`` with the saved weights, in eval mode.
    info : dict
        ``config``, ``class_names`` (list or None), ``preprocessing`` (dict),
        ``scaler`` (a fitted :class:`~skyclass.represent.features.FeatureScaler`
        when one was saved, another saved dict as is, or None), ``card`` (dict)
        and ``directory``.

    Raises
    ------
    FileNotFoundError
        When the directory or one of its files is missing (named).
    DataError
        When a file differs from the SHA-256 that ``card.json`` recorded at saving
        (the file is named: it was altered or comes from another save), checked
        before any other file is read (:func:`verify_model_files`); when the card
        records no SHA-256; when a file is not what its name says (JSON,
        safetensors) or ``config.json`` does not build a model.
    ValueError
        When the weights do not fit the configuration (the mismatched keys and
        shapes are named).

    Examples
    --------
    See :func:`save_model`.
    """
    from safetensors.torch import load_file

    from skyclass.models.registry import create_model

    src = Path(directory)
    card, config = _card_and_config(src)
    try:
        model = create_model(**config)
    except TypeError as exc:
        raise DataError(
            f"does not build a model ({exc}); save the model again",
            source=str(src / "config.json"),
        ) from None
    state = _weights(src, lambda path: load_file(path, device="cpu"))
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: saved {tuple(state[k].shape)} vs config {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    if missing or unexpected or shapes:
        raise ValueError(
            f"the weights in {src / WEIGHTS} do not match the model built from config.json "
            f"({config['name']!r}): missing keys {missing}, unexpected keys {unexpected}, "
            f"shape mismatches {shapes}; config.json and weights.safetensors must come from "
            "the same save"
        )
    model.load_state_dict(state, strict=True)
    model.to(device)
    model.eval()
    return model, _info(src, config, card)


def load_arrays(directory: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and JSON files of a directory written by :func:`save_arrays`.

    Every file is checked against the card's SHA-256 first (:func:`verify_model_files`).

    Parameters
    ----------
    directory : path
        A directory written by :func:`save_arrays`.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        As saved.
    info : dict
        As :func:`load_model` returns it.

    Raises
    ------
    FileNotFoundError, DataError
        As :func:`load_model`; also when ``config.json`` has no ``name``.

    Examples
    --------
    See :func:`save_arrays`.
    """
    from safetensors.numpy import load_file

    src = Path(directory)
    card, config = _card_and_config(src)
    return _weights(src, load_file), _info(src, config, card)


def _card_and_config(src: Path) -> tuple[Any, dict[str, Any]]:
    """The card and ``config.json`` of a model directory, after every file was checked."""
    card = verify_model_files(src)
    config = _read_json(src / "config.json")
    if not isinstance(config, dict) or "name" not in config:
        raise DataError(
            "has no model 'name'; save the model again", source=str(src / "config.json")
        )
    return card, config


def _weights(src: Path, load_file: Any) -> dict[str, Any]:
    """``load_file(weights path)``, its failure named as the file not being safetensors."""
    from safetensors import SafetensorError

    try:
        return load_file(str(src / WEIGHTS))
    except (SafetensorError, OSError) as exc:
        raise DataError(
            f"not a safetensors file ({exc}); save the model again", source=str(src / WEIGHTS)
        ) from None


def _info(src: Path, config: dict[str, Any], card: Any) -> dict[str, Any]:
    """The JSON files of a checked model directory, the scaler rebuilt."""
    scaler = _read_json(src / "scaler.json")
    if isinstance(scaler, dict) and scaler.get("kind") == "FeatureScaler":
        from skyclass.represent.features import FeatureScaler

        scaler = FeatureScaler.from_dict(scaler)
    return {
        "config": config,
        "class_names": _read_json(src / "classes.json"),
        "preprocessing": _read_json(src / "preprocessing.json"),
        "scaler": scaler,
        "card": card,
        "directory": src,
    }
