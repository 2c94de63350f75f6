"""The command line tells its version, its papers, and what a long command is doing."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from conftest import sine_square_set
from skyclass import __version__
from skyclass.cli import app


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"skyclass {__version__}"


def test_reproduce_help_names_every_paper():
    from skyclass.experiments import list_experiments

    result = CliRunner().invoke(app, ["reproduce", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert len(list_experiments()) == 5
    for name in list_experiments():
        assert name in result.output, name


def test_convert_says_what_it_reads_and_writes(tmp_path):
    out = tmp_path / "macho.parquet"
    result = CliRunner().invoke(app, ["convert", "macho", "-o", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "reading macho (format auto)"
    assert re.fullmatch(rf"read 10 objects in [\d.]+ s; writing {re.escape(str(out))}", lines[1])


def test_convert_logs_how_far_a_long_read_is_when_not_in_a_terminal(tmp_path, monkeypatch):
    import numpy as np

    import skyclass._util

    rng = np.random.default_rng(0)
    for k in range(3):  # OGLE .dat files: HJD - 2450000, I, sigma I (simulated)
        t = np.sort(rng.uniform(5000, 5400, 30))
        rows = [f"{x:.5f} {15.7 + 0.2 * np.sin(x):.3f} 0.006\n" for x in t]
        (tmp_path / f"OGLE-LMC-CEP-{k:04d}.dat").write_text("".join(rows))
    monkeypatch.setattr(skyclass._util, "LOG_EVERY", 0.0)  # a line per file
    result = CliRunner().invoke(
        app, ["convert", str(tmp_path), "-o", str(tmp_path / "set.parquet")], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    for n in (1, 2, 3):
        assert re.search(rf"^\d\d:\d\d:\d\d OGLE: {n} read after \d+ s$", result.output, re.M)


def test_train_logs_every_epoch_and_says_when_it_resumes(tmp_path, one_torch_thread):
    data = sine_square_set(20).to_parquet(tmp_path / "set.parquet")
    config = tmp_path / "run.yaml"
    config.write_text(
        f"data: {data}\nmodel: mlp_features\n"
        "representations: {features: {features: [amplitude, n_epochs]}}\n"
        "train: {max_epochs: 2, batch_size: 8}\ntest_fraction: 0.2\n"
    )
    run = tmp_path / "run"
    first = CliRunner().invoke(app, ["train", str(config), "--out", str(run)])
    assert first.exit_code == 0, first.output
    epochs = re.findall(r"^\d\d:\d\d:\d\d epoch (\d+): ", first.output, flags=re.M)
    assert epochs == ["1", "2"], first.output
    assert "resumed" not in first.output

    again = CliRunner().invoke(app, ["train", str(config), "--out", str(run)])
    assert again.exit_code == 0, again.output
    assert re.search(r"resumed .*checkpoint after epoch 2", again.output), again.output
    assert not re.search(r"epoch \d+: ", again.output)  # nothing left to train


def test_metrics_json_is_strict_json_with_null_for_nan(tmp_path):
    import json

    import numpy as np

    from skyclass.runs import write_metrics

    metrics = {"test": {"auc_per_class": {"c": float("nan")}, "n": np.int64(4)},
               "curve": np.array([0.5, np.inf]), "ece": np.float32("nan")}  # fmt: skip
    text = write_metrics(tmp_path, metrics).read_text()

    def refuse(constant):
        raise AssertionError(f"bare {constant} in metrics.json")

    assert json.loads(text, parse_constant=refuse) == {
        "test": {"auc_per_class": {"c": None}, "n": 4}, "curve": [0.5, None], "ece": None
    }  # fmt: skip


def test_cv_scores_every_object_once_and_reuses_finished_folds(tmp_path, one_torch_thread):
    import json

    import numpy as np
    import pandas as pd

    lcs = sine_square_set(24)
    data = lcs.to_parquet(tmp_path / "set.parquet")
    config = tmp_path / "run.yaml"
    config.write_text(
        f"data: {data}\nmodel: mlp_features\nvalidation_fraction: 0\n"
        "representations: {features: {features: [amplitude, n_epochs]}}\n"
        "train: {max_epochs: 1, batch_size: 8}\n"
    )
    out = tmp_path / "cv"
    args = ["cv", str(config), "--out", str(out), "--folds", "3"]
    first = CliRunner().invoke(app, args, terminal_width=200)
    assert first.exit_code == 0, first.output
    assert "mean ± std" in first.output and "reused" not in first.output
    assert "fold 0 of 3: training on 16 objects, scoring 8" in first.output
    folds = [out / f"fold-{k}" for k in range(3)]
    held_out = pd.concat(pd.read_parquet(fold / "predictions.parquet") for fold in folds)
    assert sorted(held_out["object_id"]) == sorted(lcs.ids)  # each object once
    scores = json.loads((out / "cv.json").read_text())
    fold_scores = [
        json.loads((fold / "metrics.json").read_text())["test"]["macro_f1"] for fold in folds
    ]
    assert scores["macro_f1"]["folds"] == fold_scores
    assert scores["macro_f1"]["mean"] == np.mean(fold_scores)

    again = CliRunner().invoke(app, args, terminal_width=200)
    assert again.exit_code == 0 and again.output.count("(reused)") == 3, again.output
    assert "fold 2 of 3: done before, reusing" in again.output
    assert json.loads((out / "cv.json").read_text())["macro_f1"] == scores["macro_f1"]
