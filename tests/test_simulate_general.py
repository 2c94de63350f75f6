"""Simulated curves of the general taxonomy, from several survey profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass.datasets import general as general_module
from skyclass.datasets.general import GENERAL_CLASSES, SURVEYS, simulate_general
from skyclass.datasets.simulate import CADENCES, NOISE_MODELS, simulate_from_catalogue


@pytest.fixture(scope="module")
def general():
    return simulate_general(12, seed=3)


def test_every_class_in_its_number_one_band_flagged_simulated(general):
    assert general.class_counts().to_dict() == dict.fromkeys(GENERAL_CLASSES, 12)
    assert general.bands == ("any",) and general.meta["simulated"]
    assert general.objects["id"].is_unique
    assert set(general.objects["survey"]) <= set(SURVEYS)


def test_same_seed_same_set(general):
    again = simulate_general(12, seed=3)
    assert again.equals(general)
    assert not simulate_general(12, seed=4).equals(general)


def test_periods_a_user_would_have(general):
    o = general.objects
    aperiodic = o["label"].isin(["NonVar", "NonPer"])
    assert o.loc[aperiodic, "period"].isna().all()
    given = np.isfinite(o["period"]).to_numpy()
    assert 0.3 < given[~aperiodic].mean() < 0.7  # searched_share 0.5: the rest to search
    ratio = (o["true_period"] / o["period"])[given]
    binary = o.loc[given, "label"].isin(["EA", "EB", "EW"])
    assert set(np.round(ratio[binary], 9)) <= {1.0, 2.0}
    assert (ratio[~binary] == 1.0).all()
    every = simulate_general(3, classes=["RRab"], searched_share=0.0, seed=0)
    assert np.isfinite(every.objects["period"]).all()


def test_epoch_counts_follow_each_survey(general):
    n = general.n_epochs
    for name, prof in SURVEYS.items():
        mine = n[(general.objects["survey"] == name).to_numpy()]
        assert mine.size and prof.n_epochs[0] <= mine.min() <= mine.max() <= prof.n_epochs[1]


def test_constant_stars_scatter_as_their_errors_and_jitter(general):
    jitter = general.objects["jitter"].to_numpy(float)
    for i in np.flatnonzero((general.objects["label"] == "NonVar").to_numpy()):
        lc = general[int(i)]
        scale = np.hypot(np.median(lc.err), jitter[i])  # the errors leave the jitter out
        core = np.abs(lc.mag - np.median(lc.mag)) < 5 * scale  # outliers aside
        assert np.std(lc.mag[core]) < 2.0 * scale


def test_gaia_cadence_groups_transits_and_keeps_times_sorted():
    cat = pd.DataFrame({"type": ["RRLyr"], "period": [0.6], "mean_mag_G": [15.0]})
    s = simulate_from_catalogue(cat, n_per_class=20, cadence="gaia", n_epochs=60, seed=0)
    gaps = np.concatenate([np.diff(lc.time) for lc in s])
    assert (gaps > 0).all()
    assert np.mean(np.isclose(gaps, 0.074, atol=1e-6)) > 0.2  # the two fields of view
    assert np.median(gaps) < 1.0 and gaps.max() > 30  # visits weeks apart


def test_semidetached_binaries_have_two_eclipses_on_a_continuous_variation():
    cat = pd.DataFrame({"type": ["EB"], "period": [1.3], "mean_mag_I": [15.0], "amp_I": [0.5]})
    s = simulate_from_catalogue(cat, n_per_class=1, cadence="uniform", n_epochs=3000, seed=1)
    lc, row = s[0], s.objects.iloc[0]
    assert row["shape"] == "semidetached"
    phase = ((lc.time - row["t0"]) / 1.3) % 1.0
    mean_in = [np.mean(lc.mag[np.abs(phase - c) < 0.02]) for c in (0.0, 0.25, 0.5)]
    assert mean_in[0] > mean_in[2] > mean_in[1] + 0.03  # primary, secondary, maximum


def test_noise_models_of_the_new_surveys_grow_with_magnitude():
    for name in ("eros", "macho", "gaia", "asassn"):
        sigma = NOISE_MODELS[name].sigma(np.array([12.0, 16.0, 20.0]))
        assert np.all(np.diff(sigma) > 0), name
        assert CADENCES[name].noise == name
    assert NOISE_MODELS["eros"].sigma(np.array([17.0]))[0] == pytest.approx(0.12, abs=0.01)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="choose from"):
        simulate_general(2, classes=["RRab", "Blazar"])
    with pytest.raises(ValueError, match="gaia"):
        simulate_general(2, surveys=["kepler"])


def test_variables_are_kept_only_where_their_survey_would_list_them(general):
    o = general.objects
    variable = (o["label"] != "NonVar").to_numpy()
    err2 = np.array(
        [np.median(np.square(lc.err / f)) for lc, f in zip(general, o["err_factor"], strict=True)]
    )
    chi2 = o["signal_chi2"].to_numpy() * err2 / (err2 + np.square(o["jitter"].to_numpy()))
    need = np.array([SURVEYS[s].detect_chi2 for s in o["survey"]])
    assert (chi2[variable] >= need[variable] * (1 - 1e-9)).all()


def test_gaia_profile_is_bright_and_has_a_jitter_its_errors_leave_out():
    s = simulate_general(20, classes=["NonVar"], surveys=["gaia"], seed=2)
    mags = np.array([np.median(lc.mag) for lc in s])
    assert 10.0 <= mags.min() and mags.max() <= 18.1 and 12.0 < np.median(mags) < 16.0
    jitter = s.objects["jitter"].to_numpy()
    assert ((jitter >= 0.002) & (jitter <= 0.01)).all()


def test_semiregular_phase_wanders_where_a_strict_pulsator_keeps_it():
    def folded_r2(type_):
        cat = pd.DataFrame(
            {"type": [type_], "period": [50.0], "mean_mag_I": [12.0], "amp_I": [0.5]}
        )
        lc = simulate_from_catalogue(cat, n_per_class=1, cadence="uniform", n_epochs=2000, seed=4)[
            0
        ]
        phase = lc.time / 50.0 % 1.0
        bins = np.minimum((phase * 20).astype(int), 19)
        means = np.bincount(bins, lc.mag) / np.bincount(bins)
        return 1 - np.var(lc.mag - means[bins]) / np.var(lc.mag)

    assert folded_r2("Cep") > 0.95
    assert folded_r2("SR") < 0.8


def test_contact_binaries_have_unequal_minima_and_pointed_dips():
    cat = pd.DataFrame({"type": ["EW"], "period": [0.4], "mean_mag_I": [14.0], "amp_I": [0.6]})
    s = simulate_from_catalogue(cat, n_per_class=30, cadence="uniform", n_epochs=2000, seed=5)
    deeper = []
    for lc, row in zip(s, s.objects.itertuples(), strict=True):
        phase = ((lc.time - row.t0) / 0.4) % 1.0
        near = [np.median(lc.mag[np.abs(((phase - c + 0.5) % 1) - 0.5) < 0.02]) for c in (0, 0.5)]
        deeper.append(near[0] - near[1])
    assert np.median(deeper) > 0.01 and min(deeper) > -0.02  # the primary is the deeper


def test_catalogue_colours_by_class_in_their_own_random_stream(monkeypatch):
    sim = simulate_general(40, classes=["RRab", "Mira", "EW", "NonVar"], seed=2)
    o = sim.objects
    given = np.isfinite(o["catalogue_colour"]).to_numpy()
    assert 0.55 < given.mean() < 0.85  # colour_share 0.7, V missing for some OGLE rows
    colour = o["catalogue_colour"].groupby(o["label"].astype(str)).median()
    assert colour["Mira"] > 2.0 > colour["RRab"] and colour["Mira"] > colour["EW"] + 1.5
    assert 0.3 < colour["RRab"] < 1.2  # OGLE-III V - I, reddening included
    # the catalogue colour is the V - I of the star in a colour system of its own,
    # with a scatter of 0.05 mag for a bright star, growing with its photometric error
    sigma = np.array([np.median(lc.err) for lc in sim])
    bright = given & (o["true_vi"] > 1.0).to_numpy() & (sigma < 0.03)
    ratio = (o["catalogue_colour"] / o["true_vi"])[bright]
    bound = 0.8 / (1 + 0.15 * o["true_vi"][ratio.index]) - 0.2  # s·x / (1 + k·x), scatter
    assert bright.sum() > 10 and (ratio > bound).all() and (ratio < 1.15 + 0.2).all()
    # a star of V - I = 0 is 0 in every system: what is left is the scatter alone,
    # 0.05 mag in quadrature with sqrt(2) times the per-epoch error
    rng = np.random.default_rng(0)
    for err, want in ((0.0, 0.05), (0.2, np.hypot(0.05, 0.2 * np.sqrt(2)))):
        c = general_module._catalogue_colours(np.zeros(20000), np.full(20000, err), 1.0, rng)
        assert abs(c.std() / want - 1) < 0.03 and abs(c.mean()) < 0.01
    none = simulate_general(40, classes=["RRab", "Mira", "EW", "NonVar"], colour_share=0, seed=2)
    assert none.objects["catalogue_colour"].isna().all()
    # colours draw from their own stream: drawing none of the class-range colours
    # (fewer draws from that stream) leaves every curve as it was
    monkeypatch.setattr(general_module, "_VI_RANGE", {})
    fewer = simulate_general(40, classes=["RRab", "Mira", "EW", "NonVar"], seed=2)
    assert fewer.objects.loc[fewer.objects["label"] == "EW", "true_vi"].isna().all()
    assert np.array_equal(fewer.mag, sim.mag) and np.array_equal(fewer.time, sim.time)
    with pytest.raises(ValueError, match="colour_share"):
        simulate_general(2, colour_share=1.5)


def test_pool_rows_left_out_are_never_drawn():
    pool = general_module.ogle3_pool("Cep_1O")
    assert set(pool["class"]) == {"Cep_1O"} and (pool["period"] > 0).all()
    kept = pool["id"].astype(str).to_numpy()[:3]
    left_out = set(pool["id"].astype(str)) - set(kept)
    assert len(general_module.ogle3_pool("Cep_1O", left_out=left_out)) == 3
    s = simulate_general(20, classes=["Cep_1O", "EW"], surveys=["ogle"], left_out=left_out, seed=2)
    drawn = s.objects.loc[s.objects["label"] == "Cep_1O", "catalogue_id"].astype(str)
    assert len(drawn) == 20 and set(drawn) <= set(kept)
    every = set(general_module.ogle3_pool()["class"])
    assert every == {"Cep_F", "Cep_1O", "T2Cep", "RRab", "RRc", "DSCT", "Mira", "SR"}
    with pytest.raises(ValueError, match="draws no OGLE-III rows"):
        general_module.ogle3_pool("EW")
    with pytest.raises(ValueError, match="leaves no OGLE-III row of class 'Cep_1O'"):
        general_module.ogle3_pool("Cep_1O", left_out=pool["id"])
