"""Bagging ensembles as a study: bags planned, materialised, fitted, kept and scored.

The machinery of kang2023's comparison of training strategies, apart from the
paper's nets and tables: a bag (:class:`~skyclass.augment.balance.Bag`) becomes
curves (:func:`materialize_bag`: its real training objects and fresh GP draws of
its prototypes), one net is fitted per bag and kept as a unit, and the nets'
averaged probabilities are scored (:func:`score_ensemble`).
:class:`BaggingStudy` holds one study's state across its splits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet
from skyclass.study.units import fingerprint, reuse_fitted, unit_origin, write_json

__all__ = [
    "PLANS",
    "BaggingStudy",
    "bag_train_config",
    "fit_net",
    "make_plan",
    "materialize_bag",
    "member_key",
    "score_ensemble",
]


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


#: Training strategies against class imbalance (kang2023's three): name -> plan builder.
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


def bag_train_config(bag_lcs: LightCurveSet, bag: Any, settings: Mapping[str, Any]) -> dict:
    """The training settings of one bag's nets (with the bag's class weights, if any).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> bag = SimpleNamespace(class_weights={"a": 0.5, "b": 2.0})
    >>> labelled = SimpleNamespace(labels=["b", "a"])
    >>> bag_train_config(labelled, bag, {"train": {"lr": 0.01}})
    {'lr': 0.01, 'class_weights': [0.5, 2.0]}
    """
    train_cfg = dict(settings["train"])
    if bag.class_weights is not None:
        classes = sorted({str(x) for x in bag_lcs.labels})
        train_cfg["class_weights"] = [bag.class_weights[c] for c in classes]
    return train_cfg


def fit_net(
    model: str,
    model_options: Mapping[str, Any] | None,
    bag_lcs: LightCurveSet,
    val: LightCurveSet,
    train_cfg: Mapping[str, Any],
    representations: dict,
    random_state: int,
):
    """One net of ``model`` trained from scratch on a bag (early stopping on ``val``).

    Examples
    --------
    >>> net = fit_net(  # doctest: +SKIP
    ...     "kang2023_rnn", None, bag_lcs, val, {"max_epochs": 1}, representations, 0
    ... )
    """
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


def score_ensemble(
    ensemble: Any,
    test: LightCurveSet,
    val: LightCurveSet,
    run_dir: Path,
    *,
    examples: bool,
) -> dict:
    """Score an ensemble of bag nets on ``test``; write ``predictions.parquet`` in ``run_dir``.

    ``ensemble`` is a fitted :class:`~skyclass.estimator.EnsembleClassifier`
    (its ``members``, ``classes_`` and ``member_probabilities`` are read); the
    members' probabilities are averaged where every member represents the object.
    Returns the held-out summary, macro F1, balanced accuracy, accuracy,
    recall per class, the row-normalised confusion matrix, the members' spread and
    each member's own balanced accuracy on ``test`` and ``val`` (the paper's
    single-net-against-ensemble comparison). ``examples`` also writes
    ``examples.parquet`` (folded right and wrong objects with attributions).
    """
    from skyclass.evaluate.metrics import classification_summary
    from skyclass.runs import write_examples
    from skyclass.training.ensemble import average_probabilities, ensemble_spread

    run_dir.mkdir(parents=True, exist_ok=True)
    classes = list(ensemble.classes_)
    labels = np.array([str(x) for x in test.labels], dtype=object)
    probas = ensemble.member_probabilities(test)
    proba = average_probabilities(probas)
    ok = np.isfinite(proba).all(axis=1)
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
    member_test = [_member_balanced_accuracy(p, labels, classes) for p in probas]
    member_val = [
        _member_balanced_accuracy(m.predict_proba(val), val_labels, classes)
        for m in ensemble.members
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


def _member_balanced_accuracy(
    proba: np.ndarray, labels: np.ndarray, classes: Sequence[str]
) -> float:
    """Balanced accuracy of one member's probabilities over the objects it represents."""
    from skyclass.evaluate.metrics import balanced_accuracy

    ok = np.isfinite(proba).all(axis=1)
    index = {c: i for i, c in enumerate(classes)}
    known = ok & np.isin(labels.astype(str), list(classes))
    if not known.any():
        return float("nan")
    truth = np.array([index[str(x)] for x in labels[known]])
    predicted = np.argmax(proba[known], axis=1)
    return float(balanced_accuracy(truth, predicted, n_classes=len(classes)))


