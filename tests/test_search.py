"""Hyperparameter search: bad spaces refused before training, diverging trials recorded,
the test split never used, and a killed search resuming to the same best trial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from conftest import sine_square_set
from skyclass import DataError, LightCurveSet
from skyclass.exceptions import MissingDependencyError
from skyclass.runs import RunConfig
from skyclass.search import SearchSpace, apply_params, run_search, selection_pool

pytest.importorskip("optuna")


def _toy(n=48, seed=0) -> LightCurveSet:
    return sine_square_set(n, seed, noise=0.05)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> Path:
    """A run config: tiny MLP on five cheap features of the toy set, three epochs."""
    root = tmp_path_factory.mktemp("search_data")
    data = _toy().to_parquet(root / "toy.parquet")
    cfg = {
        "data": str(data),
        "model": "mlp_features",
        "model_options": {"hidden": [16]},
        "representations": {
            "features": {
                "features": ["log_period", "amplitude", "mean_mag", "R21", "phi21"],
                "amplitude": "percentile",
            }
        },
        "train": {"max_epochs": 3, "batch_size": 16},
        "validation_fraction": 0.25,
        "test_fraction": 0.25,
        "seed": 3,
    }
    path = root / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _space(**params) -> dict:
    return {"sampler": "grid", "metric": "val_balanced_accuracy", "params": params}


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if any trial builds its estimator (trials build one to train)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a trial was trained")

    monkeypatch.setattr("skyclass.runs.make_estimator", refuse)


# ------------------------------------------------------------ refused up front
@pytest.mark.parametrize(
    ("space", "match"),
    [
        (_space(**{"train.lr": {"values": []}}), "'train.lr' has an empty 'values'"),
        (
            {"sampler": "tpe", "params": {"train.lr": {"type": "float", "low": 0.1, "high": 0.1}}},
            r"empty range: low=0.1 >= high=0.1",
        ),
        (
            {
                "sampler": "tpe",
                "params": {"train.lr": {"type": "float", "low": 0, "high": 1, "log": True}},
            },
            "log scale but low=0",
        ),
        (
            {
                "sampler": "tpe",
                "params": {"train.batch_size": {"type": "int", "low": 8.5, "high": 64}},
            },
            "type int but low=8.5",
        ),
        (_space(**{"train.lr": {"values": [0.1], "lo": 1}}), r"unknown keys \['lo'\]"),
        (
            {"sampler": "grid", "params": {"train.lr": {"type": "float", "low": 0.1, "high": 1}}},
            "grid needs 'values' lists",
        ),
        ({"sampler": "random", "params": {"train.lr": {"values": [1]}}}, "unknown sampler"),
        ({"metric": "test_balanced_accuracy", "params": {"a": {"values": [1]}}}, "validation"),
        ({"metric": "train_loss", "params": {"a": {"values": [1]}}}, "validation metric"),
        (
            {"metric": "val_loss", "direction": "maximize", "params": {"a": {"values": [1]}}},
            "direction: minimize",
        ),
        ({"sampler": "grid", "params": {}}, "non-empty 'params'"),
        ({"params": {"a": {"values": [1]}}, "trials": 3}, r"unknown keys \['trials'\]"),
    ],
)
def test_bad_space_is_refused_when_read(space, match):
    with pytest.raises(DataError, match=match):
        SearchSpace.from_mapping(space)


@pytest.mark.parametrize(
    ("name", "spec", "match"),
    [
        ("model_options.dropuot", {"values": [0.1]}, r"dropuot.*takes options \['dropout'"),
        ("train.lrr", {"values": [0.1]}, r"'train.lrr'.*'lr'"),
        ("optimiser", {"values": ["adam"]}, "searchable keys: train.<TrainConfig option>"),
        ("representations.features.bogus", {"values": [1]}, "representation 'features' takes"),
        ("test_fraction", {"values": [0.1, 0.3]}, "held-out test set"),
        ("data_options.n_per_class", {"values": [10]}, "change the objects"),
        ("seed", {"values": [1, 2]}, "cannot be searched"),
        ("validation_fraction", {"values": [0.2]}, "same validation objects"),
        ("train.lr", {"values": [0.01, -1.0]}, r"'train.lr': value -1.0 is not valid"),
        ("train.optimizer", {"values": ["adam", "lion"]}, "value 'lion' is not valid"),
        ("model", {"values": ["mlp_features", "no_such_net"]}, r"\['no_such_net'\] are not"),
        ("period", {"values": ["auto", "guess"]}, "period must be 'auto', 'column' or 'search'"),
    ],
)
def test_unknown_or_unsearchable_parameters_fail_before_training(
    config_path, tmp_path, no_training, name, spec, match
):
    out = tmp_path / "search"
    with pytest.raises(DataError, match=match):
        run_search(config_path, _space(**{name: spec}), trials=2, out=out, progress=False)
    assert not out.exists()  # nothing written, nothing trained


def test_metric_of_the_other_task_and_no_validation_are_refused(config_path, tmp_path):
    space = {"metric": "val_mae", "params": {"train.lr": {"values": [0.01]}}}
    with pytest.raises(DataError, match="val_mae' needs task='regression'"):
        run_search(config_path, space, trials=1, out=tmp_path / "a", progress=False)
    with pytest.raises(DataError, match="validation_fraction > 0"):
        run_search(
            config_path,
            _space(**{"train.lr": {"values": [0.01]}}),
            trials=1,
            out=tmp_path / "b",
            overrides=["validation_fraction=0"],
            progress=False,
        )


def test_monti2024_grid_is_a_valid_space():
    space = SearchSpace.from_mapping(
        {
            "sampler": "grid",
            "metric": "val_mae",
            "params": {
                "model_options.dropout": {"values": [0.1, 0.2, 0.4, 0.6]},
                "train.lr": {"values": [1e-3, 1e-2, 1e-1]},
                "train.batch_size": {"values": [32, 64, 128, 256, 512]},
            },
        }
    )
    cfg = RunConfig.load(overrides=["data=macho", "task=regression", "model=monti2024_gru"])
    space.check(cfg)
    grid = space.grid(seed=0)
    assert space.n_grid_points == len(grid) == 60
    assert len({json.dumps(p, sort_keys=True) for p in grid}) == 60
    assert grid == space.grid(seed=0) and grid != space.grid(seed=1)


def test_missing_optuna_names_the_extra(config_path, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingDependencyError, match=r"skyclass\[search\]"):
        run_search(
            config_path,
            _space(**{"train.lr": {"values": [0.01]}}),
            trials=1,
            out=tmp_path / "s",
            progress=False,
        )


def test_apply_params_does_not_change_the_base_config(config_path):
    cfg = RunConfig.load(config_path)
    new = apply_params(cfg, {"train.lr": 0.5, "model_options.hidden": [8, 4]})
    assert new.train == {"max_epochs": 3, "batch_size": 16, "lr": 0.5}
    assert new.model_options == {"hidden": [8, 4]}
    assert cfg.train == {"max_epochs": 3, "batch_size": 16} and "lr" not in cfg.train


# ------------------------------------------------------------------- selection
def test_the_test_objects_never_reach_a_trial(config_path, tmp_path, monkeypatch):
    import skyclass.runs
    from skyclass.estimator import LightCurveClassifier

    cfg = RunConfig.load(config_path)

    class Stop(Exception):
        pass

    held_out: list[set] = []

    def record_test_set(est, test_set, *args, **kwargs):
        held_out.append(set(test_set.ids.astype(str)))
        raise Stop

    # the objects `skyclass train` holds out for this config, from train_run itself
    monkeypatch.setattr(skyclass.runs, "evaluate_run", record_test_set)
    with pytest.raises(Stop):
        skyclass.runs.train_run(cfg, tmp_path / "run", progress=False, report=False)
    monkeypatch.undo()
    test_ids = held_out[0]
    pool = selection_pool(cfg)
    assert len(test_ids) == 12 and set(pool.ids.astype(str)).isdisjoint(test_ids)
    assert len(pool) + len(test_ids) == 48
    seen: list[set] = []
    original = LightCurveClassifier.fit

    def spy(self, lcs, **kwargs):
        seen.append(set(lcs.ids.astype(str)))
        return original(self, lcs, **kwargs)

    monkeypatch.setattr(LightCurveClassifier, "fit", spy)
    result = run_search(
        config_path,
        _space(**{"train.lr": {"values": [0.01]}}),
        trials=1,
        out=tmp_path / "s",
        progress=False,
    )
    assert seen and all(ids.isdisjoint(test_ids) for ids in seen)
    report = json.loads((tmp_path / "s" / "search.json").read_text())
    assert report["selection"]["objects_used"] == len(pool) == 36
    row = report["trials"][0]
    assert row["n_train"] + row["n_val"] == 36 and row["n_val"] > 0
    assert result.best_value == row["val_metrics"]["val_balanced_accuracy"]


# ------------------------------------------------------- divergence, outputs
def test_a_diverging_trial_is_failed_with_its_reason_and_the_study_goes_on(config_path, tmp_path):
    out = tmp_path / "s"
    space = _space(**{"train.lr": {"values": [1e20, 1e-2, 3e-2]}})  # 1e20: the loss turns NaN
    result = run_search(config_path, space, trials=10, out=out, seed=0, progress=False)
    table = result.trials
    assert len(table) == 3  # the grid is used up before 10 trials
    by_lr = table.set_index("train.lr")
    assert by_lr.loc[1e20, "status"] == "FAIL" and bool(by_lr.loc[1e20, "counted"])
    assert "diverged: the loss became nan" in by_lr.loc[1e20, "reason"]
    assert set(by_lr.loc[[1e-2, 3e-2], "status"]) == {"COMPLETE"}
    assert result.best_params["train.lr"] in (1e-2, 3e-2)
    completed = table[table["status"] == "COMPLETE"]
    assert result.best_value == completed["value"].max()

    failed = int(by_lr.loc[1e20, "number"])
    metrics = json.loads((out / "trials" / f"{failed:04d}" / "metrics.json").read_text())
    assert metrics["status"] == "FAIL" and metrics["reason"].startswith("diverged")
    saved = RunConfig.load(out / "trials" / f"{failed:04d}" / "config.yaml")
    assert saved.train["lr"] == 1e20
    best = RunConfig.load(out / "best.yaml")  # ready for `skyclass train best.yaml`
    assert best == result.best_config
    assert best.train["lr"] == result.best_params["train.lr"]
    assert best.model_dump(exclude={"train"}) == RunConfig.load(config_path).model_dump(
        exclude={"train"}
    )
    report = json.loads((out / "search.json").read_text())
    assert report["best"]["number"] == result.best_number
    assert report["trials_counted"] == 3 and report["grid_points"] == 3
    assert (out / "trials.csv").read_text().count("\n") == 4

    # same directory, another seed: refused rather than mixed
    with pytest.raises(DataError, match="another seed"):
        run_search(config_path, space, trials=3, out=out, seed=1, progress=False)


def test_a_search_extended_later_equals_one_run_at_once(config_path, tmp_path):
    space = _space(**{"train.lr": {"values": [3e-3, 1e-2, 3e-2]}})
    run_search(config_path, space, trials=1, out=tmp_path / "a", seed=5, progress=False)
    extended = run_search(config_path, space, trials=2, out=tmp_path / "a", seed=5, progress=False)
    direct = run_search(config_path, space, trials=2, out=tmp_path / "b", seed=5, progress=False)
    columns = ["index", "status", "value", "train.lr"]
    assert extended.trials[columns].equals(direct.trials[columns])
    assert extended.best_params == direct.best_params


# ------------------------------------------------------------------ kill/resume
def test_a_grid_search_stopped_by_ctrl_c_resumes_to_the_same_trials(
    config_path, tmp_path, monkeypatch
):
    import skyclass.runs as runs

    space = _space(**{"train.lr": {"values": [3e-3, 1e-2, 3e-2, 1e-1]}})
    direct = run_search(config_path, space, trials=3, out=tmp_path / "a", seed=2, progress=False)
    original, calls = runs.make_estimator, []  # each trial builds its estimator with it

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, "make_estimator", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_search(config_path, space, trials=3, out=tmp_path / "b", seed=2, progress=False)
    monkeypatch.setattr(runs, "make_estimator", original)
    resumed = run_search(config_path, space, trials=3, out=tmp_path / "b", seed=2, progress=False)
    assert list(resumed.trials["reason"]).count("interrupted") == 1
    columns = ["index", "status", "value", "train.lr"]
    counted = resumed.trials[resumed.trials["counted"]].sort_values("index")[columns]
    assert counted.reset_index(drop=True).equals(direct.trials[columns])
    assert resumed.best_params == direct.best_params


_KILLED_SEARCH = """
import pathlib, sys, time
import skyclass.runs as runs
import skyclass.search as search

