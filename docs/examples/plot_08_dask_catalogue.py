"""
Predictions over a sharded catalogue with Dask
==============================================

:func:`~skyclass.predict.predict_catalogue` reads a folder of canonical Parquet
shards chunk by chunk and writes one prediction file per chunk, atomically, so
a rerun after a crash does only what is missing. With ``workers=2`` the chunks
go to a local ``dask.distributed`` cluster of two single-threaded processes
(``scheduler="tcp://..."`` sends them to a running cluster instead). Here a
small classifier is trained and saved, four shards of simulated curves are
written, and the whole catalogue is predicted on two workers.

Dask starts its workers as new Python processes that import this script, so
everything that does work runs under ``if __name__ == "__main__":``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skyclass.datasets import simulate_from_catalogue
from skyclass.estimator import LightCurveClassifier
from skyclass.predict import predict_catalogue, read_predictions

if __name__ == "__main__":
    work = Path(tempfile.mkdtemp(prefix="skyclass-gallery-"))
    training = simulate_from_catalogue(n_per_class=60, n_epochs=(60, 120), seed=4)
    clf = LightCurveClassifier(
        model="mlp_features", train={"max_epochs": 40}, progress=False, random_state=4
    ).fit(training)
    clf.save(work / "model")

# %%
# The catalogue: four shards of curves the model has never seen, predicted in
# chunks of 100 curves on two worker processes.

if __name__ == "__main__":
    catalogue = simulate_from_catalogue(n_per_class=80, n_epochs=(60, 120), seed=5)
    shards = work / "catalogue"
    shards.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(len(catalogue)), 4)):
        catalogue.select(rows).to_parquet(shards / f"shard-{k}.parquet")

    report = predict_catalogue(
        work / "model", shards, work / "predictions", chunk_size=100, workers=2, progress=False
    )
    print(report.summary())
    table = read_predictions(work / "predictions")

# %%
# The predicted classes on the sky (the positions of the OGLE-III stars each
# simulated curve was seeded by), and the true classes behind each predicted one.

if __name__ == "__main__":
    truth = catalogue.objects.set_index("id").loc[table["object_id"]]
    predicted = table["predicted"].to_numpy()
    true = truth["label"].to_numpy()
    classes = list(clf.classes_)
    fig, (sky, bars) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    for k, name in enumerate(classes):
        rows = predicted == name
        sky.scatter(truth["ra"][rows], truth["dec"][rows], s=6, color=f"C{k}", label=name)
    sky.set(xlabel="RA [deg]", ylabel="Dec [deg]", title=f"{len(table)} predictions, 4 shards")
    sky.invert_xaxis()
    sky.legend(markerscale=2)

    bottom = np.zeros(len(classes))
    for k, name in enumerate(classes):
        counts = np.array([np.sum((predicted == p) & (true == name)) for p in classes])
        bars.bar(classes, counts, bottom=bottom, color=f"C{k}", label=f"true {name}")
        bottom += counts
    bars.set(xlabel="predicted class", ylabel="curves", title="true class of each prediction")
    bars.set_ylim(0, 1.3 * bottom.max())
    bars.legend(fontsize=8, ncols=3, loc="upper center")
    plt.show()
