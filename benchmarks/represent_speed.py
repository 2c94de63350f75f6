"""Speed of the folded image, the dm–dt map and the numeric features against what they replace.

- :class:`~skyclass.represent.image.FoldedImage` (numpy raster, one ``bincount`` per
  batch) against rendering the same 128×128 image with matplotlib (Agg canvas), the
  way the papers made their images, used as fast as it reasonably goes: one figure
  and one ``scatter`` artist for all curves, its points replaced
  (``set_offsets``) and only it redrawn over the saved blank background
  (``restore_region`` + ``draw_artist``). The papers' way, clearing the axes and
  making a new scatter per curve, is printed beside it.
- :class:`~skyclass.represent.dmdt.DmDt` (Mahabal 2017 grid) against
  ``light_curve.DmDt.points_many`` on the same arrays and grid, its fastest batched
  call (the numpy backend is shown too). Target: within 2×.
- :class:`~skyclass.represent.features.NumericFeatures` with the README's 21
  ``light-curve`` extractors (no built-in feature): ``transform_many`` on the set
  against ``light_curve.Extractor.many`` on the bare reference-band arrays (one
  thread both), and the per-curve ``transform``; values identical.

Curves: ``--n`` seeded simulated periodic curves (``--seed``), then the EROS-1 R-band
curves when ``SKYCLASS_SHARED_DATA`` holds ``eros1_lmc`` (folded on ``period /
div_period``). Prints curves per second of wall time (best of 3); matplotlib
renders only ``--mpl-n`` curves.

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


def _mpl_axes(size: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size / 100, size / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    return canvas, ax


def matplotlib_images_new_artist(arrays, size: int = 128) -> np.ndarray:
    """The papers' way: clear the axes and make a new scatter for every curve."""
    canvas, ax = _mpl_axes(size)
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


def matplotlib_images(arrays, size: int = 128) -> np.ndarray:
    """The same images from one reused scatter artist, redrawn alone over a saved background.

    Magnitudes are scaled to [0, 1] per curve (brighter up) so the axes never change.
    """
    canvas, ax = _mpl_axes(size)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0)
    points = ax.scatter([], [], s=1, c="k", marker="s", linewidths=0, animated=True)
    canvas.draw()
    background = canvas.copy_from_bbox(ax.bbox)
    out = np.empty((len(arrays), size, size), np.float32)
    for i, (t, m, period) in enumerate(arrays):
        canvas.restore_region(background)
        scaled = (m - m.min()) / max(float(np.ptp(m)), 1e-12)
        points.set_offsets(np.column_stack([phase_of(t, period, t[0]), scaled]))
        ax.draw_artist(points)
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
    mpl = rate(lambda: matplotlib_images(sub), len(sub))
    mpl_new = rate(lambda: matplotlib_images_new_artist(sub), len(sub), repeat=1)
    same = np.mean(matplotlib_images(sub[:20]) == matplotlib_images_new_artist(sub[:20]))
    print(
        f"  FoldedImage 128x128: {ours_set:,.0f} curves/s (LightCurveSet), "
        f"{ours_list:,.0f} curves/s (list of LightCurve)\n"
        f"  matplotlib Agg, one reused scatter artist redrawn over a saved background: "
        f"{mpl:,.1f} curves/s ({len(sub)} curves); FoldedImage is {ours_set / mpl:,.0f}x "
        f"that\n"
        f"  (matplotlib clearing the axes and making a new scatter per curve, the papers' "
        f"way: {mpl_new:,.1f} curves/s, {ours_set / mpl_new:,.0f}x; the two renderings "
        f"share {same:.3f} of their pixels)"
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
    compare_features(lcs, picked, band)


#: The 21 ``light-curve`` extractors of the EROS-1 feature model in docs/guide/models.md.
README_EXTRACTORS = (
    "AndersonDarlingNormal", "BeyondNStd", "Cusum", "Eta", "EtaE", "ExcessVariance",
    "InterPercentileRange", "Kurtosis", "LaflerKinmanStringLength", "MagnitudePercentageRatio",
    "MaximumSlope", "MedianAbsoluteDeviation", "MedianBufferRangePercentage", "PercentAmplitude",
    "PercentDifferenceMagnitudePercentile", "ReducedChi2", "Skew", "StandardDeviation",
    "StetsonK", "Roms", "OtsuSplit",
)  # fmt: skip


def compare_features(lcs: LightCurveSet, picked: list[LightCurve], band: str) -> None:
    """NumericFeatures' batch against light-curve's ``many`` on bare arrays, one thread each."""
    from skyclass.represent.features import NumericFeatures

    n = len(lcs)
    rep = NumericFeatures(features=[], reference_band=band, extractors=README_EXTRACTORS)
    series = []
    for lc in picked:
        keep = lc.band == band
        series.append(tuple(np.ascontiguousarray(a[keep]) for a in (lc.time, lc.mag, lc.err)))
    series = [s for s in series if s[0].size]
    extractor = rep._extractor
    batch = rate(lambda: rep.transform_many(lcs), n)
    singles = rate(lambda: [rep.transform(lc) for lc in picked], n, repeat=1)
    bare = rate(lambda: extractor.many(series, fill_value=np.nan, n_jobs=1), len(series))
    ours = rep.transform_many(lcs)
    theirs = np.asarray(extractor.many(series, fill_value=np.nan, n_jobs=1), np.float32)
    has = np.array([np.any(lc.band == band) for lc in picked])
    same = np.array_equal(ours["features"][has], np.where(np.isfinite(theirs), theirs, 0))
    print(
        f"  NumericFeatures, {len(README_EXTRACTORS)} light-curve extractors on {band}: "
        f"transform_many {batch:,.0f} curves/s (LightCurveSet), transform one by one "
        f"{singles:,.0f} curves/s; light_curve Extractor.many on bare arrays {bare:,.0f} "
        f"curves/s (n_jobs=1); ratio {bare / batch:.2f}x; values identical: {same}"
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
