"""Metrics: hand-worked tiny cases, scikit-learn cross-checks, bootstrap and CV summaries."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skyclass.evaluate.metrics import (
    accuracy,
    balanced_accuracy,
    binary_roc_curve,
    bootstrap_ci,
    classification_summary,
    confusion_matrix,
    cv_summary,
    inverse_variance_weights,
    macro_f1,
    mae,
    per_class_scores,
    r2_score,
    regression_summary,
    residuals_vs_target,
    rmse,
    roc_auc_ovr,
    roc_curve_ovr,
    weighted_f1,
    weighted_mae,
    weighted_rmse,
)
from skyclass.exceptions import DataError


def _random_classification(n: int = 600, k: int = 4, seed: int = 0):
    """Labels and noisy but informative probabilities (every class present)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1.0, (n, k))
    logits[np.arange(n), y] += 1.2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


# ------------------------------------------------------------------ hand-worked
def test_two_by_two_confusion_and_both_normalisations():
    y_true = [0, 0, 0, 1, 1]
    y_pred = [0, 0, 1, 1, 0]
    assert confusion_matrix(y_true, y_pred, n_classes=2).tolist() == [[2, 1], [1, 1]]
    recall_view = confusion_matrix(y_true, y_pred, n_classes=2, normalize="true")
    precision_view = confusion_matrix(y_true, y_pred, n_classes=2, normalize="pred")
    np.testing.assert_allclose(recall_view, [[2 / 3, 1 / 3], [1 / 2, 1 / 2]])
    np.testing.assert_allclose(precision_view, [[2 / 3, 1 / 2], [1 / 3, 1 / 2]])
    np.testing.assert_allclose(recall_view.sum(axis=1), 1.0)
    np.testing.assert_allclose(precision_view.sum(axis=0), 1.0)
    scores = per_class_scores(y_true, y_pred, n_classes=2)
    np.testing.assert_allclose(np.diag(recall_view), scores["recall"])
    np.testing.assert_allclose(np.diag(precision_view), scores["precision"])


def test_absent_class_rows_are_nan_in_the_normalised_matrix():
    cm = confusion_matrix([0, 0], [0, 1], n_classes=3, normalize="true")
    assert np.isnan(cm[1:]).all() and cm[0].tolist() == [0.5, 0.5, 0.0]
    with pytest.raises(ValueError, match="normalize"):
        confusion_matrix([0], [0], normalize="rows")
    with pytest.raises(ValueError, match="class indices"):
        confusion_matrix([0, 3], [0, 1], n_classes=3)


def test_hand_worked_scores():
    y_true = [0, 0, 0, 1]
    y_pred = [0, 0, 1, 1]
    assert accuracy(y_true, y_pred) == 0.75
    assert balanced_accuracy(y_true, y_pred) == pytest.approx((2 / 3 + 1) / 2)
    # F1: class 0 has P=1, R=2/3 -> 0.8; class 1 has P=1/2, R=1 -> 2/3
    assert macro_f1(y_true, y_pred) == pytest.approx((0.8 + 2 / 3) / 2)
    assert weighted_f1(y_true, y_pred) == pytest.approx((3 * 0.8 + 2 / 3) / 4)


def test_auc_of_perfect_and_reversed_rankings_and_ties():
    truth = np.array([0, 0, 0, 1, 1])
    score = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert binary_roc_curve(truth, score)["auc"] == 1.0
    assert binary_roc_curve(truth, -score)["auc"] == 0.0
    assert binary_roc_curve(truth, np.zeros(5))["auc"] == 0.5  # all tied: chance
    curve = binary_roc_curve(truth, score)
    assert curve["fpr"][0] == 0 and curve["tpr"][0] == 0
    assert curve["fpr"][-1] == 1 and curve["tpr"][-1] == 1
    assert np.all(np.diff(curve["fpr"]) >= 0) and np.all(np.diff(curve["tpr"]) >= 0)


def test_class_absent_from_truth_gives_nan_auc_not_a_crash():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3]])
    auc = roc_auc_ovr(y, proba)
    assert auc["per_class"][:2].tolist() == [1.0, 1.0]
    assert np.isnan(auc["per_class"][2])
    assert auc["macro"] == 1.0
    curves = roc_curve_ovr(y, proba)
    assert np.isnan(curves[2]["tpr"]).all()


