"""Leaderboard runs: every (data set, model, seed) as a run directory, then the Markdown table.

For each data set of the config, the named set is prepared once
(:func:`skyclass.experiments.leaderboard.prepare_dataset`: labelled objects,
bands, cleaning, small classes out, periods from the catalogue or a per-curve
search) and written to ``OUT/data/``; then every model and the random-forest
baseline is trained with :func:`skyclass.runs.train_run` on that file, one run
directory per seed at ``OUT/<data set>/<model>/seed<k>`` (the split is the
seed's, the same for every model). A run directory that already has a
``metrics.json`` is skipped, so the command resumes; a run that raises is
recorded as ``metrics.json`` ``{"error": ...}`` and the others go on. At the end
``OUT/leaderboard.md`` is written by the same functions as
``skyclass leaderboard``.

``--record DIR`` also keeps each finished cell's ``config.yaml`` and ``metrics.json``
in ``DIR/<data set>/<model>/seed<k>`` — held-out scores, fit time and size only: no
weights, predictions or object ids, so the record can be committed (``docs/leaderboard_runs``)
— and skips every cell already recorded there. A long leaderboard then grows over
several sessions on machines that keep nothing between them, and the page is built from
the record alone.

Run: ``OMP_NUM_THREADS=1 python benchmarks/leaderboard.py --config
benchmarks/configs/leaderboard.yaml --out runs/leaderboard [--quick] [--models ...]
[--data ...] [--seeds 0 1 2] [--retry-failed] [--record docs/leaderboard_runs]``

A cell too long for one process runs on several with DDP: ``OMP_NUM_THREADS=1 python -m
torch.distributed.run --nproc_per_node 2 --standalone benchmarks/leaderboard.py ...``.
Every process trains a share of each batch (the config's ``batch_size`` divided by the
number of processes, so the global batch is the same), the main process prepares the
data, writes the run directories, the record and the page, and the cell's cost counts
its ``processes``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from skyclass.baselines import BASELINES
from skyclass.estimator import DEFAULT_REPRESENTATIONS
from skyclass.experiments.leaderboard import (
    PREPARE_KEYS,
    collect_runs,
    leaderboard_markdown,
    light_curve_models,
    prepare_dataset,
)
from skyclass.experiments.runner import deep_merge
from skyclass.models import get_model_spec
from skyclass.represent.cache import representation_cache
from skyclass.runs import RunConfig, train_run, write_metrics
from skyclass.study.units import find_unit, fingerprint, keep_run, write_json
from skyclass.training import barrier, is_main_process, join_process_group, process_count


def load_settings(path: Path, *, quick: bool) -> dict[str, Any]:
    """The config's settings, with its ``quick`` block merged in when asked."""
    settings = yaml.safe_load(path.read_text())
    quick_block = settings.pop("quick", {}) or {}
    if quick:
        settings = deep_merge(settings, quick_block)
    return settings


def _label(name: str) -> str:
    """A data set's name in tables and folders: the name, or a data file's stem."""
    path = Path(name)
    return path.name.split(".")[0] if path.exists() else name


def prepared_data(name: str, spec: dict, settings: dict, out: Path) -> tuple[Path, dict]:
    """The prepared Parquet of data set ``name`` (made once per distinct preparation)."""
    prep = {k: spec[k] for k in PREPARE_KEYS if k in spec}
    prep.setdefault("max_per_class", settings.get("max_per_class"))
    if spec.get("task") == "regression":
        prep["max_objects"] = settings.get("max_objects")
    key = fingerprint(prep, length=8)
    path = out / "data" / f"{_label(name)}-{key}.parquet"
    # the description is written after the data, so it marks the preparation finished
    done = find_unit(path.parent, name=path.with_suffix(".json").name)
    if path.exists() and done is not None:
        return path, done
    started = time.perf_counter()
    # one draw (seed 0) for every run seed: the seeds differ only in their splits
    lcs, info = prepare_dataset(name, seed=0, **prep)
    info["prepare_seconds"] = round(time.perf_counter() - started, 1)
    info["settings"] = prep
    path.parent.mkdir(parents=True, exist_ok=True)
    lcs.to_parquet(path)
    write_json(path.with_suffix(".json"), info)
    return path, info


