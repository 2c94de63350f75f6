"""One process at a time per output folder: a lock that names its holder.

:func:`hold_folder` takes an exclusive ``flock`` on a file in the folder and
writes who holds it (PID, host, start time); the file is removed when the block
ends. The system releases the lock when the holder ends, however it ends, so
the file a killed process leaves behind is simply taken over. ``predict`` and
``search`` hold their output folders with it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import socket
import threading
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import TextIO

from skyclass.exceptions import DataError

__all__ = ["hold_folder"]

_HELD: dict[Path, int] = {}  # lock file -> thread holding it in this process


@contextlib.contextmanager
def hold_folder(
    folder: str | PathLike[str], *, name: str = ".lock", what: str = "run"
) -> Iterator[Path]:
    """Hold ``folder`` while the block runs; another process (or thread) is refused at once.

    The thread holding the folder may take it again (a command holds it while it
    prepares its input, then the library call it makes takes it too).

    Parameters
    ----------
    folder : path
        The folder to hold; created if absent.
    name : str
        The lock file's name inside ``folder``.
    what : str
        What holds it, for the refusal (``"prediction run"``, ``"search"``).

    Yields
    ------
    Path
        ``folder``, resolved.

    Raises
    ------
    DataError
        ``folder`` is held by another process or thread (its PID is named), is a
        file, or cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> with hold_folder(out):
    ...     with hold_folder(out):  # the same thread again
    ...         os.listdir(out)
    ['.lock']
    >>> os.listdir(out)
    []
    """
    folder = Path(folder).resolve()
    path = folder / name
    me = threading.get_ident()
    if _HELD.get(path) == me:
        yield folder
        return
    if folder.exists() and not folder.is_dir():
        raise DataError("this is a file, not a folder; give a folder", source=str(folder))
    handle = _lock(path, what)
    with handle:
        handle.seek(0)
        handle.truncate()
        started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        handle.write(f"PID {os.getpid()} on {socket.gethostname()} since {started}\n")
        handle.flush()
        _HELD[path] = me
        try:
            yield folder
        finally:
            del _HELD[path]
            path.unlink(missing_ok=True)  # still locked here; closing the file releases it


def _lock(path: Path, what: str) -> TextIO:
    """The open lock file, flocked; the file a holder removed on release is not used."""
    import fcntl

    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise DataError(
                f"cannot write here ({exc.strerror}); choose a folder you can write to",
                source=str(path.parent),
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process that is starting"
            handle.close()
            raise DataError(
                f"in use by another {what} ({holder}); wait for it to finish, stop it, "
                "or choose another folder",
                source=str(path.parent),
            ) from None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(handle.fileno()).st_ino:
            return handle
        handle.close()  # its holder removed it between our open and our lock: again
