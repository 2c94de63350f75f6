"""Reliability curves, ECE and temperature scaling: hand-worked and known-truth cases."""

from __future__ import annotations

import numpy as np
import pytest

from skyclass.evaluate.calibration import (
    TemperatureScaler,
    expected_calibration_error,
    reliability_curve,
)
from skyclass.exceptions import NotFittedError


def _sample(temperature_truth: float, n: int = 4000, seed: int = 0):
    """Labels drawn from softmax(logits / T_truth); probabilities reported at T = 1."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (n, 4))
    truth = np.exp(logits / temperature_truth)
    truth /= truth.sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
    reported = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return reported, y


def test_hand_worked_ece_and_bins():
    proba = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    y = np.array([0, 1, 0, 0])
    curve = reliability_curve(proba, y, n_bins=2)
    assert curve["count"].tolist() == [0, 4]
    # one bin: confidence 0.75, accuracy 0.75 -> 0; with 10 bins: |0.5-0.95|/2 + |1-0.55|/2
    assert expected_calibration_error(proba, y, n_bins=2) == pytest.approx(0.0)
    assert expected_calibration_error(proba, y, n_bins=10) == pytest.approx(0.45)


@pytest.mark.parametrize("truth", [0.5, 1.0, 2.5])
def test_temperature_recovers_the_truth_and_keeps_the_argmax(truth):
    proba, y = _sample(truth)
    scaler = TemperatureScaler().fit(proba, y)
    assert scaler.temperature_ == pytest.approx(truth, rel=0.1)
    calibrated = scaler.transform(proba)
    assert np.array_equal(calibrated.argmax(axis=1), proba.argmax(axis=1))
    assert np.allclose(calibrated.sum(axis=1), 1.0)
    if truth != 1.0:
        assert expected_calibration_error(calibrated, y) < expected_calibration_error(proba, y)


def test_round_trip_and_refusals():
    proba, y = _sample(2.0, n=500)
    scaler = TemperatureScaler().fit(proba, y)
    again = TemperatureScaler.from_dict(scaler.to_dict())
    assert np.array_equal(again.transform(proba), scaler.transform(proba))
    with pytest.raises(NotFittedError):
        TemperatureScaler().transform(proba)
    with pytest.raises(ValueError, match="class index"):
        TemperatureScaler().fit(proba, np.full(len(proba), 7))
