"""Units of a long study: one fingerprint, one record of a finished unit, one resume.

A long study (a paper's reproduction, an ablation, a leaderboard) is cut into
units — a seed, a fold, a (fold, network) pair, a leaderboard cell, one bag's
fitted net — each finished and written down on its own, so that a run stopped
part-way redoes only what it had not finished. Every unit is a folder holding a
JSON record written atomically (:func:`record_unit`); the record carries the
``key`` of what the unit was computed from (:func:`~skyclass._util.fingerprint` of its settings
and objects), and :func:`find_unit` gives it back only when that key matches
and the file is whole. :func:`reuse_result` joins the two around a computation
and also keeps aggregate results in a committed unit record
(``docs/results_units``) when :func:`unit_record` names one.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> key = fingerprint({"lr": 1e-3, "epochs": 5})
>>> _ = record_unit(folder, {"mae": 0.3}, key=key)
>>> find_unit(folder, key)["mae"], find_unit(folder, fingerprint({"epochs": 6}))
(0.3, None)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from skyclass._util import fingerprint
from skyclass._util import write_json as _write_json
from skyclass.runs import plain_json

__all__ = [
    "find_unit",
    "fingerprint",
    "keep_run",
    "objects_digest",
    "record_unit",
    "reuse_fitted",
    "reuse_result",
    "scores_only",
    "unit_origin",
    "unit_record",
    "write_json",
]

#: The file in a unit's folder that says the unit is finished (and with which key).
RESULT = "result.json"

# fingerprint (canonical JSON, SHA-256) is skyclass._util's: the hash that names every
# unit, here and in the committed records


def objects_digest(ids: Iterable[Any]) -> str:
    """SHA-256 of object ids in order: the objects part of a unit's key.

    Examples
    --------
    >>> objects_digest(["a", "b"]) == objects_digest(["a", "b"]) != objects_digest(["b", "a"])
    True
    """
    return hashlib.sha256("\n".join(map(str, ids)).encode()).hexdigest()


def write_json(path: str | PathLike[str], data: Any, *, indent: int | None = 2) -> Path:
    """Write a study's ``data`` as JSON atomically, numpy values as numbers; returns ``path``.

    A reader sees the old file or the whole new one
    (:func:`skyclass._util.write_json`), so a process killed while writing leaves no
    half-written record behind.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> folder = Path(tempfile.mkdtemp())
    >>> path = write_json(folder / "a" / "b.json", {"n": np.int64(1)}, indent=None)
    >>> path.read_text(), sorted(p.name for p in path.parent.iterdir())
    ('{"n": 1}\\n', ['b.json'])
    """
    _write_json(path, data, indent=indent, default=plain_json)
    return Path(path)


def record_unit(
    folder: str | PathLike[str],
    result: dict[str, Any],
    *,
    key: str | None = None,
    name: str = RESULT,
    indent: int | None = None,
) -> Path:
    """Write a finished unit's record, ``folder/name``, with its ``key`` (atomically).

    Examples
    --------
    >>> import tempfile
    >>> path = record_unit(Path(tempfile.mkdtemp()), {"ba": 0.8}, key="k1")
    >>> path.name, json.loads(path.read_text())
    ('result.json', {'ba': 0.8, 'key': 'k1'})
    """
    record = dict(result) if key is None else {**result, "key": key}
    return write_json(Path(folder) / name, record, indent=indent)


def find_unit(
    folder: str | PathLike[str],
    key: str | None = None,
    *,
    name: str = RESULT,
    needs: Iterable[str] = (),
) -> dict[str, Any] | None:
    """The record of the finished unit in ``folder``, or None when it has to be computed.

    None when ``folder/name`` is missing or not whole JSON (a write that was cut
    short), when ``key`` is given and the record's differs (other settings or
    objects), or when a file named in ``needs`` is missing beside it.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "result.json").write_text('{"key": "k1", "mae": 0.')  # cut short
    >>> find_unit(folder, "k1") is None
    True
    >>> _ = record_unit(folder, {"mae": 0.3}, key="k1")
    >>> find_unit(folder, "k1")["mae"], find_unit(folder, "k2"), find_unit(folder)["key"]
    (0.3, None, 'k1')
    """
    folder = Path(folder)
    path = folder / name
    if not path.is_file() or not all((folder / f).is_file() for f in needs):
        return None
    try:
        saved = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(saved, dict) or (key is not None and saved.get("key") != key):
        return None
    return saved


def scores_only(metrics: dict) -> dict:
    """``metrics`` without object ids: every ``skipped`` list becomes ``skipped_count``.

    What is left are aggregates over objects (scores, confusion matrices, per-fold
    tables, training histories, cost), safe to keep where the survey data may not go.

    Examples
    --------
    >>> scores_only({"test": {"mae": 0.3}, "folds": [{"skipped": ["a", "b"]}]})
    {'test': {'mae': 0.3}, 'folds': [{'skipped_count': 2}]}
    """

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key == "skipped" and isinstance(item, list | dict):
                    out["skipped_count"] = len(item)
                else:
                    out[key] = strip(item)
            return out
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return strip(metrics)


def keep_run(run_dir: str | PathLike[str], entry: str | PathLike[str]) -> Path:
    """Keep a finished run directory's ``config.yaml`` and aggregate ``metrics.json`` in ``entry``.

    The record of a whole run (a reproduction in ``docs/results_runs``, a leaderboard
    cell in ``docs/leaderboard_runs``): the metrics pass through :func:`scores_only`,
    so no object id, prediction or weight is kept, and the entry may be committed.
    :func:`find_unit` with ``name="metrics.json"`` finds it again. Returns ``entry``.

    Examples
    --------
    >>> import tempfile
    >>> run = Path(tempfile.mkdtemp())
    >>> _ = (run / "config.yaml").write_text("model: mlp_features")
    >>> _ = (run / "metrics.json").write_text('{"test": {"ba": 0.8}, "skipped": ["x"]}')
    >>> entry = keep_run(run, Path(tempfile.mkdtemp()) / "cell")
    >>> find_unit(entry, name="metrics.json")
    {'test': {'ba': 0.8}, 'skipped_count': 1}
    """
    import shutil

    from skyclass.runs import finite_json

    run_dir, entry = Path(run_dir), Path(entry)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    entry.mkdir(parents=True, exist_ok=True)
    if (run_dir / "config.yaml").is_file() and entry.resolve() != run_dir.resolve():
        shutil.copyfile(run_dir / "config.yaml", entry / "config.yaml")
    # strict JSON as skyclass.runs.write_metrics writes it: NaN becomes null
    write_json(entry / "metrics.json", finite_json(scores_only(metrics)), indent=2)
    return entry


@dataclass
class _Ledger:
    """Where the units of the running study are kept, and what became of each."""

    out: Path
    record: Path | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def kept(self, folder: Path) -> Path | None:
        """The record's folder for the unit in ``folder`` (None: no record, or not in ``out``)."""
        if self.record is None:
            return None
        try:
            relative = folder.resolve().relative_to(self.out.resolve())
        except ValueError:
            return None
        return self.record / relative

    def summary(self) -> dict[str, Any]:
        """Counts and compute seconds of the units, for ``metrics["run"]["units"]``."""
        return {
            "computed": sum(1 for u in self.log if u["origin"] == "computed"),
            "reused": sum(1 for u in self.log if u["origin"] != "computed"),
            "from_record": sum(1 for u in self.log if u["origin"] == "record"),
            "seconds": round(sum(u["seconds"] for u in self.log if u["seconds"] is not None), 1),
        }


