"""
Reliability before and after calibration
========================================

A classifier's probabilities are calibrated when, among the curves given 0.8
for their predicted class, 80% are right. After training,
:class:`~skyclass.estimator.LightCurveClassifier` fits a temperature on its
validation objects (:class:`~skyclass.evaluate.calibration.TemperatureScaler`)
and applies it in every ``predict*`` call. The reliability diagram of the
held-out test objects shows the network's raw probabilities and the calibrated
ones, with the expected calibration error (ECE) of each.
"""

import matplotlib.pyplot as plt
import numpy as np

from skyclass.datasets import simulate_from_catalogue
from skyclass.estimator import LightCurveClassifier
from skyclass.evaluate.calibration import expected_calibration_error, reliability_curve

curves = simulate_from_catalogue(n_per_class=100, n_epochs=(60, 120), seed=1)
parts = curves.split((0.6, 0.4), names=("train", "test"), seed=1)
clf = LightCurveClassifier(
    train={"max_epochs": 30}, validation_fraction=0.3, progress=False, random_state=1
).fit(parts["train"])

test = parts["test"]
y = np.searchsorted(list(clf.classes_), test.labels)
raw = clf.predict_proba(test, calibrated=False)
calibrated = clf.predict_proba(test)
print(f"temperature fitted on validation objects: {clf.calibrator_.to_dict()}")
for name, proba in [("raw", raw), ("calibrated", calibrated)]:
    print(f"{name:>10}: ECE {expected_calibration_error(proba, y, n_bins=10):.3f}")

# %%
# Points above the diagonal are under-confident bins, below it over-confident;
# the bars below count the test curves in each confidence bin.

fig, (top, bottom) = plt.subplots(
    2, 1, figsize=(6, 6.5), height_ratios=(3, 1), sharex=True, layout="constrained"
)
top.plot([0, 1], [0, 1], color="0.6", ls="--", label="perfect calibration")
for name, proba, color in [("raw", raw, "C1"), ("calibrated", calibrated, "C0")]:
    curve = reliability_curve(proba, y, n_bins=10)
    ece = expected_calibration_error(proba, y, n_bins=10)
    top.plot(
        curve["confidence"], curve["accuracy"], "o-", color=color, label=f"{name}, ECE {ece:.3f}"
    )
    centres = 0.5 * (curve["edges"][1:] + curve["edges"][:-1])
    offset = -0.012 if name == "raw" else 0.012
    bottom.bar(centres + offset, curve["count"], width=0.024, color=color)
top.set(ylabel="accuracy of the predicted class", xlim=(0, 1), ylim=(0, 1.02))
top.legend(loc="upper left")
bottom.set(xlabel="confidence (probability of the predicted class)", ylabel="curves")
plt.show()
