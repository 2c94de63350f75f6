"""The HTML run report: self-contained, every image a valid PNG, every metric traceable.

A fake run directory is built in tmp_path from seeded random predictions; the
page is checked with the standard library's HTML parser and, when Debian's
chromium is installed, rendered headless to check that the browser decodes
every image and shows the same metric texts.
"""

from __future__ import annotations

import base64
import html
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import chromium, headless_dom
from skyclass.evaluate.calibration import TemperatureScaler, reliability_curve
from skyclass.evaluate.metrics import classification_summary, cv_summary, regression_summary
from skyclass.evaluate.report import write_report
from skyclass.exceptions import DataError

CLASSES = ["RRab", "RRc", "EB"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _lists(curve: dict) -> dict:
    return {k: np.asarray(v).tolist() for k, v in curve.items()}


def _classification_run(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    n = 150
    y = rng.integers(0, 3, n)
    logits = rng.normal(0, 1.5, (n, 3))
    logits[np.arange(n), y] += 2.0
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    table = pd.DataFrame({"object_id": [f"obj{i:03d}" for i in range(n)]})
    table["predicted"] = np.asarray(CLASSES)[pred]
    for k, name in enumerate(CLASSES):
        table[f"prob_{name}"] = proba[:, k]
    table["label"] = np.asarray(CLASSES)[y]
    root.mkdir(parents=True, exist_ok=True)
    table.to_parquet(root / "predictions.parquet", index=False)

    scaler = TemperatureScaler().fit(proba, y)
    calibrated = scaler.transform(proba)
    folds = [classification_summary(y[i::3], proba[i::3], CLASSES, n_boot=0) for i in range(3)]
    history = [
        {
            "epoch": e,
            "train_loss": 1.2 / e,
            "val_loss": 1.3 / e + 0.01 * e,
            "val_balanced_accuracy": 0.5 + 0.04 * e,
            "lr": 1e-3 * 0.9**e,
        }
        for e in range(1, 9)
    ]
    metrics = {
        "task": "classification",
        "data": {
            "survey": None,
            "n_objects": 187,
            "bands": ["g"],
            "epochs_per_curve": {"min": 30, "median": 55.5, "max": 200},
            "classes": {"RRab": 80, "RRc": 60, "EB": 47},
        },
        "fit": {"n_train": 120, "n_val": 17, "epochs": 8, "skipped": {"obj900": "too few points"}},
        "history": {
            "records": history,
            "monitor": "val_loss",
            "best_epoch": 3,
            "best_value": history[2]["val_loss"],
        },
        "test": classification_summary(y, proba, CLASSES),
        "calibration": {
            "before": {"ece": 0.08123, "reliability": _lists(reliability_curve(proba, y))},
            "after": {"ece": 0.03456, "reliability": _lists(reliability_curve(calibrated, y))},
            "temperature": scaler.temperature_,
        },
        "cv": cv_summary(folds),
        "tables": [
            {
                "title": "Against the paper",
                "columns": ["quantity", "paper", "ours"],
                "rows": [["macro F1", 0.86, 0.81234], ["runs", 5, 3]],
                "note": "paper values from its Table 4",
            }
        ],
        "skipped": [{"object_id": "obj901", "reason": "no period found"}],
    }
    (root / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (root / "config.yaml").write_text(
        "data: macho\nmodel: akhmetali2025_cnn\ntask: classification\nseed: 0\n"
        "train:\n  epochs: 8\n  lr: 0.001\n"
    )

    rows = []
    for k, name in enumerate(CLASSES):
        for j in range(3):
            m = 40
            phase = np.sort(rng.random(m))
            mag = 15 + 0.4 * np.sin(2 * np.pi * (phase + 0.1 * k)) + rng.normal(0, 0.03, m)
            predicted = name if j < 2 else CLASSES[(k + 1) % 3]
            rows.append(
                {
                    "object_id": f"ex{k}{j}",
                    "label": name,
                    "predicted": predicted,
                    "correct": predicted == name,
                    "period": 0.5 + 0.1 * j,
                    "phase": phase.tolist(),
                    "mag": mag.tolist(),
                    "band": ["g" if i % 3 else "r" for i in range(m)],
                    "attribution": np.exp(-(((phase - 0.3) / 0.1) ** 2)).tolist(),
                }
            )
    pd.DataFrame(rows).to_parquet(root / "examples.parquet", index=False)
    return root


def _regression_run(root: Path) -> Path:
    rng = np.random.default_rng(1)
    y = rng.normal(-1.5, 0.5, 200)
    pred = y + 0.2 * (y + 1.5) + rng.normal(0, 0.1, 200)
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"object_id": [f"s{i}" for i in range(200)], "predicted": pred, "label": y.astype(str)}
    ).to_parquet(root / "predictions.parquet", index=False)
    phase = np.linspace(0, 1, 30, endpoint=False)
    pd.DataFrame(
        {
            "object_id": ["s0", "s1", "s2"],
            "label": y[:3],
            "predicted": pred[:3],
            "phase": [phase] * 3,
            "mag": [15 + 0.3 * np.sin(2 * np.pi * phase)] * 3,
        }
    ).to_parquet(root / "examples.parquet", index=False)
    metrics = {"fit": {"n_train": 800}, "test": regression_summary(y, pred, "density")}
    (root / "metrics.json").write_text(json.dumps(metrics))
    (root / "config.yaml").write_text("data: dekany\nmodel: monti2024_gru\ntask: regression\n")
    return root


class _Collector(HTMLParser):
    """Images, link targets and the text of every data-metric element."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.refs: list[str] = []
        self.ids: list[str] = []
        self.metrics: list[tuple[str, str, str | None]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if key in attrs:
                self.refs.append(attrs[key] or "")
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if "data-metric" in attrs:
            self._open.append([tag, attrs["data-metric"], attrs.get("data-format"), ""])

    def handle_data(self, data):
        for entry in self._open:
            entry[3] += data

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            tag, path, form, text = self._open.pop()
            self.metrics.append((path, text, form))


def _at(tree, path: str):
    for part in path.split("."):
        tree = tree[int(part)] if isinstance(tree, list) else tree[part]
    return tree


def _expected(value, form: str | None) -> str:
    if form == "int":
        return str(round(value))
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}"


def _parse(page: Path) -> _Collector:
    collector = _Collector()
    collector.feed(page.read_text(encoding="utf-8"))
    return collector


def _check_page(page: Path, metrics: dict) -> _Collector:
    parsed = _parse(page)
    assert parsed.images
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data[:8] == PNG_SIGNATURE and len(data) > 100
    assert not [r for r in parsed.refs if r.startswith(("http://", "https://", "//"))]
    assert "<link" not in page.read_text() and "<script" not in page.read_text()
    for path, text, form in parsed.metrics:
        assert text == _expected(_at(metrics, path), form), path
    return parsed


@pytest.fixture(scope="module")
def classification_report(tmp_path_factory) -> tuple[Path, Path]:
    """A fake classification run and its report, built once for this module."""
    run = _classification_run(tmp_path_factory.mktemp("report") / "run")
    return run, write_report(run)


def test_classification_report_is_self_contained_and_traceable(classification_report):
    run, page = classification_report
    assert page == run / "report.html"
    metrics = json.loads((run / "metrics.json").read_text())
    parsed = _check_page(page, metrics)
    shown = {path for path, _, _ in parsed.metrics}
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "macro_auc", "ece"):
        assert f"test.{key}" in shown
    for key in ("balanced_accuracy", "macro_f1"):
        assert {f"test.ci.{key}.low", f"test.ci.{key}.high"} <= shown
    assert {"calibration.before.ece", "calibration.after.ece", "calibration.temperature"} <= shown
    assert {"cv.mean.balanced_accuracy", "cv.std.macro_f1", "cv.folds.2.accuracy"} <= shown
    assert {"tables.0.rows.0.2", "test.per_class.EB.support", "history.best_epoch"} <= shown
    assert {"data.classes.EB", "data.epochs_per_curve.median", "fit.n_train"} <= shown
    for section in ("data", "metrics", "per-class", "confusion", "roc", "learning"):
        assert section in parsed.ids
    for section in ("calibration", "examples", "cv", "tables", "skipped", "config"):
        assert section in parsed.ids
    # confusion, ROC, learning curves, reliability, one example figure per class
    assert len(parsed.images) == 4 + len(CLASSES)
    assert len(list((run / "plots").glob("*.png"))) == len(parsed.images)
    text = page.read_text()
    assert "obj900" in text and "obj901" in text  # both kinds of skipped list
    assert "akhmetali2025_cnn" in text and "lr: 0.001" in text  # config shown verbatim
    balanced = metrics["test"]["balanced_accuracy"]
    assert f'<span data-metric="test.balanced_accuracy">{balanced:.4f}</span>' in text


def test_regression_report_has_scatter_and_residuals(tmp_path):
    run = _regression_run(tmp_path / "reg")
    out = write_report(run, out=tmp_path / "elsewhere" / "r.html")
    metrics = json.loads((run / "metrics.json").read_text())
    parsed = _check_page(out, metrics)
    assert (run / "plots" / "regression.png").is_file() and len(parsed.images) == 2
    assert (run / "plots" / "examples.png").is_file()
    shown = {path for path, _, _ in parsed.metrics}
    assert {f"test.{k}" for k in ("mae", "rmse", "wmae", "wrmse", "r2")} <= shown
    assert {"test.ci.mae.low", "test.residuals_vs_target.median.0"} <= shown
    assert "regression" in parsed.ids and "confusion" not in parsed.ids
    assert "inverse density" in out.read_text()


def test_minimal_run_dir_and_missing_files(tmp_path):
    run = tmp_path / "bare"
    run.mkdir()
    (run / "config.yaml").write_text("model: m\n")
    with pytest.raises(DataError, match=r"metrics\.json is missing"):
        write_report(run)
    # no task key: inferred from the test block; no predictions, examples or history
    # class "c" is absent from the truth: NaN AUC, shown as "nan" and still traceable
    summary = classification_summary([0, 1, 1], np.eye(3)[[0, 1, 0]], ["a", "b", "c"], n_boot=10)
    (run / "metrics.json").write_text(json.dumps({"test": summary}))
    page = write_report(run)
    parsed = _check_page(page, json.loads((run / "metrics.json").read_text()))
    assert "confusion" in parsed.ids and "roc" not in parsed.ids and "examples" not in parsed.ids
    assert len(parsed.images) == 1
    assert ("test.auc_per_class.c", "nan", None) in parsed.metrics
    assert ("test.per_class.c.support", "0", "int") in parsed.metrics


_CHECK_SCRIPT = """<pre id="check"></pre><script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var metrics = Array.prototype.slice.call(document.querySelectorAll("[data-metric]"))
    .map(function (e) { return [e.getAttribute("data-metric"), e.textContent]; });
  document.getElementById("check").textContent = JSON.stringify(
    {images: images.length, broken: broken.length, metrics: metrics});
});
</script></body>"""


def test_report_renders_in_headless_chromium(classification_report, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("install Debian's chromium")
    _, page = classification_report
    expected = [(p, t) for p, t, _ in _parse(page).metrics]
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", _CHECK_SCRIPT, 1))
    dom = headless_dom(browser, probe.as_uri(), tmp_path / "profile")
    start = dom.find('<pre id="check">')
    assert start >= 0, dom[-2000:]
    end = dom.index("</pre>", start)
    result = json.loads(html.unescape(dom[start + len('<pre id="check">') : end]))
    assert result["images"] == len(_parse(page).images) > 0
    assert result["broken"] == 0
    assert [tuple(m) for m in result["metrics"]] == expected
