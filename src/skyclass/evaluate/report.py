"""Figures and reports. The only skyclass module that imports matplotlib.

Matplotlib is imported inside the functions, with the non-interactive Agg
back end, so importing skyclass never needs a display.

:func:`write_report` turns a run directory into one self-contained
``report.html``: every figure is a PNG in ``run_dir/plots/`` and is also
embedded in the page as a ``data:`` URI; the CSS is inline; the page loads
nothing from a network. Each number the page shows from ``metrics.json`` sits
in an element whose ``data-metric`` attribute is its dotted path in that file
(``test.balanced_accuracy``, ``cv.folds.0.macro_f1``), printed as
``f"{v:.4f}"`` (integers as they are; ``data-format="int"`` marks a float
count printed as an integer), so a test can check the page against the file.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from skyclass.exceptions import DataError

__all__ = ["compare_stamp_images", "preview_representation", "write_report"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _draw(ax, key: str, array: np.ndarray, mask: np.ndarray | None) -> None:
    """Draw one object's array the way a person reads it."""
    if array.ndim == 3:  # (channels, h, w): images and dm-dt maps, first channel
        ax.imshow(
            array[0],
            origin="lower" if key == "dmdt" else "upper",
            aspect="auto",
            cmap="viridis",
            interpolation="nearest",
        )
    elif array.ndim == 2 and key in {"grid"}:  # (bands, n) curves over phase
        phase = (np.arange(array.shape[1]) + 0.5) / array.shape[1]
        for row, values in enumerate(array):
            keep = mask[row] > 0 if mask is not None else np.ones(values.size, bool)
            ax.plot(phase[keep], values[keep], ".", ms=1.5)
        ax.invert_yaxis()
    elif array.ndim == 2:  # (length, channels) sequences: channel 1 against position
        keep = mask > 0 if mask is not None else np.ones(array.shape[0], bool)
        x = np.arange(array.shape[0])[keep]
        ax.plot(x, array[keep, 1] if array.shape[1] > 1 else array[keep, 0], ".", ms=1.5)
        ax.invert_yaxis()
    else:  # (n_features,)
        ax.bar(np.arange(array.size), array)
    ax.set_xticks([])
    ax.set_yticks([])


