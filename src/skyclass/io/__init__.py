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
from skyclass.io import asassn, crts, eros, folded, gaia, generic, ogle, ztf  # noqa: F401
from skyclass.io.registry import detect_format, get_reader, list_readers, read, register_reader

__all__ = ["detect_format", "get_reader", "list_readers", "read", "register_reader"]
