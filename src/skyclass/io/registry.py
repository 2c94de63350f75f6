"""Registry of survey readers: ``register_reader``, ``list_readers``, ``read``.

Every reader turns files into a :class:`~skyclass.lightcurve.LightCurveSet`. A
reader registers under a name with a one-line description and, optionally, a
``sniff`` function that recognises its files, so ``format="auto"`` can pick it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet

__all__ = ["Reader", "list_readers", "read", "register_reader"]

ReaderFunc = Callable[..., LightCurveSet]


@dataclass(frozen=True)
class Reader:
    """A registered reader: its name, function, description and file sniffer."""

    name: str
    func: ReaderFunc
    description: str
    sniff: Callable[[Path], bool] | None = None
    fallback: bool = False


_READERS: dict[str, Reader] = {}


def register_reader(
    name: str,
    *,
    description: str,
    sniff: Callable[[Path], bool] | None = None,
    fallback: bool = False,
) -> Callable[[ReaderFunc], ReaderFunc]:
    """Register ``func(path, **options) -> LightCurveSet`` under ``name``.

    ``sniff(path)`` says whether a file is this reader's, for ``format="auto"``;
    ``fallback`` readers (generic tables) are tried after every survey reader.

    Examples
    --------
    >>> @register_reader("example_never_sniffed", description="an example")
    ... def read_example(path, **options):
    ...     raise NotImplementedError
    >>> "example_never_sniffed" in list_readers()
    True
    """

    def decorate(func: ReaderFunc) -> ReaderFunc:
        if name in _READERS and _READERS[name].func is not func:
            raise ValueError(f"a reader named {name!r} is already registered")
        _READERS[name] = Reader(
            name=name, func=func, description=description, sniff=sniff, fallback=fallback
        )
        return func

    return decorate


def list_readers() -> dict[str, str]:
    """Registered reader names with their descriptions."""
    return {name: r.description for name, r in _READERS.items()}


def get_reader(name: str) -> Reader:
    """The reader registered as ``name``; a wrong name lists the valid ones."""
    try:
        return _READERS[name]
    except KeyError:
        raise DataError(
            f"unknown format {name!r}; choose one of: {', '.join(sorted(_READERS))} "
            "(or 'auto' to detect it)"
        ) from None


def detect_format(path: str | PathLike[str]) -> str:
    """Name of the first reader whose sniffer recognises ``path``."""
    path = Path(path)
    if not path.exists():
        raise DataError("file or directory not found", source=str(path))
    for reader in sorted(_READERS.values(), key=lambda r: r.fallback):
        if reader.sniff is not None:
            try:
                if reader.sniff(path):
                    return reader.name
            except (OSError, ValueError, UnicodeDecodeError):
                continue
    raise DataError(
        "could not tell the file format; pass --format / format= with one of: "
        + ", ".join(sorted(_READERS)),
        source=str(path),
    )


def read(path: str | PathLike[str], format: str = "auto", **options: Any) -> LightCurveSet:
    """Read survey files into a :class:`~skyclass.lightcurve.LightCurveSet`.

    Parameters
    ----------
    path : path-like
        A file or a directory, as the reader expects.
    format : str
        A registered reader name (see :func:`list_readers`), or ``"auto"``.
    **options
        Passed to the reader (e.g. ``min_epochs``, ``strict``).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "lc.csv")
    >>> _ = open(path, "w").write("mjd,mag,magerr\\n1.0,15.0,0.1\\n2.0,15.2,0.1\\n")
    >>> read(path, format="csv").n_epochs.tolist()
    [2]
    """
    name = detect_format(path) if format == "auto" else format
    reader = get_reader(name)
    if not Path(path).exists():
        raise DataError("file or directory not found", source=str(path))
    accepted = inspect.signature(reader.func).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        valid = [p for p in accepted if p != "path"]
        raise DataError(
            f"format {name!r} takes no option {', '.join(map(repr, unknown))}; "
            f"its options are: {', '.join(valid) or 'none'}",
            source=str(path),
        )
    return reader.func(path, **options)


def _is_canonical(path: Path) -> bool:
    if path.suffix != ".parquet" or not path.is_file():
        return False
    import pyarrow.parquet as pq

    return "lightcurve" in pq.read_schema(path).names


@register_reader(
    "skyclass",
    description="skyclass canonical Parquet: one row per object, nested 'lightcurve' column",
    sniff=_is_canonical,
)
def read_skyclass(path: str | PathLike[str]) -> LightCurveSet:
    """Read the canonical Parquet format (see :meth:`LightCurveSet.read_parquet`)."""
    return LightCurveSet.read_parquet(path)
