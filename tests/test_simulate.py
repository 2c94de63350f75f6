"""Simulated light curves seeded by the OGLE-III catalogue: truth recovered, seeds, shards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass.datasets import list_datasets, load, load_dataset
from skyclass.datasets.simulate import (
    CADENCES,
    DEFAULT_CLASSES,
    NOISE_MODELS,
    ogle3_parameters,
    simulate_catalogue,
    simulate_from_catalogue,
)
from skyclass.exceptions import DataError
from skyclass.lightcurve import LightCurveSet
from skyclass.preprocess.period import find_period

#: The five OGLE-III types of the default demo set, as the catalogue spells them.
OGLE3_TYPES = {"Cep", "DSCT", "LPV", "RRLyr", "T2Cep"}


@pytest.fixture(scope="module")
def ogle3() -> pd.DataFrame:
    """The OGLE-III rows an I-band curve can be drawn from: a positive period and a mean
    I magnitude (read once: the file takes several seconds)."""
    cat = ogle3_parameters()
    return cat[(cat["period"] > 0) & np.isfinite(cat["mean_mag_I"])].reset_index(drop=True)


@pytest.fixture(scope="module")
def demo(ogle3) -> LightCurveSet:
    return simulate_from_catalogue(n_per_class=40, seed=11)


def _segments(s: LightCurveSet):
    for i in range(len(s)):
        lo, hi = s.offsets[i], s.offsets[i + 1]
        yield i, s.time[lo:hi], s.mag[lo:hi], s.err[lo:hi]


def test_same_seed_same_set_other_seed_differs(ogle3):
    a = simulate_from_catalogue(n_per_class=15, seed=4)
    b = simulate_from_catalogue(n_per_class=15, seed=4)
    c = simulate_from_catalogue(n_per_class=15, seed=5)
    assert a.equals(b)
    assert not np.array_equal(a.objects["catalogue_id"], c.objects["catalogue_id"])
    assert a.time.size != c.time.size or not np.array_equal(a.mag, c.mag)


def test_labels_are_ogle3_classes_in_requested_numbers(ogle3):
    wanted = {"RRLyr": 30, "Cep": 12, "LPV": 20}
    s = simulate_from_catalogue(n_per_class=wanted, classes=list(wanted), seed=1)
    assert s.class_counts().to_dict() == wanted
    # Every curve comes from a real catalogue row of its class, with that row's period.
    rows = ogle3.set_index(ogle3["id"].astype(str)).loc[s.objects["catalogue_id"]]
    assert (rows["type"].to_numpy() == s.labels).all()
    np.testing.assert_array_equal(rows["period"].to_numpy(float), s.objects["period"])
    assert s.objects["catalogue_id"].str.startswith("OGLE-").all()
    assert s.objects["catalogue_id"].is_unique  # drawn without replacement when possible
    # Subtypes as labels are real subtypes too.
    sub = simulate_from_catalogue(n_per_class=3, classes=["RRab", "Mira"], label="subtype", seed=2)
    assert set(sub.labels) == {"RRab", "Mira"} and set(sub.objects["type"]) == {"RRLyr", "LPV"}


def test_default_demo_set_is_flagged_simulated(demo):
    assert set(demo.labels) == OGLE3_TYPES == set(DEFAULT_CLASSES)
    assert demo.meta["simulated"] is True and "simulated" in demo.meta["note"]
    assert "simulated" in demo.meta["survey"] and demo.objects["simulated"].all()
    assert demo.bands == ("I",) and demo.meta["simulation"]["seed"] == 11
    assert demo.ids[0] == "sim-000000" and demo.objects["id"].is_unique


def test_true_period_is_recovered(demo):
    pulsators = np.flatnonzero(np.isin(demo.labels, ["RRLyr", "Cep"]))[:12]
    rel = []
    for i in pulsators:
        lc = demo[int(i)]
        rel.append(abs(find_period(lc, fmax=5.0).period / lc.meta["period"] - 1))
    assert np.mean(np.array(rel) < 0.01) >= 0.8, rel


def test_times_sorted_errors_positive_magnitudes_near_catalogue(demo):
    obj = demo.objects
    for i, t, m, e in _segments(demo):
        assert np.all(np.diff(t) > 0) and np.all(e > 0) and np.all(np.isfinite(m))
        if obj.loc[i, "label"] in ("RRLyr", "Cep", "T2Cep"):
            tol = 0.6 * obj.loc[i, "true_amplitude"] + 0.1
            assert abs(np.median(m) - obj.loc[i, "true_mean_mag"]) < tol
    lo, hi = demo.meta["simulation"]["n_epochs"]
    assert demo.n_epochs.min() >= lo and demo.n_epochs.max() <= hi == 200


def test_amplitude_matches_catalogue_on_bright_stars(demo):
    obj = demo.objects
    bright = np.flatnonzero((obj["label"] == "Cep") & (obj["true_mean_mag"] < 16.5))
    assert bright.size >= 5
    for i in bright:
        m = demo[int(i)].mag
        ptp = np.quantile(m, 0.98) - np.quantile(m, 0.02)
        assert ptp == pytest.approx(obj.loc[i, "true_amplitude"], rel=0.25, abs=0.03)


def test_noise_grows_with_magnitude(demo):
    sigma = NOISE_MODELS["ogle"].sigma(np.array([14.0, 16.0, 18.0, 20.0]))
    assert np.all(np.diff(sigma) > 0) and sigma[0] < 0.01 < 0.08 < sigma[-1]
    bright = demo.err[demo.mag < 15.0]
    faint = demo.err[demo.mag > 19.5]
    assert bright.size > 100 and faint.size > 100
    assert np.median(faint) > 10 * np.median(bright)


def test_cadences_have_seasons_nights_or_neither(ogle3):
    kw = {"n_per_class": 5, "classes": ["RRLyr"], "n_epochs": 150, "seed": 3}
    ogle = simulate_from_catalogue(cadence="ogle", **kw)
    ztf = simulate_from_catalogue(cadence="ztf", **kw)
    flat = simulate_from_catalogue(cadence="uniform", **kw)
    assert ztf.bands == ("r",) and ztf.time.min() >= CADENCES["ztf"].t_start
    # r from V and I: between the two for these RR Lyrae (V - I > 0).
    assert (ztf.objects["true_mean_mag"] > ogle.objects["true_mean_mag"]).all()
    for s in (ogle, ztf):
        for _, t, _, _ in _segments(s):
            assert np.diff(t).max() > 100  # the yearly gap between seasons
            night = (t - t[0] + 0.3) % 1.0  # every epoch inside one 0.3-day nightly window
            assert night.min() >= 0 and night.max() <= 0.6 + 1e-9
    for _, t, _, _ in _segments(flat):  # all year round, all day long
        assert np.mean((t - t[0]) % 365.25 > 250) > 0.15 and np.ptp((t - t[0]) % 1.0) > 0.6


def test_user_catalogue_eclipsing_binaries_and_small_classes():
    cat = pd.DataFrame(
        {
            "id": ["d", "c", "r"],
            "type": ["ECL", "ECL", "RRLyr"],
            "subtype": ["ED", "EC", "RRab"],
            "period": [2.7, 0.41, 0.6],
            "mean_mag_I": [15.0, 15.0, 18.0],
            "amp_I": [0.6, 0.4, 0.7],
            "t0": [52001.0, 52000.1, np.nan],
        }
    )
    s = simulate_from_catalogue(
        cat, n_per_class=4, label="subtype", n_epochs=300, outlier_fraction=0, seed=2
    )
    assert s.class_counts().to_dict() == {"ED": 4, "EC": 4, "RRab": 4}  # rows reused
    for i, t, m, _ in _segments(s):
        row = s.objects.loc[i]
        phase = ((t - row["t0"]) / row["period"] + 0.5) % 1.0 - 0.5
        if row["type"] != "ECL":
            continue
        # Catalogue magnitude is maximum light; the primary eclipse falls on t0.
        assert m.min() > row["true_mean_mag"] - 0.05
        if row["subtype"] == "ED":  # detached: mostly out of eclipse
            assert np.median(m) == pytest.approx(row["true_mean_mag"], abs=0.05)
        in_eclipse = np.abs(phase) < 0.01
        if in_eclipse.any():
            assert np.median(m[in_eclipse]) > row["true_mean_mag"] + 0.5 * row["true_amplitude"]
    assert set(s.objects["shape"]) == {"detached", "contact", "fourier"}


def test_wrong_names_list_the_valid_ones():
    cat = pd.DataFrame({"type": ["RRLyr"], "period": [0.6], "mean_mag_I": [18.0]})
    with pytest.raises(ValueError, match="ogle"):
        simulate_from_catalogue(cat, cadence="tess")
    with pytest.raises(ValueError, match="RRLyr"):
        simulate_from_catalogue(cat, classes=["Mira"])
    with pytest.raises(ValueError, match="n_epochs"):
        simulate_from_catalogue(cat, n_epochs=(50, 10))
    with pytest.raises(DataError, match="period"):
        simulate_from_catalogue(pd.DataFrame({"type": ["RRLyr"]}))


def test_catalogue_shards_read_back_and_do_not_depend_on_n(tmp_path, ogle3):
    kw = {"shard_size": 60, "n_epochs": (20, 40), "seed": 9}
    paths = simulate_catalogue(150, out_dir=tmp_path / "a", **kw)
    assert [p.name for p in paths] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    parts = [LightCurveSet.read_parquet(p) for p in paths]
    assert [len(p) for p in parts] == [60, 60, 30]
    assert parts[2].ids[-1] == "sim-0000000149" and parts[0].meta["simulated"] is True
    assert set(np.concatenate([p.labels for p in parts])) <= set(ogle3["type"])
    two = simulate_catalogue(120, out_dir=tmp_path / "b", **kw)
    three = simulate_catalogue(180, out_dir=tmp_path / "c", **kw)
    assert LightCurveSet.read_parquet(two[0]).equals(LightCurveSet.read_parquet(three[0]))
    assert LightCurveSet.read_parquet(two[1]).equals(parts[1])
    with pytest.raises(DataError, match="overwrite"):
        simulate_catalogue(10, out_dir=tmp_path / "b", **kw)
    # In memory: the same curves as the shards, one set.
    s = simulate_catalogue(120, **kw)
    assert len(s) == 120 and np.array_equal(s.mag[: parts[0].time.size], parts[0].mag)


def test_catalogue_classes_follow_the_catalogue(ogle3):
    s = simulate_catalogue(3000, shard_size=3000, n_epochs=10, seed=0)
    share = s.class_counts() / len(s)
    types, counts = np.unique(ogle3["type"], return_counts=True)
    expected = dict(zip(types, counts / counts.sum(), strict=True))
    assert share["LPV"] == pytest.approx(expected["LPV"], abs=0.03)
    assert share["RRLyr"] == pytest.approx(expected["RRLyr"], abs=0.03)
    only = simulate_catalogue(50, n_epochs=10, classes=["Cep", "DSCT"], seed=0)
    assert set(only.labels) <= {"Cep", "DSCT"}


def test_registered_as_a_named_data_set(ogle3):
    assert "ogle3_simulated" in list_datasets()
    small = load_dataset("ogle3_simulated", n_per_class=3, seed=1)
    assert len(small) == 15 and small.meta["simulated"] is True
    full = load("ogle3_simulated")
    assert full.class_counts().to_dict() == dict.fromkeys(DEFAULT_CLASSES, 300)
    # options reach a named set through load() too (run configs' data_options)
    assert len(load("ogle3_simulated", n_per_class=3, seed=1)) == 15