_LEDGER: ContextVar[_Ledger | None] = ContextVar("skyclass_units", default=None)


@contextmanager
def unit_record(
    out: str | PathLike[str], record: str | PathLike[str] | None = None
) -> Iterator[_Ledger]:
    """Within this block, :func:`reuse_result` logs its units and keeps them in ``record``.

    A unit at ``out/<path>`` whose result holds aggregates only is also kept at
    ``record/<path>/result.json`` and found there by a later run that lacks it (on
    another machine, say). The ledger yielded counts the units
    (:meth:`_Ledger.summary`).

    Examples
    --------
    >>> import tempfile
    >>> out, record = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> with unit_record(out, record):
    ...     _ = reuse_result(out / "fold0", "k", lambda: {"mae": 0.3}, aggregates=True)
    >>> with unit_record(Path(tempfile.mkdtemp()), record) as ledger:
    ...     again = reuse_result(ledger.out / "fold0", "k", lambda: {"mae": 9.9}, aggregates=True)
    >>> again["mae"], unit_origin(again), ledger.summary()["from_record"]
    (0.3, 'the unit record', 1)
    """
    ledger = _Ledger(out=Path(out), record=None if record is None else Path(record))
    token = _LEDGER.set(ledger)
    try:
        yield ledger
    finally:
        _LEDGER.reset(token)


