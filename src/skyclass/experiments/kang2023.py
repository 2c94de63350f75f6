"""kang2023: GP-augmented bagging ensemble against two augmentation baselines, on EROS-1.

Kang et al. (2023) classify CRTS DR2 periodic variables with an RNN multi-input
net and a compound RNN + CNN net. Their answer to class imbalance is a
"bagging-like" ensemble: the training part of a 6:1:3 split is resampled into
``n_bags`` sub-datasets of ``per_class`` curves per class (big classes randomly
undersampled, small ones topped up with Gaussian-process synthetic curves that
are fresh in every bag), one net is trained per bag and the nets' probabilities
are averaged. They report that this beats "equal augmentation" (every class
GP-augmented to the size of the largest) and "moderate augmentation + class
weights" in macro F1 (0.71 against 0.66 and 0.67 for the RNN net).

This runner repeats that comparison on the real data we hold (EROS-1 LMC by
default, or any labelled set named by ``settings.data``): kang2023's cleaning
(errors > 2× the mean error, 3σ from a SuperSmoother fit of the folded curve,
then single-point outliers and a minimum of epochs), a stratified 6:1:3 split
by object, and for every seed the three strategies on the *same* split, for
the RNN net and the compound net. The compound net is trained in kang2023's two
stages: each bag's trained RNN net is loaded into the compound net's ``rnn``
part, frozen (:func:`skyclass.training.ensemble.prepare_second_stage`), and the
image CNN and the head are trained on the same bag.

Honest evaluation: plans are built from the training labels only and checked
against the validation and test ids (:func:`~skyclass.augment.balance.check_plan`);
GPs are fitted to training prototypes only; the validation part (early
stopping / best epoch) and the test part are never augmented. Differences from
the paper are listed in ``configs/kang2023.yaml`` and in the report's table note.

Two ablations, chosen with ``--set settings.ablation=NAME`` (their settings are in
``settings.ablations``), return the same metrics with their own tables:

- ``cross_test``: kang2023's k-fold cross-test of the RNN ensemble. Stratified
  folds by object; in each fold the other folds are the pool, a validation share
  is carved from it, the bags are planned and the GPs fitted on that fold's
  training objects only, and the fold is predicted. Per-fold scores and the median
  recall-view confusion matrix with the second-worst / second-best fold per cell
  (:func:`median_and_spread`, the paper's Fig. 8).
- ``compound``: on the 6:1:3 split of each seed, the compound net trained in two
  stages (as the reproduction) or jointly end to end, each with and without the
  numeric branch (:data:`COMPOUND_VARIANTS`), all on the same bags.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.experiments.runner import (
    ExperimentConfig,
    deep_merge,
    mean_std,
    objects_digest,
    pick_ablation,
    pooled_summary,
    register_experiment,
    reuse_result,
    subsample,
    unit_origin,
)
from skyclass.lightcurve import LightCurveSet

__all__ = [
    "ABLATIONS",
    "COMPOUND_VARIANTS",
    "NETS",
    "PLANS",
    "BaggedClassifier",
    "make_plan",
    "materialize_bag",
    "median_and_spread",
    "prepare",
    "second_stage",
]

#: The two nets of kang2023: stage-1 RNN net and the two-stage compound net.
NETS = ("kang2023_rnn", "kang2023_compound")

STRATEGY_NAMES = {
    "bagging": "GP augmentation + bagging ensemble",
    "equal": "equal augmentation",
    "moderate": "moderate augmentation + class weights",
}


def _bagging(labels: np.ndarray, settings: Mapping[str, Any], seed: int) -> list:
    from skyclass.augment.balance import bagging_plan

    return bagging_plan(
        labels, n_bags=int(settings["n_bags"]), per_class=int(settings["per_class"]), seed=seed
    )


def _equal(labels: np.ndarray, settings: Mapping[str, Any], seed: int) -> list:
    from skyclass.augment.balance import equal_augmentation_plan

    return equal_augmentation_plan(labels, seed=seed)


def _moderate(labels: np.ndarray, settings: Mapping[str, Any], seed: int) -> list:
    from skyclass.augment.balance import moderate_augmentation_plan

    return moderate_augmentation_plan(
        labels,
        target=int(settings.get("moderate_target") or settings["per_class"]),
        scheme=settings.get("class_weights", "balanced"),
        seed=seed,
    )


#: The three training strategies compared by kang2023: name -> plan builder.
PLANS: dict[str, Callable[[np.ndarray, Mapping[str, Any], int], list]] = {
    "bagging": _bagging,
    "equal": _equal,
    "moderate": _moderate,
}


def make_plan(
    strategy: str, labels: Sequence[Any] | np.ndarray, settings: Mapping[str, Any], *, seed: int
) -> list:
    """The bags of one strategy, planned from the training labels.

    Parameters
    ----------
    strategy : {"bagging", "equal", "moderate"}
        kang2023's ensemble (``n_bags`` bags of ``per_class`` curves per class),
        equal augmentation (every class to the largest class's size, one bag) or
        moderate augmentation (small classes to ``moderate_target``, default
        ``per_class``; big ones whole; ``class_weights`` scheme in the loss).
    labels : array_like
        Class of every **training** object.
    settings : mapping
        ``n_bags``, ``per_class`` and optionally ``moderate_target``, ``class_weights``.
    seed : int
        Seed of the plan (undersampling, prototypes and the bags' GP draws).

    Returns
    -------
    list of skyclass.augment.balance.Bag

    Examples
    --------
    >>> labels = ["a"] * 6 + ["b"] * 2
    >>> plan = make_plan("bagging", labels, {"n_bags": 3, "per_class": 4}, seed=0)
    >>> len(plan), [len(b) for b in plan]
    (3, [8, 8, 8])
    >>> (bag,) = make_plan("equal", labels, {"per_class": 4}, seed=0)
    >>> bag.n_real, bag.n_synthetic
    (8, 4)
    >>> make_plan("smote", labels, {}, seed=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown strategy 'smote'; choose one of ['bagging', 'equal', 'moderate']
    """
    if strategy not in PLANS:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {list(PLANS)}")
    return PLANS[strategy](np.asarray(labels, dtype=object), settings, seed)


# ------------------------------------------------------------------------ data
def prepare(settings: Mapping[str, Any], *, seed: int) -> tuple[LightCurveSet, dict]:
    """Load ``settings["data"]``, optionally shrink it, clean it as kang2023, drop tiny classes.

    ``fraction`` keeps a stratified share of the objects (class proportions, and so
    the imbalance the paper is about, are kept); ``max_per_class`` caps each class.
    Periods come from the set's ``period`` column (searched where missing). The
    cleaning is :class:`~skyclass.preprocess.clean.Cleaner` with ``cleaning`` steps
    (default: its kang2023 steps). Classes with fewer than ``min_class_size``
    objects left are dropped and listed.

    Examples
    --------
    >>> lcs, info = prepare({"data": "eros1_lmc", "fraction": 0.05}, seed=0)  # doctest: +SKIP
    >>> info["cleaning_steps"]  # doctest: +SKIP
    ['errors', 'supersmoother', 'outliers', 'min_epochs']
    """
    from skyclass.datasets import load
    from skyclass.preprocess.clean import CleanConfig, Cleaner

    lcs = load(settings["data"])
    if "label" not in lcs.objects.columns or not lcs.objects["label"].notna().any():
        raise DataError(
            f"{settings['data']!r} has no labels; kang2023 needs a labelled set",
            source=str(settings["data"]),
        )
    lcs = lcs.select(np.flatnonzero(lcs.objects["label"].notna().to_numpy()))
    n_loaded = len(lcs)
    fraction = settings.get("fraction")
    if fraction:
        lcs = lcs.split((fraction, 1 - fraction), names=("keep", "rest"), seed=seed)["keep"]
    lcs = subsample(lcs, settings.get("max_per_class"), seed=seed)
    lcs = _with_periods(lcs)
    steps = settings.get("cleaning")
    cleaner = Cleaner(CleanConfig(steps=steps) if steps else None)
    cleaned = cleaner.transform_many(lcs, periods="period")
    counts = cleaned.class_counts()
    small = sorted(str(c) for c, n in counts.items() if n < settings.get("min_class_size", 10))
    labels = np.array([str(x) for x in cleaned.labels])
    keep = np.flatnonzero(~np.isin(labels, small))
    if keep.size == 0:
        raise DataError("every class is below min_class_size after cleaning; lower it")
    info = {
        "name": str(settings["data"]),
        "n_loaded": n_loaded,
        "n_used": len(lcs),
        "n_cleaned": len(cleaned),
        "skipped_cleaning": len(cleaned.skipped) - len(lcs.skipped),
        "cleaning_steps": [s["step"] for s in cleaner.config.steps],
        "epochs_removed_median": float(np.median(cleaned.objects["n_removed"])),
        "classes_left_out": small,
    }
    return cleaned.select(keep), info


def _with_periods(lcs: LightCurveSet) -> LightCurveSet:
    """``lcs`` with a ``period`` column, searched where the set gives none."""
    from skyclass.estimator import fill_periods

    return fill_periods(lcs, period="auto")


def _main_band(lcs: LightCurveSet, wanted: str | None) -> str:
    """``wanted`` when the set has it, else the band with the most epochs."""
    if wanted in lcs.bands:
        return str(wanted)
    return str(lcs.epochs_per_band().sum().idxmax())


def materialize_bag(train: LightCurveSet, bag: Any, augmenter: Any = None) -> LightCurveSet:
    """The curves of one bag: its real training objects, then fresh GP synthetic curves.

    Parameters
    ----------
    train : LightCurveSet
        The training part the bag was planned from (``bag.n_train == len(train)``).
    bag : skyclass.augment.balance.Bag
    augmenter : skyclass.augment.gp.GPAugmenter, optional
        Fitted to (at least) the bag's prototypes, all of them training objects;
        needed when the bag has synthetic curves. The draws use ``bag.seed``, so a
        bag always gives the same curves and two bags give different ones.

    Returns
    -------
    LightCurveSet
        Objects ``id``, ``label``, ``period`` (the prototype's for a synthetic
        curve), ``synthetic`` and ``prototype`` (the prototype's id, "" for real ones).

    Examples
    --------
    >>> from skyclass import LightCurve
    >>> from skyclass.augment.balance import Bag
    >>> from skyclass.augment.gp import GPAugmenter
    >>> rng = np.random.default_rng(0)
    >>> curves = []
    >>> for i in range(3):
    ...     t = np.sort(rng.uniform(0, 30, 25))
    ...     curves.append(LightCurve(time=t, mag=12 + 0.2 * np.cos(t), err=np.full(25, .02),
    ...                              band="r", id=f"s{i}"))
    >>> train = LightCurveSet.from_lightcurves(curves, labels=["a", "a", "b"])
    >>> bag = Bag(real=[0, 1, 2], synthetic=[2], seed=3, n_train=3)
    >>> s = materialize_bag(train, bag, GPAugmenter(restarts=1).fit([train["s2"]]))
    >>> s.ids.tolist(), s.labels.tolist(), s.objects["synthetic"].tolist()
    (['s0', 's1', 's2', 's2~gp0'], ['a', 'a', 'b', 'b'], [False, False, False, True])
    """
    if bag.n_train != len(train):
        raise DataError(
            f"the bag was planned for {bag.n_train} training objects, the set has {len(train)}; "
            "pass the training part the plan was made from"
        )
    labels = np.array([str(x) for x in train.labels], dtype=object)
    periods = (
        train.objects["period"].to_numpy(float)
        if "period" in train.objects.columns
        else np.full(len(train), np.nan)
    )
    curves = list(train.select(bag.real)) if bag.n_real else []
    rows = {
        "label": list(labels[bag.real]),
        "period": list(periods[bag.real]),
        "synthetic": [False] * bag.n_real,
        "prototype": [""] * bag.n_real,
    }
    if bag.n_synthetic:
        if augmenter is None or not hasattr(augmenter, "fits_"):
            raise DataError("the bag has synthetic curves: pass a GPAugmenter fitted to them")
        fitted = {str(lc.id): j for j, lc in enumerate(augmenter.curves_)}
        positions, counts = bag.prototype_counts()
        n_per_curve = np.zeros(len(fitted), dtype=np.int64)
        for pos, count in zip(positions, counts, strict=True):
            key = str(train.ids[pos])
            if key not in fitted:
                raise DataError(
                    f"prototype {key!r} of the bag is not among the augmenter's curves; fit "
                    "the augmenter to the training prototypes of the plan"
                )
            n_per_curve[fitted[key]] = count
        synthetic = augmenter.sample(n_per_curve.tolist(), rng=np.random.default_rng(bag.seed))
        index = {key: pos for pos, key in zip(positions, train.ids[positions], strict=True)}
        for lc in synthetic:
            pos = index[str(lc.meta["prototype"])]
            rows["label"].append(labels[pos])
            rows["period"].append(periods[pos])
            rows["synthetic"].append(True)
            rows["prototype"].append(str(lc.meta["prototype"]))
        curves += synthetic
    if not curves:
        raise DataError("the bag is empty")
    return LightCurveSet.from_lightcurves(
        curves, objects=pd.DataFrame(rows), meta={**train.meta, "skipped": []}
    )


# ------------------------------------------------------------------- training
def second_stage(
    rnn: Any,
    train: LightCurveSet,
    *,
    val: LightCurveSet | None = None,
    train_config: Mapping[str, Any] | None = None,
    random_state: int = 0,
    model_options: Mapping[str, Any] | None = None,
) -> Any:
    """kang2023's stage 2: the compound net on top of a trained, frozen RNN net.

    Parameters
    ----------
    rnn : LightCurveClassifier
        Fitted with ``model="kang2023_rnn"`` and representations that include
        ``image`` (the RNN net ignores it; the compound net's CNN reads it).
    train, val : LightCurveSet
        The same training curves (and validation part) as stage 1.
    train_config : mapping, optional
        :class:`~skyclass.training.TrainConfig` fields (its ``seed`` is
        ``random_state``); ``class_weights`` may be given.
    random_state : int
        Seeds the new layers' weights and the data order.
    model_options : mapping, optional
        Extra options of the CNN branch (``cnn_dropout``...).

    Returns
    -------
    LightCurveClassifier
        A fitted estimator of ``model="kang2023_compound"`` that shares the RNN
        estimator's representations and feature scaler; its ``rnn`` part holds
        the stage-1 weights, unchanged.

    Examples
    --------
    >>> reps = {"sequence": {"max_len": 128, "band_order": ["R"]}, "features": {},
    ...         "image": {"band": "R"}}
    >>> rnn = LightCurveClassifier(model="kang2023_rnn", representations=reps,
    ...                            calibration=None).fit(bag, val=val)  # doctest: +SKIP
    >>> compound = second_stage(rnn, bag, val=val)  # doctest: +SKIP
    >>> compound.predict_proba(test).shape  # doctest: +SKIP
    (870, 4)
    """
    from skyclass.training import fit
    from skyclass.training.ensemble import prepare_second_stage

    rnn.check_is_fitted()
    if "image" not in rnn.representation_options_:
        raise DataError(
            "the RNN estimator has no 'image' representation for the compound net's CNN; "
            "fit it with representations including {'image': {...}}"
        )
    arrays, valid, errors = rnn.transform(train)
    keep = np.flatnonzero(valid)
    if keep.size == 0:
        raise DataError("no training object could be represented for the compound net")
    arrays = {k: v[keep] for k, v in arrays.items()}
    y = rnn.encode_labels(train.labels[keep])
    val_arrays = val_y = None
    if val is not None:
        va, vvalid, verrors = rnn.transform(val)
        vkeep = np.flatnonzero(vvalid)
        val_arrays = {k: v[vkeep] for k, v in va.items()}
        val_y = rnn.encode_labels(val.labels[vkeep])
        errors = {**errors, **verrors}
    options = {k: v for k, v in rnn.model_.config.items() if k != "name"}
    options.update(dict(model_options or {}))
    options["image_channels"] = int(arrays["image"].shape[1])
    fitted = fit(
        "kang2023_compound",
        arrays,
        y,
        val_arrays=val_arrays,
        val_targets=val_y,
        num_outputs=options.pop("num_outputs"),
        model_options=options,
        train=train_config,
        seed=random_state,
        # Frozen RNN part: no gradients. Its dropout still acts while training, as
        # under Keras' trainable=False (the compound calls rnn.sequence_embedding,
        # not rnn(), so freeze()'s eval-mode hook does not fire).
        prepare=lambda net: prepare_second_stage(net, rnn.model_.state_dict(), submodule="rnn"),
    )
    compound, trainer, history, cfg = fitted.model, fitted.trainer, fitted.history, fitted.config
    est = copy.copy(rnn)
    est.model = "kang2023_compound"
    est.model_options = {**dict(rnn.model_options or {}), **dict(model_options or {})}
    est.model_ = compound
    est.trainer_ = trainer
    est.train_config_ = cfg
    est.history_ = history
    est.calibrator_ = None
    est.ood_ = None
    est.fit_report_ = {
        "n_train": int(keep.size),
        "n_val": 0 if val_y is None else len(val_y),
        "skipped": errors,
        "bands": list(rnn.bands_),
        "epochs": len(history),
        "stage": 2,
    }
    return est


class BaggedClassifier:
    """Fitted members whose class probabilities are averaged (kang2023's ensemble).

    It offers what the evaluation helpers read from a fitted estimator
    (``classes_``, ``period``, ``period_options``, ``predict_proba``,
    ``predict_raw``); the members' spread comes from
    :func:`skyclass.training.ensemble.ensemble_spread`.

    Parameters
    ----------
    members : sequence of LightCurveClassifier
        Fitted on the same classes.

    Examples
    --------
    >>> class Fixed:  # a stand-in for a fitted LightCurveClassifier
    ...     classes_, period, period_options = ("a", "b"), "auto", None
    ...     def __init__(self, p):
    ...         self.p = np.array(p)
    ...     def predict_proba(self, lcs):
    ...         return self.p
    >>> ens = BaggedClassifier([Fixed([[0.9, 0.1]]), Fixed([[0.5, 0.5]])])
    >>> len(ens), ens.predict_proba(None).tolist()
    (2, [[0.7, 0.3]])
    """

    task = "classification"

    def __init__(self, members: Sequence[Any]):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        classes = {tuple(m.classes_) for m in members}
        if len(classes) != 1:
            raise DataError(f"the members were fitted on different classes: {sorted(classes)}")
        self.members = list(members)
        self.classes_ = tuple(members[0].classes_)
        self.period = members[0].period
        self.period_options = members[0].period_options
        self.fit_report_ = {"n_members": len(self.members)}

    def __len__(self) -> int:
        return len(self.members)

    def member_probabilities(self, lcs: LightCurveSet) -> list[np.ndarray]:
        """Each member's probabilities, (N, n_classes), NaN rows where not represented."""
        return [m.predict_proba(lcs) for m in self.members]

    def predict_raw(self, lcs: LightCurveSet, *, embedding: bool = False) -> Any:
        """The members' averaged probabilities, as a fitted estimator's ``predict_raw``
        (a :class:`~skyclass.estimator.RawPrediction`).

        The members' embeddings are not averaged: ``embedding=True`` is refused.
        """
        from skyclass.estimator import RawPrediction

        if embedding:
            raise ValueError("a bagged ensemble has no embedding of its own")
        return RawPrediction(*self._combine(self.member_probabilities(lcs)))

    def _combine(self, probas: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict]:
        from skyclass.training.ensemble import average_probabilities

        mean = average_probabilities(probas)
        valid = np.isfinite(mean).all(axis=1)
        return mean, valid, {}

    def predict_proba(self, lcs: LightCurveSet) -> np.ndarray:
        """Averaged probabilities, (N, n_classes) in ``classes_`` order."""
        return self.predict_raw(lcs).outputs


def _bag_train_config(bag_lcs: LightCurveSet, bag: Any, settings: Mapping[str, Any]) -> dict:
    """The training settings of one bag's nets (with the bag's class weights, if any)."""
    train_cfg = dict(settings["train"])
    if bag.class_weights is not None:
        classes = sorted({str(x) for x in bag_lcs.labels})
        train_cfg["class_weights"] = [bag.class_weights[c] for c in classes]
    return train_cfg


def _fit_rnn(
    bag_lcs: LightCurveSet,
    val: LightCurveSet,
    train_cfg: Mapping[str, Any],
    settings: Mapping[str, Any],
    representations: dict,
    random_state: int,
):
    return _fit_net(
        "kang2023_rnn",
        settings.get("rnn_options") or None,
        bag_lcs,
        val,
        train_cfg,
        representations,
        random_state,
    )


def _fit_net(
    model: str,
    model_options: Mapping[str, Any] | None,
    bag_lcs: LightCurveSet,
    val: LightCurveSet,
    train_cfg: Mapping[str, Any],
    representations: dict,
    random_state: int,
):
    """One net of ``model`` trained from scratch on a bag (early stopping on ``val``)."""
    from skyclass.estimator import LightCurveClassifier

    est = LightCurveClassifier(
        model=model,
        model_options=dict(model_options) if model_options else None,
        representations=representations,
        train=dict(train_cfg),
        calibration=None,
        ood=None,
        random_state=random_state,
        progress=False,
    )
    return est.fit(bag_lcs, val=val)


#: Settings that do not change a bag net (left out of its key, so a resumed run reuses it).
_NOT_IN_KEY = {
    "nets",
    "threads",
    "ablation",
    "ablations",
    "expected_duration",
    "variants",
    "folds",
}


def _member_key(
    settings: Mapping[str, Any], net: str, seed: int, strategy: str, k: int, *, extra: Any = None
) -> str:
    """What a saved bag net depends on: every setting but the nets run, threads, ablation list.

    ``extra`` (an ablation's fold or variant) is added only when given, so the keys of
    the plain reproduction's nets are those of the runs saved before ablations existed.
    """
    kept = {k_: v for k_, v in settings.items() if k_ not in _NOT_IN_KEY}
    parts = [kept, net, seed, strategy, k] + ([] if extra is None else [extra])
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# ------------------------------------------------------------------- evaluation
def _balanced_accuracy(proba: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> float:
    ok = np.isfinite(proba).all(axis=1)
    pred = np.asarray(classes, dtype=object)[np.argmax(np.where(ok[:, None], proba, 0), axis=1)]
    truth = labels.astype(str)
    recalls = [np.mean(pred[ok & (truth == c)] == c) for c in classes if (ok & (truth == c)).any()]
    return float(np.mean(recalls)) if recalls else float("nan")


def _evaluate(
    ensemble: BaggedClassifier,
    test: LightCurveSet,
    val: LightCurveSet,
    run_dir: Path,
    *,
    examples: bool,
) -> dict:
    """Score one strategy's ensemble on the test part; write ``predictions.parquet``."""
    from skyclass.evaluate.metrics import classification_summary
    from skyclass.runs import write_examples
    from skyclass.training.ensemble import ensemble_spread

    run_dir.mkdir(parents=True, exist_ok=True)
    classes = list(ensemble.classes_)
    labels = np.array([str(x) for x in test.labels], dtype=object)
    probas = ensemble.member_probabilities(test)
    proba, ok, _ = ensemble._combine(probas)
    y = np.array([classes.index(x) for x in labels])
    summary = classification_summary(y[ok], proba[ok], classes)
    summary["n_not_represented"] = int((~ok).sum())
    table = pd.DataFrame({"object_id": test.ids.astype(str)})
    predicted = np.full(len(test), None, dtype=object)
    predicted[ok] = np.asarray(classes, dtype=object)[np.argmax(proba[ok], axis=1)]
    table["predicted"] = predicted
    for i, c in enumerate(classes):
        table[f"prob_{c}"] = proba[:, i]
    spread = {"mean_std_predicted": float("nan"), "mean_disagreement": float("nan")}
    table["ensemble_std"] = np.nan
    table["ensemble_disagreement"] = np.nan
    if ok.any():
        s = ensemble_spread([p[ok] for p in probas])
        table.loc[ok, "ensemble_std"] = s["std_predicted"]
        table.loc[ok, "ensemble_disagreement"] = s["disagreement"]
        spread = {
            "mean_std_predicted": float(s["std_predicted"].mean()),
            "mean_disagreement": float(s["disagreement"].mean()),
            "share_not_unanimous": float(np.mean(s["disagreement"] > 0)),
        }
    table["error"] = np.where(ok, "", "not represented")
    if examples:
        write_examples(ensemble, test, table, labels, run_dir, 2)
    table["label"] = labels
    table.to_parquet(run_dir / "predictions.parquet", index=False)
    val_labels = np.array([str(x) for x in val.labels], dtype=object)
    member_test = [_balanced_accuracy(p, labels, classes) for p in probas]
    member_val = [
        _balanced_accuracy(m.predict_proba(val), val_labels, classes) for m in ensemble.members
    ]
    return {
        "summary": summary,
        "macro_f1": summary["macro_f1"],
        "balanced_accuracy": summary["balanced_accuracy"],
        "accuracy": summary["accuracy"],
        "recall": {c: v["recall"] for c, v in summary["per_class"].items()},
        "classes": classes,
        "confusion_true": summary["confusion_matrix_normalized"]["true"],
        "spread": spread,
        "members_test_balanced_accuracy": member_test,
        "members_val_balanced_accuracy": member_val,
    }


class _Log:
    """Timestamped lines into ``log.txt`` (and the terminal with ``echo``)."""

    def __init__(self, path: Path, *, echo: bool):
        self.path = path
        self.echo = echo

    def __call__(self, message: str) -> None:
        line = f"{datetime.now(UTC).isoformat(timespec='seconds')} {message}"
        with self.path.open("a") as f:
            f.write(line + "\n")
        if self.echo:
            print(line, flush=True)


# ------------------------------------------------------------------------- run
@register_experiment("kang2023")
def run(cfg: ExperimentConfig, out: Path, *, progress: bool = True) -> dict:
    """Every seed: split 6:1:3, then each strategy × net on that split; tables over seeds.

    ``settings.ablation`` runs one of :data:`ABLATIONS` instead (``cross_test``: the
    10-fold cross-test of the RNN ensemble; ``compound``: two-stage against joint
    training of the compound net, with and without its numeric branch).
    """
    import torch
    from threadpoolctl import threadpool_limits

    runner = pick_ablation("kang2023", cfg.settings, ABLATIONS) or _run
    threads = torch.get_num_threads()
    wanted = cfg.settings.get("threads")
    if wanted:
        torch.set_num_threads(int(wanted))
    try:
        # numpy's BLAS too: the GP draws' solves ran 10-70x slower with OpenBLAS
        # spreading over cores that other jobs hold (measured on 2 loaded cores).
        with threadpool_limits(limits=int(wanted) if wanted else None):
            return runner(cfg, out, progress=progress)
    finally:
        torch.set_num_threads(threads)


def _setup(
    cfg: ExperimentConfig, s: Mapping[str, Any], out: Path, nets: Sequence[str], *, progress: bool
) -> tuple[LightCurveSet, dict, dict, _Log]:
    """The cleaned set, its description, the nets' representations and the run's log."""
    log = _Log(out / "log.txt", echo=progress)
    lcs, info = prepare(s, seed=cfg.seeds[0])
    band = _main_band(lcs, s.get("band"))
    reps: dict[str, dict[str, Any]] = {
        "sequence": {"max_len": int(s["max_len"]), "band_order": [band]},
        "features": {},
    }
    if "kang2023_compound" in nets:
        reps["image"] = {"band": band, "size": int(s.get("image_size", 128))}
    info.update({"classes": lcs.class_counts().to_dict(), "sequence_band": band})
    log(f"data {info['name']}: {len(lcs)} objects after cleaning, classes {info['classes']}")
    return lcs, info, reps, log


def _run(cfg: ExperimentConfig, out: Path, *, progress: bool) -> dict:
    s = cfg.settings
    nets = [n for n in NETS if n in s["nets"]]
    unknown = sorted(set(s["nets"]) - set(NETS)) + sorted(set(s["strategies"]) - set(PLANS))
    if unknown or not nets:
        raise ValueError(
            f"unknown nets or strategies {unknown}; nets: {list(NETS)}, strategies: {list(PLANS)}"
        )
    lcs, info, reps, log = _setup(cfg, s, out, nets, progress=progress)
    exp = _Experiment(s, out, nets, list(s["strategies"]), reps, log)
    objects = objects_digest(lcs.ids)
    for seed in cfg.seeds:
        # One seed (every net and strategy on its split) is a unit: kept with its scores,
        # also in a unit record, so seeds can run as separate processes or machines.
        key = _member_key(s, "seed", seed, "all", 0, extra=[nets, exp.strategies, objects])
        unit = reuse_result(
            out / "seeds" / f"seed{seed}",
            key,
            lambda seed=seed: _seed_unit(exp, lcs, seed),
            aggregates=True,
        )
        if exp.restore(unit, f"seed{seed}: every net"):
            for net, by_strategy in unit["results"].items():
                for strategy, entries in by_strategy.items():
                    exp.results[net][strategy].extend(entries)
            for name, values in unit["timing"].items():
                exp.timing[name].extend(values)
    return _metrics(cfg, info, lcs, exp.results, exp.headline, exp.timing, nets, exp.strategies)


def _seed_unit(exp: _Experiment, lcs: LightCurveSet, seed: int) -> dict:
    """Run one seed and return what it added: scores per net and strategy, timings, headline."""
    results = {n: {k: len(v) for k, v in d.items()} for n, d in exp.results.items()}
    timing = {k: len(v) for k, v in exp.timing.items()}
    had_headline = bool(exp.headline)
    exp.run_seed(lcs, seed)
    return {
        "results": {
            n: {k: v[results[n][k] :] for k, v in d.items()} for n, d in exp.results.items()
        },
        "timing": {k: v[timing[k] :] for k, v in exp.timing.items()},
        "headline": {} if had_headline else exp.headline,
    }


class _Experiment:
    """State of one reproduction: settings, results so far, timings and the headline run."""

    def __init__(self, settings, out, nets, strategies, reps, log):
        self.s = settings
        self.out = out
        self.nets = nets
        self.strategies = strategies
        self.reps = reps
        self.log = log
        self.results: dict[str, dict[str, list[dict]]] = {
            n: {k: [] for k in strategies} for n in nets
        }
        self.timing: dict[str, list[float]] = {
            "rnn_s_per_curve_epoch": [],
            "stage2_s_per_curve_epoch": [],
        }
        self.headline: dict[str, Any] = {}

    def restore(self, unit: Mapping[str, Any], what: str) -> bool:
        """For a reused unit: log where it came from, take its headline if none yet.

        Returns whether ``unit`` was reused (its scores are then the caller's to add).
        """
        if not unit.get("reused"):
            return False
        self.log(f"{what} reused from {unit_origin(unit)}")
        if not self.headline and unit.get("headline"):
            self.headline = unit["headline"]
        return True

    def prepare_run(
        self,
        parts: Mapping[str, LightCurveSet],
        *,
        seed: int,
        name: str | None = None,
        key: Any = None,
        strategies: Sequence[str] | None = None,
    ) -> tuple[dict, Any]:
        """Plan the strategies' bags on ``parts["train"]`` and fit the GPs the plans need.

        ``name`` names the run's folders (default ``seed<seed>``) and ``key`` is added to
        its saved nets' keys (None for the plain reproduction, whose keys stay as
        they were). Returns the run's state and the fitted augmenter (None when no
        bag has a synthetic curve).
        """
        from skyclass.augment.balance import check_plan
        from skyclass.augment.gp import GPAugmenter

        s = self.s
        name = name or f"seed{seed}"
        run = {"seed": seed, "name": name, "key": key, **parts}
        train = run["train"]
        forbidden = np.concatenate([run["val"].ids, run["test"].ids]).astype(str)
        run["train_labels"] = np.array([str(x) for x in train.labels])
        run["plans"] = {
            k: make_plan(k, run["train_labels"], s, seed=seed)
            for k in (strategies or self.strategies)
        }
        for plan in run["plans"].values():
            check_plan(plan, train.ids, forbidden_ids=forbidden)
        needed = np.unique(
            np.concatenate([b.synthetic for plan in run["plans"].values() for b in plan] + [[]])
        ).astype(np.int64)
        augmenter = None
        t0 = time.perf_counter()
        if needed.size:
            augmenter = GPAugmenter(**(s.get("gp") or {})).fit(list(train.select(needed)))
        run["gp"] = {
            "n_prototypes": int(needed.size),
            "seconds": round(time.perf_counter() - t0, 1),
            **({} if augmenter is None else _gp_counts(augmenter)),
        }
        run["split"] = {part: parts[part].class_counts().to_dict() for part in parts}
        self.log(
            f"{name}: split {len(train)}/{len(run['val'])}/{len(run['test'])}; GP fits {run['gp']}"
        )
        return run, augmenter

    def run_seed(self, lcs: LightCurveSet, seed: int) -> None:
        """Split, plan, fit GPs; stage 1 of every strategy, then stage 2 of every strategy."""
        parts = lcs.split(tuple(self.s["split"]), names=("train", "val", "test"), seed=seed)
        run, augmenter = self.prepare_run(parts, seed=seed)
        # Stage 1 (the RNN nets) of every strategy first, so that the RNN comparison
        # is complete before the compound nets' stage 2 starts.
        stage1: dict[str, tuple[list, list]] = {}
        for strategy in self.strategies:
            rnn_members, bag_sets = self._stage1(run, strategy, augmenter)
            if "kang2023_rnn" in self.nets:
                self._report(run, "kang2023_rnn", strategy, rnn_members)
            if "kang2023_compound" in self.nets:
                stage1[strategy] = (rnn_members, bag_sets)
        for strategy, (rnn_members, bag_sets) in stage1.items():
            compounds = []
            for k, (est, (bag_lcs, train_cfg)) in enumerate(
                zip(rnn_members, bag_sets, strict=True)
            ):
                t0 = time.perf_counter()
                comp, reused, _ = self._member(
                    "kang2023_compound",
                    run,
                    strategy,
                    k,
                    lambda est=est, bag_lcs=bag_lcs, train_cfg=train_cfg, k=k: second_stage(
                        est,
                        bag_lcs,
                        val=run["val"],
                        train_config=train_cfg,
                        random_state=seed * 100 + k,
                        model_options=self.s.get("cnn_options") or None,
                    ),
                )
                t_fit = time.perf_counter() - t0
                if not reused:
                    self.timing["stage2_s_per_curve_epoch"].append(
                        t_fit / (len(bag_lcs) * len(comp.history_))
                    )
                compounds.append(comp)
                fitted = "reused" if reused else f"{t_fit:.0f} s"
                self.log(f"seed {seed} {strategy} bag {k + 1}: compound stage 2 {fitted}")
            self._report(run, "kang2023_compound", strategy, compounds)

    def _stage1(self, run: dict, strategy: str, augmenter: Any) -> tuple[list, list]:
        """One RNN net per bag of ``strategy``; returns the nets and their bags' curves."""
        seed, plan = run["seed"], run["plans"][strategy]
        members, bag_sets = [], []
        for k, bag in enumerate(plan):
            t0 = time.perf_counter()
            bag_lcs = materialize_bag(run["train"], bag, augmenter)
            t_gp = time.perf_counter() - t0
            t0 = time.perf_counter()
            train_cfg = _bag_train_config(bag_lcs, bag, self.s)
            est, reused, _ = self._member(
                "kang2023_rnn",
                run,
                strategy,
                k,
                lambda bag_lcs=bag_lcs, train_cfg=train_cfg, k=k: _fit_rnn(
                    bag_lcs, run["val"], train_cfg, self.s, self.reps, seed * 100 + k
                ),
            )
            t_fit = time.perf_counter() - t0
            members.append(est)
            bag_sets.append((bag_lcs, train_cfg))
            if not reused:
                self.timing["rnn_s_per_curve_epoch"].append(
                    t_fit / (len(bag_lcs) * len(est.history_))
                )
            fitted = "reused" if reused else f"{t_fit:.0f} s"
            self.log(
                f"{run['name']} {strategy} bag {k + 1}/{len(plan)}: {len(bag_lcs)} curves "
                f"({bag.n_synthetic} synthetic, {t_gp:.0f} s), RNN {fitted}, "
                f"val BA {est.history_[-1].get('val_balanced_accuracy', float('nan')):.3f}"
            )
        return members, bag_sets

    def _member(
        self, net: str, run: Mapping[str, Any], strategy: str, k: int, fit: Callable[[], Any]
    ) -> tuple[Any, bool, float]:
        """The fitted net of bag ``k``: saved under ``members/`` and reused by a later run.

        A run stopped part-way and started again with the same command and settings
        picks up every net it had finished (the settings, seed, strategy, bag and the
        run's ``key`` — an ablation's fold or variant — are the key; the nets are
        deterministic given them, so nothing changes but time). Returns the net,
        whether it was reused, and the seconds its fit took (when it was made).
        """
        from skyclass.estimator import LightCurveClassifier
        from skyclass.training.loop import History

        seed = run["seed"]
        directory = self.out / "members" / net / strategy / run["name"] / f"bag{k}"
        key = _member_key(self.s, net, seed, strategy, k, extra=run.get("key"))
        done = directory / "done.json"
        if done.exists():
            saved = json.loads(done.read_text())
            if saved.get("key") == key:
                est = LightCurveClassifier.load(directory / "model")
                est.history_ = History.from_dict(est.saved_history_)
                return est, True, float(saved.get("seconds", float("nan")))
        t0 = time.perf_counter()
        est = fit()
        seconds = round(time.perf_counter() - t0, 1)  # as saved, so a reused net reads the same
        est.save(directory / "model")
        _write_json(
            done,
            {
                "key": key,
                "net": net,
                "seed": seed,
                "strategy": strategy,
                "bag": k,
                "seconds": seconds,
            },
        )
        return est, False, seconds

    def _report(
        self,
        run: dict,
        net: str,
        strategy: str,
        members: list,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Score one ensemble, store its scores (and ``extra``), keep the first as headline."""
        seed, plan = run["seed"], run["plans"][strategy]
        is_headline = not self.headline and net == self.nets[0] and strategy == self.strategies[0]
        run_dir = self.out / "runs" / net / strategy / run["name"]
        scores = _evaluate(
            BaggedClassifier(members), run["test"], run["val"], run_dir, examples=is_headline
        )
        scores.update(
            {
                "seed": seed,
                "n_members": len(plan),
                "curves_per_member": [len(b) for b in plan],
                "synthetic_per_member": [b.n_synthetic for b in plan],
                "class_weights": None
                if plan[0].class_weights is None
                else dict(plan[0].class_weights),
            }
        )
        scores.update(dict(extra or {}))
        self.results[net][strategy].append({k: v for k, v in scores.items() if k != "summary"})
        _write_json(run_dir / "scores.json", scores)
        _write_json(self.out / "partial_results.json", self.results)
        self.log(
            f"{run['name']} {net} {strategy}: macro F1 {scores['macro_f1']:.3f}, "
            f"balanced accuracy {scores['balanced_accuracy']:.3f}"
        )
        if not is_headline:
            return
        self.headline = {
            "test": scores["summary"],
            "history": members[0].history_.to_dict(),
            "fit": {
                "net": net,
                "strategy": strategy,
                "seed": seed,
                "n_members": len(plan),
                "bag_counts": plan[0].counts(run["train_labels"]),
                "member_fit": members[0].fit_report_,
                "split": run["split"],
                "gp": run["gp"],
            },
            "ensemble": scores["spread"],
        }
        for f in ("predictions.parquet", "examples.parquet"):
            if (run_dir / f).exists():
                (self.out / f).write_bytes((run_dir / f).read_bytes())


def _gp_counts(augmenter: Any) -> dict:
    summary = augmenter.summary()
    return {k: summary[k] for k in ("n_bands", "fallback", "not_converged")}


def _write_json(path: Path, data: Any) -> None:
    from skyclass.runs import plain_json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=plain_json))


# ---------------------------------------------------------------------- tables
def _claim(results: Mapping[str, list[dict]]) -> dict:
    """Does the ensemble beat both baselines in macro F1 (means over seeds, and per seed)?"""
    means = {k: float(np.mean([r["macro_f1"] for r in v])) for k, v in results.items() if v}
    out: dict[str, Any] = {"macro_f1_mean": means}
    if "bagging" not in means or len(means) < 2:
        out["holds"] = None
        return out
    others = [k for k in means if k != "bagging"]
    out["holds"] = bool(all(means["bagging"] > means[k] for k in others))
    per_seed = []
    for i, r in enumerate(results["bagging"]):
        per_seed.append(all(r["macro_f1"] > results[k][i]["macro_f1"] for k in others))
    out["seeds_where_it_holds"] = int(sum(per_seed))
    out["n_seeds"] = len(per_seed)
    out["differences"] = {k: _paired_macro_f1(results["bagging"], results[k]) for k in others}
    return out


def _paired_macro_f1(first: Sequence[dict], second: Sequence[dict]) -> list[float]:
    """Macro F1 of ``first`` minus ``second``, seed by seed (both run on the same seeds)."""
    if [r["seed"] for r in first] != [r["seed"] for r in second]:
        raise ValueError("the two sets of runs were made on different seeds")
    return [float(r["macro_f1"] - o["macro_f1"]) for r, o in zip(first, second, strict=True)]


def _data_metrics(info: dict, lcs: LightCurveSet) -> dict:
    """The ``data`` and ``skipped`` sections of the metrics."""
    return {
        "data": {**info, "summary": lcs.summary()},
        "skipped": [
            {"object_id": str(x.get("id")), "reason": f"cleaning: {x.get('reason')}"}
            for x in lcs.skipped
        ],
    }


def _metrics(
    cfg: ExperimentConfig,
    info: dict,
    lcs: LightCurveSet,
    results: dict,
    headline: dict,
    timing: dict,
    nets: list[str],
    strategies: list[str],
) -> dict:
    s = cfg.settings
    net_names = {"kang2023_rnn": "RNN", "kang2023_compound": "compound (2-stage)"}
    rows, recall_rows, member_rows = [], [], []
    classes = sorted(str(c) for c in info["classes"])
    for net in nets:
        for strategy in strategies:
            runs = results[net][strategy]
            if not runs:
                continue
            spread = mean_std(r["spread"].get("mean_disagreement", np.nan) for r in runs)
            rows.append(
                [
                    net_names[net],
                    STRATEGY_NAMES[strategy],
                    len(runs),
                    runs[0]["n_members"],
                    int(np.mean(runs[0]["curves_per_member"])),
                    mean_std(r["macro_f1"] for r in runs),
                    mean_std(r["balanced_accuracy"] for r in runs),
                    mean_std(r["accuracy"] for r in runs),
                    spread if runs[0]["n_members"] > 1 else "—",
                ]
            )
            recall_rows.append(
                [net_names[net], STRATEGY_NAMES[strategy]]
                + [mean_std(r["recall"].get(c, np.nan) for r in runs) for c in classes]
            )
            if strategy == "bagging":
                first = runs[0]
                member_rows.append(
                    [
                        net_names[net],
                        first["seed"],
                        mean_std(first["members_val_balanced_accuracy"]),
                        mean_std(first["members_test_balanced_accuracy"]),
                        f"{first['balanced_accuracy']:.3f}",
                    ]
                )
    claims = {net: _claim(results[net]) for net in nets}
    verdicts = []
    for net in nets:
        c = claims[net]
        if c.get("holds") is None:
            continue
        means = ", ".join(f"{k} {v:.3f}" for k, v in c["macro_f1_mean"].items())
        if not c["holds"]:
            verdict = "DOES NOT HOLD on the means"
        elif c["seeds_where_it_holds"] == c["n_seeds"]:
            verdict = "HOLDS on the means and in every seed"
        else:  # a margin that changes sign from seed to seed is not resolved by these seeds
            verdict = "HOLDS on the means only, within the seed-to-seed spread"
        verdicts.append(
            f"{net_names[net]}: {verdict} ({means}); ensemble best in "
            f"{c['seeds_where_it_holds']}/{c['n_seeds']} seeds; "
            "ensemble minus baseline per seed, mean ± std: "
            + ", ".join(
                f"{k} {np.mean(d):+.3f} ± {np.std(d):.3f}" for k, d in c["differences"].items()
            )
        )
    scale = (
        f"{s['n_bags']} bags of {s['per_class']} curves per class (paper: 10 of 1875), "
        f"moderate target {s.get('moderate_target') or s['per_class']} (paper: 1875), "
        f"{s['train']['max_epochs']} epoch(s) per net (paper: 10 for the RNN, up to 100 for "
        "the compound)"
    )
    tables = [
        {
            "title": "kang2023 training strategies on the same 6:1:3 split (test part, mean ± std "
            "over seeds)",
            "columns": [
                "net",
                "strategy",
                "seeds",
                "nets",
                "curves per net",
                "macro F1",
                "balanced accuracy",
                "accuracy",
                "member disagreement",
            ],
            "rows": rows,
            "note": "Paper (CRTS DR2, 11 classes, RNN net): macro F1 ensemble 0.71, equal "
            "augmentation 0.66, moderate augmentation + class weights 0.67; balanced "
            "accuracy 85.7% (RNN ensemble) / 86.2% (compound ensemble). Claim 'ensemble > both "
            "baselines in macro F1' — " + ("; ".join(verdicts) or "not tested") + f". Scale: "
            f"{scale}. Member disagreement: mean share of ensemble members whose own top class "
            "differs from the ensemble's. The validation part is not augmented (the paper "
            "augmented it) and is used for the best epoch. Headline sections: the first "
            "net's ensemble, first seed.",
        },
        {
            "title": "Recall per class (test part, mean ± std over seeds; the paper's Fig. 5 in "
            "recall view)",
            "columns": ["net", "strategy", *classes],
            "rows": recall_rows,
            "note": "Class sizes after cleaning: "
            + ", ".join(f"{c} {n}" for c, n in info["classes"].items()),
        },
    ]
    if member_rows:
        tables.append(
            {
                "title": "Single bag nets against their ensemble (balanced accuracy; the paper's "
                "Table 2), first seed",
                "columns": ["net", "seed", "members on val", "members on test", "ensemble test"],
                "rows": member_rows,
                "note": "Members: mean ± std over the bags' nets.",
            }
        )
    rates = {k: float(np.median(v)) for k, v in timing.items() if v}
    metrics: dict[str, Any] = {"task": "classification", **headline}
    metrics.update(_data_metrics(info, lcs))
    metrics["strategies"] = results
    metrics["claim"] = claims
    metrics["timing"] = {"median_seconds_per_curve_epoch": rates, "threads": s.get("threads")}
    metrics["tables"] = tables
    return metrics


# -------------------------------------------------------------------- ablations
def median_and_spread(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, ...]:
    """Median over runs (axis 0) and the second-lowest and second-highest value.

    kang2023's Fig. 8 shows the median confusion matrix of its 10-fold cross-test
    with the second-best and second-worst fold of every cell, which drops one
    extreme at each end. NaN entries (a class absent from a fold) are left out
    cell by cell; with fewer than three finite values the lowest and highest are
    given instead, and a cell with none is NaN.

    Parameters
    ----------
    values : array_like, shape (n_runs, ...)
        One array per run (e.g. per fold's row-normalised confusion matrix).

    Returns
    -------
    median, low, high : numpy.ndarray
        Each of shape ``values.shape[1:]``.

    Examples
    --------
    >>> median, low, high = median_and_spread([[0.9, 0.1], [0.7, 0.3], [0.8, 0.2], [0.5, 0.5]])
    >>> median.round(2).tolist(), low.round(2).tolist(), high.round(2).tolist()
    ([0.75, 0.25], [0.7, 0.2], [0.8, 0.3])
    >>> [a.tolist() for a in median_and_spread([[1.0], [np.nan], [3.0]])]
    [[2.0], [1.0], [3.0]]
    """
    v = np.asarray(values, dtype=float)
    if v.ndim < 1 or v.shape[0] == 0:
        raise ValueError("median_and_spread needs at least one run along axis 0")
    ordered = np.sort(v, axis=0)  # NaN sort last
    n = np.isfinite(v).sum(axis=0)
    low_at = np.where(n >= 3, 1, 0)
    high_at = np.where(n >= 3, n - 2, np.maximum(n - 1, 0))

    def pick(at: np.ndarray) -> np.ndarray:
        got = np.take_along_axis(ordered, np.expand_dims(at, 0), axis=0)[0]
        return np.where(n > 0, got, np.nan)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell with no finite value
        median = np.nanmedian(v, axis=0)
    return np.asarray(median, dtype=float), pick(low_at), pick(high_at)


def _spread_cell(median: float, low: float, high: float, *, diagonal: bool) -> str:
    """``"median (2nd-worst–2nd-best)"``: best is high on the diagonal, low off it."""
    if not np.isfinite(median):
        return "—"
    worst, best = (low, high) if diagonal else (high, low)
    return f"{median:.2f} ({worst:.2f}–{best:.2f})"


def _own_settings(s: Mapping[str, Any], name: str) -> dict:
    """Ablation ``name``'s own settings (``settings.ablations.<name>``)."""
    return dict((s.get("ablations") or {}).get(name) or {})


def _ablation_settings(s: Mapping[str, Any], name: str) -> dict:
    """The base settings with ablation ``name``'s own settings laid over them."""
    merged = deep_merge({k: v for k, v in s.items() if k != "ablations"}, _own_settings(s, name))
    merged["ablation"] = name
    return merged


def _chosen_folds(chosen: Sequence[int] | None, n_folds: int) -> list[int]:
    """The folds to run (``None``: all), checked against ``n_folds``.

    Examples
    --------
    >>> _chosen_folds(None, 3), _chosen_folds([2, 0], 3)
    ([0, 1, 2], [0, 2])
    """
    if chosen is None:
        return list(range(n_folds))
    wanted = sorted({int(f) for f in chosen})
    if not wanted or wanted[0] < 0 or wanted[-1] >= n_folds:
        raise ValueError(
            f"cross_test.folds {list(chosen)} must name folds 0..{n_folds - 1} (null: all)"
        )
    return wanted


def _cross_test(cfg: ExperimentConfig, out: Path, *, progress: bool) -> dict:
    """kang2023's k-fold cross-test of the RNN ensemble, everything redone inside each fold.

    Each fold is a unit (:func:`~skyclass.experiments.runner.reuse_result`): its scores
    and confusion matrix are kept, also in a unit record when one is given, so the
    folds can be run by separate processes (``ablations.cross_test.folds``) and a last
    run over every fold reuses them.
    """
    from skyclass.evaluate.metrics import cv_summary, summary_from_counts
    from skyclass.training import stratified_kfold

    a = _ablation_settings(cfg.settings, "cross_test")
    n_folds, val_fraction = int(a["n_folds"]), float(a["val_fraction"])
    if not 0 < val_fraction < 1:
        raise ValueError(f"cross_test.val_fraction must be in (0, 1), got {val_fraction!r}")
    chosen = _chosen_folds(a.get("folds"), n_folds)
    net, seed = "kang2023_rnn", cfg.seeds[0]
    lcs, info, reps, log = _setup(cfg, a, out, [net], progress=progress)
    labels = np.array([str(x) for x in lcs.labels])
    folds = stratified_kfold(labels, n_splits=n_folds, seed=seed)
    exp = _Experiment(a, out, [net], ["bagging"], reps, log)
    objects = objects_digest(lcs.ids)
    folds_done, counts, tables = [], [], []
    for f in chosen:
        pool_idx, test_idx = folds[f]
        fold_dir = out / "runs" / net / "bagging" / f"fold{f}"

        def compute(
            f: int = f,
            pool_idx: np.ndarray = pool_idx,
            test_idx: np.ndarray = test_idx,
            fold_dir: Path = fold_dir,
        ) -> dict:
            # The fold's pool is split into training and validation objects before any
            # plan or GP fit; the test fold is never seen until it is predicted.
            fold_seed = seed * 1000 + f
            pool = lcs.select(pool_idx).split(
                (1 - val_fraction, val_fraction), names=("train", "val"), seed=fold_seed
            )
            parts = {"train": pool["train"], "val": pool["val"], "test": lcs.select(test_idx)}
            run, augmenter = exp.prepare_run(
                parts,
                seed=fold_seed,
                name=f"fold{f}",
                key=["cross_test", f],
                strategies=["bagging"],
            )
            had_headline = bool(exp.headline)
            members, _ = exp._stage1(run, "bagging", augmenter)
            sizes = {part: len(parts[part]) for part in parts}
            exp._report(run, net, "bagging", members, extra={"fold": f, "sizes": sizes})
            scores = json.loads((fold_dir / "scores.json").read_text())
            return {
                "fold": exp.results[net]["bagging"][-1],
                "confusion_matrix": scores["summary"]["confusion_matrix"],
                "headline": {} if had_headline else exp.headline,
            }

        key = _member_key(a, net, seed, "cross_test", f, extra=objects)
        unit = reuse_result(fold_dir, key, compute, needs=["predictions.parquet"], aggregates=True)
        no_headline = not exp.headline
        if exp.restore(unit, f"fold{f}:") and no_headline and exp.headline:
            if (fold_dir / "examples.parquet").is_file():  # the headline fold's examples
                (out / "examples.parquet").write_bytes((fold_dir / "examples.parquet").read_bytes())
        folds_done.append(unit["fold"])
        counts.append(unit["confusion_matrix"])
        if (fold_dir / "predictions.parquet").is_file():
            table = pd.read_parquet(fold_dir / "predictions.parquet")
            table.insert(1, "fold", f)
            tables.append(table)
    classes = sorted({c for r in folds_done for c in r["classes"]})
    stack = np.full((len(folds_done), len(classes), len(classes)), np.nan)
    for i, r in enumerate(folds_done):
        at = [classes.index(c) for c in r["classes"]]
        stack[i][np.ix_(at, at)] = np.asarray(r["confusion_true"], float)
    median, low, high = median_and_spread(stack)
    rows = [
        [
            r["fold"],
            r["sizes"]["train"],
            r["sizes"]["val"],
            r["sizes"]["test"],
            int(np.mean(r["synthetic_per_member"])),
            f"{r['macro_f1']:.3f}",
            f"{r['balanced_accuracy']:.3f}",
            f"{r['accuracy']:.3f}",
        ]
        for r in folds_done
    ]
    scores = ("macro_f1", "balanced_accuracy", "accuracy")
    rows.append(
        ["mean ± std", "", "", "", ""] + [mean_std(r[m] for r in folds_done) for m in scores]
    )
    if len(tables) == len(chosen):  # every fold's predictions at hand
        pooled = pd.concat(tables, ignore_index=True)
        pooled.to_parquet(out / "predictions.parquet", index=False)
        pooled_scores = pooled_summary(pooled, "classification")
    else:  # folds reused from a unit record: pooled from their confusion matrices
        total = np.zeros((len(classes), len(classes)), np.int64)
        for r, matrix in zip(folds_done, counts, strict=True):
            at = [classes.index(c) for c in r["classes"]]
            total[np.ix_(at, at)] += np.asarray(matrix, np.int64)
        pooled_scores = summary_from_counts(total, classes)
        pooled_scores["pooled_from"] = "the folds' confusion matrices"
    scale = (
        f"{a['n_bags']} bags of {a['per_class']} curves per class per fold, "
        f"{a['train']['max_epochs']} epoch(s) per net; validation share {val_fraction:g} of "
        f"each fold's pool; fold assignment seed {seed}"
    )
    tables_out = [
        {
            "title": f"kang2023 {n_folds}-fold cross-test of the RNN ensemble (GP augmentation + "
            "bagging redone inside every fold)"
            + ("" if len(chosen) == n_folds else f"; folds {chosen} only"),
            "columns": [
                "fold",
                "train objects",
                "val objects",
                "test objects",
                "synthetic per bag",
                "macro F1",
                "balanced accuracy",
                "accuracy",
            ],
            "rows": rows,
            "note": "Stratified folds by object; in each fold the other folds are the pool, a "
            "validation share is carved from it (best epoch only, never augmented), the bags "
            "are planned and the GPs fitted on the fold's training objects only, and the fold "
            f"is predicted by the ensemble. Pooled out-of-fold macro F1 "
            f"{pooled_scores['macro_f1']:.3f}, balanced accuracy "
            f"{pooled_scores['balanced_accuracy']:.3f}. Scale: {scale}. Paper (CRTS DR2, "
            "10 folds): 85.7% balanced accuracy for the RNN ensemble.",
        },
        {
            "title": "Median confusion matrix over the folds, recall view (rows: true class; "
            "the paper's Fig. 8)",
            "columns": ["true \\ predicted", *classes],
            "rows": [
                [c]
                + [
                    _spread_cell(median[i, j], low[i, j], high[i, j], diagonal=i == j)
                    for j in range(len(classes))
                ]
                for i, c in enumerate(classes)
            ],
            "note": "Each cell: median share of the true class's test objects over the folds "
            "(second-worst–second-best fold). On the diagonal (recall) best is the higher "
            "value; off the diagonal (confusion) best is the lower one. With fewer than three "
            "folds the spread is the worst and best fold.",
        },
    ]
    rates = {k: float(np.median(v)) for k, v in exp.timing.items() if v}
    metrics: dict[str, Any] = {"task": "classification", **exp.headline}
    metrics["test"] = pooled_scores
    metrics["cv"] = cv_summary([{m: r[m] for m in scores} for r in folds_done])
    metrics.update(_data_metrics(info, lcs))
    metrics["ablation"] = {
        "name": "cross_test",
        "settings": _own_settings(cfg.settings, "cross_test"),
        "folds": folds_done,
        "classes": classes,
        "median_confusion_true": median.tolist(),
        "second_lowest": low.tolist(),
        "second_highest": high.tolist(),
    }
    metrics["timing"] = {"median_seconds_per_curve_epoch": rates, "threads": a.get("threads")}
    metrics["tables"] = tables_out
    metrics["seeds_used"] = [seed]  # the fold assignment's; the other seeds are not run
    return metrics


#: The compound-net variants of the ``compound`` ablation: name -> (label, two-stage, numeric).
COMPOUND_VARIANTS: dict[str, tuple[str, bool, bool]] = {
    "two_stage": ("two-stage", True, True),
    "joint": ("joint", False, True),
    "two_stage_no_features": ("two-stage", True, False),
    "joint_no_features": ("joint", False, False),
}


def _fit_variant(
    exp: _Experiment,
    run: Mapping[str, Any],
    variant: str,
    k: int,
    bag_lcs: LightCurveSet,
    train_cfg: Mapping[str, Any],
) -> tuple[Any, float, bool]:
    """Bag ``k``'s compound net of ``variant``: the net, its training seconds, whether reused."""
    _, two_stage, numeric = COMPOUND_VARIANTS[variant]
    s = exp.s
    no_numeric = {} if numeric else {"num_features": 0}
    random_state = run["seed"] * 100 + k
    if not two_stage:
        options = {**(s.get("rnn_options") or {}), **(s.get("cnn_options") or {}), **no_numeric}
        comp, reused, seconds = exp._member(
            "kang2023_compound",
            run,
            variant,
            k,
            lambda: _fit_net(
                "kang2023_compound",
                options,
                bag_lcs,
                run["val"],
                train_cfg,
                exp.reps,
                random_state,
            ),
        )
        return comp, seconds, reused
    rnn_options = {**(s.get("rnn_options") or {}), **no_numeric}
    rnn, reused1, seconds1 = exp._member(
        "kang2023_rnn",
        run,
        variant,
        k,
        lambda: _fit_net(
            "kang2023_rnn", rnn_options, bag_lcs, run["val"], train_cfg, exp.reps, random_state
        ),
    )
    comp, reused2, seconds2 = exp._member(
        "kang2023_compound",
        run,
        variant,
        k,
        lambda: second_stage(
            rnn,
            bag_lcs,
            val=run["val"],
            train_config=train_cfg,
            random_state=random_state,
            model_options=s.get("cnn_options") or None,
        ),
    )
    return comp, seconds1 + seconds2, reused1 and reused2


#: The paired comparisons of the ``compound`` ablation: name -> (first variant, second).
VARIANT_PAIRS: dict[str, tuple[str, str]] = {
    "two-stage minus joint, with the numeric branch": ("two_stage", "joint"),
    "two-stage minus joint, without it": ("two_stage_no_features", "joint_no_features"),
    "numeric branch minus none, two-stage": ("two_stage", "two_stage_no_features"),
    "numeric branch minus none, joint": ("joint", "joint_no_features"),
}


def _variant_differences(results: Mapping[str, list[dict]]) -> dict[str, list[float]]:
    """Macro F1 of one variant minus another's, seed by seed, for every pair that was run.

    Examples
    --------
    >>> runs = {
    ...     "two_stage": [{"seed": 0, "macro_f1": 0.8}],
    ...     "joint": [{"seed": 0, "macro_f1": 0.7}],
    ... }
    >>> {k: [round(x, 3) for x in v] for k, v in _variant_differences(runs).items()}
    {'two-stage minus joint, with the numeric branch': [0.1]}
    """
    return {
        name: _paired_macro_f1(results[first], results[second])
        for name, (first, second) in VARIANT_PAIRS.items()
        if results.get(first) and results.get(second)
    }


def _compound_seed(
    exp: _Experiment, lcs: LightCurveSet, a: Mapping[str, Any], variants: list[str], seed: int
) -> dict:
    """One seed of the compound ablation: every variant's ensemble on the seed's split."""
    net, log = "kang2023_compound", exp.log
    had_headline = bool(exp.headline)
    before = {v: len(exp.results[net][v]) for v in variants}
    parts = lcs.split(tuple(a["split"]), names=("train", "val", "test"), seed=seed)
    run, augmenter = exp.prepare_run(parts, seed=seed, key="compound", strategies=["bagging"])
    plan = run["plans"]["bagging"]
    run["plans"] = {v: plan for v in variants}
    members: dict[str, list] = {v: [] for v in variants}
    seconds = {v: 0.0 for v in variants}
    for k, bag in enumerate(plan):
        # One bag's curves (real + fresh GP draws) are made once and shared by
        # every variant, so the variants differ only in how the net is trained.
        bag_lcs = materialize_bag(run["train"], bag, augmenter)
        train_cfg = _bag_train_config(bag_lcs, bag, a)
        for v in variants:
            comp, spent, reused = _fit_variant(exp, run, v, k, bag_lcs, train_cfg)
            members[v].append(comp)
            seconds[v] += spent
            fitted = "reused" if reused else f"{spent:.0f} s"
            log(f"seed {seed} bag {k + 1}/{len(plan)} {v}: {len(bag_lcs)} curves, {fitted}")
    for v in variants:
        exp._report(run, net, v, members[v], extra={"train_seconds": round(seconds[v], 1)})
    return {
        "results": {v: exp.results[net][v][before[v] :] for v in variants},
        "headline": {} if had_headline else exp.headline,
    }


def _compound(cfg: ExperimentConfig, out: Path, *, progress: bool) -> dict:
    """Two-stage against joint training of the compound net, with and without numeric inputs."""
    a = _ablation_settings(cfg.settings, "compound")
    variants = list(a.get("variants") or COMPOUND_VARIANTS)
    unknown = sorted(set(variants) - set(COMPOUND_VARIANTS))
    if unknown or not variants:
        raise ValueError(
            f"unknown compound variants {unknown}; choose from {list(COMPOUND_VARIANTS)}"
        )
    net = "kang2023_compound"
    lcs, info, reps, log = _setup(cfg, a, out, [net], progress=progress)
    exp = _Experiment(a, out, [net], variants, reps, log)
    objects = objects_digest(lcs.ids)
    for seed in cfg.seeds:
        # one seed (every variant's ensemble on its split) is a unit, as in the plain run
        key = _member_key(a, "compound", seed, "all", 0, extra=[variants, objects])
        unit = reuse_result(
            out / "seeds" / f"seed{seed}",
            key,
            lambda seed=seed: _compound_seed(exp, lcs, a, variants, seed),
            aggregates=True,
        )
        if exp.restore(unit, f"seed{seed}: every variant"):
            for v in variants:
                exp.results[net][v].extend(unit["results"][v])
    results = exp.results[net]
    rows = []
    for v in variants:
        runs = results[v]
        label, _, numeric = COMPOUND_VARIANTS[v]
        rows.append(
            [
                v,
                label,
                "yes" if numeric else "no",
                len(runs),
                runs[0]["n_members"],
                mean_std(r["macro_f1"] for r in runs),
                mean_std(r["balanced_accuracy"] for r in runs),
                mean_std(r["accuracy"] for r in runs),
                f"{np.mean([r['train_seconds'] for r in runs]):.0f}",
            ]
        )
    n_bags = int(a["n_bags"])
    differences = _variant_differences(results)
    compared = "; ".join(
        f"{name}: {np.mean(d):+.3f} ± {np.std(d):.3f} (first ahead in "
        f"{sum(x > 0 for x in d)}/{len(d)} seeds)"
        for name, d in differences.items()
    )
    tables = [
        {
            "title": "kang2023 compound net: two-stage against joint training, with and without "
            "the numeric branch (same 6:1:3 split per seed; test part, mean ± std over seeds)",
            "columns": [
                "variant",
                "training",
                "numeric branch",
                "seeds",
                "nets per ensemble",
                "macro F1",
                "balanced accuracy",
                "accuracy",
                "training s per seed",
            ],
            "rows": rows,
            "note": f"Each variant is a bagging ensemble of {n_bags} net(s) (n_bags={n_bags}; the "
            f"plain reproduction uses {cfg.settings['n_bags']}), one per bag of "
            f"{a['per_class']} curves per class; every variant trains on the same bags (same "
            "real objects, same GP draws) with the same seeds. Two-stage: the RNN net is "
            "trained first, loaded into the compound net and frozen, then the CNN branch and "
            "the head are trained (training seconds include both stages). Joint: the whole "
            "compound net is trained from scratch at once. Without the numeric branch the "
            "nets get no period / amplitude / colour inputs (num_features=0). "
            f"{a['train']['max_epochs']} epoch(s) per net and stage; seconds summed over the "
            "bags (measured when the net was fitted, also for reused nets). "
            + (f"Macro F1 differences paired by seed, mean ± std: {compared}. " if compared else "")
            + "The paper trains in two stages only, 'to make the CNN part a supplement for "
            "high-level features, not a redundant structure', and reports no joint training.",
        }
    ]
    metrics: dict[str, Any] = {"task": "classification", **exp.headline}
    metrics.update(_data_metrics(info, lcs))
    metrics["ablation"] = {
        "name": "compound",
        "settings": _own_settings(cfg.settings, "compound"),
        "variants": results,
        "macro_f1_differences": differences,
    }
    metrics["timing"] = {"threads": a.get("threads")}
    metrics["tables"] = tables
    return metrics


#: kang2023's ablations, chosen with ``settings.ablation`` (null = the plain reproduction).
ABLATIONS: dict[str, Callable[..., dict]] = {"cross_test": _cross_test, "compound": _compound}
