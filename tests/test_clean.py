"""Epoch cleaning: hand-worked curves, injected outliers, batch = singles, bad objects skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass import DataError, LightCurve, LightCurveSet
from skyclass.config import Config
from skyclass.preprocess.clean import (
    STEPS,
    CleanConfig,
    Cleaner,
    clip_errors,
    clip_outliers,
    clip_supersmoother,
    require_epochs,
    robust_sigma,
)


def _lc(mag, err=None, band="g", id="s", time=None) -> LightCurve:
    mag = np.asarray(mag, dtype=float)
    t = np.arange(mag.size, dtype=float) if time is None else np.asarray(time, float)
    e = np.full(mag.size, np.nan) if err is None else np.asarray(err, float)
    return LightCurve(time=t, mag=mag, err=e, band=band, id=id)


def _sinusoid(seed: int, n: int = 300, *, errors: bool = True, id: str = "sin"):
    """A seeded two-harmonic curve, period 0.7 d, σ = 0.02 mag, with 6 outliers at known epochs."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 200, n))
    phase = (t / 0.7) % 1
    mag = 15 + 0.4 * np.sin(2 * np.pi * phase) + 0.1 * np.sin(4 * np.pi * phase)
    mag += rng.normal(0, 0.02, n)
    bad = np.sort(rng.choice(n, 6, replace=False))
    mag[bad] += rng.choice([-1, 1], bad.size) * rng.uniform(0.3, 1.0, bad.size)
    err = np.full(n, 0.02) if errors else None
    return _lc(mag, err, time=t, id=id), bad


# ------------------------------------------------------------ hand-worked
def test_clip_errors_hand_worked_per_band():
    # g: mean error 0.3 → limit 0.6, drops 0.9; r: mean 0.2 → limit 0.4, keeps all
    lc = LightCurve(
        time=np.arange(7.0),
        mag=np.ones(7),
        err=[0.1, 0.1, 0.1, 0.9, 0.2, 0.2, 0.2],
        band=["g", "g", "g", "g", "r", "r", "r"],
    )
    new, removed = clip_errors(lc, factor=2.0)
    assert removed.tolist() == [False, False, False, True, False, False, False]
    assert new.err.tolist() == [0.1, 0.1, 0.1, 0.2, 0.2, 0.2]
    assert new.meta["cleaning"] == [{"step": "errors", "removed": 1, "factor": 2.0}]
    # a factor of 1.4 puts the g limit at 0.42 (0.9 still out) and the r limit at 0.28
    assert np.flatnonzero(clip_errors(lc, factor=1.4)[1]).tolist() == [3]


def test_clip_errors_is_a_noop_without_errors():
    lc = _lc([1.0, 2.0, 30.0])
    new, removed = clip_errors(lc)
    assert not removed.any() and len(new) == 3
    assert new.meta["cleaning"][0]["removed"] == 0


def test_clip_outliers_hand_worked():
    # median 10, |dev| sorted 0,0,.05,.05,.1,.1,2 → MAD .05, σ .0741, 3σ .222
    lc = _lc([10, 10.1, 9.9, 10, 12, 10.05, 9.95])
    assert robust_sigma(lc.mag) == pytest.approx(1.4826 * 0.05)
    new, removed = clip_outliers(lc, nsigma=3)
    assert np.flatnonzero(removed).tolist() == [4]
    assert new.mag.max() == pytest.approx(10.1)
    # a loose cut keeps it: 2 / 0.0741 = 27σ
    assert not clip_outliers(lc, nsigma=30)[1].any()


def test_clip_outliers_works_band_by_band():
    # the r epochs sit 5 mag below g: pooled they would be outliers, per band they are not
    lc = LightCurve(
        time=np.arange(8.0),
        mag=[10, 10.1, 9.9, 14, 15, 15.1, 14.9, 15],
        err=np.full(8, 0.05),
        band=list("ggggrrrr"),
    )
    assert np.flatnonzero(clip_outliers(lc)[1]).tolist() == [3]


def test_robust_sigma_when_most_values_are_equal():
    lc = _lc([10.0, 10.0, 10.0, 10.0, 15.0])  # MAD 0 → 1.2533 × mean |dev| = 1.2533
    assert np.flatnonzero(clip_outliers(lc)[1]).tolist() == [4]


def test_clip_supersmoother_hand_worked_spike():
    t = np.arange(60.0)
    mag = 12 + 0.3 * np.sin(2 * np.pi * t / 7.3)
    mag[[17, 40]] += [1.0, -0.5]
    lc = _lc(mag, np.full(60, 0.01), time=t)
    new, removed = clip_supersmoother(lc, 7.3)
    assert np.flatnonzero(removed).tolist() == [17, 40]
    entry = new.meta["cleaning"][-1]
    assert entry["step"] == "supersmoother" and entry["removed"] == 2 and entry["period"] == 7.3


