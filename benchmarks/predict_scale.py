"""Catalogue-scale prediction: throughput in-process and on a 2-worker Dask LocalCluster.

1. Simulates a catalogue of N curves with
   ``skyclass.datasets.simulate.simulate_catalogue`` (OGLE-like cadence, classes
   and periods drawn from the OGLE-III catalogue; seed ``--seed``), written as
   canonical Parquet shards.
2. ``--model mlp_features`` (the default) trains a small, fast classifier
   (``mlp_features`` on five numeric features, 3 epochs) on the first
   ``--train`` curves: only speed is measured here, not accuracy. With
   ``--period search`` (the default: the real path) the model searches every
   curve's period itself, in training and in prediction, and the simulated
   ``period`` column is never read; ``--period column`` reads it instead.
   ``--model general`` trains nothing: the shipped model
   (:mod:`skyclass.pretrained`; three ``foldnet`` networks on the folded grid and
   Fourier features, temperature-scaled and averaged) classifies the curves, their band given its
   name as ``skyclass classify`` does, before the clock starts.
3. Runs :func:`skyclass.predict.predict_catalogue` in this process (one core:
   ``torch.set_num_threads(1)``), then with ``workers=--workers`` (a
   ``LocalCluster`` of single-threaded processes that the call starts and closes:
   the wall time includes that), then on such a cluster already running with the
   model loaded (:func:`skyclass.predict.local_cluster`, ``scheduler=`` its
   address: the rate a long run approaches);
   checks that all give the same predictions; prints objects/s of each, the
   ratios to the in-process rate, and the peak resident memory of this process
   plus all its children (the Dask workers) during each run.
4. Prints the share of the in-process run's time per stage: read (Parquet to a
   set), period (the search), represent, network (the model's forward passes),
   write (Parquet out), other — measured by timing those calls where they happen,
   in wall time and in CPU time of the thread that runs them. On a shared, loaded
   machine the wall time counts the waits for a core; the CPU rate (objects per
   CPU second) is the rate per core that the prediction itself allows.

``--workers 0`` runs in this process only (one core), without the clusters.

The configuration is printed first, so the figures can be rerun.

Targets (project machine, 2 cores, with the period search): ≥ 100 objects per second per
core in process, ratio ≥ 1.8 with 2 workers, peak < 4 GB.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/predict_scale.py [--n 1000000]``
(smaller: ``--n 20000 --shard-size 2500 --chunk-size 2500``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

from skyclass.datasets.simulate import simulate_catalogue
from skyclass.estimator import LightCurveClassifier
from skyclass.lightcurve import LightCurveSet
from skyclass.predict import (
    PredictReport,
    check_model,
    local_cluster,
    predict_catalogue,
    read_predictions,
)


class PeakMemory:
    """Peak resident memory (GB) of this process and all its descendants while active.

    Samples with psutil every ``interval`` seconds (installed with dask.distributed);
    without psutil, falls back to ``getrusage`` of self plus waited-for children.
    """

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()

    def _sample(self) -> float:
        import psutil

        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:  # a process that just ended
                pass
        return total / 1e9

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        try:
            import psutil  # noqa: F401
        except ImportError:
            self._thread = None
        else:
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.peak = max(self.peak, self._sample())
        else:
            usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            usage += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            self.peak = usage / 1e6  # Linux reports kB


class StageTimes:
    """Seconds spent in each stage of prediction in this process, while active.

    Wraps the calls that do each stage (wherever prediction makes them) with a timer;
    a call made inside another timed call counts only for the outer one.
    """

    def __init__(self):
        import pyarrow.parquet as pq

        from skyclass.preprocess.period import PeriodSearch
        from skyclass.represent import base, features

        stages = ("read", "period", "represent", "network", "write")
        self.seconds = dict.fromkeys(stages, 0.0)
        self.cpu_seconds = dict.fromkeys(stages, 0.0)
        self._targets = [
            ("read", pq.ParquetFile, "read_row_groups"),
            ("read", LightCurveSet, "from_arrow"),
            ("period", PeriodSearch, "transform_many"),
            ("represent", base.Representation, "transform_many"),
            ("represent", features.NumericFeatures, "transform_many"),
            ("network", torch.nn.Module, "__call__"),
            ("write", pq, "write_table"),
        ]
        self._saved: list[tuple[object, str, object]] = []
        self._depth = 0

    def _wrap(self, stage: str, func):
        def timed(*args, **kwargs):
            if self._depth:
                return func(*args, **kwargs)
            self._depth += 1
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start
                self.cpu_seconds[stage] += time.thread_time() - cpu
                self._depth -= 1

        return timed

    def __enter__(self) -> StageTimes:
        for stage, owner, name in self._targets:
            original = owner.__dict__[name]
            self._saved.append((owner, name, original))
            if isinstance(original, classmethod):
                setattr(owner, name, classmethod(self._wrap(stage, original.__func__)))
            else:
                setattr(owner, name, self._wrap(stage, original))
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)

    def table(self, total: float, cpu_total: float) -> str:
        """Per stage: wall seconds and share, CPU seconds (this thread) and share."""
        rows = [(k, self.seconds[k], self.cpu_seconds[k]) for k in self.seconds] + [
            (
                "other",
                total - sum(self.seconds.values()),
                cpu_total - sum(self.cpu_seconds.values()),
            )
        ]
        lines = [f"  {'':10s} {'wall':>8s}  {'share':>6s}  {'CPU':>8s}  {'share':>6s}"]
        lines += [
            f"  {k:10s} {v:8.1f} s {v / total:6.1%}  {c:8.1f} s {c / cpu_total:6.1%}"
            for k, v, c in rows
        ]
        return "\n".join(lines)


def train_model(shard: Path, n_train: int, directory: Path, seed: int, period: str) -> Path:
    """A small mlp on numeric features, trained on the first curves of one shard."""
    lcs = LightCurveSet.read_parquet(shard)
    lcs = lcs.select(np.arange(min(n_train, len(lcs))))
    if period == "search":  # the search must not see the simulated periods
        lcs = lcs.with_objects(lcs.objects.drop(columns="period"))
    clf = LightCurveClassifier(
        model="mlp_features",
        period=period,
        representations={
            "features": {
                "features": ["log_period", "amplitude", "mean_mag", "n_epochs", "span"],
                "amplitude": "percentile",
            }
        },
        train={"max_epochs": 3, "batch_size": 128},
        validation_fraction=0.2,
        random_state=seed,
        progress=False,
    ).fit(lcs)
    return clf.save(directory)


def as_general_input(shards: list[Path], period: str) -> Path:
    """The shipped ``general`` model's directory; ``shards`` rewritten in its band."""
    from skyclass.pretrained import as_model_band, model_dir

    for shard in shards:
        lcs = as_model_band(LightCurveSet.read_parquet(shard), "any")
        if period == "search":  # the model's "auto" period then searches every curve
            lcs = lcs.with_objects(lcs.objects.drop(columns="period"))
        lcs.to_parquet(shard)
    return model_dir("general")


