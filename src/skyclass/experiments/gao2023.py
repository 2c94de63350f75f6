"""gao2023: galaxy / quasar / star from gri cutouts — baselines, attention ResNets, ResNet50-GQS.

No real SDSS cutouts are available offline, so the study runs on SIMULATED
SDSS-like stamps (:func:`skyclass.images.simulate.simulate_stamps`), combined
into Lupton RGB images as the paper did. One simulated set per seed is split
8:1:1 by object (stratified); every network sees the same split, trains with
the paper's Table 5 optimiser settings and gao2023's rotation/flip
augmentation of the training images, stops early on the validation loss,
and is scored on the test part (accuracy, macro precision/recall/F1, macro
one-vs-rest AUC). The numbers describe the simulation, not SDSS.

Each (seed, network) result is written under ``cells/seed<k>/<network>/`` of the
run directory and reused when the same command runs again on the same directory
with the same settings, so a long run stopped part-way picks up where it was;
``settings.cells`` points the cells elsewhere (a folder kept between machines:
the stamps are simulated, so their results may be kept anywhere).

Budget mode (``--set settings.budget=SECONDS``): every network trains on the same
stamps for the same CPU time per (seed, network) instead of the paper's epochs —
``settings.budget_mode`` is laid over the settings (stamp count, the epoch cap, no
early stopping, one warm-up epoch then a cosine schedule) and
:attr:`skyclass.training.TrainConfig.budget_seconds` times the first epoch and
fixes the epochs so that the schedule ends when the budget does. The table then
reports the epochs each network reached, its parameters and per-class recall;
with ``settings.larger_budget`` the ``larger_top`` networks of highest mean
macro F1 and the ``larger_always`` ones (ResNet50-GQS, the network the paper is
about) — or the ``larger_models`` named — train again at that budget for a second
table.
Cells go under ``cells/budget<SECONDS>/`` and, given ``--units``, into the unit
record (aggregates only), so the 18 × 3 cells can be computed by several
processes or sessions — each one a part of ``settings.models`` or ``seeds`` —
and assembled by a last run of the whole command. Budget mode trains on one thread
(``budget_mode.threads``): the budget counts the CPU seconds of all threads, so the
epochs it buys would otherwise depend on how many threads the libraries start.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skyclass._util import limit_threads
from skyclass.experiments.runner import (
    ExperimentConfig,
    mean_std,
    register_experiment,
)
from skyclass.study.units import fingerprint, reuse_result, unit_origin


def split_811(labels: np.ndarray, fractions: list[float], *, seed: int) -> list[np.ndarray]:
    """Stratified train/val/test positions in the given fractions (by object, seeded)."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    for name in np.unique(labels):
        where = rng.permutation(np.flatnonzero(labels == name))
        cuts = np.round(np.cumsum(fractions)[:-1] * where.size).astype(int)
        for k, chunk in enumerate(np.split(where, cuts)):
            parts[k].extend(chunk.tolist())
    return [np.sort(np.array(p, dtype=int)) for p in parts]


