"""Readers of survey files, one per format, registered by name.

``read(path, format="auto")`` picks the reader from the file; every reader
returns a :class:`~skyclass.lightcurve.LightCurveSet` whose bad objects are
skipped and listed in ``meta["skipped"]`` (``strict=True`` raises instead).

Examples
--------
>>> from skyclass.io import list_readers
>>> "ogle" in list_readers() and "csv" in list_readers()
True
"""

# Importing a reader module registers its readers.
from skyclass.io import (  # noqa: F401
    asas,
    asassn,
    crts,
    eros,
    folded,
    gaia,
    generic,
    ogle,
    stripe82,
    ztf,
)
from skyclass.io.labels import attach_labels
from skyclass.io.registry import detect_format, get_reader, list_readers, read, register_reader

__all__ = [
    "attach_labels",
    "detect_format",
    "get_reader",
    "list_readers",
    "read",
    "register_reader",
]
