"""Tests of the numeric-feature representation and its scaler."""

from __future__ import annotations

import json

import light_curve
import numpy as np
import pandas as pd
import pytest

from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess.fourier import fit_fourier
from skyclass.represent.features import (
    BUILTIN_FEATURES,
    FeatureScaler,
    NotFittedError,
    NumericFeatures,
    catalogue_colour,
    light_curve_feature_names,
)


def _two_band() -> LightCurve:
    # B at t=0, 2, 5 with mags 10, 11, 12; R at t=1, 3 with mags 13, 14
    return LightCurve(
        time=[0.0, 1.0, 2.0, 3.0, 5.0],
        mag=[10.0, 13.0, 11.0, 14.0, 12.0],
        err=[0.1] * 5,
        band=["B", "R", "B", "R", "B"],
        id="tiny",
        meta={"period": 2.0},
    )


def _sinusoid(
    period: float = 0.7,
    semi_amp: float = 0.4,
    *,
    phi21: float | None = None,
    n: int = 400,
    seed: int = 0,
    id: str = "sin",
    band: str = "V",
) -> LightCurve:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 200, n))
    x = 2 * np.pi * t / period
    mag = 15 + semi_amp * np.cos(x + 0.3)
    if phi21 is not None:  # φ_2 = φ21 + 2φ_1
        mag = mag + 0.5 * semi_amp * np.cos(2 * x + phi21 + 0.6)
    return LightCurve(
        time=t, mag=mag, err=np.full(n, 0.01), band=band, id=id, meta={"period": period}
    )


def _by_name(rep: NumericFeatures, out: dict[str, np.ndarray], key: str = "features"):
    return dict(zip(rep.feature_names, out[key].tolist(), strict=True))


# ------------------------------------------------------------------ hand-worked values
def test_tiny_curve_by_hand():
    rep = NumericFeatures(
        features=["mean_mag", "colour", "n_epochs", "span", "amplitude"],
        bands=("B", "R"),
        amplitude="percentile",
    )
    assert rep.feature_names == (
        "mean_mag_B",
        "mean_mag_R",
        "B-R",
        "n_epochs",
        "span",
        "amplitude_B",
        "amplitude_R",
    )
    out = rep.transform(_two_band())
    got = _by_name(rep, out)
    assert got["mean_mag_B"] == 11.0  # (10 + 11 + 12) / 3
    assert got["mean_mag_R"] == 13.5  # (13 + 14) / 2
    assert got["B-R"] == -2.5
    assert got["n_epochs"] == 5.0
    assert got["span"] == 5.0
    # 5th..95th percentile of [10, 11, 12] (linear): 10.1 .. 11.9
    assert got["amplitude_B"] == pytest.approx(1.8, abs=1e-6)
    assert got["amplitude_R"] == pytest.approx(0.9, abs=1e-6)
    assert out["features"].dtype == np.float32 and out["features_mask"].dtype == np.float32
    assert out["features_mask"].tolist() == [1.0] * 7
    assert rep.output_shapes() == {"features": (7,), "features_mask": (7,)}


def test_unsuffixed_features_use_the_band_with_most_epochs():
    rep = NumericFeatures(features=["mean_mag"])
    assert rep.feature_names == ("mean_mag",)
    assert rep.transform(_two_band())["features"].tolist() == [11.0]  # B has 3 epochs, R 2


# ------------------------------------------------------------- synthetic known truth
def test_sinusoid_gives_log_period_and_amplitude():
    lc = _sinusoid(period=0.7, semi_amp=0.4)
    rep = NumericFeatures(features=["log_period", "amplitude"])
    got = _by_name(rep, rep.transform(lc))
    assert got["log_period"] == pytest.approx(np.log10(0.7), abs=1e-6)
    assert got["amplitude"] == pytest.approx(0.8, abs=1e-5)

    pct = NumericFeatures(features=["amplitude"], amplitude="percentile")
    # 5th..95th percentile of A cos(uniform phase): 2A cos(0.05π)
    expected = 2 * 0.4 * np.cos(0.05 * np.pi)
    assert pct.transform(lc)["features"][0] == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("phi21", [0.05, 2 * np.pi - 0.05, 2.0])
