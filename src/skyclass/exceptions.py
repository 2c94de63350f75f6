"""Exceptions raised by skyclass.

Every error that comes from bad user data is a :class:`DataError`; its message
names the file and the object concerned and says how to fix the problem.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DataWarning",
    "MissingDependencyError",
    "NotFittedError",
    "SkyclassError",
]


class SkyclassError(Exception):
    """Base class of every exception skyclass raises on purpose."""


class DataError(SkyclassError, ValueError):
    """Input data that cannot be used as given.

    Parameters
    ----------
    message : str
        What is wrong and what to do about it.
    source : str, optional
        The file (or other origin) the data came from.
    object_id : str, optional
        The object concerned, when the problem is one object's.

    Examples
    --------
    >>> err = DataError("times are not sorted", source="a.dat", object_id="OGLE-1")
    >>> str(err)
    'a.dat [OGLE-1]: times are not sorted'
    """

    def __init__(self, message: str, *, source: str | None = None, object_id: str | None = None):
        self.reason = message
        self.source = source
        self.object_id = object_id
        where = source or ""
        if object_id:
            where = f"{where} [{object_id}]" if where else f"[{object_id}]"
        super().__init__(f"{where}: {message}" if where else message)


class DataWarning(UserWarning):
    """Input that was left out without stopping the read (e.g. unexpected files in a folder)."""


class MissingDependencyError(SkyclassError, ImportError):
    """An optional dependency is not installed; the message gives the pip command."""

    def __init__(self, package: str, *, extra: str | None = None, purpose: str = ""):
        target = f"skyclass[{extra}]" if extra else package
        why = f" for {purpose}" if purpose else ""
        super().__init__(f"{package} is needed{why}: pip install '{target}'")


class NotFittedError(SkyclassError, ValueError):
    """A fitted object (scaler, estimator) was used before ``fit``."""
