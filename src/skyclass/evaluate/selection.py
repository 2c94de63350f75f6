"""Which input features to keep: importance ranking, correlation filter, forward selection.

The steps of carraro2025's feature-selection study (after Chaini et al.'s
DistClassiPy paper): rank the features by random-forest importance, drop the
less important of every pair correlated beyond a threshold, then add features
one at a time, each time the one that most improves a cross-validated score
(sequential forward selection). Every step sees only the rows it is given —
call it on the training objects of a fold, never on its test objects. This
module sits in ``evaluate`` rather than ``represent`` because it reads labels:
representations never do.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> y = np.repeat([0, 1], 60)
>>> signal = y + rng.normal(0, 0.3, 120)
>>> x = np.column_stack([signal, signal * 2 + 0.01 * rng.normal(size=120),
...                      rng.normal(size=120)])
>>> sel = select_features(x, y, ["a", "a_copy", "noise"], max_features=2, n_estimators=20,
...                       cv=2, seed=0)
>>> len(sel.dropped), sel.order[0] in ("a", "a_copy"), len(sel.order)
(1, True, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FeatureSelection",
    "drop_correlated",
    "forward_selection",
    "importance_ranking",
    "select_features",
]


def _forest(n_estimators: int, seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=1)


def _check(x: Any, y: Any, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    x, y = np.asarray(x, float), np.asarray(y)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must be (n_rows, n_features) with one label per row; got {x.shape}")
    names = [str(n) for n in names]
    if len(names) != x.shape[1] or len(set(names)) != len(names):
        raise ValueError(f"need {x.shape[1]} distinct feature names, got {names}")
    if not np.isfinite(x).all():
        raise ValueError("x has NaN or infinite values: drop or fill those rows first")
    return x, y, names


def importance_ranking(
    x: Any,
    y: Any,
    names: Sequence[str],
    *,
    n_estimators: int = 300,
    seed: int = 0,
) -> pd.Series:
    """Random-forest (mean impurity decrease) importance of each feature, highest first.

    Parameters
    ----------
    x : array-like, shape (n_rows, n_features)
    y : array-like, shape (n_rows,)
        Class labels.
    names : sequence of str
        One name per column.
    n_estimators : int
        Trees of the forest.
    seed : int
        Seed of the forest.

    Returns
    -------
    pandas.Series
        Importance (summing to 1) indexed by feature name, sorted descending.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> x = np.column_stack([rng.normal(size=100), y + rng.normal(0, 0.1, 100)])
    >>> importance_ranking(x, y, ["noise", "signal"], n_estimators=20).index[0]
    'signal'
    """
    x, y, names = _check(x, y, names)
    forest = _forest(int(n_estimators), int(seed)).fit(x, y)
    ranking = pd.Series(forest.feature_importances_, index=names, name="importance")
    return ranking.sort_values(ascending=False, kind="stable")


def drop_correlated(
    x: Any,
    names: Sequence[str],
    *,
    threshold: float = 0.9,
    method: str = "pearson",
) -> tuple[list[str], dict[str, tuple[str, float]]]:
    """Keep the first of every pair of columns with ``|corr| > threshold``.

    ``names`` gives the order of preference (e.g. importance, highest first): a
    column is dropped when it correlates beyond ``threshold`` with a column kept
    before it. A constant column has no defined correlation and is kept.

    Parameters
    ----------
    x : array-like, shape (n_rows, n_features)
        Columns in the order of ``names``.
    names : sequence of str
    threshold : float
        Largest absolute correlation allowed between two kept columns.
    method : {"pearson", "spearman", "kendall"}
        As :meth:`pandas.DataFrame.corr`.

    Returns
    -------
    kept : list of str
        In the order of ``names``.
    dropped : dict
        Dropped name -> (the kept name it correlates with, that correlation).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 0.0], [2.0, 4.1, 1.0], [3.0, 6.0, 0.0], [4.0, 8.2, 1.0]])
    >>> kept, dropped = drop_correlated(x, ["a", "b", "c"])
    >>> kept, {k: (p, round(r, 3)) for k, (p, r) in dropped.items()}
    (['a', 'c'], {'b': ('a', 1.0)})
    """
    x = np.asarray(x, float)
    names = [str(n) for n in names]
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ValueError(f"x must have one column per name ({len(names)}), got shape {x.shape}")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    corr = pd.DataFrame(x, columns=names).corr(method=method).abs()
    kept: list[str] = []
    dropped: dict[str, tuple[str, float]] = {}
    for name in names:
        r = corr.loc[name, kept] if kept else pd.Series(dtype=float)
        over = r[r > threshold]
        if over.empty:
            kept.append(name)
        else:
            partner = str(over.idxmax())
            dropped[name] = (partner, float(corr.loc[name, partner]))
    return kept, dropped


def forward_selection(
    x: Any,
    y: Any,
    names: Sequence[str],
    *,
    max_features: int = 30,
    estimator: Any = None,
    cv: int = 3,
    scoring: str = "accuracy",
    seed: int = 0,
) -> pd.DataFrame:
    """Greedy sequential forward selection, scored by cross-validation on the rows given.

    At each step every remaining feature is tried beside those already chosen;
    the one with the best mean ``cv``-fold score (stratified, shuffled with
    ``seed``) is added. Unlike scikit-learn's ``SequentialFeatureSelector``, which
    returns one subset, this records the order and the score after each addition
    (ties go to the earlier name).

    Parameters
    ----------
    x : array-like, shape (n_rows, n_features)
    y : array-like, shape (n_rows,)
    names : sequence of str
    max_features : int
        Stop after this many (or when no feature is left).
    estimator : scikit-learn classifier, optional
        Cloned for every fit; default a 100-tree random forest seeded with ``seed``.
    cv : int
        Folds of the inner stratified cross-validation.
    scoring : str
        A scikit-learn scorer name.
    seed : int
        Seed of the folds (and of the default forest).

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step`` (1-based), ``feature`` added, ``cv_score``
        (mean over the inner folds) and ``cv_std``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = np.repeat([0, 1], 40)
    >>> x = np.column_stack([rng.normal(size=80), y + rng.normal(0, 0.2, 80)])
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> steps = forward_selection(x, y, ["noise", "signal"], estimator=KNeighborsClassifier())
    >>> steps["feature"].tolist(), bool(steps["cv_score"].iloc[0] > 0.9)
    (['signal', 'noise'], True)
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x, y, names = _check(x, y, names)
    model = _forest(100, int(seed)) if estimator is None else estimator
    folds = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=int(seed))
    chosen: list[int] = []
    rows = []
    for step in range(1, min(int(max_features), len(names)) + 1):
        best: tuple[float, float, int] | None = None
        for j in range(len(names)):
            if j in chosen:
                continue
            scores = cross_val_score(clone(model), x[:, [*chosen, j]], y, cv=folds, scoring=scoring)
            if best is None or scores.mean() > best[0]:
                best = (float(scores.mean()), float(scores.std()), j)
        assert best is not None
        score, spread, j = best
        chosen.append(j)
        rows.append({"step": step, "feature": names[j], "cv_score": score, "cv_std": spread})
    return pd.DataFrame(rows, columns=["step", "feature", "cv_score", "cv_std"])