def test_phase_pairs_match_fit_fourier(phi21):
    lc = _sinusoid(phi21=phi21)
    rep = NumericFeatures(features=["R21", "phi21"], n_harmonics=3)
    got = _by_name(rep, rep.transform(lc))
    fit = fit_fourier(lc, 0.7, n_harmonics=3)
    assert fit.phi21 == pytest.approx(phi21 % (2 * np.pi), abs=1e-6)
    assert got["cos_phi21"] == pytest.approx(np.cos(fit.phi21), abs=1e-6)
    assert got["sin_phi21"] == pytest.approx(np.sin(fit.phi21), abs=1e-6)
    assert got["R21"] == pytest.approx(fit.R21, abs=1e-6)


def test_phase_pair_has_no_jump_at_two_pi():
    rep = NumericFeatures(features=["phi21"], n_harmonics=2)
    below = rep.transform(_sinusoid(phi21=2 * np.pi - 0.01))["features"]
    above = rep.transform(_sinusoid(phi21=0.01))["features"]
    assert np.max(np.abs(below - above)) < 0.05  # the raw angles are ~2π apart


# -------------------------------------------------------------------- missing values
def test_missing_period_gives_nan_and_mask():
    lc = _sinusoid().replace(meta={"period": None})
    rep = NumericFeatures()  # everything, single band
    raw = dict(zip(rep.feature_names, rep.values(lc).tolist(), strict=True))
    out = rep.transform(lc)
    mask = _by_name(rep, out, "features_mask")
    got = _by_name(rep, out)
    needs_period = ["log_period", "amplitude", "R21", "R31"]
    needs_period += ["cos_phi21", "sin_phi21", "cos_phi31", "sin_phi31"]
    for name in needs_period:
        assert np.isnan(raw[name]), name
        assert mask[name] == 0.0 and got[name] == 0.0, name
    for name in ("mean_mag", "n_epochs", "span"):
        assert mask[name] == 1.0 and got[name] == np.float32(raw[name]), name
    assert np.all(np.isfinite(out["features"]))


def test_catalogue_colour_comes_from_the_first_source_a_curve_has():
    rep = NumericFeatures(features=["catalogue_colour"])
    assert "catalogue_colour" not in NumericFeatures().feature_names  # metadata: asked for
    lc = _sinusoid()

    def colour(**meta):
        out = rep.transform(lc.replace(meta={"period": 0.7, **meta}))
        return float(out["features"][0]), float(out["features_mask"][0])

    assert colour(bp_rp=3.25) == (3.25, 1.0)  # Gaia
    assert colour(mean_mag_V=16.5, mean_mag_I=15.75) == (0.75, 1.0)  # OGLE: V - I
    assert colour(magnitude_b=18.0, magnitude_r=17.5) == (0.5, 1.0)  # EROS: B_E - R_E
    # a user's own column comes first; a missing or unreadable one falls through
    assert colour(catalogue_colour=1.5, bp_rp=3.0) == (1.5, 1.0)
    assert colour(catalogue_colour=np.nan, bp_rp=3.0) == (3.0, 1.0)
    assert colour(catalogue_colour="n/a", mean_mag_V=np.nan, mean_mag_I=15.0) == (0.0, 0.0)
    assert colour() == (0.0, 0.0)  # none: masked
    # a placeholder magnitude (OGLE's -99.99) is no colour: the next source is read
    assert colour(mean_mag_V=-99.99, mean_mag_I=15.0, magnitude_b=18.0, magnitude_r=17.5) == (
        0.5,
        1.0,
    )
    assert np.isnan(catalogue_colour({"mean_mag_I": 15.0}))


def test_missing_band_and_failed_fit_are_masked():
    lc = _sinusoid(band="B")
    rep = NumericFeatures(features=["mean_mag", "colour", "amplitude"], bands=("B", "R"))
    mask = _by_name(rep, rep.transform(lc), "features_mask")
    assert mask == {
        "mean_mag_B": 1.0,
        "mean_mag_R": 0.0,
        "B-R": 0.0,
        "amplitude_B": 1.0,
        "amplitude_R": 0.0,
    }
    flat = LightCurve(time=np.arange(20.0), mag=np.ones(20), err=np.full(20, 0.1), band="V",
                      meta={"period": 3.0})  # fmt: skip
    out = NumericFeatures(features=["amplitude", "R21"]).transform(flat)
    assert out["features_mask"].tolist() == [0.0, 0.0]


