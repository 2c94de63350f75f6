"""Calibration of probabilities: reliability curves, expected calibration error, temperatures.

A classifier is calibrated when, among objects given probability p for their
predicted class, a fraction p is right. ``reliability_curve`` bins the
confidence of the predicted class; ``expected_calibration_error`` is the
support-weighted gap between confidence and accuracy over those bins (Guo et
al. 2017); ``TemperatureScaler`` fits one temperature T on validation
probabilities (softmax(log p / T)) by minimising the negative log-likelihood,
which changes confidences but never the predicted class.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> logits = rng.normal(0, 3, (2000, 3))
>>> y = np.array([rng.choice(3, p=np.exp(l / 3) / np.exp(l / 3).sum()) for l in logits])
>>> proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)   # overconfident by 3x
>>> scaler = TemperatureScaler().fit(proba, y)
>>> round(scaler.temperature_, 1)
3.0
>>> expected_calibration_error(scaler.transform(proba), y) < expected_calibration_error(proba, y)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skyclass.exceptions import NotFittedError

__all__ = [
    "CALIBRATORS",
    "IsotonicCalibrator",
    "TemperatureScaler",
    "calibrator_from_dict",
    "expected_calibration_error",
    "reliability_curve",
]

_EPS = 1e-12


def _check(proba: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ValueError("proba must be a finite, non-negative (N, n_classes) array")
    if y is not None:
        y = np.asarray(y, dtype=np.int64)
        if (
            y.shape != (proba.shape[0],)
            or y.min(initial=0) < 0
            or y.max(initial=0) >= proba.shape[1]
        ):
            raise ValueError("y must hold one class index in [0, n_classes) per row of proba")
    return proba, y


def reliability_curve(proba: np.ndarray, y: np.ndarray, *, n_bins: int = 15) -> dict[str, Any]:
    """Confidence against accuracy of the predicted class, in equal-width confidence bins.

    Returns
    -------
    dict
        ``edges`` (n_bins + 1), and per bin ``confidence`` (mean), ``accuracy``,
        ``count``; empty bins hold NaN and count 0.

    Examples
    --------
    >>> curve = reliability_curve(np.array([[0.9, 0.1], [0.6, 0.4]]), np.array([0, 1]), n_bins=2)
    >>> curve["count"].tolist(), curve["accuracy"].tolist()
    ([0, 2], [nan, 0.5])
    """
    proba, y = _check(proba, y)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / count
    return {"edges": edges, "confidence": mean_conf, "accuracy": accuracy, "count": count}


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, *, n_bins: int = 15) -> float:
    """Σ_bins (count / N) · ``|accuracy − confidence|`` of the predicted class.

    Examples
    --------
    >>> expected_calibration_error(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([0, 1]))
    0.5
    """
    curve = reliability_curve(proba, y, n_bins=n_bins)
    used = curve["count"] > 0
    gaps = np.abs(curve["accuracy"][used] - curve["confidence"][used])
    return float(np.sum(curve["count"][used] * gaps) / np.sum(curve["count"]))


class TemperatureScaler:
    """One temperature for all classes, fitted on held-out (validation) probabilities.

    ``transform`` returns softmax(log p / T); T > 1 softens overconfident models.
    Fit it on validation objects only, never on the test set.
    """

    def fit(self, proba: np.ndarray, y: np.ndarray) -> TemperatureScaler:
        """Choose T minimising the mean negative log-likelihood (bounded 1-D search)."""
        from scipy.optimize import minimize_scalar

        proba, y = _check(proba, y)
        logp = np.log(proba + _EPS)

        def nll(log_t: float) -> float:
            z = logp / np.exp(log_t)
            z -= z.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(z).sum(axis=1))
            return float(np.mean(log_norm - z[np.arange(len(y)), y]))

        result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
        self.temperature_ = float(np.exp(result.x))
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        """Rescaled probabilities (rows sum to one; the argmax is unchanged)."""
        if not hasattr(self, "temperature_"):
            raise NotFittedError("this TemperatureScaler is not fitted yet; call fit() first")
        proba, _ = _check(proba)
        z = np.log(proba + _EPS) / self.temperature_
        z -= z.max(axis=1, keepdims=True)
        out = np.exp(z)
        return out / out.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters, for a saved model directory."""
        if not hasattr(self, "temperature_"):
            raise NotFittedError("this TemperatureScaler is not fitted yet; call fit() first")
        return {"kind": "temperature", "temperature": self.temperature_}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemperatureScaler:
        """Rebuild from :meth:`to_dict`."""
        if data.get("kind") != "temperature":
            raise ValueError(f"not a temperature scaler: {data!r}")
        scaler = cls()
        scaler.temperature_ = float(data["temperature"])
        return scaler


