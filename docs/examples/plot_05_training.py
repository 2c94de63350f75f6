"""
Training curve and confusion matrix
===================================

A small :class:`~skyclass.estimator.LightCurveClassifier` (the default
``foldnet`` network, a few epochs) trained on simulated OGLE-like curves, one
per row of the OGLE-III catalogue drawn (:func:`~skyclass.datasets.simulate_from_catalogue`).
The set is split by object before anything is fitted; the classifier holds out
its own validation objects from the training part for early stopping, and the
test objects are scored once at the end.
"""

import matplotlib.pyplot as plt
import numpy as np

from skyclass.datasets import simulate_from_catalogue
from skyclass.estimator import LightCurveClassifier
from skyclass.evaluate.metrics import balanced_accuracy, confusion_matrix, macro_f1

curves = simulate_from_catalogue(n_per_class=80, n_epochs=(60, 120), seed=0)
parts = curves.split((0.7, 0.3), names=("train", "test"), seed=0)
clf = LightCurveClassifier(
    train={"max_epochs": 30}, validation_fraction=0.25, progress=False, random_state=0
).fit(parts["train"])

test = parts["test"]
classes = list(clf.classes_)
y_true = np.searchsorted(classes, test.labels)
y_pred = np.searchsorted(classes, clf.predict(test))
print(f"{len(parts['train'])} training and {len(test)} test curves, classes {classes}")
print(f"test balanced accuracy {balanced_accuracy(y_true, y_pred):.3f}")
print(f"test macro F1 {macro_f1(y_true, y_pred):.3f}")

# %%
# The loss of every epoch on the training batches and on the validation
# objects, and the test objects' confusion matrix (recall view: each row sums to 1).

history = clf.history_
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
left.plot(history["epoch"], history["train_loss"], "o-", label="training")
left.plot(history["epoch"], history["val_loss"], "o-", label="validation")
left.axvline(history.best_epoch, color="0.6", ls="--", label=f"best epoch ({history.best_epoch})")
left.set(xlabel="epoch", ylabel="cross-entropy", title="learning curve")
left.legend()

recall = confusion_matrix(y_true, y_pred, n_classes=len(classes), normalize="true")
right.imshow(recall, cmap="Blues", vmin=0, vmax=1)
for (i, j), value in np.ndenumerate(recall):
    right.text(j, i, f"{value:.2f}", ha="center", va="center", color="w" if value > 0.5 else "k")
right.set(
    xticks=range(len(classes)),
    yticks=range(len(classes)),
    xticklabels=classes,
    yticklabels=classes,
    xlabel="predicted",
    ylabel="true",
    title="test confusion matrix (recall)",
)
plt.show()