def test_bad_configuration_says_how_to_fix():
    with pytest.raises(ValueError, match="bands="):
        NumericFeatures(features=["colour"])
    with pytest.raises(ValueError, match="choose from"):
        NumericFeatures(features=["colour_index"])
    with pytest.raises(ValueError, match="StetsonK"):
        NumericFeatures(extractors=["StetsonKK"])
    assert "colour" not in NumericFeatures().features
    assert set(NumericFeatures(bands=("g", "r")).features) == set(BUILTIN_FEATURES) - {
        "catalogue_colour"
    }


# -------------------------------------------------------------- light-curve features
def test_light_curve_extractors_match_the_package():
    lc = LightCurve(
        time=np.arange(30.0),
        mag=15 + np.sin(np.arange(30.0)) + 0.01 * np.arange(30.0),
        err=np.full(30, 0.05),
        band=["B", "R"] * 15,
    )
    names = ["Amplitude", "BeyondNStd", "Skew", "StetsonK", "Eta", "LinearFit"]
    assert set(names) <= set(light_curve_feature_names())
    rep = NumericFeatures(features=["n_epochs"], bands=("R", "B"), extractors=names)
    r = lc.select_band("R")
    direct = light_curve.Extractor(*(getattr(light_curve, n)() for n in names))
    expected = direct(r.time.copy(), r.mag.copy(), r.err.copy())
    assert rep.feature_names == ("n_epochs", *(f"lc_{n}" for n in direct.names))
    np.testing.assert_allclose(rep.values(lc)[1:], expected, rtol=1e-12)
    short = LightCurve(time=[0.0, 1.0], mag=[1.0, 2.0], err=[0.1, 0.1], band="R")
    assert rep.transform(short)["features_mask"][1:].sum() < len(direct.names)  # NaN, no raise


# ---------------------------------------------------------------- batch = singles
def _curves() -> list[LightCurve]:
    curves = [_sinusoid(period=p, seed=i, id=f"s{i}", n=120) for i, p in enumerate([0.5, 3.1])]
    curves.append(_sinusoid(period=1.3, seed=5, id="nop", n=60).replace(meta={"period": np.nan}))
    return curves


def test_transform_many_equals_singles_list_and_set():
    rep = NumericFeatures(extractors=["Skew", "Eta"])
    curves = _curves()
    singles = [rep.transform(lc) for lc in curves]
    periods = pd.DataFrame({"period": [lc.meta["period"] for lc in curves]})
    lc_set = LightCurveSet.from_lightcurves(curves, objects=periods)
    for batch in (rep.transform_many(curves), rep.transform_many(lc_set)):
        assert batch["valid"].all() and batch["errors"] == {}
        for key in ("features", "features_mask"):
            assert batch[key].shape == (len(curves), len(rep.feature_names))
            np.testing.assert_array_equal(batch[key], np.stack([s[key] for s in singles]))
    assert batch["features_mask"][2, rep.feature_names.index("log_period")] == 0.0


#: The 21 extractors of the README's EROS-1 feature model.
README_EXTRACTORS = [
    "AndersonDarlingNormal", "BeyondNStd", "Cusum", "Eta", "EtaE", "ExcessVariance",
    "InterPercentileRange", "Kurtosis", "LaflerKinmanStringLength", "MagnitudePercentageRatio",
    "MaximumSlope", "MedianAbsoluteDeviation", "MedianBufferRangePercentage", "PercentAmplitude",
    "PercentDifferenceMagnitudePercentile", "ReducedChi2", "Skew", "StandardDeviation",
    "StetsonK", "Roms", "OtsuSplit",
]  # fmt: skip


