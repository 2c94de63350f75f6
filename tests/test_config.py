"""Typed configs: YAML, dotted overrides, clear errors."""

from __future__ import annotations

import pytest

from skyclass.config import ReadConfig, apply_overrides
from skyclass.exceptions import DataError


def test_overrides_parse_yaml_values_and_nest():
    out = apply_overrides({"a": {"b": 1}}, ["a.b=2.5", "a.c=true", "d=[1, 2]", "e=text"])
    assert out == {"a": {"b": 2.5, "c": True}, "d": [1, 2], "e": "text"}


def test_overrides_do_not_mutate_input():
    data = {"a": {"b": 1}}
    apply_overrides(data, ["a.b=2"])
    assert data == {"a": {"b": 1}}


def test_override_syntax_error():
    with pytest.raises(ValueError, match="key.sub=value"):
        apply_overrides({}, ["nonsense"])


def test_yaml_then_overrides_and_resolved_roundtrip(tmp_path):
    path = tmp_path / "read.yaml"
    path.write_text("format: csv\nmin_epochs: 10\ncolumns:\n  mag: Mag\n")
    cfg = ReadConfig.load(path, overrides=["min_epochs=20"])
    assert (cfg.format, cfg.min_epochs, cfg.columns) == ("csv", 20, {"mag": "Mag"})
    saved = tmp_path / "resolved.yaml"
    cfg.to_yaml(saved)
    assert ReadConfig.load(saved) == cfg
    assert cfg.reader_kwargs() == {"min_epochs": 20, "columns": {"mag": "Mag"}}
    assert ReadConfig().reader_kwargs() == {}


def test_unknown_or_mistyped_keys_name_the_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("min_epoch: 3\n")
    with pytest.raises(DataError, match="min_epoch.*valid keys"):
        ReadConfig.load(path)
    with pytest.raises(DataError, match="min_epochs"):
        ReadConfig.load(overrides=["min_epochs=many"])


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        (
            "model: mlp_feature",
            r"unknown model 'mlp_feature'; choose one of: .*mlp_features.*"
            r"baselines: feature_forest",
        ),
        ("train: {max_epoch: 3}", r"train takes no key 'max_epoch'; its keys are: .*max_epochs"),
        ("train: {max_epochs: many}", r"max_epochs"),
        ("model_options: {hiden: [8]}", r"takes no option 'hiden'; its options are: .*hidden"),
        (
            "model: feature_forest\nmodel_options: {n_trees: 9}",
            r"takes no option 'n_trees'; its options are: features, n_estimators",
        ),
        ("task: regresion", r"task must be 'classification' or 'regression'"),
        ("period: colum", r"period must be 'auto', 'column' or 'search', got 'colum'"),
        ("representations: {featurs: {}}", r"unknown representation 'featurs'.*'features'"),
    ],
)
def test_run_config_refuses_unknown_models_options_and_keys_before_reading_data(
    tmp_path, lines, named
):
    from skyclass.runs import RunConfig

    path = tmp_path / "run.yaml"
    # the data do not exist: the config must fail on its own mistake, not on the data
    model = "" if lines.startswith("model:") else "model: mlp_features\n"
    path.write_text(f"data: {tmp_path / 'missing.parquet'}\n{model}{lines}\n")
    with pytest.raises(DataError, match=named):
        RunConfig.load(path)


def test_run_config_accepts_a_baseline_and_a_network_with_their_options():
    from skyclass.runs import RunConfig

    cfg = RunConfig.load(
        overrides=["data=macho", "model=feature_forest", "model_options.n_estimators=20"]
    )
    assert cfg.model_options == {"n_estimators": 20}
    cfg = RunConfig.load(
        overrides=[
            "data=macho",
            "model=mlp_features",
            "model_options.hidden=[8]",
            "train.max_epochs=2",
        ]
    )
    assert cfg.train == {"max_epochs": 2}
