"""The shipped pretrained model: loads by name, predicts, classifies from the CLI, fine-tunes."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skyclass.datasets.general import GENERAL_CLASSES, simulate_general
from skyclass.estimator import EnsembleClassifier, LightCurveClassifier
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet
from skyclass.pretrained import (
    as_model_band,
    card,
    combine_band_tables,
    list_pretrained,
    model_dir,
    network_dir,
    resolve_model,
)


@pytest.fixture(scope="module")
def general() -> EnsembleClassifier:
    return LightCurveClassifier.pretrained("general")


def _in_band(lcs: LightCurveSet, band: str) -> LightCurveSet:
    """``lcs`` (one band) with its band named ``band``, as a survey would name it."""
    return LightCurveSet(
        time=lcs.time,
        mag=lcs.mag,
        err=lcs.err,
        band=lcs.band,
        bands=(band,),
        offsets=lcs.offsets,
        objects=lcs.objects,
        meta=lcs.meta,
    )


def test_shipped_model_loads_by_name_and_predicts_simulated_curves(general):
    curves = simulate_general(n_per_class=3, seed=11)
    table = general.predict_table(curves)
    assert general.classes_ == tuple(sorted(GENERAL_CLASSES))
    assert general.bands_ == ("any",)
    assert len(table) == len(curves)
    assert set(table["predicted"].dropna()) <= set(general.classes_)
    probs = table[[f"prob_{c}" for c in general.classes_]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert "unknown" in table.columns  # the unknown-class detector came with it
    assert LightCurveClassifier.pretrained("general").classes_ == general.classes_


def test_shipped_model_beats_chance_on_its_own_kind_of_curves(general):
    curves = simulate_general(n_per_class=6, seed=12)
    predicted = general.predict(curves)
    assert np.mean(predicted == curves.labels) > 3 / len(GENERAL_CLASSES)


def test_shipped_files_are_small_and_free_of_pickle():
    root = model_dir("general")
    files = [p for p in root.rglob("*") if p.is_file()]
    assert {"ensemble.json", "card.md"} <= {p.name for p in root.iterdir()}
    for k in range(3):  # three networks, each a saved LightCurveClassifier
        names = {p.name for p in (root / f"member-{k}").iterdir()}
        assert {"weights.safetensors", "config.json", "preprocessing.json"} <= names
    assert not [p for p in files if p.suffix in {".pkl", ".pickle", ".pt", ".pth"}]
    assert sum(p.stat().st_size for p in files) <= 20 * 1024**2


def test_shipped_ensemble_averages_its_networks_and_a_run_starts_from_the_first(general):
    assert len(general) == 3 and network_dir(model_dir("general")).name == "member-0"
    curves = simulate_general(n_per_class=1, seed=13)
    mean = np.mean([m.predict_proba(curves) for m in general.members], axis=0)
    np.testing.assert_allclose(general.predict_proba(curves), mean)
    first = LightCurveClassifier.load(network_dir(model_dir("general")))
    same = general.members[0].predict_proba(curves)
    np.testing.assert_allclose(first.predict_proba(curves), same)
    assert network_dir(model_dir("general") / "member-1") == model_dir("general") / "member-1"
    # the ensemble's unknown-class score is above 1 exactly where most members flag
    table = general.predict_table(curves)
    votes = np.mean([m.predict_table(curves)["unknown"] for m in general.members], axis=0)
    assert (table["unknown"] == (votes > 0.5)).all()
    assert (table["unknown"] == (table["ood_score"] > 1)).all()


def test_ensemble_of_other_period_settings_lets_each_member_find_its_own(general):
    mixed = EnsembleClassifier([general.members[0], copy.copy(general.members[1])])
    mixed.members[1].period = "search"
    curves = simulate_general(n_per_class=1, seed=14)
    assert mixed.predict_table(curves)["predicted"].notna().all()
    with pytest.raises(DataError, match="lacks"):
        general.predict_table(_in_band(curves, "V"))


def test_a_broken_ensemble_listing_is_named(tmp_path):
    (tmp_path / "ensemble.json").write_text('["member-0"]')
    with pytest.raises(DataError, match="save the ensemble again"):
        network_dir(tmp_path)


def test_a_listing_that_could_not_be_read_back_is_never_written(tmp_path):
    kind = ["LightCurveClassifier"]
    for members, kinds in [(["../m"], kind), (["m", "n"], kind), ("m", kind), ([""], kind)]:
        with pytest.raises(ValueError, match="name"):
            EnsembleClassifier.write_listing(tmp_path, members, kinds)
    assert not (tmp_path / "ensemble.json").exists()
    EnsembleClassifier.write_listing(tmp_path, ["m"], kind)
    assert EnsembleClassifier.listing(tmp_path) == {"members": ["m"], "estimators": kind}


def test_card_states_simulated_training_the_command_and_scores():
    text = card("general")
    assert "simulated curves only" in text
    assert "--n-per-class" in text and "--seed" in text
    for survey in ("eros1_lmc", "gaia_dr3_vari", "ogle4_lmc_cep"):
        assert survey in text


def _band_table(ids, predicted, p_a, unknown, error=None):
    return pd.DataFrame(
        {
            "object_id": ids,
            "predicted": predicted,
            "prob_A": p_a,
            "prob_B": [1 - p if p == p else np.nan for p in p_a],
            "unknown": unknown,
            "error": error or [""] * len(ids),
        }
    )


def test_band_predictions_join_by_mean_and_unknown_only_when_every_band_is():
    r = _band_table(["x", "y", "z", "v"], ["A", "B", None, "A"], [0.9, 0.2, np.nan, 0.7],
                    [True, True, False, False], ["", "", "too few epochs", ""])  # fmt: skip
    b = _band_table(["y", "x", "w", "v"], ["A", "B", "B", "A"], [0.6, 0.4, 0.1, 0.5],
                    [True, False, False, False])  # fmt: skip
    t = combine_band_tables({"R": r, "B": b})
    assert t["object_id"].tolist() == ["x", "y", "z", "v", "w"]
    # x: unknown in R, known in B: B alone (0.4 -> B); y: unknown in both: both,
    # (0.2 + 0.6) / 2 = 0.4 -> B; v: known in both: (0.7 + 0.5) / 2; w: B only
    np.testing.assert_allclose(t["prob_A"].to_numpy()[[0, 1, 3, 4]], [0.4, 0.4, 0.6, 0.1])
    assert t["predicted"].tolist()[:2] == ["B", "B"] and t["predicted"].tolist()[3:] == ["A", "B"]
    assert t["unknown"].tolist() == [False, True, False, False, False]
    assert t["bands"].tolist() == ["B", "R,B", "", "R,B", "B"]
    # z: represented in no band: no prediction, each band's reason
    assert pd.isna(t["predicted"][2]) and np.isnan(t["prob_A"][2])
    assert t["error"][2] == "R: too few epochs; B: absent"
    one = combine_band_tables({"R": r})
    assert one["predicted"].tolist()[:2] == ["A", "B"] and one["unknown"].tolist()[:2] == [True] * 2


def test_joined_ood_score_is_the_smallest_so_the_threshold_gives_the_joined_flag():
    r = _band_table(["x", "y"], ["A", "A"], [0.9, 0.9], [True, True]).assign(ood_score=[3.0, 2.0])
    b = _band_table(["x", "y"], ["B", "A"], [0.1, 0.8], [False, True]).assign(ood_score=[0.5, 1.5])
    t = combine_band_tables({"R": r, "B": b})
    assert t["ood_score"].tolist() == [0.5, 1.5] and t["unknown"].tolist() == [False, True]


def test_band_predictions_of_different_models_are_refused():
    r = _band_table(["x"], ["A"], [0.9], [False])
    other = r.rename(columns={"prob_B": "prob_C"})
    with pytest.raises(ValueError, match="other classes"):
        combine_band_tables({"R": r, "B": other})
    with pytest.raises(ValueError, match="no band"):
        combine_band_tables({})
    with pytest.raises(ValueError, match="twice"):
        combine_band_tables({"R": pd.concat([r, r])})
    with pytest.raises(ValueError, match="prob_"):
        combine_band_tables({"R": r.drop(columns=["prob_A", "prob_B"])})


def test_an_unknown_name_is_refused_naming_the_shipped_ones():
    assert list_pretrained() == ["general"]
    with pytest.raises(ValueError, match="the shipped ones are: general"):
        model_dir("generic")
    with pytest.raises(ValueError, match="general"):
        LightCurveClassifier.pretrained("ogle")
    with pytest.raises(ValueError, match="the shipped ones are: general"):
        resolve_model("pretrained:nope")
    with pytest.raises(ValueError, match="neither a shipped model nor a model directory"):
        resolve_model("no/such/model")


def test_a_model_directory_resolves_to_itself(tmp_path):
    assert resolve_model(tmp_path) == tmp_path
    assert resolve_model("pretrained:general") == model_dir("general")


def test_as_model_band_needs_a_choice_among_several_bands():
    one = simulate_general(n_per_class=1, seed=2)
    v = _in_band(one, "V")
    assert as_model_band(v, "any").bands == ("any",)
    assert np.array_equal(as_model_band(v, "any").mag, one.mag)
    two = LightCurveSet.from_lightcurves(
        [lc.replace(band=np.where(np.arange(lc.time.size) % 2, "V", "I")) for lc in v]
    )
    with pytest.raises(DataError, match="choose which with band="):
        as_model_band(two, "any")
    with pytest.raises(DataError, match="no band 'B'"):
        as_model_band(two, "any", band="B")
    assert as_model_band(two, "any", band="I").n_epochs.sum() == (two.band == 0).sum()


# ---------------------------------------------------------------- CLI
def _run_cli(args: list[str]):
    from typer.testing import CliRunner

    from skyclass.cli import app

    return CliRunner().invoke(app, args)


def test_classify_cli_labels_a_folder_of_survey_curves(tmp_path):
    from skyclass.predict import read_predictions

    curves = simulate_general(n_per_class=2, seed=21)
    phot = tmp_path / "curves" / "phot" / "I"  # OGLE's layout: one .dat file per star
    phot.mkdir(parents=True)
    for k, lc in enumerate(curves):
        rows = np.column_stack([lc.time - 50000, lc.mag, lc.err])
        np.savetxt(phot / f"OGLE-LMC-SIM-{k:04d}.dat", rows, fmt="%.6f")
    out = tmp_path / "out"
    result = _run_cli(["classify", str(tmp_path / "curves"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = read_predictions(out)
    assert len(table) == len(curves) and table["object_id"].is_unique
    assert set(table["predicted"].dropna()) <= set(GENERAL_CLASSES)
    assert "unknown" in table.columns
    # skyclass predict with the shipped model on the converted curves gives the same
    converted = out / "input" / "input.parquet"
    assert LightCurveSet.read_parquet(converted).bands == ("any",)
    args = ["predict", str(model_dir("general")), str(converted), "--out", str(tmp_path / "p")]
    assert _run_cli(args).exit_code == 0
    same = read_predictions(tmp_path / "p").set_index("object_id").loc[table["object_id"]]
    assert same["predicted"].tolist() == table["predicted"].tolist()


def test_classify_cli_joins_every_band_with_band_all(tmp_path):
    from skyclass.predict import read_predictions

    one = simulate_general(n_per_class=1, seed=5)
    lcs = [lc.replace(band=np.where(np.arange(lc.time.size) % 2, "V", "I")) for lc in one]
    lcs[0] = lcs[0].replace(band="V")  # one star seen in V only
    two = LightCurveSet.from_lightcurves(lcs)
    two.to_parquet(tmp_path / "two.parquet")
    refused = _run_cli(["classify", str(tmp_path / "two.parquet"), "--out", str(tmp_path / "x")])
    assert refused.exit_code != 0 and "--band all" in refused.output
    out = tmp_path / "out"
    args = ["classify", str(tmp_path / "two.parquet"), "--band", "all", "--out", str(out)]
    result = _run_cli(args)
    assert result.exit_code == 0, result.output
    joined = pd.read_parquet(out / "predictions.parquet").set_index("object_id")
    assert sorted(joined.index) == sorted(str(i) for i in two.ids)
    assert joined.loc[str(two.ids[0]), "bands"] == "V"
    used = [set(b.split(",")) for b in joined["bands"]]
    assert all(u <= {"I", "V"} for u in used) and {"I", "V"} in used
    per_band = {b: read_predictions(out / f"band-{b}").set_index("object_id") for b in "IV"}
    probs = [c for c in joined.columns if c.startswith("prob_")]
    for oid, row in joined.iterrows():
        used = row["bands"].split(",")
        mean = sum(per_band[b].loc[oid, probs].to_numpy(float) for b in used) / len(used)
        np.testing.assert_allclose(row[probs].to_numpy(float), mean)


def test_classify_cli_refuses_an_unknown_model_naming_the_shipped_ones(tmp_path):
    result = _run_cli(["classify", "macho", "--model", "nope", "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert "general" in result.output


# ---------------------------------------------------------------- fine-tuning
@pytest.fixture(scope="module")
def survey_file(tmp_path_factory) -> Path:
    """Simulated labelled curves in a band named as a survey would ("V")."""
    curves = _in_band(simulate_general(n_per_class=10, seed=31), "V")
    return curves.to_parquet(tmp_path_factory.mktemp("ft") / "curves.parquet")


def _first_val_loss(survey_file: Path, out: Path, **overrides: str) -> float:
    from skyclass.runs import RunConfig, train_run

    settings = {"data": str(survey_file), "train.max_epochs": "1", "seed": "0", **overrides}
    cfg = RunConfig.load(overrides=[f"{k}={v}" for k, v in settings.items()])
    metrics = train_run(cfg, out, progress=False, report=False)
    return float(metrics["history"]["records"][0]["val_loss"])


@pytest.mark.slow
def test_a_fine_tuned_run_starts_below_a_run_from_scratch(survey_file, tmp_path, general):
    reps = general.members[0].get_params()["representations"]
    scratch = _first_val_loss(
        survey_file, tmp_path / "scratch", representations=str(reps).replace("'", '"')
    )
    tuned = _first_val_loss(survey_file, tmp_path / "tuned", init="pretrained:general")
    assert tuned < scratch
    saved = LightCurveClassifier.load(tmp_path / "tuned" / "model")
    assert saved.classes_ == general.classes_ and saved.bands_ == ("any",)
    assert saved.fit_report_["init"]["output_layer"] == "kept"


def test_an_unknown_init_is_refused_before_any_data_is_read():
    from skyclass.runs import RunConfig

    with pytest.raises(ValueError, match="the shipped ones are: general"):
        RunConfig.load(overrides=["data=nowhere.parquet", "init=pretrained:gen"])


def test_fine_tuning_on_other_classes_replaces_the_output_layer(general, caplog):
    curves = simulate_general(n_per_class=6, seed=41)
    keep = np.flatnonzero(np.isin(curves.labels, ["RRab", "RRc", "EW"]))
    subset = curves.select(keep)
    with caplog.at_level(logging.INFO, logger="skyclass.estimator.lightcurve"):
        tuned = general.fine_tune(subset, train={"max_epochs": 1})
    assert len(tuned) == 3 and tuned.classes_ == ("EW", "RRab", "RRc")  # every network
    assert {m.fit_report_["init"]["output_layer"] for m in tuned.members} == {"replaced"}
    assert "output layer" in caplog.text and "replaced" in caplog.text
    assert tuned.predict_proba(subset).shape == (len(subset), 3)
    # the layers below the output layer started from the shipped weights
    assert general.classes_ == tuple(sorted(GENERAL_CLASSES))  # the base is not changed


@pytest.mark.realdata
@pytest.mark.slow
def test_classify_cli_on_a_slice_of_a_real_survey(shared_data, tmp_path):
    from skyclass.datasets import load as load_set
    from skyclass.predict import read_predictions

    eros = load_set("eros1_lmc").select(np.arange(20))
    path = eros.to_parquet(tmp_path / "eros.parquet")
    result = _run_cli(["classify", str(path), "--band", "R", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(read_predictions(tmp_path / "out")) == 20
