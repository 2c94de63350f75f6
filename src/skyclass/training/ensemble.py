"""Ensembles of trained nets, and the pieces of two-stage training.

kang2023 trains one net per bag of a bagging plan
(:func:`skyclass.augment.balance.bagging_plan`) and averages the members'
class probabilities: :func:`average_probabilities` and :class:`Ensemble` do
that, and :func:`ensemble_spread` says how much the members disagree on each
object (a cheap uncertainty to report beside the averaged probability).

Their compound net is trained in two stages: first the RNN net alone; then
its weights are loaded into the compound net's ``rnn`` submodule, frozen, and
the rest (image CNN, heads) is trained. :func:`load_submodule_state`,
:func:`freeze` and :func:`trainable_parameters` are those steps;
:func:`prepare_second_stage` chains them::

    rnn = create_model("kang2023_rnn", num_outputs=11)
    ...train rnn...
    compound = create_model("kang2023_compound", num_outputs=11)
    params = prepare_second_stage(compound, rnn.state_dict(), submodule="rnn")
    optimiser = torch.optim.Adam(params, lr=1e-3)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Ensemble",
    "average_probabilities",
    "ensemble_spread",
    "freeze",
    "load_submodule_state",
    "prepare_second_stage",
    "trainable_parameters",
    "unfreeze",
]


# ------------------------------------------------------------ probabilities
def _stack(probabilities: Sequence[Any]) -> np.ndarray:
    if len(probabilities) == 0:
        raise ValueError("give at least one member's probabilities")
    arrays = [np.asarray(p, dtype=np.float64) for p in probabilities]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(
            f"members' probabilities differ in shape: {sorted(shapes)}; every member must "
            "predict the same objects and classes, in the same order"
        )
    stacked = np.stack(arrays)
    if stacked.ndim != 3:
        raise ValueError(
            f"each member's probabilities must be 2-D (objects, classes), got {arrays[0].shape}"
        )
    return stacked


def average_probabilities(
    probabilities: Sequence[Any], weights: Sequence[float] | np.ndarray | None = None
) -> np.ndarray:
    """(Weighted) mean of the members' class probabilities, object by object.

    Parameters
    ----------
    probabilities : sequence of array_like, each shape (n_objects, n_classes)
        One array per ensemble member.
    weights : array_like of float, optional
        Non-negative weight per member (normalised to sum to one); equal
        weights when None, as kang2023.

    Returns
    -------
    ndarray of float64, shape (n_objects, n_classes)

    Examples
    --------
    >>> p1 = [[0.9, 0.1], [0.2, 0.8]]
    >>> p2 = [[0.5, 0.5], [0.4, 0.6]]
    >>> average_probabilities([p1, p2]).tolist()
    [[0.7, 0.3], [0.30000000000000004, 0.7]]
    >>> average_probabilities([p1, p2], weights=[3, 1]).round(3).tolist()
    [[0.8, 0.2], [0.25, 0.75]]
    """
    stacked = _stack(probabilities)
    if weights is None:
        return stacked.mean(axis=0)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (stacked.shape[0],):
        raise ValueError(f"give one weight per member ({stacked.shape[0]}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return np.tensordot(w / w.sum(), stacked, axes=1)


def ensemble_spread(probabilities: Sequence[Any]) -> dict[str, np.ndarray]:
    """How much the members disagree, object by object.

    Parameters
    ----------
    probabilities : sequence of array_like, each shape (n_objects, n_classes)
        One array per member.

    Returns
    -------
    dict
        ``"std"`` (n_objects, n_classes): standard deviation (``ddof=0``) of each
        class probability across members; ``"mean_std"`` (n_objects,): its mean
        over classes; ``"std_predicted"`` (n_objects,): the std of the class the
        averaged probabilities pick; ``"disagreement"`` (n_objects,): share of
        members whose own top class differs from that pick (0 = unanimous).

    Examples
    --------
    >>> p1 = [[0.9, 0.1], [0.2, 0.8]]
    >>> p2 = [[0.5, 0.5], [0.6, 0.4]]
    >>> s = ensemble_spread([p1, p2])
    >>> s["std_predicted"].round(3).tolist(), s["disagreement"].tolist()
    ([0.2, 0.2], [0.0, 0.5])
    """
    stacked = _stack(probabilities)
    mean = stacked.mean(axis=0)
    std = stacked.std(axis=0)
    pick = mean.argmax(axis=1)
    rows = np.arange(mean.shape[0])
    return {
        "std": std,
        "mean_std": std.mean(axis=1),
        "std_predicted": std[rows, pick],
        "disagreement": (stacked.argmax(axis=2) != pick).mean(axis=0),
    }


# ----------------------------------------------------------------- members
def _module_probabilities(model: Any, arrays: Mapping[str, Any], batch_size: int) -> np.ndarray:
    """Softmax of a torch module's logits over ``arrays``, batch by batch, in eval mode."""
    import torch

    keys = tuple(getattr(model, "input_keys", ()) or arrays.keys())
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise KeyError(f"the model reads {list(keys)}; arrays lack {missing}")
    n = len(arrays[keys[0]])
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                batch = {
                    k: torch.as_tensor(np.asarray(arrays[k][start : start + batch_size])).to(device)
                    for k in keys
                }
                for k, v in batch.items():
                    if v.is_floating_point():
                        batch[k] = v.float()
                out.append(torch.softmax(model(batch), dim=1).cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out).astype(np.float64)