@dataclass(frozen=True)
class FeatureSelection:
    """What :func:`select_features` did, step by step.

    Attributes
    ----------
    importance : pandas.Series
        Random-forest importance of every candidate, highest first.
    dropped : dict
        Features removed by the correlation filter -> (kept partner, correlation).
    steps : pandas.DataFrame
        The forward selection (:func:`forward_selection`).
    """

    importance: pd.Series
    dropped: dict[str, tuple[str, float]]
    steps: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def order(self) -> list[str]:
        """Selected features in the order forward selection added them."""
        return self.steps["feature"].tolist()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``metrics.json``)."""
        return {
            "importance": {k: float(v) for k, v in self.importance.items()},
            "dropped": {k: [p, float(r)] for k, (p, r) in self.dropped.items()},
            "order": self.order,
            "cv_score": [float(v) for v in self.steps["cv_score"]],
            "options": self.options,
        }


def select_features(
    x: Any,
    y: Any,
    names: Sequence[str],
    *,
    max_features: int = 30,
    threshold: float = 0.9,
    method: str = "pearson",
    n_estimators: int = 300,
    estimator: Any = None,
    cv: int = 3,
    scoring: str = "accuracy",
    seed: int = 0,
) -> FeatureSelection:
    """Importance ranking, then the correlation filter in that order, then forward selection.

    Parameters are those of :func:`importance_ranking` (``n_estimators``),
    :func:`drop_correlated` (``threshold``, ``method``) and
    :func:`forward_selection` (``max_features``, ``estimator``, ``cv``,
    ``scoring``); ``seed`` seeds all three. Give it training rows only.

    Returns
    -------
    FeatureSelection

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> y = np.repeat([0, 1, 2], 30)
    >>> x = np.column_stack([y + rng.normal(0, 0.3, 90), rng.normal(size=90)])
    >>> sel = select_features(x, y, ["s", "n"], n_estimators=10, cv=2)
    >>> sel.order[0], sel.dropped
    ('s', {})
    """
    x, y, names = _check(x, y, names)
    importance = importance_ranking(x, y, names, n_estimators=n_estimators, seed=seed)
    ranked = list(importance.index)
    columns = [names.index(n) for n in ranked]
    kept, dropped = drop_correlated(x[:, columns], ranked, threshold=threshold, method=method)
    keep_idx = [names.index(n) for n in kept]
    steps = forward_selection(
        x[:, keep_idx],
        y,
        kept,
        max_features=max_features,
        estimator=estimator,
        cv=cv,
        scoring=scoring,
        seed=seed,
    )
    options = {
        "max_features": int(max_features),
        "threshold": float(threshold),
        "method": method,
        "n_estimators": int(n_estimators),
        "estimator": "random forest (100 trees)" if estimator is None else repr(estimator),
        "cv": int(cv),
        "scoring": scoring,
        "seed": int(seed),
    }
    return FeatureSelection(importance=importance, dropped=dropped, steps=steps, options=options)
