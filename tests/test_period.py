"""Period search: known-truth synthetic curves, bad input, batch form, real catalogues."""

from __future__ import annotations

import numpy as np
import pytest

from skyclass import DataError, LightCurve, LightCurveSet, sanitize
from skyclass.preprocess.period import (
    FrequencyGrid,
    PeriodConfig,
    PeriodSearch,
    find_period,
    frequency_grid,
    harmonic_chi2,
    log10_fap_baluev,
    period_table,
    periodogram,
)


def _sine(period, n=200, span=300.0, amp=0.3, noise=0.02, seed=0, band="V", harmonics=(1.0,)):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, span, n))
    phase = 2 * np.pi * t / period
    mag = 15 + sum(amp * a * np.sin(k * phase + k) for k, a in enumerate(harmonics, start=1))
    mag = mag + rng.normal(0, noise, n)
    return LightCurve(time=t, mag=mag, err=np.full(n, noise), band=band, id=f"sim-{seed}")


def _eclipsing(period, n=400, span=400.0, seed=0, depths=(0.8, 0.3)):
    """Simulated detached binary: two Gaussian eclipses of unequal depth per orbit."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, span, n))
    phase = (t / period) % 1.0
    dist1 = np.minimum(np.abs(phase), np.abs(phase - 1))
    mag = 15 + depths[0] * np.exp(-0.5 * (dist1 / 0.03) ** 2)
    mag += depths[1] * np.exp(-0.5 * ((phase - 0.5) / 0.03) ** 2)
    mag += rng.normal(0, 0.01, n)
    return LightCurve(time=t, mag=mag, err=np.full(n, 0.01), band="I", id=f"eb-{seed}")


def _sigma_frequency(n, span, amp, noise):
    """Expected 1σ frequency error of a sinusoid fit (Kovacs 1981 / Montgomery & O'Donoghue)."""
    return np.sqrt(6.0 / n) / (np.pi * span * amp / noise)


@pytest.mark.parametrize("period", [0.137, 0.61, 3.3, 27.0])
def test_recovers_injected_sinusoid(period):
    result = find_period(_sine(period, seed=int(period * 100)))
    tolerance = 5 * _sigma_frequency(200, 300.0, 0.3, 0.02)
    assert abs(1 / result.period - 1 / period) < tolerance
    assert result.log10_fap < -10


@pytest.mark.parametrize("seed", range(3))
def test_recovers_non_sinusoidal_shape(seed):
    lc = _sine(0.55, harmonics=(1.0, 0.5, 0.3, 0.15), seed=seed)
    assert abs(find_period(lc).period - 0.55) / 0.55 < 1e-4


def test_eclipsing_binary_is_doubled():
    result = find_period(_eclipsing(2.7))
    assert result.doubled
    assert abs(result.period - 2.7) / 2.7 < 1e-4
    assert "double" not in [p["alias"] for p in result.peaks[:1]]


def test_multiband_shares_one_frequency():
    """Two noisy bands: combined they find the period that each alone may miss."""
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0, 200, 60))
    period = 0.71
    curves = []
    for band, amp in (("B", 0.25), ("R", 0.15)):
        mag = 17 + amp * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.08, t.size)
        curves.append((t, mag, band))
    lc = sanitize(
        np.concatenate([c[0] for c in curves]),
        np.concatenate([c[1] for c in curves]),
        np.full(120, 0.08),
        np.repeat(["B", "R"], 60),
    )
    result = find_period(lc)
    assert result.bands == ("B", "R")
    assert abs(result.period - period) / period < 1e-3


def test_nifty_and_astropy_periodograms_agree():
    lc = _sine(1.3, n=150)
    grid = frequency_grid(lc, fmax=3.0)
    f1, p1 = periodogram(lc, grid, method="nifty")
    f2, p2 = periodogram(lc, grid, method="astropy")
    assert np.array_equal(f1, f2)
    assert np.max(np.abs(p1 - p2)) < 1e-3
    assert f1[np.argmax(p1)] == f2[np.argmax(p2)]


