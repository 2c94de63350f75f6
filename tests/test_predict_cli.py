"""The predict command: survey files and data-set names give what converting first gives;
one run at a time per output folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from skyclass import LightCurve, LightCurveSet
from skyclass.cli import app
from skyclass.estimator import LightCurveClassifier
from skyclass.predict import read_predictions


def _banded(n: int, bands: tuple[str, ...], seed: int) -> LightCurveSet:
    """Simulated large vs small sine curves observed in ``bands`` in turn (not real data)."""
    rng = np.random.default_rng(seed)
    curves, labels = [], []
    for i in range(n):
        t = np.sort(rng.uniform(0, 100, 60))
        band = np.asarray(bands)[np.arange(t.size) % len(bands)]
        mag = 15 + (0.3 if i % 2 else 0.05) * np.sin(t) + rng.normal(0, 0.02, t.size)
        curves.append(LightCurve(time=t, mag=mag, err=np.full(t.size, 0.02), band=band, id=f"{i}"))
        labels.append("large" if i % 2 else "small")
    s = LightCurveSet.from_lightcurves(curves, labels=labels)
    return s.with_objects(s.objects.assign(period=1.0))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny feature classifiers saved for the B+R bands (EROS, MACHO) and Gaia G."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("models")
    saved = {}
    for name, bands in {"BR": ("B", "R"), "G": ("G",)}.items():
        est = LightCurveClassifier(
            model="mlp_features",
            representations={
                "features": {
                    "features": ["amplitude", "mean_mag", "n_epochs", "span"],
                    "amplitude": "percentile",
                }
            },
            train={"max_epochs": 1, "batch_size": 16},
            validation_fraction=0,
            progress=False,
        )
        saved[name] = est.fit(_banded(40, bands, seed=1)).save(root / name)
    return saved


def _cli(*args: object):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def _predicted_like_converting_first(model, source: str, tmp_path, *options: str) -> None:
    """``predict MODEL SOURCE`` gives the predictions of ``convert`` then ``predict``."""
    direct = _cli("predict", model, source, "--out", tmp_path / "direct", *options)
    assert direct.exit_code == 0, direct.output
    assert "converted" in direct.output
    converted = tmp_path / "converted.parquet"
    assert _cli("convert", source, "-o", converted, *options).exit_code == 0
    first = _cli("predict", model, converted, "--out", tmp_path / "first")
    assert first.exit_code == 0, first.output
    got, want = read_predictions(tmp_path / "direct"), read_predictions(tmp_path / "first")
    assert len(got) > 0
    assert got.equals(want)

    again = _cli("predict", model, source, "--out", tmp_path / "direct", *options)
    assert again.exit_code == 0 and "1 already done" in again.output, again.output


def test_a_data_set_name_is_converted_and_predicted(models, tmp_path):
    _predicted_like_converting_first(models["BR"], "macho", tmp_path)


@pytest.mark.realdata
def test_a_survey_folder_is_converted_and_predicted(models, shared_data, tmp_path):
    from conftest import shared_path

    eros = shared_path(shared_data, "eros1_lmc")
    _predicted_like_converting_first(models["BR"], str(eros), tmp_path)


def test_a_gaia_parquet_file_named_by_format_is_converted(models, tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for i in range(12):
        t = np.sort(rng.uniform(0, 1000, 40))
        rows.append(
            {
                "source_id": 4_000_000 + i,
                "time": t.tolist(),
                "mag": (17 + 0.2 * np.sin(t)).tolist(),
                "mag_err": [0.01] * t.size,
            }
        )
    survey = tmp_path / "lightcurves.parquet"  # one star per row, no 'lightcurve' column
    pq.write_table(pa.Table.from_pylist(rows), survey)
    _predicted_like_converting_first(models["G"], str(survey), tmp_path, "--format", "gaia_vari")


def test_a_catalogue_without_objects_exits_non_zero(models, tmp_path):
    empty = tmp_path / "empty.parquet"
    pq.write_table(_banded(3, ("B", "R"), seed=2).to_arrow().slice(0, 0), empty)
    result = _cli("predict", models["BR"], empty, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "no object was predicted" in result.output


def test_a_set_without_the_models_bands_fails_its_part_and_exits_non_zero(models, tmp_path):
    shard = _banded(10, ("G",), seed=2).to_parquet(tmp_path / "g.parquet")
    result = _cli("predict", models["BR"], shard, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "lacks ['B', 'R']" in " ".join(result.output.split())
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["n_units_failed"] == len(report["failed"]) == 1 and report["n_objects"] == 0


def test_a_second_run_on_a_folder_in_use_is_refused_and_a_killed_holders_lock_taken_over(
    models, tmp_path
):
    shard = _banded(30, ("B", "R"), seed=5).to_parquet(tmp_path / "shard.parquet")
    out = tmp_path / "out"
    args = ["predict", str(models["BR"]), str(shard), "--out", str(out), "--chunk-size", "10"]
    holder_script = textwrap.dedent(
        f"""
        import sys
        import skyclass.predict as p
        from skyclass.cli import app

        def held(*args, **kwargs):  # stop in the run, holding the lock
            print("holding", flush=True)
            sys.stdin.readline()
        p.predict_catalogue = held
        app({args!r})
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", holder_script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    try:
        for line in holder.stdout:  # wait until the holder is inside the run
            if line.strip() == "holding":
                break
        else:
            pytest.fail(f"the holding process ended first (exit {holder.wait()})")
        refused = _cli(*args)
        assert refused.exit_code == 2, refused.output
        assert f"PID {holder.pid}" in refused.output and "in use" in refused.output
        assert holder.poll() is None  # refused while the holder still runs
    finally:
        holder.kill()
        holder.wait()
    assert f"PID {holder.pid}" in (out / ".lock").read_text()  # left behind by the killed run

    taken = _cli(*args)
    assert taken.exit_code == 0, taken.output
    assert len(read_predictions(out)) == 30
    assert not (out / ".lock").exists()  # released at the end