def resolved_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings a run uses: ``budget_mode`` laid over them when a budget is set.

    Examples
    --------
    >>> s = {"n_stamps": 6000, "budget": None, "budget_mode": {"n_stamps": 2000}}
    >>> resolved_settings(s)["n_stamps"], resolved_settings({**s, "budget": 600})["n_stamps"]
    (6000, 2000)
    """
    from skyclass.experiments.runner import deep_merge

    if settings.get("budget") is None:
        return settings
    return deep_merge(settings, settings.get("budget_mode") or {})


def train_options(settings: dict[str, Any], name: str, budget: float | None) -> dict[str, Any]:
    """Training settings of network ``name``: its Table 5 optimiser, then epochs or budget.

    Examples
    --------
    >>> s = {"optimizers": {"default": {"optimizer": "adam", "lr": 1e-4}}, "epochs": 60,
    ...      "early_stopping_patience": None, "train": {"scheduler": "cosine_warmup"}}
    >>> train_options(s, "resnet18", 600)["budget_seconds"], train_options(s, "resnet18", None)
    (600.0, {'optimizer': 'adam', 'lr': 0.0001, 'max_epochs': 60})
    """
    options = {**settings["optimizers"]["default"], **settings["optimizers"].get(name, {})}
    options["max_epochs"] = settings["epochs"]
    if settings.get("early_stopping_patience"):
        options["early_stopping_patience"] = settings["early_stopping_patience"]
    if budget is not None:
        options.update(settings.get("train") or {})
        options["budget_seconds"] = float(budget)
        options["early_stopping_patience"] = settings.get("early_stopping_patience")
    return options


@register_experiment("gao2023")
def run(cfg: ExperimentConfig, out: Path, *, progress: bool = True) -> dict:
    """Every network × seed on one simulated split per seed; a table of mean ± std."""
    s = resolved_settings(cfg.settings)
    budget = s.get("budget")
    cells = Path(s["cells"]) if s.get("cells") else out / "cells"
    if budget is not None:
        cells = cells / f"budget{budget:g}"
    with limit_threads(s.get("threads") or None):
        results, headline = _run_cells(s, cfg.seeds, s["models"], budget, cells, out, progress)
        tables = [_table(s, cfg.seeds, results, budget)]
        if budget is not None and s.get("larger_budget"):
            larger = list(s.get("larger_models") or [])
            if not larger:  # the best networks, and those the study is about
                larger = _best(results, int(s.get("larger_top") or 5))
                always = s.get("larger_always") or []
                larger += [m for m in always if m in results and m not in larger]
            more, _ = _run_cells(
                s,
                cfg.seeds,
                larger,
                s["larger_budget"],
                cells.with_name(f"budget{s['larger_budget']:g}"),
                out,
                progress,
            )
            tables.append(_table(s, cfg.seeds, more, s["larger_budget"]))
    real = _real_vs_simulated(s, out, seed=cfg.seeds[0]) if s.get("real_stamps") else None
    if real is not None:
        tables.append(real)
    truth, bands = headline.pop("truth", {}), headline.pop("bands", [])
    return {
        **headline,
        "data": {
            "simulated": True,
            "n_stamps_per_seed": s["n_stamps"],
            "classes_test_first_seed": truth,
            "bands": bands,
            "split": s["split"],
        },
        "tables": tables,
    }


def _run_cells(
    s: dict[str, Any],
    seeds: list[int],
    models: list[str],
    budget: float | None,
    cells: Path,
    out: Path,
    progress: bool,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """The (seed, network) cells, computed or reused: each network's results over the seeds."""
    from skyclass.estimator import CutoutClassifier
    from skyclass.evaluate.metrics import classification_summary
    from skyclass.images.simulate import simulate_stamps

    results: dict[str, list[dict[str, Any]]] = {m: [] for m in models}
    headline: dict[str, Any] = {}
    for seed in seeds:
        split: list | None = None
        for name in models:
            options = train_options(s, name, budget)
            cell = cells / f"seed{seed}" / name
            key = _cell_key(s, name, seed, options)

            def fit_cell(name=name, options=options, cell=cell, seed=seed) -> dict:
                import torch

                nonlocal split
                if split is None:  # one simulated set and split per seed, made when needed
                    cut = simulate_stamps(s["n_stamps"], classes=tuple(s["classes"]), seed=seed)
                    labels = np.asarray(cut.labels).astype(str)
                    split = [cut.select(i) for i in split_811(labels, s["split"], seed=seed)]
                train, val, test = split
                start, cpu_start = time.perf_counter(), time.process_time()
                clf = CutoutClassifier(
                    model=name,
                    input=s["input"],
                    augment=s["augment"],
                    train=options,
                    random_state=seed,
                    progress=progress,
                ).fit(train, val=val)
                fit_seconds = time.perf_counter() - start
                fit_cpu = time.process_time() - cpu_start
                table = clf.predict_table(test)
                proba = table[[f"prob_{c}" for c in clf.classes_]].to_numpy()
                test_labels = np.asarray(test.labels).astype(str)
                y = np.array([clf.classes_.index(x) for x in test_labels])
                table["label"] = test_labels
                cell.mkdir(parents=True, exist_ok=True)
                table.to_parquet(cell / "predictions.parquet", index=False)
                return {
                    "summary": classification_summary(y, proba, list(clf.classes_)),
                    "fit": clf.fit_report_,
                    "history": clf.history_.to_dict(),
                    "seconds": fit_seconds,
                    "cpu_seconds": fit_cpu,
                    "epochs": len(clf.history_),
                    "parameters": sum(p.numel() for p in clf.model_.parameters()),
                    "threads": torch.get_num_threads(),
                    "classes": pd.Series(test_labels).value_counts().to_dict(),
                    "bands": list(test.bands),
                }

            # aggregates only: the unit record may keep it (a budget's cells are spread over
            # processes and sessions that way)
            result = reuse_result(
                cell, key, fit_cell, needs=["predictions.parquet"], aggregates=True
            )
            results[name].append(result)
            summary = result["summary"]
            if progress:
                print(
                    f"gao2023 seed {seed} {name}: accuracy {summary['accuracy']:.3f}, macro F1 "
                    f"{summary['macro_f1']:.3f}, {result.get('epochs', '?')} epochs "
                    f"({result['seconds']:.0f} s, from {unit_origin(result)})",
                    flush=True,
                )
            if not headline:
                if (cell / "predictions.parquet").is_file():
                    pd.read_parquet(cell / "predictions.parquet").to_parquet(
                        out / "predictions.parquet", index=False
                    )
                headline = {
                    "task": "classification",
                    "model": name,
                    "test": summary,
                    "fit": result["fit"],
                    "history": result["history"],
                    "truth": result["classes"],
                    "bands": result["bands"],
                }
    return results, headline


