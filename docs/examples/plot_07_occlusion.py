"""
Which phases drove a decision
=============================

:func:`~skyclass.evaluate.explain.phase_occlusion` removes the epochs of one
phase bin at a time, predicts again, and records how much the probability of
the predicted class drops: a positive bar marks phases that supported the
decision. The report of every run draws it under its example curves.
"""

import matplotlib.pyplot as plt
import numpy as np

from skyclass.datasets import simulate_from_catalogue
from skyclass.estimator import LightCurveClassifier
from skyclass.evaluate.explain import phase_occlusion
from skyclass.preprocess import phase_of

curves = simulate_from_catalogue(n_per_class=60, n_epochs=(80, 140), seed=2)
parts = curves.split((0.8, 0.2), names=("train", "test"), seed=2)
clf = LightCurveClassifier(
    train={"max_epochs": 30}, validation_fraction=0.2, progress=False, random_state=2
).fit(parts["train"])

# One test curve of each of three classes.
test = parts["test"]
labels = test.labels
picked = [int(np.flatnonzero(labels == name)[0]) for name in ("Cep", "RRLyr", "T2Cep")]
examples = test.select(picked)
explained = phase_occlusion(clf, examples, n_bins=20)
predicted = np.asarray(clf.classes_)[explained["target"]]
print("true:", examples.labels.tolist(), "predicted:", predicted.tolist())

# %%
# Each folded curve (top) over the drop in its predicted class's probability
# when each twentieth of the phase is removed (bottom).

edges = explained["bin_edges"]
fig, axes = plt.subplots(
    2, 3, figsize=(12, 5), height_ratios=(2, 1), sharex=True, layout="constrained"
)
for k, lc in enumerate(examples):
    phase = phase_of(lc.time, explained["period"][k])
    axes[0, k].plot(phase, lc.mag, ".", ms=3, color="k")
    axes[0, k].invert_yaxis()
    axes[0, k].set_title(f"{lc.id}: true {examples.labels[k]}, predicted {predicted[k]}")
    drop = np.nan_to_num(explained["attribution"][k])
    axes[1, k].bar(
        edges[:-1], drop, width=np.diff(edges), align="edge", color=np.where(drop > 0, "C3", "C0")
    )
    axes[1, k].axhline(0, color="0.5", lw=0.8)
    axes[1, k].set_xlabel("phase")
axes[0, 0].set_ylabel("I [mag]")
axes[1, 0].set_ylabel("probability drop")
plt.show()
