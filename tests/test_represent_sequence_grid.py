"""Epoch and phase sequences, folded and harmonic grids: hand-worked cases, known truth, batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess.fourier import reconstruct
from skyclass.represent.base import Representation
from skyclass.represent.grid import FoldedGrid, HarmonicGrid
from skyclass.represent.sequence import EpochSequence, PhaseSequence


# ----------------------------------------------------------------------------- helpers
def _sinusoid(
    seed: int,
    *,
    n: int = 120,
    period: float = 0.7,
    band: str = "V",
    noise: float = 0.01,
    id: str = "",
) -> LightCurve:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 60, n))
    mag = 15 + 0.4 * np.cos(2 * np.pi * t / period + seed) + 0.15 * np.cos(4 * np.pi * t / period)
    mag = mag + rng.normal(0, noise, n)
    meta = {"period": period, "amplitude": 0.8, "R21": 0.375, "phi21": 1.0 + 0.1 * seed}
    return LightCurve(
        time=t, mag=mag, err=np.full(n, noise), band=band, id=id or f"s{seed}", meta=meta
    )


def _two_band(seed: int) -> LightCurve:
    g, r = _sinusoid(seed, n=80, band="g"), _sinusoid(seed + 100, n=60, band="r")
    t = np.concatenate([g.time, r.time + 1e-4])
    order = np.argsort(t, kind="stable")
    return LightCurve(
        time=t[order],
        mag=np.concatenate([g.mag, r.mag + 0.5])[order],
        err=np.concatenate([g.err, r.err])[order],
        band=np.concatenate([g.band, r.band])[order],
        id=f"m{seed}",
        meta=dict(g.meta),
    )


def _as_set(curves: list[LightCurve]) -> LightCurveSet:
    objects = pd.DataFrame([dict(lc.meta) for lc in curves])
    return LightCurveSet.from_lightcurves(curves, objects=objects)


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# ------------------------------------------------------------- EpochSequence by hand
def test_epoch_sequence_hand_worked_values_padding_and_mask():
    lc = LightCurve(time=[2.0, 3.0, 5.5], mag=[10.0, 11.0, 12.0], err=[0.1, 0.2, 0.3], band="V")
    out = EpochSequence(max_len=5).transform(lc)
    std = np.sqrt(2.0 / 3.0)  # population std of 10, 11, 12
    expected = np.zeros((5, 3), np.float32)
    expected[:3, 0] = [0.0, 1.0, 2.5]
    expected[:3, 1] = [-1 / std, 0.0, 1 / std]
    expected[:3, 2] = np.array([0.1, 0.2, 0.3]) / std
    np.testing.assert_allclose(out["seq"], expected, rtol=1e-6)
    np.testing.assert_array_equal(out["mask"], [1, 1, 1, 0, 0])
    assert out["seq"].dtype == np.float32 and out["mask"].dtype == np.float32


def test_epoch_sequence_without_errors_gives_zero_error_channel():
    lc = LightCurve(time=[0.0, 1.0], mag=[1.0, 3.0], err=[np.nan, np.nan], band="V")
    seq = EpochSequence(max_len=2).transform(lc)["seq"]
    np.testing.assert_array_equal(seq[:, 2], [0.0, 0.0])
    np.testing.assert_array_equal(seq[:, 1], [-1.0, 1.0])


@pytest.mark.parametrize(
    ("truncate", "kept"),
    [("even", [0, 3, 6, 9]), ("first", [0, 1, 2, 3]), ("last", [6, 7, 8, 9])],
)
def test_epoch_sequence_truncation_rule(truncate, kept):
    time = np.arange(10.0) ** 2
    mag = np.arange(10.0)
    lc = LightCurve(time=time, mag=mag, err=np.full(10, 0.5), band="V")
    seq = EpochSequence(max_len=4, truncate=truncate).transform(lc)["seq"]
    kept_time = time[kept]
    np.testing.assert_allclose(seq[:, 0], np.diff(kept_time, prepend=kept_time[0]))
    # standardised with the statistics of all ten epochs, not of the kept four
    np.testing.assert_allclose(seq[:, 1], (mag[kept] - 4.5) / mag.std(), rtol=1e-6)
    np.testing.assert_allclose(seq[:, 2], 0.5 / mag.std(), rtol=1e-6)


def test_epoch_sequence_separate_bands_each_in_own_order():
    lc = LightCurve(
        time=[0.0, 1.0, 2.0, 4.0, 7.0],
        mag=[1.0, 10.0, 3.0, 20.0, 2.0],
        err=[0.1] * 5,
        band=["g", "r", "g", "r", "g"],
    )
    rep = EpochSequence(max_len=4, bands="separate", band_order=("r", "g", "i"))
    out = rep.transform(lc)
    assert rep.output_shapes() == {"seq": (4, 9), "mask": (4,), "band_mask": (4, 3)}
    seq = out["seq"]
    np.testing.assert_allclose(seq[:, 0], [0, 3, 0, 0])  # r: times 1, 4
    np.testing.assert_allclose(seq[:, 1], [-1, 1, 0, 0])  # r mags 10, 20 standardised
    np.testing.assert_allclose(seq[:, 3], [0, 2, 5, 0])  # g: times 0, 2, 7
    g_std = np.std([1.0, 3.0, 2.0])
    np.testing.assert_allclose(seq[:3, 4], (np.array([1, 3, 2]) - 2) / g_std, rtol=1e-6)
    np.testing.assert_array_equal(seq[:, 6:], 0.0)  # no i epochs
    np.testing.assert_array_equal(out["band_mask"], [[1, 1, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(out["mask"], [1, 1, 1, 0])


def test_epoch_sequence_merged_bands_time_order_and_one_hot():
    lc = LightCurve(
        time=[0.0, 1.0, 2.0, 4.0], mag=[1.0, 10.0, 3.0, 20.0], err=[0.1] * 4,
        band=["g", "r", "g", "r"],
    )  # fmt: skip
    seq = EpochSequence(max_len=5, band_order=("r", "g")).transform(lc)["seq"]
    assert seq.shape == (5, 5)
    np.testing.assert_allclose(seq[:4, 0], [0, 1, 1, 2])  # Δt across bands
    np.testing.assert_allclose(seq[:4, 1], [-1, -1, 1, 1])  # standardised per band
    np.testing.assert_array_equal(seq[:4, 3:], [[0, 1], [1, 0], [0, 1], [1, 0]])
    np.testing.assert_array_equal(seq[4], 0.0)


def test_epoch_sequence_multi_band_needs_band_order():
    with pytest.raises(DataError, match="band_order"):
        EpochSequence().transform(_two_band(0))
    lc = _sinusoid(0)
    with pytest.raises(DataError, match="no epochs in the bands"):
        EpochSequence(band_order=("g",)).transform(lc)


def test_epoch_sequence_bad_options_list_the_valid_ones():
    with pytest.raises(ValueError, match="even"):
        EpochSequence(truncate="middle")
    with pytest.raises(ValueError, match="merged"):
        EpochSequence(bands="stacked")  # type: ignore[arg-type]


# ------------------------------------------------------------- PhaseSequence
def test_phase_sequence_raw_hand_worked():
    lc = LightCurve(
        time=[0.0, 2.5, 5.0, 7.5], mag=[1.0, 2.0, 3.0, 4.0], err=[0.1] * 4, band="G",
        meta={"period": 2.0},
    )  # fmt: skip
    out = PhaseSequence(variant="raw", align="none", max_len=6).transform(lc)
    expected = np.full((6, 2), -1.0, np.float32)
    expected[:4, 0] = [-1.5, -0.5, 0.5, 1.5]  # m − ⟨m⟩
    expected[:4, 1] = [0.0, 0.5, 1.0, 1.5]  # phase · P, phases 0, .25, .5, .75
    np.testing.assert_allclose(out["seq"], expected)
    np.testing.assert_array_equal(out["mask"], [1, 1, 1, 1, 0, 0])


def test_phase_sequence_raw_truncation_keeps_the_whole_cycle():
    lc = _sinusoid(3, n=100)
    seq = PhaseSequence(variant="raw", align="none", max_len=10).transform(lc)["seq"]
    phase = seq[:, 1] / 0.7
    assert phase[0] < 0.05 and phase[-1] > 0.95
    assert np.all(np.diff(phase) > 0)


def test_phase_sequence_spline_variants_known_truth_and_maximum_at_phase_zero():
    rng = np.random.default_rng(5)
    period, n = 0.6, 400
    t = np.sort(rng.uniform(0, 50, n))
    shape = -0.3 * np.cos(2 * np.pi * (t - 0.2) / period)  # maximum light at t = 0.2
    lc = LightCurve(
        time=t, mag=15 + shape + rng.normal(0, 0.005, n), err=np.full(n, 0.005), band="G",
        meta={"period": period},
    )  # fmt: skip
    full = PhaseSequence(variant="full", n_points=60).transform(lc)["seq"]
    spline = PhaseSequence(variant="spline", n_points=60).transform(lc)["seq"]
    with_mean = PhaseSequence(variant="full", n_points=60, mean_channel=True).transform(lc)
    grid = (np.arange(60) + 0.5) / 60
    np.testing.assert_allclose(full[:, 0], -0.3 * np.cos(2 * np.pi * grid), atol=0.01)
    np.testing.assert_allclose(full[:, 1], grid * period, rtol=1e-6)
    assert int(np.argmin(full[:, 0])) in (0, 59)
    offset = spline[:, 0] - full[:, 0]  # "spline" keeps apparent magnitudes
    np.testing.assert_allclose(offset, 15.0, atol=0.01)
    np.testing.assert_allclose(with_mean["seq"][:, 2], offset, atol=1e-4)
    np.testing.assert_array_equal(with_mean["mask"], 1.0)
    # bare phase plus log10(P) as a constant last channel, after the mean channel
    logp = PhaseSequence(
        variant="full", n_points=60, mean_channel=True, phase_times_period=False,
        log_period_channel=True,
    )  # fmt: skip
    out = logp.transform(lc)["seq"]
    assert out.shape == logp.output_shapes()["seq"] == (60, 4)
    np.testing.assert_allclose(out[:, 1], grid, rtol=1e-6)
    np.testing.assert_allclose(out[:, 2], offset, atol=1e-4)
    np.testing.assert_allclose(out[:, 3], np.log10(period), rtol=1e-6)


def test_phase_sequence_align_epoch_and_folded_input():
    lc = LightCurve(
        time=[0.0, 2.5, 5.0, 7.5], mag=[1.0, 2.0, 3.0, 4.0], err=[0.1] * 4, band="G",
        meta={"period": 2.0, "epoch": 0.5},
    )  # fmt: skip
    seq = PhaseSequence(variant="raw", align="epoch", max_len=4).transform(lc)["seq"]
    np.testing.assert_allclose(seq[:, 1], [0.0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(seq[:, 0], [-0.5, 0.5, 1.5, -1.5])  # 2.5 → phase 0
    with pytest.raises(DataError, match="meta\\['epoch'\\]"):
        PhaseSequence(align="epoch").transform(lc.replace(meta={"epoch": None}))
    folded = LightCurve(
        time=[0.0, 0.5], mag=[1.0, 2.0], err=[0.1, 0.1], band="G", meta={"time_ref": "phase"}
    )
    with pytest.raises(DataError, match="align='none'"):
        PhaseSequence(variant="raw").transform(folded)
    seq = PhaseSequence(variant="raw", align="none", max_len=2, phase_times_period=False)
    np.testing.assert_allclose(seq.transform(folded)["seq"], [[-0.5, 0.0], [0.5, 0.5]])


# ------------------------------------------------------------- FoldedGrid
def test_folded_grid_of_a_sinusoid_is_the_analytic_curve():
    period = 0.8
    t = np.concatenate([[0.0], np.sort(np.random.default_rng(2).uniform(0, 80, 3000))])
    lc = LightCurve(
        time=t, mag=12 + 0.5 * np.sin(2 * np.pi * t / period), err=np.full(t.size, 0.01),
        band="g", meta={"period": period},
    )  # fmt: skip
    out = FoldedGrid(n=128).transform(lc)
    phase = (np.arange(128) + 0.5) / 128  # fold's epoch is the first time, t = 0
    np.testing.assert_allclose(out["grid"][0], 12 + 0.5 * np.sin(2 * np.pi * phase), atol=2e-3)
    np.testing.assert_array_equal(out["grid_mask"], 1.0)
    two = FoldedGrid(n=128, cycles=2).transform(lc)["grid"][0]
    np.testing.assert_allclose(two, 12 + 0.5 * np.sin(4 * np.pi * phase), atol=2e-3)


def test_folded_grid_aligned_has_maximum_light_at_phase_zero():
    period = 0.7
    t = np.concatenate([[0.0], np.sort(np.random.default_rng(7).uniform(0, 60, 600))])
    x = 2 * np.pi * (t / period - 0.3)  # maximum light at phase 0.3 from the first epoch
    lc = LightCurve(
        time=t, mag=15 - 0.3 * np.cos(x) - 0.1 * np.cos(2 * x), err=np.full(t.size, 0.01),
        band="V", meta={"period": period},
    )  # fmt: skip

    def steps_from_phase_zero(grid: np.ndarray) -> int:
        i = int(np.argmin(grid))
        return min(i, grid.size - i)

    # within two grid steps (noise can move the discrete minimum by one)
    assert steps_from_phase_zero(FoldedGrid(n=100, align=True).transform(lc)["grid"][0]) <= 2
    assert int(np.argmin(FoldedGrid(n=100).transform(lc)["grid"][0])) in (29, 30)


def test_folded_grid_bands_missing_band_and_normalisation():
    lc = _two_band(1)
    rep = FoldedGrid(n=32, bands=("r", "i", "g"), normalize="minmax", align=True)
    out = rep.transform(lc)
    assert out["grid"].shape == out["grid_mask"].shape == (3, 32) == rep.output_shapes()["grid"]
    np.testing.assert_array_equal(out["grid"][1], 0.0)
    np.testing.assert_array_equal(out["grid_mask"][1], 0.0)
    for row in (0, 2):
        assert out["grid"][row].min() == 0.0 and out["grid"][row].max() == 1.0
    std = FoldedGrid(n=32, bands=("g",), normalize="standard").transform(lc)["grid"][0]
    assert abs(float(std.mean())) < 1e-5 and abs(float(std.std()) - 1) < 1e-5
    raw = FoldedGrid(n=32, bands=("g",)).transform(lc)["grid"][0]
    np.testing.assert_allclose(std, (raw - raw.mean()) / raw.std(), atol=1e-4)
    with pytest.raises(DataError, match="bands="):
        FoldedGrid().transform(lc)
    with pytest.raises(ValueError, match="minmax"):
        FoldedGrid(normalize="zscore")  # type: ignore[arg-type]


# ------------------------------------------------------------- HarmonicGrid
def test_harmonic_grid_amplitude_is_peak_to_peak():
    lc = LightCurve(
        time=[0, 1], mag=[1, 2], err=[0.1, 0.1], band="r",
        meta={"amplitude": 0.8, "R21": 0.0, "phi21": 0.0, "rmag": 17.0},
    )  # fmt: skip
    grid = HarmonicGrid(n=360).transform(lc)["grid"]
    assert grid.shape == (1, 360)
    assert np.isclose(np.ptp(grid), 0.8, atol=1e-6) and np.isclose(grid[0, 0], 0.4)
    with_mean = HarmonicGrid(n=360, with_mean=True, columns={"mean": "rmag"}).transform(lc)
    np.testing.assert_allclose(with_mean["grid"], grid + 17.0, atol=1e-5)


def test_harmonic_grid_table_equals_singles_and_reconstruct():
    table = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "Amp": [0.8, np.nan, 0.5, -0.1],
            "R21": [0.4, 0.3, 0.2, 0.1],
            "phi21": [4.0, 1.0, 2.0, 3.0],
            "R31": [0.2, 0.1, np.nan, 0.1],
            "phi31": [1.0, 1.0, 1.0, 1.0],
        }
    )
    rep = HarmonicGrid(n=90, third_harmonic=True, columns={"amplitude": "Amp"})
    out = rep.transform_table(table)
    assert out["grid"].shape == (4, 1, 90)
    np.testing.assert_array_equal(out["valid"], [True, False, False, False])
    assert set(out["errors"]) == {"b", "c", "d"}
    assert "Amp" in out["errors"]["b"] and "R31" in out["errors"]["c"]
    assert "not positive" in out["errors"]["d"]
    np.testing.assert_array_equal(out["grid"][1:], 0.0)
    _, expected = reconstruct(amplitude=0.8, R21=0.4, phi21=4.0, R31=0.2, phi31=1.0, n_phases=90)
    np.testing.assert_allclose(out["grid"][0, 0], expected, atol=1e-6)
    for i, row in table.iterrows():
        lc = LightCurve(time=[0], mag=[0], err=[1], band="r", id=row["id"], meta=row.to_dict())
        if out["valid"][i]:
            np.testing.assert_allclose(rep.transform(lc)["grid"], out["grid"][i], atol=1e-6)
        else:
            with pytest.raises(DataError) as exc:
                rep.transform(lc)
            assert exc.value.reason == out["errors"][row["id"]]
    with pytest.raises(DataError, match="R31"):
        rep.transform_table(table.drop(columns="R31"))


# ------------------------------------------------------------- contract, every class
REPRESENTATIONS: dict[str, Representation] = {
    "sequence": EpochSequence(max_len=64),
    "sequence_separate": EpochSequence(max_len=64, bands="separate", band_order=("V",)),
    "phase_raw": PhaseSequence(variant="raw", max_len=64),
    "phase_spline": PhaseSequence(variant="spline", n_points=32),
    "phase_full": PhaseSequence(variant="full", n_points=32, mean_channel=True),
    "grid": FoldedGrid(n=64),
    "grid_aligned": FoldedGrid(n=64, align=True, method="bin", normalize="standard"),
    "harmonic": HarmonicGrid(n=50),
}
NEEDS_PERIOD = ["phase_raw", "phase_spline", "phase_full", "grid", "grid_aligned"]


@pytest.fixture(scope="module")
def curves() -> list[LightCurve]:
    return [_sinusoid(seed, n=50 + 20 * seed, period=0.5 + 0.1 * seed) for seed in range(5)]


@pytest.mark.parametrize("key", sorted(REPRESENTATIONS))
def test_transform_many_equals_singles_for_lists_and_sets(key, curves):
    rep = REPRESENTATIONS[key]
    singles = [rep.transform(lc) for lc in curves]
    for batch_input in (curves, _as_set(curves)):
        batch = rep.transform_many(batch_input)
        assert batch["valid"].all() and batch["errors"] == {}
        for i, single in enumerate(singles):
            _assert_same({k: batch[k][i] for k in single}, single)
    for name, shape in rep.output_shapes().items():
        assert singles[0][name].shape == shape
        assert singles[0][name].dtype == np.float32
        assert np.all(np.isfinite(singles[0][name]))


@pytest.mark.parametrize("key", sorted(REPRESENTATIONS))
def test_inputs_are_not_mutated(key, curves):
    lc = curves[1]
    before = (lc.time.copy(), lc.mag.copy(), lc.err.copy(), lc.band.copy(), dict(lc.meta))
    REPRESENTATIONS[key].transform(lc)
    REPRESENTATIONS[key].transform_many(curves)
    for old, new in zip(before[:4], (lc.time, lc.mag, lc.err, lc.band), strict=True):
        np.testing.assert_array_equal(old, new)
    assert dict(lc.meta) == before[4]


@pytest.mark.parametrize("key", NEEDS_PERIOD)
def test_curve_without_period_is_invalid_in_batch_and_raises_singly(key, curves):
    rep = REPRESENTATIONS[key]
    assert rep.needs_period  # the CLI searches periods first for these
    broken = curves[2].replace(meta={"period": np.nan})
    with pytest.raises(DataError, match="period"):
        rep.transform(broken)
    batch = rep.transform_many([curves[0], broken, curves[3]])
    np.testing.assert_array_equal(batch["valid"], [True, False, True])
    assert "period" in batch["errors"][broken.id]
    for name in rep.output_shapes():
        np.testing.assert_array_equal(batch[name][1], 0.0)


def test_harmonic_grid_without_parameters_is_invalid_in_batch(curves):
    broken = curves[2].replace(meta={"R21": None})
    with pytest.raises(DataError, match="R21"):
        REPRESENTATIONS["harmonic"].transform(broken)
    batch = REPRESENTATIONS["harmonic"].transform_many([curves[0], broken])
    np.testing.assert_array_equal(batch["valid"], [True, False])
    assert "R21" in batch["errors"][broken.id]


@pytest.mark.parametrize("key", sorted(REPRESENTATIONS))
def test_a_curve_does_not_depend_on_the_rest_of_the_batch(key, curves):
    rep = REPRESENTATIONS[key]
    target = curves[0]
    others = [_sinusoid(seed, n=90, period=1.3) for seed in (11, 12)]
    first = rep.transform_many([target, *curves[1:]])
    second = rep.transform_many([*others[::-1], target, curves[4]])
    for name in rep.output_shapes():
        np.testing.assert_array_equal(first[name][0], second[name][2])