def reuse_result(
    folder: Path,
    key: str,
    compute: Callable[[], dict],
    *,
    needs: Iterable[str] = (),
    aggregates: bool = False,
) -> dict[str, Any]:
    """A unit of a long study: ``folder/result.json`` read back when it matches ``key``.

    Otherwise ``compute()`` runs and its result is saved with ``key`` and the seconds it
    took (``unit_seconds``); the saved result is reused only while every file named in
    ``needs`` is in ``folder`` too. A reused result has ``reused: True``. Units are
    (fold, network) in monti2024, (seed, network) in gao2023, one class configuration's
    cross-validation in carraro2025, a seed or a fold in kang2023: a stopped run redoes
    only the unfinished ones.

    ``aggregates=True`` declares that the result holds aggregates only (no object ids,
    per-object predictions or weights): inside :func:`unit_record` with a record,
    such a result is also kept there, and is reused from there (``from_record: True``,
    without the ``needs`` files, which the caller must then do without) when the run
    directory lacks it.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> first = reuse_result(folder, "k1", lambda: {"mae": 0.3})
    >>> first["mae"], first["key"]
    (0.3, 'k1')
    >>> reuse_result(folder, "k1", lambda: {"mae": 9.9})["reused"]
    True
    >>> reuse_result(folder, "k2", lambda: {"mae": 0.4})["mae"]  # other settings: computed
    0.4
    """
    ledger = _LEDGER.get()
    kept = ledger.kept(folder) if (ledger is not None and aggregates) else None
    saved, origin = find_unit(folder, key, needs=needs), "run directory"
    if saved is None and kept is not None:
        saved, origin = find_unit(kept, key), "record"
    if saved is not None:
        if origin == "run directory" and kept is not None:
            _keep(kept, saved, key)  # computed before the record was given
        saved["reused"] = True
        if origin == "record":
            saved["from_record"] = True
        result = saved
    else:
        origin = "computed"
        start = time.perf_counter()
        result = compute()
        result["unit_seconds"] = round(time.perf_counter() - start, 1)
        result["key"] = key
        record_unit(folder, result)
        if kept is not None:
            _keep(kept, result, key)
    if ledger is not None:
        ledger.log.append(
            {"unit": str(folder), "origin": origin, "seconds": result.get("unit_seconds")}
        )
    return result


def reuse_fitted(
    folder: str | PathLike[str],
    key: str,
    fit: Callable[[], Any],
    *,
    load: Callable[[Path], Any],
    about: dict[str, Any] | None = None,
) -> tuple[Any, bool, float]:
    """A fitted model as a unit: saved in ``folder/model`` and loaded back while ``key`` holds.

    ``fit()`` returns an estimator with ``save(path)``; ``load(path)`` reads one back.
    ``folder/done.json`` (written last, atomically, with ``about`` and the seconds the
    fit took) marks the model finished, so a model cut short while saving is fitted
    again. Returns the model, whether it was reused, and its fit seconds as recorded.

    Examples
    --------
    >>> import tempfile
    >>> class Model:
    ...     def __init__(self, w): self.w = w
    ...     def save(self, path): path.mkdir(parents=True); (path / "w").write_text(str(self.w))
    >>> load = lambda path: Model(float((path / "w").read_text()))
    >>> folder = Path(tempfile.mkdtemp()) / "bag0"
    >>> m, reused, _ = reuse_fitted(folder, "k", lambda: Model(0.5), load=load)
    >>> m, reused, _ = reuse_fitted(folder, "k", lambda: Model(9.9), load=load)
    >>> m.w, reused
    (0.5, True)
    """
    folder = Path(folder)
    done = find_unit(folder, key, name="done.json")
    if done is not None:
        return load(folder / "model"), True, float(done.get("seconds", float("nan")))
    start = time.perf_counter()
    model = fit()
    seconds = round(time.perf_counter() - start, 1)  # as saved, so a reused model reads the same
    model.save(folder / "model")
    record_unit(folder, {**(about or {}), "seconds": seconds}, key=key, name="done.json", indent=2)
    return model, False, seconds


def _keep(kept: Path, result: dict, key: str) -> None:
    """Keep a unit's aggregate result in the unit record, unless it is there already."""
    if find_unit(kept, key) is None:
        record_unit(kept, scores_only(result), indent=1)


def unit_origin(result: dict) -> str:
    """Where a result of :func:`reuse_result` came from, for progress lines.

    Examples
    --------
    >>> unit_origin({"reused": True, "from_record": True}), unit_origin({})
    ('the unit record', 'this process')
    """
    if not result.get("reused"):
        return "this process"
    return "the unit record" if result.get("from_record") else "the run directory"