def preview_representation(
    arrays: dict[str, Any],
    *,
    key: str,
    labels: Sequence[Any],
    ids: Sequence[str],
    path: str | PathLike[str],
    per_class: int = 4,
    mask_key: str | None = None,
    seed: int = 0,
) -> Path:
    """Save a PNG grid of a few examples per class of one representation.

    Parameters
    ----------
    arrays : dict
        Output of a representation's ``transform_many`` (with ``valid``).
    key : str
        Which array to draw (``image``, ``dmdt``, ``grid``, ``seq``, ``features``).
    labels, ids : sequence
        Per object, for the row titles.
    path : path-like
        The PNG to write.
    per_class : int
        Examples drawn per class (chosen at random among valid objects, seeded).
    mask_key : str, optional
        The mask array that goes with ``key`` (``grid_mask``, ``mask``).

    Examples
    --------
    >>> import tempfile, os
    >>> images = np.random.default_rng(0).random((4, 1, 8, 8))
    >>> arrays = {"image": images, "valid": np.ones(4, bool)}
    >>> png = os.path.join(tempfile.mkdtemp(), "p.png")
    >>> out = preview_representation(arrays, key="image", labels=["a", "a", "b", "b"],
    ...                              ids=list("wxyz"), path=png)
    >>> out.suffix
    '.png'
    """
    plt = _pyplot()
    labels = np.asarray([str(x) for x in labels], dtype=object)
    valid = np.asarray(arrays.get("valid", np.ones(len(labels), bool)), dtype=bool)
    classes = sorted(set(labels[valid])) or ["(none)"]
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(classes), per_class, figsize=(2.0 * per_class, 1.9 * len(classes)), squeeze=False
    )
    for row, cls in enumerate(classes):
        members = np.flatnonzero(valid & (labels == cls))
        chosen = rng.choice(members, min(per_class, members.size), replace=False)
        for col in range(per_class):
            ax = axes[row, col]
            if col >= chosen.size:
                ax.axis("off")
                continue
            i = int(chosen[col])
            mask = arrays[mask_key][i] if mask_key and mask_key in arrays else None
            _draw(ax, key, np.asarray(arrays[key][i]), mask)
            ax.set_title(f"{cls}: {ids[i]}", fontsize=7)
    fig.suptitle(f"{key}: {per_class} examples per class", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# ====================================================================== run report
_CSS = """
:root { --ink: #1f2430; --muted: #5b6475; --line: #dde1e8; --bg: #ffffff; --soft: #f5f7fa;
        --accent: #2f5d9e; --good: #1d7a46; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--soft); color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1020px; margin: 0 auto; padding: 28px 32px 60px; background: var(--bg); }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 34px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 1.0em; margin: 20px 0 6px; color: var(--muted); }
p.lede { color: var(--muted); margin: 0 0 16px; }
nav.toc { background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
          padding: 8px 16px; margin: 16px 0; font-size: 0.93em; }
nav.toc ol { margin: 4px 0; padding-left: 20px; columns: 2; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 0.92em; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) td { background: #fafbfc; }
tr.summary td { border-top: 2px solid var(--line); font-weight: 600; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; }
figure { margin: 12px 0 18px; } figure img { max-width: 100%; height: auto; display: block; }
figcaption, .caption { color: var(--muted); font-size: 0.88em; margin-top: 4px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
      padding: 10px 12px; overflow-x: auto; font-size: 0.85em; }
.na { color: var(--muted); } .good { color: var(--good); } .bad { color: var(--bad); }
"""

_CLASSIFICATION_HEADLINE = (
    ("accuracy", "Accuracy", None),
    ("balanced_accuracy", "Balanced accuracy", "balanced_accuracy"),
    ("macro_f1", "Macro F1", "macro_f1"),
    ("weighted_f1", "Weighted F1", None),
    ("macro_auc", "Macro AUC (one-vs-rest)", None),
    ("ece", "Expected calibration error", None),
    ("unknown_rate", "Share flagged unknown", None),
    ("n", "Test objects", None),
    ("n_not_represented", "Test objects without a prediction", None),
)
_REGRESSION_HEADLINE = (
    ("mae", "MAE", "mae"),
    ("rmse", "RMSE", None),
    ("wmae", "Weighted MAE", None),
    ("wrmse", "Weighted RMSE", None),
    ("r2", "R²", None),
    ("bias", "Mean residual (bias)", None),
    ("n", "Test objects", None),
    ("n_not_represented", "Test objects without a prediction", None),
)
_MISSING = object()


def compare_stamp_images(
    sets: Mapping[str, Any],
    *,
    path: str | PathLike[str],
    per_class: int = 5,
    seed: int = 0,
) -> Path:
    """Save a PNG of RGB stamps side by side: one row per (set, class), a few stamps each.

    Parameters
    ----------
    sets : mapping of str to Cutouts
        Named stamp sets with ``rgb`` and ``labels`` (e.g. real SDSS cutouts and
        simulated ones, :mod:`skyclass.images.stamp_stats` for their numbers).
    path : path-like
        The PNG to write.
    per_class : int
        Stamps per row (chosen at random, seeded).

    Examples
    --------
    >>> import os, tempfile
    >>> from skyclass.images.simulate import simulate_stamps
    >>> sim = simulate_stamps(4, classes=("star", "galaxy"), size=24, seed=0)
    >>> png = os.path.join(tempfile.mkdtemp(), "stamps.png")
    >>> compare_stamp_images({"simulated": sim}, path=png, per_class=2).name
    'stamps.png'
    """
    plt = _pyplot()
    rng = np.random.default_rng(seed)
    rows = []
    for name, cut in sets.items():
        labels = np.array([str(x) for x in cut.labels])
        for cls in sorted(set(labels)):
            members = np.flatnonzero(labels == cls)
            chosen = rng.choice(members, min(per_class, members.size), replace=False)
            rows.append((name, cls, cut, chosen))
    fig, axes = plt.subplots(
        len(rows), per_class, figsize=(1.5 * per_class, 1.6 * len(rows)), squeeze=False
    )
    for row, (name, cls, cut, chosen) in enumerate(rows):
        for col in range(per_class):
            ax = axes[row, col]
            ax.axis("off")
            if col < chosen.size:
                ax.imshow(np.asarray(cut.rgb[int(chosen[col])]), origin="lower")
                if col == 0:
                    ax.set_title(f"{name}: {cls}", fontsize=7, loc="left")
    fig.suptitle("gri stamps as Lupton RGB (R = i, G = r, B = g)", fontsize=9)
    fig.tight_layout()
    return _save(plt, fig, Path(path))


def _lookup(tree: Any, path: str) -> Any:
    """The value at a dotted path (list positions as integers); ``_MISSING`` if absent.

    A mapping key that itself holds dots (a class named ``"RR.ab"``) is matched
    whole, longest key first.
    """
    node, parts, i = tree, path.split("."), 0
    while i < len(parts):
        if isinstance(node, Mapping):
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in node:
                    node, i = node[key], j
                    break
            else:
                return _MISSING
        elif isinstance(node, list) and parts[i].isdigit() and int(parts[i]) < len(node):
            node, i = node[int(parts[i])], i + 1
        else:
            return _MISSING
    return node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _fmt(value: Any, as_int: bool = False) -> str:
    if as_int and isinstance(value, float) and np.isfinite(value):
        return f"{round(value)}"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return f"{float(value):.4f}"


class _Page:
    """Builds the HTML pieces; every metric shown is tagged with its path in metrics.json."""

    def __init__(self, metrics: Mapping[str, Any]):
        self.metrics = metrics

    def get(self, path: str, default: Any = None) -> Any:
        value = _lookup(self.metrics, path)
        return default if value is _MISSING else value

    def num(self, path: str, *, as_int: bool = False, tag: str = "span") -> str:
        """``<span data-metric=path>value</span>``; empty when the path holds no number."""
        value = _lookup(self.metrics, path)
        if not _is_number(value):
            return ""
        finite = bool(np.isfinite(float(value)))
        extra = ' data-format="int"' if as_int and finite and isinstance(value, float) else ""
        cls = "" if finite else ' class="na"'
        text = _fmt(value, as_int)
        return f'<{tag} data-metric="{html.escape(path)}"{extra}{cls}>{text}</{tag}>'

    def cell(self, path: str, *, as_int: bool = False) -> str:
        value = _lookup(self.metrics, path)
        if _is_number(value):
            return f'<td class="num">{self.num(path, as_int=as_int)}</td>'
        if value is _MISSING or value is None:
            return '<td class="na">–</td>'
        return f"<td>{html.escape(str(value))}</td>"


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[str], *, numeric_from: int = 1) -> str:
    head = "".join(
        f'<th class="num">{_esc(h)}</th>' if i >= numeric_from else f"<th>{_esc(h)}</th>"
        for i, h in enumerate(header)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(path: Path, caption: str, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _save(plt, fig, path: Path) -> Path:
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def _read_parquet(path: Path):
    if not path.is_file():
        return None
    import pandas as pd

    return pd.read_parquet(path)


def _infer_task(metrics: Mapping[str, Any], config: Mapping[str, Any], predictions) -> str | None:
    task = metrics.get("task")
    if task in ("classification", "regression"):
        return task
    test = metrics.get("test") or {}
    if "balanced_accuracy" in test or "confusion_matrix" in test:
        return "classification"
    if "mae" in test or "rmse" in test:
        return "regression"
    if predictions is not None and any(str(c).startswith("prob_") for c in predictions.columns):
        return "classification"
    return config.get("task") if config.get("task") in ("classification", "regression") else None


# ------------------------------------------------------------------- figures
def _plot_confusion(plt, counts: np.ndarray, names: list[str], path: Path) -> Path:
    from skyclass.evaluate.metrics import normalize_confusion

    k = len(names)
    views = [
        ("counts", counts.astype(float), "{:.0f}"),
        ("recall view (rows sum to 1)", normalize_confusion(counts, "true"), "{:.2f}"),
        ("precision view (columns sum to 1)", normalize_confusion(counts, "pred"), "{:.2f}"),
    ]
    size = max(3.2, 0.42 * k + 1.6)
    fig, axes = plt.subplots(1, 3, figsize=(3 * size, size))
    fontsize = 8 if k <= 8 else 6 if k <= 15 else 0
    for ax, (title, matrix, form) in zip(axes, views, strict=True):
        finite = matrix[np.isfinite(matrix)]
        top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        ax.imshow(np.ma.masked_invalid(matrix), cmap="Blues", vmin=0, vmax=top)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(k), names, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(k), names, fontsize=7)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        if fontsize:
            for (i, j), v in np.ndenumerate(matrix):
                text = form.format(v) if np.isfinite(v) else "–"
                colour = "white" if np.isfinite(v) and v > 0.6 * top else "#1f2430"
                ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=colour)
    fig.tight_layout()
    return _save(plt, fig, path)