def timed_run(label: str, *, stages: bool = False, **kwargs) -> tuple[PredictReport, float]:
    with PeakMemory() as memory, StageTimes() if stages else contextlib.nullcontext() as times:
        start, cpu = time.perf_counter(), time.thread_time()
        report = predict_catalogue(**kwargs)
        total, cpu_total = time.perf_counter() - start, time.thread_time() - cpu
    print(report.summary())
    print(f"{label}: {report.throughput:,.0f} objects/s, peak memory {memory.peak:.2f} GB")
    if times is not None:  # in this process: all the work is on this thread
        n = report.n_objects
        print(
            f"{label}: {n / cpu_total:,.0f} objects per CPU second ({cpu_total:.1f} CPU s, "
            f"{total:.1f} s wall)"
        )
        print(f"share of the time per stage ({label}):")
        print(times.table(total, cpu_total))
    return report, memory.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="simulated curves")
    parser.add_argument("--shard-size", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument(
        "--workers", type=int, default=2, help="workers of the clusters; 0: in this process only"
    )
    parser.add_argument(
        "--model",
        choices=("mlp_features", "general"),
        default="mlp_features",
        help="train a small mlp_features, or classify with the shipped general model",
    )
    parser.add_argument("--train", type=int, default=2_000, help="curves to train on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--period",
        choices=("search", "column"),
        default="search",
        help="search every period (the real path) or read the simulated column",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    from skyclass.preprocess.period import PeriodConfig

    print(
        f"configuration: --n {args.n} --shard-size {args.shard_size} --chunk-size "
        f"{args.chunk_size} --workers {args.workers} --model {args.model} --train {args.train} "
        f"--seed {args.seed} "
        f"--period {args.period} (search: {PeriodConfig().search_options()}); "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, torch threads "
        f"{torch.get_num_threads()}, {os.cpu_count()} CPUs"
    )

    work = args.out or Path(tempfile.mkdtemp(prefix="skyclass-predict-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        shards = simulate_catalogue(
            args.n, out_dir=work / "catalogue", shard_size=args.shard_size, seed=args.seed,
            overwrite=True,
        )  # fmt: skip
        print(
            f"simulated {args.n:,} curves in {len(shards)} shards: "
            f"{time.perf_counter() - start:.1f} s"
        )
        start = time.perf_counter()
        if args.model == "general":
            model = as_general_input(shards, args.period)
            took = time.perf_counter() - start
            print(f"the shipped model {model}; shards in its band: {took:.1f} s")
        else:
            model = train_model(shards[0], args.train, work / "model", args.seed, args.period)
            took = time.perf_counter() - start
            print(f"trained mlp_features on {args.train:,} curves: {took:.1f} s")

        common = {"model_dir": model, "inputs": shards, "chunk_size": args.chunk_size}
        one, peak_one = timed_run(
            "1 worker (in-process)", out_dir=work / "pred-1", progress=False, stages=True, **common
        )
        if args.workers == 0:
            print(f"1,000,000 curves at the rate of 1 worker: {1e6 / one.throughput / 60:.1f} min")
            return
        cold, peak_cold = timed_run(
            f"{args.workers} workers (LocalCluster started and closed by the call)",
            out_dir=work / "pred-cold",
            workers=args.workers,
            progress=False,
            **common,
        )
        # the same workers once started, each with the model loaded: the rate a long
        # run approaches, where starting the cluster is a small share of the time
        from distributed import Client

        with local_cluster(args.workers) as cluster, Client(cluster) as client:
            address = cluster.scheduler_address
            client.run(check_model, model)  # every worker loads the model once
            warm, peak_warm = timed_run(
                f"{args.workers} workers (running LocalCluster, model loaded)",
                out_dir=work / "pred-warm",
                scheduler=address,
                progress=False,
                **common,
            )
        a = read_predictions(work / "pred-1")
        probs = [c for c in a.columns if c.startswith("prob_")]
        for name in ("pred-cold", "pred-warm"):
            b = read_predictions(work / name)
            same = a["object_id"].equals(b["object_id"]) and np.allclose(
                a[probs].to_numpy(float), b[probs].to_numpy(float), equal_nan=True
            )
            print(f"{name} has the in-process predictions: {same} ({len(b):,} objects)")
        print(
            f"throughput: 1 worker {one.throughput:,.0f}/s; {args.workers} workers "
            f"{cold.throughput:,.0f}/s with cluster start (ratio "
            f"{cold.throughput / one.throughput:.2f}), {warm.throughput:,.0f}/s started "
            f"(ratio {warm.throughput / one.throughput:.2f}; target ≥ 1.8)"
        )
        peak = max(peak_one, peak_cold, peak_warm)
        print(f"peak memory {peak:.2f} GB, this process and its children (target < 4 GB)")
        for label, rate in (
            ("1 worker", one.throughput),
            (f"{args.workers} workers", warm.throughput),
        ):
            print(f"1,000,000 curves at the rate of {label}: {1e6 / rate / 60:.1f} min")
    finally:
        if args.keep or args.out is not None:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
