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
