"""One fingerprint, one unit record, one resume: worked by hand."""

from __future__ import annotations

import hashlib
import json

from skyclass.study.units import (
    find_unit,
    fingerprint,
    keep_run,
    record_unit,
    reuse_fitted,
    reuse_result,
    unit_record,
)


def test_the_same_settings_in_any_key_order_have_one_fingerprint():
    a = {"train": {"lr": 0.001, "max_epochs": 5}, "folds": 10, "model": "rnn"}
    b = {"model": "rnn", "folds": 10, "train": {"max_epochs": 5, "lr": 0.001}}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**a, "folds": 9})
    assert fingerprint(a, length=16) == fingerprint(a)[:16] and len(fingerprint(a)) == 64


def test_fingerprint_is_the_hash_that_names_the_committed_units():
    # the form the reproductions' keys were written with: canonical JSON, SHA-256
    parts = [{"n_bags": 3, "split": [6, 1, 3]}, "kang2023_rnn", 0, "bagging", 1]
    text = json.dumps(parts, sort_keys=True, default=str)
    assert fingerprint(parts) == hashlib.sha256(text.encode()).hexdigest()


def test_a_recorded_unit_is_found_and_not_computed_again(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"macro_f1": 0.7}

    first = reuse_result(tmp_path / "fold0", "k", compute)
    again = reuse_result(tmp_path / "fold0", "k", compute)
    assert calls == [1] and again["reused"] and again["macro_f1"] == first["macro_f1"] == 0.7
    other = reuse_result(tmp_path / "fold0", "other settings", compute)
    assert calls == [1, 1] and "reused" not in other


def test_a_half_written_unit_is_not_taken_as_done(tmp_path):
    folder = tmp_path / "seed0"
    folder.mkdir()
    (folder / "result.json").write_text('{"key": "k", "macro_f1": 0.')  # cut short
    assert find_unit(folder, "k") is None
    result = reuse_result(folder, "k", lambda: {"macro_f1": 0.5})
    assert "reused" not in result and find_unit(folder, "k")["macro_f1"] == 0.5
    assert not list(folder.glob("*.partial"))


def test_a_unit_missing_a_needed_file_is_computed_again(tmp_path):
    record_unit(tmp_path, {"mae": 0.3}, key="k")
    assert find_unit(tmp_path, "k", needs=["predictions.parquet"]) is None
    (tmp_path / "predictions.parquet").write_bytes(b"")
    assert find_unit(tmp_path, "k", needs=["predictions.parquet"])["mae"] == 0.3


def test_an_aggregate_unit_is_kept_in_the_record_and_found_there_on_a_new_machine(tmp_path):
    record = tmp_path / "record"
    with unit_record(tmp_path / "run1", record):
        reuse_result(tmp_path / "run1" / "fold0", "k", lambda: {"ba": 0.8}, aggregates=True)
    with unit_record(tmp_path / "run2", record) as ledger:
        unit = reuse_result(tmp_path / "run2" / "fold0", "k", lambda: {"ba": 0.1}, aggregates=True)
    assert unit["ba"] == 0.8 and unit["from_record"]
    assert ledger.summary()["from_record"] == 1


class _Net:
    def __init__(self, weight: float):
        self.weight = weight

    def save(self, path):
        path.mkdir(parents=True, exist_ok=True)
        (path / "weight.txt").write_text(str(self.weight))


def _load(path):
    return _Net(float((path / "weight.txt").read_text()))


def test_a_fitted_member_is_loaded_back_while_its_key_holds(tmp_path):
    folder = tmp_path / "bag0"
    net, reused, _ = reuse_fitted(folder, "k", lambda: _Net(0.5), load=_load)
    assert not reused and json.loads((folder / "done.json").read_text())["key"] == "k"
    net, reused, _ = reuse_fitted(folder, "k", lambda: _Net(9.9), load=_load)
    assert reused and net.weight == 0.5


def test_a_member_without_its_done_mark_is_fitted_again(tmp_path):
    folder = tmp_path / "bag0"
    _Net(0.5).save(folder / "model")  # saved, then the process died before done.json
    assert find_unit(folder, "k", name="done.json") is None
    net, reused, _ = reuse_fitted(folder, "k", lambda: _Net(0.7), load=_load)
    assert not reused and net.weight == 0.7 and _load(folder / "model").weight == 0.7


def test_a_kept_run_holds_aggregates_only(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("model: rf\n")
    (run / "metrics.json").write_text(json.dumps({"test": {"ba": 0.9}, "skipped": ["s1", "s2"]}))
    entry = keep_run(run, tmp_path / "record" / "cell")
    assert (entry / "config.yaml").read_text() == "model: rf\n"
    assert find_unit(entry, name="metrics.json") == {"test": {"ba": 0.9}, "skipped_count": 2}
