"""The shared real survey data used for tests and benchmarks (never shipped with skyclass).

The folder is ``$SKYCLASS_SHARED_DATA``, or ``../shared/data`` beside the project
checkout. Each data set has a name and the reader that loads it.
"""

from __future__ import annotations

import os
from pathlib import Path

from skyclass.exceptions import DataError

__all__ = ["SHARED_SETS", "shared_data_root", "shared_path"]

#: Shared data sets: name -> (folder, reader format, what it holds).
SHARED_SETS: dict[str, tuple[str, str, str]] = {
    "eros1_lmc": ("eros1_lmc", "eros", "EROS-1 LMC B and R light curves, 4 classes"),
    "gaia_dr3_vari": (
        "gaia_dr3_vari/lightcurves.parquet",
        "gaia_vari",
        "Gaia DR3 G epoch photometry, 5 classes",
    ),
    "ogle4_lmc_cep": ("ogle4_lmc_cep", "ogle", "OGLE-IV LMC classical Cepheids, I band, modes"),
    "dekany_gaia_g_rrab": (
        "dekany_gaia_g_rrab",
        "gaia_folded",
        "Gaia DR2 G RRab folded curves with photometric [Fe/H]",
    ),
}


def shared_data_root() -> Path:
    """Folder of the shared data: ``$SKYCLASS_SHARED_DATA`` or ``../shared/data``.

    Examples
    --------
    >>> os.environ["SKYCLASS_SHARED_DATA"] = "/data/shared"  # doctest: +SKIP
    >>> shared_data_root()  # doctest: +SKIP
    PosixPath('/data/shared')
    >>> isinstance(shared_data_root(), Path)
    True
    """
    env = os.environ.get("SKYCLASS_SHARED_DATA")
    if env:
        return Path(env).expanduser()
    project = Path(__file__).resolve().parents[3]
    return project.parent / "shared" / "data"


def shared_path(name: str) -> Path:
    """Path of a shared data set by name; says where it was looked for when absent."""
    if name not in SHARED_SETS:
        raise DataError(f"unknown shared data set {name!r}; choose one of {sorted(SHARED_SETS)}")
    path = shared_data_root() / SHARED_SETS[name][0]
    if not path.exists():
        raise DataError(
            "shared data set not found; set SKYCLASS_SHARED_DATA to the folder holding it",
            source=str(path),
        )
    return path