def test_fap_matches_astropy_baluev():
    from astropy.timeseries import LombScargle

    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 100, 120))
    y = 0.05 * np.sin(2 * np.pi * t / 2.2) + rng.normal(0, 0.1, t.size)
    ls = LombScargle(t, y)
    _, power = ls.autopower(minimum_frequency=0.01, maximum_frequency=5, samples_per_peak=5)
    z = float(power.max())
    expected = np.log10(ls.false_alarm_probability(z, method="baluev", maximum_frequency=5))
    assert abs(log10_fap_baluev(z, t.size, 5.0, t) - expected) < 0.01


def test_alias_flags_name_the_half_period_peak():
    lc = _sine(2.0, harmonics=(1.0, 0.8), n=300)
    result = find_period(lc)
    aliases = {p["alias"] for p in result.peaks}
    assert "half" in aliases


@pytest.mark.parametrize("day", [1.0, 1 / 1.0027379], ids=["solar", "sidereal"])
def test_alias_flags_name_the_one_day_aliases_of_nightly_sampling(day):
    # one epoch a night, at the same clock (solar) or sidereal time, over 1000 nights
    rng = np.random.default_rng(3)
    nights = np.sort(rng.choice(1000, 400, replace=False))
    t = day * nights + rng.normal(0, 0.02, nights.size)
    mag = 15 + 0.3 * np.sin(2 * np.pi * t / 0.6) + rng.normal(0, 0.02, t.size)
    lc = LightCurve(time=t, mag=mag, err=np.full(t.size, 0.02), band="V")
    result = find_period(lc, fmax=3.0)
    best = result.peaks[0]["frequency"]
    tol = 1.5 * frequency_grid(lc, fmax=3.0).df
    one_day = [p for p in result.peaks if abs(abs(p["frequency"] - best) - 1 / day) < tol]
    assert one_day
    assert all("1day" in p["alias"] for p in one_day)


def test_chunked_grid_gives_the_same_answer():
    lc = _sine(0.61)
    whole = find_period(lc)
    chunked = find_period(lc, max_chunk=5_000)
    assert chunked.period == pytest.approx(whole.period, rel=1e-9)


@pytest.mark.parametrize(
    ("lc", "message"),
    [
        (
            LightCurve(time=[0.0, 1.0, 2.0], mag=[1.0, 2.0, 1.0], err=[0.1] * 3, band="g"),
            "too short",
        ),
        (
            LightCurve(time=np.arange(30.0), mag=np.ones(30), err=np.full(30, 0.1), band="g"),
            "constant",
        ),
    ],
)
def test_bad_curves_raise_with_reason(lc, message):
    with pytest.raises(DataError, match=message):
        find_period(lc)


def test_empty_frequency_range():
    with pytest.raises(DataError, match="empty frequency range"):
        find_period(_sine(1.0), fmin=20.0, fmax=10.0)


def test_unknown_method_lists_valid_ones():
    with pytest.raises(ValueError, match="nifty.*astropy"):
        find_period(_sine(1.0), method="bogus")


def test_batch_equals_singles_and_flags_bad_objects():
    good = [_sine(p, seed=i) for i, p in enumerate((0.4, 1.7, 5.5))]
    flat = LightCurve(
        time=np.arange(30.0), mag=np.ones(30), err=np.full(30, 0.1), band="V", id="flat"
    )
    s = LightCurveSet.from_lightcurves([*good, flat])
    table = PeriodSearch().transform_many(s, progress=False)
    assert table["id"].tolist() == [*(lc.id for lc in good), "flat"]
    for lc, period in zip(good, table["period"][:3], strict=True):
        assert period == PeriodSearch().transform(lc).period
    assert np.isnan(table["period"].iloc[3]) and "constant" in table["period_error"].iloc[3]


