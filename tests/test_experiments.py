"""The reproduction runner: configs, overrides, results page, and quick runs on real data."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from skyclass.cli import app
from skyclass.exceptions import DataError
from skyclass.experiments import list_experiments, load_experiment, reproduce
from skyclass.experiments.results import results_markdown


def test_every_experiment_config_loads_full_and_quick():
    for name in list_experiments():
        full, quick = load_experiment(name), load_experiment(name, quick=True)
        assert full.name == name and not full.quick and quick.quick
        assert full.expected_duration != quick.expected_duration, name


def test_quick_section_merges_into_settings_and_overrides_win():
    cfg = load_experiment("akhmetali2025", quick=True, overrides=["settings.grid_points=64"])
    assert cfg.settings["grid_points"] == 64
    assert cfg.settings["max_per_class"] == 25  # from the quick section
    assert cfg.settings["outlier_nsigma"] == 3.0  # kept from the full settings
    assert cfg.settings["train"]["lr"] == 1e-4 and cfg.settings["train"]["max_epochs"] == 2


def test_unknown_experiment_and_bad_keys_name_the_fix():
    with pytest.raises(DataError, match="akhmetali2025"):
        load_experiment("kang2024")
    with pytest.raises(DataError, match="valid keys"):
        load_experiment("akhmetali2025", overrides=["epochs=3"])


def test_results_page_lists_each_runs_command_and_tables(tmp_path):
    run = tmp_path / "a"
    run.mkdir()
    metrics = {
        "run": {"experiment": "x", "command": "skyclass reproduce x", "seeds": [0, 1]},
        "test": {"n": 3, "mae": 0.25},
        "tables": [{"title": "T", "columns": ["m", "v"], "rows": [["a", 0.5]], "note": "N"}],
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    text = results_markdown([run])
    assert "`skyclass reproduce x`" in text and "| a | 0.500 |" in text and "MAE 0.250" in text
    out = tmp_path / "results.md"
    result = CliRunner().invoke(app, ["results", str(run), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == text


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["akhmetali2025", "carraro2025"])
def test_quick_reproduction_writes_a_full_run_directory(name, shared_data, tmp_path):
    metrics = reproduce(name, out=tmp_path, quick=True, data_root=shared_data, progress=False)
    for f in ("config.yaml", "metrics.json", "predictions.parquet", "report.html"):
        assert (tmp_path / f).exists(), f
    assert metrics["run"]["quick"] and metrics["tables"][0]["rows"]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["tables"] == json.loads(json.dumps(metrics["tables"]))
    assert 0.0 <= saved["test"]["balanced_accuracy"] <= 1.0


@pytest.mark.realdata
def test_reproduce_command_prints_the_table_and_the_report_path(shared_data, tmp_path):
    args = ["reproduce", "akhmetali2025", "--quick", "--out", str(tmp_path)]
    args += ["--data-root", str(shared_data), "--set", "settings.datasets=[eros1_lmc]"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "akhmetali2025 took" in result.output and "report.html" in result.output


def test_reproduce_prints_config_text_with_square_brackets_as_written(tmp_path):
    # the configs' texts name overrides such as settings.nets=[kang2023_rnn]: printed as
    # they are, not read as console markup
    args = ["reproduce", "kang2023", "--out", str(tmp_path), "--data-root", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2  # no data there
    assert "settings.nets=[kang2023_rnn]" in result.output.replace("\n", "")
