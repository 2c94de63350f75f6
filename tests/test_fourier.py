"""Fourier fits: hand-worked cases, injected signals with known truth, the OGLE-IV catalogue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurve, LightCurveSet
from skyclass.preprocess.fourier import (
    FourierFit,
    fit_fourier,
    fit_fourier_many,
    fourier_features,
    reconstruct,
    reconstruct_many,
)

TWO_PI = 2 * np.pi

# a sawtooth-like Cepheid shape: four harmonics with known amplitudes and phases
SAW_AMPS = np.array([0.30, 0.12, 0.06, 0.03])
SAW_PHASES = np.array([0.4, 2.1, 4.0, 5.5])


def _dphi(a, b):
    """Signed angular difference a − b in (−π, π]."""
    return (np.asarray(a) - np.asarray(b) + np.pi) % TWO_PI - np.pi


def _series(t, period, amps, phases, mean=15.0, epoch=0.0):
    x = TWO_PI * (np.asarray(t) - epoch) / period
    k = np.arange(1, len(amps) + 1)
    return mean + (np.asarray(amps) * np.cos(np.multiply.outer(x, k) + phases)).sum(axis=-1)


def _curve(rng, amps, phases, *, n=200, period=0.7, sigma=0.01, errors=True, id="syn"):
    t = np.sort(rng.uniform(0, 60, n))
    mag = _series(t, period, amps, phases) + rng.normal(0, sigma, n)
    err = np.full(n, sigma) if errors else np.full(n, np.nan)
    return LightCurve(time=t, mag=mag, err=err, band="V", id=id)


# ------------------------------------------------------------------ hand-worked cases
def test_exact_sinusoid_recovered_exactly():
    t = np.arange(20) * 0.37
    lc = LightCurve(
        time=t, mag=10 + 0.5 * np.cos(TWO_PI * t / 2.0 + 1.2), err=[0.01] * 20, band="I"
    )
    fit = fit_fourier(lc, 2.0, n_harmonics=1, epoch=0.0)
    assert fit.mean == pytest.approx(10.0, abs=1e-12)
    assert fit.amplitudes[0] == pytest.approx(0.5, abs=1e-12)
    assert fit.phases[0] == pytest.approx(1.2, abs=1e-12)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-12)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.dof == 20 - 3 and fit.n_points == 20
    assert fit.peak_to_peak == pytest.approx(1.0, abs=1e-6)
    # maximum light = minimum magnitude: 2πt/P + 1.2 = π
    assert fit.epoch_of_maximum == pytest.approx((np.pi - 1.2) / TWO_PI * 2.0, abs=1e-9)
    np.testing.assert_allclose(fit(t), lc.mag, atol=1e-12)
    assert np.isnan(fit.R21) and np.isnan(fit.R31) and np.isnan(fit.phi31)


def test_epoch_moves_phases_but_not_relative_phases():
    rng = np.random.default_rng(1)
    lc = _curve(rng, SAW_AMPS, SAW_PHASES, sigma=0.0 + 1e-6)
    a = fit_fourier(lc, 0.7, n_harmonics=4, epoch=0.0)
    b = fit_fourier(lc, 0.7, n_harmonics=4, epoch=0.123)
    assert _dphi(b.phases[0], a.phases[0] + TWO_PI * 0.123 / 0.7) == pytest.approx(0, abs=1e-6)
    assert b.phi21 == pytest.approx(a.phi21, abs=1e-9)
    assert b.R31 == pytest.approx(a.R31, abs=1e-9)
    assert b.epoch_of_maximum == pytest.approx(a.epoch_of_maximum, abs=1e-7)


def test_cosine_convention_and_sine_relation():
    # a curve written as a sine series has φ^c_21 = φ^s_21 + π/2, φ^c_31 = φ^s_31 + π
    t = np.linspace(0, 5, 400, endpoint=False)
    x = TWO_PI * t
    s1, s2, s3 = 0.7, 2.0, 3.3
    mag = 0.4 * np.sin(x + s1) + 0.15 * np.sin(2 * x + s2) + 0.05 * np.sin(3 * x + s3)
    fit = fit_fourier(LightCurve(time=t, mag=mag, err=[0.01] * 400, band="V"), 1.0, n_harmonics=3)
    assert _dphi(fit.phi21, (s2 - 2 * s1) + np.pi / 2) == pytest.approx(0, abs=1e-9)
    assert _dphi(fit.phi31, (s3 - 3 * s1) + np.pi) == pytest.approx(0, abs=1e-9)
    assert 0 <= fit.phi21 < TWO_PI and 0 <= fit.phi31 < TWO_PI
    assert np.all((fit.phases >= 0) & (fit.phases < TWO_PI))


def test_as_dict_keys_and_values():
    rng = np.random.default_rng(2)
    fit = fit_fourier(_curve(rng, SAW_AMPS, SAW_PHASES), 0.7, n_harmonics=4)
    d = fit.as_dict()
    assert set(d) >= {"period", "fourier_mean", "amplitude", "A1", "phi1", "R21", "R21_err"}
    assert set(d) >= {"phi21", "phi21_err", "R31", "R31_err", "phi31", "phi31_err"}
    assert set(d) >= {"n_harmonics", "r2", "chi2_dof"}
    assert d["R21"] == fit.R21 and d["phi31_err"] == fit.phi31_err
    assert d["amplitude"] == pytest.approx(fit.peak_to_peak)
    assert all(isinstance(v, float) for v in d.values())


# ------------------------------------------------------------- known-truth synthetic
def test_sawtooth_recovered_within_errors():
    rng = np.random.default_rng(3)
    fit = fit_fourier(_curve(rng, SAW_AMPS, SAW_PHASES, sigma=0.02), 0.7, n_harmonics=4, epoch=0.0)
    assert np.all(np.abs(fit.amplitudes - SAW_AMPS) < 4 * fit.amplitudes_err)
    assert np.all(np.abs(_dphi(fit.phases, SAW_PHASES)) < 4 * fit.phases_err)
    r21, phi21 = SAW_AMPS[1] / SAW_AMPS[0], (SAW_PHASES[1] - 2 * SAW_PHASES[0]) % TWO_PI
    assert abs(fit.R21 - r21) < 4 * fit.R21_err
    assert abs(_dphi(fit.phi21, phi21)) < 4 * fit.phi21_err
    assert fit.chi2_dof == pytest.approx(1.0, abs=0.3)


@pytest.mark.parametrize("errors", [True, False], ids=["weighted", "no-errors"])
def test_reported_errors_have_the_right_size(errors):
    """Pulls (fit − truth) / σ over 200 noise realisations have unit spread."""
    rng = np.random.default_rng(4)
    truth = {
        "A1": SAW_AMPS[0],
        "phi1": SAW_PHASES[0],
        "R21": SAW_AMPS[1] / SAW_AMPS[0],
        "phi21": (SAW_PHASES[1] - 2 * SAW_PHASES[0]) % TWO_PI,
        "R31": SAW_AMPS[2] / SAW_AMPS[0],
        "phi31": (SAW_PHASES[2] - 3 * SAW_PHASES[0]) % TWO_PI,
    }
    pulls = {k: [] for k in truth}
    for _ in range(200):
        fit = fit_fourier(
            _curve(rng, SAW_AMPS, SAW_PHASES, n=80, sigma=0.03, errors=errors),
            0.7,
            n_harmonics=4,
            epoch=0.0,
        )
        pulls["A1"].append((fit.amplitudes[0] - truth["A1"]) / fit.amplitudes_err[0])
        pulls["phi1"].append(_dphi(fit.phases[0], truth["phi1"]) / fit.phases_err[0])
        pulls["R21"].append((fit.R21 - truth["R21"]) / fit.R21_err)
        pulls["phi21"].append(_dphi(fit.phi21, truth["phi21"]) / fit.phi21_err)
        pulls["R31"].append((fit.R31 - truth["R31"]) / fit.R31_err)
        pulls["phi31"].append(_dphi(fit.phi31, truth["phi31"]) / fit.phi31_err)
    spread = {k: float(np.std(v)) for k, v in pulls.items()}
    centre = {k: float(np.mean(v)) for k, v in pulls.items()}
    assert all(0.8 <= s <= 1.25 for s in spread.values()), spread
    assert all(abs(c) < 0.3 for c in centre.values()), centre


def test_auto_chooses_the_number_of_harmonics():
    rng = np.random.default_rng(5)
    sine = fit_fourier(_curve(rng, [0.3], [1.0], n=300), 0.7, n_harmonics="auto")
    saw = fit_fourier(_curve(rng, SAW_AMPS, SAW_PHASES, n=300), 0.7, n_harmonics="auto")
    assert sine.n_harmonics == 1
    assert 4 <= saw.n_harmonics <= 6
    short = fit_fourier(_curve(rng, SAW_AMPS, SAW_PHASES, n=9), 0.7, n_harmonics="auto")
    assert 2 * short.n_harmonics + 1 < 9 - 1


# ---------------------------------------------------------------------------- errors
def _two_band_curve():
    t = np.linspace(0, 10, 40)
    return LightCurve(
        time=t, mag=np.cos(t), err=np.full(40, 0.1), band=np.where(t < 5, "g", "r"), id="mb"
    )


def test_multiband_needs_band():
    lc = _two_band_curve()
    with pytest.raises(DataError, match=r"\['g', 'r'\].*band="):
        fit_fourier(lc, 2 * np.pi)
    assert fit_fourier(lc, 2 * np.pi, band="g", n_harmonics=2).n_points == 20


@pytest.mark.parametrize("period", [0.0, -1.0, np.nan, np.inf])
def test_bad_period(period):
    lc = _curve(np.random.default_rng(6), [0.3], [0.0], id="star-7")
    with pytest.raises(DataError, match=r"star-7.*period"):
        fit_fourier(lc, period)


def test_too_few_points_and_constant_curve():
    t = np.arange(9.0)
    lc = LightCurve(time=t, mag=np.sin(t), err=[0.1] * 9, band="V", id="short-1")
    with pytest.raises(DataError, match=r"short-1.*at least 10"):
        fit_fourier(lc, 3.3, n_harmonics=4)
    assert fit_fourier(lc, 3.3, n_harmonics=3).dof == 2
    flat = LightCurve(time=t, mag=np.ones(9), err=[0.1] * 9, band="V", id="flat-1")
    with pytest.raises(DataError, match=r"flat-1.*constant"):
        fit_fourier(flat, 3.0, n_harmonics=1)


def test_poor_phase_coverage_is_reported():
    # all epochs at two phases: a second harmonic cannot be separated from the first
    t = np.concatenate([np.arange(10) * 1.0, np.arange(10) * 1.0 + 0.5])
    lc = LightCurve(time=np.sort(t), mag=np.tile([1.0, 2.0], 10), err=[0.1] * 20, band="V")
    with pytest.raises(DataError, match="phase coverage"):
        fit_fourier(lc, 1.0, n_harmonics=3)


def test_bad_n_harmonics():
    lc = _curve(np.random.default_rng(7), [0.3], [0.0])
    for bad in (0, "four", 2.5):
        with pytest.raises(ValueError, match="n_harmonics"):
            fit_fourier(lc, 0.7, n_harmonics=bad)


# ------------------------------------------------------------------------------ batch
def test_batch_equals_singles_and_failures_do_not_stop_it():
    rng = np.random.default_rng(8)
    lcs = [_curve(rng, SAW_AMPS, SAW_PHASES, id=f"s{i}") for i in range(4)]
    t = np.arange(12.0)
    lcs.insert(2, LightCurve(time=t, mag=np.ones(12), err=[0.1] * 12, band="V", id="flat"))
    periods = [0.7, 0.7, 0.7, -1.0, 0.7]
    table = fit_fourier_many(lcs, periods, n_harmonics=4)
    assert isinstance(table, pd.DataFrame)
    assert table["id"].tolist() == ["s0", "s1", "flat", "s2", "s3"]
    ok = table["fourier_error"].isna().to_numpy()
    assert ok.tolist() == [True, True, False, False, True]
    assert "constant" in table.loc[2, "fourier_error"]
    assert "period" in table.loc[3, "fourier_error"]
    assert table.loc[~ok, "R21"].isna().all()
    for i in np.flatnonzero(ok):
        single = fourier_features(lcs[i], periods[i], n_harmonics=4)
        for key, value in single.items():
            assert table.loc[i, key] == value, key


def test_batch_from_a_set_with_a_period_column():
    rng = np.random.default_rng(9)
    lcs = [_curve(rng, SAW_AMPS, SAW_PHASES, id=f"s{i}") for i in range(3)]
    lcset = LightCurveSet.from_lightcurves(lcs)
    lcset.objects["P"] = [0.7, 0.7, 0.7]
    table = fit_fourier_many(lcset, "P")
    assert table["fourier_error"].isna().all()
    assert table["R21"].to_numpy() == pytest.approx([fit_fourier(lc, 0.7).R21 for lc in lcs])
    with pytest.raises(DataError, match="no column 'period'"):
        fit_fourier_many(lcset, "period")
    with pytest.raises(ValueError, match="one per curve"):
        fit_fourier_many(lcs, [0.7])


# ---------------------------------------------------------------------- reconstruction
def test_reconstruct_hand_values():
    phase, mag = reconstruct(amplitude=1.0, R21=0.5, phi21=np.pi, mean=12.0, n_phases=4)
    # 12 + 0.5 cos(2πφ) + 0.25 cos(4πφ + π)
    np.testing.assert_allclose(phase, [0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(mag, [12.25, 12.25, 11.25, 12.25], atol=1e-12)


@pytest.mark.parametrize(("r21", "phi21"), [(0.5, 4.6), (0.05, 0.3), (0.9, 6.2)])
def test_reconstruct_then_fit_returns_the_inputs(r21, phi21):
    phase, mag = reconstruct(amplitude=0.8, R21=r21, phi21=phi21, mean=15.0)
    lc = LightCurve(time=phase, mag=mag, err=np.full(phase.size, np.nan), band="r")
    fit = fit_fourier(lc, 1.0, n_harmonics=2, epoch=0.0)
    assert fit.R21 == pytest.approx(r21, abs=1e-9)
    assert _dphi(fit.phi21, phi21) == pytest.approx(0, abs=1e-9)
    assert fit.amplitudes[0] == pytest.approx(0.4, abs=1e-9)
    assert fit.phases[0] == pytest.approx(0, abs=1e-9) or fit.phases[0] == pytest.approx(TWO_PI)


def test_reconstruct_third_harmonic_round_trip():
    phase, mag = reconstruct(amplitude=0.6, R21=0.4, phi21=4.0, R31=0.2, phi31=2.5)
    lc = LightCurve(time=phase, mag=mag, err=np.full(phase.size, 0.01), band="r")
    fit = fit_fourier(lc, 1.0, n_harmonics=3, epoch=0.0)
    assert fit.R31 == pytest.approx(0.2, abs=1e-9)
    assert _dphi(fit.phi31, 2.5) == pytest.approx(0, abs=1e-9)


def test_reconstruct_many_equals_singles():
    rng = np.random.default_rng(10)
    n = 50
    table = pd.DataFrame(
        {
            "amplitude": rng.uniform(0.1, 1.0, n),
            "R21": rng.uniform(0, 0.6, n),
            "phi21": rng.uniform(0, TWO_PI, n),
            "R31": np.where(np.arange(n) % 3 == 0, np.nan, rng.uniform(0, 0.3, n)),
            "phi31": rng.uniform(0, TWO_PI, n),
            "mean": rng.uniform(14, 18, n),
        }
    )
    table.loc[4, "amplitude"] = np.nan
    curves = reconstruct_many(table, n_phases=90)
    assert curves.shape == (n, 90) and curves.dtype == np.float32
    assert np.isnan(curves[4]).all() and np.isfinite(np.delete(curves, 4, axis=0)).all()
    for i in range(n):
        row = table.iloc[i]
        r31 = None if np.isnan(row.R31) else row.R31
        _, single = reconstruct(
            amplitude=row.amplitude, R21=row.R21, phi21=row.phi21, R31=r31,
            phi31=row.phi31 if r31 is not None else None, mean=row["mean"], n_phases=90,
        )  # fmt: skip
        np.testing.assert_allclose(curves[i], single, rtol=0, atol=2e-6)


def test_reconstruct_many_equals_reconstruct_row_by_row_and_checks_columns():
    # its speed on a whole catalogue is a benchmark's business, not a timed test's
    n = 200_000
    table = {"amplitude": np.full(n, 0.5), "R21": np.full(n, 0.3), "phi21": np.full(n, 4.0)}
    curves = reconstruct_many(table)
    assert curves.shape == (n, 360) and np.all(curves[0] == curves[-1])
    rng = np.random.default_rng(5)
    varied = {
        "amplitude": rng.uniform(0.1, 1.0, 6),
        "R21": rng.uniform(0.0, 0.6, 6),
        "phi21": rng.uniform(0.0, 2 * np.pi, 6),
        "mean": rng.uniform(14, 18, 6),
    }
    many = reconstruct_many(varied, n_phases=90)
    for i in range(6):
        _, one = reconstruct(**{k: float(v[i]) for k, v in varied.items()}, n_phases=90)
        np.testing.assert_allclose(many[i], one, rtol=1e-6)
    with pytest.raises(DataError, match="phi21"):
        reconstruct_many({"amplitude": [1.0], "R21": [0.1]})


def test_fit_is_frozen():
    fit = fit_fourier(_curve(np.random.default_rng(11), [0.3], [0.0]), 0.7)
    assert isinstance(fit, FourierFit)
    with pytest.raises(AttributeError):
        fit.period = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        fit.amplitudes[0] = 1.0


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def ogle_cepheids(shared_data):
    from skyclass.io import read

    return read(shared_path(shared_data, "ogle4_lmc_cep"), format="ogle")


def _catalogue_agreement(lcset, n_harmonics):
    objects = lcset.objects
    rows = np.flatnonzero(
        (objects["label"] == "F").to_numpy()
        & objects["R21"].notna().to_numpy()
        & objects["phi21"].notna().to_numpy()
    )
    fits = fit_fourier_many(
        [lcset[int(i)] for i in rows], objects["period"].to_numpy()[rows], n_harmonics=n_harmonics
    )
    ok_r21 = np.abs(fits["R21"].to_numpy() - objects["R21"].to_numpy()[rows]) <= 0.02
    ok_phi21 = np.abs(_dphi(fits["phi21"].to_numpy(), objects["phi21"].to_numpy()[rows])) <= 0.05
    return (
        rows.size,
        float(ok_r21.mean()),
        float(ok_phi21.mean()),
        float((ok_r21 & ok_phi21).mean()),
    )


@pytest.mark.realdata
def test_ogle_catalogue_fourier_parameters_reproduced(ogle_cepheids):
    n, r21, phi21, both = _catalogue_agreement(ogle_cepheids, "auto")
    message = (
        f"{n} OGLE-IV LMC F-mode Cepheids, default n_harmonics='auto': R21 within 0.02 for "
        f"{r21:.4f}, phi21 within 0.05 rad for {phi21:.4f}, both for {both:.4f}"
    )
    print(message)  # shown with pytest -rP
    assert n >= 300, message
    assert both >= 0.97, message


@pytest.mark.realdata
def test_ogle_convention_is_cosine(ogle_cepheids):
    """The sine convention (φ21 − π/2) or the opposite sign would match almost no star."""
    objects = ogle_cepheids.objects
    rows = np.flatnonzero((objects["label"] == "F").to_numpy() & objects["phi21"].notna())[:200]
    fits = fit_fourier_many(
        [ogle_cepheids[int(i)] for i in rows], objects["period"].to_numpy()[rows]
    )
    ours, theirs = fits["phi21"].to_numpy(), objects["phi21"].to_numpy()[rows]
    cosine = np.mean(np.abs(_dphi(ours, theirs)) <= 0.05)
    sine = np.mean(np.abs(_dphi(ours - np.pi / 2, theirs)) <= 0.05)
    negated = np.mean(np.abs(_dphi(-ours, theirs)) <= 0.05)
    assert cosine > 0.95 and sine < 0.05 and negated < 0.05, (cosine, sine, negated)
    peak = np.abs(fits["amplitude"].to_numpy() - objects["amp_I"].to_numpy()[rows]) <= 0.02
    assert peak.mean() > 0.95
