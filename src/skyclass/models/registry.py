"""The model registry: ``register_model``, ``create_model``, ``list_models``.

Every model is an ``nn.Module`` built by name from keyword arguments (the
paper's settings are the defaults). It takes a dict batch — ``seq`` (B, L, C)
with ``mask`` (B, L), ``grid`` (B, bands, N) with ``grid_mask``, ``dmdt``
(B, bands, n_dm, n_dt), ``folded_image`` (B, 1, H, W), a raster of the folded curve,
``image`` (B, C, H, W), a sky cutout (C bands or RGB), ``features`` (B, F) with
``features_mask`` — and returns a (B, num_outputs) tensor: class logits, or one
column per regression target. Its ``input_keys`` attribute names the keys it
reads, and ``config`` holds the keyword arguments it was built with, so a saved
model can be rebuilt exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ModelSpec",
    "check_keywords",
    "check_model_options",
    "create_model",
    "get_model_spec",
    "list_models",
    "register_model",
]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its name, factory, the inputs it reads and its paper.

    ``input_keys`` are the batch keys the network reads; ``inputs`` the
    representations that make them from a light curve by default
    (``{representation name: options}``, see :data:`skyclass.represent.REPRESENTATIONS`;
    bands are filled in from the data), None for a model that does not read light
    curves (the image models). ``train`` holds the training settings the model is
    designed for (keys of :class:`~skyclass.training.TrainConfig`); an estimator starts
    from them and a user's own ``train`` settings override them. Seed-paper models
    leave it empty and train with the shared defaults. ``augment`` holds the options of the
    grid augmentation the model is trained with
    (:class:`~skyclass.augment.grids.GridAugment`), None for none. ``shapes`` names
    the options that an input's shape fixes: ``{option: (input key, axis)}``, the
    axis of the batch array (axis 0 counts the objects), e.g. ``{"length": ("grid", 2)}``
    for a grid (N, bands, length); :func:`skyclass.training.fit` fills them in from
    the data.
    """

    name: str
    factory: Callable[..., Any]
    input_keys: tuple[str, ...]
    paper: str
    task: str  # "classification", "regression" or "both"
    train: Mapping[str, Any] = field(default_factory=dict)
    augment: Mapping[str, Any] | None = None
    inputs: Mapping[str, Mapping[str, Any]] | None = None
    shapes: Mapping[str, tuple[str, int]] = field(default_factory=dict)


_MODELS: dict[str, ModelSpec] = {}


