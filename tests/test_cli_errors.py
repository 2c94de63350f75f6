"""Mistakes on the command line end in one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from conftest import sine_square_set
from skyclass.cli import app


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny saved feature classifier (simulated training curves)."""
    import torch

    from skyclass.estimator import LightCurveClassifier

    torch.set_num_threads(1)
    est = LightCurveClassifier(
        model="mlp_features",
        representations={"features": {"features": ["amplitude", "n_epochs"]}},
        train={"max_epochs": 1},
        validation_fraction=0,
        progress=False,
    )
    return est.fit(sine_square_set(24)).save(tmp_path_factory.mktemp("cli") / "model")


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    return sine_square_set(6, seed=1).to_parquet(tmp_path_factory.mktemp("cli") / "set.parquet")


def _altered(model, tmp_path, change) -> str:
    """A copy of the model directory with ``change(directory)`` applied."""
    copy = tmp_path / "altered"
    shutil.copytree(model, copy)
    change(copy)
    return str(copy)


def _edit_config(directory):
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**config, "hidden": 3}))


def _junk_weights(directory):
    """Not safetensors, yet recorded in the card as if saved so."""
    junk = b"\x00not a safetensors file"
    (directory / "weights.safetensors").write_bytes(junk)
    card = json.loads((directory / "card.json").read_text())
    card["saved"]["files_sha256"]["weights.safetensors"] = hashlib.sha256(junk).hexdigest()
    (directory / "card.json").write_text(json.dumps(card))


def _ensemble(model, tmp_path, listing: str) -> str:
    """An ensemble directory of ``model`` whose ensemble.json reads ``listing``."""
    folder = tmp_path / "ensemble"
    shutil.copytree(model, folder / "member-0")
    (folder / "ensemble.json").write_text(listing)
    return str(folder)


def _card_without_checksums(directory):
    card = json.loads((directory / "card.json").read_text())
    del card["saved"]["files_sha256"]
    (directory / "card.json").write_text(json.dumps(card))


CASES = {
    "chunk size 0": (lambda m, s, t: ["predict", m, s, "-o", t / "o", "--chunk-size", "0"],
                     "--chunk-size"),
    "chunk size -5": (lambda m, s, t: ["predict", m, s, "-o", t / "o", "--chunk-size", "-5"],
                      "--chunk-size"),
    "workers and dask": (
        lambda m, s, t: ["predict", m, s, "-o", t / "o", "--workers", "2", "--dask",
                         "tcp://127.0.0.1:1"],
        "--workers",
    ),
    "invalid YAML": (
        lambda m, s, t: ["train", _write(t / "run.yaml", "data: [macho\nmodel: x\n"), "--out",
                         t / "run"],
        "run.yaml",
    ),
    "missing train config": (lambda m, s, t: ["train", t / "none.yaml", "--out", t / "run"],
                             "none.yaml"),
    "out is a file": (lambda m, s, t: ["predict", m, s, "--out", _write(t / "f.txt", "x")],
                      "f.txt"),
    "train --out is a file": (
        lambda m, s, t: ["train", _write(t / "run.yaml", "data: macho\n"), "--out",
                         _write(t / "f.txt", "x")],
        "f.txt",
    ),
    "unwritable -o": (
        lambda m, s, t: ["convert", s, "-o", _write(t / "f.txt", "x") / "set.parquet"],
        "f.txt is a file, not a folder",
    ),
    "edited config.json": (
        lambda m, s, t: ["predict", _altered(m, t, _edit_config), s, "--out", t / "o"],
        "config.json differs",
    ),
    "weights not safetensors": (
        lambda m, s, t: ["predict", _altered(m, t, _junk_weights), s, "--out", t / "o"],
        "not a safetensors file",
    ),
    "ensemble.json not JSON": (
        lambda m, s, t: ["predict", _ensemble(m, t, '{"members": ["member-0"'), s, "--out",
                         t / "o"],
        "ensemble.json: not valid JSON",
    ),
    "ensemble member outside": (
        lambda m, s, t: ["predict", _ensemble(m, t, '{"members": ["../x"], "estimators": '
                         '["LightCurveClassifier"]}'), s, "--out", t / "o"],
        "must list 'members' (folder names inside",
    ),
    "card without checksums": (
        lambda m, s, t: ["predict", _altered(m, t, _card_without_checksums), s, "--out", t / "o"],
        "records no SHA-256",
    ),
}  # fmt: skip


def _write(path, text: str):
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_a_mistake_ends_in_one_line_and_a_non_zero_exit(case, model, shard, tmp_path):
    make_args, named = CASES[case]
    args = [str(a) for a in make_args(str(model), str(shard), tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code not in (0, None), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()  # progress lines may come first
    assert lines[-1].startswith("error: ") and named in lines[-1], result.output
    assert sum(line.startswith("error") for line in lines) == 1
    assert not (tmp_path / "o").exists()  # refused before any output


def test_an_error_no_command_expected_still_ends_in_one_line():
    script = textwrap.dedent(
        """
        import skyclass.cli as cli
        import skyclass.datasets

        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied", "/survey/locked.csv")

        skyclass.datasets.load = denied  # what the command reads its input with
        cli.app(["info", "macho"])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.strip() == (
        "error: /survey/locked.csv: Permission denied; check the path and its permissions"
    )
