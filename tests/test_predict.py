"""Catalogue-scale prediction: chunked outputs equal one predict_table, restarts lose nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import types
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skyclass import DataError, LightCurve, LightCurveSet
from skyclass.estimator import LightCurveClassifier
from skyclass.exceptions import MissingDependencyError
from skyclass.predict import chunk_ranges, local_cluster, predict_catalogue, read_predictions

N_SHARDS, PER_SHARD, CHUNK = 3, 30, 10  # row groups of 8: units of 8, 8, 8, 6 rows per shard


def _simulated(n: int, seed: int) -> LightCurveSet:
    """Sine vs square-wave curves with known periods (simulated, not real data)."""
    rng = np.random.default_rng(seed)
    curves, labels = [], []
    for i in range(n):
        t = np.sort(rng.uniform(0, 100, int(rng.integers(30, 60))))
        wave = np.sin(2 * np.pi * t / 1.7)
        mag = 15 + 0.3 * (wave if i % 2 else np.sign(wave)) + rng.normal(0, 0.02, t.size)
        curves.append(
            LightCurve(time=t, mag=mag, err=np.full(t.size, 0.02), band="V", id=f"s{seed}-{i}")
        )
        labels.append("sine" if i % 2 else "square")
    s = LightCurveSet.from_lightcurves(curves, labels=labels)
    return s.with_objects(s.objects.assign(period=1.7))


def _write_shard(lcs: LightCurveSet, path: Path) -> Path:
    """Canonical layout (to_arrow) with small row groups, so chunks span several of them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(lcs.to_arrow(), path, row_group_size=8)
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny fitted classifier, its saved directory, three shards and the whole set."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("predict")
    est = LightCurveClassifier(
        model="mlp_features",
        representations={
            "features": {
                "features": ["log_period", "amplitude", "mean_mag", "n_epochs", "span"],
                "amplitude": "percentile",
            }
        },
        train={"max_epochs": 2, "batch_size": 16},
        validation_fraction=0.25,  # calibration and an unknown-class score where supported
        progress=False,
    ).fit(_simulated(40, seed=100))
    model = est.save(root / "model")
    sets = [_simulated(PER_SHARD, seed=k) for k in range(N_SHARDS)]
    shards = [_write_shard(s, root / "shards" / f"shard{k}.parquet") for k, s in enumerate(sets)]
    whole = LightCurveSet.from_lightcurves(
        [lc for s in sets for lc in s], objects=pd.concat([s.objects for s in sets])
    )
    return {
        "est": est,
        "model": model,
        "shards": shards,
        "dir": root / "shards",
        "whole": whole,
        "expected": est.predict_table(whole),
    }


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same rows, columns and values; numbers to float32 precision (batches differ, so the
    last bits of a small probability may too: absolute 1e-6 as well as relative 1e-6)."""
    assert got.columns.tolist() == want.columns.tolist()
    assert len(got) == len(want)
    for name in want.columns:
        a, b = got[name], want[name]
        if b.dtype.kind == "f":
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-6, atol=1e-6)
        else:
            assert [None if pd.isna(x) else x for x in a] == [
                None if pd.isna(x) else x for x in b
            ], name


def test_chunks_cover_every_row_once_and_respect_the_size():
    for sizes, size in [([8, 8, 8, 6], 10), ([20_000, 20_000, 5], 50_000), ([25, 3], 10)]:
        ranges = chunk_ranges(sizes, size)
        assert ranges[0][0] == 0 and ranges[-1][1] == sum(sizes)
        assert all(a[1] == b[0] for a, b in pairwise(ranges))
        assert all(0 < b - a <= size for a, b in ranges)
    assert chunk_ranges([20_000] * 3, 50_000) == [(0, 40_000), (40_000, 60_000)]
    assert chunk_ranges([25, 3], 10) == [(0, 8), (8, 17), (17, 25), (25, 28)]


def test_in_process_equals_predict_table_on_the_whole_set(setup, tmp_path):
    report = predict_catalogue(
        setup["model"], setup["dir"], tmp_path / "out", chunk_size=CHUNK, progress=False
    )
    assert (report.n_units, report.n_units_done, report.n_units_failed) == (12, 12, 0)
    assert report.n_objects == report.n_objects_total == N_SHARDS * PER_SHARD
    assert report.throughput > 0 and "12 done now" in report.summary()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["chunk_size"] == CHUNK and len(manifest["units"]) == 12
    assert max(u["n_rows"] for u in manifest["units"]) <= CHUNK
    parts = sorted(p.name for p in (tmp_path / "out" / "predictions").iterdir())
    assert parts[0] == "part-shard0-00000.parquet" and len(parts) == 12
    _assert_same(read_predictions(tmp_path / "out"), setup["expected"])

    again = predict_catalogue(
        setup["model"], [str(p) for p in setup["shards"]], tmp_path / "out", chunk_size=CHUNK,
        progress=False,
    )  # fmt: skip
    assert (again.n_units_skipped, again.n_units_done, again.n_objects) == (12, 0, 0)


def test_killed_run_restarted_gives_the_uninterrupted_output(setup, tmp_path):
    out = tmp_path / "out"
    pred = out / "predictions"
    waiting = tmp_path / "two-units-done"  # touched when the second unit is written
    script = textwrap.dedent(
        f"""
        import pathlib, time
        import skyclass.predict as p
        done = []
        def held(unit, result):  # two units written, then wait before the third to be killed
            done.append(unit)
            if len(done) == 2:
                pathlib.Path({str(waiting)!r}).touch()
                time.sleep(600)
        p.predict_catalogue({str(setup["model"])!r}, {str(setup["dir"])!r}, {str(out)!r},
                            chunk_size={CHUNK}, progress=False, on_unit_done=held)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "TQDM_DISABLE": "1"})
    try:
        while not waiting.exists():  # the test's timeout bounds the wait
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = sorted(pred.glob("part-*.parquet"))
    assert [p.name for p in done_before] == [f"part-shard0-0000{i}.parquet" for i in (0, 1)]
    # what a kill in the middle of a write leaves: a temporary file and (were the write
    # not atomic) a truncated output; the restart must clear both
    (pred / ".part-shard2-00003.parquet.dead.tmp").write_bytes(b"half a file")
    (pred / "part-shard2-00003.parquet").write_bytes(b"PAR1 truncated")

    report = predict_catalogue(setup["model"], setup["dir"], out, chunk_size=CHUNK, progress=False)
    assert report.n_units_skipped == len(done_before)
    assert report.n_units_done == 12 - len(done_before) and report.n_units_failed == 0
    assert report.n_objects_total == N_SHARDS * PER_SHARD
    got = read_predictions(out)
    assert not got["object_id"].duplicated().any() and len(got) == N_SHARDS * PER_SHARD
    _assert_same(got, setup["expected"])
    assert not list(pred.glob("*.tmp")) and not list(pred.glob(".*"))