def run_config(
    model: str,
    name: str,
    spec: dict,
    data_path: Path,
    seed: int,
    settings: dict,
    *,
    processes: int = 1,
) -> RunConfig:
    """The :class:`RunConfig` of one leaderboard cell (its batch per process under DDP)."""
    task = spec.get("task", "classification")
    per_model = (settings.get("model_settings") or {}).get(model, {})
    representations = None
    if model in BASELINES:
        model_options = deep_merge(settings.get("forest") or {}, per_model.get("model_options", {}))
        train: dict[str, Any] = {}
    else:
        model_options = per_model.get("model_options", {})
        train = deep_merge(settings.get("train") or {}, per_model.get("train", {}))
        if processes > 1:
            batch = int(train.get("batch_size", 64))
            if batch % processes:
                raise ValueError(
                    f"{model}: batch_size {batch} does not split over {processes} processes; "
                    "run with a number of processes that divides it"
                )
            train["batch_size"] = batch // processes
        # representation options: the config's, then the model's, then the data set's
        wanted = deep_merge(
            deep_merge(
                settings.get("representations") or {}, per_model.get("representations") or {}
            ),
            spec.get("representations") or {},
        )
        defaults = DEFAULT_REPRESENTATIONS.get(model)
        if defaults is not None and wanted:
            representations = {
                rep: deep_merge(options, wanted.get(rep, {})) for rep, options in defaults.items()
            }
    return RunConfig(
        data=str(data_path),
        format="skyclass",
        data_name=_label(name),
        task=task,
        model=model,
        model_options=model_options,
        representations=representations,
        train=train,
        validation_fraction=settings.get("validation_fraction", 0.1),
        test_fraction=settings.get("test_fraction", 0.2),
        # periods were filled in when the data set was prepared: never searched again
        period="column",
        seed=seed,
    )


def run_cell(cfg: RunConfig, out: Path, *, retry_failed: bool = False) -> str:
    """Train one cell unless its run directory is finished; ``done``, ``skipped`` or ``failed``."""
    if _finished(out, retry_failed=retry_failed):
        return "skipped"
    (out / "metrics.json").unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        train_run(cfg, out, progress=False, report=False)
    except Exception as exc:  # recorded in the run directory and shown as failed
        if process_count() > 1:
            raise  # the other processes wait for this one: end them all (torchrun does)
        out.mkdir(parents=True, exist_ok=True)
        cfg.to_yaml(out / "config.yaml")
        write_metrics(
            out,
            {
                "task": cfg.task,
                "error": f"{type(exc).__name__}: {exc}",
                "cost": {"seconds_until_error": time.perf_counter() - started},
            },
        )
        return "failed"
    return "done"


def _finished(cell: Path | None, *, retry_failed: bool) -> bool:
    """Whether ``cell`` (a run directory or its record) holds a finished cell.

    A cell is a unit of the study (:func:`skyclass.study.units.find_unit`) whose record
    is its ``metrics.json``; a failed one counts as finished unless it is retried.
    """
    metrics = None if cell is None else find_unit(cell, name="metrics.json")
    return metrics is not None and not ("error" in metrics and retry_failed)


def record_cell(run_dir: Path, record_dir: Path) -> None:
    """Keep a finished cell's config and metrics, without the ids of skipped objects.

    The metrics are aggregates over the held-out objects (scores, confusion matrices,
    reliability bins, training history, cost); every ``skipped`` list of object ids
    becomes its ``skipped_count`` (:func:`skyclass.study.units.keep_run`).
    """
    keep_run(run_dir, record_dir)


