"""The estimator facade: fit -> predict, save -> load, and refusals with the fix named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass import DataError, LightCurve, LightCurveSet
from skyclass.estimator import LightCurveClassifier, LightCurveRegressor
from skyclass.exceptions import NotFittedError


def _toy(n=40, seed=0, bands=("V",)) -> LightCurveSet:
    """Simulated sine vs square-wave curves with known periods (not real data)."""
    rng = np.random.default_rng(seed)
    curves, labels, values = [], [], []
    for i in range(n):
        t = np.sort(rng.uniform(0, 100, 60))
        wave = np.sin(2 * np.pi * t / 1.7)
        shape = wave if i % 2 else np.sign(wave)
        mag = 15 + 0.3 * shape + rng.normal(0, 0.02, t.size)
        band = np.resize(np.array(bands), t.size)
        curves.append(LightCurve(time=t, mag=mag, err=np.full(t.size, 0.02), band=band, id=f"o{i}"))
        labels.append("sine" if i % 2 else "square")
        values.append(float(i % 2))
    s = LightCurveSet.from_lightcurves(curves, labels=labels)
    return s.with_objects(s.objects.assign(period=1.7, value=values))


def _clf(**kw):
    options = {
        "model": "akhmetali2025_cnn",
        "representations": {"grid": {"n": 64}},
        "train": {"max_epochs": 4, "batch_size": 8},
        "progress": False,
    }
    options.update(kw)
    return LightCurveClassifier(**options)


def test_fit_predict_save_load_roundtrip(tmp_path):
    s = _toy()
    clf = _clf().fit(s)
    assert clf.classes_ == ("sine", "square")
    proba = clf.predict_proba(s)
    assert proba.shape == (40, 2) and np.allclose(proba.sum(axis=1), 1.0)
    table = clf.predict_table(s)
    assert list(table.columns) == [
        "object_id",
        "predicted",
        "prob_sine",
        "prob_square",
        "ood_score",
        "unknown",
        "error",
    ]
    path = clf.save(tmp_path / "model")
    loaded = LightCurveClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(s), proba)
    np.testing.assert_array_equal(
        loaded.predict_proba(s, calibrated=False), clf.predict_proba(s, calibrated=False)
    )
    pd.testing.assert_frame_equal(loaded.predict_table(s), table)
    assert loaded.representation_options_ == clf.representation_options_


def test_validation_objects_come_from_training_objects_only():
    s = _toy()
    clf = _clf(validation_fraction=0.25).fit(s)
    assert clf.fit_report_["n_train"] + clf.fit_report_["n_val"] == len(s)
    assert clf.fit_report_["n_val"] == 10


def test_refusals_name_the_fix():
    s = _toy()
    with pytest.raises(NotFittedError, match="fit"):
        _clf().predict(s)
    clf = _clf().fit(s)
    other = _toy(bands=("g",))
    with pytest.raises(DataError, match=r"lacks \['V'\]"):
        clf.predict(other)
    with pytest.raises(ValueError, match="choose one of"):
        _clf(model="nope").fit(s)
    with pytest.raises(ValueError, match="takes no option"):
        _clf(model_options={"colour": 1}).fit(s)


def test_regressor_on_a_numeric_target():
    s = _toy()
    s = s.with_objects(s.objects.assign(label=s.objects["value"]))
    reg = LightCurveRegressor(
        model="monti2024_fcn",
        representations={"phase_sequence": {"variant": "raw", "max_len": 64}},
        train={"max_epochs": 3, "batch_size": 8},
        progress=False,
    ).fit(s)
    pred = reg.predict(s)
    assert pred.shape == (40,) and np.isfinite(pred).all()


def test_cli_train_then_predict(tmp_path):
    import json

    from typer.testing import CliRunner

    from skyclass.cli import app

    data = _toy(n=30).to_parquet(tmp_path / "toy.parquet")
    config = tmp_path / "run.yaml"
    config.write_text(
        f"data: {data}\nmodel: akhmetali2025_cnn\nrepresentations:\n  grid: {{n: 64}}\n"
        "train: {max_epochs: 3, batch_size: 8}\ntest_fraction: 0.2\n"
    )
    runner = CliRunner()
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", str(config), "--out", str(run)])
    assert result.exit_code == 0, result.output
    for name in ("config.yaml", "metrics.json", "predictions.parquet", "model/weights.safetensors"):
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["n"] == 6 and 0 <= metrics["test"]["balanced_accuracy"] <= 1
    again = runner.invoke(app, ["train", str(config), "--out", str(run)])  # resumes, finished
    assert again.exit_code == 0, again.output
    assert json.loads((run / "metrics.json").read_text())["test"] == metrics["test"]
    out = tmp_path / "pred"
    result = runner.invoke(app, ["predict", str(run / "model"), str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    from skyclass.predict import read_predictions

    table = read_predictions(out)
    assert len(table) == 30 and {"prob_sine", "prob_square"} <= set(table.columns)


def test_feature_forest_baseline_on_the_same_inputs():
    from skyclass.baselines import FeatureForest

    s = _toy()
    forest = FeatureForest(n_estimators=50).fit(s)
    proba = forest.predict_proba(s)
    assert forest.classes_ == ("sine", "square") and proba.shape == (40, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_feature_forest_searches_the_periods_a_set_lacks_as_the_networks_do():
    from skyclass.baselines import FeatureForest
    from skyclass.preprocess.period import fill_periods

    s = _toy()
    bare = s.with_objects(s.objects.drop(columns="period"))
    found = fill_periods(bare)
    assert np.mean(np.isclose(found.objects["period"], 1.7, rtol=1e-2)) > 0.9
    options = {"features": {"features": ["log_period", "amplitude"]}, "n_estimators": 30}
    searched = FeatureForest(**options).fit(bare).predict_proba(bare)
    given = FeatureForest(**options, period="column").fit(found).predict_proba(found)
    np.testing.assert_array_equal(searched, given)
    assert searched.std() > 0  # the period features carry information
    with pytest.raises(DataError, match="no 'period' column"):
        FeatureForest(**options, period="column").fit(bare)


def test_fill_periods_lives_in_preprocess_and_the_estimator_package_hands_it_on():
    from skyclass import estimator
    from skyclass.preprocess import period

    assert estimator.fill_periods is period.fill_periods
    assert "fill_periods" in period.__all__


def test_calibration_and_unknown_threshold_come_from_validation_objects():
    s = _toy()
    clf = _clf(validation_fraction=0.25, ood="max_softmax").fit(s)
    report = clf.fit_report_["calibration"]
    assert report["calibrator"]["kind"] == "temperature"
    # the temperature is applied: calibrated and raw probabilities differ, argmax does not
    raw, cal = clf.predict_proba(s, calibrated=False), clf.predict_proba(s)
    assert not np.allclose(raw, cal)
    np.testing.assert_array_equal(raw.argmax(1), cal.argmax(1))
    table = clf.predict_table(s)
    assert table["unknown"].dtype == bool
    np.testing.assert_allclose(table["ood_score"], 1 - cal.max(axis=1))


def test_no_calibration_without_validation_objects():
    clf = _clf(validation_fraction=0.0).fit(_toy())
    assert clf.calibrator_ is None and clf.ood_ is None
    assert "ood_score" not in clf.predict_table(_toy()).columns


def test_unknown_calibration_method_is_named():
    with pytest.raises(ValueError, match="isotonic"):
        _clf(calibration="platt", validation_fraction=0.25).fit(_toy())


def test_mahalanobis_unknown_score_saves_and_loads(tmp_path):
    s = _toy()
    clf = _clf(validation_fraction=0.25, ood="mahalanobis").fit(s)
    table = clf.predict_table(s)
    assert np.isfinite(table["ood_score"]).all() and (table["ood_score"] >= 0).all()
    # about the chosen share of known objects is flagged, not all of them
    assert table["unknown"].mean() < 0.5
    loaded = LightCurveClassifier.load(clf.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(loaded.predict_table(s), table)


def test_default_network_is_foldnet_with_its_own_training_settings():
    s = _toy(n=24)
    clf = LightCurveClassifier(train={"max_epochs": 2, "batch_size": 8}, progress=False).fit(s)
    assert clf.model == "foldnet"
    cfg = clf.train_config_
    # foldnet's designed settings, under the user's own keys
    assert cfg.scheduler == "cosine_warmup" and cfg.optimizer == "adamw"
    assert cfg.max_epochs == 2 and cfg.early_stopping_patience is None
    assert clf.scaler_.method == "quantile"  # skyclass's own models: quantile scaling
    assert _clf().fit(s).train_config_.scheduler is None  # a paper's model keeps its recipe


def test_bad_representation_option_and_scaling_are_refused_before_any_data():
    with pytest.raises(ValueError, match="representation 'grid' takes no option 'nn'.*n, "):
        LightCurveClassifier(representations={"grid": {"nn": 64}}).fit(None)
    with pytest.raises(ValueError, match="feature_scaling must be 'auto' or one of"):
        LightCurveClassifier(feature_scaling="minmax").fit(None)


def test_default_regressor_is_foldnet_without_label_smoothing():
    s = _toy(n=24)
    s = s.with_objects(s.objects.assign(label=s.objects["value"]))
    reg = LightCurveRegressor(train={"max_epochs": 2, "batch_size": 8}, progress=False).fit(s)
    assert reg.model == "foldnet" and reg.train_config_.label_smoothing == 0.0
    assert reg.train_config_.scheduler == "cosine_warmup"
    assert reg.predict(s).shape == (24,)


def test_balanced_class_weights_come_from_the_training_objects():
    s = _toy(n=30)
    keep = [i for i, label in enumerate(s.labels) if label == "sine" or i < 10]  # 5 vs 15
    s = s.select(keep)
    clf = _clf(class_weight="balanced", validation_fraction=0).fit(s)
    counts = {c: int(np.sum(np.asarray(s.labels) == c)) for c in clf.classes_}
    n, k = sum(counts.values()), len(counts)
    assert clf.train_config_.class_weights == pytest.approx(
        [n / (k * counts[c]) for c in clf.classes_]
    )
    assert _clf(validation_fraction=0).fit(s).train_config_.class_weights is None
    with pytest.raises(ValueError, match="class_weight must be None or one of"):
        _clf(class_weight="inverse").fit(None)
    with pytest.raises(TypeError, match="class_weight"):  # a regressor has no classes
        LightCurveRegressor(class_weight="balanced")


def test_grid_augmentation_is_the_models_design_and_refused_where_there_is_no_grid():
    s = _toy(n=24)
    train = {"max_epochs": 1, "batch_size": 8}
    assert LightCurveClassifier(train=train, progress=False).fit(s).trainer_.augment is not None
    assert _clf().fit(s).trainer_.augment is None  # a paper's model keeps its recipe
    hook = _clf(augment={"noise": 0.1}).fit(s).trainer_.augment
    assert hook.noise == 0.1 and hook.phase_shift
    with pytest.raises(ValueError, match="reads \\['features'\\]; set augment"):
        LightCurveClassifier(model="mlp_features", augment=True).fit(None)
    with pytest.raises(ValueError, match="augment has no option \\['shift'\\]"):
        LightCurveClassifier(augment={"shift": 1}).fit(None)


def test_representation_options_are_refused_at_the_door_with_the_valid_ones():
    from skyclass.estimator import check_options

    with pytest.raises(ValueError, match=r"representation 'dmdt' takes no option 'binz'.*dt_edges"):
        check_options(
            "carraro2025_cnn2d", representations={"dmdt": {"preset": "carraro2025", "binz": 3}}
        )
    with pytest.raises(ValueError, match="no preset 'carraro'; its presets are: carraro2025"):
        check_options("carraro2025_cnn2d", representations={"dmdt": {"preset": "carraro"}})
    with pytest.raises(ValueError, match="unknown representation 'grids'"):
        _clf(representations={"grids": {}}).fit(_toy())


def test_the_folded_image_and_a_cutout_are_different_batch_keys_and_old_saves_still_load(
    tmp_path,
):
    """kang2023_compound reads ``folded_image``; what a save records is unchanged by the split.

    A save holds the representation's name (``image``, which users write in their
    configs) and the model's options, never a batch key, so a directory written
    before the batch key was renamed is the same JSON and loads as it is.
    """
    import json

    from skyclass.models import get_model_spec

    assert "folded_image" in get_model_spec("kang2023_compound").input_keys
    assert get_model_spec("resnet18").input_keys == ("image",)
    s = _toy(n=12)
    small = {"gru_units": (4, 4), "dense_units": (6, 5), "feature_units": (4, 3)}
    small |= {"cnn_filters": (2, 2, 2, 2), "cnn_dense_units": 8}
    reps = {"sequence": {"max_len": 32}, "features": {}, "image": {"size": 64}}
    clf = LightCurveClassifier(
        model="kang2023_compound",
        model_options=small,
        representations=reps,
        train={"max_epochs": 1, "batch_size": 4},
        validation_fraction=0,
        calibration=None,
        progress=False,
    ).fit(s)
    assert clf.transform(s).arrays["folded_image"].shape == (12, 1, 64, 64)
    clf.save(tmp_path / "m")
    prep = json.loads((tmp_path / "m" / "preprocessing.json").read_text())
    assert "image" in prep["representations"] and "folded_image" not in json.dumps(prep)
    loaded = LightCurveClassifier.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(s), clf.predict_proba(s), rtol=1e-6)