def _real_vs_simulated(s: dict[str, Any], out: Path, *, seed: int) -> dict[str, Any] | None:
    """A table (and ``plots/stamps_real_vs_simulated.png``) of real SDSS against simulated stamps.

    None when the real cutouts (``settings.real_stamps`` in the shared data) are absent.
    """
    from skyclass.datasets.shared import shared_data_root
    from skyclass.evaluate.report import compare_stamp_images
    from skyclass.images.cutouts import load_stamps
    from skyclass.images.simulate import simulate_stamps
    from skyclass.images.stamp_stats import compare_stamps, label_caution, stamp_statistics

    folder = shared_data_root() / s["real_stamps"]
    if not folder.is_dir():
        return None
    real = load_stamps(folder, label_names={-1: "star", 1: "galaxy"})
    size = int(real.stamps.shape[-1])
    sim = simulate_stamps(
        int(s.get("real_stamps_simulated") or 300),
        classes=tuple(s["classes"]),
        size=size,
        seed=seed,
    )
    real_name = f"real SDSS ({s['real_stamps']})"
    sets = {real_name: real, "simulated": sim}
    stats = {name: stamp_statistics(c) for name, c in sets.items()}
    columns, rows = compare_stamps(stats)
    caution = label_caution(stats[real_name])
    (out / "plots").mkdir(parents=True, exist_ok=True)
    png = compare_stamp_images(
        {"real SDSS": real, "simulated": sim},
        path=out / "plots" / "stamps_real_vs_simulated.png",
        seed=seed,
    )
    return {
        "title": f"Simulated and real stamps side by side ({size}×{size} px; median [16th–84th "
        f"percentile] per class; {len(sim)} simulated with seed {seed})",
        "columns": columns,
        "rows": rows,
        "note": "skyclass.images.stamp_stats: nanomaggies per pixel (real magnitudes converted "
        "with 10^(-0.4 (m - 22.5))); background and noise from the 5-pixel edge frame (median, "
        "1.4826 MAD); colours from background-subtracted fluxes within 6 px of the centre; r "
        "FWHM and profile from rings about the brightest r pixel near the centre. The real "
        "stamps are stored as magnitudes, so their pixels cannot go below zero flux: their sky "
        "keeps a pedestal and their noise is understated. Real labels are star / galaxy "
        "only (no quasars). Images: "
        f"{png.relative_to(out).as_posix()} in the run directory."
        + (f" Real SDSS cutouts: {caution}" if caution else ""),
    }