class IsotonicCalibrator:
    """One-vs-rest isotonic regression of each class's probability, renormalised.

    More flexible than one temperature (it can fix a miscalibration that differs
    between classes) but needs more validation objects and may change the argmax
    where two classes are close. Fit it on validation objects only.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> logits = rng.normal(0, 3, (3000, 3))
    >>> y = np.array([rng.choice(3, p=np.exp(l / 3) / np.exp(l / 3).sum()) for l in logits])
    >>> proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    >>> iso = IsotonicCalibrator().fit(proba[:2000], y[:2000])
    >>> after = expected_calibration_error(iso.transform(proba[2000:]), y[2000:])
    >>> bool(after < expected_calibration_error(proba[2000:], y[2000:]))
    True
    """

    def fit(self, proba: np.ndarray, y: np.ndarray) -> IsotonicCalibrator:
        """Fit one non-decreasing map per class from p_k to P(y = k)."""
        from sklearn.isotonic import IsotonicRegression

        proba, y = _check(proba, y)
        self.maps_ = []
        for k in range(proba.shape[1]):
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(proba[:, k], (y == k).astype(float))
            self.maps_.append((iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist()))
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (rows sum to one)."""
        if not hasattr(self, "maps_"):
            raise NotFittedError("this IsotonicCalibrator is not fitted yet; call fit() first")
        proba, _ = _check(proba)
        if proba.shape[1] != len(self.maps_):
            raise ValueError(f"expected {len(self.maps_)} classes, got {proba.shape[1]}")
        out = np.column_stack([np.interp(proba[:, k], x, f) for k, (x, f) in enumerate(self.maps_)])
        out = np.maximum(out, _EPS)
        return out / out.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters, for a saved model directory."""
        if not hasattr(self, "maps_"):
            raise NotFittedError("this IsotonicCalibrator is not fitted yet; call fit() first")
        return {"kind": "isotonic", "maps": [[list(x), list(f)] for x, f in self.maps_]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IsotonicCalibrator:
        """Rebuild from :meth:`to_dict`."""
        if data.get("kind") != "isotonic":
            raise ValueError(f"not an isotonic calibrator: {data!r}")
        calibrator = cls()
        calibrator.maps_ = [(list(x), list(f)) for x, f in data["maps"]]
        return calibrator


#: Calibration methods by name (``calibration=`` of the estimators).
CALIBRATORS: dict[str, type] = {"temperature": TemperatureScaler, "isotonic": IsotonicCalibrator}


def calibrator_from_dict(data: dict[str, Any]) -> TemperatureScaler | IsotonicCalibrator:
    """Rebuild a calibrator saved with ``to_dict`` (its ``kind`` names the class).

    Examples
    --------
    >>> calibrator_from_dict({"kind": "temperature", "temperature": 2.0}).temperature_
    2.0
    """
    kind = data.get("kind")
    if kind not in CALIBRATORS:
        raise ValueError(f"unknown calibrator kind {kind!r}; known: {sorted(CALIBRATORS)}")
    return CALIBRATORS[kind].from_dict(data)
