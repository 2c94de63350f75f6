"""monti2024 reproduction: helpers on synthetic curves, the quick run on the real folds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from skyclass import LightCurve, LightCurveSet
from skyclass.experiments import load_experiment
from skyclass.experiments.monti2024 import (
    FOURIER_COLUMNS,
    prepare,
    represent,
    shape_features,
    shape_only_baseline,
)
from skyclass.experiments.monti2024_folds import fit_network, unit_key
from skyclass.models import list_models
from skyclass.study.units import reuse_result

MONTI = [f"monti2024_{m}" for m in ("fcn", "resnet", "inception", "lstm", "bilstm", "gru")] + [
    f"monti2024_{m}" for m in ("bigru", "convlstm", "convgru")
]


def _folded(i: int, rng: np.random.Generator, n: int = 40) -> LightCurve:
    """A folded, binned RRab-like curve (phase in [0, 1), no errors) as in the real set."""
    phase = np.sort(rng.uniform(0, 1, n))
    x = 2 * np.pi * phase
    r21 = 0.3 + 0.02 * (i % 10)
    mag = 15 + 0.35 * np.cos(x) + 0.35 * r21 * np.cos(2 * x + 2.0) + 0.05 * np.cos(3 * x + 4)
    return LightCurve(
        time=phase,
        mag=mag + rng.normal(0, 0.005, n),
        err=np.full(n, np.nan),
        band="G",
        id=str(i),
        meta={"time_ref": "phase"},
    )


@pytest.fixture(scope="module")
def folded_set() -> LightCurveSet:
    rng = np.random.default_rng(0)
    curves = [_folded(i, rng) for i in range(40)]
    labels = [-1.5 + 0.1 * (i % 10) for i in range(40)]
    return LightCurveSet.from_lightcurves(curves, labels=labels, meta={"time_ref": "phase"})


def test_config_lists_the_nine_registered_regressors():
    full = load_experiment("monti2024")
    quick = load_experiment("monti2024", quick=True)
    assert sorted(full.settings["models"]) == sorted(MONTI)
    assert set(MONTI) <= set(list_models())
    assert full.settings["folds"] == list(range(9))
    assert full.settings["train"]["lr"] == 1e-2 and full.settings["train"]["batch_size"] == 256
    assert quick.quick and len(quick.settings["models"]) == 2
    assert quick.settings["train"]["max_epochs"] <= 3
    assert quick.settings["train"]["lr"] == 1e-2  # merged, not replaced


def test_shape_features_recover_known_fourier_parameters(folded_set):
    table = shape_features(folded_set)
    assert list(table.columns) == ["object_id", *FOURIER_COLUMNS, "fourier_error"]
    assert table["fourier_error"].isna().all()
    np.testing.assert_allclose(table["A1"], 0.35, atol=0.01)
    expected_r21 = 0.3 + 0.02 * (np.arange(40) % 10)
    np.testing.assert_allclose(table["R21"], expected_r21, atol=0.02)
    np.testing.assert_allclose(table["phi21"], 2.0, atol=0.1)


def test_shape_features_record_a_curve_that_cannot_be_fitted():
    short = LightCurve(
        time=np.linspace(0, 0.9, 6),
        mag=15 + np.linspace(0, 0.5, 6),
        err=np.full(6, np.nan),
        band="G",
        id="short",
        meta={"time_ref": "phase"},
    )
    row = shape_features(LightCurveSet.from_lightcurves([short])).iloc[0]
    assert np.isnan(row[list(FOURIER_COLUMNS)].to_numpy(float)).all()
    assert "harmonics" in row["fourier_error"]


def test_represent_is_per_curve(folded_set):
    opts = {"phase_sequence": {"variant": "full", "n_points": 32, "align": "none",
                               "phase_times_period": False}}  # fmt: skip
    arrays, valid, errors = represent(folded_set, opts)
    assert arrays["seq"].shape == (40, 32, 2) and valid.all() and errors == {}
    one, _, _ = represent(folded_set.select(np.array([3])), opts)
    np.testing.assert_array_equal(one["seq"][0], arrays["seq"][3])


@pytest.fixture
def one_thread():
    """torch on one thread for the test (the machine's cores are shared), then restored."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_fit_network_uses_weights_and_scales_back(folded_set, one_thread):
    opts = {"phase_sequence": {"variant": "raw", "max_len": 40, "align": "none",
                               "phase_times_period": False}}  # fmt: skip
    arrays, _, _ = represent(folded_set, opts)
    y = folded_set.labels.astype(float)
    idx = np.arange(40)
    settings = {
        "train": {"max_epochs": 2, "batch_size": 32, "lr": 1e-2},
        "standardize_target": True,
    }
    result = fit_network(
        "monti2024_gru", arrays, y, idx[:30], idx[30:35], idx[35:], np.ones(30), settings, 0
    )
    assert result["epochs"] == 2 and len(result["test_pred"]) == 5
    assert result["target_scaling"]["mean"] == pytest.approx(y[:30].mean())
    # predictions are back on the [Fe/H] scale, near the fit set's mean after 2 epochs
    assert abs(np.mean(result["test_pred"]) - y[:30].mean()) < 1.0
    assert result["train_config"]["task"] == "regression"


def test_shape_only_baseline_learns_a_shape_target(folded_set):
    x = shape_features(folded_set)[list(FOURIER_COLUMNS)].to_numpy(float)
    y = x[:, FOURIER_COLUMNS.index("R21")] * 10
    pred = shape_only_baseline(
        x, y, np.arange(30), np.arange(30, 40), {"max_iter": 50, "min_samples_leaf": 2}, 0
    )
    assert pred.shape == (10,) and np.mean(np.abs(pred - y[30:])) < 0.1


def test_fold_results_are_reused_only_with_the_same_key(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"val_pred": [1.0]}

    ids = np.array(["a", "b"])
    key = unit_key({"train": {"lr": 0.01}}, "m", 0, 0, ids)
    assert reuse_result(tmp_path, key, compute)["val_pred"] == [1.0]
    assert reuse_result(tmp_path, key, compute)["reused"] is True
    other = unit_key({"train": {"lr": 0.02}}, "m", 0, 0, ids)
    assert other != key and other != unit_key({"train": {"lr": 0.01}}, "m", 0, 0, ids[:1])
    reuse_result(tmp_path, other, compute)
    assert len(calls) == 2


@pytest.mark.realdata
def test_published_predictions_score_as_stated(shared_data):
    """Dékány & Grebel's cross-validated predictions on folds 0-8: MAE 0.135, R² 0.860."""
    from skyclass.evaluate.metrics import regression_summary

    lcs, info = prepare(
        {"dataset": "dekany_gaia_g_rrab", "folds": list(range(9)), "max_objects": None}, seed=0
    )
    assert info["n_used"] == 4013 and sorted(info["per_fold"]) == list(range(9))
    s = regression_summary(
        lcs.labels.astype(float), lcs.objects["feh_pred_dekany2022"].to_numpy(float), n_boot=0
    )
    assert s["mae"] == pytest.approx(0.135, abs=5e-4)
    assert s["rmse"] == pytest.approx(0.178, abs=5e-4)
    assert s["r2"] == pytest.approx(0.860, abs=5e-4)


@pytest.mark.realdata
def test_quick_reproduction(shared_data, tmp_path, one_thread):
    from skyclass.experiments import reproduce

    m = reproduce("monti2024", out=tmp_path, quick=True, report=False, progress=False)
    folds_table, models_table = m["tables"]
    assert [r[0] for r in folds_table["rows"]] == [0, 1, 2, "pooled"]
    assert len(folds_table["columns"]) == len(folds_table["rows"][0])
    assert {r[-1] for r in folds_table["rows"]} <= {"yes", "no", "n/a"}
    assert [r[0] for r in models_table["rows"]] == ["monti2024_gru", "monti2024_fcn"]
    assert m["task"] == "regression" and m["test"]["n"] == folds_table["rows"][-1][1]
    for key in ("mae", "rmse", "wmae", "wrmse", "r2"):
        assert np.isfinite(m["test"][key])
    pred = pd.read_parquet(tmp_path / "predictions.parquet")
    # Two epochs leave the networks at a constant guess, so the checks that can fail are
    # on the comparison columns: the published estimates joined to the right stars (far
    # below the MAE of the labels' median) and the shape-only baseline explaining some
    # of the variance.
    dummy = np.mean(np.abs(pred["label"] - pred["label"].median()))
    assert m["comparison"]["published"]["mae"] < dummy - 0.15
    assert m["comparison"]["shape_only"]["r2"] > 0.05
    assert {"object_id", "fold", "predicted", "label", "feh_pred_dekany2022"} <= set(pred.columns)
    assert set(pred["fold"]) == {0, 1, 2} and pred["object_id"].is_unique
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["run"]["quick"] is True and len(saved["folds"]) == 3
    assert (tmp_path / "folds" / "0" / "monti2024_gru" / "result.json").is_file()


def test_density_null_means_unweighted_mse():
    from skyclass.experiments.monti2024_folds import fold_split, loss_text

    y = np.linspace(-2.0, 0.0, 40)
    fold = np.repeat([0, 1], 20)
    valid = np.ones(40, bool)
    base = {"stratify_bins": 2, "validation_fraction": 0.2}
    weighted = {**base, "density": {"bandwidth": "scott", "normalize": "mean1"}}
    test, _, fit, _, w = fold_split(0, fold, valid, y, weighted, 0)
    assert w is not None and w.shape == fit.shape and w.mean() == pytest.approx(1.0)
    _, _, fit2, _, none = fold_split(0, fold, valid, y, {**base, "density": None}, 0)
    assert none is None  # Trainer then uses the plain mean of the squared errors
    np.testing.assert_array_equal(fit, fit2)  # same split either way
    np.testing.assert_array_equal(test, np.arange(20))
    assert "unweighted" in loss_text(None) and "density_weights" in loss_text({"a": 1})
    assert unit_key({"density": None}, "m", 0, 0, np.array(["a"])) != unit_key(
        weighted, "m", 0, 0, np.array(["a"])
    )


def test_fit_network_trains_without_weights(folded_set, one_thread):
    opts = {"phase_sequence": {"variant": "full", "n_points": 16, "align": "none",
                               "phase_times_period": False}}  # fmt: skip
    arrays, _, _ = represent(folded_set, opts)
    idx = np.arange(40)
    settings = {"train": {"max_epochs": 1, "batch_size": 32, "lr": 1e-2}}
    y = folded_set.labels.astype(float)
    result = fit_network(
        "monti2024_fcn", arrays, y, idx[:30], idx[30:35], idx[35:], None, settings, 0
    )
    assert result["epochs"] == 1 and np.isfinite(result["test_pred"]).all()


def test_input_variant_is_part_of_the_cache_key():
    ids = np.array(["a", "b"])
    s = {"representations": {"phase_sequence": {"variant": "full"}}, "train": {}}
    plain = unit_key(s, "m", 0, 0, ids)
    assert unit_key({**s, "input": None}, "m", 0, 0, ids) == plain  # plain runs keep their key
    raw = unit_key({**s, "input": "raw"}, "m", 0, 0, ids)
    assert raw != plain and raw != unit_key({**s, "input": "spline"}, "m", 0, 0, ids)


def test_unknown_ablation_fails_before_any_work(tmp_path):
    from skyclass.exceptions import DataError
    from skyclass.experiments.runner import registered_ablations, reproduce

    overrides = ["settings.ablation=nope", "settings.dataset=no_such_data"]
    with pytest.raises(DataError, match="inputs"):
        reproduce("monti2024", out=tmp_path / "run", overrides=overrides, progress=False)
    assert list(tmp_path.iterdir()) == [] and "inputs" in registered_ablations("monti2024")
    quick = load_experiment("monti2024", quick=True)
    assert quick.settings["ablation"] is None
    variants = quick.settings["ablations"]["inputs"]["variants"]
    assert {n: v["phase_sequence"]["variant"] for n, v in variants.items()} == {
        "raw": "raw", "spline": "spline", "full": "full"
    }  # fmt: skip


@pytest.mark.realdata
def test_quick_input_ablation(shared_data, tmp_path, one_thread):
    from skyclass.evaluate.report import write_report
    from skyclass.exceptions import DataError
    from skyclass.experiments import reproduce

    record = tmp_path.parent / f"{tmp_path.name}-units"

    def run(*overrides, out=tmp_path):
        return reproduce(
            "monti2024",
            out=out,
            quick=True,
            overrides=["settings.ablation=inputs", *overrides],
            report=False,
            progress=False,
            units=record,
        )

    # one process trains the raw input only; the run over every input reuses its networks
    part = run("settings.ablations.inputs.train_inputs=[raw]")
    assert {r[0] for r in part["tables"][0]["rows"]} == {"raw"}
    unit = tmp_path / "inputs" / "raw" / "folds" / "1" / "monti2024_gru" / "result.json"
    made = unit.stat().st_mtime_ns
    assert not (tmp_path / "inputs" / "full").exists()
    m = run()
    assert unit.stat().st_mtime_ns == made
    assert m["test"]["n"] == part["test"]["n"]  # the same stars in both
    with pytest.raises(DataError, match="train_inputs"):  # refused before any work
        reproduce(
            "monti2024",
            out=tmp_path / "bad",
            overrides=["settings.ablation=inputs", "settings.ablations.inputs.train_inputs=[x]"],
            report=False,
            progress=False,
        )
    (table,) = m["tables"]
    assert [r[0] for r in table["rows"]] == ["raw"] * 3 + ["spline"] * 3 + ["full"] * 3
    assert all(len(r) == len(table["columns"]) for r in table["rows"])
    assert m["task"] == "regression" and np.isfinite(m["test"]["mae"])
    n = {r[2] for r in table["rows"]}
    assert n == {m["test"]["n"]}  # every input scored on the same stars
    for variant in ("raw", "spline", "full"):
        assert (tmp_path / "inputs" / variant / "folds" / "1" / "monti2024_gru").is_dir()
    pred = pd.read_parquet(tmp_path / "predictions.parquet")
    assert set(pred["fold"]) == {0, 1} and "pred_raw__monti2024_fcn" in pred.columns
    write_report(tmp_path)
    assert "input ablation" in (tmp_path / "report.html").read_text()

    # each input's aggregates are kept in the unit record (no object ids, no predictions),
    # and a run elsewhere builds the same table from it without training anything
    kept = record / "monti2024-inputs" / "inputs" / "raw" / "result.json"
    assert kept.is_file() and "object_id" not in kept.read_text()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    again = run(out=elsewhere)
    assert again["tables"][0]["rows"] == table["rows"]
    assert again["test"]["mae"] == pytest.approx(m["test"]["mae"])
    assert again["run"]["units"]["from_record"] == 3 and again["run"]["units"]["computed"] == 0
    assert not (elsewhere / "inputs" / "raw" / "folds").exists()
    assert not (elsewhere / "predictions.parquet").exists()  # none without training
    write_report(elsewhere)
