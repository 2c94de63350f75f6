"""Shared test fixtures: where the real survey data are, a helper to skip without them, and
one torch thread for CPU-heavy tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from skyclass import LightCurve, LightCurveSet
from skyclass.datasets.shared import shared_data_root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the shared real survey data; skips the test when it is absent."""
    root = shared_data_root()
    if not root.is_dir():
        pytest.skip(
            f"shared survey data not found at {root}; set SKYCLASS_SHARED_DATA to its folder"
        )
    return root


def shared_path(root: Path, *parts: str) -> Path:
    """A path under the shared data, skipping the test when that file is missing."""
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is missing from the shared data")
    return path


def sine_square_set(n: int = 48, seed: int = 0, noise: float = 0.05) -> LightCurveSet:
    """Simulated sine vs square-wave curves with a known period of 1.7 d (not real data)."""
    rng = np.random.default_rng(seed)
    curves, labels = [], []
    for i in range(n):
        t = np.sort(rng.uniform(0, 100, 60))
        wave = np.sin(2 * np.pi * t / 1.7)
        mag = 15 + 0.3 * (wave if i % 2 else np.sign(wave)) + rng.normal(0, noise, t.size)
        err = np.full(t.size, noise)
        curves.append(LightCurve(time=t, mag=mag, err=err, band="V", id=f"o{i}"))
        labels.append("sine" if i % 2 else "square")
    s = LightCurveSet.from_lightcurves(curves, labels=labels)
    return s.with_objects(s.objects.assign(period=1.7))


os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test: on a shared machine, spinning OpenMP threads slow
    CPU convolutions by 30-100×."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