def register_model(
    name: str,
    *,
    input_keys: tuple[str, ...],
    paper: str = "",
    task: str = "classification",
    train: Mapping[str, Any] | None = None,
    augment: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
    shapes: Mapping[str, tuple[str, int]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a model factory ``f(*, num_outputs, **cfg) -> nn.Module`` under ``name``.

    ``inputs``: the representations the model reads by default, with their
    options; ``train`` and ``augment``: the training settings and grid
    augmentation the model is designed for; ``shapes``: the options the inputs'
    shapes fix, ``{option: (input key, axis of the batch array)}`` (see
    :class:`ModelSpec`).

    Raises
    ------
    ValueError
        For a name already taken, an unknown task, or a ``shapes`` entry whose
        option the factory does not take, whose key is not in ``input_keys`` or
        whose axis is the objects' axis 0.

    Examples
    --------
    >>> @register_model("doc_example_linear", input_keys=("features",),
    ...                 inputs={"features": {"features": "all"}},
    ...                 shapes={"num_features": ("features", 1)})
    ... def _linear(*, num_outputs=2, num_features=3):
    ...     import torch
    ...     return torch.nn.Linear(num_features, num_outputs)
    >>> "doc_example_linear" in list_models()
    True
    >>> get_model_spec("doc_example_linear").inputs
    {'features': {'features': 'all'}}
    >>> get_model_spec("doc_example_linear").shapes
    {'num_features': ('features', 1)}
    """
    if task not in {"classification", "regression", "both"}:
        raise ValueError(f"task must be classification, regression or both, got {task!r}")

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        if name in _MODELS and _MODELS[name].factory is not factory:
            raise ValueError(f"a model named {name!r} is already registered")
        _check_shapes(name, factory, input_keys, shapes or {})
        _MODELS[name] = ModelSpec(
            name,
            factory,
            tuple(input_keys),
            paper,
            task,
            dict(train or {}),
            None if augment is None else dict(augment),
            None if inputs is None else {k: dict(v) for k, v in inputs.items()},
            {option: (str(key), int(axis)) for option, (key, axis) in (shapes or {}).items()},
        )
        return factory

    return decorate


def _check_shapes(
    name: str,
    factory: Callable[..., Any],
    input_keys: tuple[str, ...],
    shapes: Mapping[str, tuple[str, int]],
) -> None:
    """Refuse a ``shapes`` declaration that could never be filled in."""
    import inspect

    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for option, (key, axis) in shapes.items():
        if option not in params and not takes_any:
            raise ValueError(
                f"model {name!r}: shapes names option {option!r}, which it does not take"
            )
        if key not in input_keys:
            raise ValueError(
                f"model {name!r}: shapes reads {option!r} from {key!r}, which is not one of "
                f"its input_keys {list(input_keys)}"
            )
        if not isinstance(axis, int) or axis == 0:
            raise ValueError(
                f"model {name!r}: the axis of {option!r} must be a nonzero integer (axis 0 "
                f"counts the objects), got {axis!r}"
            )


def list_models(task: str | None = None) -> list[str]:
    """Registered model names (those usable for ``task`` when given), sorted."""
    _load_builtin_models()
    return sorted(
        name for name, spec in _MODELS.items() if task is None or spec.task in {task, "both"}
    )


def get_model_spec(name: str) -> ModelSpec:
    """The spec registered as ``name``; a wrong name lists the valid ones."""
    _load_builtin_models()
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; choose one of: {', '.join(list_models())}"
        ) from None


def check_keywords(
    func: Callable[..., Any], options: Mapping[str, Any] | None, what: str, *, skip=()
) -> None:
    """Refuse keyword ``options`` that ``func`` does not take, listing the ones it does.

    ``what`` names the callable in the message (``"model 'x'"``); ``skip`` lists
    parameters the caller sets itself and that are not the user's to give.

    Examples
    --------
    >>> check_keywords(lambda *, a=1, b=2: None, {"c": 3}, "demo")
    Traceback (most recent call last):
    ...
    ValueError: demo takes no option 'c'; its options are: a, b
    """
    import inspect

    params = [p for p in inspect.signature(func).parameters.values() if p.name not in skip]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    unknown = sorted(set(options or {}) - {p.name for p in params})
    if unknown:
        raise ValueError(
            f"{what} takes no option {', '.join(map(repr, unknown))}; its options "
            f"are: {', '.join(p.name for p in params)}"
        )


def check_model_options(name: str, options: Mapping[str, Any] | None = None) -> ModelSpec:
    """The spec of model ``name``, once its name and option names are known to be valid.

    Raises
    ------
    ValueError
        For an unknown model name or an option the model does not take; the
        message lists the valid names or options.
    """
    spec = get_model_spec(name)
    check_keywords(spec.factory, options, f"model {name!r}")
    return spec


def create_model(name: str, **config: Any):
    """Build the model registered as ``name`` with keyword arguments ``config``.

    The returned module carries ``input_keys`` and ``config`` (the full keyword
    arguments, defaults included where the factory records them).

    Raises
    ------
    ValueError
        For an unknown model name or an option the model does not take; the
        message lists the valid names or options.
    """
    import inspect

    spec = check_model_options(name, config)
    params = inspect.signature(spec.factory).parameters
    model = spec.factory(**config)
    defaults = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    # a model whose inputs depend on its options says which it reads; else the spec's
    model.input_keys = tuple(getattr(model, "input_keys", spec.input_keys))
    model.config = {"name": name, **defaults, **config}
    return model


def _load_builtin_models() -> None:
    """Import the modules that register skyclass's own models (once)."""
    import importlib

    for module in ("recurrent", "compound", "conv1d", "conv2d", "mlp", "foldnet", "image"):
        try:
            importlib.import_module(f"skyclass.models.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"skyclass.models.{module}":
                raise
