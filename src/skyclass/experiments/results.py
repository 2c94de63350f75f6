"""``docs/results.md`` from finished run directories: generated, never typed.

Each run directory's ``metrics.json`` gives the command that made it, its
seeds, its duration, the headline held-out metrics and the paper's comparison
tables; :func:`results_markdown` lays them out as Markdown.

Full reproductions take hours, and run directories (with their weights and
predictions) are not kept for ever, so :func:`record_run` copies what the page
needs — ``config.yaml`` and the aggregate ``metrics.json`` (:func:`scores_only`) —
into a record folder that can be committed (``docs/results_runs``), and
:func:`recorded_runs` lists it, oldest section first within each experiment. A
record entry may instead hold ``section.md``: a section generated earlier from
a run directory that is no longer kept, carried over unchanged.

Examples
--------
>>> import json, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "metrics.json").write_text(json.dumps({
...     "run": {"experiment": "demo", "command": "skyclass reproduce demo", "seeds": [0],
...             "seconds": 12.0, "quick": False, "finished": "2026-01-01T00:00:00+00:00"},
...     "test": {"n": 10, "balanced_accuracy": 0.9, "macro_f1": 0.8},
...     "tables": [{"title": "t", "columns": ["a", "b"], "rows": [[1, "x"]], "note": "n"}]}))
>>> "## demo" in results_markdown([d]).splitlines()
True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import Any

from skyclass.study.units import keep_run, scores_only

__all__ = ["record_run", "recorded_runs", "results_markdown", "scores_only"]

_HEADLINE = (
    ("balanced_accuracy", "balanced accuracy"),
    ("macro_f1", "macro F1"),
    ("accuracy", "accuracy"),
    ("mae", "MAE"),
    ("rmse", "RMSE"),
    ("r2", "R²"),
)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3f}"
    return str(value).replace("|", "\\|")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _units_text(units: dict | None) -> str:
    """What a run that reused units of earlier processes cost in all (empty otherwise).

    Examples
    --------
    >>> _units_text({"computed": 1, "reused": 2, "from_record": 2, "seconds": 7560.0})
    '; its 3 units took 2.1 h of compute, 2 of them in earlier processes (unit record)'
    >>> _units_text({"computed": 3, "reused": 0, "from_record": 0, "seconds": 60.0})
    ''
    """
    if not units or not units.get("reused"):
        return ""
    n = units["computed"] + units["reused"]
    where = " (unit record)" if units.get("from_record") == units["reused"] else ""
    return (
        f"; its {n} units took {_duration(float(units['seconds']))} of compute, "
        f"{units['reused']} of them in earlier processes{where}"
    )


def _config_ablation(run_dir: Path) -> str | None:
    """The ablation a run's ``config.yaml`` names (runs written before ``run.ablation``)."""
    path = run_dir / "config.yaml"
    if not path.exists():
        return None
    import yaml

    config = yaml.safe_load(path.read_text()) or {}
    return (config.get("settings") or {}).get("ablation")


def _entry_name(metrics: dict, run_dir: Path) -> str:
    run = metrics.get("run") or {}
    parts = [run.get("experiment") or run_dir.name]
    ablation = run.get("ablation", _config_ablation(run_dir))
    if ablation:
        parts.append(str(ablation))
    if run.get("quick"):
        parts.append("quick")
    finished = re.sub(r"[^0-9T]", "", str(run.get("finished") or ""))[:15]
    parts.append(finished or "undated")
    return "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", p) for p in parts)


def record_run(run_dir: str | PathLike[str], record: str | PathLike[str]) -> Path:
    """Keep a finished run's ``config.yaml`` and :func:`scores_only` metrics in ``record``.

    The entry is named ``<experiment>[-<ablation>][-quick]-<finished>``; recording the
    same run again overwrites its entry. Returns the entry's folder.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (run / "metrics.json").write_text(json.dumps({"run": {"experiment": "demo",
    ...     "finished": "2026-01-01T00:00:00+00:00"}, "skipped": ["x"]}))
    >>> entry = record_run(run, pathlib.Path(tempfile.mkdtemp()) / "record")
    >>> entry.name, json.loads((entry / "metrics.json").read_text())["skipped_count"]
    ('demo-20260101T000000', 1)
    """
    run_dir = Path(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return keep_run(run_dir, Path(record) / _entry_name(metrics, run_dir))


def recorded_runs(record: str | PathLike[str]) -> list[Path]:
    """The entries of a record folder (``metrics.json`` or ``section.md``), sorted by name."""
    record = Path(record)
    if not record.is_dir():
        return []
    return sorted(
        d
        for d in record.iterdir()
        if d.is_dir() and ((d / "metrics.json").is_file() or (d / "section.md").is_file())
    )


def results_markdown(
    run_dirs: Iterable[str | PathLike[str]],
    *,
    title: str = "Results",
    record: str | PathLike[str] | None = None,
) -> str:
    """Markdown of the runs in ``run_dirs`` (each holding ``metrics.json`` or ``section.md``).

    ``record`` names the record folder the runs were read from, for the page's preamble.
    """
    source = "each run directory's `metrics.json`"
    if record is not None:
        source = (
            f"the record `{Path(record).as_posix()}` (each run's `metrics.json`, or the "
            "`section.md` generated from it before the record existed)"
        )
    lines = [
        f"# {title}",
        "",
        f"Generated by `skyclass results` from {source}: every number below was printed by "
        "the command shown in its section, with its seeds.",
        "",
    ]
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        if not (run_dir / "metrics.json").is_file() and (run_dir / "section.md").is_file():
            lines += [(run_dir / "section.md").read_text().strip(), ""]
            continue
        metrics = json.loads((run_dir / "metrics.json").read_text())
        run = metrics.get("run", {})
        ablation = run.get("ablation", _config_ablation(run_dir))
        ablation = f" — ablation {ablation}" if ablation else ""
        lines += [f"## {run.get('experiment', run_dir.name)}{ablation}", ""]
        if run:
            quick = " — quick version" if run.get("quick") else ""
            finished = f" (finished {run['finished']})" if run.get("finished") else ""
            lines += [
                f"Command: `{run.get('command', '')}` — seeds {run.get('seeds')}, "
                f"{_duration(float(run.get('seconds', 0)))} on this machine{finished}{quick}"
                f"{_units_text(run.get('units'))}.",
                "",
            ]
            if run.get("versions"):
                lines += [
                    "Versions in the run's own process: "
                    + ", ".join(f"{name} {v}" for name, v in run["versions"].items())
                    + ".",
                    "",
                ]
        test = metrics.get("test") or {}
        shown = [(label, test[key]) for key, label in _HEADLINE if key in test]
        if shown:
            lines += [
                f"Headline held-out metrics ({test.get('n', '?')} objects): "
                + ", ".join(f"{label} {_cell(float(v))}" for label, v in shown)
                + ".",
                "",
            ]
        for table in metrics.get("tables", []):
            lines += [f"**{table['title']}**", ""]
            lines.append("| " + " | ".join(_cell(c) for c in table["columns"]) + " |")
            lines.append("|" + "---|" * len(table["columns"]))
            for row in table["rows"]:
                lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
            lines.append("")
            if table.get("note"):
                lines += [table["note"], ""]
    return "\n".join(lines).rstrip() + "\n"
