"""``docs/results.md`` from finished run directories: generated, never typed.

Each run directory's ``metrics.json`` gives the command that made it, its
seeds, its duration, the headline held-out metrics and the paper's comparison
tables; :func:`results_markdown` lays them out as Markdown.

Examples
--------
>>> import json, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "metrics.json").write_text(json.dumps({
...     "run": {"experiment": "demo", "command": "skyclass reproduce demo", "seeds": [0],
...             "seconds": 12.0, "quick": False, "finished": "2026-01-01T00:00:00+00:00"},
...     "test": {"n": 10, "balanced_accuracy": 0.9, "macro_f1": 0.8},
...     "tables": [{"title": "t", "columns": ["a", "b"], "rows": [[1, "x"]], "note": "n"}]}))
>>> print(results_markdown([d]).splitlines()[2])
## demo
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import Any

__all__ = ["results_markdown"]

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


def results_markdown(run_dirs: Iterable[str | PathLike[str]], *, title: str = "Results") -> str:
    """Markdown of the runs in ``run_dirs`` (each holding a ``metrics.json``)."""
    lines = [f"# {title}", ""]
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        run = metrics.get("run", {})
        lines += [f"## {run.get('experiment', run_dir.name)}", ""]
        if run:
            quick = " — quick version" if run.get("quick") else ""
            lines += [
                f"Command: `{run.get('command', '')}` — seeds {run.get('seeds')}, "
                f"{_duration(float(run.get('seconds', 0)))} on this machine "
                f"(finished {run.get('finished', '?')}){quick}.",
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
