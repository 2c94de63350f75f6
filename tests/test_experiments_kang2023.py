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
from skyclass.estimator import EnsembleClassifier
from skyclass.exceptions import DataError
from skyclass.experiments.kang2023 import (
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


def test_the_bag_ensemble_averages_its_members():
    ens = EnsembleClassifier(
        [_Member([[0.9, 0.1], [0.2, 0.8]]), _Member([[0.5, 0.5], [np.nan] * 2])]
    )
    proba, valid, _, _ = ens.predict_raw(None)
    assert np.allclose(proba[0], [0.7, 0.3])
    assert valid.tolist() == [True, False]
    assert len(ens) == 2
    with pytest.raises(DataError, match="different classes"):
        _ = EnsembleClassifier([_Member([[1, 0]]), _Member([[1, 0]], classes=("a", "c"))]).classes_


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown strategy"):
        make_plan("smote", ["a"], {}, seed=0)


@pytest.mark.realdata
def test_quick_reproduction_on_eros(shared_data, tmp_path):
    from skyclass.experiments import reproduce

    torch.set_num_threads(1)
    units = tmp_path.parent / f"{tmp_path.name}-units"
    args = {"quick": True, "report": False, "progress": False, "units": units}
    m = reproduce("kang2023", out=tmp_path, **args)
    # a second run with the same settings reuses the seed's unit: same scores
    again = reproduce("kang2023", out=tmp_path, **args)
    assert again["strategies"] == m["strategies"]
    assert "seed0: every net reused from the run directory" in (tmp_path / "log.txt").read_text()
    # without the unit, every saved bag net is reused: same scores again
    (tmp_path / "seeds" / "seed0" / "result.json").unlink()
    (units / "kang2023" / "seeds" / "seed0" / "result.json").unlink()
    nets = reproduce("kang2023", out=tmp_path, **args)
    assert nets["strategies"] == m["strategies"]
    assert "RNN reused" in (tmp_path / "log.txt").read_text()
    # another machine with the unit record only: the seed comes from the record
    elsewhere = reproduce("kang2023", out=tmp_path.parent / f"{tmp_path.name}-b", **args)
    assert elsewhere["run"]["units"]["from_record"] == 1
    assert elsewhere["strategies"] == json.loads(json.dumps(m["strategies"]))
    assert elsewhere["tables"] == json.loads(json.dumps(m["tables"]))
    assert m["task"] == "classification"
    # seeded, the bagged RNNs beat a constant or class-prior guess (balanced accuracy
    # 1 / number of classes, macro F1 at most that) by a margin (seed 0: 0.685 and 0.614)
    chance = 1 / len(m["test"]["class_names"])
    assert m["test"]["balanced_accuracy"] > chance + 0.25 and m["test"]["macro_f1"] > chance + 0.15
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


# ------------------------------------------------------------------- ablations
def test_median_and_spread_drops_one_extreme_at_each_end():
    from skyclass.experiments.kang2023 import median_and_spread

    # five folds of a 1x2 "matrix": cell 0 = 0.9, 0.5, 0.7, 0.8, 0.6; cell 1 its complement
    folds = np.array([[[0.9, 0.1]], [[0.5, 0.5]], [[0.7, 0.3]], [[0.8, 0.2]], [[0.6, 0.4]]])
    median, low, high = median_and_spread(folds)
    assert median.shape == low.shape == high.shape == (1, 2)
    assert np.allclose(median, [[0.7, 0.3]])
    assert np.allclose(low, [[0.6, 0.2]])  # second-lowest
    assert np.allclose(high, [[0.8, 0.4]])  # second-highest
    # NaN (class absent from a fold) is left out cell by cell; < 3 values: min and max
    median, low, high = median_and_spread([[1.0, 5.0], [np.nan, 1.0], [3.0, 3.0], [np.nan, 2.0]])
    assert median.tolist() == [2.0, 2.5]
    assert low.tolist() == [1.0, 2.0] and high.tolist() == [3.0, 3.0]
    median, low, high = median_and_spread([[np.nan], [np.nan]])
    assert np.isnan(median).all() and np.isnan(low).all() and np.isnan(high).all()


def test_spread_cells_put_the_worst_fold_first():
    from skyclass.study.folds import spread_cell as _spread_cell

    # recall (diagonal): worst is the lower value; confusion (off-diagonal): the higher one
    assert _spread_cell(0.8, 0.7, 0.9, diagonal=True) == "0.80 (0.70–0.90)"
    assert _spread_cell(0.1, 0.05, 0.2, diagonal=False) == "0.10 (0.20–0.05)"
    assert _spread_cell(np.nan, np.nan, np.nan, diagonal=True) == "—"


def test_rnn_and_compound_without_the_numeric_branch_ignore_features():
    from skyclass.models import create_model

    torch.manual_seed(0)
    small = {"gru_units": (4, 4), "dense_units": (6, 5), "feature_units": (4, 3)}
    rnn = create_model("kang2023_rnn", num_outputs=3, num_features=0, **small).eval()
    comp = create_model("kang2023_compound", num_outputs=3, num_features=0, **small).eval()
    assert rnn.feature_dim == 0 and rnn.head.in_features == 5
    assert comp.head.in_features == 5 + 32  # sequence + image, no numeric embedding
    assert not any("feat_dense" in k for k in comp.state_dict())
    batch = {"seq": torch.randn(2, 7, 3), "mask": torch.ones(2, 7), "features": torch.zeros(2, 4)}
    image = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        a, b = rnn(batch), rnn({**batch, "features": torch.randn(2, 9)})
        c = comp({**batch, "folded_image": image})
        d = comp({**batch, "features": torch.randn(2, 9), "folded_image": image})
    assert torch.equal(a, b) and torch.equal(c, d)
    comp.load_rnn_state(rnn.state_dict())  # the stage-1 net loads into the compound
    with pytest.raises(ValueError, match="num_features"):
        create_model("kang2023_rnn", num_features=-1)


def test_member_keys_of_the_plain_run_ignore_the_ablation_settings():
    from functools import partial

    from skyclass.experiments.kang2023 import NOT_IN_KEY
    from skyclass.study.bagging import member_key

    _member_key = partial(member_key, not_in_key=NOT_IN_KEY)
    plain = {"n_bags": 5, "per_class": 400, "nets": ["kang2023_rnn"], "threads": 1}
    with_ablations = {**plain, "ablation": None, "ablations": {"cross_test": {"n_folds": 10}}}
    key = _member_key(plain, "kang2023_rnn", 0, "bagging", 1)
    assert _member_key(with_ablations, "kang2023_rnn", 0, "bagging", 1) == key
    assert _member_key(plain, "kang2023_rnn", 0, "bagging", 1, extra=["cross_test", 0]) != key
    folds = {
        _member_key(plain, "kang2023_rnn", 0, "bagging", 1, extra=["cross_test", f]) for f in (0, 1)
    }
    assert len(folds) == 2


def _quick(out, *overrides, units=None):
    from skyclass.experiments import reproduce

    return reproduce(
        "kang2023",
        out=out,
        quick=True,
        overrides=list(overrides),
        report=False,
        progress=False,
        units=units,
    )


def test_unknown_ablation_or_variant_fails_before_any_work(tmp_path):
    known = r"\['compound', 'cross_test'\]"
    with pytest.raises(ValueError, match=rf"unknown kang2023 ablation 'nope'.*{known}"):
        _quick(tmp_path, "settings.ablation=nope")
    with pytest.raises(ValueError, match="unknown compound variants"):
        _quick(tmp_path, "settings.ablation=compound", "settings.ablations.compound.variants=[x]")
    assert not (tmp_path / "log.txt").exists()  # no data were loaded


@pytest.mark.realdata
def test_quick_cross_test_on_eros(shared_data, tmp_path):
    torch.set_num_threads(1)
    units = tmp_path / "units"
    run = tmp_path / "run"
    # one process runs fold 0 only; the run over every fold reuses it and adds the others
    part = _quick(run, "settings.ablation=cross_test", "settings.ablations.cross_test.folds=[0]")
    assert [f["fold"] for f in part["ablation"]["folds"]] == [0]
    assert "folds [0] only" in part["tables"][0]["title"]
    m = _quick(run, "settings.ablation=cross_test", units=units)
    assert m["run"]["units"]["reused"] == 1 and m["run"]["units"]["computed"] == 2
    # the ablation's units are kept apart from the plain run's (whose seed units share paths)
    assert [p.name for p in units.iterdir()] == ["kang2023-cross_test"]
    assert m["run"]["seeds"] == [0]  # the fold assignment's seed, the only one run
    assert "fold0: reused from the run directory" in (run / "log.txt").read_text()
    tmp_path = run
    per_fold, matrix = m["tables"]
    n_folds = 3
    assert len(per_fold["rows"]) == n_folds + 1 and per_fold["rows"][-1][0] == "mean ± std"
    assert all(len(row) == len(per_fold["columns"]) for row in per_fold["rows"])
    classes = m["ablation"]["classes"]
    assert matrix["columns"][1:] == classes and [r[0] for r in matrix["rows"]] == classes
    folds = m["ablation"]["folds"]
    assert [f["fold"] for f in folds] == list(range(n_folds))
    # the test folds partition the cleaned objects; no synthetic curve is ever scored
    table = pd.read_parquet(tmp_path / "predictions.parquet")
    assert table["object_id"].is_unique and len(table) == m["data"]["summary"]["n_objects"]
    assert sorted(table["fold"].unique()) == list(range(n_folds))
    assert not table["object_id"].str.contains("~gp").any()
    assert sum(f["sizes"]["test"] for f in folds) == len(table)
    # in every fold, training, validation and test parts together are all the objects
    # (the plans were checked against the fold's val and test ids when they were made)
    for f in folds:
        assert f["sizes"]["train"] + f["sizes"]["val"] + f["sizes"]["test"] == len(table)
    # seeded, the pooled test folds beat a constant or class-prior guess (balanced accuracy
    # 1 / number of classes, macro F1 at most that) (seed 0: 0.434 and 0.459)
    chance = 1 / len(classes)
    assert m["test"]["balanced_accuracy"] > chance + 0.1 and m["test"]["macro_f1"] > chance + 0.1
    median = np.array(m["ablation"]["median_confusion_true"])
    assert median.shape == (len(classes), len(classes))
    assert (
        tmp_path / "members" / "kang2023_rnn" / "bagging" / "fold2" / "bag0" / "done.json"
    ).exists()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["tables"][1]["rows"] == matrix["rows"]
    # fold 0, computed before the record was named, is kept there when it is reused
    kept = sorted(p.parent.name for p in units.rglob("result.json"))
    assert kept == ["fold0", "fold1", "fold2"]
    # another machine with the record only: every fold from it, and the scores pooled
    # from the folds' confusion matrices equal the pooled predictions'
    again = _quick(tmp_path.parent / "elsewhere", "settings.ablation=cross_test", units=units)
    seconds = m["run"]["units"]["seconds"]
    assert again["run"]["units"] == {
        "computed": 0,
        "reused": 3,
        "from_record": 3,
        "seconds": seconds,
    }
    assert again["ablation"]["folds"] == json.loads(json.dumps(folds))
    assert again["tables"] == json.loads(json.dumps(m["tables"]))
    assert again["test"]["macro_f1"] == pytest.approx(m["test"]["macro_f1"])
    assert again["test"]["pooled_from"] == "the folds' confusion matrices"
    with pytest.raises(ValueError, match="must name folds 0..2"):
        _quick(tmp_path, "settings.ablation=cross_test", "settings.ablations.cross_test.folds=[3]")


@pytest.mark.realdata
def test_quick_compound_ablation_on_eros_resumes(shared_data, tmp_path):
    from skyclass.experiments.kang2023_ablations import COMPOUND_VARIANTS

    torch.set_num_threads(1)
    m = _quick(tmp_path, "settings.ablation=compound")
    (table,) = m["tables"]
    assert [row[0] for row in table["rows"]] == list(COMPOUND_VARIANTS)
    assert [row[2] for row in table["rows"]] == ["yes", "yes", "no", "no"]
    assert all(len(row) == len(table["columns"]) for row in table["rows"])
    assert "n_bags=1" in table["note"]
    diffs = m["ablation"]["macro_f1_differences"]
    assert len(diffs) == 4 and all(len(d) == 1 for d in diffs.values())
    runs = m["ablation"]["variants"]
    two_stage, joint = runs["two_stage"][0]["macro_f1"], runs["joint"][0]["macro_f1"]
    assert diffs["two-stage minus joint, with the numeric branch"] == [
        pytest.approx(two_stage - joint)
    ]
    assert f"with the numeric branch: {two_stage - joint:+.3f}" in table["note"]
    assert all(r[0]["train_seconds"] > 0 for r in runs.values())
    assert m["fit"]["strategy"] == "two_stage" and m["fit"]["net"] == "kang2023_compound"
    # the variants really differ: the no-features nets have no numeric layers
    from skyclass.estimator import LightCurveClassifier

    members = tmp_path / "members" / "kang2023_compound"
    bare = LightCurveClassifier.load(members / "joint_no_features" / "seed0" / "bag0" / "model")
    full = LightCurveClassifier.load(members / "joint" / "seed0" / "bag0" / "model")
    assert bare.model_.rnn.feature_dim == 0 and full.model_.rnn.feature_dim > 0
    # a second run reuses the seed's unit; without it, every saved net: the same scores
    again = _quick(tmp_path, "settings.ablation=compound")
    assert again["ablation"]["variants"] == runs
    assert (
        "seed0: every variant reused from the run directory" in (tmp_path / "log.txt").read_text()
    )
    (tmp_path / "seeds" / "seed0" / "result.json").unlink()
    (tmp_path / "log.txt").unlink()
    nets = _quick(tmp_path, "settings.ablation=compound")
    assert nets["ablation"]["variants"] == runs
    assert (tmp_path / "log.txt").read_text().count("reused") == len(COMPOUND_VARIANTS)