def recorded(record_dir: Path | None, *, retry_failed: bool) -> bool:
    """Whether ``record_dir`` holds this cell already (a failed one counts unless retried)."""
    return _finished(record_dir, retry_failed=retry_failed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("benchmarks/configs/leaderboard.yaml"))
    parser.add_argument("--out", type=Path, default=Path("runs/leaderboard"))
    parser.add_argument("--quick", action="store_true", help="tiny version, for a test")
    parser.add_argument("--models", nargs="+", default=None, help="default: the config's")
    parser.add_argument(
        "--data", nargs="+", default=None, help="data-set names or files; default: the config's"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument("--retry-failed", action="store_true", help="rerun failed cells")
    parser.add_argument("--markdown", type=Path, default=None, help="default OUT/leaderboard.md")
    parser.add_argument(
        "--record",
        type=Path,
        default=None,
        help="keep finished cells' config + metrics here, skip cells found here, build from it",
    )
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    join_process_group()
    main_process = is_main_process()
    settings = load_settings(args.config, quick=args.quick)
    if args.seeds:
        settings["seeds"] = args.seeds
    names = args.data or list(settings["datasets"])
    models = args.models or settings.get("models") or light_curve_models()
    baselines = [] if args.models else list(settings.get("baselines") or [])
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = (settings.get("datasets") or {}).get(name, {"task": "classification"})
        spec = {**spec, "representations": spec.get("representations")}
        if main_process:  # the others read what it prepared
            data_path, info = prepared_data(name, spec, settings, args.out)
        barrier()
        if not main_process:
            data_path, info = prepared_data(name, spec, settings, args.out)
        _say(f"{name}: {info['n_used']} objects ({info.get('prepare_seconds', 0)} s)")
        # the models of one data set share their representations (same objects, same splits)
        with representation_cache() as cache:
            run_models(name, spec, data_path, [*models, *baselines], settings, args)
        _say(f"  representations reused {cache.hits} times, computed {cache.misses}")
    if main_process:
        finish(names, models, baselines, args, argv)
    return 0


def _say(message: str) -> None:
    """A progress line, from the main process only."""
    if is_main_process():
        print(message, flush=True)


def run_models(
    name: str, spec: dict, data_path: Path, models: list[str], settings: dict, args
) -> None:
    """Every usable model x seed of one data set, each cell unless done or recorded."""
    task = spec.get("task", "classification")
    for model in models:
        usable = model in BASELINES or get_model_spec(model).task in {task, "both"}
        if not usable:
            continue  # shown as "(classification only)" in the table
        for seed in settings["seeds"]:
            started = time.perf_counter()
            cell = Path(_label(name)) / model / f"seed{seed}"
            record = None if args.record is None else args.record / cell
            if recorded(record, retry_failed=args.retry_failed):
                _say(f"  {model} seed {seed}: recorded")
                continue
            cfg = run_config(
                model, name, spec, data_path, int(seed), settings, processes=process_count()
            )
            status = run_cell(cfg, args.out / cell, retry_failed=args.retry_failed)
            if record is not None and is_main_process():
                record_cell(args.out / cell, record)
            barrier()  # every process sees the cell finished before the next one
            _say(f"  {model} seed {seed}: {status} ({time.perf_counter() - started:.1f} s)")


def finish(names: list[str], models: list[str], baselines: list[str], args, argv) -> None:
    """Write the Markdown page of the cells of ``names``."""
    command = "python benchmarks/leaderboard.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    labels = [_label(n) for n in names]
    table = collect_runs([args.record if args.record is not None else args.out])
    table = table[table["data"].isin(labels)]
    page = leaderboard_markdown(
        table,
        models=[*models, *baselines] if args.models else None,
        datasets=labels,
        command=command.strip(),
    )
    markdown = args.markdown or args.out / "leaderboard.md"
    markdown.write_text(page)
    print(f"{len(table)} runs -> {markdown}")


if __name__ == "__main__":
    raise SystemExit(main())
