"""Feature selection: importance ranking, correlation filter, forward selection — by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier

from skyclass.evaluate.selection import (
    drop_correlated,
    forward_selection,
    importance_ranking,
    select_features,
)


def _data(seed: int = 0, n: int = 90):
    """Three classes: ``s`` separates them, ``s2`` is ``s`` rescaled, ``weak`` less so."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    s = y + rng.normal(0, 0.2, n)
    w = y + rng.normal(0, 1.5, n)
    x = np.column_stack([rng.normal(size=n), w, 3 * s + 1, s])
    return x, y, ["noise", "weak", "s2", "s"]


def test_correlation_filter_keeps_the_earlier_of_each_pair():
    # a and b: r = 1; c against a: r = 0 by construction; d = -a: |r| = 1
    x = np.array([[1, 2, 1, -1], [2, 4, -1, -2], [3, 6, -1, -3], [4, 8, 1, -4]], float)
    kept, dropped = drop_correlated(x, ["a", "b", "c", "d"], threshold=0.9)
    assert kept == ["a", "c"]
    assert dropped == {"b": ("a", pytest.approx(1.0)), "d": ("a", pytest.approx(1.0))}
    # the order is the preference: b first keeps b
    kept, dropped = drop_correlated(x[:, [1, 0]], ["b", "a"], threshold=0.9)
    assert kept == ["b"] and dropped["a"][0] == "b"
    # at |r| = 1 nothing exceeds a threshold of 1
    assert drop_correlated(x, list("abcd"), threshold=1.0)[0] == list("abcd")


def test_correlation_filter_threshold_is_strict_and_keeps_constant_columns():
    x = np.column_stack([[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 3.0, 2.0], [5.0] * 4])
    r = np.corrcoef(x[:, 0], x[:, 1])[0, 1]  # 0.8 exactly
    assert r == pytest.approx(0.8)
    assert drop_correlated(x, ["a", "b", "k"], threshold=0.8)[0] == ["a", "b", "k"]
    kept, dropped = drop_correlated(x, ["a", "b", "k"], threshold=0.79)
    assert kept == ["a", "k"] and dropped["b"][0] == "a"
    with pytest.raises(ValueError, match="threshold"):
        drop_correlated(x, ["a", "b", "k"], threshold=1.5)


def test_importance_ranking_puts_the_informative_feature_first():
    x, y, _ = _data()
    ranking = importance_ranking(x[:, [0, 3]], y, ["noise", "s"], n_estimators=30, seed=0)
    assert list(ranking.index) == ["s", "noise"] and ranking.sum() == pytest.approx(1.0)
    again = importance_ranking(x[:, [0, 3]], y, ["noise", "s"], n_estimators=30, seed=0)
    pd.testing.assert_series_equal(ranking, again)  # seeded


def test_forward_selection_adds_the_best_feature_first_and_records_scores():
    x, y, names = _data()
    steps = forward_selection(
        x[:, :2], y, names[:2], max_features=5, estimator=KNeighborsClassifier(5), cv=3
    )
    assert steps["step"].tolist() == [1, 2] and steps["feature"].tolist()[0] == "weak"
    assert steps["cv_score"].between(0, 1).all()
    one = forward_selection(x, y, names, max_features=1, estimator=KNeighborsClassifier(5))
    assert len(one) == 1 and one["feature"].iloc[0] in ("s", "s2")


def test_select_features_chain_and_inputs_untouched():
    x, y, names = _data()
    before = x.copy()
    sel = select_features(
        x, y, names, n_estimators=30, estimator=KNeighborsClassifier(5), cv=3, seed=0
    )
    np.testing.assert_array_equal(x, before)
    # s and s2 are one feature: exactly one of them survives the filter
    assert len(sel.dropped) == 1 and set(sel.dropped) <= {"s", "s2"}
    assert len(sel.order) == 3 and sel.order[0] in ("s", "s2")
    d = sel.to_dict()
    assert d["order"] == sel.order and len(d["cv_score"]) == 3 and d["options"]["seed"] == 0
    assert list(d["importance"]) == list(sel.importance.index)


def test_bad_inputs_name_the_fix():
    x, y, names = _data()
    with pytest.raises(ValueError, match="distinct feature names"):
        select_features(x, y, names[:3])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="drop or fill"):
        importance_ranking(bad, y, names)
