"""Speed of the folded-curve image and the dm–dt map against what they replace.

- :class:`~skyclass.represent.image.FoldedImage` (numpy raster, one ``bincount`` per
  batch) against rendering the same 128×128 image with matplotlib (Agg canvas,
  ``scatter``, ``canvas.buffer_rgba()``, one reused figure), the way the papers
  made their images. Target: at least 100× faster.
- :class:`~skyclass.represent.dmdt.DmDt` (Mahabal 2017 grid) against
  ``light_curve.DmDt.points_many`` on the same arrays and grid, its fastest batched
  call (the numpy backend is shown too). Target: within 2×.

Curves: ``--n`` seeded simulated periodic curves (``--seed``), then the EROS-1 R-band
curves when ``SKYCLASS_SHARED_DATA`` holds ``eros1_lmc`` (folded on ``period /
div_period``). Prints curves per second; matplotlib renders only ``--mpl-n`` curves.

Run: ``python benchmarks/represent_speed.py [--n 2000] [--mpl-n 200] [--seed 0]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess.fold import phase_of
from skyclass.represent.dmdt import MAHABAL2017_DM_EDGES, MAHABAL2017_DT_EDGES, DmDt
from skyclass.represent.image import FoldedImage


def simulate(n: int, seed: int) -> LightCurveSet:
    """Periodic curves with 40–500 epochs over ~3 seasons, each with its period in ``period``."""
    rng = np.random.default_rng(seed)
    curves, periods = [], []
    for i in range(n):
        k = int(rng.integers(40, 501))
        season = rng.integers(0, 3, k) * 365.25
        t = np.unique(np.round(season + rng.uniform(0, 200, k), 5))
        period = float(10 ** rng.uniform(-1.3, 2.5))
        phase = 2 * np.pi * t / period
        amp = rng.uniform(0.1, 1.5)
        mag = 15 + amp * (np.sin(phase) + 0.3 * np.sin(2 * phase + 1)) + rng.normal(0, 0.03, t.size)
        curves.append(LightCurve(time=t, mag=mag, err=np.full(t.size, 0.03), band="R", id=str(i)))
        periods.append(period)
    import pandas as pd

    return LightCurveSet.from_lightcurves(curves, objects=pd.DataFrame({"period": periods}))


def rate(func: Callable[[], object], n: int, repeat: int = 3) -> float:
    """Best of ``repeat`` runs, in curves per second."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return n / best


def matplotlib_images(arrays: list[tuple[np.ndarray, np.ndarray, float]], size: int = 128):
    """The folded curves rendered by matplotlib into ``size``×``size`` grey images in [0, 1]."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size / 100, size / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    out = np.empty((len(arrays), size, size), np.float32)
    for i, (t, m, period) in enumerate(arrays):
        ax.clear()
        ax.set_axis_off()
        ax.scatter(phase_of(t, period, t[0]), m, s=1, c="k", marker="s", linewidths=0)
        ax.set_xlim(0, 1)
        ax.set_ylim(m.max(), m.min())  # brighter up
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        out[i] = 1 - rgba[..., 0] / 255.0
    return out


def compare(lcs: LightCurveSet, label: str, mpl_n: int, band: str) -> None:
    n = len(lcs)
    picked = [lcs[i] for i in range(n)]
    arrays = []
    for lc in picked:
        try:
            lc = lc.select_band(band)
        except DataError:
            continue
        arrays.append((lc.time, lc.mag, float(lc.meta["period"])))
    epochs = np.array([a[0].size for a in arrays])
    print(
        f"\n{label}: {n} curves, {band} epochs per curve median {np.median(epochs):.0f} "
        f"(max {epochs.max()})"
    )

    image = FoldedImage(band=band)
    ours_set = rate(lambda: image.transform_many(lcs), n)
    ours_list = rate(lambda: image.transform_many(picked), n)
    sub = arrays[:mpl_n]
    mpl = rate(lambda: matplotlib_images(sub), len(sub), repeat=1)
    print(
        f"  FoldedImage 128x128: {ours_set:,.0f} curves/s (LightCurveSet), "
        f"{ours_list:,.0f} curves/s (list of LightCurve); matplotlib Agg scatter: "
        f"{mpl:,.1f} curves/s ({len(sub)} curves); ratio {ours_set / mpl:,.0f}x "
        f"(target >= 100x)"
    )

    import light_curve

    dmdt = DmDt.mahabal2017(bands=(band,))
    numpy_dmdt = DmDt.mahabal2017(bands=(band,), backend="numpy")
    reference = light_curve.DmDt(
        dt=np.array(MAHABAL2017_DT_EDGES),
        dm=np.array(MAHABAL2017_DM_EDGES),
        dt_type="asis",
        dm_type="asis",
    )
    pairs = [(np.ascontiguousarray(t), np.ascontiguousarray(m)) for t, m, _ in arrays]
    ours = rate(lambda: dmdt.transform_many(lcs), n)
    theirs = rate(lambda: reference.points_many(pairs, sorted=True), len(pairs))
    ours_numpy = rate(lambda: numpy_dmdt.transform_many(lcs), n, repeat=1)
    ref_maps = reference.points_many(pairs, sorted=True)
    got = DmDt.mahabal2017(bands=(band,), norm="counts").transform_many(lcs)["dmdt"][:, 0]
    same = np.array_equal(np.transpose(ref_maps, (0, 2, 1)), got)
    print(
        f"  DmDt (Mahabal grid 22x23): {ours:,.0f} curves/s (light-curve backend, from the "
        f"set), {ours_numpy:,.0f} curves/s (numpy backend); light_curve.DmDt.points_many on "
        f"bare arrays: {theirs:,.0f} curves/s; ratio {theirs / ours:.2f}x (target <= 2x); "
        f"counts identical: {same}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="simulated curves")
    parser.add_argument("--mpl-n", type=int, default=200, help="curves matplotlib renders")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated curves")
    args = parser.parse_args()
    compare(simulate(args.n, args.seed), f"simulated (seed {args.seed})", args.mpl_n, "R")
    from skyclass.datasets import shared_path
    from skyclass.io import read

    try:
        root = shared_path("eros1_lmc")
    except DataError as exc:
        print(f"\nEROS-1 skipped: {exc}")
        return
    lcs = read(root, format="eros", progress=False)
    objects = lcs.objects.assign(period=lcs.objects["period"] / lcs.objects["div_period"])
    compare(lcs.with_objects(objects), "EROS-1 LMC, R band", args.mpl_n, "R")


if __name__ == "__main__":
    main()
