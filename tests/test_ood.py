"""Unknown-class scores and isotonic calibration: hand-worked cases and known-truth data."""

from __future__ import annotations

import numpy as np
import pytest

from skyclass.evaluate.calibration import (
    IsotonicCalibrator,
    TemperatureScaler,
    calibrator_from_dict,
    expected_calibration_error,
)
from skyclass.evaluate.ood import OODScorer
from skyclass.exceptions import NotFittedError


def test_scores_by_hand():
    proba = np.array([[1.0, 0.0], [0.5, 0.5], [np.nan, np.nan]])
    ms = OODScorer(method="max_softmax").score(proba)
    np.testing.assert_allclose(ms[:2], [0.0, 0.5])
    assert np.isnan(ms[2])
    ent = OODScorer(method="entropy").score(proba)
    np.testing.assert_allclose(ent[:2], [0.0, 1.0], atol=1e-9)


def test_threshold_flags_the_chosen_share_of_validation_objects():
    rng = np.random.default_rng(3)
    val = rng.dirichlet([6, 1, 1], 4000)
    scorer = OODScorer(known_rate=0.1).fit(val)
    assert scorer.flag(val).mean() == pytest.approx(0.1, abs=0.01)
    back = OODScorer.from_dict(scorer.to_dict())
    np.testing.assert_array_equal(back.flag(val), scorer.flag(val))


def test_flag_is_false_for_rows_without_probabilities():
    scorer = OODScorer().fit(np.array([[0.9, 0.1], [0.8, 0.2]]))
    assert not scorer.flag(np.array([[np.nan, np.nan]]))[0]


def test_bad_options_and_unfitted_use_name_the_fix():
    with pytest.raises(ValueError, match="max_softmax"):
        OODScorer(method="energy")
    with pytest.raises(ValueError, match="known_rate"):
        OODScorer(known_rate=1.5)
    with pytest.raises(NotFittedError, match="fit"):
        OODScorer().flag(np.eye(2))


def test_isotonic_fixes_a_class_dependent_miscalibration_temperature_cannot():
    # class 0 overconfident, class 1 underconfident: one temperature cannot fix both
    rng = np.random.default_rng(0)
    n = 6000
    y = rng.integers(0, 2, n)
    true_p = rng.uniform(0.5, 1.0, n)
    hit = rng.random(n) < true_p
    pred = np.where(hit, y, 1 - y)
    conf = np.where(pred == 0, true_p**0.3, true_p**3)
    proba = np.where(pred[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    fit, test = slice(0, 4000), slice(4000, None)
    iso = IsotonicCalibrator().fit(proba[fit], y[fit])
    temp = TemperatureScaler().fit(proba[fit], y[fit])
    e_iso = expected_calibration_error(iso.transform(proba[test]), y[test])
    e_temp = expected_calibration_error(temp.transform(proba[test]), y[test])
    assert e_iso < e_temp
    again = calibrator_from_dict(iso.to_dict())
    np.testing.assert_allclose(again.transform(proba[test]), iso.transform(proba[test]))


def _embedded(rng, n, centre):
    return rng.normal(centre, 1.0, (n, 4))


def test_mahalanobis_and_combined_see_a_far_class_the_softmax_is_sure_about():
    rng = np.random.default_rng(2)
    train = np.vstack([_embedded(rng, 300, 0.0), _embedded(rng, 300, 6.0)])
    train_y = np.repeat([0, 1], 300)
    val = np.vstack([_embedded(rng, 100, 0.0), _embedded(rng, 100, 6.0)])
    confident = np.tile([0.99, 0.01], (200, 1))
    far = _embedded(rng, 200, -8.0)  # confident softmax, but far from both classes
    for method in ("mahalanobis", "combined"):
        scorer = OODScorer(method=method).fit(
            confident, embedding=val, train_embedding=train, train_y=train_y
        )
        assert scorer.flag(confident, val).mean() <= 0.06
        assert scorer.flag(confident, far).mean() > 0.9
        back = OODScorer.from_dict(scorer.to_dict())
        np.testing.assert_allclose(back.score(confident, far), scorer.score(confident, far))
    # the softmax alone cannot tell them apart
    ms = OODScorer().fit(confident)
    assert ms.flag(confident).mean() == 0.0


def test_combined_also_flags_what_only_the_softmax_sees():
    rng = np.random.default_rng(4)
    train = _embedded(rng, 400, 0.0)
    train_y = np.repeat([0, 1], 200)
    val_p = rng.dirichlet([20, 1], 200)
    scorer = OODScorer(method="combined").fit(
        val_p, embedding=_embedded(rng, 200, 0.0), train_embedding=train, train_y=train_y
    )
    unsure = np.tile([0.5, 0.5], (50, 1))  # close to the classes, but undecided
    assert scorer.flag(unsure, _embedded(rng, 50, 0.0)).mean() > 0.9


def test_embedding_scores_need_embeddings():
    with pytest.raises(ValueError, match="embeddings"):
        OODScorer(method="mahalanobis").fit(np.eye(2))
