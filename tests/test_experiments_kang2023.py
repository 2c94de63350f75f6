"""kang2023 reproduction: plans, bag materialisation, two-stage training, ensemble, quick run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from skyclass import LightCurve, LightCurveSet
from skyclass.augment.balance import Bag, check_plan
from skyclass.augment.gp import GPAugmenter
from skyclass.exceptions import DataError
from skyclass.experiments.kang2023 import (
    BaggedClassifier,
    make_plan,
    materialize_bag,
    second_stage,
)


def _toy_set(n_per_class=(8, 3), n_epochs=40, seed=0) -> LightCurveSet:
    """Two classes with different shapes and periods; unequal sizes."""
    rng = np.random.default_rng(seed)
    curves, labels, periods = [], [], []
    for c, n in enumerate(n_per_class):
        for i in range(n):
            t = np.sort(rng.uniform(0, 60, n_epochs))
            p = 0.6 + 0.05 * i if c == 0 else 3.1 + 0.2 * i
            phase = np.mod(t / p, 1)
            shape = np.sin(2 * np.pi * phase) if c == 0 else (phase < 0.15).astype(float)
            mag = 15 + 0.4 * shape + rng.normal(0, 0.03, n_epochs)
            band = np.where(np.arange(n_epochs) % 2 == 0, "B", "R")
            err = np.full(n_epochs, 0.03)
            curves.append(LightCurve(time=t, mag=mag, err=err, band=band, id=f"c{c}_{i}"))
            labels.append(f"class{c}")
            periods.append(p)
    lcs = LightCurveSet.from_lightcurves(curves, labels=labels)
    return lcs.with_objects(lcs.objects.assign(period=periods))


def test_plans_of_the_three_strategies_use_training_labels_only():
    labels = np.array(["a"] * 12 + ["b"] * 4 + ["c"] * 2)
    settings = {"n_bags": 3, "per_class": 5, "moderate_target": 6}
    bagging = make_plan("bagging", labels, settings, seed=1)
    assert len(bagging) == 3
    for bag in bagging:
        counts = bag.counts(labels)
        assert {c: n["real"] + n["synthetic"] for c, n in counts.items()} == {
            "a": 5,
            "b": 5,
            "c": 5,
        }
        assert counts["a"]["synthetic"] == 0  # the big class is undersampled, never augmented
    assert len({b.seed for b in bagging}) == 3  # fresh GP draws in every bag
    (equal,) = make_plan("equal", labels, settings, seed=1)
    assert {c: n["real"] + n["synthetic"] for c, n in equal.counts(labels).items()} == {
        "a": 12,
        "b": 12,
        "c": 12,
    }
    assert equal.class_weights is None
    (moderate,) = make_plan("moderate", labels, settings, seed=1)
    sizes = {c: n["real"] + n["synthetic"] for c, n in moderate.counts(labels).items()}
    assert sizes == {"a": 12, "b": 6, "c": 6}
    assert moderate.class_weights["a"] < moderate.class_weights["b"]
    ids = np.array([f"t{i}" for i in range(labels.size)])
    check_plan([*bagging, equal, moderate], ids, forbidden_ids=["v0", "x1"])


def test_materialize_bag_makes_fresh_synthetic_curves_of_training_prototypes():
    train = _toy_set()
    labels = np.array([str(x) for x in train.labels])
    plan = make_plan("bagging", labels, {"n_bags": 2, "per_class": 5}, seed=0)
    protos = np.unique(np.concatenate([b.synthetic for b in plan]))
    aug = GPAugmenter(restarts=1).fit(list(train.select(protos)))
    first = materialize_bag(train, plan[0], aug)
    assert len(first) == 10
    assert first.class_counts().to_dict() == {"class0": 5, "class1": 5}
    synth = first.objects[first.objects["synthetic"]]
    assert len(synth) == plan[0].n_synthetic == 2
    assert set(synth["prototype"]) <= set(train.ids[labels == "class1"])
    assert (synth["label"] == "class1").all()
    for _, row in synth.iterrows():  # the prototype's period travels with its synthetic curve
        proto = train.objects.set_index("id").loc[row["prototype"]]
        assert row["period"] == proto["period"]
        assert not np.array_equal(first[row["id"]].time, train[row["prototype"]].time)
    # same bag -> same curves; another bag -> other draws
    again = materialize_bag(train, plan[0], aug)
    assert np.array_equal(again.mag, first.mag)
    second = materialize_bag(train, plan[1], aug)
    s1 = first.select(np.flatnonzero(first.objects["synthetic"].to_numpy()))
    s2 = second.select(np.flatnonzero(second.objects["synthetic"].to_numpy()))
    assert s1.mag.size != s2.mag.size or not np.array_equal(s1.mag, s2.mag)


def test_materialize_bag_refuses_prototypes_the_augmenter_was_not_fitted_to():
    train = _toy_set()
    bag = Bag(real=[0, 1], synthetic=[9], seed=0, n_train=len(train))
    aug = GPAugmenter(restarts=1).fit([train[0]])
    with pytest.raises(DataError, match="not among the augmenter"):
        materialize_bag(train, bag, aug)
    with pytest.raises(DataError, match="GPAugmenter"):
        materialize_bag(train, bag, None)
    with pytest.raises(DataError, match="planned for"):
        materialize_bag(train.select([0, 1, 2]), bag, aug)


def test_second_stage_freezes_the_rnn_and_trains_the_cnn():
    from skyclass.estimator import LightCurveClassifier

    torch.set_num_threads(1)
    lcs = _toy_set((6, 6), n_epochs=30)
    small = {"gru_units": [8, 4], "dense_units": [8, 4], "feature_units": [8, 4]}
    reps = {
        "sequence": {"max_len": 32, "band_order": ["R"]},
        "features": {},
        "image": {"band": "R", "size": 64},
    }
    train_cfg = {"max_epochs": 2, "batch_size": 8, "label_smoothing": 0.1}
    rnn = LightCurveClassifier(
        model="kang2023_rnn",
        model_options=small,
        representations=reps,
        train=train_cfg,
        calibration=None,
        ood=None,
        validation_fraction=0,
        progress=False,
    ).fit(lcs)
    before = {k: v.clone() for k, v in rnn.model_.state_dict().items()}
    comp = second_stage(
        rnn,
        lcs,
        val=lcs.select(np.arange(4)),
        train_config=train_cfg,
        random_state=1,
        model_options={"cnn_dense_units": 8},
    )
    assert comp.model == "kang2023_compound" and rnn.model == "kang2023_rnn"
    for key, value in comp.model_.rnn.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(not p.requires_grad for p in comp.model_.rnn.parameters())
    assert any(p.requires_grad for p in comp.model_.cnn.parameters())
    proba = comp.predict_proba(lcs)
    assert proba.shape == (len(lcs), 2)
    assert np.allclose(proba.sum(axis=1), 1)
    with pytest.raises(DataError, match="image"):
        second_stage(_without_image(rnn), lcs)


def _without_image(est):
    import copy

    out = copy.copy(est)
    out.representation_options_ = {
        k: v for k, v in est.representation_options_.items() if k != "image"
    }
    return out


class _Member:
    def __init__(self, proba, classes=("a", "b")):
        self.proba = np.asarray(proba, float)
        self.classes_ = classes
        self.period = "auto"
        self.period_options = None

    def predict_proba(self, lcs):
        return self.proba


def test_bagged_classifier_averages_its_members():
    ens = BaggedClassifier([_Member([[0.9, 0.1], [0.2, 0.8]]), _Member([[0.5, 0.5], [np.nan] * 2])])
    proba, valid, _ = ens._raw_predict(None)
    assert np.allclose(proba[0], [0.7, 0.3])
    assert valid.tolist() == [True, False]
    assert len(ens) == 2
    with pytest.raises(DataError, match="different classes"):
        BaggedClassifier([_Member([[1, 0]]), _Member([[1, 0]], classes=("a", "c"))])
    with pytest.raises(ValueError, match="unknown strategy"):
        make_plan("smote", ["a"], {}, seed=0)


@pytest.mark.realdata
def test_quick_reproduction_on_eros(shared_data, tmp_path):
    from skyclass.experiments import reproduce

    torch.set_num_threads(1)
    m = reproduce("kang2023", out=tmp_path, quick=True, report=False, progress=False)
    # a second run with the same settings reuses every saved bag net: same scores
    again = reproduce("kang2023", out=tmp_path, quick=True, report=False, progress=False)
    assert again["strategies"] == m["strategies"]
    assert "RNN reused" in (tmp_path / "log.txt").read_text()
    assert m["task"] == "classification"
    assert 0 <= m["test"]["macro_f1"] <= 1 and 0 <= m["test"]["balanced_accuracy"] <= 1
    assert m["fit"]["strategy"] == "bagging" and m["fit"]["net"] == "kang2023_rnn"
    assert m["fit"]["n_members"] == 2
    comparison, recall, members = m["tables"]
    assert members["rows"]
    assert {"title", "columns", "rows", "note"} <= set(comparison)
    strategies = [row[1] for row in comparison["rows"]]
    assert "GP augmentation + bagging ensemble" in strategies
    assert "equal augmentation" in strategies
    assert "moderate augmentation + class weights" in strategies
    assert all(len(row) == len(comparison["columns"]) for row in comparison["rows"])
    assert all(len(row) == len(recall["columns"]) for row in recall["rows"])
    assert m["claim"]["kang2023_rnn"]["holds"] in (True, False)
    for net, runs in m["strategies"].items():
        for strategy, per_seed in runs.items():
            assert len(per_seed) == 1
            assert (tmp_path / "runs" / net / strategy / "seed0" / "predictions.parquet").exists()
    table = pd.read_parquet(tmp_path / "predictions.parquet")
    probs = [c for c in table.columns if c.startswith("prob_")]
    assert len(probs) == 4 and {"label", "predicted", "ensemble_disagreement"} <= set(table)
    ok = table[probs].notna().all(axis=1)
    assert np.allclose(table.loc[ok, probs].sum(axis=1), 1)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["run"]["quick"] is True and saved["tables"][0]["rows"]
    # the test part is never augmented: no synthetic id among the scored objects
    assert not table["object_id"].str.contains("~gp").any()
