"""Phase folding, alignment on maximum light and resampling to fixed grids."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve
from skyclass.preprocess.fold import align_maximum, epoch_of_maximum, fold, phase_of
from skyclass.preprocess.resample import METHODS, resample, resample_bands, resample_many

TWO_PI = 2 * np.pi


def _folded(phase, mag, band="V", err=None, id=""):
    phase = np.asarray(phase, float)
    err = np.full(phase.size, 0.05) if err is None else err
    return LightCurve(time=phase, mag=mag, err=err, band=band, id=id, meta={"time_ref": "phase"})


def _cepheid(rng, n=300, period=3.3, t_max=1.234, sigma=0.01, id="cep"):
    """A skewed pulsator whose maximum light (minimum magnitude) is at t_max + k·P."""
    t = np.sort(rng.uniform(0, 200, n))
    x = TWO_PI * (t - t_max) / period
    # a sawtooth-like shape written so that x = 0 is its minimum magnitude
    shape = -(np.cos(x) + 0.4 * np.cos(2 * x) + 0.15 * np.cos(3 * x))
    return LightCurve(
        time=t, mag=15 + 0.3 * shape + rng.normal(0, sigma, n), err=np.full(n, sigma), band="I",
        id=id,
    )  # fmt: skip


def _snapshot(lc):
    return (lc.time.copy(), lc.mag.copy(), lc.err.copy(), lc.band.copy(), dict(lc.meta))


def _unchanged(lc, snap):
    time, mag, err, band, meta = snap
    np.testing.assert_array_equal(lc.time, time)
    np.testing.assert_array_equal(lc.mag, mag)
    np.testing.assert_array_equal(lc.err, err)
    np.testing.assert_array_equal(lc.band, band)
    assert dict(lc.meta) == meta


# -------------------------------------------------------------------------------- fold
def test_phase_of_hand_values():
    np.testing.assert_allclose(phase_of([0.0, 0.5, 2.25, -0.25, 3.0], 1.0), [0, 0.5, 0.25, 0.75, 0])
    np.testing.assert_allclose(phase_of([10.0, 11.0], 4.0, epoch=9.0), [0.25, 0.5])
    assert np.all(phase_of(-np.logspace(-18, -15, 10), 1.0) < 1.0)
    with pytest.raises(ValueError, match="period"):
        phase_of([1.0], 0.0)


def test_fold_returns_sorted_phases_and_records_meta():
    lc = LightCurve(
        time=[10.0, 10.3, 11.1, 12.6], mag=[1, 2, 3, 4], err=[0.1] * 4, band="V", id="x",
        meta={"source": "a.dat"},
    )  # fmt: skip
    snap = _snapshot(lc)
    folded = fold(lc, 1.0)
    np.testing.assert_allclose(folded.time, [0.0, 0.1, 0.3, 0.6])
    assert folded.mag.tolist() == [1, 3, 2, 4]
    assert folded.meta["period"] == 1.0 and folded.meta["epoch"] == 10.0
    assert folded.meta["time_ref"] == "phase" and folded.meta["folded_cycles"] == 1
    assert folded.meta["folded_dropped"] == 0 and folded.meta["source"] == "a.dat"
    assert folded.id == "x"
    _unchanged(lc, snap)
    assert fold(lc, 1.0, epoch=10.5).time[0] == pytest.approx(0.1)


def test_fold_on_twice_the_period_separates_eclipses():
    # primary eclipse (deep) at even cycles, secondary (shallow) at odd cycles of P = 1
    rng = np.random.default_rng(25)
    t = np.sort(rng.uniform(0, 60, 1500))
    cycle = np.floor(t + 0.5)
    near = np.abs(t - cycle) < 0.06
    depth = np.where(cycle % 2 == 0, 1.0, 0.3)
    lc = LightCurve(time=t, mag=12.0 + near * depth, err=np.full(t.size, 0.01), band="V")
    one = fold(lc, 1.0, epoch=0.0)
    two = fold(lc, 1.0, epoch=0.0, cycles=2)
    assert one.time.max() < 1.0 and 1.9 < two.time.max() < 2.0
    assert two.meta["folded_cycles"] == 2 and two.meta["period"] == 1.0
    # on 2P the primary sits at phase 0 and the secondary at phase 1 (in cycles of P)
    assert np.all(two.mag[np.abs(two.time - 1.0) < 0.05] == 12.3)
    assert np.all(two.mag[(two.time < 0.05) | (two.time > 1.95)] == 13.0)
    # on P both eclipses fall at phase 0
    assert set(np.unique(one.mag[one.time < 0.05])) == {13.0, 12.3}
    np.testing.assert_allclose(two.time, np.sort(2 * phase_of(t, 2.0)), atol=1e-12)


def test_fold_drops_repeated_phases_within_a_band_only():
    lc = LightCurve(
        time=[0.0, 0.0, 0.25, 1.0, 1.0, 2.25],
        mag=[1.0, 5.0, 2.0, 3.0, 6.0, 4.0],
        err=[0.1] * 6,
        band=["g", "r", "g", "g", "r", "g"],
    )
    folded = fold(lc, 1.0, epoch=0.0)
    # g at phase 0 twice (t=0 and t=1), r at phase 0 twice, g at 0.25 twice: 3 dropped
    assert folded.meta["folded_dropped"] == 3
    assert folded.time.tolist() == [0.0, 0.0, 0.25]
    assert folded.band.tolist() == ["g", "r", "g"]
    assert folded.mag.tolist() == [1.0, 5.0, 2.0]


@pytest.mark.parametrize("period", [0.0, -2.0, np.nan, np.inf, "abc"])
def test_fold_bad_periods(period):
    lc = LightCurve(time=[0.0, 1.0, 2.0], mag=[1, 2, 3], err=[0.1] * 3, band="V", id="bad-1")
    with pytest.raises(DataError, match=r"bad-1.*period"):
        fold(lc, period)


def test_fold_strict_period_and_refolding():
    lc = LightCurve(time=[0.0, 1.0, 2.0], mag=[1, 2, 3], err=[0.1] * 3, band="V", id="s")
    assert len(fold(lc, 5.0)) == 3
    with pytest.raises(DataError, match="longer than the time span"):
        fold(lc, 5.0, strict_period=True)
    assert len(fold(lc, 1.5, strict_period=True)) == 3
    with pytest.raises(DataError, match="already folded"):
        fold(fold(lc, 1.5), 1.5)
    with pytest.raises(ValueError, match="cycles"):
        fold(lc, 1.5, cycles=0)


# ----------------------------------------------------------------------- maximum light
def test_align_maximum_puts_maximum_light_at_phase_zero():
    rng = np.random.default_rng(20)
    lc = _cepheid(rng, t_max=1.234, period=3.3)
    snap = _snapshot(lc)
    t_max = epoch_of_maximum(lc, 3.3)
    assert ((t_max - 1.234) / 3.3 + 0.5) % 1 - 0.5 == pytest.approx(0, abs=0.01)
    folded = align_maximum(lc, 3.3)
    assert folded.meta["epoch_kind"] == "maximum" and folded.meta["epoch"] == t_max
    # the brightest points of the folded curve lie at phase 0 (mod 1) within 0.01
    brightest = folded.time[np.argsort(folded.mag)[:5]]
    assert np.all(np.minimum(brightest, 1 - brightest) < 0.05)
    grid = np.linspace(0, 1, 2001)
    shape = -(
        np.cos(TWO_PI * grid) + 0.4 * np.cos(4 * np.pi * grid) + 0.15 * np.cos(6 * np.pi * grid)
    )
    assert grid[np.argmin(shape)] in (0.0, 1.0)  # the truth's maximum light is at x = 0
    _unchanged(lc, snap)


def test_align_maximum_multiband_needs_band():
    rng = np.random.default_rng(21)
    a = _cepheid(rng, n=100)
    time = np.concatenate([a.time, a.time + 1e-3])
    order = np.argsort(time)
    lc = LightCurve(
        time=time[order],
        mag=np.concatenate([a.mag, a.mag + 0.5])[order],
        err=np.full(200, 0.01),
        band=np.array(["I"] * 100 + ["V"] * 100)[order],
    )
    with pytest.raises(DataError, match="band="):
        align_maximum(lc, 3.3)
    folded = align_maximum(lc, 3.3, band="I")
    assert set(folded.bands) == {"I", "V"} and len(folded) == 200


# ---------------------------------------------------------------------------- resample
def test_linear_hand_values_with_wrapping():
    lc = _folded([0.1, 0.4, 0.6, 0.9], [1.0, 2.0, 4.0, 3.0])
    values, mask = resample(lc, 10, method="linear", max_gap=0.5)
    # centres 0.05, 0.15, ..., 0.95; 0.05 and 0.95 interpolate across the wrap (0.9 → 1.1)
    hand = [1.5, 1 + 1 / 6, 1.5, 1 + 5 / 6, 2.5, 3.5, 4 - 1 / 6, 3.5, 4 - 5 / 6, 2.5]
    np.testing.assert_allclose(values, hand, atol=1e-6)
    assert values.dtype == np.float32 and mask.all()
    v4, _ = resample(_folded([0.0, 0.25, 0.5, 0.75], [1.0, 2.0, 3.0, 2.0]), 4)
    assert v4.tolist() == [1.5, 2.5, 2.5, 1.5]


def test_linear_mask_marks_gaps():
    phase = np.concatenate([np.linspace(0, 0.3, 31), np.linspace(0.7, 0.99, 30)])
    lc = _folded(phase, np.sin(TWO_PI * phase))
    values, mask = resample(lc, 100, max_gap=0.05)
    centres = (np.arange(100) + 0.5) / 100
    nearest = np.min(np.abs(((centres[:, None] - phase[None, :]) + 0.5) % 1 - 0.5), axis=1)
    np.testing.assert_array_equal(mask, nearest <= 0.05)
    assert not mask[(centres > 0.36) & (centres < 0.64)].any()
    assert mask[centres < 0.3].all() and np.isfinite(values).all()
    # default threshold: two bin widths or 0.02
    _, default = resample(lc, 100)
    np.testing.assert_array_equal(default, nearest <= 0.02)


def test_bin_hand_values():
    lc = _folded([0.05, 0.1, 0.3, 0.8], [1.0, 3.0, 5.0, 7.0])
    values, mask = resample(lc, 4, method="bin")
    # bins [0, .25): mean 2; [.25, .5): 5; [.5, .75): empty → between 5 (.375) and 7 (.875)
    np.testing.assert_allclose(values, [2.0, 5.0, 6.0, 7.0])
    assert mask.tolist() == [True, True, False, True]
    # an empty first bin interpolates across the wrap: 7 at .875 and 5 at 1.375
    v, m = resample(_folded([0.3, 0.8], [5.0, 7.0]), 4, method="bin")
    np.testing.assert_allclose(v, [6.0, 5.0, 6.0, 7.0])
    assert m.tolist() == [False, True, False, True]


def test_spline_follows_a_smooth_sinusoid():
    rng = np.random.default_rng(22)
    phase = np.sort(rng.uniform(0, 1, 300))
    truth = lambda p: 15 + 0.4 * np.cos(TWO_PI * p) + 0.1 * np.cos(4 * np.pi * p + 1)  # noqa: E731
    lc = _folded(phase, truth(phase) + rng.normal(0, 0.01, 300), err=np.full(300, 0.01))
    values, mask = resample(lc, 256, method="spline")
    centres = (np.arange(256) + 0.5) / 256
    assert np.max(np.abs(values - truth(centres))) < 0.01
    assert mask.all()
    assert abs(values[0] - values[-1]) < 0.01  # periodic: no jump across phase 0
    with pytest.raises(DataError, match=r"tiny.*at least 5.*method='linear'"):
        resample(_folded([0.1, 0.5, 0.9], [1.0, 2.0, 1.5], id="tiny"), 16, method="spline")


def test_spline_without_errors():
    phase = np.linspace(0, 1, 80, endpoint=False)
    lc = _folded(phase, np.cos(TWO_PI * phase), err=np.full(80, np.nan))
    values, _ = resample(lc, 64, method="spline")
    np.testing.assert_allclose(values, np.cos(TWO_PI * (np.arange(64) + 0.5) / 64), atol=0.01)


def test_bad_inputs():
    lc = _folded([0.1, 0.5], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"'bin', 'linear', 'spline'"):
        resample(lc, 8, method="cubic")
    assert set(METHODS) == {"linear", "spline", "bin"}
    with pytest.raises(ValueError, match="n must be"):
        resample(lc, 0)
    raw = LightCurve(time=[0.0, 3.0], mag=[1, 2], err=[0.1, 0.1], band="V", id="raw-1")
    with pytest.raises(DataError, match=r"raw-1.*not folded.*fold"):
        resample(raw, 8)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_batch_equals_singles_and_inputs_are_not_mutated(method):
    rng = np.random.default_rng(23)
    curves = [fold(_cepheid(rng, n=60 + 20 * i, id=f"c{i}"), 3.3) for i in range(4)]
    snaps = [_snapshot(lc) for lc in curves]
    values, mask = resample_many(curves, 64, method=method)
    assert values.shape == (4, 64) and mask.shape == (4, 64) and values.dtype == np.float32
    for i, lc in enumerate(curves):
        v, m = resample(lc, 64, method=method)
        np.testing.assert_array_equal(values[i], v)
        np.testing.assert_array_equal(mask[i], m)
        _unchanged(lc, snaps[i])
    empty_values, empty_mask = resample_many([], 64, method=method)
    assert empty_values.shape == (0, 64) and empty_mask.shape == (0, 64)


def test_multiband_resampling():
    lc = LightCurve(
        time=[0.0, 0.1, 0.2, 0.5, 0.6, 0.8],
        mag=[1.0, 10.0, 2.0, 3.0, 12.0, 2.5],
        err=[0.1] * 6,
        band=["g", "r", "g", "g", "r", "g"],
        meta={"time_ref": "phase"},
    )
    with pytest.raises(DataError, match=r"\['g', 'r'\].*band="):
        resample(lc, 8)
    values, mask = resample_bands(lc, ("r", "g", "i"), 8)
    assert values.shape == (3, 8) and mask.shape == (3, 8)
    for row, band in enumerate(("r", "g")):
        v, m = resample(lc, 8, band=band)
        np.testing.assert_array_equal(values[row], v)
        np.testing.assert_array_equal(mask[row], m)
    assert not mask[2].any() and np.all(values[2] == 0)
    many, _ = resample_many([lc, lc], 8, band="g")
    np.testing.assert_array_equal(many[1], values[1])


def test_resample_curve_folded_on_two_periods():
    rng = np.random.default_rng(24)
    lc = _cepheid(rng, n=200)
    two = fold(lc, 3.3, epoch=0.0, cycles=2)
    on_2p = fold(lc, 6.6, epoch=0.0)
    for method in METHODS:
        np.testing.assert_allclose(
            resample(two, 32, method=method)[0], resample(on_2p, 32, method=method)[0], atol=1e-5
        )


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def ogle_cepheids(shared_data):
    from skyclass.io import read

    return read(shared_path(shared_data, "ogle4_lmc_cep"), format="ogle")


@pytest.mark.realdata
def test_ogle_maximum_matches_catalogue_epoch(ogle_cepheids):
    """Our epoch of maximum light agrees with OGLE's T0 (same time system after reading)."""
    objects = ogle_cepheids.objects
    rows = np.flatnonzero((objects["label"] == "F").to_numpy() & objects["t0"].notna())[:300]
    offsets, curves = [], []
    for i in rows:
        lc, period = ogle_cepheids[int(i)], float(objects["period"].iloc[i])
        folded = align_maximum(lc, period)
        offsets.append(((folded.meta["epoch"] - objects["t0"].iloc[i]) / period + 0.5) % 1 - 0.5)
        curves.append(folded)
    close = np.mean(np.abs(offsets) < 0.02)
    assert close >= 0.95, f"maximum within 0.02 of a cycle of OGLE's T0 for {close:.3f}"
    values, mask = resample_many(curves, 128, method="bin")
    assert np.isfinite(values).all() and mask.mean() > 0.9
    # aligned on maximum light: the brightest bin sits next to phase 0 for most stars
    brightest = np.argmin(values, axis=1)
    assert np.mean((brightest < 6) | (brightest > 121)) > 0.9