def test_period_table_adds_fourier_parameters_and_does_not_mutate():
    lc = _sine(0.8, harmonics=(1.0, 0.4), n=300)
    s = LightCurveSet.from_lightcurves([lc], labels=["RR"])
    before = s.mag.copy()
    table = period_table(s, PeriodConfig(), progress=False)
    row = table.iloc[0]
    assert row["label"] == "RR" and abs(row["period"] - 0.8) < 1e-4
    assert row["R21"] == pytest.approx(0.4, abs=0.03)
    assert row["amplitude"] > 0.5 and row["fourier_band"] == "V"
    assert np.array_equal(s.mag, before)


def test_frequency_grid_defaults():
    lc = _sine(1.0, span=100.0)
    grid = frequency_grid(lc)
    assert isinstance(grid, FrequencyGrid)
    assert grid.fmin == pytest.approx(1 / lc.span) and grid.fmax <= 10.0
    assert grid.df == pytest.approx(1 / (5 * lc.span))


# ------------------------------------------------------------------- real data
@pytest.mark.realdata
@pytest.mark.slow
def test_ogle_cepheid_periods_and_fourier_against_the_catalogue(shared_data):
    """Every OGLE-IV F-mode Cepheid with a published period against cepFO4.dat."""
    from skyclass.io import read

    s = read(shared_data / "ogle4_lmc_cep", format="ogle", progress=False)
    cat = s.objects.set_index("id")
    has = np.isfinite(cat["period"]) & np.isfinite(cat["R21"]) & np.isfinite(cat["phi21"])
    ids = cat.index[has.to_numpy()]
    table = period_table(s.select(ids), progress=False).set_index("id")
    truth = cat.loc[ids]
    p_ok = np.mean(np.abs(table["period"] - truth["period"]) / truth["period"] < 1e-4)
    r_ok = np.mean(np.abs(table["R21"] - truth["R21"]) < 0.02)
    dphi = (table["phi21"] - truth["phi21"] + np.pi) % (2 * np.pi) - np.pi
    f_ok = np.mean(np.abs(dphi) < 0.05)
    assert (p_ok, r_ok, f_ok) >= (0.98, 0.97, 0.97), (p_ok, r_ok, f_ok)


@pytest.mark.realdata
def test_eros_multiband_sample(shared_data):
    """A seeded sample of 150 EROS-1 stars: the multi-band search against period/div_period."""
    from skyclass.io import read

    s = read(shared_data / "eros1_lmc", format="eros", progress=False)
    idx = np.random.default_rng(0).choice(len(s), 150, replace=False)
    table = PeriodSearch().transform_many(s.select(idx), progress=False)
    truth = s.objects["period"].to_numpy()[idx]
    ok = np.mean(np.abs(table["period"].to_numpy() / truth - 1) < 0.01)
    assert ok >= 0.70, ok
    assert all(sorted(b.split(",")) == ["B", "R"] for b in table["bands"])


def test_periods_near_a_sidereal_day_are_flagged():
    assert find_period(_sine(1 / 1.0027379, seed=3)).near_day
    assert not find_period(_sine(0.61, seed=3)).near_day


# ------------------------------------------------------------------ fast search
def _fixed_set():
    """Simulated curves of every default class on two cadences, and the curves above."""
    from skyclass.datasets.simulate import simulate_from_catalogue

    curves = []
    for cadence in ("ogle", "ztf"):
        curves += list(simulate_from_catalogue(n_per_class=3, cadence=cadence, seed=0))
    curves += [_sine(p, seed=i) for i, p in enumerate((0.137, 0.61, 3.3, 27.0))]
    curves += [_sine(0.55, harmonics=(1.0, 0.5, 0.3, 0.15)), _eclipsing(2.7)]
    return curves


def test_fast_search_returns_the_exact_period_on_a_fixed_set():
    compared = 0
    for lc in _fixed_set():
        try:
            exact = find_period(lc, search="exact")
        except DataError:
            continue
        fast = find_period(lc, search="fast")
        assert fast.period == pytest.approx(exact.period, rel=1e-4), lc.id
        assert fast.doubled == exact.doubled
        compared += 1
    assert compared >= 25


