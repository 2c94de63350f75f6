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
