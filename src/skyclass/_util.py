"""Small helpers that modules of every layer share: a progress display, atomic writes,
a thread limit, a content fingerprint and read-only arrays.

This module sits at the bottom of the package: it imports nothing of skyclass, so
any module may import it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from pathlib import Path
from typing import Any

__all__ = [
    "LOG_EVERY",
    "fingerprint",
    "limit_threads",
    "package_versions",
    "progress",
    "readonly_array",
    "write_json",
    "write_text_atomic",
]

log = logging.getLogger(__name__)

#: Seconds between two progress lines of a long loop when stderr is not a terminal.
LOG_EVERY = 15.0


# ------------------------------------------------------------------ progress
def progress(iterable: Iterable, *, total: int | None = None, desc: str = "", enabled=True):
    """Progress of a long loop: a bar in a terminal, a log line every :data:`LOG_EVERY`
    seconds elsewhere (a batch job's log, a pipe); nothing when disabled.

    The lines go to the ``skyclass`` logger (``skyclass convert`` shows them on stderr).

    Examples
    --------
    >>> sum(progress(range(5), desc="doc", enabled=False))
    10
    """
    if enabled and not _stderr_is_terminal():
        return _logged(iterable, total=total, desc=desc)
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not enabled or None, leave=False)


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def _logged(iterable: Iterable, *, total: int | None, desc: str) -> Iterator[Any]:
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    of = "" if total is None else f" of {total:,}"
    start = last = time.monotonic()
    for n, item in enumerate(iterable, 1):
        yield item
        now = time.monotonic()
        if now - last >= LOG_EVERY:
            last = now
            log.info("%s: %s%s read after %.0f s", desc or "reading", f"{n:,}", of, now - start)


# ------------------------------------------------------------------ files
def write_text_atomic(path: str | PathLike[str], text: str, *, durable: bool = False) -> None:
    """Replace ``path`` by ``text`` in one rename: a reader sees the old file or the new one.

    The text goes to a hidden ``.NAME.tmp`` beside ``path`` first (the parent folder is
    made when missing). ``durable=True`` also flushes the file and its folder to disk
    before and after the rename, so that a power cut cannot leave an empty file.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text_atomic(folder / "a" / "note.txt", "hello")
    >>> (folder / "a" / "note.txt").read_text(), sorted(p.name for p in (folder / "a").iterdir())
    ('hello', ['note.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    if durable:
        _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # directories cannot be opened on some platforms; the rename stands
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(
    path: str | PathLike[str],
    data: Any,
    *,
    indent: int = 2,
    default: Callable[[Any], Any] | None = None,
    allow_nan: bool = True,
    durable: bool = False,
) -> None:
    """Write ``data`` as JSON (and a final newline) to ``path`` atomically.

    Parameters
    ----------
    path : path
        The file; its folder is made when missing.
    data : object
        JSON-able, or made so by ``default``.
    indent : int
        Spaces per level.
    default : callable, optional
        Called on any object ``json`` cannot write (as :func:`json.dumps`'s ``default``).
    allow_nan : bool
        False: a NaN or infinity raises ``ValueError`` instead of writing non-standard JSON.
    durable : bool
        Flush to disk before and after the rename (see :func:`write_text_atomic`).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "metrics.json"
    >>> write_json(path, {"b": 1, "a": [0.5]}, indent=1)
    >>> print(path.read_text(), end="")
    {
     "b": 1,
     "a": [
      0.5
     ]
    }
    """
    text = json.dumps(data, indent=indent, default=default, allow_nan=allow_nan)
    write_text_atomic(path, text + "\n", durable=durable)


# ------------------------------------------------------------------ threads
@contextlib.contextmanager
def limit_threads(threads: int | None) -> Iterator[None]:
    """Run the block on at most ``threads`` CPU threads: torch's and the BLAS libraries'.

    ``None`` changes nothing. The previous limits come back when the block ends. One
    thread makes runs repeatable to the bit and keeps a job from taking cores that
    other jobs hold.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with limit_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        with threadpool_limits(limits=int(threads)):
            yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------ fingerprints
def readonly_array(values: Any, dtype: Any) -> Any:
    """A read-only numpy array of ``values``; copies unless it already is one (e.g. Arrow memory).

    What frozen objects hold: an array no caller can change under them.

    Examples
    --------
    >>> a = readonly_array([1, 2], "float64")
    >>> a.flags.writeable, readonly_array(a, "float64") is a
    (False, True)
    """
    import numpy as np

    if isinstance(values, np.ndarray) and not values.flags.writeable and values.dtype == dtype:
        return values
    arr = np.array(values, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def fingerprint(obj: Any, *, length: int | None = None) -> str:
    """SHA-256 (hex) of ``obj`` as canonical JSON: keys sorted, non-JSON values by ``str``.

    Equal contents give equal fingerprints whatever the order of mapping keys, so a
    fingerprint names what a saved result depends on.

    Parameters
    ----------
    obj : object
        Nested dicts, lists, tuples (written as lists), numbers, strings; anything else
        is written as its ``str``.
    length : int, optional
        Keep the first ``length`` hex digits (all 64 when not given).

    Examples
    --------
    >>> fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    True
    >>> fingerprint({"a": 1}, length=16)
    'f9d86028c6e0d64e'
    """
    text = json.dumps(obj, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return digest if length is None else digest[:length]


# ------------------------------------------------------------------ provenance

#: Packages whose version a run records: the numbers can move with any of them.
RECORDED_PACKAGES = (
    "skyclass",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "torch",
    "astropy",
    "nifty-ls",
    "light-curve",
)


def package_versions(packages: Iterable[str] = RECORDED_PACKAGES) -> dict[str, str]:
    """Python's version and each installed package's, by distribution name.

    Read from the installed metadata, so nothing is imported; a package that is not
    installed is left out. A run records these beside its numbers: a small fit can
    move with the last bit of a parsed value, so a number is reproduced exactly only
    with its versions.

    Examples
    --------
    >>> v = package_versions(["numpy", "no-such-package"])
    >>> sorted(v), v["python"].count(".")
    (['numpy', 'python'], 2)
    """
    from importlib import metadata

    versions = {"python": ".".join(str(x) for x in sys.version_info[:3])}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