# --------------------------------------------------------- against scikit-learn
@pytest.mark.parametrize("seed", [0, 1])
def test_classification_metrics_match_sklearn(seed):
    sk = pytest.importorskip("sklearn.metrics")
    y, proba = _random_classification(seed=seed)
    pred = proba.argmax(axis=1)
    assert accuracy(y, pred) == pytest.approx(sk.accuracy_score(y, pred))
    assert balanced_accuracy(y, pred) == pytest.approx(sk.balanced_accuracy_score(y, pred))
    assert macro_f1(y, pred) == pytest.approx(sk.f1_score(y, pred, average="macro"))
    assert weighted_f1(y, pred) == pytest.approx(sk.f1_score(y, pred, average="weighted"))
    np.testing.assert_array_equal(confusion_matrix(y, pred), sk.confusion_matrix(y, pred))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(
            confusion_matrix(y, pred, normalize=norm),
            sk.confusion_matrix(y, pred, normalize=norm),
        )
    auc = roc_auc_ovr(y, proba)
    assert auc["macro"] == pytest.approx(sk.roc_auc_score(y, proba, multi_class="ovr"))
    for k, ours in enumerate(auc["per_class"]):
        assert ours == pytest.approx(sk.roc_auc_score(y == k, proba[:, k]))
    # ties in the scores: rounding makes many
    rounded = np.round(proba, 1)
    assert binary_roc_curve(y == 0, rounded[:, 0])["auc"] == pytest.approx(
        sk.roc_auc_score(y == 0, rounded[:, 0])
    )


def test_regression_metrics_match_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y = rng.normal(-1.5, 0.5, 300)
    pred = y + rng.normal(0, 0.2, 300)
    w = rng.uniform(0.5, 2.0, 300)
    assert r2_score(y, pred) == pytest.approx(sk.r2_score(y, pred))
    assert mae(y, pred) == pytest.approx(sk.mean_absolute_error(y, pred))
    assert rmse(y, pred) == pytest.approx(np.sqrt(sk.mean_squared_error(y, pred)))
    assert weighted_mae(y, pred, w) == pytest.approx(
        sk.mean_absolute_error(y, pred, sample_weight=w)
    )
    assert weighted_rmse(y, pred, w) == pytest.approx(
        np.sqrt(sk.mean_squared_error(y, pred, sample_weight=w))
    )


# ------------------------------------------------------------------- bootstrap
def test_bootstrap_ci_contains_estimate_shrinks_with_n_and_is_seeded():
    widths = []
    for n in (100, 3000):
        y, proba = _random_classification(n=n, k=3, seed=5)
        pred = proba.argmax(axis=1)
        ci = bootstrap_ci(balanced_accuracy, y, pred, n_boot=300, seed=0)
        assert ci["low"] <= ci["estimate"] <= ci["high"]
        assert ci["estimate"] == balanced_accuracy(y, pred)
        assert ci["n_valid"] == 300
        widths.append(ci["high"] - ci["low"])
    assert widths[1] < widths[0] / 3  # ~ 1/sqrt(n): sqrt(30) ≈ 5.5
    again = bootstrap_ci(balanced_accuracy, y, pred, n_boot=300, seed=0)
    assert again == ci
    other = bootstrap_ci(balanced_accuracy, y, pred, n_boot=300, seed=1)
    assert other["low"] != ci["low"] or other["high"] != ci["high"]


def test_stratified_bootstrap_keeps_class_counts_and_works_on_probabilities():
    y, proba = _random_classification(n=200, k=3, seed=2)
    seen = []

    def counts_then_auc(t, p):
        seen.append(np.bincount(t, minlength=3))
        return roc_auc_ovr(t, p)["macro"]

    ci = bootstrap_ci(counts_then_auc, y, proba, n_boot=20, seed=0, stratify=True)
    assert all((c == np.bincount(y, minlength=3)).all() for c in seen)
    assert ci["stratify"] and ci["low"] <= ci["estimate"] <= ci["high"]


def test_bootstrap_rejects_bad_options():
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(accuracy, [0], [0], level=95)
    with pytest.raises(ValueError, match="length"):
        bootstrap_ci(accuracy, [0, 1], [0])


# ------------------------------------------------------------------- summaries
def test_classification_summary_is_backward_compatible_and_json_ready():
    y, proba = _random_classification(n=300, k=3, seed=4)
    proba[:, 2] = 0.0  # class 2 never predicted...
    y[y == 2] = 1  # ...and never true: AUC NaN, F1 of a predicted-nowhere class
    s = classification_summary(y, proba, ["RRab", "RRc", "EB"])
    for key in ("n", "accuracy", "balanced_accuracy", "macro_f1", "per_class"):
        assert key in s
    assert s["confusion_matrix"] == confusion_matrix(y, proba.argmax(1), n_classes=3).tolist()
    assert s["class_names"] == ["RRab", "RRc", "EB"]
    assert s["weighted_f1"] == pytest.approx(weighted_f1(y, proba.argmax(1), n_classes=3))
    assert np.isnan(s["auc_per_class"]["EB"]) and np.isfinite(s["macro_auc"])
    assert np.isnan(s["confusion_matrix_normalized"]["true"][2]).all()
    assert 0 <= s["ece"] <= 1
    ci = s["ci"]
    assert ci["n_boot"] == 200 and ci["level"] == 0.95 and ci["seed"] == 0
    for name in ("balanced_accuracy", "macro_f1"):
        assert ci[name]["low"] <= s[name] <= ci[name]["high"]
    back = json.loads(json.dumps(s))  # plain Python only (NaN allowed)
    assert back["per_class"]["RRab"]["support"] == s["per_class"]["RRab"]["support"]
    assert classification_summary(y, proba, ["a", "b", "c"])["ci"] == ci  # seeded


