"""A saved random forest predicts exactly what the fitted one did, is checked against its
card and is never unpickled; ``skyclass predict`` takes a forest run's ``model/``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import sine_square_set
from skyclass.baselines import FeatureForest, FeatureForestRegressor
from skyclass.cli import app
from skyclass.exceptions import DataError
from skyclass.models.io import MODEL_FILES
from skyclass.predict import read_predictions

FEATURES = {"features": ["log_period", "amplitude", "R21", "phi21"], "amplitude": "percentile"}


@pytest.fixture(scope="module")
def parts():
    """Simulated sine and square-wave curves split into training and test objects."""
    s = sine_square_set(n=60, seed=3)
    return s.split((0.7, 0.3), names=("train", "test"), stratify=True, seed=0)


def test_a_saved_forest_gives_bit_identical_probabilities_on_unseen_objects(parts, tmp_path):
    forest = FeatureForest(features=FEATURES, n_estimators=40, random_state=2).fit(parts["train"])
    path = forest.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == sorted(MODEL_FILES)
    again = FeatureForest.load(path)
    want, got = forest.predict_proba(parts["test"]), again.predict_proba(parts["test"])
    assert np.array_equal(got, want) and 0 < want.max() <= 1
    assert again.classes_ == forest.classes_ and again.n_nodes_ == forest.n_nodes_
    for ours, theirs in zip(again.forest_.estimators_, forest.forest_.estimators_, strict=True):
        saved, fitted = ours.tree_.__getstate__(), theirs.tree_.__getstate__()
        assert np.array_equal(saved["values"], fitted["values"])
        assert saved["nodes"].tobytes() == fitted["nodes"].tobytes()
    pd.testing.assert_frame_equal(again.predict_table(parts["test"]),
                                  forest.predict_table(parts["test"]))  # fmt: skip


def test_a_saved_forest_regressor_predicts_the_same_values(parts, tmp_path):
    train = parts["train"]
    amplitude = np.array([np.ptp(lc.mag) for lc in train])
    train = train.with_objects(train.objects.assign(label=amplitude))
    forest = FeatureForestRegressor(features=FEATURES, n_estimators=20).fit(train)
    again = FeatureForestRegressor.load(forest.save(tmp_path / "model"))
    assert np.array_equal(again.predict(parts["test"]), forest.predict(parts["test"]))
    with pytest.raises(DataError, match="holds a FeatureForestRegressor, not a FeatureForest"):
        FeatureForest.load(tmp_path / "model")


def test_the_model_directory_holds_no_pickle(parts, tmp_path):
    path = FeatureForest(features=FEATURES, n_estimators=5).fit(parts["train"]).save(tmp_path)
    weights = (path / "weights.safetensors").read_bytes()
    header = json.loads(weights[8 : 8 + int.from_bytes(weights[:8], "little")])
    assert header["__metadata__"]["format"] == "np"
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} <= {"F64", "I64", "U8"}
    for name in MODEL_FILES:
        if name != "weights.safetensors":
            json.loads((path / name).read_text())


@pytest.mark.parametrize("name", ["weights.safetensors", "config.json", "preprocessing.json"])
def test_an_altered_file_of_a_saved_forest_is_refused_by_its_checksum(parts, tmp_path, name):
    path = FeatureForest(features=FEATURES, n_estimators=5).fit(parts["train"]).save(tmp_path)
    data = bytearray((path / name).read_bytes())
    data[-3] ^= 0x01
    (path / name).write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"{name} differs from the file saved with card.json"):
        FeatureForest.load(path)


def test_skyclass_predict_uses_the_model_a_forest_run_saved(parts, tmp_path):
    data = sine_square_set(n=40, seed=5).to_parquet(tmp_path / "set.parquet")
    config = tmp_path / "run.yaml"
    config.write_text(
        f"data: {data}\nmodel: feature_forest\n"
        f"model_options: {{n_estimators: 30, features: {json.dumps(FEATURES)}}}\n"
        "test_fraction: 0.25\n"
    )
    runner = CliRunner()
    run = tmp_path / "run"
    trained = runner.invoke(app, ["train", str(config), "--out", str(run)])
    assert trained.exit_code == 0, trained.output
    card = json.loads((run / "model" / "card.json").read_text())
    assert card["fit"]["n_trees"] == 30 and "balanced_accuracy" in card["metrics"]

    out = tmp_path / "pred"
    result = runner.invoke(app, ["predict", str(run / "model"), str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    table = read_predictions(out).set_index("object_id")
    assert len(table) == 40 and (table["error"].fillna("") == "").all()
    held_out = pd.read_parquet(run / "predictions.parquet").set_index("object_id")
    cols = ["prob_sine", "prob_square"]
    assert np.array_equal(table.loc[held_out.index, cols].to_numpy(), held_out[cols].to_numpy())
    assert (table.loc[held_out.index, "predicted"] == held_out["predicted"]).all()


def test_a_saved_forest_refuses_a_set_without_its_bands(parts, tmp_path):
    forest = FeatureForest.load(
        FeatureForest(features=FEATURES, n_estimators=5).fit(parts["train"]).save(tmp_path)
    )
    other = parts["test"]
    other = type(other).from_lightcurves([lc.replace(band="G") for lc in other])
    with pytest.raises(DataError, match=r"trained on bands \['V'\] but this set lacks \['V'\]"):
        forest.predict_table(other)


def test_skyclass_predict_gives_a_forest_regressors_values_on_folded_curves(tmp_path):
    """Folded curves (time is the phase, no period) keep that through predict's chunks."""
    from skyclass import LightCurve, LightCurveSet

    rng = np.random.default_rng(4)
    curves, amplitudes = [], rng.uniform(0.2, 1.0, 30)
    for i, amp in enumerate(amplitudes):
        phase = np.sort(rng.uniform(0, 1, 40))
        mag = 15 + amp * np.sin(2 * np.pi * phase) + rng.normal(0, 0.01, 40)
        curves.append(LightCurve(time=phase, mag=mag, err=np.full(40, 0.01), band="G", id=f"s{i}"))
    folded = LightCurveSet.from_lightcurves(
        curves, labels=list(amplitudes), meta={"time_ref": "phase"}
    )
    data = folded.to_parquet(tmp_path / "folded.parquet")
    config = tmp_path / "run.yaml"
    config.write_text(
        f"data: {data}\ntask: regression\nmodel: feature_forest\nperiod: column\n"
        "model_options: {n_estimators: 10, features: {features: [log_period, amplitude, R21]}}\n"
    )
    runner = CliRunner()
    run, out = tmp_path / "run", tmp_path / "pred"
    assert runner.invoke(app, ["train", str(config), "--out", str(run)]).exit_code == 0
    result = runner.invoke(app, ["predict", str(run / "model"), str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = read_predictions(out).set_index("object_id")
    held_out = pd.read_parquet(run / "predictions.parquet").set_index("object_id")
    assert np.array_equal(table.loc[held_out.index, "predicted"], held_out["predicted"])