def _mixed_curves() -> list[LightCurve]:
    """Two bands with a tie, a short curve, one without errors, a band-less reference."""
    curves = [*_curves(), _two_band()]
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 50, 40))
    tie = LightCurve(time=t, mag=15 + rng.normal(0, 0.1, 40), err=np.full(40, 0.1),
                     band=["R", "B"] * 20, id="tie")  # fmt: skip
    curves += [tie, tie.replace(err=np.full(40, np.nan), id="noerr")]
    curves.append(LightCurve(time=[0.0, 1.0], mag=[1.0, 2.0], err=[0.1, 0.1], band="R", id="two"))
    return curves


@pytest.mark.parametrize(
    "options",
    [{"features": []}, {"features": [], "bands": ("B", "R")}, {}, {"reference_band": "R"}],
)
def test_batched_extractors_equal_the_per_curve_path(options):
    rep = NumericFeatures(extractors=README_EXTRACTORS, **options)
    curves = _mixed_curves()
    singles = np.stack([rep.transform(lc)["features"] for lc in curves])
    masks = np.stack([rep.transform(lc)["features_mask"] for lc in curves])
    periods = pd.DataFrame({"period": [lc.meta.get("period", np.nan) for lc in curves]})
    lc_set = LightCurveSet.from_lightcurves(curves, objects=periods)
    for batch in (rep.transform_many(curves), rep.transform_many(lc_set)):
        np.testing.assert_array_equal(batch["features"], singles)
        np.testing.assert_array_equal(batch["features_mask"], masks)
    assert rep.transform_many([])["features"].shape == (0, len(rep.feature_names))


def test_features_do_not_depend_on_the_batch():
    rep = NumericFeatures(amplitude="percentile")
    curves = _curves()
    alone = rep.transform_many(curves[:1])["features"][0]
    other = [_sinusoid(period=9.0, semi_amp=3.0, seed=9, id="big", n=80), *curves[::-1]]
    mixed = rep.transform_many(other)["features"]
    np.testing.assert_array_equal(mixed[-1], alone)


def test_inputs_not_mutated():
    lc = _two_band()
    before = {k: getattr(lc, k).copy() for k in ("time", "mag", "err", "band")}
    meta = dict(lc.meta)
    curves = [lc, _sinusoid()]
    rep = NumericFeatures(bands=("B", "R"), extractors=["Skew"])
    rep.transform(lc)
    rep.transform_many(curves)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(lc, k), v)
    assert dict(lc.meta) == meta and len(curves) == 2 and curves[0] is lc


# ------------------------------------------------------------------------- scaler
def _matrix(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 4)) * [1.0, 10.0, 0.1, 1.0] + [0.0, 5.0, -2.0, 1.0]
    x[:, 3] = 7.0  # constant column
    mask = np.ones_like(x)
    mask[::5, 0] = 0
    x[::5, 0] = 1e6  # masked entries hold garbage that must be ignored
    return x, mask


@pytest.mark.parametrize("method", ["robust", "standard"])
def test_scaler_uses_training_rows_only(method):
    x, mask = _matrix()
    train, val = np.arange(30), np.arange(30, 40)
    scaler = FeatureScaler(method=method).fit(x[train], mask[train])
    for j in range(3):
        col = x[train, j][mask[train, j] == 1]
        if method == "robust":
            q25, q50, q75 = np.percentile(col, [25, 50, 75])
            centre, scale = q50, q75 - q25
        else:
            centre, scale = np.mean(col), np.std(col)
        assert scaler.center_[j] == centre and scaler.scale_[j] == scale
    assert scaler.center_[3] == 7.0 and scaler.scale_[3] == 1.0  # constant: scale 1
    stats = (scaler.center_.copy(), scaler.scale_.copy())
    x_changed = x.copy()
    x_changed[val] = 1e3
    scaler.transform(x_changed[val], mask[val])
    refit = FeatureScaler(method=method).fit(x_changed[train], mask[train])
    for fitted in (scaler, refit):
        np.testing.assert_array_equal(fitted.center_, stats[0])
        np.testing.assert_array_equal(fitted.scale_, stats[1])


