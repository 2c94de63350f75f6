"""Cross-validation folds, ensembles, two-stage freezing, and model save / load."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from skyclass.exceptions import DataError
from skyclass.models import create_model, register_model
from skyclass.models.io import MODEL_FILES, load_model, save_model
from skyclass.represent.features import FeatureScaler
from skyclass.training.cv import (
    repeated_stratified_kfold,
    stratified_kfold,
    stratify_bins,
    train_val_split,
)
from skyclass.training.ensemble import (
    Ensemble,
    average_probabilities,
    ensemble_spread,
    freeze,
    load_submodule_state,
    prepare_second_stage,
    trainable_parameters,
    unfreeze,
)

LABELS = np.array(["a"] * 5 + ["b"] * 5)
IDS = np.array([f"obj{i:02d}" for i in range(LABELS.size)])


def _assert_partition(folds, n):
    tests = [test for _, test in folds]
    assert sorted(np.concatenate(tests).tolist()) == list(range(n))  # every object once
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))


# --------------------------------------------------------------------- cv
def test_kfold_hand_worked_one_of_each_class_per_fold():
    folds = stratified_kfold(LABELS, n_splits=5, seed=3)
    assert len(folds) == 5
    _assert_partition(folds, 10)
    for train, test in folds:
        assert sorted(LABELS[test].tolist()) == ["a", "b"]
        assert sorted(LABELS[train].tolist()) == ["a"] * 4 + ["b"] * 4


def test_kfold_uneven_classes_keep_proportions_and_sizes():
    labels = np.array(["a"] * 13 + ["b"] * 7 + ["c"] * 3)
    folds = stratified_kfold(labels, n_splits=3, seed=0)
    _assert_partition(folds, labels.size)
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for cls, n in (("a", 13), ("b", 7), ("c", 3)):
        per_fold = [int(np.sum(labels[test] == cls)) for _, test in folds]
        assert sum(per_fold) == n and max(per_fold) - min(per_fold) <= 1


def test_kfold_is_seeded():
    labels = np.array(["a"] * 12 + ["b"] * 8)
    one = stratified_kfold(labels, n_splits=4, seed=7)
    two = stratified_kfold(labels, n_splits=4, seed=7)
    other = stratified_kfold(labels, n_splits=4, seed=8)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(one, two, strict=True))
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(one, other, strict=True))


def test_kfold_keeps_groups_together():
    # 8 stars, some seen by two surveys (same group key): 12 rows.
    groups = np.array(["s0", "s0", "s1", "s2", "s2", "s3", "s4", "s4", "s5", "s6", "s7", "s7"])
    labels = np.array(["a", "a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "b"])
    for seed in range(5):
        folds = stratified_kfold(labels, n_splits=4, seed=seed, groups=groups)
        _assert_partition(folds, labels.size)
        for _, test in folds:
            inside = set(groups[test])
            outside = set(groups[np.setdiff1d(np.arange(labels.size), test)])
            assert not inside & outside
            assert len(inside) == 2  # 8 groups over 4 folds


def test_kfold_rejects_too_many_folds_and_warns_on_small_classes():
    with pytest.raises(ValueError, match="exceeds the number of objects"):
        stratified_kfold(["a", "b", "a"], n_splits=4, seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        stratified_kfold(LABELS, n_splits=1, seed=0)
    with pytest.warns(UserWarning, match="fewer objects"):
        stratified_kfold(["a"] * 6 + ["b"] * 2, n_splits=3, seed=0)


def test_repeated_kfold_differs_across_repeats_and_partitions_each():
    labels = np.array([0] * 10 + [1] * 10)
    folds = repeated_stratified_kfold(labels, n_splits=5, n_repeats=3, seed=11)
    assert len(folds) == 15
    repeats = [folds[r * 5 : (r + 1) * 5] for r in range(3)]
    for rep in repeats:
        _assert_partition(rep, labels.size)
        assert all(np.bincount(labels[test]).tolist() == [2, 2] for _, test in rep)
    as_sets = [{tuple(test) for _, test in rep} for rep in repeats]
    assert as_sets[0] != as_sets[1] and as_sets[1] != as_sets[2]
    again = repeated_stratified_kfold(labels, n_splits=5, n_repeats=3, seed=11)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


def test_stratify_bins_quantiles_and_regression_folds():
    assert stratify_bins([0.1, 0.4, 0.2, 0.3, 0.9, 0.8], n_bins=3).tolist() == [0, 1, 0, 1, 2, 2]
    assert stratify_bins([1.0, 1.0, 1.0], n_bins=4).tolist() == [0, 0, 0]  # tied edges merge
    assert stratify_bins([1.0, 1.0, 1.0, 2.0], n_bins=4).tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="NaN"):
        stratify_bins([0.0, np.nan])
    feh = np.random.default_rng(0).normal(-1.5, 0.5, 100)
    bins = stratify_bins(feh, n_bins=5)
    assert np.bincount(bins).tolist() == [20] * 5
    folds = stratified_kfold(bins, n_splits=5, seed=0)
    for _, test in folds:
        assert np.bincount(bins[test], minlength=5).tolist() == [4] * 5


def test_train_val_split_draws_only_from_training_objects():
    labels = np.array(["a"] * 20 + ["b"] * 10)
    ids = np.array([f"star{i}" for i in range(labels.size)])
    for train, test in stratified_kfold(labels, n_splits=5, seed=2):
        fit, val = train_val_split(train, labels, 0.25, seed=5)
        assert set(ids[val]).isdisjoint(ids[test])  # by id: no test object in validation
        assert set(ids[val]) <= set(ids[train])
        assert np.intersect1d(fit, val).size == 0
        assert sorted(np.concatenate([fit, val]).tolist()) == sorted(train.tolist())
        assert sorted(labels[val].tolist()) == ["a"] * 4 + ["b"] * 2
    a = train_val_split(np.arange(30), labels, 0.2, seed=1)
    b = train_val_split(np.arange(30), labels, 0.2, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_train_val_split_keeps_groups_and_rejects_bad_input():
    groups = np.repeat(np.arange(10), 2)
    labels = np.repeat(["a", "b"], 10)
    fit, val = train_val_split(np.arange(20), labels, 0.4, seed=0, groups=groups)
    assert set(groups[fit]).isdisjoint(groups[val])
    with pytest.raises(ValueError, match="outside"):
        train_val_split([0, 99], labels, 0.2, seed=0)
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split([0, 1], labels, 1.0, seed=0)


def test_inputs_not_mutated():
    labels = LABELS.copy()
    train = np.arange(8)
    stratified_kfold(labels, n_splits=2, seed=0)
    train_val_split(train, labels, 0.25, seed=0)
    assert np.array_equal(labels, LABELS) and np.array_equal(train, np.arange(8))


# --------------------------------------------------------------- ensemble
def test_average_probabilities_hand_checked():
    p1 = np.array([[0.9, 0.1], [0.2, 0.8]])
    p2 = np.array([[0.5, 0.5], [0.4, 0.6]])
    p3 = np.array([[0.1, 0.9], [0.0, 1.0]])
    np.testing.assert_allclose(average_probabilities([p1, p2, p3]), [[0.5, 0.5], [0.2, 0.8]])
    np.testing.assert_allclose(
        average_probabilities([p1, p2], weights=[1, 3]), [[0.6, 0.4], [0.35, 0.65]]
    )
    np.testing.assert_allclose(average_probabilities([p1], weights=[2]), p1)
    with pytest.raises(ValueError, match="differ in shape"):
        average_probabilities([p1, p1[:1]])
    with pytest.raises(ValueError, match="one weight per member"):
        average_probabilities([p1, p2], weights=[1])
    with pytest.raises(ValueError, match="non-negative"):
        average_probabilities([p1, p2], weights=[1, -1])


def test_ensemble_spread_hand_checked():
    p1 = [[1.0, 0.0, 0.0], [0.2, 0.8, 0.0]]
    p2 = [[1.0, 0.0, 0.0], [0.6, 0.4, 0.0]]
    p3 = [[1.0, 0.0, 0.0], [0.1, 0.9, 0.0]]
    s = ensemble_spread([p1, p2, p3])
    assert s["disagreement"].tolist() == [0.0, pytest.approx(1 / 3)]
    np.testing.assert_allclose(s["std"][0], 0.0)
    np.testing.assert_allclose(s["std_predicted"][1], np.std([0.8, 0.4, 0.9]))
    np.testing.assert_allclose(s["mean_std"][1], np.mean(np.std([p1[1], p2[1], p3[1]], axis=0)))


class _ProbaMember:
    def __init__(self, p):
        self.p = np.asarray(p)

    def predict_proba(self, arrays):
        return self.p


def test_ensemble_mixes_members_and_torch_modules():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    net.input_keys = ("features",)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with torch.no_grad():
        net_p = torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()

    class DictNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = net
            self.input_keys = ("features",)

        def forward(self, batch):
            return self.inner(batch["features"])

    other = np.full((5, 2), 0.5)
    ens = Ensemble([DictNet(), _ProbaMember(other), lambda arrays: other], batch_size=2)
    p = ens.predict_proba({"features": x})
    np.testing.assert_allclose(p, (net_p + 2 * other) / 3, rtol=1e-6)
    assert ens.predict({"features": x}).tolist() == p.argmax(axis=1).tolist()
    assert ens.spread({"features": x})["std"].shape == (5, 2)
    with pytest.raises(TypeError, match="predict_proba"):
        Ensemble([object()])


# -------------------------------------------------------------- two-stage
class _Compound(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.Sequential(
            torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Dropout(0.5)
        )
        self.head = torch.nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.rnn(x))


def test_freeze_keeps_parameters_and_statistics_through_an_optimiser_step():
    torch.manual_seed(0)
    model = _Compound()
    first_stage = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Dropout(0.5)
    )
    params = prepare_second_stage(model, first_stage.state_dict(), submodule="rnn")
    assert torch.equal(model.rnn[0].weight, first_stage[0].weight)
    assert {id(p) for p in params} == {id(p) for p in model.head.parameters()}

    frozen_before = {k: v.clone() for k, v in model.rnn.state_dict().items()}
    head_before = {k: v.clone() for k, v in model.head.state_dict().items()}
    # Adam with weight decay: would move any parameter it was given, gradient or not.
    opt = torch.optim.Adam(trainable_parameters(model), lr=0.1, weight_decay=0.1)
    model.train()  # resets children's mode; the frozen part must stay in eval
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    out1 = model(x)
    torch.nn.functional.cross_entropy(out1, y).backward()
    opt.step()
    assert not model.rnn.training
    for k, v in model.rnn.state_dict().items():  # weights and BN running stats
        assert torch.equal(v, frozen_before[k]), k
    assert all(p.grad is None for p in model.rnn.parameters())
    assert any(not torch.equal(v, head_before[k]) for k, v in model.head.state_dict().items())
    # Dropout off in the frozen part: same features twice in training mode.
    assert torch.equal(model.rnn(x), model.rnn(x))

    unfreeze(model.rnn)
    model.train()
    model(x)
    assert model.rnn.training and len(trainable_parameters(model)) == 6


def test_load_submodule_state_prefixed_keys_and_mismatch():
    model = _Compound()
    donor = _Compound()
    load_submodule_state(model, "rnn", donor.state_dict())  # "rnn."-prefixed keys
    assert torch.equal(model.rnn[0].bias, donor.rnn[0].bias)
    wrong = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5))
    with pytest.raises(ValueError, match=r"0\.weight: \(5, 4\) vs \(6, 4\)"):
        load_submodule_state(model, "rnn", wrong.state_dict())
    with pytest.raises(ValueError, match="no submodule 'cnn'"):
        load_submodule_state(model, "cnn", donor.state_dict())


# --------------------------------------------------------------------- io
@register_model("test_io_mlp", input_keys=("features",), paper="test")
def _test_io_mlp(*, num_outputs: int = 3, num_features: int = 4, hidden: int = 8):
    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Linear(num_features, hidden),
                torch.nn.BatchNorm1d(hidden),
                torch.nn.ReLU(),
            )
            self.out = torch.nn.Linear(hidden, num_outputs)

        def forward(self, batch):
            return self.out(self.body(batch["features"]))

    return MLP()


def _trained_mlp(**config):
    torch.manual_seed(0)
    model = create_model("test_io_mlp", **config)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(32, model.config["num_features"])
    loss = model({"features": x}).pow(2).mean()
    loss.backward()
    opt.step()  # BN running stats and weights away from their initial values
    return model.eval()


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    model = _trained_mlp(hidden=5)
    scaler = FeatureScaler(method="standard", names=list("wxyz")).fit(
        np.random.default_rng(1).normal(size=(20, 4))
    )
    card = {"n_train": np.int64(120), "balanced_accuracy": np.float32(0.75), "seed": 3}
    path = save_model(
        model,
        tmp_path / "model",
        class_names=["RRab", "RRc", "EW"],
        preprocessing={"representation": "features", "names": list("wxyz")},
        scaler=scaler,
        card=card,
    )
    assert sorted(p.name for p in path.iterdir()) == sorted(MODEL_FILES)
    assert not [p for p in path.rglob("*") if p.suffix in {".pt", ".pth", ".pkl", ".pickle"}]
    for name in MODEL_FILES[1:]:
        json.loads((path / name).read_text())  # plain JSON, not pickle

    loaded, info = load_model(path)
    assert not loaded.training
    assert info["config"] == {"name": "test_io_mlp", "num_outputs": 3, "num_features": 4,
                              "hidden": 5}  # fmt: skip
    assert info["class_names"] == ["RRab", "RRc", "EW"]
    assert info["preprocessing"]["representation"] == "features"
    assert info["card"]["n_train"] == 120 and info["card"]["saved"]["model"] == "test_io_mlp"
    np.testing.assert_array_equal(info["scaler"].center_, scaler.center_)
    x = torch.randn(7, 4)
    with torch.no_grad():
        assert torch.equal(model({"features": x}), loaded({"features": x}))
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key


def test_save_refuses_to_overwrite_and_models_without_config(tmp_path):
    model = _trained_mlp()
    save_model(model, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_model(model, tmp_path)
    save_model(model, tmp_path, overwrite=True)
    with pytest.raises(ValueError, match="create_model"):
        save_model(torch.nn.Linear(2, 2), tmp_path / "other")


@pytest.mark.parametrize("missing", MODEL_FILES)
def test_load_names_the_missing_file(tmp_path, missing):
    path = save_model(_trained_mlp(), tmp_path / "m")
    (path / missing).unlink()
    with pytest.raises(FileNotFoundError, match=missing.replace(".", r"\.")):
        load_model(path)


def _rewrite(path, name: str, content: bytes) -> None:
    """Replace a file of a saved model and record its SHA-256 in the card, as a save would."""
    (path / name).write_bytes(content)
    card = json.loads((path / "card.json").read_text())
    card["saved"]["files_sha256"][name] = hashlib.sha256(content).hexdigest()
    (path / "card.json").write_text(json.dumps(card))


def test_load_refuses_weights_that_do_not_match_the_config(tmp_path):
    path = save_model(_trained_mlp(hidden=8), tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["hidden"] = 6
    _rewrite(path, "config.json", json.dumps(config).encode())
    with pytest.raises(ValueError, match=r"body\.0\.weight: saved \(8, 4\) vs config \(6, 4\)"):
        load_model(path)


@pytest.mark.parametrize("edit", ['{"name": "test_io_mlp", "hidden": 6}', '{"name": '])
def test_an_edited_config_is_refused_by_its_checksum_before_it_builds_anything(
    tmp_path, monkeypatch, edit
):
    import skyclass.models.registry as registry

    path = save_model(_trained_mlp(hidden=8), tmp_path / "m")
    (path / "config.json").write_text(edit)
    monkeypatch.setattr(registry, "create_model", lambda **kw: pytest.fail("model built"))
    with pytest.raises(DataError, match=r"config\.json differs .*SHA-256"):
        load_model(path)


def test_a_card_without_its_checksum_list_is_refused(tmp_path):
    path = save_model(_trained_mlp(), tmp_path / "m")
    card = json.loads((path / "card.json").read_text())
    del card["saved"]["files_sha256"]
    (path / "card.json").write_text(json.dumps(card))
    with pytest.raises(DataError, match=r"card\.json records no SHA-256 of weights\.safetensors"):
        load_model(path)


def test_a_weights_file_that_is_not_safetensors_is_named(tmp_path):
    path = save_model(_trained_mlp(), tmp_path / "m")
    _rewrite(path, "weights.safetensors", b"PK\x03\x04 not a safetensors file")
    with pytest.raises(DataError, match=r"weights\.safetensors: not a safetensors file"):
        load_model(path)


def test_load_refuses_weights_from_another_save(tmp_path):
    a = save_model(_trained_mlp(hidden=8), tmp_path / "a")
    b = save_model(create_model("test_io_mlp", hidden=8), tmp_path / "b")
    (a / "weights.safetensors").write_bytes((b / "weights.safetensors").read_bytes())
    with pytest.raises(ValueError, match="SHA-256"):
        load_model(a)


def test_freeze_without_eval_mode_follows_the_parent_mode():
    model = _Compound()
    freeze(model.rnn, eval_mode=False)
    model.train()
    model(torch.randn(4, 4))
    assert model.rnn.training
    assert [p.requires_grad for p in model.rnn.parameters()] == [False] * 4
    assert len(trainable_parameters(model)) == 2