def test_corrupt_and_foreign_shards_are_skipped_and_named(setup, tmp_path):
    shards = tmp_path / "shards"
    shutil.copytree(setup["dir"], shards)
    truncated = shards / "shard1.parquet"
    truncated.write_bytes(truncated.read_bytes()[:300])
    foreign = shards / "zz_other.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(foreign)
    report = predict_catalogue(setup["model"], shards, tmp_path / "out", chunk_size=CHUNK,
                               progress=False)  # fmt: skip
    assert report.failed_shards == sorted([str(truncated), str(foreign)])
    reasons = {f["shard"]: f["reason"] for f in report.failed}
    assert "lightcurve" in reasons[str(foreign)]
    assert str(truncated) in report.summary() and "FAILED" in report.summary()
    assert report.n_shards_failed == 2 and "2 shards unreadable" in report.summary()
    assert report.n_units_done == 8 and report.n_objects == 2 * PER_SHARD
    got = read_predictions(tmp_path / "out")
    keep = ~setup["expected"]["object_id"].str.startswith("s1-")
    _assert_same(got, setup["expected"][keep].reset_index(drop=True))


def test_a_model_file_altered_after_saving_is_named(setup, tmp_path):
    from skyclass.models import load_model

    model = tmp_path / "model"
    shutil.copytree(setup["model"], model)
    load_model(model)  # intact copy loads
    scaler = json.loads((model / "scaler.json").read_text())
    scaler["center"][0] += 1.0
    (model / "scaler.json").write_text(json.dumps(scaler))
    with pytest.raises(DataError, match=r"scaler\.json differs .*SHA-256"):
        load_model(model)
    with pytest.raises(DataError, match=r"scaler\.json"):
        predict_catalogue(model, setup["dir"], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()  # refused before any work


def test_restart_with_another_model_or_chunk_size_is_refused(setup, tmp_path):
    out = tmp_path / "out"
    predict_catalogue(setup["model"], setup["shards"][0], out, chunk_size=CHUNK, progress=False)
    with pytest.raises(DataError, match=r"chunk_size \(10, now 16\).*overwrite=True"):
        predict_catalogue(setup["model"], setup["shards"][0], out, chunk_size=16, progress=False)
    other = tmp_path / "other_model"
    shutil.copytree(setup["model"], other)
    config = json.loads((other / "preprocessing.json").read_text())
    config["random_state"] = 1  # another save
    text = json.dumps(config)
    (other / "preprocessing.json").write_text(text)
    card = json.loads((other / "card.json").read_text())
    card["saved"]["files_sha256"]["preprocessing.json"] = hashlib.sha256(text.encode()).hexdigest()
    (other / "card.json").write_text(json.dumps(card))
    with pytest.raises(DataError, match=r"differs in model \(checksum"):
        predict_catalogue(other, setup["shards"][0], out, chunk_size=CHUNK, progress=False)
    report = predict_catalogue(
        setup["model"], setup["shards"][0], out, chunk_size=16, progress=False, overwrite=True
    )
    assert report.n_units_done == 2 and len(read_predictions(out)) == PER_SHARD


def test_a_rewritten_shard_is_predicted_again_and_missing_outputs_are_refused(setup, tmp_path):
    shards = tmp_path / "shards"
    shutil.copytree(setup["dir"], shards)
    out = tmp_path / "out"
    predict_catalogue(setup["model"], shards, out, chunk_size=CHUNK, progress=False)
    replacement = _simulated(PER_SHARD, seed=7)
    _write_shard(replacement, shards / "shard1.parquet")
    report = predict_catalogue(setup["model"], shards, out, chunk_size=CHUNK, progress=False)
    assert (report.n_units_skipped, report.n_units_done) == (8, 4)
    got = read_predictions(out)
    assert got["object_id"].iloc[PER_SHARD : 2 * PER_SHARD].tolist() == list(replacement.ids)
    (out / "predictions" / "part-shard2-00001.parquet").unlink()
    with pytest.raises(DataError, match="shard2.parquet chunk 1.*allow_missing"):
        read_predictions(out)
    assert len(read_predictions(out, allow_missing=True)) == 3 * PER_SHARD - 8


def test_a_regressor_writes_its_values_as_predicted(setup, tmp_path):
    from skyclass.estimator import LightCurveRegressor

    train = _simulated(40, seed=200)
    values = np.where(train.labels == "sine", 1.0, 0.0)
    reg = LightCurveRegressor(
        model="mlp_features",
        representations={
            "features": {"features": ["amplitude", "n_epochs"], "amplitude": "percentile"}
        },
        train={"max_epochs": 1},
        validation_fraction=0.0,
        progress=False,
    ).fit(train.with_objects(train.objects.assign(label=values)))
    model = reg.save(tmp_path / "model")
    predict_catalogue(model, setup["shards"][0], tmp_path / "out", chunk_size=CHUNK, progress=False)
    got = read_predictions(tmp_path / "out")
    assert got.columns.tolist() == ["object_id", "predicted", "error"]
    shard = LightCurveSet.read_parquet(setup["shards"][0])
    np.testing.assert_allclose(got["predicted"].to_numpy(float), reg.predict(shard), rtol=1e-6)


def test_unreachable_scheduler_fails_naming_it(setup, tmp_path):
    with pytest.raises(ConnectionError, match=r"tcp://127\.0\.0\.1:1"):
        predict_catalogue(
            setup["model"], setup["shards"][0], tmp_path / "out", scheduler="tcp://127.0.0.1:1",
            progress=False,
        )  # fmt: skip


def _hats_leaf(lcs: LightCurveSet, path: Path, *, empty_id: str | None = None) -> None:
    """A HATS-like leaf: other column names and a list-of-structs light-curve column."""
    rows = []
    for lc in lcs:
        epochs = [
            {"mjd": t, "mag": m, "magerr": e, "band": b}
            for t, m, e, b in zip(lc.time, lc.mag, lc.err, lc.band, strict=True)
        ]
        rows.append({"objectid": lc.id, "P": lc.meta["period"], "lc": epochs})
    if empty_id:
        rows.append({"objectid": empty_id, "P": 1.7, "lc": []})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_hats_leaves_with_a_column_mapping(setup, tmp_path, monkeypatch):
    whole = setup["whole"]
    catalogue = tmp_path / "hats"
    (catalogue / "dataset").mkdir(parents=True)
    (catalogue / "hats.properties").write_text("dataset_type=object\n")
    leaf_small = catalogue / "dataset/Norder=0/Dir=0/Npix=3.parquet"
    leaf_large = catalogue / "dataset/Norder=0/Dir=0/Npix=11.parquet"  # after Npix=3
    _hats_leaf(whole.select(np.arange(0, 20)), leaf_small, empty_id="no-epochs")
    _hats_leaf(whole.select(np.arange(20, 45)), leaf_large)

    monkeypatch.setitem(sys.modules, "lsdb", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match="pip install 'lsdb'"):
        predict_catalogue(setup["model"], catalogue, tmp_path / "out", progress=False)

    monkeypatch.setitem(sys.modules, "lsdb", types.ModuleType("lsdb"))  # as if installed
    columns = {"id": "objectid", "lightcurve": "lc", "time": "mjd", "err": "magerr", "period": "P"}
    report = predict_catalogue(
        setup["model"], catalogue, tmp_path / "out", columns=columns, chunk_size=CHUNK,
        progress=False,
    )  # fmt: skip
    assert report.n_units_failed == 0 and report.n_objects == 46
    got = read_predictions(tmp_path / "out")
    want = setup["expected"].iloc[:45]
    assert got["object_id"].iloc[20] == "no-epochs" and got["error"].iloc[20] == "no epochs"
    assert np.isnan(got["prob_sine"].iloc[20]) and pd.isna(got["predicted"].iloc[20])
    _assert_same(got.drop(index=20).reset_index(drop=True), want.reset_index(drop=True))


@pytest.mark.slow
def test_local_cluster_gives_the_in_process_output(setup, tmp_path):
    pytest.importorskip("distributed")
    report = predict_catalogue(
        setup["model"], setup["dir"], tmp_path / "out", chunk_size=CHUNK, workers=2,
        progress=False,
    )  # fmt: skip
    assert report.mode == "LocalCluster(2 workers)" and report.n_units_done == 12
    _assert_same(read_predictions(tmp_path / "out"), setup["expected"])


@pytest.mark.slow
def test_local_cluster_workers_keep_the_default_allocator_speed_and_no_profiler():
    pytest.importorskip("distributed")
    from distributed import Client

    def settings():
        import os

        import dask

        return (
            os.environ.get("MALLOC_MMAP_THRESHOLD_"),
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            dask.config.get("distributed.worker.profile.enabled"),
        )

    with local_cluster(1) as cluster, Client(cluster) as client:
        (got,) = client.run(settings).values()
    assert got == (str(32 << 20), str(64 << 20), False)


def test_an_ensemble_directory_predicts_with_the_members_spread(setup, tmp_path):
    from skyclass.estimator import EnsembleClassifier

    base = setup["est"]
    other = LightCurveClassifier(
        model=base.model,
        representations=base.representations,
        train={"max_epochs": 2, "batch_size": 16},
        validation_fraction=0.25,
        random_state=7,
        progress=False,
    )
    members = [LightCurveClassifier.load(setup["model"])]
    members.append(other.fit(_simulated(40, seed=101)))
    ensemble = EnsembleClassifier(members)
    folder = ensemble.save(tmp_path / "ensemble")
    predict_catalogue(folder, setup["dir"], tmp_path / "out", chunk_size=CHUNK, progress=False)
    got = read_predictions(tmp_path / "out")
    want = ensemble.predict_table(setup["whole"])
    _assert_same(got, want)
    assert {"ensemble_std", "ensemble_disagreement", "conflict"} <= set(got.columns)
    probs = np.mean([m.predict_proba(setup["whole"]) for m in members], axis=0)
    np.testing.assert_allclose(got[[c for c in got if c.startswith("prob_")]], probs, rtol=1e-6)
    picks = np.array([m.predict(setup["whole"]) for m in members])
    np.testing.assert_array_equal(got["conflict"], picks[0] != picks[1])
    # an altered member file is named, as for a single model
    scaler = folder / "member-1" / "scaler.json"
    scaler.write_text(scaler.read_text().replace("[", "[1.0, ", 1))
    with pytest.raises(DataError, match="scaler"):
        predict_catalogue(folder, setup["dir"], tmp_path / "again", progress=False)


def test_predict_command_exits_non_zero_when_a_part_failed(setup, tmp_path):
    from typer.testing import CliRunner

    from skyclass.cli import app

    shards = tmp_path / "shards"
    shutil.copytree(setup["dir"], shards)
    pd.DataFrame({"a": [1, 2]}).to_parquet(shards / "zz_other.parquet")
    args = ["predict", str(setup["model"]), str(shards), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output and "1 part(s) of the input failed" in result.output
    assert "Traceback" not in result.output
    assert len(read_predictions(tmp_path / "out")) == 3 * PER_SHARD  # the good shards kept


def test_an_out_dir_held_by_another_thread_is_refused_then_free_again(setup, tmp_path):
    import threading

    from skyclass.predict import lock_out_dir

    out = tmp_path / "out"
    held, release = threading.Event(), threading.Event()

    def hold():
        with lock_out_dir(out):
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout=60)
        with pytest.raises(
            DataError, match=rf"in use by another prediction run \(PID {os.getpid()}"
        ):
            predict_catalogue(setup["model"], setup["shards"][0], out, progress=False)
    finally:
        release.set()
        holder.join()
    report = predict_catalogue(setup["model"], setup["shards"][0], out, progress=False)
    assert report.n_objects == PER_SHARD