def test_scaler_transform_and_masking():
    x, mask = _matrix()
    x_before = x.copy()
    scaler = FeatureScaler(method="standard")
    out = scaler.fit_transform(x, mask)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(x, x_before)
    assert np.all(out[mask == 0] == 0.0)
    kept = out[:, 0][mask[:, 0] == 1]
    assert abs(kept.mean()) < 1e-6 and abs(kept.std() - 1) < 1e-5


def test_scaler_must_be_fitted_first():
    with pytest.raises(NotFittedError, match="fit"):
        FeatureScaler().transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="choose one of"):
        FeatureScaler(method="minmax")
    scaler = FeatureScaler(names=["a", "b"])
    with pytest.raises(ValueError, match="expected 2"):
        scaler.fit(np.zeros((3, 3)))


def test_scaler_dict_round_trip_is_exact():
    x, mask = _matrix(seed=11)
    names = ["log_period", "amplitude", "R21", "n_epochs"]
    scaler = FeatureScaler(method="robust", names=names).fit(x, mask)
    data = json.loads(json.dumps(scaler.to_dict()))
    back = FeatureScaler.from_dict(data)
    assert back.method == "robust" and back.names == tuple(names)
    np.testing.assert_array_equal(back.center_, scaler.center_)
    np.testing.assert_array_equal(back.scale_, scaler.scale_)
    np.testing.assert_array_equal(back.transform(x, mask), scaler.transform(x, mask))
    assert back.to_dict() == scaler.to_dict()


def test_scaler_on_representation_output():
    curves = _curves()
    rep = NumericFeatures()
    batch = rep.transform_many(curves)
    scaler = FeatureScaler(names=rep.feature_names).fit(batch["features"], batch["features_mask"])
    scaled = scaler.transform(batch["features"], batch["features_mask"])
    assert scaled.shape == batch["features"].shape and np.all(np.isfinite(scaled))
    assert np.all(scaled[batch["features_mask"] == 0] == 0)


def test_quantile_scaler_maps_training_ranks_to_bounded_normal_scores():
    rng = np.random.default_rng(4)
    column = np.exp(rng.normal(0, 3, 400))  # a long tail over several decades, like periods
    x = np.column_stack([column, rng.integers(0, 3, 400).astype(float)])
    scaler = FeatureScaler(method="quantile").fit(x)
    out = scaler.transform(x)
    # monotone in the value, bounded, centred on the training median
    order = np.argsort(x[:, 0])
    assert np.all(np.diff(out[order, 0]) >= 0)
    assert np.abs(out).max() <= 3.0 + 1e-6
    assert abs(float(np.median(out[:, 0]))) < 0.05 and 0.8 < out[:, 0].std() < 1.2
    # beyond the training range: the bounds, never a new extreme
    far = scaler.transform(np.array([[1e30, 1.0], [-1e30, 1.0]]))
    assert far[0, 0] == pytest.approx(3.0) and far[1, 0] == pytest.approx(-3.0)
    # a discrete column: equal values get equal scores, the middle class 0
    assert len(set(out[x[:, 1] == 1, 1])) == 1 and abs(out[x[:, 1] == 1, 1][0]) < 0.2


def test_quantile_scaler_masks_and_round_trips():
    x, mask = _matrix(seed=5)
    scaler = FeatureScaler(method="quantile", names=["a", "b", "c", "d"]).fit(x, mask)
    out = scaler.transform(x, mask)
    assert np.all(out[mask == 0] == 0.0) and np.all(np.isfinite(out))
    back = FeatureScaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(back.transform(x, mask), out)
    broken = scaler.to_dict()
    del broken["quantiles"]
    with pytest.raises(ValueError, match="quantiles"):
        FeatureScaler.from_dict(broken)


def test_quantile_scaler_maps_a_column_constant_in_training_to_zero():
    x = np.column_stack([np.arange(10.0), np.full(10, 2.0)])
    scaler = FeatureScaler(method="quantile").fit(x)
    out = scaler.transform(np.array([[4.5, 2.0], [4.5, 7.0], [4.5, -3.0]]))
    assert np.all(out[:, 1] == 0.0) and np.all(np.abs(out[:, 0]) < 0.1)