def test_fast_search_finds_the_exact_candidate_peaks():
    lc = _sine(2.0, harmonics=(1.0, 0.8), n=300)
    exact, fast = find_period(lc, search="exact"), find_period(lc, search="fast")
    assert [p["frequency"] for p in fast.peaks] == [p["frequency"] for p in exact.peaks]
    assert [p["alias"] for p in fast.peaks] == [p["alias"] for p in exact.peaks]
    powers = np.array([[p["power"] for p in r.peaks] for r in (exact, fast)])
    assert np.max(np.abs(powers[0] - powers[1])) < 1e-6


def test_trigonometric_sums_give_the_design_matrix_chi2():
    lc = _sine(0.8, harmonics=(1.0, 0.4), n=150)
    grid = FrequencyGrid(fmin=0.5, df=2.5 / 99, n=100)  # two runs of the recurrence
    freqs = grid.frequencies()
    for k in (1, 3, 6):
        expected = harmonic_chi2(lc, freqs, k, method="design")
        assert np.allclose(harmonic_chi2(lc, freqs, k, method="sums"), expected, rtol=1e-9)
        # a regular grid: the sums stepped from one frequency to the next
        assert np.allclose(harmonic_chi2(lc, grid, k, method="sums"), expected, rtol=1e-9)
    with pytest.raises(ValueError, match="no trend"):
        harmonic_chi2(lc, freqs, 1, trend=1, method="sums")
    with pytest.raises(ValueError, match="'design', 'sums'"):
        harmonic_chi2(lc, freqs, 1, method="exact")


def test_unknown_search_lists_valid_ones():
    with pytest.raises(ValueError, match="exact.*fast"):
        find_period(_sine(1.0), search="bogus")


def test_coarse_transforms_give_the_periodogram():
    """The fast search's own FINUFFT transforms against the nifty-ls periodogram, two bands."""
    from skyclass.preprocess.period import _coarse_power

    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 400, 160))
    band = np.repeat(["B", "R"], 80)
    mag = 16 + 0.2 * np.sin(2 * np.pi * t / 0.43) + rng.normal(0, 0.05, t.size)
    lc = sanitize(t, mag, rng.uniform(0.03, 0.08, t.size), band)
    grid = FrequencyGrid(fmin=0.01, df=1e-3, n=9_001)  # not a size plans are made for
    _, expected = periodogram(lc, grid, method="nifty")
    bands = [(lc.time[lc.band == b], lc.mag[lc.band == b], lc.err[lc.band == b]) for b in "BR"]
    chi0 = sum(np.sum(((y - np.average(y, weights=dy**-2)) / dy) ** 2) for _, y, dy in bands)
    power = _coarse_power(bands, chi0, grid.fmin, grid.df, grid.n, eps=1e-9)
    assert np.max(np.abs(power - expected)) < 1e-7


def test_fast_search_gives_the_same_answer_in_threads():
    """Plans and work arrays are kept per thread: concurrent searches do not share them."""
    from concurrent.futures import ThreadPoolExecutor

    curves = [_sine(p, seed=i) for i, p in enumerate((0.3, 1.1, 4.2, 9.7))]
    serial = [find_period(lc).period for lc in curves]
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = list(pool.map(lambda lc: find_period(lc).period, curves * 2))
    assert threaded == serial * 2


def test_a_plan_made_before_a_thread_limit_is_not_reused_under_it():
    """The coarse periodogram's kept FINUFFT plans are keyed by their thread count."""
    from nifty_ls.finufft import get_finufft_max_threads

    from skyclass._util import limit_threads
    from skyclass.preprocess.period import _type1_plan

    if get_finufft_max_threads() < 2:
        pytest.skip("one thread only: every plan has one")
    outside = _type1_plan(1 << 17, 1e-6)
    with limit_threads(1):
        inside = _type1_plan(1 << 17, 1e-6)
    assert inside is not outside
    assert _type1_plan(1 << 17, 1e-6) is outside