def test_clip_supersmoother_skips_short_bands_and_needs_a_period():
    lc = _lc([10, 10, 10, 15.0], [0.1] * 4)
    new, removed = clip_supersmoother(lc, 1.0)
    assert not removed.any() and new.meta["cleaning"][-1]["skipped_bands"] == ["g"]
    for bad in (None, 0.0, -1.0, float("nan")):
        with pytest.raises(DataError, match="needs a positive period"):
            clip_supersmoother(lc, bad)


def test_clip_supersmoother_handles_repeated_phases():
    # daily epochs folded on 5.3 d land on 53 phases, each ~4 times (t / 5.3 = 10 t / 53)
    t = np.arange(210.0)
    mag = 12 + 0.3 * np.sin(2 * np.pi * t / 5.3 + 0.1)
    mag[30] += 1.0
    _, removed = clip_supersmoother(_lc(mag, np.full(210, 0.02), time=t), 5.3)
    assert np.flatnonzero(removed).tolist() == [30]
    # folded on 0.7 d they land on 7 phases, on 0.5 d on one: refuse, and say why
    for period, n in [(0.7, 7), (0.5, 1)]:
        with pytest.raises(DataError, match=f"only {n} distinct phases.*commensurate"):
            clip_supersmoother(_lc(mag, np.full(210, 0.02), time=t), period)


def test_require_epochs_hand_worked():
    lc = LightCurve(time=np.arange(5.0), mag=np.ones(5), err=np.full(5, 0.1), band=list("ggrrr"))
    new, removed = require_epochs(lc, min_per_band=2)
    assert not removed.any() and len(new) == 5
    with pytest.raises(DataError, match=r"\{'g': 2, 'r': 3\}.*short in \['g'\]"):
        require_epochs(lc, min_per_band=3)
    with pytest.raises(DataError, match=r"'i': 0"):
        require_epochs(lc, min_per_band=1, bands=["g", "i"])


def test_a_step_that_would_remove_everything_raises():
    lc = _lc([1.0, 1.0], [0.1, 0.1])
    with pytest.raises(DataError, match="remove all 2 epochs"):
        clip_errors(lc, factor=0.5)


# ----------------------------------------------------- known-truth synthetic
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clip_supersmoother_finds_injected_outliers(seed):
    lc, bad = _sinusoid(seed)
    _, removed = clip_supersmoother(lc, 0.7, nsigma=3)
    assert set(bad) <= set(np.flatnonzero(removed))
    assert removed.sum() - bad.size <= 0.01 * len(lc)  # a 3σ cut on Gaussian noise: ~0.3%


def test_clip_supersmoother_without_errors_uses_robust_scatter():
    lc, bad = _sinusoid(5, errors=False)
    new, removed = clip_supersmoother(lc, 0.7, nsigma=4)
    assert np.flatnonzero(removed).tolist() == bad.tolist()
    assert not new.has_errors


def test_clip_supersmoother_wrong_period_does_not_find_them():
    # folded on a wrong period the curve is noise-like: the injected points do not stand out
    lc, bad = _sinusoid(0)
    _, removed = clip_supersmoother(lc, 0.7 * 1.37, nsigma=3)
    assert not set(bad) <= set(np.flatnonzero(removed))


def test_clip_outliers_finds_injected_outliers():
    rng = np.random.default_rng(3)
    mag = 15 + rng.normal(0, 0.05, 500)
    bad = np.array([7, 99, 250, 251, 498])
    mag[bad] += [1.0, -0.8, 0.6, 1.5, -2.0]
    _, removed = clip_outliers(_lc(mag, np.full(500, 0.05)))
    assert set(bad) <= set(np.flatnonzero(removed))
    assert removed.sum() - bad.size <= 5


def test_inputs_are_not_mutated():
    lc, _ = _sinusoid(0)
    lc = lc.replace(meta={"cleaning": [{"step": "earlier", "removed": 0}]})
    before = (lc.mag.copy(), lc.time.copy(), list(lc.meta["cleaning"]))
    for step, args in [
        (clip_errors, ()),
        (clip_supersmoother, (0.7,)),
        (clip_outliers, ()),
        (require_epochs, ()),
    ]:
        new, _ = step(lc, *args)
        assert len(new.meta["cleaning"]) == 2
    np.testing.assert_array_equal(lc.mag, before[0])
    np.testing.assert_array_equal(lc.time, before[1])
    assert list(lc.meta["cleaning"]) == before[2]