def _plot_roc(plt, curves: list[dict], names: list[str], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.plot([0, 1], [0, 1], ls=":", color="0.6", lw=1)
    for name, curve in zip(names, curves, strict=True):
        if np.isfinite(curve["auc"]):
            ax.plot(curve["fpr"], curve["tpr"], lw=1.4, label=f"{name} ({curve['auc']:.3f})")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(fontsize=7, title="class (AUC)", title_fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(plt, fig, path)


def _plot_history(plt, records: list[dict], monitor: str | None, best: Any, path: Path) -> Path:
    keys = sorted({k for r in records for k, v in r.items() if _is_number(v)} - {"epoch"})
    losses = [k for k in keys if k.endswith("loss")]
    scores = [k for k in keys if k not in losses and k != "lr"]
    rates = {r["lr"] for r in records if _is_number(r.get("lr"))}
    panels = [p for p in (losses, scores, ["lr"] if len(rates) > 1 else []) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    epochs = np.array([r.get("epoch", i + 1) for i, r in enumerate(records)], dtype=float)
    for ax, panel in zip(axes[0], panels, strict=True):
        for key in panel:
            values = np.array([r.get(key, np.nan) for r in records], dtype=float)
            style = {"lw": 2.0} if key == monitor else {"lw": 1.2}
            ax.plot(epochs, values, marker=".", ms=3, label=key, **style)
        if _is_number(best):
            ax.axvline(float(best), color="0.5", ls="--", lw=1)
        if panel == ["lr"]:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7, loc="upper right" if panel is losses else "lower right")
    fig.tight_layout()
    return _save(plt, fig, path)


def _plot_reliability(plt, curves: list[tuple[str, Mapping[str, Any]]], path: Path) -> Path:
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(4.8, 5.0), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], ls=":", color="0.6", lw=1, label="perfect calibration")
    n_curves = len(curves)
    for i, (label, curve) in enumerate(curves):
        conf = np.asarray(curve["confidence"], dtype=float)
        acc = np.asarray(curve["accuracy"], dtype=float)
        count = np.asarray(curve["count"], dtype=float)
        edges = np.asarray(curve["edges"], dtype=float)
        used = count > 0
        top.plot(conf[used], acc[used], marker="o", ms=4, lw=1.4, label=label)
        width = np.diff(edges) / n_curves
        bottom.bar(edges[:-1] + i * width, count, width=width, align="edge", label=label, alpha=0.8)
    top.set_ylabel("accuracy")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1.01)
    top.legend(fontsize=7, loc="upper left")
    bottom.set_xlabel("confidence of the predicted class")
    bottom.set_ylabel("objects")
    fig.tight_layout()
    return _save(plt, fig, path)


