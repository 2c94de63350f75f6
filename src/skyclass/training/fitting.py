"""One way to train a registered network: :func:`fit` (model name + arrays -> fitted net).

Every place that trains a network goes through :func:`fit` — the estimators
(:class:`~skyclass.estimator.LightCurveClassifier`, ``LightCurveRegressor``,
``CutoutClassifier``), the paper runners, the leaderboard and ``skyclass
search`` through them — so the model's sizes, its designed training settings,
the early-stopping defaults and the seeding are decided here once:

1. the sizes the input arrays fix (``in_channels``, ``length``, ``num_features``,
   ``seq_channels``...) are filled in as the model declares them in the registry
   (:attr:`~skyclass.models.registry.ModelSpec.shapes`); a size the caller set
   that the data contradict is refused;
2. the training settings are, from weakest to strongest: early stopping after 10
   epochs without improvement of the validation loss (with validation data; the
   training loss otherwise), the settings the model declares in the registry
   (:attr:`~skyclass.models.registry.ModelSpec.train`; label smoothing only for
   classification), the caller's ``train``, and last ``seed`` and ``task``;
3. every random draw is seeded by ``seed``: the initial weights, the data order,
   dropout and augmentation.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(64, 3)).astype("float32")
>>> y = (x[:, 0] > 0).astype("int64")
>>> fitted = fit("mlp_features", {"features": x}, y, num_outputs=2,
...              train={"max_epochs": 3, "batch_size": 16}, seed=1)
>>> fitted.options["num_features"], len(fitted.history), fitted.config.seed
(3, 3, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
from torch import nn

from skyclass.training.loop import History, TrainConfig, Trainer, seed_everything

__all__ = ["FittedNetwork", "fit", "shape_options", "train_config"]


@dataclass
class FittedNetwork:
    """What :func:`fit` returns: the trained module and how it was made."""

    model: nn.Module
    trainer: Trainer
    history: History
    config: TrainConfig
    options: dict[str, Any]


def shape_options(
    model: str, arrays: Mapping[str, np.ndarray], options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``options`` with the sizes that ``arrays`` fix, as ``model`` declares them.

    Each option of the model's :attr:`~skyclass.models.registry.ModelSpec.shapes`,
    ``{option: (input key, axis)}``, is the size of that axis of ``arrays[key]``
    when the key is given. An option the caller set must agree with it, except 0,
    which switches an optional input off (``num_features=0``: no numeric branch).

    Raises
    ------
    ValueError
        An option the caller set disagrees with the shape of the input it sizes;
        the message names both.

    Examples
    --------
    >>> import numpy as np
    >>> shape_options("foldnet", {"grid": np.zeros((5, 2, 64)), "features": np.zeros((5, 7))})
    {'in_channels': 2, 'length': 64, 'num_features': 7}
    >>> shape_options("foldnet", {"grid": np.zeros((5, 2, 64))}, {"length": 32})
    Traceback (most recent call last):
    ...
    ValueError: model 'foldnet' was given length=32, but its input 'grid' has shape (5, 2, 64)...
    """
    from skyclass.models import get_model_spec

    out = dict(options or {})
    for option, (key, axis) in get_model_spec(model).shapes.items():
        if key not in arrays:
            continue
        shape = tuple(int(n) for n in np.shape(arrays[key]))
        size = shape[axis]
        given = out.setdefault(option, size)
        if given != size and given != 0:
            raise ValueError(
                f"model {model!r} was given {option}={given!r}, but its input {key!r} has "
                f"shape {shape}: {option} is {size} there; leave {option} out to take it "
                "from the data"
            )
    return out


def train_config(
    model: str,
    train: TrainConfig | Mapping[str, Any] | None = None,
    *,
    task: str = "classification",
    seed: int = 0,
    has_val: bool = True,
) -> TrainConfig:
    """The training settings of ``model``: defaults < the model's own < ``train`` < seed, task.

    Examples
    --------
    >>> train_config("foldnet", {"max_epochs": 5}).scheduler  # foldnet's own schedule
    'cosine_warmup'
    >>> cfg = train_config("foldnet", task="regression", has_val=False)
    >>> cfg.label_smoothing, cfg.monitor
    (0.0, 'train_loss')
    """
    from skyclass.models import get_model_spec

    designed = dict(get_model_spec(model).train)
    if task == "regression":
        designed.pop("label_smoothing", None)
    if isinstance(train, TrainConfig):
        train = train.model_dump()
    return TrainConfig.from_mapping(
        {
            "early_stopping_patience": 10 if has_val else None,
            "monitor": "val_loss" if has_val else "train_loss",
            **designed,
            **dict(train or {}),
            "seed": seed,
            "task": task,
        },
        source="train",
    )


def fit(
    model: str,
    arrays: Mapping[str, np.ndarray],
    targets: np.ndarray,
    *,
    val_arrays: Mapping[str, np.ndarray] | None = None,
    val_targets: np.ndarray | None = None,
    num_outputs: int,
    task: str = "classification",
    model_options: Mapping[str, Any] | None = None,
    train: TrainConfig | Mapping[str, Any] | None = None,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
    augment: Callable[..., Any] | None = None,
    prepare: Callable[[nn.Module], None] | None = None,
    run_dir: str | PathLike[str] | None = None,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
) -> FittedNetwork:
    """Build the registered network ``model`` for ``arrays`` and train it.

    Parameters
    ----------
    model : str
        A name from :func:`skyclass.models.list_models`.
    arrays, targets
        Training inputs ((N, ...) each, the keys the model reads) and class indices
        or values.
    val_arrays, val_targets : optional
        Validation set: early stopping, the best epoch.
    num_outputs : int
        Classes (logits) or regression targets.
    task : {"classification", "regression"}
    model_options : mapping, optional
        The model's own options; sizes the arrays fix are added (:func:`shape_options`),
        and one given here that the arrays contradict raises ValueError.
    train : TrainConfig or mapping, optional
        Training settings over the model's own (:func:`train_config`).
    seed : int
        Seeds the weights, the data order, dropout and augmentation.
    sample_weight : ndarray, optional
        (N,) loss weight of every training row.
    augment : callable, optional
        The :class:`~skyclass.training.Trainer` hook ``augment(inputs, generator)``.
    prepare : callable, optional
        Called with the new module before training (e.g. to load and freeze a
        trained first stage, :func:`~skyclass.training.prepare_second_stage`).
    run_dir, on_epoch_end
        As for :class:`~skyclass.training.Trainer`: checkpoint folder, epoch hook.

    Returns
    -------
    FittedNetwork
        The trained module (best epoch restored when there was validation data),
        its trainer, history, training settings and model options.
    """
    from skyclass.models import create_model

    options = shape_options(model, arrays, model_options)
    options["num_outputs"] = int(num_outputs)
    config = train_config(model, train, task=task, seed=seed, has_val=val_arrays is not None)
    seed_everything(seed)
    module = create_model(model, **options)
    if prepare is not None:
        prepare(module)
    trainer = Trainer(module, config, run_dir=run_dir, on_epoch_end=on_epoch_end, augment=augment)
    history = trainer.fit(arrays, targets, val_arrays, val_targets, sample_weight=sample_weight)
    return FittedNetwork(module, trainer, history, config, options)
