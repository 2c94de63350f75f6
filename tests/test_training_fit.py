"""``skyclass.training.fit``: the one path every estimator and paper runner trains through."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skyclass.training import fit, shape_options, train_config


def _data(n=48, f=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, f)).astype(np.float32)
    return {"features": x}, (x[:, 0] + 0.3 * x[:, 1] > 0).astype(np.int64)


def test_settings_stack_defaults_model_user_then_seed_and_task():
    cfg = train_config("foldnet", {"max_epochs": 3, "seed": 99}, seed=5)
    assert cfg.scheduler == "cosine_warmup" and cfg.label_smoothing == 0.1  # foldnet's own
    assert cfg.max_epochs == 3 and cfg.seed == 5  # the user's, then the seed argument
    assert cfg.early_stopping_patience is None  # foldnet's own beats the shared default
    plain = train_config("mlp_features")
    assert plain.early_stopping_patience == 10 and plain.monitor == "val_loss"
    assert train_config("mlp_features", has_val=False).monitor == "train_loss"
    assert train_config("foldnet", task="regression").label_smoothing == 0.0
    assert train_config("carraro2025_cnn2d").lr == 2e-4  # the thesis's rate


def test_sizes_come_from_the_arrays_as_the_model_declares_them():
    arrays = {"grid": np.zeros((3, 2, 16)), "features": np.zeros((3, 5))}
    assert shape_options("grid_features", arrays) == {
        "num_features": 5,
        "in_channels": 2,
        "length": 16,
    }
    assert shape_options("mlp_features", arrays, {"num_features": 5}) == {"num_features": 5}


def test_the_same_seed_gives_the_same_network_and_another_seed_another():
    x, y = _data()
    train = {"max_epochs": 2, "batch_size": 16}
    a = fit("mlp_features", x, y, num_outputs=2, train=train, seed=3)
    b = fit("mlp_features", x, y, num_outputs=2, train=train, seed=3)
    c = fit("mlp_features", x, y, num_outputs=2, train=train, seed=4)
    for name, value in a.model.state_dict().items():
        assert torch.equal(value, b.model.state_dict()[name])
    assert any(not torch.equal(v, c.model.state_dict()[k]) for k, v in a.model.state_dict().items())
    assert a.options == {"num_features": 4, "num_outputs": 2} and len(a.history) == 2


def test_prepare_runs_on_the_new_network_before_training():
    x, y = _data()
    frozen = {}

    def freeze_first_layer(net):
        first = next(m for m in net.modules() if isinstance(m, torch.nn.Linear))
        first.requires_grad_(False)
        frozen["weight"] = first.weight.detach().clone()
        frozen["layer"] = first

    fit("mlp_features", x, y, num_outputs=2, train={"max_epochs": 2}, prepare=freeze_first_layer)
    assert torch.equal(frozen["layer"].weight, frozen["weight"])


def test_estimator_trains_through_fit(monkeypatch):
    """The estimator's network is the one ``fit`` builds from the same arrays and seed."""
    import skyclass.training
    from skyclass import LightCurve, LightCurveSet
    from skyclass.estimator import LightCurveClassifier

    seen = {}

    def spy(model, arrays, targets, **options):
        seen.update(model=model, arrays=arrays, targets=targets)
        return fit(model, arrays, targets, **options)

    monkeypatch.setattr(skyclass.training, "fit", spy)
    rng = np.random.default_rng(0)
    curves = [
        LightCurve(
            time=np.sort(rng.uniform(0, 50, 60)),
            mag=15 + rng.normal(0, 0.1 + 0.2 * (i % 2), 60),
            err=np.full(60, 0.05),
            band="V",
            id=str(i),
        )
        for i in range(24)
    ]
    s = LightCurveSet.from_lightcurves(curves, labels=["quiet", "noisy"] * 12)
    s = s.with_objects(s.objects.assign(period=1.3))
    train = {"max_epochs": 2, "batch_size": 8}
    clf = LightCurveClassifier(
        model="mlp_features", validation_fraction=0, train=train, random_state=7, progress=False
    ).fit(s)
    assert seen["model"] == "mlp_features" and len(seen["targets"]) == 24
    direct = fit(seen["model"], seen["arrays"], seen["targets"], num_outputs=2, train=train, seed=7)
    for name, value in clf.model_.state_dict().items():
        assert torch.equal(value, direct.model.state_dict()[name]), name
    assert clf.train_config_ == direct.config


@pytest.mark.parametrize("bad", [{"max_epoch": 2}, {"lr": -1.0}])
def test_bad_training_settings_are_refused(bad):
    x, y = _data()
    with pytest.raises(ValueError):
        fit("mlp_features", x, y, num_outputs=2, train=bad)