# ----------------------------------------------------------------- Cleaner
def test_config_rejects_unknown_steps_and_parameters():
    with pytest.raises(ValueError, match="valid steps: errors, supersmoother"):
        CleanConfig(steps=[{"step": "sigmaclip"}])
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['sigma'\]"):
        CleanConfig(steps=[{"step": "outliers", "sigma": 3}])
    with pytest.raises(DataError, match="unknown cleaning step"):
        CleanConfig.load(overrides=["steps=[{step: nope}]"])
    assert isinstance(CleanConfig(), Config)
    assert set(STEPS) == {"errors", "supersmoother", "outliers", "min_epochs"}


def test_transform_composes_masks_over_the_input():
    # errors drops epoch 3 (0.9 > 2 × mean 0.2); then, among the 7 left (median 10, MAD
    # 0.05), outliers drops the 12, which is input epoch 5
    lc = _lc([10, 10.1, 9.9, 10, 10.05, 12, 9.95, 10], [0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1])
    cfg = CleanConfig(steps=[{"step": "errors", "factor": 2}, {"step": "outliers", "nsigma": 3}])
    new, removed = Cleaner(cfg).transform_with_mask(lc)
    assert np.flatnonzero(removed).tolist() == [3, 5]
    assert [e["step"] for e in new.meta["cleaning"]] == ["errors", "outliers"]
    assert [e["removed"] for e in new.meta["cleaning"]] == [1, 1]


def test_transform_needs_a_period_for_supersmoother():
    lc, _ = _sinusoid(0)
    with pytest.raises(DataError, match="cleaning step 'supersmoother'.*positive period"):
        Cleaner().transform(lc)
    lcs = LightCurveSet.from_lightcurves([lc])
    with pytest.raises(DataError, match="need each object's period"):
        Cleaner().transform_many(lcs)
    with pytest.raises(DataError, match="no objects column 'P'"):
        Cleaner().transform_many(lcs, periods="P")
    with pytest.raises(DataError, match="2 periods for 1 objects"):
        Cleaner().transform_many(lcs, periods=[0.7, 0.7])


def _batch() -> LightCurveSet:
    curves, periods = [], []
    for seed in range(4):
        lc, _ = _sinusoid(seed, n=120 + 10 * seed, id=f"star{seed}")
        curves.append(lc)
        periods.append(0.7)
    # too short for the smoother (left alone) and for min_epochs (rejected)
    curves.append(_lc(np.full(15, 15.0) + np.arange(15) % 3 * 0.01, [0.02] * 15, id="short"))
    periods.append(0.7)
    curves.append(_lc(15 + np.sin(np.arange(80.0)), [0.02] * 80, id="noperiod"))
    periods.append(np.nan)
    return LightCurveSet.from_lightcurves(
        curves,
        objects=pd.DataFrame({"label": "RR", "period": periods}),
        meta={"survey": "test", "skipped": [{"id": "x", "source": "f", "reason": "r"}]},
    )


def test_transform_many_equals_transform_and_skips_bad_objects():
    lcs = _batch()
    cleaner = Cleaner()  # errors, supersmoother, outliers, min_epochs 50
    out = cleaner.transform_many(lcs, periods="period")
    assert out.ids.tolist() == ["star0", "star1", "star2", "star3"]
    skipped = out.skipped
    assert [s["id"] for s in skipped] == ["x", "short", "noperiod"]
    assert "min_epochs" in skipped[1]["reason"] and "too few epochs" in skipped[1]["reason"]
    assert "positive period" in skipped[2]["reason"]
    assert out.meta["cleaning_steps"] == [dict(s) for s in cleaner.config.steps]
    for i, lc in enumerate(lcs.select(np.arange(4))):
        single, removed = cleaner.transform_with_mask(lc, period=0.7)
        batch = out[i]
        np.testing.assert_array_equal(batch.time, single.time)
        np.testing.assert_array_equal(batch.mag, single.mag)
        np.testing.assert_array_equal(batch.err, single.err)
        assert out.objects["n_removed"].iloc[i] == removed.sum() == len(lc) - len(single) > 0
    # the same periods as an array give the same set; the input set is unchanged
    again = cleaner.transform_many(lcs, periods=lcs.objects["period"].to_numpy())
    np.testing.assert_array_equal(again.mag, out.mag)
    assert len(lcs) == 6 and "n_removed" not in lcs.objects and len(lcs.skipped) == 1


def test_transform_many_raises_when_every_object_fails():
    lc = _lc([1.0, 2.0, 1.0], [0.1] * 3, id="a")
    cfg = CleanConfig(steps=[{"step": "min_epochs", "min_per_band": 10}])
    with pytest.raises(DataError, match="rejected all 1 objects"):
        Cleaner(cfg).transform_many(LightCurveSet.from_lightcurves([lc]))
