"""skyclass.experiments.zero_shot: survey labels from a model's classes, scored by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skyclass.experiments import zero_shot as bench


def test_scores_map_model_classes_to_survey_labels():
    mapping = bench.CLASS_MAP["gaia_dr3_vari"]
    table = pd.DataFrame(
        {
            "predicted": ["RRab", "RRc", "EW", "NonVar", "Mira", None],
            "unknown": [False, True, False, False, True, False],
        }
    )
    truth = np.array(["RR", "RR", "ECL", "ECL", "LPV", "LPV"], dtype=object)
    r = bench.score(table, truth, mapping)
    # recalls: RR 2/2, ECL 1/2 (NonVar is "other"), LPV 1/2 (one not represented)
    assert r["recall"] == {"ECL": 0.5, "LPV": 0.5, "RR": 1.0}
    assert r["balanced_accuracy"] == 2 / 3
    assert r["balanced_accuracy_unknown_as_miss"] == (1 / 2 + 1 / 2 + 0) / 3
    assert r["unknown_share"] == 2 / 6 and r["not_represented"] == 1
    assert r["confusion"].loc["ECL", "NonVar"] == 1
    # a label no model class maps to is a miss, not left out
    without_ecl = {c: lab for c, lab in mapping.items() if lab != "ECL"}
    assert bench.score(table, truth, without_ecl)["recall"]["ECL"] == 0.0


def test_every_mapped_class_is_in_the_general_taxonomy_or_the_demo_one():
    from skyclass.datasets.general import GENERAL_CLASSES

    demo = {"Cep", "RRLyr", "ECL", "LPV", "DSCT", "T2Cep"}
    for mapping in bench.CLASS_MAP.values():
        assert set(mapping) <= set(GENERAL_CLASSES) | demo


def test_a_model_reading_two_bands_is_refused():
    class TwoBands:
        bands_ = ("B", "R")
        classes_ = ("RRab", "EA")

    with pytest.raises(ValueError, match="one-band model"):
        bench.score_model(TwoBands(), ["eros1_lmc"])


@pytest.mark.realdata
def test_a_slice_of_eros1_is_read_in_the_model_band_and_scored():
    if "eros1_lmc" not in bench.available_sets():
        pytest.skip("EROS-1 not in the shared data folder")
    lcs, _ = bench.real_set("eros1_lmc", "any", bands=["R"], max_per_class=3, seed=0)
    assert lcs.bands == ("any",) and len(lcs) == 12
    assert set(map(str, lcs.labels)) == {"binary", "cepheid", "mira", "rr_lyrae"}
    both, _ = bench.real_set("eros1_lmc", "any", max_per_class=3, seed=0)
    assert both.bands == ("B", "R") or both.bands == ("R", "B")
    # its catalogue colour, B_E - R_E, reaches the model's feature; colour=False drops it
    from skyclass.represent import NumericFeatures

    rep = NumericFeatures(features=["catalogue_colour"])
    given = rep.transform_many(lcs)
    o = lcs.objects
    assert np.allclose(given["features"][:, 0], o["magnitude_b"] - o["magnitude_r"], atol=1e-5)
    assert given["features_mask"].all()
    plain, _ = bench.real_set("eros1_lmc", "any", bands=["R"], max_per_class=3, colour=False)
    assert not rep.transform_many(plain)["features_mask"].any()
    assert np.array_equal(plain.mag, lcs.mag)


@pytest.mark.realdata
def test_eros1_is_scored_on_both_bands_joined():
    if "eros1_lmc" not in bench.available_sets():
        pytest.skip("EROS-1 not in the shared data folder")
    from skyclass.estimator import LightCurveClassifier

    est = LightCurveClassifier.pretrained("general")
    r = bench.score_model(est, ["eros1_lmc"], max_per_class=5, seed=0)["eros1_lmc"]
    assert r["band"] == "R+B" and r["n"] == 20
    assert 0.0 <= r["balanced_accuracy"] <= 1.0


def test_separable_tells_a_simulated_cepheid_from_a_constant_star():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "zero_shot.py"
    spec = importlib.util.spec_from_file_location("zero_shot_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    clear = module.separable("gaia_dr3_vari", ["Cep_F", "NonVar"], n_per_class=16, seed=0)
    assert clear > 0.9


@pytest.mark.realdata
def test_measured_stars_rows_are_found_by_position_and_by_gaia_pixel():
    from skyclass.datasets.general import ogle3_pool

    pool = ogle3_pool("Cep_F")
    rows = bench.measured_ogle3_rows(["ogle4_lmc_cep"], pool=pool)
    # OGLE-IV's LMC Cepheids are mostly OGLE-III's: the same star, the same id number
    assert len(rows) > 1000 and set(rows["field"]) == {"LMC"}
    same = rows[rows["star"].str[-4:] == rows["row"].str[-4:]]
    assert len(same) > 0.5 * len(rows)
    assert bench.measured_ogle3_rows(
        ["ogle4_lmc_cep"], pool=ogle3_pool("Cep_F", left_out=set(rows["row"]))
    ).empty
    # a Gaia star's HEALPix pixel: a row placed at the centre of a scored star's pixel matches it
    pytest.importorskip("astropy_healpix")
    from astropy_healpix import HEALPix

    star = (
        bench.real_set("gaia_dr3_vari", "any", max_per_class=1)[0].objects["id"].astype(np.int64)[0]
    )
    lon, lat = HEALPix(nside=2**12, order="nested").healpix_to_lonlat([star // 2**35])
    fake = pd.DataFrame(
        {"id": ["OGLE-BLG-RRLYR-0000", "OGLE-SMC-CEP-0000"], "ra": [lon.deg[0], lon.deg[0] + 1.0],
         "dec": [lat.deg[0], lat.deg[0]], "class": ["RRab", "Cep_F"]}
    )  # fmt: skip
    found = bench.measured_ogle3_rows(["gaia_dr3_vari"], pool=fake)
    assert list(found["row"]) == ["OGLE-BLG-RRLYR-0000"] and str(star) in set(found["star"])