def _attribution_strip(ax, phase: np.ndarray, weight: np.ndarray) -> None:
    bins = int(min(50, max(5, phase.size // 2)))
    index = np.clip((phase % 1.0 * bins).astype(int), 0, bins - 1)
    total = np.bincount(index, weights=np.abs(weight), minlength=bins)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        strip = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    ax.imshow(strip[None, :], aspect="auto", cmap="magma_r", extent=(0, 1, 0, 1), vmin=0)
    ax.set_yticks([])
    ax.set_xlabel("phase", fontsize=7)
    ax.tick_params(labelsize=6)


def _plot_examples(plt, rows: list[Mapping[str, Any]], title: str, path: Path) -> Path:
    has_strip = any(np.ndim(r.get("attribution")) == 1 for r in rows)
    n = len(rows)
    fig, axes = plt.subplots(
        2 if has_strip else 1,
        n,
        figsize=(2.5 * n, 2.9 if has_strip else 2.5),
        squeeze=False,
        gridspec_kw={"height_ratios": [6, 1]} if has_strip else None,
    )
    for col, row in enumerate(rows):
        ax = axes[0, col]
        phase = np.asarray(row["phase"], dtype=float)
        mag = np.asarray(row["mag"], dtype=float)
        band = row.get("band")
        bands = np.asarray(band, dtype=str) if band is not None else np.full(phase.size, "")
        for b in sorted(set(bands.tolist())):
            keep = bands == b
            ax.plot(phase[keep], mag[keep], ".", ms=2.5, label=b or None)
        if len(set(bands.tolist())) > 1:
            ax.legend(fontsize=6, markerscale=2, loc="upper right")
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=6)
        ok = row.get("correct")
        colour = "#1f2430" if ok is None else "#1d7a46" if bool(ok) else "#b3261e"
        ax.set_title(
            f"{row['object_id']}\ntrue {row['label']} → {row['predicted']}",
            fontsize=7,
            color=colour,
        )
        if has_strip:
            weight = row.get("attribution")
            strip_ax = axes[1, col]
            if np.ndim(weight) == 1 and len(weight) == phase.size:
                _attribution_strip(strip_ax, phase, np.asarray(weight, dtype=float))
            else:
                strip_ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(plt, fig, path)


def _plot_regression(plt, y: np.ndarray, pred: np.ndarray, table: Mapping | None, path: Path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 4.2))
    lo = float(min(y.min(), pred.min()))
    hi = float(max(y.max(), pred.max()))
    pad = 0.03 * (hi - lo or 1.0)
    alpha = 0.6 if y.size < 2000 else 0.2
    left.scatter(y, pred, s=6, alpha=alpha, lw=0)
    left.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#b3261e", lw=1, label="1:1")
    left.set_xlim(lo - pad, hi + pad)
    left.set_ylim(lo - pad, hi + pad)
    left.set_aspect("equal")
    left.set_xlabel("true")
    left.set_ylabel("predicted")
    left.legend(fontsize=7, loc="upper left")
    right.scatter(y, pred - y, s=6, alpha=alpha, lw=0, color="0.45")
    right.axhline(0, color="#b3261e", lw=1)
    if table:
        center = np.asarray(table["center"], dtype=float)
        median = np.asarray(table["median"], dtype=float)
        scatter = np.asarray(table["scatter"], dtype=float)
        right.errorbar(center, median, yerr=scatter, fmt="o-", ms=4, lw=1.4, capsize=3,
                       label="binned median ± robust scatter")  # fmt: skip
        right.legend(fontsize=7, loc="upper left")
    right.set_xlabel("true")
    right.set_ylabel("predicted − true")
    fig.tight_layout()
    return _save(plt, fig, path)


# ------------------------------------------------------------------ sections
_Section = tuple[str, str, str]  # anchor, title, html


def _kv_rows(page: _Page, root: str, data: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Scalar entries as <dt>/<dd> pairs; numeric mappings inline (few keys) or as a table."""
    pairs, tables = [], []
    for key, value in data.items():
        path = f"{root}.{key}"
        if isinstance(value, Mapping):
            if not value or not all(_is_number(v) for v in value.values()):
                continue
            if len(value) > 6 or key == "classes":
                rows = [f"<tr><td>{_esc(k)}</td>{page.cell(f'{path}.{k}')}</tr>" for k in value]
                tables.append(f"<h3>{_esc(key)}</h3>" + _table([str(key), "objects"], rows))
                continue
            shown = " · ".join(f"{_esc(k)} {page.num(f'{path}.{k}')}" for k in value)
        elif value is None:
            continue
        elif _is_number(value):
            shown = page.num(path)
        elif (
            isinstance(value, list)
            and len(value) <= 30
            and not any(isinstance(v, Mapping | list) for v in value)
        ):
            shown = _esc(", ".join(str(v) for v in value))
        elif isinstance(value, str | bool):
            shown = _esc(value)
        else:
            continue
        pairs.append(f"<dt>{_esc(key)}</dt><dd>{shown}</dd>")
    return pairs, tables


def _data_section(page: _Page) -> _Section | None:
    parts = []
    for root, title in (("data", "Data set"), ("fit", "Training")):
        block = page.get(root)
        if not isinstance(block, Mapping):
            continue
        block = {k: v for k, v in block.items() if k != "skipped"}
        pairs, tables = _kv_rows(page, root, block)
        if pairs or tables:
            parts.append(f"<h3>{title}</h3>")
            parts.append(f'<dl class="kv">{"".join(pairs)}</dl>' if pairs else "")
            parts.extend(tables)
    return ("data", "Data", "".join(parts)) if parts else None


def _headline_section(page: _Page, task: str | None) -> _Section | None:
    test = page.get("test")
    if not isinstance(test, Mapping):
        return None
    spec = _REGRESSION_HEADLINE if task == "regression" else _CLASSIFICATION_HEADLINE
    rows = []
    for key, label, ci_key in spec:
        if not _is_number(test.get(key)):
            continue
        ci = ""
        if ci_key and _is_number(page.get(f"test.ci.{ci_key}.low")):
            low, high = page.num(f"test.ci.{ci_key}.low"), page.num(f"test.ci.{ci_key}.high")
            ci = f"[{low}, {high}]"
        rows.append(
            f'<tr><td>{_esc(label)}</td>{page.cell(f"test.{key}")}<td class="num">{ci}</td></tr>'
        )
    if not rows:
        return None
    caption = ""
    if _is_number(page.get("test.ci.level")):
        caption = (
            f'<p class="caption">Interval: percentile bootstrap over test objects, level '
            f"{page.num('test.ci.level')}, {page.num('test.ci.n_boot')} resamples, "
            f"seed {page.num('test.ci.seed')}.</p>"
        )
    if task == "regression" and test.get("weights") in ("none", "given", "density"):
        meaning = {
            "none": "equal weights (the weighted metrics equal the plain ones)",
            "given": "weights given per object",
            "density": "inverse density of the true values",
        }[test["weights"]]
        caption += f'<p class="caption">Weighted metrics use {meaning}.</p>'
    return "metrics", "Headline metrics", _table(["metric", "value", "CI"], rows) + caption


def _per_class_section(page: _Page) -> _Section | None:
    per_class = page.get("test.per_class")
    if not isinstance(per_class, Mapping) or not per_class:
        return None
    aucs = page.get("test.auc_per_class") or {}
    rows = []
    for name in per_class:
        p = f"test.per_class.{name}"
        cells = [page.cell(f"{p}.{k}") for k in ("precision", "recall", "f1")]
        cells.append(page.cell(f"{p}.support", as_int=True))
        cells.append(page.cell(f"test.auc_per_class.{name}") if name in aucs else "<td></td>")
        rows.append(f"<tr><td>{_esc(name)}</td>{''.join(cells)}</tr>")
    header = ["class", "precision", "recall", "F1", "support", "AUC"]
    return "per-class", "Per-class scores", _table(header, rows)


def _class_names(page: _Page, predictions) -> list[str]:
    names = page.get("test.class_names")
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    per_class = page.get("test.per_class")
    if isinstance(per_class, Mapping) and per_class:
        return [str(n) for n in per_class]
    if predictions is not None:
        return [str(c)[5:] for c in predictions.columns if str(c).startswith("prob_")]
    return []


def _proba_and_labels(predictions, names: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    columns = [f"prob_{n}" for n in names]
    if predictions is None or not names or not set(columns) <= set(predictions.columns):
        return None
    if "label" not in predictions.columns:
        return None
    proba = predictions[columns].to_numpy(dtype=float)
    index = {n: i for i, n in enumerate(names)}
    y = np.array([index.get(str(v), -1) for v in predictions["label"]], dtype=np.int64)
    keep = (y >= 0) & np.isfinite(proba).all(axis=1)
    if not keep.any():
        return None
    return proba[keep], y[keep]


def _confusion_section(page: _Page, plt, names: list[str], plots: Path) -> _Section | None:
    counts = page.get("test.confusion_matrix")
    if not isinstance(counts, list) or not counts:
        return None
    counts = np.asarray(counts, dtype=np.int64)
    if counts.shape != (len(names), len(names)):
        names = [str(i) for i in range(counts.shape[0])]
    png = _plot_confusion(plt, counts, names, plots / "confusion_matrix.png")
    caption = (
        "Confusion matrices of the test objects, true class by row. Left: counts. Middle: each "
        "row divided by its total, so the diagonal is each class's recall. Right: each column "
        "divided by its total, so the diagonal is the precision. Empty rows/columns: –."
    )
    return "confusion", "Confusion matrices", _figure(png, caption, "confusion matrices")


def _roc_section(page: _Page, plt, names, predictions, plots: Path) -> _Section | None:
    from skyclass.evaluate.metrics import roc_curve_ovr

    found = _proba_and_labels(predictions, names)
    if found is None:
        return None
    proba, y = found
    png = _plot_roc(plt, roc_curve_ovr(y, proba), names, plots / "roc.png")
    macro = page.num("test.macro_auc")
    caption = "One-vs-rest ROC curves from predictions.parquet (classes absent from the test set "
    caption += "are not drawn)." + (f" Macro AUC {macro}." if macro else "")
    return "roc", "ROC curves", _figure(png, caption, "ROC curves")


def _history_section(page: _Page, plt, plots: Path) -> _Section | None:
    records = page.get("history.records")
    if not isinstance(records, list) or not records:
        return None
    monitor = page.get("history.monitor")
    best = page.get("history.best_epoch")
    png = _plot_history(plt, records, monitor, best, plots / "learning_curves.png")
    caption = "Losses, validation scores and (when it changes) the learning rate per epoch"
    if monitor:
        caption += f"; the monitored quantity is <code>{_esc(monitor)}</code> (thick line)"
    if _is_number(best):
        caption += f", best at epoch {page.num('history.best_epoch')} (dashed line)"
    if _is_number(page.get("history.best_value")):
        caption += f" with value {page.num('history.best_value')}"
    return "learning", "Learning curves", _figure(png, caption + ".", "learning curves")


def _calibration_section(page: _Page, plt, names, predictions, plots: Path) -> _Section | None:
    from skyclass.evaluate.calibration import reliability_curve

    curves, caption = [], ""
    cal = page.get("calibration")
    if isinstance(cal, Mapping):
        for stage in ("before", "after"):
            curve = page.get(f"calibration.{stage}.reliability")
            if isinstance(curve, Mapping) and {"confidence", "accuracy", "count"} <= set(curve):
                curves.append((f"{stage} calibration", curve))
        bits = [
            f"ECE {stage} {page.num(f'calibration.{stage}.ece')}"
            for stage in ("before", "after")
            if page.num(f"calibration.{stage}.ece")
        ]
        for path in ("calibration.temperature", "calibration.parameters.temperature"):
            if page.num(path):
                bits.append(f"temperature T = {page.num(path)}")
        method = cal.get("method") or ("temperature" if "temperature" in cal else "")
        fitted = f"Calibration ({_esc(method)})" if method else "Calibration"
        caption = f"{fitted} fitted on validation objects. " + ", ".join(bits) + "."
    if not curves:
        found = _proba_and_labels(predictions, names)
        if found is None:
            return None
        curves.append(("test objects", reliability_curve(*found, n_bins=15)))
        ece = page.num("test.ece")
        caption = "From predictions.parquet, 15 equal-width bins." + (f" ECE {ece}." if ece else "")
    png = _plot_reliability(plt, curves, plots / "reliability.png")
    caption = (
        "Reliability diagram: accuracy against mean confidence of the predicted class per "
        "confidence bin (top) and objects per bin (bottom). " + caption
    )
    return "calibration", "Calibration", _figure(png, caption, "reliability diagram")


def _examples_section(
    plt, examples, max_examples: int, plots: Path, order: Sequence[str], task: str | None
) -> _Section | None:
    needed = {"object_id", "label", "predicted", "phase", "mag"}
    if examples is None or not needed <= set(examples.columns) or examples.empty:
        return None
    records = examples.to_dict("records")
    if task == "regression":
        for r in records:
            r["correct"] = None
            r["label"], r["predicted"] = (
                f"{v:.3g}" if _is_number(v) else v for v in (r["label"], r["predicted"])
            )
        shown = records[: 2 * max_examples]
        png = _plot_examples(plt, shown, "examples", plots / "examples.png")
        caption = f"{len(shown)} folded curves, magnitude against phase, with true → predicted."
        return "examples", "Examples", _figure(png, caption, "example folded curves")
    for r in records:
        if r.get("correct") is None:
            r["correct"] = str(r["label"]) == str(r["predicted"])
    labels = {str(r["label"]) for r in records}
    ordered = [n for n in order if n in labels] + sorted(labels - set(order))
    parts = []
    for i, label in enumerate(ordered):
        mine = [r for r in records if str(r["label"]) == label]
        right = [r for r in mine if bool(r["correct"])][:max_examples]
        wrong = [r for r in mine if not bool(r["correct"])][:max_examples]
        png = _plot_examples(plt, right + wrong, f"true class {label}", plots / f"ex_{i}.png")
        caption = (
            f"Class <b>{_esc(label)}</b>: {len(right)} correctly classified (green) and "
            f"{len(wrong)} misclassified (red) folded curves, magnitude against phase."
        )
        parts.append(_figure(png, caption, f"examples of class {label}"))
    intro = ""
    if "attribution" in examples.columns:
        intro = (
            '<p class="caption">The strip under each curve shades the mean |attribution| per '
            "phase bin: darker phases drove the decision more.</p>"
        )
    return "examples", "Examples", intro + "".join(parts)


def _regression_section(page: _Page, plt, predictions, plots: Path) -> _Section | None:
    table = page.get("test.residuals_vs_target")
    table = table if isinstance(table, Mapping) and "center" in table else None
    parts = []
    if predictions is not None and {"predicted", "label"} <= set(predictions.columns):
        import pandas as pd

        y = pd.to_numeric(predictions["label"], errors="coerce").to_numpy(dtype=float)
        pred = pd.to_numeric(predictions["predicted"], errors="coerce").to_numpy(dtype=float)
        keep = np.isfinite(y) & np.isfinite(pred)
        if keep.any():
            png = _plot_regression(plt, y[keep], pred[keep], table, plots / "regression.png")
            caption = (
                "Left: predicted against true value with the 1:1 line. Right: residual "
                "(predicted − true) against the true value"
                + (", with the median and robust scatter (1.4826 × MAD) per bin." if table else ".")
            )
            parts.append(_figure(png, caption, "predicted against true, and residuals"))
    if table:
        rows = []
        for b in range(len(table["center"])):
            p = "test.residuals_vs_target"
            lo, hi = page.num(f"{p}.edges.{b}"), page.num(f"{p}.edges.{b + 1}")
            cells = "".join(page.cell(f"{p}.{k}.{b}") for k in ("count", "median", "scatter"))
            rows.append(f"<tr><td>[{lo}, {hi}]</td>{cells}</tr>")
        parts.append("<h3>Residuals by true value</h3>")
        parts.append(_table(["true value bin", "objects", "median residual", "scatter"], rows))
    if not parts:
        return None
    return "regression", "Predictions and residuals", "".join(parts)


def _cv_section(page: _Page) -> _Section | None:
    folds = page.get("cv.folds")
    mean = page.get("cv.mean")
    if not isinstance(mean, Mapping) or not mean:
        return None
    folds = folds if isinstance(folds, list) else []
    keys = list(mean)
    rows = [
        f"<tr><td>{i}</td>{''.join(page.cell(f'cv.folds.{i}.{k}') for k in keys)}</tr>"
        for i in range(len(folds))
    ]
    mean_cells = "".join(page.cell(f"cv.mean.{k}") for k in keys)
    rows.append(f'<tr class="summary"><td>mean</td>{mean_cells}</tr>')
    rows.append(f"<tr><td>std</td>{''.join(page.cell(f'cv.std.{k}') for k in keys)}</tr>")
    note = '<p class="caption">Standard deviation over folds (ddof = 1).</p>'
    return "cv", "Cross-validation", _table(["fold", *keys], rows) + note


def _tables_section(page: _Page) -> _Section | None:
    tables = page.get("tables")
    if not isinstance(tables, list) or not tables:
        return None
    parts = []
    for t, spec in enumerate(tables):
        if not isinstance(spec, Mapping):
            continue
        rows = []
        for r, row in enumerate(spec.get("rows") or []):
            cells = "".join(page.cell(f"tables.{t}.rows.{r}.{c}") for c in range(len(row)))
            rows.append(f"<tr>{cells}</tr>")
        parts.append(f"<h3>{_esc(spec.get('title', f'Table {t + 1}'))}</h3>")
        parts.append(_table([str(c) for c in spec.get("columns") or []], rows, numeric_from=99))
        if spec.get("note"):
            parts.append(f'<p class="caption">{_esc(spec["note"])}</p>')
    return ("tables", "Comparisons", "".join(parts)) if parts else None


def _skipped_section(page: _Page, limit: int = 500) -> _Section | None:
    items: list[tuple[str, str]] = []
    for source in (page.get("skipped"), page.get("fit.skipped")):
        if isinstance(source, Mapping):
            items.extend((str(k), str(v)) for k, v in source.items())
        elif isinstance(source, list):
            for entry in source:
                if isinstance(entry, Mapping):
                    items.append((str(entry.get("object_id", "")), str(entry.get("reason", ""))))
    if not items:
        return None
    rows = [f"<tr><td>{_esc(i)}</td><td>{_esc(r)}</td></tr>" for i, r in items[:limit]]
    more = f"<p class='caption'>… and {len(items) - limit} more.</p>" if len(items) > limit else ""
    intro = f"<p>{len(items)} objects were skipped and are not in any metric above.</p>"
    return (
        "skipped",
        "Skipped objects",
        intro + _table(["object", "reason"], rows, numeric_from=99) + more,
    )


# -------------------------------------------------------------------- public
def write_report(
    run_dir: str | PathLike[str],
    *,
    out: str | PathLike[str] | None = None,
    max_examples: int = 4,
) -> Path:
    """Write a self-contained HTML report of a run directory.

    Reads only files in ``run_dir``: ``config.yaml`` and ``metrics.json``
    (required); ``predictions.parquet`` and ``examples.parquet`` (optional).
    A section whose inputs are missing is left out. Figures are written to
    ``run_dir/plots/`` and embedded in the page as base64 PNGs; the page needs
    no network.

    Parameters
    ----------
    run_dir : path-like
        A run directory (see :mod:`skyclass.runs`).
    out : path-like, optional
        The HTML file to write (default ``run_dir/report.html``).
    max_examples : int
        Folded curves drawn per class, for each of correct and misclassified.

    Returns
    -------
    Path
        The HTML file written.

    Raises
    ------
    DataError
        If ``config.yaml`` or ``metrics.json`` is missing or unreadable.

    Examples
    --------
    >>> import json, tempfile
    >>> run = Path(tempfile.mkdtemp())
    >>> _ = (run / "config.yaml").write_text("model: demo\\nseed: 0\\n")
    >>> _ = (run / "metrics.json").write_text(json.dumps({"test": {"mae": 0.25, "n": 4}}))
    >>> page = write_report(run).read_text()
    >>> '<span data-metric="test.mae">0.2500</span>' in page
    True
    """
    import yaml

    run_dir = Path(run_dir)
    config_path, metrics_path = run_dir / "config.yaml", run_dir / "metrics.json"
    for needed in (config_path, metrics_path):
        if not needed.is_file():
            raise DataError(
                f"{needed.name} is missing; point at a run directory written by `skyclass train`",
                source=str(run_dir),
            )
    config_text = config_path.read_text(encoding="utf-8")
    try:
        config = yaml.safe_load(config_text)
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise DataError(
            f"cannot parse the run files ({exc}); rerun the training to rewrite them",
            source=str(run_dir),
        ) from exc
    config = config if isinstance(config, Mapping) else {}
    if not isinstance(metrics, Mapping):
        raise DataError("metrics.json does not hold a JSON object", source=str(metrics_path))
    predictions = _read_parquet(run_dir / "predictions.parquet")
    examples = _read_parquet(run_dir / "examples.parquet")
    task = _infer_task(metrics, config, predictions)
    plots = run_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    page = _Page(metrics)
    names = _class_names(page, predictions) if task == "classification" else []

    plt = _pyplot()
    style = {"font.size": 8, "axes.spines.top": False, "axes.spines.right": False}
    builders: list[Callable[[], _Section | None]] = [
        lambda: _data_section(page),
        lambda: _headline_section(page, task),
    ]
    if task == "classification":
        builders += [
            lambda: _per_class_section(page),
            lambda: _confusion_section(page, plt, names, plots),
            lambda: _roc_section(page, plt, names, predictions, plots),
        ]
    builders.append(lambda: _history_section(page, plt, plots))
    if task == "classification":
        builders.append(lambda: _calibration_section(page, plt, names, predictions, plots))
    if task == "regression":
        builders.append(lambda: _regression_section(page, plt, predictions, plots))
    builders += [
        lambda: _examples_section(plt, examples, max_examples, plots, names, task),
        lambda: _cv_section(page),
        lambda: _tables_section(page),
        lambda: _skipped_section(page),
        lambda: ("config", "Configuration", f"<pre>{_esc(config_text)}</pre>"),
    ]
    with plt.rc_context(style):
        sections = [s for s in (build() for build in builders) if s is not None]

    model = config.get("model", "model")
    data = config.get("data", run_dir.name)
    date = config.get("date") or metrics.get("date")
    if not date:
        stamp = datetime.fromtimestamp(metrics_path.stat().st_mtime, tz=UTC)
        date = stamp.strftime("%Y-%m-%d %H:%M UTC")
    summary = [("run", run_dir.name), ("model", model), ("data", data), ("task", task or "–")]
    summary += [("seed", config.get("seed", "–")), ("date", date)]
    if "paper" in config:  # a paper reproduction (skyclass reproduce)
        model, data = config.get("name", model), "the closest real data"
        summary = [("run", run_dir.name), ("experiment", model), ("paper", config["paper"])]
        summary += [("what it does", config.get("summary", "")), ("task", task or "–")]
        summary += [("seeds", config.get("seeds", "–")), ("quick", config.get("quick", False))]
        summary += [("date", date)]
    dl = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in summary)
    toc = "".join(f'<li><a href="#{a}">{_esc(t)}</a></li>' for a, t, _ in sections)
    body = "".join(f'<section id="{a}"><h2>{_esc(t)}</h2>{h}</section>' for a, t, h in sections)
    title = f"skyclass report: {model} on {data}"
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_esc(title)}</h1>"
        '<p class="lede">Every number below comes from the files of this run directory.</p>'
        f'<dl class="kv">{dl}</dl><nav class="toc"><b>Contents</b><ol>{toc}</ol></nav>'
        f"{body}</main></body></html>\n"
    )
    out = Path(out) if out is not None else run_dir / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    return out
