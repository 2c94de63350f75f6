"""Shared test fixtures: where the real survey data are, a helper to skip without them,
one torch thread for CPU-heavy tests, and a headless Chromium for the pages we write."""

from __future__ import annotations

import os
import shutil
import subprocess
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


def chromium() -> str | None:
    """Debian's chromium, if installed (``.ci/run`` installs it when it can)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def headless_dom(browser: str, url: str, profile: Path, *, timeout: float = 60) -> str:
    """The DOM of ``url`` after its load handlers ran, dumped by a headless, offline Chromium."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not done.stdout:
        raise AssertionError(f"chromium printed no DOM: {done.stderr[-2000:]}")
    return done.stdout
