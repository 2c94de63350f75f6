"""Classification and regression metrics computed with numpy (no plotting here).

Classification: accuracy, balanced accuracy, macro and weighted F1, per-class
precision / recall / F1 / support, the confusion matrix in counts and in both
normalisations (``"true"``: each row sums to one, the recall view; ``"pred"``:
each column sums to one, the precision view), one-vs-rest ROC curves and AUC,
and the calibration measures of :mod:`skyclass.evaluate.calibration`.

Regression: MAE, RMSE, their weighted forms (weights given, e.g.
:func:`inverse_variance_weights`, or inverse-density weights from
:func:`skyclass.density.density_weights`), R² and residuals against the
target in bins.

:func:`bootstrap_ci` puts a percentile confidence interval on any of them by
resampling objects; :func:`cv_summary` gathers the scalar metrics of
cross-validation folds. :func:`classification_summary` and
:func:`regression_summary` return everything a report needs as plain,
JSON-ready Python (lists and floats; NaN where a value is undefined).

Examples
--------
>>> y = np.array([0, 0, 1, 1, 2])
>>> p = np.array([0, 1, 1, 1, 2])
>>> round(balanced_accuracy(y, p, n_classes=3), 4), round(macro_f1(y, p, n_classes=3), 4)
(0.8333, 0.8222)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from skyclass.density import density_weights
from skyclass.evaluate.calibration import expected_calibration_error, reliability_curve
from skyclass.exceptions import DataError

__all__ = [
    "accuracy",
    "balanced_accuracy",
    "binary_roc_curve",
    "bootstrap_ci",
    "classification_summary",
    "confusion_matrix",
    "cv_summary",
    "expected_calibration_error",
    "inverse_variance_weights",
    "macro_f1",
    "mae",
    "normalize_confusion",
    "per_class_scores",
    "r2_score",
    "regression_summary",
    "reliability_curve",
    "residuals_vs_target",
    "rmse",
    "roc_auc_ovr",
    "roc_curve_ovr",
    "summary_from_counts",
    "weighted_f1",
    "weighted_mae",
    "weighted_rmse",
]

#: Scale of the median absolute deviation that makes it a standard deviation for Gaussian data.
_MAD_TO_SIGMA = 1.4826


# ----------------------------------------------------------------- classification
def _labels(y_true, y_pred, n_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    y_true = np.asarray(y_true).astype(np.int64, copy=False).reshape(-1)
    y_pred = np.asarray(y_pred).astype(np.int64, copy=False).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.size} != {y_pred.size}")
    if n_classes is None:
        n_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    lo = min(y_true.min(initial=0), y_pred.min(initial=0))
    hi = max(y_true.max(initial=0), y_pred.max(initial=0))
    if lo < 0 or (y_true.size and hi >= n_classes):
        raise ValueError(f"class indices must lie in [0, {n_classes}); got [{lo}, {hi}]")
    return y_true, y_pred, n_classes


def normalize_confusion(matrix, normalize: str | None) -> np.ndarray:
    """A confusion matrix of counts in one normalisation.

    Parameters
    ----------
    matrix : array_like, (n_classes, n_classes)
        Counts, true class by row and predicted class by column.
    normalize : {None, "true", "pred", "all"}
        ``"true"``: divide each row by its total (the diagonal is the recall);
        ``"pred"``: divide each column by its total (the diagonal is the
        precision); ``"all"``: divide by the number of objects; None: counts.
        A row or column with no objects is NaN (undefined), not zero.

    Examples
    --------
    >>> normalize_confusion([[3, 1], [0, 0]], "true").tolist()
    [[0.75, 0.25], [nan, nan]]
    >>> normalize_confusion([[3, 1], [1, 3]], "pred").tolist()
    [[0.75, 0.25], [0.25, 0.75]]
    """
    counts = np.asarray(matrix)
    if normalize is None:
        return counts
    counts = counts.astype(np.float64)
    axes = {"true": 1, "pred": 0, "all": None}
    if normalize not in axes:
        raise ValueError(f"unknown normalize={normalize!r}; choose one of {[None, *axes]}")
    total = counts.sum(axis=axes[normalize], keepdims=axes[normalize] is not None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, counts / np.where(total > 0, total, 1), np.nan)


def confusion_matrix(
    y_true, y_pred, *, n_classes: int | None = None, normalize: str | None = None
) -> np.ndarray:
    """Counts (or one normalisation of them), true class by row and predicted class by column.

    Parameters
    ----------
    y_true, y_pred : array_like of int
        Class indices.
    n_classes : int, optional
        Number of classes (default: the largest index seen, plus one).
    normalize : {None, "true", "pred", "all"}
        See :func:`normalize_confusion`.

    Examples
    --------
    >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2).tolist()
    [[1, 1], [0, 2]]
    >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], normalize="pred").tolist()
    [[1.0, 0.3333333333333333], [0.0, 0.6666666666666666]]
    """
    y_true, y_pred, n = _labels(y_true, y_pred, n_classes)
    counts = np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)
    return normalize_confusion(counts, normalize)


def accuracy(y_true, y_pred) -> float:
    """Share of exact matches (NaN when there are no objects).

    Examples
    --------
    >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
    0.75
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def _scores_from_counts(cm: np.ndarray) -> dict[str, np.ndarray]:
    cm = cm.astype(np.float64)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def per_class_scores(y_true, y_pred, *, n_classes: int | None = None) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class (0 where undefined).

    Examples
    --------
    >>> s = per_class_scores([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2)
    >>> s["precision"].tolist(), s["recall"].tolist(), s["support"].tolist()
    ([1.0, 0.6666666666666666], [0.5, 1.0], [2.0, 2.0])
    """
    return _scores_from_counts(confusion_matrix(y_true, y_pred, n_classes=n_classes))


def _mean_over_present(values: np.ndarray, support: np.ndarray) -> float:
    present = support > 0
    return float(values[present].mean()) if present.any() else float("nan")


def summary_from_counts(counts, class_names: Sequence[str]) -> dict[str, Any]:
    """The count-based scores of :func:`classification_summary` from a confusion matrix.

    For results pooled from parts whose predictions are not at hand (the sum of
    cross-validation folds' confusion matrices): accuracy, balanced accuracy, macro and
    weighted F1, macro precision and recall, per-class scores and both normalised
    matrices; no AUC, calibration or bootstrap, which need the probabilities.

    Examples
    --------
    >>> s = summary_from_counts([[1, 1], [0, 2]], ["a", "b"])
    >>> s["n"], s["accuracy"], s["balanced_accuracy"], round(s["macro_f1"], 4)
    (4, 0.75, 0.75, 0.7333)
    """
    counts = np.asarray(counts, dtype=np.int64)
    scores = _scores_from_counts(counts)
    n = int(counts.sum())
    support = scores["support"]
    return {
        "n": n,
        "accuracy": float(np.trace(counts) / n) if n else float("nan"),
        "balanced_accuracy": _mean_over_present(scores["recall"], support),
        "macro_f1": _mean_over_present(scores["f1"], support),
        "macro_precision": _mean_over_present(scores["precision"], support),
        "macro_recall": _mean_over_present(scores["recall"], support),
        "weighted_f1": float((scores["f1"] * support).sum() / support.sum())
        if support.sum()
        else float("nan"),
        "per_class": {
            name: {k: float(v[i]) for k, v in scores.items()} for i, name in enumerate(class_names)
        },
        "confusion_matrix": counts.tolist(),
        "confusion_matrix_normalized": {
            "true": normalize_confusion(counts, "true").tolist(),
            "pred": normalize_confusion(counts, "pred").tolist(),
        },
        "class_names": list(class_names),
    }


def balanced_accuracy(y_true, y_pred, *, n_classes: int | None = None) -> float:
    """Mean recall over the classes present in ``y_true``.

    Examples
    --------
    >>> balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0])
    0.5
    """
    scores = per_class_scores(y_true, y_pred, n_classes=n_classes)
    return _mean_over_present(scores["recall"], scores["support"])


def macro_f1(y_true, y_pred, *, n_classes: int | None = None) -> float:
    """Unweighted mean F1 over the classes present in ``y_true``.

    A class predicted but absent from ``y_true`` lowers the precision of the
    others but is not averaged itself (scikit-learn averages it as an F1 of 0).

    Examples
    --------
    >>> round(macro_f1([0, 0, 1, 1], [0, 1, 1, 1]), 4)
    0.7333
    """
    scores = per_class_scores(y_true, y_pred, n_classes=n_classes)
    return _mean_over_present(scores["f1"], scores["support"])


def weighted_f1(y_true, y_pred, *, n_classes: int | None = None) -> float:
    """Mean F1 over classes weighted by their support in ``y_true``.

    Examples
    --------
    >>> round(weighted_f1([0, 0, 0, 1], [0, 0, 1, 1]), 4)  # (3 × 0.8 + 1 × 2/3) / 4
    0.7667
    """
    scores = per_class_scores(y_true, y_pred, n_classes=n_classes)
    total = scores["support"].sum()
    return float(np.sum(scores["f1"] * scores["support"]) / total) if total else float("nan")


def binary_roc_curve(is_positive, score) -> dict[str, Any]:
    """ROC curve of one score against a binary truth, one point per distinct threshold.

    Returns
    -------
    dict
        ``fpr``, ``tpr`` and ``thresholds`` (arrays starting at (0, 0) with an
        infinite threshold) and ``auc`` (trapezoidal area, equal to the
        Mann–Whitney probability that a positive outscores a negative, ties
        counting one half). With no positives or no negatives the rates of the
        missing side and the AUC are NaN.

    Examples
    --------
    >>> binary_roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])["auc"]
    0.75
    """
    truth = np.asarray(is_positive).astype(bool).reshape(-1)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    if truth.shape != score.shape:
        raise ValueError("is_positive and score differ in length")
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(s)), t.size - 1] if t.size else np.array([], int)
    tps = np.r_[0, np.cumsum(t)[last]].astype(np.float64)
    fps = np.r_[0, last + 1].astype(np.float64) - tps
    n_pos, n_neg = float(t.sum()), float(t.size - t.sum())
    fpr = fps / n_neg if n_neg else np.full(fps.shape, np.nan)
    tpr = tps / n_pos if n_pos else np.full(tps.shape, np.nan)
    # trapezoids written out: np.trapezoid is numpy >= 2 only
    area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0
    auc = float(area) if n_pos and n_neg else float("nan")
    return {"fpr": fpr, "tpr": tpr, "thresholds": np.r_[np.inf, s[last]], "auc": auc}


def roc_curve_ovr(y_true, proba) -> list[dict[str, Any]]:
    """One-vs-rest ROC curve of each class (column of ``proba``), see :func:`binary_roc_curve`.

    Examples
    --------
    >>> curves = roc_curve_ovr([0, 1, 2], np.eye(3))
    >>> [c["auc"] for c in curves]
    [1.0, 1.0, 1.0]
    """
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    if proba.ndim != 2 or proba.shape[0] != y_true.size:
        raise ValueError("proba must be an (N, n_classes) array with one row per label")
    return [binary_roc_curve(y_true == k, proba[:, k]) for k in range(proba.shape[1])]


def roc_auc_ovr(y_true, proba) -> dict[str, Any]:
    """One-vs-rest AUC per class and their unweighted mean.

    A class absent from ``y_true`` (or the only one present) has no AUC: NaN,
    left out of ``macro``.

    Examples
    --------
    >>> out = roc_auc_ovr([0, 0, 1, 1], [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> out["per_class"].tolist(), out["macro"]
    ([1.0, 1.0], 1.0)
    >>> roc_auc_ovr([0, 0], [[0.9, 0.1], [0.6, 0.4]])["macro"]
    nan
    """
    per_class = np.array([c["auc"] for c in roc_curve_ovr(y_true, proba)], dtype=np.float64)
    finite = per_class[np.isfinite(per_class)]
    return {"per_class": per_class, "macro": float(finite.mean()) if finite.size else float("nan")}


# ------------------------------------------------------------------ resampling
def bootstrap_ci(
    metric_fn: Callable[[np.ndarray, np.ndarray], float],
    y_true,
    y_pred_or_proba,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    stratify: bool = False,
) -> dict[str, Any]:
    """Percentile bootstrap confidence interval of a metric, resampling objects.

    Parameters
    ----------
    metric_fn : callable
        ``metric_fn(y_true, y_pred_or_proba) -> float`` on arrays of the same
        (resampled) objects.
    y_true, y_pred_or_proba : array_like
        One entry (or row) per object.
    n_boot : int
        Number of resamples.
    level : float
        Coverage of the interval, in (0, 1).
    seed : int
        Seed of the resampling.
    stratify : bool
        Resample within each value of ``y_true`` (class counts kept), for
        classification with rare classes.

    Returns
    -------
    dict
        ``estimate`` (the metric on all objects), ``low`` and ``high`` (the
        (1 − level)/2 and (1 + level)/2 quantiles of the resampled values),
        ``std`` of the resampled values, ``level``, ``n_boot``, ``n_valid``
        (resamples whose metric was finite: only they enter the quantiles),
        ``stratify``, ``seed``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = rng.integers(0, 2, 400)
    >>> pred = np.where(rng.random(400) < 0.8, y, 1 - y)
    >>> ci = bootstrap_ci(accuracy, y, pred, n_boot=200, seed=0)
    >>> bool(ci["low"] < ci["estimate"] < ci["high"]), round(ci["estimate"], 3)
    (True, 0.805)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    y_true = np.asarray(y_true)
    other = np.asarray(y_pred_or_proba)
    n = len(y_true)
    if len(other) != n:
        raise ValueError(f"y_true and y_pred_or_proba differ in length: {n} != {len(other)}")
    out: dict[str, Any] = {
        "estimate": float("nan"),
        "low": float("nan"),
        "high": float("nan"),
        "std": float("nan"),
        "level": float(level),
        "n_boot": int(n_boot),
        "n_valid": 0,
        "stratify": bool(stratify),
        "seed": int(seed),
    }
    if n == 0:
        return out
    out["estimate"] = float(metric_fn(y_true, other))
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y_true == c) for c in np.unique(y_true)] if stratify else None
    values = np.empty(n_boot, dtype=np.float64)
    for b in range(n_boot):
        if groups is None:
            index = rng.integers(0, n, n)
        else:
            index = np.concatenate([g[rng.integers(0, g.size, g.size)] for g in groups])
        values[b] = metric_fn(y_true[index], other[index])
    finite = values[np.isfinite(values)]
    if finite.size:
        alpha = (1.0 - level) / 2.0
        low, high = np.quantile(finite, [alpha, 1.0 - alpha])
        out.update(low=float(low), high=float(high), n_valid=int(finite.size))
        out["std"] = float(finite.std(ddof=1)) if finite.size > 1 else float("nan")
    return out