def test_regression_summary_residual_table_and_ci():
    rng = np.random.default_rng(0)
    y = rng.uniform(-2.5, 0.0, 500)
    pred = y + 0.3 * (y + 1.25) + rng.normal(0, 0.05, 500)  # bias that grows with |y + 1.25|
    s = regression_summary(y, pred)
    assert s["wmae"] == pytest.approx(s["mae"]) and s["weights"] == "none"
    table = s["residuals_vs_target"]
    assert sum(table["count"]) == 500 and len(table["edges"]) == 11
    assert table["median"][0] < -0.2 and table["median"][-1] > 0.2  # the trend is visible
    assert all(0 < sc < 0.1 for sc in table["scatter"])
    assert s["ci"]["mae"]["low"] <= s["mae"] <= s["ci"]["mae"]["high"]
    json.dumps(s)
    sigma = rng.uniform(0.05, 0.3, 500)
    given = regression_summary(y, pred, inverse_variance_weights(sigma), n_boot=0)
    assert given["weights"] == "given" and "ci" not in given
    assert given["wmae"] == pytest.approx(weighted_mae(y, pred, 1 / sigma**2))
    dens = regression_summary(y, pred, "density", n_boot=0)
    assert dens["weights"] == "density" and dens["wmae"] != pytest.approx(dens["mae"])


def test_residuals_vs_target_explicit_edges_and_empty_bins():
    out = residuals_vs_target([0.1, 0.2, 2.5], [0.2, 0.1, 2.0], bins=[0, 1, 2, 3])
    assert out["count"] == [2, 0, 1]
    assert np.isnan(out["median"][1]) and out["median"][2] == pytest.approx(-0.5)


def test_inverse_variance_weights_reject_bad_sigma():
    with pytest.raises(DataError, match="positive"):
        inverse_variance_weights([0.1, 0.0])


def test_cv_summary_mean_std_and_folds():
    folds = [
        {"balanced_accuracy": 0.8, "macro_f1": 0.7, "per_class": {"a": {}}, "n": 10},
        {"balanced_accuracy": 0.9, "macro_f1": float("nan"), "n": 12},
        {"balanced_accuracy": 0.7, "macro_f1": 0.5, "n": 11, "ok": True},
    ]
    out = cv_summary(folds)
    assert set(out) == {"mean", "std", "folds"}
    assert out["mean"]["balanced_accuracy"] == pytest.approx(0.8)
    assert out["std"]["balanced_accuracy"] == pytest.approx(np.std([0.8, 0.9, 0.7], ddof=1))
    assert out["mean"]["macro_f1"] == pytest.approx(0.6)  # NaN fold left out
    assert out["folds"][0] == {"balanced_accuracy": 0.8, "macro_f1": 0.7, "n": 10}
    assert "ok" not in out["mean"]
    json.dumps(out)


def test_summary_from_counts_equals_the_count_scores_of_classification_summary():
    from skyclass.evaluate.metrics import classification_summary, summary_from_counts

    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 200)
    proba = rng.dirichlet(np.ones(4), 200)
    full = classification_summary(y, proba, list("abcd"), n_boot=0)
    pooled = summary_from_counts(full["confusion_matrix"], list("abcd"))
    scores = ("accuracy", "balanced_accuracy", "macro_f1", "macro_precision", "macro_recall")
    for key in (*scores, "weighted_f1"):
        assert pooled[key] == pytest.approx(full[key]), key
    assert pooled["n"] == full["n"] == 200
    assert pooled["per_class"] == full["per_class"]
    assert pooled["confusion_matrix_normalized"] == full["confusion_matrix_normalized"]
    # two folds' matrices summed give the scores of the pooled predictions
    half = classification_summary(y[:90], proba[:90], list("abcd"), n_boot=0)
    rest = classification_summary(y[90:], proba[90:], list("abcd"), n_boot=0)
    summed = np.add(half["confusion_matrix"], rest["confusion_matrix"])
    assert summary_from_counts(summed, list("abcd"))["macro_f1"] == pytest.approx(full["macro_f1"])
