"""Shared test fixtures: where the real survey data are, and a helper to skip without them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


os.environ.setdefault("TQDM_DISABLE", "1")