def _is_scalar(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def cv_summary(folds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over cross-validation folds of each scalar metric.

    Parameters
    ----------
    folds : sequence of dict
        One metric dict per fold (e.g. :func:`classification_summary` outputs);
        only top-level numbers are kept (nested tables, lists, strings and
        booleans are dropped).

    Returns
    -------
    dict
        ``mean`` and ``std`` (sample standard deviation, ddof=1, over the
        folds where the metric is finite; NaN with fewer than two), keyed by
        metric, and ``folds``: the scalar metrics of each fold.

    Examples
    --------
    >>> out = cv_summary([{"mae": 1.0, "n": 10, "name": "a"}, {"mae": 3.0, "n": 12}])
    >>> out["mean"], out["std"]["mae"], out["folds"][0]
    ({'mae': 2.0, 'n': 11.0}, 1.4142135623730951, {'mae': 1.0, 'n': 10})
    """
    kept: list[dict[str, Any]] = []
    names: list[str] = []
    for fold in folds:
        row = {}
        for key, value in fold.items():
            if _is_scalar(value):
                row[str(key)] = value.item() if isinstance(value, np.generic) else value
                if key not in names:
                    names.append(str(key))
        kept.append(row)
    mean: dict[str, float] = {}
    std: dict[str, float] = {}
    for name in names:
        values = np.array([row.get(name, np.nan) for row in kept], dtype=np.float64)
        values = values[np.isfinite(values)]
        mean[name] = float(values.mean()) if values.size else float("nan")
        std[name] = float(values.std(ddof=1)) if values.size > 1 else float("nan")
    return {"mean": mean, "std": std, "folds": kept}


# ---------------------------------------------------------------- summaries
def _ci_bounds(ci: Mapping[str, Any]) -> dict[str, float]:
    return {"low": ci["low"], "high": ci["high"]}


def classification_summary(
    y_true,
    proba: np.ndarray,
    class_names: list[str],
    *,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
    n_bins: int = 15,
) -> dict:
    """Every classification metric of a report, as JSON-ready Python.

    Parameters
    ----------
    y_true : array_like of int
        Class index per object.
    proba : array_like, (N, n_classes)
        Probabilities; the predicted class is the argmax.
    class_names : list of str
        Name of each class index.
    n_boot, level, seed : int, float, int
        Bootstrap confidence intervals of balanced accuracy and macro F1
        (see :func:`bootstrap_ci`; ``n_boot=0`` skips them).
    n_bins : int
        Confidence bins of the expected calibration error.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``balanced_accuracy``, ``macro_f1``,
        ``weighted_f1``, ``per_class`` ({name: precision, recall, f1,
        support}), ``confusion_matrix`` (counts, true by row),
        ``confusion_matrix_normalized`` ({"true": recall view, "pred":
        precision view}), ``auc_per_class`` ({name: one-vs-rest AUC}),
        ``macro_auc``, ``macro_precision``, ``macro_recall`` (means over the classes
        present), ``ece``, ``ci`` ({metric: {low, high}}, plus ``level``,
        ``n_boot``, ``seed``) and ``class_names``.

    Examples
    --------
    >>> proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9]])
    >>> s = classification_summary([0, 0, 1, 1], proba, ["a", "b"], n_boot=20)
    >>> s["balanced_accuracy"], s["confusion_matrix"], s["macro_auc"]
    (0.75, [[1, 1], [0, 2]], 1.0)
    >>> s["confusion_matrix_normalized"]["true"]
    [[0.5, 0.5], [0.0, 1.0]]
    """
    n = len(class_names)
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    if proba.shape != (y_true.size, n):
        raise ValueError(
            f"proba has shape {proba.shape}; expected ({y_true.size}, {n}): one row per "
            "label and one column per class name"
        )
    y_pred = np.argmax(proba, axis=1)
    counts = confusion_matrix(y_true, y_pred, n_classes=n)
    auc = roc_auc_ovr(y_true, proba)
    empty = y_true.size == 0

    def bal_acc(t: np.ndarray, p: np.ndarray) -> float:
        return balanced_accuracy(t, p, n_classes=n)

    def mac_f1(t: np.ndarray, p: np.ndarray) -> float:
        return macro_f1(t, p, n_classes=n)

    summary: dict[str, Any] = summary_from_counts(counts, class_names)
    summary["auc_per_class"] = {
        name: float(a) for name, a in zip(class_names, auc["per_class"], strict=True)
    }
    summary["macro_auc"] = auc["macro"]
    summary["ece"] = (
        float("nan") if empty else expected_calibration_error(proba, y_true, n_bins=n_bins)
    )
    if n_boot > 0:
        kw = {"n_boot": n_boot, "level": level, "seed": seed}
        summary["ci"] = {
            "balanced_accuracy": _ci_bounds(bootstrap_ci(bal_acc, y_true, y_pred, **kw)),
            "macro_f1": _ci_bounds(bootstrap_ci(mac_f1, y_true, y_pred, **kw)),
            **kw,
        }
    return summary


# ------------------------------------------------------------------ regression
def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.size} != {y_pred.size}")
    return y_true, y_pred


def mae(y_true, y_pred) -> float:
    """Mean absolute error.

    Examples
    --------
    >>> mae([0.0, 1.0, 2.0], [0.5, 1.0, 1.0])
    0.5
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true))) if y_true.size else float("nan")