class Ensemble:
    """Members that each give class probabilities; the ensemble averages them.

    Parameters
    ----------
    members : sequence
        Each is an object with ``predict_proba(arrays)`` (e.g. an estimator), a
        torch module taking a dict batch and returning logits (softmax is
        applied, in eval mode, without gradients; it reads ``input_keys``), or
        a callable ``f(arrays) -> probabilities``.
    weights : array_like of float, optional
        Weight per member for :func:`average_probabilities`.
    batch_size : int
        Batch size when a member is a torch module.

    Examples
    --------
    >>> ens = Ensemble([lambda a: [[0.9, 0.1]], lambda a: [[0.5, 0.5]]])
    >>> len(ens), ens.predict_proba({}).tolist(), ens.predict({}).tolist()
    (2, [[0.7, 0.3]], [0])
    """

    def __init__(
        self,
        members: Sequence[Any],
        *,
        weights: Sequence[float] | np.ndarray | None = None,
        batch_size: int = 256,
    ):
        if len(members) == 0:
            raise ValueError("an ensemble needs at least one member")
        for i, m in enumerate(members):
            if not (hasattr(m, "predict_proba") or callable(m)):
                raise TypeError(
                    f"member {i} ({type(m).__name__}) has no predict_proba and is not callable"
                )
        if weights is not None and len(weights) != len(members):
            raise ValueError(f"give one weight per member ({len(members)}), got {len(weights)}")
        self.members = list(members)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.batch_size = int(batch_size)

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return f"Ensemble(n_members={len(self)}, weighted={self.weights is not None})"

    def _member_proba(self, member: Any, arrays: Mapping[str, Any]) -> np.ndarray:
        if hasattr(member, "predict_proba"):
            return np.asarray(member.predict_proba(arrays), dtype=np.float64)
        torch = sys.modules.get("torch")  # a torch module implies torch is imported
        if torch is not None and isinstance(member, torch.nn.Module):
            return _module_probabilities(member, arrays, self.batch_size)
        return np.asarray(member(arrays), dtype=np.float64)

    def member_probabilities(self, arrays: Mapping[str, Any]) -> list[np.ndarray]:
        """Each member's probabilities, shape (n_objects, n_classes) each."""
        return [self._member_proba(m, arrays) for m in self.members]

    def predict_proba(self, arrays: Mapping[str, Any]) -> np.ndarray:
        """Averaged class probabilities, shape (n_objects, n_classes)."""
        return average_probabilities(self.member_probabilities(arrays), self.weights)

    def predict(self, arrays: Mapping[str, Any]) -> np.ndarray:
        """Index of the most probable class after averaging."""
        return self.predict_proba(arrays).argmax(axis=1)

    def spread(self, arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Members' disagreement per object (see :func:`ensemble_spread`)."""
        return ensemble_spread(self.member_probabilities(arrays))


# ---------------------------------------------------------- two-stage steps
def load_submodule_state(
    model: Any, submodule_name: str, state_dict: Mapping[str, Any], *, strict: bool = True
) -> Any:
    """Load a state dict into one named submodule of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        The bigger net (e.g. the compound net).
    submodule_name : str
        Dotted name of the submodule (``"rnn"``, ``"branch.encoder"``).
    state_dict : mapping of str to tensor
        The trained first-stage net's ``state_dict()``; keys may also carry the
        ``"<submodule_name>."`` prefix (a state dict of the whole ``model``),
        in which case only those keys are used.
    strict : bool
        Refuse missing, unexpected or wrongly shaped keys.

    Returns
    -------
    torch.nn.Module
        The submodule, with the weights loaded.

    Raises
    ------
    ValueError
        When the keys or shapes do not match; the message names them.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential()
    >>> net.add_module("rnn", torch.nn.Linear(2, 2))
    >>> net.add_module("head", torch.nn.Linear(2, 1))
    >>> first = torch.nn.Linear(2, 2)
    >>> sub = load_submodule_state(net, "rnn", first.state_dict())
    >>> bool(torch.equal(net.rnn.weight, first.weight))
    True
    """
    try:
        sub = model.get_submodule(submodule_name)
    except AttributeError:
        names = [n for n, _ in model.named_children()]
        raise ValueError(
            f"{type(model).__name__} has no submodule {submodule_name!r}; its children are {names}"
        ) from None
    prefix = f"{submodule_name}."
    state = dict(state_dict)
    if state and any(k.startswith(prefix) for k in state):
        state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    own = sub.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    if shapes or (strict and (missing or unexpected)):
        raise ValueError(
            f"the state dict does not fit submodule {submodule_name!r}: missing {missing}, "
            f"unexpected {unexpected}, shape mismatches (given vs expected) {shapes}; "
            "build both nets with the same configuration"
        )
    sub.load_state_dict(state, strict=strict)
    return sub


def _keep_frozen_in_eval(module: Any, args: Any) -> None:
    # Forward pre-hook: model.train() on the parent flips every child back to
    # training mode; a frozen part must still run BatchNorm on its stored
    # statistics (and not update them) and without dropout.
    if getattr(module, "_skyclass_frozen_eval", False) and module.training:
        module.eval()


def freeze(module: Any, *, eval_mode: bool = True) -> Any:
    """Stop training ``module``: no gradients for its parameters.

    Parameters
    ----------
    module : torch.nn.Module
        The part to freeze (e.g. the compound net's ``rnn``).
    eval_mode : bool
        Also run it in eval mode whenever it is called — BatchNorm uses and
        keeps its stored statistics, dropout is off — even after the parent's
        ``train()``. This is Keras's behaviour for a frozen BatchNorm (used by
        kang2023) and the usual feature-extractor practice in PyTorch.

    Returns
    -------
    torch.nn.Module
        ``module`` itself, frozen in place.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    >>> _ = freeze(net[0])
    >>> [p.shape for p in trainable_parameters(net)]
    [torch.Size([1, 2]), torch.Size([1])]
    """
    for p in module.parameters():
        p.requires_grad_(False)
    if eval_mode:
        module._skyclass_frozen_eval = True
        if not getattr(module, "_skyclass_frozen_hooked", False):
            module.register_forward_pre_hook(_keep_frozen_in_eval)
            module._skyclass_frozen_hooked = True
        module.eval()
    return module


def unfreeze(module: Any) -> Any:
    """Undo :func:`freeze`: gradients on, train/eval mode follows the parent again."""
    for p in module.parameters():
        p.requires_grad_(True)
    module._skyclass_frozen_eval = False
    return module


def trainable_parameters(model: Any) -> list[Any]:
    """The parameters of ``model`` that still need gradients (give these to the optimiser).

    Examples
    --------
    >>> import torch
    >>> len(trainable_parameters(torch.nn.Linear(3, 1)))
    2
    """
    return [p for p in model.parameters() if p.requires_grad]


def prepare_second_stage(
    model: Any,
    first_stage_state: Mapping[str, Any],
    *,
    submodule: str = "rnn",
    eval_mode: bool = True,
) -> list[Any]:
    """kang2023's second stage: load the first net into ``submodule``, freeze it.

    Parameters
    ----------
    model : torch.nn.Module
        The compound net.
    first_stage_state : mapping
        ``state_dict()`` of the trained first-stage net.
    submodule : str
        Name of the submodule that holds the first-stage net.
    eval_mode : bool
        Passed to :func:`freeze`.

    Returns
    -------
    list of torch.nn.Parameter
        The parameters left to train (for the optimiser).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential()
    >>> net.add_module("rnn", torch.nn.Linear(2, 2))
    >>> net.add_module("head", torch.nn.Linear(2, 1))
    >>> params = prepare_second_stage(net, torch.nn.Linear(2, 2).state_dict())
    >>> len(params), net.rnn.weight.requires_grad
    (2, False)
    """
    freeze(load_submodule_state(model, submodule, first_stage_state), eval_mode=eval_mode)
    return trainable_parameters(model)