original, calls = runs.make_estimator, []  # each trial builds its estimator with it

def make_estimator(*args, **kwargs):
    calls.append(1)
    if len(calls) == 4:  # fourth trial (the 2nd TPE draw): say so, then wait RUNNING to be killed
        pathlib.Path(sys.argv[4]).touch()
        time.sleep(600)
    return original(*args, **kwargs)

runs.make_estimator = make_estimator
search.run_search(sys.argv[1], sys.argv[2], trials=5, out=sys.argv[3], seed=7, progress=False)
"""


def _sequence(result):
    rows = result.trials[result.trials["counted"]].sort_values("index")
    rows = rows[["index", "status", "value", "train.lr", "model_options.dropout"]]
    return rows.astype(object).where(rows.notna(), None).to_dict("records")  # NaN == NaN


@pytest.mark.slow
def test_a_killed_search_resumes_to_the_same_best_trial(config_path, tmp_path):
    import optuna

    space_path = tmp_path / "space.yaml"
    space_path.write_text(
        yaml.safe_dump(
            {
                "sampler": "tpe",
                "sampler_options": {"n_startup_trials": 2},
                "metric": "val_loss",
                "pruner": "median",
                "pruner_options": {"n_startup_trials": 1},
                "params": {
                    "train.lr": {"type": "float", "low": 1e-3, "high": 0.3, "log": True},
                    "model_options.dropout": {"values": [0.0, 0.3, 0.6]},
                },
            }
        )
    )
    whole = run_search(
        config_path, space_path, trials=5, out=tmp_path / "whole", seed=7, progress=False
    )

    out = tmp_path / "killed"
    script = tmp_path / "killed_search.py"
    script.write_text(textwrap.dedent(_KILLED_SEARCH))
    env = {**os.environ, "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}
    waiting = tmp_path / "fourth-trial-started"  # touched inside the fourth trial's fit
    proc = subprocess.Popen(
        [sys.executable, str(script), str(config_path), str(space_path), str(out), str(waiting)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while not waiting.exists():  # the test's timeout bounds the wait
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    storage = f"sqlite:///{out / 'study.db'}"
    states = [
        t.state for t in optuna.load_study(study_name="skyclass-search", storage=storage).trials
    ]
    assert states.count(optuna.trial.TrialState.RUNNING) == 1 and len(states) == 4

    resumed = run_search(config_path, space_path, trials=5, out=out, seed=7, progress=False)
    table = resumed.trials
    interrupted = table[table["reason"] == "interrupted"]
    assert list(interrupted["status"]) == ["FAIL"] and not interrupted["counted"].any()
    assert len(table) == 6 and int(table["counted"].sum()) == 5
    assert _sequence(resumed) == _sequence(whole)
    assert len({(r["train.lr"], r["model_options.dropout"]) for r in _sequence(whole)}) == 5
    assert resumed.best_params == whole.best_params
    assert resumed.best_value == whole.best_value
    assert (out / "best.yaml").read_text() == (tmp_path / "whole" / "best.yaml").read_text()