def rmse(y_true, y_pred) -> float:
    """Root mean squared error.

    Examples
    --------
    >>> round(rmse([0.0, 0.0], [3.0, -4.0]) ** 2, 9)
    12.5
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_pred - y_true) ** 2))) if y_true.size else float("nan")


def _weights(weights, size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.size != size or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"weights must be {size} finite, non-negative numbers with a positive sum")
    return w


def weighted_mae(y_true, y_pred, weights) -> float:
    """``Σ w |ŷ − y| / Σ w``.

    Examples
    --------
    >>> weighted_mae([0.0, 0.0], [1.0, 3.0], [3.0, 1.0])
    1.5
    """
    y_true, y_pred = _pair(y_true, y_pred)
    w = _weights(weights, y_true.size)
    return float(np.sum(w * np.abs(y_pred - y_true)) / np.sum(w))


def weighted_rmse(y_true, y_pred, weights) -> float:
    """√(Σ w (ŷ − y)² / Σ w).

    Examples
    --------
    >>> round(weighted_rmse([0.0, 0.0], [1.0, 3.0], [1.0, 1.0]) ** 2, 9)
    5.0
    """
    y_true, y_pred = _pair(y_true, y_pred)
    w = _weights(weights, y_true.size)
    return float(np.sqrt(np.sum(w * (y_pred - y_true) ** 2) / np.sum(w)))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot (NaN for a constant target).

    Examples
    --------
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    y_true, y_pred = _pair(y_true, y_pred)
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2)) if y_true.size else 0.0
    if not ss_tot > 0:
        return float("nan")
    return 1.0 - float(np.sum((y_pred - y_true) ** 2)) / ss_tot


def inverse_variance_weights(sigma, *, normalize: bool = True) -> np.ndarray:
    """Weights 1 / σ² from per-object uncertainties of the target (mean 1 by default).

    For inverse-density weights of the target use
    :func:`skyclass.density.density_weights` (``regression_summary``
    also accepts ``weights="density"``).

    Raises
    ------
    DataError
        If an uncertainty is not a finite positive number.

    Examples
    --------
    >>> inverse_variance_weights([0.1, 0.2]).round(6).tolist()
    [1.6, 0.4]
    """
    sigma = np.asarray(sigma, dtype=np.float64).reshape(-1)
    if sigma.size == 0 or not np.all(np.isfinite(sigma) & (sigma > 0)):
        raise DataError(
            "inverse-variance weights need finite positive uncertainties; drop the objects "
            "without one or give them the median uncertainty"
        )
    w = 1.0 / sigma**2
    return w / w.mean() if normalize else w


def residuals_vs_target(y_true, y_pred, *, bins: int | Sequence[float] = 10) -> dict[str, list]:
    """Residuals (predicted − true) summarised in bins of the true value.

    Parameters
    ----------
    y_true, y_pred : array_like of float
    bins : int or sequence of float
        Number of equal-width bins over the range of ``y_true``, or the bin edges.

    Returns
    -------
    dict of lists
        ``edges`` (n_bins + 1), and per bin ``center``, ``count``, ``mean``,
        ``median`` and ``scatter`` (1.4826 × median absolute deviation from the
        median, a standard deviation robust to outliers); NaN for empty bins.

    Examples
    --------
    >>> out = residuals_vs_target([0.0, 0.1, 0.9, 1.0], [0.1, 0.2, 0.8, 0.8], bins=2)
    >>> out["count"], [round(m, 2) for m in out["median"]]
    ([2, 2], [0.1, -0.15])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if np.isscalar(bins):
        lo, hi = (float(y_true.min()), float(y_true.max())) if y_true.size else (0.0, 1.0)
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
    k = edges.size - 1
    index = np.clip(np.digitize(y_true, edges[1:-1], right=False), 0, k - 1)
    inside = (y_true >= edges[0]) & (y_true <= edges[-1])
    residual = y_pred - y_true
    out: dict[str, list] = {
        "edges": edges.tolist(),
        "center": (0.5 * (edges[:-1] + edges[1:])).tolist(),
        "count": [],
        "mean": [],
        "median": [],
        "scatter": [],
    }
    for b in range(k):
        r = residual[inside & (index == b)]
        out["count"].append(int(r.size))
        if r.size:
            med = float(np.median(r))
            out["mean"].append(float(r.mean()))
            out["median"].append(med)
            out["scatter"].append(float(_MAD_TO_SIGMA * np.median(np.abs(r - med))))
        else:
            for key in ("mean", "median", "scatter"):
                out[key].append(float("nan"))
    return out