def _mean_f1(results: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """Each network's mean macro F1 over its seeds (finite values; NaN when none is)."""
    out = {}
    for name, rs in results.items():
        v = np.array([r["summary"]["macro_f1"] for r in rs], float)
        out[name] = float(v[np.isfinite(v)].mean()) if np.isfinite(v).any() else float("nan")
    return out


def _best(results: dict[str, list[dict[str, Any]]], top: int) -> list[str]:
    """The ``top`` networks of highest mean macro F1 over the seeds (ties: the order given)."""
    means = _mean_f1(results)
    return sorted(means, key=lambda n: -means[n] if np.isfinite(means[n]) else np.inf)[:top]


def _ranks(means: dict[str, float]) -> dict[str, int]:
    """Competition ranks by descending value: equal values share a rank, NaN comes last.

    Examples
    --------
    >>> _ranks({"a": 0.8, "b": 0.9, "c": 0.8, "d": float("nan"), "e": 0.7})
    {'a': 2, 'b': 1, 'c': 2, 'd': 5, 'e': 4}
    """
    finite = [v for v in means.values() if np.isfinite(v)]
    return {
        n: 1 + sum(w > v for w in finite) if np.isfinite(v) else 1 + len(finite)
        for n, v in means.items()
    }


def _table(
    s: dict[str, Any],
    seeds: list[int],
    results: dict[str, list[dict[str, Any]]],
    budget: float | None,
) -> dict[str, Any]:
    """One table of mean ± std over the seeds; in budget mode with epochs, parameters, recalls."""
    classes = sorted(s["classes"])
    paper = (
        "Paper (real SDSS DR16 cutouts): ResNet50-GQS accuracy 0.9241, macro F1 0.922, AUC "
        "0.970; ResNet50 0.9150. These numbers come from a simulation whose assumptions are "
        "listed in skyclass.images.simulate; they say how the networks rank on it, not how "
        "they do on SDSS. The sections above show the first network's first seed."
    )
    if budget is None:
        rows = [
            [name]
            + [
                mean_std(r["summary"][k] for r in rs)
                for k in ("accuracy", "macro_precision", "macro_recall", "macro_f1", "macro_auc")
            ]
            + [f"{np.mean([r['seconds'] for r in rs]):.0f}"]
            for name, rs in results.items()
        ]
        return {
            "title": f"gao2023 networks on SIMULATED SDSS-like gri cutouts "
            f"({s['n_stamps']} per seed, split 8:1:1 by object; mean ± std over seeds {seeds})",
            "columns": [
                "network",
                "accuracy",
                "macro precision",
                "macro recall",
                "macro F1",
                "macro AUC",
                "s per fit",
            ],
            "rows": rows,
            "note": paper,
        }
    rank = _ranks(_mean_f1(results))
    rows, stalled, single, capped = [], [], [], []
    for name, rs in results.items():
        epochs = [int(r["epochs"]) for r in rs]
        first, last = (np.mean([_train_loss(r, end) for r in rs]) for end in (0, -1))
        if min(epochs) == int(s["epochs"]) > 1:
            capped.append(name)
        if max(epochs) == 1:
            single.append(name)
        elif last > 0.95 * first:
            stalled.append(name)
        rows.append(
            [name, _optimiser(s, name), f"{rs[0]['parameters'] / 1e6:.1f} M", _span(epochs)]
            + [f"{first:.2f} → {last:.2f}"]
            + [mean_std(r["summary"][k] for r in rs) for k in ("accuracy", "macro_f1")]
            + [mean_std(r["summary"]["per_class"][c]["recall"] for r in rs) for c in classes]
            + [f"{np.mean([r['cpu_seconds'] for r in rs]):.0f}", str(rank[name])]
        )
    parts = []
    if "gao2023_resnet50_gqs" in results and len(results) > 1:
        f1 = [r["summary"]["macro_f1"] for r in results["gao2023_resnet50_gqs"]]
        parts.append(
            f"ResNet50-GQS ranks {rank['gao2023_resnet50_gqs']} of {len(rank)} "
            f"by mean macro F1 ({mean_std(f1)}, seeds from {min(f1):.3f} to {max(f1):.3f})."
        )
    if len(results) > 1:
        parts.append(
            f"Ranks are by mean macro F1 among this table's {len(results)} networks (equal "
            "means share a rank)."
        )
    if stalled:
        parts.append(
            f"Training loss fell by less than 5% within the budget for {', '.join(stalled)}: "
            "at its Table 5 settings it did not learn in the steps the budget allows "
            "(its scores say so, not what it would reach with more)."
        )
    if single:
        parts.append(f"Only one epoch fitted in the budget for {', '.join(single)}.")
    if capped:
        parts.append(
            f"{', '.join(capped)} reached the {int(s['epochs'])}-epoch cap with every seed "
            "before the budget ended: a budget larger still would not change their training."
        )
    note = " ".join([*parts, paper])
    n_train, n_val, n_test = (round(f * s["n_stamps"]) for f in s["split"])
    return {
        "title": f"gao2023 networks at a budget of {budget:g} CPU seconds per (network, seed) "
        f"on SIMULATED SDSS-like gri cutouts ({n_train}/{n_val}/{n_test} train/validation/test "
        f"per seed; one warm-up epoch, then a cosine schedule ending with the budget; mean ± "
        f"std over seeds {seeds})",
        "columns": [
            "network",
            "optimiser",
            "parameters",
            "epochs reached",
            "training loss, first → last epoch",
            "accuracy",
            "macro F1",
            *(f"recall {c}" for c in classes),
            "CPU s per fit",
            "rank by macro F1",
        ],
        "rows": rows,
        "note": note,
    }


def _optimiser(s: dict[str, Any], name: str) -> str:
    """Network ``name``'s Table 5 optimiser, learning rate and batch size (``"sgd 1e-04 / 256"``).

    Examples
    --------
    >>> _optimiser({"optimizers": {"default": {"optimizer": "adam", "lr": 1e-4,
    ...     "batch_size": 256}, "vit": {"optimizer": "sgd", "lr": 1e-3, "batch_size": 32}}}, "vit")
    'sgd 1e-03 / 32'
    """
    o = {**s["optimizers"]["default"], **s["optimizers"].get(name, {})}
    return f"{o['optimizer']} {o['lr']:.0e} / {o['batch_size']}"


def _train_loss(result: dict[str, Any], epoch: int) -> float:
    """Training loss of a cell's ``epoch``-th epoch (0 the first, -1 the last)."""
    return float(result["history"]["records"][epoch]["train_loss"])


def _span(values: list[int]) -> str:
    """``"7"`` or ``"6-8"``: the range of a count over the seeds.

    Examples
    --------
    >>> _span([7, 7, 7]), _span([8, 6, 7])
    ('7', '6-8')
    """
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def _cell_key(settings: dict[str, Any], name: str, seed: int, options: dict[str, Any]) -> str:
    """Fingerprint of what a (seed, network) result depends on, to reuse it safely."""
    relevant = {k: settings.get(k) for k in ("n_stamps", "classes", "input", "augment", "split")}
    return fingerprint([relevant, name, seed, options], length=16)