def member_key(
    settings: Mapping[str, Any],
    net: str,
    seed: int,
    strategy: str,
    k: int,
    *,
    extra: Any = None,
    not_in_key: Collection[str] = (),
) -> str:
    """What a saved bag net depends on: every setting but those in ``not_in_key``.

    ``extra`` (an ablation's fold or variant) is added only when given, so the keys of
    a plain reproduction's nets stay those of the runs saved before ablations existed.

    Examples
    --------
    >>> settings = {"n_bags": 3, "threads": 1}
    >>> key = member_key(settings, "rnn", 0, "bagging", 1, not_in_key=["threads"])
    >>> key == member_key({"n_bags": 3}, "rnn", 0, "bagging", 1)
    True
    """
    kept = {name: v for name, v in settings.items() if name not in not_in_key}
    parts = [kept, net, seed, strategy, k] + ([] if extra is None else [extra])
    return fingerprint(parts)


class BaggingStudy:
    """A study of bagging ensembles: results so far per (net, strategy), timings, headline.

    A *run* is one split (a seed's, or a fold's): :meth:`prepare_run` plans every
    strategy's bags on its training part and fits the GPs the plans need;
    :meth:`fit_bags` fits one net per bag (each a unit kept under
    ``out/members/…`` by :func:`~skyclass.study.units.reuse_fitted`, so a stopped
    run picks up every net it had finished); :meth:`report` scores the ensemble
    and stores the scores. The first net and strategy's first ensemble is the
    headline (its test summary, history and fit details go into the metrics).

    Parameters
    ----------
    settings : mapping
        The study's settings: ``split``-independent ones the plans, GP (``gp``) and
        training (``train``) read.
    out : Path
        Run directory.
    nets, strategies : sequence of str
        What is compared: every net under every strategy.
    representations : dict
        The nets' representation options.
    log : callable
        Takes one progress line (:class:`~skyclass.study.session.RunLog`).
    not_in_key : collection of str
        Settings that do not change a net (left out of its key, see :func:`member_key`).
    ensemble : callable
        ``ensemble(members)`` -> the fitted ensemble to score (kang2023 gives
        :class:`~skyclass.estimator.EnsembleClassifier`).
    timing : sequence of str
        Names of the timings kept (seconds per curve and epoch of each fit).
    """

    def __init__(
        self,
        settings: Mapping[str, Any],
        out: Path,
        nets: Sequence[str],
        strategies: Sequence[str],
        representations: dict,
        log: Callable[[str], None],
        *,
        not_in_key: Collection[str] = (),
        ensemble: Callable[[list], Any],
        timing: Sequence[str] = (),
    ):
        self.s = settings
        self.out = out
        self.nets = list(nets)
        self.strategies = list(strategies)
        self.reps = representations
        self.log = log
        self.not_in_key = frozenset(not_in_key)
        self.ensemble = ensemble
        self.results: dict[str, dict[str, list[dict]]] = {
            n: {k: [] for k in self.strategies} for n in self.nets
        }
        self.timing: dict[str, list[float]] = {name: [] for name in timing}
        self.headline: dict[str, Any] = {}

    def key(self, net: str, seed: int, strategy: str, k: int, extra: Any = None) -> str:
        """The key of a net (or of a unit named like one) under this study's settings."""
        return member_key(self.s, net, seed, strategy, k, extra=extra, not_in_key=self.not_in_key)

    def added_by(self, compute: Callable[[], Any]) -> dict:
        """Run ``compute()`` (a seed, say) and return what it added: a unit's result.

        ``results`` per net and strategy, ``timing`` per name and the ``headline``
        when it was made by ``compute``; :meth:`add` takes such a unit back in.
        """
        results = {n: {k: len(v) for k, v in d.items()} for n, d in self.results.items()}
        timing = {k: len(v) for k, v in self.timing.items()}
        had_headline = bool(self.headline)
        compute()
        return {
            "results": {
                n: {k: v[results[n][k] :] for k, v in d.items()} for n, d in self.results.items()
            },
            "timing": {k: v[timing[k] :] for k, v in self.timing.items()},
            "headline": {} if had_headline else self.headline,
        }

    def add(self, unit: Mapping[str, Any]) -> None:
        """Add a reused unit's results and timings (as :meth:`added_by` returned them)."""
        for net, by_strategy in unit["results"].items():
            for strategy, entries in by_strategy.items():
                self.results[net][strategy].extend(entries)
        for name, values in unit.get("timing", {}).items():
            self.timing[name].extend(values)

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

    def fit_bags(
        self,
        run: dict,
        strategy: str,
        augmenter: Any,
        net: str,
        fit: Callable[..., Any],
        *,
        timing: str | None = None,
        label: str | None = None,
    ) -> tuple[list, list]:
        """One ``net`` per bag of ``strategy``; returns the nets and their bags' curves.

        ``fit(bag_lcs, val, train_config, random_state)`` fits a net from scratch; its
        seconds per curve and epoch go to ``self.timing[timing]`` when it was fitted here;
        ``label`` names the net in the log (default: ``net``).
        """
        seed, plan = run["seed"], run["plans"][strategy]
        members, bag_sets = [], []
        for k, bag in enumerate(plan):
            t0 = time.perf_counter()
            bag_lcs = materialize_bag(run["train"], bag, augmenter)
            t_gp = time.perf_counter() - t0
            t0 = time.perf_counter()
            train_cfg = bag_train_config(bag_lcs, bag, self.s)
            est, reused, _ = self.member(
                net,
                run,
                strategy,
                k,
                lambda bag_lcs=bag_lcs, train_cfg=train_cfg, k=k: fit(
                    bag_lcs, run["val"], train_cfg, seed * 100 + k
                ),
            )
            t_fit = time.perf_counter() - t0
            members.append(est)
            bag_sets.append((bag_lcs, train_cfg))
            if not reused and timing is not None:
                self.timing[timing].append(t_fit / (len(bag_lcs) * len(est.history_)))
            fitted = "reused" if reused else f"{t_fit:.0f} s"
            self.log(
                f"{run['name']} {strategy} bag {k + 1}/{len(plan)}: {len(bag_lcs)} curves "
                f"({bag.n_synthetic} synthetic, {t_gp:.0f} s), {label or net} {fitted}, "
                f"val BA {est.history_[-1].get('val_balanced_accuracy', float('nan')):.3f}"
            )
        return members, bag_sets

    def fit_on_members(
        self,
        run: dict,
        strategy: str,
        first: Sequence[Any],
        bag_sets: Sequence[tuple[LightCurveSet, dict]],
        net: str,
        fit: Callable[..., Any],
        *,
        timing: str | None = None,
        label: str | None = None,
    ) -> list:
        """A second stage: one ``net`` per bag, built on that bag's net in ``first``.

        ``fit(first_net, bag_lcs, val, train_config, random_state)`` fits it on the same
        bag (``bag_sets`` as :meth:`fit_bags` returned them); seconds per curve and epoch
        go to ``self.timing[timing]`` when it was fitted here; ``label`` names it in the log.
        """
        nets = []
        for k, (est, (bag_lcs, train_cfg)) in enumerate(zip(first, bag_sets, strict=True)):
            t0 = time.perf_counter()
            made, reused, _ = self.member(
                net,
                run,
                strategy,
                k,
                lambda est=est, bag_lcs=bag_lcs, train_cfg=train_cfg, k=k: fit(
                    est, bag_lcs, run["val"], train_cfg, run["seed"] * 100 + k
                ),
            )
            t_fit = time.perf_counter() - t0
            if not reused and timing is not None:
                self.timing[timing].append(t_fit / (len(bag_lcs) * len(made.history_)))
            nets.append(made)
            fitted = "reused" if reused else f"{t_fit:.0f} s"
            self.log(f"{run['name']} {strategy} bag {k + 1}: {label or net} {fitted}")
        return nets

    def member(
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

        def load(path: Path) -> Any:
            est = LightCurveClassifier.load(path)
            est.history_ = History.from_dict(est.saved_history_)
            return est

        seed = run["seed"]
        return reuse_fitted(
            self.out / "members" / net / strategy / run["name"] / f"bag{k}",
            self.key(net, seed, strategy, k, run.get("key")),
            fit,
            load=load,
            about={"net": net, "seed": seed, "strategy": strategy, "bag": k},
        )

    def report(
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
        scores = score_ensemble(
            self.ensemble(members), run["test"], run["val"], run_dir, examples=is_headline
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
        write_json(run_dir / "scores.json", scores)
        write_json(self.out / "partial_results.json", self.results)
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
