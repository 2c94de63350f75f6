"""Hyperparameter search over a run configuration, chosen on validation objects only.

:func:`run_search` tries variants of a :class:`~skyclass.runs.RunConfig` (grid
search, or Optuna's TPE with pruning of bad trials on the validation curve), keeps
every trial's resolved configuration and validation metrics, and writes the best
configuration as a YAML file that ``skyclass train`` reads as it is. The study lives
in SQLite (``OUT/study.db``), so a search killed at any moment resumes with the same
command and ends with the same best trial as an uninterrupted one.

Search-space YAML (``skyclass search CONFIG.yaml --space space.yaml``)::

    sampler: grid                      # or tpe
    metric: val_balanced_accuracy      # val_loss, val_accuracy, val_mae, val_rmse
    params:
      train.lr: {values: [1.0e-3, 1.0e-2, 1.0e-1]}
      model_options.dropout: {values: [0.1, 0.2, 0.4, 0.6]}

A parameter is a dotted key of the run configuration (``train.lr``,
``model_options.dropout``, ``representations.<name>.<option>``, ``model``,
``period``) with ``values`` or, for TPE, a range ``{type, low, high, log, step}``.
The objects ``skyclass train`` would hold out for testing never take part. The
space's keys, the output directory and why a resumed search ends as an
uninterrupted one does are in the user guide (docs/guide/search.md).

Examples
--------
>>> space = SearchSpace.from_mapping({
...     "sampler": "grid", "metric": "val_balanced_accuracy",
...     "params": {"train.lr": {"values": [1e-3, 1e-2]}, "train.batch_size": {"values": [8, 16]}}})
>>> space.direction, space.n_grid_points
('maximize', 4)
>>> cfg = RunConfig.load(overrides=["data=macho", "model=mlp_features"])
>>> space.check(cfg)
>>> apply_params(cfg, {"train.lr": 0.01, "model_options.dropout": 0.4}).train
{'lr': 0.01}
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import json
import math
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from skyclass._util import limit_threads, write_json
from skyclass.exceptions import DataError, MissingDependencyError
from skyclass.locking import hold_folder
from skyclass.runs import RunConfig, finite_json, plain_json

if TYPE_CHECKING:
    import pandas as pd

    from skyclass.lightcurve import LightCurveSet

__all__ = [
    "SAMPLERS",
    "Param",
    "SearchResult",
    "SearchSpace",
    "apply_params",
    "run_search",
    "selection_pool",
]

#: Samplers a search space may name.
SAMPLERS = ("grid", "tpe")
#: Pruners a search space may name (``none``: every trial trains to its end).
PRUNERS = ("median", "none")

STUDY_NAME = "skyclass-search"
_SPACE_KEYS = frozenset(
    {"sampler", "sampler_options", "metric", "direction", "pruner", "pruner_options", "params"}
)
_PARAM_KEYS = frozenset({"type", "values", "low", "high", "log", "step"})
_MAXIMIZED = ("val_accuracy", "val_balanced_accuracy")

#: Run-config keys a search may not vary, and why.
_FIXED = {
    "data": "it would change the objects",
    "format": "it would change the objects",
    "data_options": "it would change the objects",
    "task": "trials must share one task",
    "test_fraction": "it would move objects between the held-out test set and selection",
    "seed": "it would move objects between the held-out test, validation and training sets",
    "validation_fraction": "trials must be scored on the same validation objects",
    "train.seed": "the run's seed sets it",
    "train.task": "the run's task sets it",
    "model_options.num_outputs": "the data set it",
}
_SEARCHABLE = (
    "train.<TrainConfig option>",
    "model_options.<model option>",
    "representations.<name>.<option>",
    "model",
    "period",
)


# ------------------------------------------------------------------ the space
@dataclass(frozen=True)
class Param:
    """One searched parameter: a list of ``values``, or a numeric range.

    Parameters
    ----------
    name : str
        Dotted key of the run configuration (``train.lr``, ``model_options.dropout``).
    values : tuple, optional
        The choices (a grid axis, or TPE's categories); any YAML values.
    type : {"categorical", "float", "int"}
    low, high : float, optional
        Bounds of a range (both included).
    log : bool
        Sample the range on a log scale.
    step : float, optional
        Spacing of a range.

    Examples
    --------
    >>> Param.from_mapping("train.lr", {"type": "float", "low": 1e-4, "high": 1e-1, "log": True})
    Param(name='train.lr', values=None, type='float', low=0.0001, high=0.1, log=True, step=None)
    >>> Param.from_mapping("train.lr", {"values": []})
    Traceback (most recent call last):
    ...
    skyclass.exceptions.DataError: search space: parameter 'train.lr' has an empty 'values' list
    """

    name: str
    values: tuple[Any, ...] | None = None
    type: str = "categorical"
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None

    @classmethod
    def from_mapping(cls, name: str, spec: Any, *, source: str = "search space") -> Param:
        """Read ``{values: [...]}`` or ``{type, low, high, log, step}``; check the range."""

        def bad(message: str) -> DataError:
            return DataError(f"parameter {name!r} {message}", source=source)

        if not isinstance(spec, Mapping):
            raise bad(
                f"must be a mapping like {{values: [...]}} or {{type: float, low, high}}, "
                f"got {spec!r}"
            )
        unknown = sorted(set(spec) - _PARAM_KEYS)
        if unknown:
            raise bad(f"has unknown keys {unknown}; valid keys: {sorted(_PARAM_KEYS)}")
        kind = spec.get("type", "categorical" if "values" in spec else None)
        if kind not in ("categorical", "float", "int"):
            raise bad(f"needs 'values' or type float/int with low and high, got type {kind!r}")
        if kind == "categorical":
            values = spec.get("values")
            if not isinstance(values, list | tuple):
                raise bad(f"needs a list of 'values', got {values!r}")
            if not values:
                raise bad("has an empty 'values' list")
            extra = sorted(set(spec) - {"type", "values"})
            if extra:
                raise bad(f"with 'values' takes no {extra}")
            return cls(name=name, values=tuple(values))
        if "values" in spec:
            raise bad("takes either 'values' or a range (low, high), not both")
        low, high = spec.get("low"), spec.get("high")
        for key, bound in (("low", low), ("high", high)):
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise bad(f"needs a number {key!r}, got {bound!r}")
            if not math.isfinite(bound):
                raise bad(f"needs a finite {key!r}, got {bound!r}")
            if kind == "int" and float(bound) != int(bound):
                raise bad(f"is of type int but {key}={bound!r}")
        if low >= high:
            raise bad(f"has an empty range: low={low!r} >= high={high!r}")
        log = bool(spec.get("log", False))
        if log and low <= 0:
            raise bad(f"is searched on a log scale but low={low!r} <= 0")
        step = spec.get("step")
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, int | float) or step <= 0:
                raise bad(f"needs a positive 'step', got {step!r}")
            if log:
                raise bad("cannot take both log and step")
        if kind == "int":
            low, high = int(low), int(high)
            step = None if step is None else int(step)
        else:
            low, high = float(low), float(high)
            step = None if step is None else float(step)
        return cls(name=name, type=kind, low=low, high=high, log=log, step=step)

    @property
    def candidates(self) -> tuple[Any, ...]:
        """The values checked before any training: every choice, or both bounds."""
        return self.values if self.values is not None else (self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form."""
        if self.values is not None:
            return {"values": list(self.values)}
        out: dict[str, Any] = {"type": self.type, "low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out

    # Optuna stores categorical choices as None/bool/int/float/str; others as JSON text.
    def _choices(self) -> list[Any]:
        return [_encode(v) for v in self.values or ()]

    def _suggest(self, trial: Any) -> Any:
        if self.values is not None:
            return _decode(trial.suggest_categorical(self.name, self._choices()))
        if self.type == "int":
            return trial.suggest_int(
                self.name, self.low, self.high, log=self.log, step=self.step or 1
            )
        return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return "json:" + json.dumps(value)


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("json:"):
        return json.loads(value[5:])
    return value


@dataclass(frozen=True)
class SearchSpace:
    """What a search varies, how it samples and what it optimises.

    Parameters
    ----------
    params : tuple of Param
        In the order given (the order values are drawn in).
    sampler : {"grid", "tpe"}
        ``grid``: every combination of the ``values`` lists, in a seeded random order
        (all of them when ``trials`` is at least their number); ``tpe``: Optuna's
        Tree-structured Parzen Estimator.
    metric : str
        A validation metric of :data:`skyclass.training.METRICS` (``val_loss``,
        ``val_balanced_accuracy``, ``val_mae``...); never a test metric.
    direction : {"maximize", "minimize"}
        Follows from the metric when not given.
    sampler_options : dict
        Keyword arguments of :class:`optuna.samplers.TPESampler` (not ``seed``).
    pruner : {"median", "none"}
        ``median``: :class:`optuna.pruners.MedianPruner` stops a trial whose
        validation curve falls below the median of the finished trials at that epoch.
    pruner_options : dict
        Keyword arguments of :class:`optuna.pruners.MedianPruner`.
    """

    params: tuple[Param, ...]
    sampler: str = "tpe"
    metric: str = "val_loss"
    direction: str = "minimize"
    sampler_options: dict[str, Any] = field(default_factory=dict)
    pruner: str = "median"
    pruner_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> SearchSpace:
        """Read a search-space YAML file (see the module documentation)."""
        text = Path(path).read_text()
        data = yaml.safe_load(text) if text.strip() else {}
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "search space") -> SearchSpace:
        """Build from a mapping (as read from YAML); checks names of keys and ranges.

        Raises
        ------
        DataError
            Naming ``source`` and the offending key, with the valid ones.
        """
        if not isinstance(data, Mapping):
            raise DataError("a search space must be a mapping with 'params'", source=source)
        unknown = sorted(set(data) - _SPACE_KEYS)
        if unknown:
            raise DataError(
                f"unknown keys {unknown}; valid keys: {sorted(_SPACE_KEYS)}", source=source
            )
        sampler = data.get("sampler", "tpe")
        if sampler not in SAMPLERS:
            raise DataError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}", source=source)
        pruner = data.get("pruner", "median")
        pruner = "none" if pruner is None else pruner
        if pruner not in PRUNERS:
            raise DataError(f"unknown pruner {pruner!r}; choose one of {PRUNERS}", source=source)
        metric = data.get("metric", "val_loss")
        from skyclass.training import METRICS

        valid_metrics = [m for m in METRICS if m.startswith("val_")]
        if metric not in valid_metrics:
            raise DataError(
                f"metric {metric!r} cannot select trials; choose a validation metric: "
                f"{valid_metrics}",
                source=source,
            )
        natural = "maximize" if metric in _MAXIMIZED else "minimize"
        direction = data.get("direction", natural)
        if direction not in ("maximize", "minimize"):
            raise DataError(
                f"direction must be 'maximize' or 'minimize', got {direction!r}", source=source
            )
        if direction != natural:
            raise DataError(
                f"{metric} improves when it {natural[:-1]}s; set direction: {natural} "
                "(or leave it out)",
                source=source,
            )
        raw = data.get("params")
        if not isinstance(raw, Mapping) or not raw:
            raise DataError(
                "the search space needs a non-empty 'params' mapping, e.g. "
                "{'train.lr': {values: [0.001, 0.01]}}",
                source=source,
            )
        params = tuple(Param.from_mapping(str(k), v, source=source) for k, v in raw.items())
        if sampler == "grid":
            ranged = [p.name for p in params if p.values is None]
            if ranged:
                raise DataError(
                    f"sampler grid needs 'values' lists; {ranged} are ranges (use sampler: tpe, "
                    "or give values)",
                    source=source,
                )
        options = {}
        for key in ("sampler_options", "pruner_options"):
            value = data.get(key) or {}
            if not isinstance(value, Mapping):
                raise DataError(f"{key} must be a mapping, got {value!r}", source=source)
            options[key] = dict(value)
        if sampler == "grid" and options["sampler_options"]:
            raise DataError("sampler grid takes no sampler_options", source=source)
        if "seed" in options["sampler_options"]:
            raise DataError("sampler_options take no seed: pass seed to the search", source=source)
        if pruner == "none" and options["pruner_options"]:
            raise DataError("pruner none takes no pruner_options", source=source)
        return cls(
            params=params,
            sampler=sampler,
            metric=metric,
            direction=direction,
            pruner=pruner,
            **options,
        )

    @property
    def n_grid_points(self) -> int | None:
        """Number of combinations of the ``values`` lists (None when a range is searched)."""
        if any(p.values is None for p in self.params):
            return None
        return math.prod(len(p.values or ()) for p in self.params)

    def grid(self, seed: int) -> list[dict[str, Any]]:
        """Every combination of the ``values`` lists, in the order ``seed`` shuffles them to.

        Examples
        --------
        >>> s = SearchSpace.from_mapping({"sampler": "grid", "params": {
        ...     "a": {"values": [1, 2]}, "b": {"values": ["x", "y"]}}})
        >>> sorted(map(str, s.grid(seed=0))) == sorted(map(str, s.grid(seed=1)))
        True
        >>> len(s.grid(seed=0))
        4
        """
        if self.n_grid_points is None:
            raise DataError("a grid needs 'values' lists for every parameter")
        names = [p.name for p in self.params]
        points = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(p._choices() for p in self.params))
        ]
        order = np.random.default_rng(seed).permutation(len(points))
        return [points[i] for i in order]

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (what ``search.json`` records and a resumed search must match)."""
        return {
            "sampler": self.sampler,
            "metric": self.metric,
            "direction": self.direction,
            "sampler_options": dict(self.sampler_options),
            "pruner": self.pruner,
            "pruner_options": dict(self.pruner_options),
            "params": {p.name: p.to_dict() for p in self.params},
        }

    def check(self, cfg: RunConfig) -> None:
        """Refuse, before any training, a space that does not fit the run configuration.

        Every parameter must name a searchable key of ``cfg`` (a
        :class:`~skyclass.training.TrainConfig` option, an option the model's factory
        takes, a representation's option, ``model`` or ``period``), and every value
        (every choice, both bounds of a range) must give a valid configuration.

        Raises
        ------
        DataError
            Naming the parameter and the valid names or the problem with its value.
        """
        from skyclass.models import get_model_spec, list_models

        if cfg.validation_fraction <= 0:
            raise DataError(
                f"validation_fraction is {cfg.validation_fraction}: a search scores trials on "
                "validation objects; set validation_fraction > 0 (e.g. 0.2)"
            )
        from skyclass.training import METRICS

        needs = METRICS[self.metric]
        if needs is not None and needs != cfg.task:
            valid = [
                m for m, t in METRICS.items() if m.startswith("val_") and t in (None, cfg.task)
            ]
            raise DataError(
                f"metric {self.metric!r} needs task={needs!r}; for {cfg.task} use one of {valid}"
            )
        by_name = {p.name: p for p in self.params}
        models = [cfg.model]
        if "model" in by_name:
            available = list_models(cfg.task)
            wrong = [m for m in by_name["model"].candidates if m not in available]
            if wrong or by_name["model"].values is None:
                raise DataError(
                    f"parameter 'model': {wrong or 'a range'} are not models for {cfg.task}; "
                    f"give values from: {available}"
                )
            models = list(by_name["model"].candidates)
        for model in models:
            try:
                get_model_spec(model)
            except ValueError as exc:
                raise DataError(f"{exc} (a search trains models of the registry)") from None
        for p in self.params:
            _check_name(p.name, cfg, models)
        for p in self.params:
            for value in p.candidates:
                _check_value(cfg, p.name, value)


def _check_name(name: str, cfg: RunConfig, models: Sequence[str]) -> None:
    from skyclass.models import get_model_spec
    from skyclass.represent import REPRESENTATIONS
    from skyclass.training import TrainConfig

    head, _, rest = name.partition(".")
    fixed = _FIXED.get(name) or (_FIXED.get(head) if head in ("data_options",) else None)
    if fixed:
        raise DataError(f"parameter {name!r} cannot be searched: {fixed}")
    if name in ("model", "period"):
        return
    if head == "train" and rest:
        valid = sorted(set(TrainConfig.model_fields) - {"seed", "task"})
        if rest not in valid:
            raise DataError(f"unknown parameter {name!r}: train takes {valid}")
        return
    if head == "model_options" and rest:
        for model in models:
            params = inspect.signature(get_model_spec(model).factory).parameters
            if any(p.kind is p.VAR_KEYWORD for p in params.values()):
                continue
            valid = sorted(set(params) - {"num_outputs"})
            if rest not in valid:
                raise DataError(
                    f"unknown parameter {name!r}: model {model!r} takes options {valid}"
                )
        return
    if head == "representations" and rest:
        rep, _, option = rest.partition(".")
        if rep not in REPRESENTATIONS or not option:
            raise DataError(
                f"unknown parameter {name!r}: use representations.<name>.<option> with a name "
                f"from {sorted(REPRESENTATIONS)}"
            )
        valid = sorted(inspect.signature(REPRESENTATIONS[rep]).parameters)
        if option not in valid:
            raise DataError(f"unknown parameter {name!r}: representation {rep!r} takes {valid}")
        return
    raise DataError(f"unknown parameter {name!r}; searchable keys: {', '.join(_SEARCHABLE)}")


def _check_value(cfg: RunConfig, name: str, value: Any) -> None:
    from skyclass.training import TrainConfig

    try:
        trial_cfg = apply_params(cfg, {name: value})
        if name.startswith("train."):
            TrainConfig(**_train_options(trial_cfg))
    except (DataError, ValueError) as exc:
        raise DataError(f"parameter {name!r}: value {value!r} is not valid ({exc})") from None


def _train_options(cfg: RunConfig) -> dict[str, Any]:
    """The TrainConfig the estimator builds from a run config (see ``LightCurveClassifier.fit``)."""
    return {
        "early_stopping_patience": 10,
        "monitor": "val_loss",
        **cfg.train,
        "seed": cfg.seed,
        "task": cfg.task,
    }


def apply_params(cfg: RunConfig, params: Mapping[str, Any]) -> RunConfig:
    """``cfg`` with dotted-key ``params`` set (a new config; ``cfg`` is not changed).

    A ``representations.*`` parameter on a config without representations starts
    from the model's default inputs.

    Examples
    --------
    >>> cfg = RunConfig.load(overrides=["data=macho", "model=mlp_features", "train.lr=0.1"])
    >>> new = apply_params(cfg, {"train.batch_size": 32, "representations.features.n_harmonics": 2})
    >>> new.train, cfg.train
    ({'lr': 0.1, 'batch_size': 32}, {'lr': 0.1})
    >>> new.representations
    {'features': {'features': 'all', 'n_harmonics': 2}}
    """
    from skyclass.estimator import DEFAULT_REPRESENTATIONS

    data = json.loads(json.dumps(cfg.model_dump(mode="json")))
    if "model" in params:
        data["model"] = params["model"]
    if data.get("representations") is None and any(
        k.startswith("representations.") for k in params
    ):
        defaults = DEFAULT_REPRESENTATIONS.get(data["model"], {})
        data["representations"] = json.loads(json.dumps(defaults))
    for name, value in params.items():
        node = data
        *parents, last = name.split(".")
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise DataError(f"parameter {name!r}: {part!r} is not a section")
            node = child
        node[last] = value
    return RunConfig.from_mapping(data, source="search parameters")


# ---------------------------------------------------------------- the search
def selection_pool(cfg: RunConfig) -> LightCurveSet:
    """The objects a search may look at: the run's data without its held-out test objects.

    The test objects are those :func:`~skyclass.runs.train_run` holds out for the same
    configuration (the same objects read by :func:`~skyclass.runs.load_run_data`, the
    same ``test_fraction`` and ``seed``, split by object, stratified for
    classification); they are dropped here, before any trial.

    Examples
    --------
    >>> cfg = RunConfig.load(overrides=["data=macho", "test_fraction=0.2"])
    >>> len(selection_pool(cfg))
    8
    """
    from skyclass.runs import held_out_split, load_run_data

    return held_out_split(cfg, load_run_data(cfg))[0]


def _check_pool(pool: LightCurveSet, cfg: RunConfig) -> None:
    labels = pool.objects["label"] if "label" in pool.objects.columns else None
    if labels is None or not labels.notna().any():
        raise DataError(
            f"{cfg.data} has no labelled objects to search on; give it a 'label' column",
            source=cfg.data,
        )


@dataclass(frozen=True)
class SearchResult:
    """What :func:`run_search` found.

    Attributes
    ----------
    out : Path
        The search directory.
    metric, direction : str
    best_number : int or None
        Optuna trial number of the best COMPLETE trial (None when none completed).
    best_params : dict or None
        Its parameters (dotted keys).
    best_value : float or None
        Its validation metric.
    best_config : RunConfig or None
        The base configuration with ``best_params`` applied (also in ``best.yaml``).
    trials : pandas.DataFrame
        One row per trial (``trials.csv``).
    """

    out: Path
    metric: str
    direction: str
    best_number: int | None
    best_params: dict[str, Any] | None
    best_value: float | None
    best_config: RunConfig | None
    trials: pd.DataFrame


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise MissingDependencyError(
            "optuna", extra="search", purpose="hyperparameter search"
        ) from None
    return optuna


def run_search(
    config: str | PathLike[str] | RunConfig,
    space: str | PathLike[str] | Mapping[str, Any] | SearchSpace,
    *,
    trials: int,
    out: str | PathLike[str],
    seed: int = 0,
    sampler: str | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
) -> SearchResult:
    """Search hyperparameters of a run configuration; resume when ``out`` holds the study.

    Parameters
    ----------
    config : path or RunConfig
        The base run configuration (YAML of :class:`~skyclass.runs.RunConfig`).
    space : path, mapping or SearchSpace
        The search space (see the module documentation).
    trials : int
        How many trials to finish (COMPLETE, PRUNED, or FAIL by divergence); a grid
        stops when its points are used up. Rerunning with a larger number continues.
    out : path
        Search directory; rerunning the same call after a crash resumes from its
        ``study.db``.
    seed : int
        Seeds the sampler (the grid order, TPE's draws). Training uses the run's
        ``seed``, the same for every trial.
    sampler : {"grid", "tpe"}, optional
        Overrides the space's ``sampler``.
    overrides : sequence of str
        Dotted ``key=value`` overrides of ``config``.
    progress : bool
        A progress bar over trials.

    Returns
    -------
    SearchResult

    Raises
    ------
    DataError
        Before any training, for a space naming unknown or unsearchable keys, empty
        ranges or invalid values, or an ``out`` that holds another search.
    MissingDependencyError
        Without optuna (``pip install 'skyclass[search]'``).

    Examples
    --------
    Two sine / square-wave classes (simulated), a grid of two learning rates:

    >>> import tempfile
    >>> from skyclass import LightCurve, LightCurveSet
    >>> rng = np.random.default_rng(0)
    >>> def curve(i):
    ...     t = np.sort(rng.uniform(0, 100, 50))
    ...     wave = np.sin(2 * np.pi * t / 1.7)
    ...     mag = 15 + 0.3 * (wave if i % 2 else np.sign(wave)) + rng.normal(0, 0.05, 50)
    ...     return LightCurve(time=t, mag=mag, err=np.full(50, 0.05), band="V", id=str(i))
    >>> lcs = LightCurveSet.from_lightcurves([curve(i) for i in range(24)],
    ...                                      labels=["square", "sine"] * 12)
    >>> space = {"sampler": "grid", "metric": "val_loss",
    ...          "params": {"train.lr": {"values": [1e-2, 1e20]}}}     # 1e20 diverges
    >>> with tempfile.TemporaryDirectory() as out:
    ...     cfg = RunConfig.load(overrides=[
    ...         f"data={lcs.to_parquet(Path(out) / 'toy.parquet')}", "model=mlp_features",
    ...         "representations.features.features=[amplitude,mean_mag]",
    ...         "validation_fraction=0.25", "train.max_epochs=2", "train.batch_size=8"])
    ...     result = run_search(cfg, space, trials=2, out=Path(out) / "search", progress=False)
    ...     files = sorted(p.name for p in (Path(out) / "search").iterdir())
    >>> result.best_params, list(result.trials["status"])
    ({'train.lr': 0.01}, ['COMPLETE', 'FAIL'])
    >>> result.trials["reason"][1][:32]
    'diverged: the loss became nan at'
    >>> files
    ['best.yaml', 'search.json', 'study.db', 'trials', 'trials.csv']
    """
    if isinstance(config, RunConfig):
        cfg = RunConfig.from_mapping(config.model_dump(mode="json"), overrides=overrides)
    else:
        cfg = RunConfig.load(config, overrides=overrides)
    if isinstance(space, SearchSpace):
        spec = space
    elif isinstance(space, Mapping):
        spec = SearchSpace.from_mapping(space)
    else:
        spec = SearchSpace.load(space)
    if sampler is not None:
        spec = SearchSpace.from_mapping({**spec.to_dict(), "sampler": sampler})
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise DataError(f"trials must be a positive integer, got {trials!r}")
    spec.check(cfg)
    optuna = _optuna()
    engine = _Engine(optuna, spec, seed)  # checks sampler and pruner options
    pool = selection_pool(cfg)
    _check_pool(pool, cfg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with hold_folder(out, name="search.lock", what="search"), _quiet(optuna):
        study = _open_study(optuna, spec, cfg, seed, out, engine)
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            # left RUNNING by a killed process: not counted, tried again with the same k
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
            _write_trial_metrics(out, _row(study.get_trials()[t.number], spec))
        grid = spec.grid(seed) if spec.sampler == "grid" else None
        target = trials if grid is None else min(trials, len(grid))
        done = _counted(study, optuna)
        bar = _progress(progress, target, done)
        try:
            while done < target:
                _one_trial(study, optuna, engine, spec, cfg, pool, out, done, grid)
                done = _counted(study, optuna)
                bar.update(done - bar.n)
                _write_summary(out, study, optuna, spec, cfg, seed, trials, pool)
        finally:
            bar.close()
        return _write_summary(out, study, optuna, spec, cfg, seed, trials, pool)


class _Engine:
    """Samplers (one per trial, a function of the seed and the trial's index) and pruner."""

    def __init__(self, optuna: Any, space: SearchSpace, seed: int):
        self.optuna = optuna
        self.space = space
        self.seed = seed
        if space.sampler == "tpe":
            _check_options(optuna.samplers.TPESampler, space.sampler_options, "sampler_options")
        if space.pruner == "median":
            _check_options(optuna.pruners.MedianPruner, space.pruner_options, "pruner_options")
            self.pruner = optuna.pruners.MedianPruner(**space.pruner_options)
        else:
            self.pruner = optuna.pruners.NopPruner()

    def sampler(self, index: int, grid: list[dict[str, Any]] | None) -> Any:
        if grid is not None:
            return _grid_point_sampler(self.optuna)(grid[index])
        return self.optuna.samplers.TPESampler(**self.space.sampler_options, seed=self.seed + index)


def _check_options(cls: type, options: Mapping[str, Any], key: str) -> None:
    valid = sorted(set(inspect.signature(cls).parameters) - {"seed"})
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise DataError(f"{key}: unknown {unknown}; {cls.__name__} takes {valid}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls(**options)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{key}: {exc}") from None


def _grid_point_sampler(optuna: Any) -> type:
    class GridPointSampler(optuna.samplers.BaseSampler):
        """Gives every parameter its value of one grid point."""

        def __init__(self, point: Mapping[str, Any]):
            self.point = dict(point)

        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, param_name, param_distribution):
            return self.point[param_name]

    return GridPointSampler


def _open_study(
    optuna: Any, space: SearchSpace, cfg: RunConfig, seed: int, out: Path, engine: _Engine
) -> Any:
    fingerprint = json.loads(
        json.dumps(
            {"config": cfg.model_dump(mode="json"), "space": space.to_dict(), "seed": seed},
            default=plain_json,
        )
    )
    study = optuna.create_study(
        storage=f"sqlite:///{(out / 'study.db').resolve()}",
        study_name=STUDY_NAME,
        direction=space.direction,
        pruner=engine.pruner,
        load_if_exists=True,
    )
    saved = study.user_attrs.get("skyclass_search")
    if saved is None and study.get_trials(deepcopy=False):
        raise DataError(
            f"{out / 'study.db'} holds a study skyclass did not start; use another --out",
            source=str(out),
        )
    if saved is not None and saved != fingerprint:
        changed = sorted(k for k in fingerprint if saved.get(k) != fingerprint[k])
        raise DataError(
            f"this directory holds a search with another {', '.join(changed)}; rerun with the "
            "same config, space and seed to resume it, or choose another --out",
            source=str(out),
        )
    if saved is None:
        study.set_user_attr("skyclass_search", fingerprint)
    if study.direction.name.lower() != space.direction:
        raise DataError(f"the study's direction is not {space.direction}", source=str(out))
    return study


def _counted(study: Any, optuna: Any) -> int:
    state = optuna.trial.TrialState
    return sum(
        t.state in (state.COMPLETE, state.PRUNED)
        or (t.state == state.FAIL and t.user_attrs.get("counted", False))
        for t in study.get_trials(deepcopy=False)
    )


def _one_trial(
    study: Any,
    optuna: Any,
    engine: _Engine,
    space: SearchSpace,
    cfg: RunConfig,
    pool: LightCurveSet,
    out: Path,
    index: int,
    grid: list[dict[str, Any]] | None,
) -> None:
    from skyclass.training import TrainingError

    study.sampler = engine.sampler(index, grid)
    trial = study.ask()
    trial.set_user_attr("index", index)
    params = {p.name: p._suggest(trial) for p in space.params}
    trial.set_user_attr("params", params)
    trial_cfg = apply_params(cfg, params)
    folder = _trial_dir(out, trial.number)
    folder.mkdir(parents=True, exist_ok=True)
    trial_cfg.to_yaml(folder / "config.yaml")
    start = time.perf_counter()
    state, value, error = optuna.trial.TrialState.COMPLETE, None, None
    try:
        found = _fit_trial(trial, trial_cfg, pool, space, optuna)
        for key, item in found.items():
            trial.set_user_attr(key, item)
        value = found["value"]
        if not math.isfinite(value):
            state = optuna.trial.TrialState.FAIL
            trial.set_user_attr("reason", f"diverged: {space.metric} is {value}")
            trial.set_user_attr("counted", True)
    except optuna.TrialPruned as exc:
        state = optuna.trial.TrialState.PRUNED
        trial.set_user_attr("reason", str(exc) or "pruned")
    except TrainingError as exc:
        state = optuna.trial.TrialState.FAIL
        trial.set_user_attr("reason", f"diverged: {exc}")
        trial.set_user_attr("counted", True)
    except Exception as exc:
        # a bug or bad data, not a bad hyperparameter: recorded, not counted, raised
        error = exc
        state = optuna.trial.TrialState.FAIL
        trial.set_user_attr("reason", f"error: {type(exc).__name__}: {exc}")
    trial.set_user_attr("seconds", round(time.perf_counter() - start, 3))
    if state == optuna.trial.TrialState.COMPLETE:
        frozen = study.tell(trial, value)
    else:
        frozen = study.tell(trial, state=state)
    _write_trial_metrics(out, _row(frozen, space))
    if error is not None:
        raise error


def _fit_trial(
    trial: Any, cfg: RunConfig, pool: LightCurveSet, space: SearchSpace, optuna: Any
) -> dict[str, Any]:
    """Train one configuration; its validation metrics at the epoch training keeps."""
    from skyclass.runs import make_estimator

    def report(epoch: int, record: Mapping[str, float]) -> None:
        value = record.get(space.metric)
        if value is None or not math.isfinite(value):
            return
        trial.report(float(value), epoch)
        if space.pruner != "none" and trial.should_prune():
            trial.set_user_attr("epochs", int(epoch))
            trial.set_user_attr("val_metrics", _val_metrics(record))
            raise optuna.TrialPruned(f"pruned after epoch {epoch}: {space.metric} {value:.4g}")

    # calibration and unknown-class scores play no part in the selection: skipped
    skip = {"calibration": None, "ood": None} if cfg.task == "classification" else {}
    est = make_estimator(cfg, progress=False, on_epoch_end=report, **skip)
    with limit_threads(1):  # one thread: equal parameters give equal values
        est.fit(pool)
    history = est.history_
    if len(history) == 0:
        raise DataError("training ran no epoch")
    epoch = history.best_epoch or len(history)
    record = history[epoch - 1]
    if space.metric not in record:
        raise DataError(f"training recorded no {space.metric}; is there a validation set?")
    return {
        "value": float(record[space.metric]),
        "best_epoch": int(epoch),
        "epochs": len(history),
        "val_metrics": _val_metrics(record),
        "n_train": int(est.fit_report_["n_train"]),
        "n_val": int(est.fit_report_["n_val"]),
    }


def _val_metrics(record: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in record.items() if k.startswith("val_")}


@contextlib.contextmanager
def _quiet(optuna: Any) -> Iterator[None]:
    """Optuna's per-trial log lines and experimental-feature warnings off for the search."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)


def _progress(show: bool, total: int, done: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="search trials", unit="trial", disable=not show)


# ------------------------------------------------------------------- outputs
def _trial_dir(out: Path, number: int) -> Path:
    return out / "trials" / f"{number:04d}"


def _row(trial: Any, space: SearchSpace) -> dict[str, Any]:
    """One trial as ``metrics.json`` and ``trials.csv`` hold it."""
    attrs = trial.user_attrs
    status = trial.state.name
    reason = attrs.get("reason", "")
    if status == "FAIL" and not reason:
        reason = "interrupted"
    params = attrs.get("params") or {k: _decode(v) for k, v in trial.params.items()}
    return {
        "number": trial.number,
        "index": attrs.get("index"),
        "status": status,
        "counted": status in ("COMPLETE", "PRUNED") or bool(attrs.get("counted", False)),
        # a pruned trial's value is its last reported validation value
        "value": trial.value if status in ("COMPLETE", "PRUNED") else None,
        "metric": space.metric,
        "params": params,
        "reason": reason,
        "best_epoch": attrs.get("best_epoch"),
        "epochs": attrs.get("epochs"),
        "val_metrics": attrs.get("val_metrics", {}),
        "validation_curve": {str(k): v for k, v in sorted(trial.intermediate_values.items())},
        "n_train": attrs.get("n_train"),
        "n_val": attrs.get("n_val"),
        "seconds": attrs.get("seconds"),
    }


def _write_result(path: Path, data: Any) -> None:
    write_json(path, finite_json(data), default=plain_json, allow_nan=False)


def _write_trial_metrics(out: Path, row: Mapping[str, Any]) -> None:
    _write_result(_trial_dir(out, row["number"]) / "metrics.json", dict(row))


def _best(rows: list[dict[str, Any]], direction: str) -> dict[str, Any] | None:
    done = [r for r in rows if r["status"] == "COMPLETE" and r["value"] is not None]
    if not done:
        return None
    sign = -1.0 if direction == "maximize" else 1.0
    # ties go to the earlier trial of the sequence, whatever the trial numbers
    return min(done, key=lambda r: (sign * r["value"], r["index"], r["number"]))


def _write_summary(
    out: Path,
    study: Any,
    optuna: Any,
    space: SearchSpace,
    cfg: RunConfig,
    seed: int,
    trials: int,
    pool: LightCurveSet,
) -> SearchResult:
    import pandas as pd

    rows = [_row(t, space) for t in study.get_trials(deepcopy=False)]
    best = _best(rows, space.direction)
    best_cfg = None
    if best is not None:
        best_cfg = apply_params(cfg, best["params"])
        best_cfg.to_yaml(out / "best.yaml")
    table = pd.DataFrame(
        [
            {
                **{k: r[k] for k in ("number", "index", "status", "counted", "value")},
                **{k: _cell(v) for k, v in r["params"].items()},
                **r["val_metrics"],
                **{k: r[k] for k in ("best_epoch", "epochs", "seconds", "reason")},
            }
            for r in rows
        ],
        columns=None if rows else ["number", "index", "status", "counted", "value"],
    )
    table.to_csv(out / "trials.csv", index=False)
    summary = {
        "metric": space.metric,
        "direction": space.direction,
        "sampler": space.sampler,
        "seed": seed,
        "trials_requested": trials,
        "trials_counted": int(sum(r["counted"] for r in rows)),
        "grid_points": space.n_grid_points if space.sampler == "grid" else None,
        "best": None
        if best is None
        else {k: best[k] for k in ("number", "index", "value", "params", "val_metrics")},
        "selection": {
            "objects_used": len(pool),
            "test_fraction_held_out": cfg.test_fraction,
            "validation_fraction": cfg.validation_fraction,
            "note": "trials are scored on validation objects only; the objects train_run "
            "holds out as its test set are never loaded into a trial",
        },
        "space": space.to_dict(),
        "config": cfg.model_dump(mode="json"),
        "trials": rows,
    }
    _write_result(out / "search.json", summary)
    return SearchResult(
        out=out,
        metric=space.metric,
        direction=space.direction,
        best_number=None if best is None else best["number"],
        best_params=None if best is None else dict(best["params"]),
        best_value=None if best is None else float(best["value"]),
        best_config=best_cfg,
        trials=table,
    )


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)
