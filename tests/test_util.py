"""The shared helpers: fingerprints, atomic writes, the thread limit, progress."""

import hashlib
import io
import json
import logging
import sys

import pytest
import torch

import skyclass._util
from skyclass._util import fingerprint, limit_threads, progress, write_json, write_text_atomic


def test_fingerprint_does_not_depend_on_the_order_of_keys_at_any_depth():
    one = {"model": "fcn", "settings": {"seed": 0, "folds": [1, 2]}, "n": 3}
    other = {"n": 3, "settings": {"folds": [1, 2], "seed": 0}, "model": "fcn"}
    assert fingerprint(one) == fingerprint(other)


def test_fingerprint_changes_with_any_value_and_with_list_order():
    base = {"a": 1, "b": [1, 2]}
    assert fingerprint(base) != fingerprint({"a": 2, "b": [1, 2]})
    assert fingerprint(base) != fingerprint({"a": 1, "b": [2, 1]})


def test_fingerprint_is_the_sha256_of_sorted_json_so_saved_keys_stay_valid():
    parts = [{"y": 1, "x": None}, "net", 0]
    text = json.dumps(parts, sort_keys=True, default=str)
    assert fingerprint(parts) == hashlib.sha256(text.encode()).hexdigest()
    assert fingerprint(parts, length=16) == fingerprint(parts)[:16]


def test_fingerprint_writes_other_values_as_their_str():
    from pathlib import Path

    assert fingerprint({"p": Path("a/b")}) == fingerprint({"p": "a/b"})


def test_write_json_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "out.json"
    write_json(path, {"a": 1})
    write_json(path, {"a": 2}, durable=True)
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]


def test_write_json_refuses_nan_when_asked_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"a": 1})
    with pytest.raises(ValueError):
        write_json(path, {"a": float("nan")}, allow_nan=False)
    assert json.loads(path.read_text()) == {"a": 1}


def test_write_text_atomic_writes_the_text_as_given(tmp_path):
    write_text_atomic(tmp_path / "t.txt", "x\ny")
    assert (tmp_path / "t.txt").read_text() == "x\ny"


def test_limit_threads_restores_torch_threads_even_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), limit_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError
    assert torch.get_num_threads() == before
    with limit_threads(None):
        assert torch.get_num_threads() == before


def test_progress_logs_a_line_per_item_when_not_in_a_terminal(monkeypatch, caplog):
    monkeypatch.setattr(skyclass._util, "LOG_EVERY", 0.0)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    with caplog.at_level(logging.INFO, logger="skyclass"):
        assert list(progress([1, 2], desc="files")) == [1, 2]
    assert [r.getMessage().split(" read")[0] for r in caplog.records] == [
        "files: 1 of 2",
        "files: 2 of 2",
    ]