def regression_summary(
    y_true,
    y_pred,
    weights=None,
    *,
    n_bins: int = 10,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """MAE, RMSE, their weighted forms, R², residuals against the target and a CI of MAE.

    Parameters
    ----------
    y_true, y_pred : array_like of float
    weights : array_like, "density" or None
        Weights of ``wmae`` / ``wrmse``: given per object (e.g.
        :func:`inverse_variance_weights`); ``"density"``: inverse KDE density
        of ``y_true`` (:func:`skyclass.density.density_weights`); None:
        equal weights (then ``wmae == mae``).
    n_bins : int
        Equal-width bins of ``y_true`` for ``residuals_vs_target``.
    n_boot, level, seed : int, float, int
        Bootstrap interval of MAE (``n_boot=0`` skips it).

    Returns
    -------
    dict
        ``n``, ``mae``, ``rmse``, ``wmae``, ``wrmse``, ``r2``, ``bias`` (mean
        residual), ``weights`` ("none", "given" or "density"),
        ``residuals_vs_target`` (see :func:`residuals_vs_target`) and ``ci``
        ({"mae": {low, high}}, ``level``, ``n_boot``, ``seed``).

    Examples
    --------
    >>> s = regression_summary([0.0, 1.0, 2.0, 3.0], [0.5, 1.0, 2.0, 2.5], n_bins=2, n_boot=10)
    >>> s["mae"], s["rmse"], s["r2"], s["residuals_vs_target"]["median"]
    (0.25, 0.3535533905932738, 0.9, [0.25, -0.25])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if isinstance(weights, str):
        if weights != "density":
            raise ValueError(f"unknown weights={weights!r}; give an array, 'density' or None")
        w, kind = density_weights(y_true), "density"
    elif weights is None:
        w, kind = np.ones_like(y_true), "none"
    else:
        w, kind = _weights(weights, y_true.size), "given"
    empty = y_true.size == 0
    summary: dict[str, Any] = {
        "n": int(y_true.size),
        "mae": mae(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "wmae": float("nan") if empty else weighted_mae(y_true, y_pred, w),
        "wrmse": float("nan") if empty else weighted_rmse(y_true, y_pred, w),
        "r2": r2_score(y_true, y_pred),
        "bias": float(np.mean(y_pred - y_true)) if not empty else float("nan"),
        "weights": kind,
        "residuals_vs_target": residuals_vs_target(y_true, y_pred, bins=n_bins),
    }
    if n_boot > 0:
        kw = {"n_boot": n_boot, "level": level, "seed": seed}
        summary["ci"] = {"mae": _ci_bounds(bootstrap_ci(mae, y_true, y_pred, **kw)), **kw}
    return summary
