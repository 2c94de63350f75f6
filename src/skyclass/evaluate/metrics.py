"""Classification and regression metrics computed with numpy (no plotting here).

Examples
--------
>>> y = np.array([0, 0, 1, 1, 2])
>>> p = np.array([0, 1, 1, 1, 2])
>>> round(balanced_accuracy(y, p, n_classes=3), 4), round(macro_f1(y, p, n_classes=3), 4)
(0.8333, 0.8222)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "accuracy",
    "balanced_accuracy",
    "classification_summary",
    "confusion_matrix",
    "macro_f1",
    "per_class_scores",
    "regression_summary",
]


def confusion_matrix(y_true, y_pred, *, n_classes: int) -> np.ndarray:
    """Counts, true class by row and predicted class by column."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def accuracy(y_true, y_pred) -> float:
    """Share of exact matches."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def per_class_scores(y_true, y_pred, *, n_classes: int) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class (0 where undefined)."""
    cm = confusion_matrix(y_true, y_pred, n_classes=n_classes).astype(float)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def balanced_accuracy(y_true, y_pred, *, n_classes: int) -> float:
    """Mean recall over the classes present in ``y_true``."""
    scores = per_class_scores(y_true, y_pred, n_classes=n_classes)
    present = scores["support"] > 0
    return float(scores["recall"][present].mean())


def macro_f1(y_true, y_pred, *, n_classes: int) -> float:
    """Unweighted mean F1 over the classes present in ``y_true``."""
    scores = per_class_scores(y_true, y_pred, n_classes=n_classes)
    present = scores["support"] > 0
    return float(scores["f1"][present].mean())


def classification_summary(y_true, proba: np.ndarray, class_names: list[str]) -> dict:
    """Accuracy, balanced accuracy, macro F1, per-class scores and the confusion matrix."""
    n = len(class_names)
    y_pred = np.argmax(proba, axis=1)
    scores = per_class_scores(y_true, y_pred, n_classes=n)
    return {
        "n": len(y_true),
        "accuracy": accuracy(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy(y_true, y_pred, n_classes=n),
        "macro_f1": macro_f1(y_true, y_pred, n_classes=n),
        "per_class": {
            name: {k: float(v[i]) for k, v in scores.items()} for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, n_classes=n).tolist(),
        "class_names": list(class_names),
    }


def regression_summary(y_true, y_pred, weights=None) -> dict:
    """MAE, RMSE, their weighted forms and R²."""
    y_true = np.asarray(y_true, float)
    y_pred = np.asarray(y_pred, float)
    w = np.ones_like(y_true) if weights is None else np.asarray(weights, float)
    err = y_pred - y_true
    ss_res = float(np.sum(err**2))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "n": int(y_true.size),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "wmae": float(np.sum(w * np.abs(err)) / np.sum(w)),
        "wrmse": float(np.sqrt(np.sum(w * err**2) / np.sum(w))),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
    }
