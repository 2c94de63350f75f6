"""What a running study holds besides its units: its log and the description of its data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["RunLog", "data_metrics"]


class RunLog:
    """Timestamped lines appended to ``path`` (a run's ``log.txt``), echoed when asked.

    Examples
    --------
    >>> import tempfile
    >>> log = RunLog(Path(tempfile.mkdtemp()) / "log.txt", echo=False)
    >>> log("seed0: split 60/10/30")
    >>> log.path.read_text().split(" ", 1)[1]
    'seed0: split 60/10/30\\n'
    """

    def __init__(self, path: Path, *, echo: bool):
        self.path = path
        self.echo = echo

    def __call__(self, message: str) -> None:
        line = f"{datetime.now(UTC).isoformat(timespec='seconds')} {message}"
        with self.path.open("a") as f:
            f.write(line + "\n")
        if self.echo:
            print(line, flush=True)


def data_metrics(info: dict, lcs: Any) -> dict:
    """The ``data`` and ``skipped`` sections of the metrics: what was used, what cleaning dropped.

    Examples
    --------
    >>> from skyclass.datasets import load
    >>> part = data_metrics({"name": "macho"}, load("macho"))
    >>> sorted(part), part["data"]["name"], part["skipped"]
    (['data', 'skipped'], 'macho', [])
    """
    return {
        "data": {**info, "summary": lcs.summary()},
        "skipped": [
            {"object_id": str(x.get("id")), "reason": f"cleaning: {x.get('reason')}"}
            for x in lcs.skipped
        ],
    }
